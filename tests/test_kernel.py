"""Real kernel files of the prepared trees give exactly their expected findings
(tests/kernel/expectations.txt)."""
import collections
import json
import os

import pytest

from conftest import REPO, prepared_tree, run_rtcheck

EXPECTATIONS = os.path.join(REPO, "tests", "kernel", "expectations.txt")


def load():
    cases = []
    for line in open(EXPECTATIONS):
        line = line.split("#", 1)[0].split()
        if not line:
            continue
        tree, path, rule, *want = line
        # "fn:count@severity": the findings of fn must have that severity.
        counts = collections.Counter()
        for item in want:
            if item != "-":
                fn, n = item.rsplit(":", 1)
                n, _, severity = n.partition("@")
                counts[fn + (f"@{severity}" if severity else "")] += int(n)
        cases.append((tree, path, rule, counts))
    return cases


CASES = load()


@pytest.mark.parametrize("tree,path,rule,want", CASES,
                         ids=[f"{c[0]}:{c[1]}:{c[2]}" for c in CASES])
def test_kernel_file(tree, path, rule, want):
    version, config = tree.split("-", 1)
    build = prepared_tree(version, config)
    proc = run_rtcheck("check", "--build", build, "--format", "json", "--rules", rule, path)
    assert proc.returncode == 0, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    with_severity = any("@" in fn for fn in want)
    got = collections.Counter(f["function"] + (f"@{f['severity']}" if with_severity else "")
                              for f in findings)
    detail = "\n".join(f"{f['file']}:{f['line']}: {f['function']}: {f['message']}"
                       for f in findings)
    assert got == want, f"{tree} {path}: got {dict(got)}, want {dict(want)}\n{detail}"
