"""Fixture expectations (design.md §5) and running rtcheck on a file with the
exact kbuild flags of a prepared tree."""
import json
import os
import re
import shlex
import subprocess
import tempfile

from conftest import REPO, prepared_tree

MARKER = re.compile(r"/\*\s*expect(@\+(\d+))?:\s*([\w,\s-]+?)\s*\*/")
SEVERITY = re.compile(r"/\*\s*expect-severity:\s*(\w+)\s*\*/")
TREES_LINE = re.compile(r"/\*\s*fixture-trees:\s*([\w.\s-]+?)\s*\*/")
ALL_TREES = ["6.12-rt", "6.12-nort", "6.1-nort"]
# A TU every tree builds; fixtures are checked with its flags.
REFERENCE_TU = "kernel/fork.c"


def expectations(path):
    """{(line, rule)} the fixture expects."""
    want = set()
    with open(path) as f:
        for n, line in enumerate(f, 1):
            for m in MARKER.finditer(line):
                target = n + int(m.group(2) or 0)
                for rule in m.group(3).split(","):
                    if rule.strip():
                        want.add((target, rule.strip()))
    return want


def expected_severities(path):
    """{line: severity} for lines with an expect-severity marker."""
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = SEVERITY.search(line)
            if m:
                out[n] = m.group(1)
    return out


def fixture_trees(path):
    with open(path) as f:
        m = TREES_LINE.search(f.read())
    return m.group(1).split() if m else ALL_TREES


_flags_cache = {}


def kbuild_flags(tree, tu=REFERENCE_TU):
    """(build dir, src dir, compiler arguments without argv[0] and the file)."""
    if (tree, tu) in _flags_cache:
        return _flags_cache[(tree, tu)]
    version, config = tree.split("-", 1)
    build = prepared_tree(version, config)
    src = prepared_tree(version, config, src=True)
    target = tu[:-2] + ".i"
    record = os.path.join(build, os.path.dirname(tu), "." + os.path.basename(target) + ".cmd")
    if not os.path.exists(record):
        llvm = ["LLVM=-16"] if "-gcc" not in tree else []
        subprocess.run(["make", "-s", "-C", src, f"O={build}", *llvm, target], check=True,
                       capture_output=True)
        os.unlink(os.path.join(build, target))
    with open(record) as f:
        cmd = f.readline().split(" := ", 1)[1]
    args = shlex.split(cmd)[1:]
    args = [a for a in args if not a.endswith(tu)]
    _flags_cache[(tree, tu)] = (build, src, args)
    return _flags_cache[(tree, tu)]


def run_check(tree, path, env_extra=None):
    """Runs run-check.sh as kbuild would on path; returns (findings, proc)."""
    build, src, args = kbuild_flags(tree)
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, srctree=src, RTCHECK_OUT=out, RTCHECK_FORMAT="json")
        env.update(env_extra or {})
        proc = subprocess.run([os.path.join(REPO, "run-check.sh"), *args, os.path.abspath(path)],
                              cwd=build, env=env, capture_output=True, text=True)
        reports = [os.path.join(out, f) for f in os.listdir(out)]
        findings = []
        for r in reports:
            with open(r) as f:
                findings += json.load(f)["findings"]
    return findings, proc
