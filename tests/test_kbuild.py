"""run-check.sh as kbuild's checker on the prepared trees (design.md §3):

    make -C SRC O=BUILD [LLVM=-16] C=2 CHECK=<repo>/run-check.sh TARGET

kbuild runs `$(CHECK) $(CHECKFLAGS) $(c_flags) file.c` in the build dir for
every object of TARGET. C=2 checks up-to-date objects too, so nothing is
removed or rebuilt here: the first run builds the objects, later runs only
check (about 3 s for one object; kernel/bpf/ builds 47 objects: about 40 s
cold on 2 cores, 20 s when built).

Sparse (RTCHECK_SPARSE=1) is Debian's 0.6.4. On this configuration it parses
the TUs used here without failing, so its failure is forced the kbuild way:
CF="-Wsparse-all -Wsparse-error" (kbuild appends $(CF) to CHECKFLAGS) turns its
warnings into errors and its exit status to 1. rtcheck gets the same arguments
and must ignore those sparse-only flags.
"""
import fcntl
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import REPO
from sarif_check import validate_sarif

RUN_CHECK = os.path.join(REPO, "run-check.sh")
PREPARE = os.path.join(REPO, "scripts", "prepare-tree")
UNLINK = "fs/nfs/unlink.c"
UNLINK_LINES = [69, 126, 129, 152]
RULE = "rt-rwsem-non-owner"
CLEAN_OBJ = "kernel/bpf/hashtab.o"  # no rtcheck finding; sparse warns on it
# sparse-only warnings sparse 0.6.4 gives on kernel/bpf/hashtab.c (6.12-rt)
SPARSE_SIGNAL = "context imbalance in 'htab_map_delete_elem'"
FORCE_SPARSE_FAILURE = "-Wsparse-all -Wsparse-error"
# unlink.c's findings are notes (sleepable non-owner rwsem uses); helpers.c has warnings.
WARNS_OBJ = "kernel/bpf/helpers.o"
TEXT_FINDING = re.compile(r"^(?P<file>[^\s:]+):(?P<line>\d+):(?P<col>\d+): (?:warning|note): .+ "
                          r"\[(?P<rule>[\w-]+)\]$")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("RTCHECK_") and k not in (
               "C", "CHECK", "CF", "O", "LLVM", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(extra)
    return env


def kbuild_check(src, build, targets, llvm=True, make_vars=(), **env):
    """make C=2 CHECK=run-check.sh targets in build; one make per build dir at a time."""
    cmd = ["make", "-s", "-C", src, f"O={build}", *(["LLVM=-16"] if llvm else []),
           "C=2", f"CHECK={RUN_CHECK}", f"-j{os.cpu_count() or 1}", *make_vars, *targets]
    with open(os.path.join(build, ".rtcheck-test-make.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=3600,
                              env=clean_env(**env))


def text_findings(stderr, path=UNLINK):
    """[(line, rule)] of the GCC-style rt-rwsem-non-owner finding lines for path
    (what other rules find there is not this module's business)."""
    out = []
    for line in stderr.splitlines():
        m = TEXT_FINDING.match(line)
        if m and m.group("file") == path and m.group("rule") == RULE:
            out.append((int(m.group("line")), m.group("rule")))
    return out


def rtcheck_lines(stderr):
    """rtcheck's own lines: findings and errors (sparse's are absolute paths)."""
    return [l for l in stderr.splitlines()
            if l.startswith("rtcheck: ") or (TEXT_FINDING.match(l) and "[rt-" in l)]


def want_findings():
    return [(line, RULE) for line in UNLINK_LINES]


def reports(out_dir, ext):
    return sorted(os.path.join(out_dir, f) for f in os.listdir(out_dir) if f.endswith(ext))


@pytest.fixture(scope="session")
def gcc_tree():
    """(src, build) of the gcc-configured 6.12 rt tree; prepared on first use."""
    build = os.path.join(os.environ.get("RTCHECK_CACHE") or os.path.expanduser("~/.cache/rtcheck"),
                         "build", "6.12-rt-gcc")
    if not os.path.exists(os.path.join(build, ".rtcheck-prepared")):
        if os.environ.get("RTCHECK_NO_PREPARE"):
            pytest.skip(f"{build} is not prepared and RTCHECK_NO_PREPARE is set")
        if not shutil.which("gcc"):
            pytest.skip("gcc is not installed")
    base = [PREPARE, "--version", "6.12", "--config", "rt", "--cc", "gcc"]
    res = subprocess.run(base, capture_output=True, text=True)
    if res.returncode:
        pytest.fail(f"prepare-tree --cc gcc failed:\n{res.stderr}")
    src = subprocess.run(base + ["--print-src"], check=True, capture_output=True,
                         text=True).stdout.strip()
    return src, res.stdout.strip()


# --- findings through kbuild ------------------------------------------------

def test_llvm_build(src_612, rt_build):
    proc = kbuild_check(src_612, rt_build, ["fs/nfs/unlink.o"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rtcheck: error" not in proc.stderr, proc.stderr
    assert text_findings(proc.stderr) == want_findings(), proc.stderr


def test_gcc_build(gcc_tree):
    src, build = gcc_tree
    proc = kbuild_check(src, build, ["fs/nfs/unlink.o"], llvm=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rtcheck: error" not in proc.stderr, proc.stderr
    assert text_findings(proc.stderr) == want_findings(), proc.stderr


def test_sarif_per_tu(src_612, rt_build, tmp_path):
    out = tmp_path / "sarif"
    proc = kbuild_check(src_612, rt_build, ["fs/nfs/unlink.o"],
                        RTCHECK_FORMAT="sarif", RTCHECK_OUT=str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the text findings still go to stderr
    assert text_findings(proc.stderr) == want_findings(), proc.stderr
    files = reports(str(out), ".sarif")
    unlink = [f for f in files if "unlink" in os.path.basename(f)]
    assert len(unlink) == 1, files
    for path in files:  # kbuild also checks scripts/mod/empty.c: one report per TU
        with open(path) as f:
            doc = json.load(f)
        assert validate_sarif(doc) == [], path
    with open(unlink[0]) as f:
        doc = json.load(f)
    results = [r for run in doc["runs"] for r in run["results"]]
    got = sorted((r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"])
                 for r in results if r["ruleId"] == RULE)
    assert got == want_findings()
    for r in results:
        if r["ruleId"] == RULE:
            assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == UNLINK


def test_json_per_tu(src_612, rt_build, tmp_path):
    out = tmp_path / "json"
    proc = kbuild_check(src_612, rt_build, ["fs/nfs/unlink.o"],
                        RTCHECK_FORMAT="json", RTCHECK_OUT=str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    unlink = [f for f in reports(str(out), ".json") if "unlink" in os.path.basename(f)]
    assert len(unlink) == 1, os.listdir(out)
    with open(unlink[0]) as f:
        doc = json.load(f)
    assert doc["tool"] == "rtcheck"
    assert sorted((f["line"], f["rule"]) for f in doc["findings"]
                  if f["rule"] == RULE) == want_findings()
    assert {f["file"] for f in doc["findings"]} == {UNLINK}


def test_werror_fails_make(src_612, rt_build):
    proc = kbuild_check(src_612, rt_build, [WARNS_OBJ], RTCHECK_WERROR="1")
    assert proc.returncode != 0, proc.stderr[-3000:]
    assert "kernel/bpf/helpers.c:" in proc.stderr and ": warning: " in proc.stderr


def test_werror_does_not_fail_on_notes(src_612, rt_build):
    """Like the compiler's -Werror: unlink.c's notes do not fail the build."""
    proc = kbuild_check(src_612, rt_build, ["fs/nfs/unlink.o"], RTCHECK_WERROR="1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert text_findings(proc.stderr) == want_findings(), proc.stderr


def test_werror_without_findings_passes(src_612, rt_build):
    proc = kbuild_check(src_612, rt_build, [CLEAN_OBJ], RTCHECK_WERROR="1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert rtcheck_lines(proc.stderr) == [], proc.stderr


# --- sparse chained with RTCHECK_SPARSE=1 ------------------------------------

needs_sparse = pytest.mark.skipif(not shutil.which("sparse"), reason="sparse is not installed")


@needs_sparse
def test_sparse_runs(src_612, rt_build):
    without = kbuild_check(src_612, rt_build, [CLEAN_OBJ])
    assert without.returncode == 0, without.stderr[-3000:]
    assert SPARSE_SIGNAL not in without.stderr
    with_sparse = kbuild_check(src_612, rt_build, [CLEAN_OBJ], RTCHECK_SPARSE="1")
    assert with_sparse.returncode == 0, with_sparse.stderr[-3000:]
    assert SPARSE_SIGNAL in with_sparse.stderr, with_sparse.stderr
    assert rtcheck_lines(with_sparse.stderr) == rtcheck_lines(without.stderr) == []


def _sparse_errors(stderr):
    return [l for l in stderr.splitlines() if l.startswith("/") and ": error: " in l]


@needs_sparse
def test_sparse_failure_does_not_change_rtcheck(src_612, rt_build, tmp_path):
    """sparse exits 1 on fs/nfs/unlink.c with -Wsparse-error: rtcheck's findings,
    reports and exit status stay what they are without sparse."""
    runs = {}
    for sparse in ("0", "1"):
        out = tmp_path / f"sparse{sparse}"
        runs[sparse] = kbuild_check(src_612, rt_build, ["fs/nfs/unlink.o"],
                                    make_vars=[f"CF={FORCE_SPARSE_FAILURE}"],
                                    RTCHECK_SPARSE=sparse, RTCHECK_OUT=str(out),
                                    RTCHECK_FORMAT="json")
    plain, chained = runs["0"], runs["1"]
    assert _sparse_errors(chained.stderr), "sparse did not run or did not fail"
    assert not _sparse_errors(plain.stderr), plain.stderr
    assert plain.returncode == chained.returncode == 0, chained.stderr[-3000:]
    assert text_findings(chained.stderr) == text_findings(plain.stderr) == want_findings()
    assert rtcheck_lines(chained.stderr) == rtcheck_lines(plain.stderr)
    docs = {}
    for sparse in runs:
        files = reports(str(tmp_path / f"sparse{sparse}"), ".json")
        docs[sparse] = {os.path.basename(f): json.load(open(f))["findings"] for f in files}
    assert docs["0"] == docs["1"]


@needs_sparse
def test_sparse_failure_with_werror(src_612, rt_build):
    """RTCHECK_WERROR=1 fails on rtcheck's findings only, never on sparse's."""
    cf = [f"CF={FORCE_SPARSE_FAILURE}"]
    clean = kbuild_check(src_612, rt_build, [CLEAN_OBJ], make_vars=cf,
                         RTCHECK_SPARSE="1", RTCHECK_WERROR="1")
    assert _sparse_errors(clean.stderr), "sparse did not run or did not fail"
    assert clean.returncode == 0, clean.stderr[-3000:]
    dirty = kbuild_check(src_612, rt_build, [WARNS_OBJ], make_vars=cf,
                         RTCHECK_SPARSE="1", RTCHECK_WERROR="1")
    assert dirty.returncode != 0
    assert "kernel/bpf/helpers.c:" in dirty.stderr and ": warning: " in dirty.stderr


# --- a whole directory ---------------------------------------------------------

def test_whole_directory(src_612, rt_build):
    """make C=2 kernel/bpf/: builds and checks 47 objects (about 40 s cold on 2
    cores, 20 s when built); no TU may fail in rtcheck."""
    proc = kbuild_check(src_612, rt_build, ["kernel/bpf/"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    errors = [l for l in proc.stderr.splitlines() if "rtcheck: error" in l]
    assert errors == [], "\n".join(errors)
