"""`rtcheck sweep` (docs/sweep.md): the TUs of the requested paths from kbuild or
compile_commands.json, one rtcheck-clang per TU in parallel, findings.json
(design.md §4), report.txt and failures.txt; a TU that does not compile or runs
out of time is recorded and does not stop the sweep; usage errors are one line.

Files written into the 6.12 source tree are removed again afterwards."""
import glob
import json
import os
import re
import shlex

import pytest

from conftest import run_rtcheck

RULE = "rt-rwsem-non-owner"
ERR = "rtcheck: error: "
# rt-rwsem-non-owner on 6.12-rt (tests/kernel/expectations.txt counts them per function)
WANT = {("fs/nfs/unlink.c", 69), ("fs/nfs/unlink.c", 126), ("fs/nfs/unlink.c", 129),
        ("fs/nfs/unlink.c", 152), ("drivers/md/bcache/request.c", 977),
        ("drivers/md/bcache/request.c", 990)}
UNLINK = {(f, l) for f, l in WANT if f == "fs/nfs/unlink.c"}


def one_error(proc, status, *words):
    """proc failed with status and one `rtcheck: error:` line containing words."""
    lines = proc.stderr.splitlines()
    assert proc.returncode == status, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1 and lines[0].startswith(ERR), proc.stderr
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    return lines[0]


def findings(out):
    with open(os.path.join(out, "findings.json")) as f:
        doc = json.load(f)
    assert doc["tool"] == "rtcheck" and doc["version"]
    return doc["findings"]


def located(fs, rule=RULE):
    return {(f["file"], f["line"]) for f in fs if f["rule"] == rule}


def read(out, name):
    with open(os.path.join(out, name)) as f:
        return f.read()


def header(report, key):
    m = re.search(rf"^{key}:\s+(\d+)", report, re.M)
    assert m, f"no '{key}:' in report.txt:\n{report[:2000]}"
    return int(m.group(1))


def count_in_section(report, section, name):
    """The count of name in report.txt's 'findings per <section>:' table."""
    m = re.search(rf"^findings per {section}:\n((?:\s+\d+\s+\S+\n)*)", report, re.M)
    assert m, f"no 'findings per {section}' table:\n{report[:2000]}"
    for line in m.group(1).splitlines():
        n, what = line.split()
        if what == name:
            return int(n)
    return 0


@pytest.fixture(scope="module")
def nfs_bcache(rt_build, tmp_path_factory):
    """One sweep of fs/nfs and drivers/md/bcache (about 60 TUs) for several tests."""
    out = str(tmp_path_factory.mktemp("sweep") / "out")
    proc = run_rtcheck("sweep", "--build", rt_build, "--out", out, "--rules", RULE,
                       "fs/nfs", "drivers/md/bcache")
    return proc, out


def test_sweep_findings(nfs_bcache):
    proc, out = nfs_bcache
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not a TTY: no progress line
    assert proc.stdout.count("\n") == 1 and "0 failed" in proc.stdout, proc.stdout
    fs = findings(out)
    assert located(fs) == WANT
    assert len(fs) == len(WANT)  # only the requested rule
    # path order: drivers/ before fs/, lines ascending within a file
    assert [(f["file"], f["line"]) for f in fs] == sorted(WANT)
    for f in fs:
        assert f["function"] and f["message"] and f["severity"] in ("note", "warning", "error")
    assert read(out, "failures.txt") == ""


def test_sweep_tu_list(nfs_bcache, src_612, rt_build):
    proc, out = nfs_bcache
    with open(os.path.join(out, "compile_commands.json")) as f:
        db = json.load(f)
    files = [os.path.relpath(e["file"], src_612) for e in db]
    assert len(files) == len(set(files)) > 40
    assert all(f.startswith(("fs/nfs/", "drivers/md/bcache/")) and f.endswith(".c")
               for f in files), files
    for must in ("fs/nfs/unlink.c", "fs/nfs/inode.c", "drivers/md/bcache/request.c"):
        assert must in files
    for e in db:
        assert e["directory"] == rt_build
        assert " -c " in e["command"] and "-D__KERNEL__" in e["command"]
        assert "RTCHECK_SWEEP" not in e["command"]  # kbuild's exact command
    # every TU analysed, with its outputs
    report = read(out, "report.txt")
    assert header(report, "TUs") == len(db)
    assert header(report, "analysed") == len(db)
    assert header(report, "failed") == 0
    for f in files:
        name = f.replace("/", "__")
        assert os.path.exists(os.path.join(out, "tu", name + ".jsonl")), name
        assert os.path.exists(os.path.join(out, "tu", name + ".txt")), name


def test_sweep_report(nfs_bcache):
    proc, out = nfs_bcache
    report = read(out, "report.txt")
    assert header(report, "findings") == 6
    assert count_in_section(report, "rule", RULE) == 6
    assert count_in_section(report, "subsystem", "fs/nfs") == 4
    assert count_in_section(report, "subsystem", "drivers/md") == 2
    # every finding's text, in path order
    text = [(m.group(1), int(m.group(2))) for m in
            re.finditer(rf"^(\S+\.c):(\d+):\d+: (?:note|warning|error): .*\[{RULE}\]$", report, re.M)]
    assert text == sorted(WANT)


@pytest.fixture
def bad_tu(src_612, rt_build):
    """A garbage C file in the 6.12 tree's kernel/ dir; removed afterwards."""
    rel = f"kernel/rtcheck_sweep_bad_{os.getpid()}.c"
    path = os.path.join(src_612, rel)
    with open(path, "w") as f:
        f.write("int rtcheck_sweep_garbage(void) { return x y z; }\n")
    yield rel
    stem = os.path.basename(rel)[:-2]
    leftovers = [path] + glob.glob(os.path.join(rt_build, "kernel", f"{stem}.*")) + \
        glob.glob(os.path.join(rt_build, "kernel", f".{stem}.*"))
    for p in leftovers:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


def test_sweep_broken_tu(rt_build, bad_tu, tmp_path):
    out = str(tmp_path / "out")
    proc = run_rtcheck("sweep", "--build", rt_build, "--out", out, "--rules", RULE,
                       "fs/nfs/unlink.c", bad_tu)
    assert proc.returncode == 0, proc.stderr
    assert located(findings(out)) == UNLINK  # the good TU is still reported
    failures = read(out, "failures.txt")
    assert failures.startswith(f"{bad_tu}: exit 3"), failures
    assert "does not compile" in failures and "undeclared identifier" in failures
    report = read(out, "report.txt")
    assert header(report, "TUs") == 2
    assert header(report, "analysed") == 1
    assert header(report, "failed") == 1
    assert bad_tu in report.split("== failures ==")[1]


def test_sweep_every_tu_broken(rt_build, bad_tu, tmp_path):
    out = str(tmp_path / "out")
    proc = run_rtcheck("sweep", "--build", rt_build, "--out", out, bad_tu)
    one_error(proc, 3, "every TU failed")
    assert read(out, "failures.txt").startswith(bad_tu + ":")
    assert findings(out) == []


def test_sweep_timeout(rt_build, tmp_path):
    out = str(tmp_path / "out")
    # net/core/skbuff.c takes 0.9-2.3 s alone (design.md §6 and later machines)
    proc = run_rtcheck("sweep", "--build", rt_build, "--out", out, "--timeout", "0.2",
                       "net/core/skbuff.c")
    one_error(proc, 3, "every TU failed")
    failures = read(out, "failures.txt")
    assert failures.startswith("net/core/skbuff.c: timeout"), failures


def test_sweep_list(rt_build, tmp_path):
    out = str(tmp_path / "out")
    proc = run_rtcheck("sweep", "--build", rt_build, "--out", out, "--list", "kernel/bpf")
    assert proc.returncode == 0, proc.stderr
    tus = proc.stdout.split()
    assert "kernel/bpf/core.c" in tus and "kernel/bpf/verifier.c" in tus
    assert all(t.startswith("kernel/bpf/") and t.endswith(".c") for t in tus)
    assert tus == sorted(set(tus))
    with open(os.path.join(out, "compile_commands.json")) as f:
        assert len(json.load(f)) == len(tus)


@pytest.fixture
def cc_build(rt_build, nfs_bcache, tmp_path):
    """A build directory with a hand-made compile_commands.json: links to the
    real one's configuration, commands in "command" and "arguments" form."""
    _, out = nfs_bcache
    with open(os.path.join(out, "compile_commands.json")) as f:
        real = {os.path.basename(e["file"]): e for e in json.load(f)}
    build = tmp_path / "build"
    (build / "include" / "generated").mkdir(parents=True)
    for name in (".config", "Makefile", "source"):
        os.symlink(os.path.join(rt_build, name), build / name)
    os.symlink(os.path.join(rt_build, "include", "generated", "autoconf.h"),
               build / "include" / "generated" / "autoconf.h")
    unlink, inode = real["unlink.c"], real["inode.c"]
    db = [
        # "arguments" form, file relative to directory
        {"directory": unlink["directory"], "file": os.path.relpath(unlink["file"], rt_build),
         "arguments": shlex.split(unlink["command"])},
        inode,
        # a host program: not kernel code
        {"directory": rt_build, "file": os.path.join(os.path.dirname(inode["file"]), "x.c"),
         "command": "clang-16 -O2 -c -o fs/nfs/x.o fs/nfs/x.c"},
        # outside the requested paths
        real["request.c"],
        # not an entry
        {"directory": rt_build},
    ]
    with open(build / "compile_commands.json", "w") as f:
        json.dump(db, f)
    return str(build)


def test_sweep_compile_commands(cc_build, src_612, tmp_path):
    out = str(tmp_path / "out")
    proc = run_rtcheck("sweep", "--build", cc_build, "--out", out, "--list", "fs/nfs")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["fs/nfs/inode.c", "fs/nfs/unlink.c"]
    proc = run_rtcheck("sweep", "--build", cc_build, "--out", out, "--rules", RULE,
                       "fs/nfs/unlink.c")
    assert proc.returncode == 0, proc.stderr
    assert located(findings(out)) == UNLINK
    assert "(commands from compile_commands.json)" in read(out, "report.txt")


@pytest.mark.parametrize("args,words", [
    (["--jobs", "0"], ["--jobs"]),
    (["--jobs", "x"], ["--jobs"]),
    (["--jobs"], ["--jobs needs a value"]),
    (["--timeout", "-1"], ["--timeout"]),
    (["--timeout", "1s"], ["--timeout"]),
    (["--mem-mb", "1"], ["--mem-mb"]),
    (["--rules", "rt-no-such-rule"], ["rt-no-such-rule"]),
    (["--frobnicate"], ["--frobnicate"]),
    (["-x"], ["-x"]),
])
def test_sweep_usage_errors(args, words, tmp_path):
    proc = run_rtcheck("sweep", "--out", str(tmp_path / "out"), "fs/nfs", *args)
    one_error(proc, 2, *words)
    assert not os.path.exists(tmp_path / "out")


def test_sweep_missing_build_dir(tmp_path):
    d = str(tmp_path / "does-not-exist")
    one_error(run_rtcheck("sweep", "--build", d, "fs/nfs"), 3, d)


def test_sweep_not_a_build_dir(tmp_path):
    one_error(run_rtcheck("sweep", "--build", str(tmp_path), "fs/nfs"), 3, str(tmp_path))


def test_sweep_missing_path(rt_build, tmp_path):
    one_error(run_rtcheck("sweep", "--build", rt_build, "--out", str(tmp_path / "o"),
                          "fs/no_such_dir"), 3, "fs/no_such_dir")


def test_sweep_no_tu(rt_build, tmp_path):
    one_error(run_rtcheck("sweep", "--build", rt_build, "--out", str(tmp_path / "o"),
                          "Documentation"), 3, "no translation unit")


def test_sweep_help():
    proc = run_rtcheck("sweep", "--help")
    assert proc.returncode == 0 and "usage: rtcheck sweep" in proc.stdout
    assert "sweep" in run_rtcheck("--help").stdout
