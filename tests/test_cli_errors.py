"""`rtcheck check` and `rtcheck-clang` on bad input: exit codes and error lines
(design.md §3), --werror, and the JSON report keys (design.md §4).

Every error is one line on stderr, `rtcheck: error: ...`; exit 2 for usage
errors, 3 for input errors (missing file, file outside the tree, not a kernel
build dir, a TU that does not compile). Files written into the 6.12 source
tree for these tests are removed again, with what kbuild leaves beside them in
the build dir.
"""
import glob
import json
import os
import subprocess

import pytest

from conftest import REPO, run_rtcheck

TOOL = os.path.join(REPO, "build", "rtcheck-clang")
ERR = "rtcheck: error: "
UNLINK = "fs/nfs/unlink.c"
UNLINK_LINES = [69, 126, 129, 152]  # its rt-rwsem-non-owner findings on 6.12-rt
RULE = "rt-rwsem-non-owner"
CLEAN = "kernel/fork.c"  # a TU without findings on 6.12-rt


def one_error(proc, status, *words):
    """proc failed with status and said exactly one `rtcheck: error:` line
    containing words; returns that line."""
    lines = proc.stderr.splitlines()
    assert proc.returncode == status, (proc.returncode, proc.stderr)
    assert len(lines) == 1, f"want one error line, got:\n{proc.stderr}"
    assert lines[0].startswith(ERR), lines[0]
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"
    return lines[0]


def finding_lines(text):
    """Line numbers of the text rt-rwsem-non-owner findings for fs/nfs/unlink.c
    (other rules may find more in the file: not this module's business)."""
    out = []
    for line in text.splitlines():
        if line.startswith(UNLINK + ":") and line.endswith(f"[{RULE}]"):
            out.append(int(line.split(":")[1]))
    return out


@pytest.fixture
def tree_file(src_612, rt_build):
    """Writes a temporary C file into the 6.12 tree's kernel/ dir; returns a
    function(name, text) -> path relative to the source root. Removes the file
    and kbuild's records of it (kernel/.NAME.i.cmd, ...) afterwards."""
    made = []

    def write(name, text):
        name = f"{name}_{os.getpid()}"
        path = os.path.join(src_612, "kernel", name + ".c")
        made.append(name)
        with open(path, "w") as f:
            f.write(text)
        return f"kernel/{name}.c"

    yield write
    for name in made:
        leftovers = [os.path.join(src_612, "kernel", name + ".c")]
        leftovers += glob.glob(os.path.join(rt_build, "kernel", f"{name}.*"))
        leftovers += glob.glob(os.path.join(rt_build, "kernel", f".{name}.*"))
        for p in leftovers:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


BAD_SOURCES = {
    "garbage": "int rtcheck_garbage(void) { return x y z; }\n",
    "nohdr": "#include <linux/rtcheck_no_such_header.h>\n"
             "int rtcheck_nohdr(void) { return 0; }\n",
}


# --- input errors: exit 3 ---------------------------------------------------

def test_missing_file(rt_build):
    one_error(run_rtcheck("check", "--build", rt_build, "fs/nfs/no_such_file.c"), 3,
              "no_such_file.c")


def test_missing_absolute_file(rt_build):
    one_error(run_rtcheck("check", "--build", rt_build, "/nonexistent/rtcheck/x.c"), 3,
              "/nonexistent/rtcheck/x.c")


def test_file_outside_the_tree(rt_build, tmp_path):
    f = tmp_path / "outside.c"
    f.write_text("int f(void) { return 0; }\n")
    one_error(run_rtcheck("check", "--build", rt_build, str(f)), 3, str(f))


def test_build_dir_not_configured(tmp_path):
    d = tmp_path / "x"
    d.mkdir()
    one_error(run_rtcheck("check", "--build", str(d), UNLINK), 3, str(d))


def test_build_dir_missing(tmp_path):
    d = tmp_path / "does-not-exist"
    one_error(run_rtcheck("check", "--build", str(d), UNLINK), 3, str(d))


def test_garbage_c_in_the_tree(rt_build, tree_file):
    rel = tree_file("rtcheck_test_garbage", BAD_SOURCES["garbage"])
    line = one_error(run_rtcheck("check", "--build", rt_build, rel), 3, "does not compile")
    assert os.path.basename(rel) in line


def test_missing_header_in_the_tree(rt_build, tree_file):
    rel = tree_file("rtcheck_test_nohdr", BAD_SOURCES["nohdr"])
    line = one_error(run_rtcheck("check", "--build", rt_build, rel), 3)
    assert os.path.basename(rel) in line
    assert "rtcheck_no_such_header.h" in line


@pytest.mark.parametrize("bad", ["missing", "garbage", "nohdr"])
def test_good_file_among_bad_ones_still_checked(rt_build, tree_file, bad):
    """One error line for the bad file, the findings of the good one, exit 3."""
    if bad == "missing":
        rel = "fs/nfs/no_such_file.c"
    else:
        rel = tree_file(f"rtcheck_test_mixed_{bad}", BAD_SOURCES[bad])
    proc = run_rtcheck("check", "--build", rt_build, rel, UNLINK)
    assert proc.returncode == 3, proc.stderr
    errors = proc.stderr.splitlines()
    assert len(errors) == 1 and errors[0].startswith(ERR), proc.stderr
    assert os.path.basename(rel) in errors[0], errors[0]
    assert finding_lines(proc.stdout) == UNLINK_LINES, proc.stdout


# --- usage errors: exit 2 ---------------------------------------------------

def test_unknown_option(rt_build):
    one_error(run_rtcheck("check", "--build", rt_build, "--no-such-option", UNLINK), 2,
              "--no-such-option")


def test_unknown_command():
    one_error(run_rtcheck("frobnicate", UNLINK), 2, "frobnicate")


def test_no_command():
    one_error(run_rtcheck(), 2)


def test_unknown_format(rt_build):
    one_error(run_rtcheck("check", "--build", rt_build, "--format", "xml", UNLINK), 2, "xml")


def test_unknown_format_equals(rt_build):
    one_error(run_rtcheck("check", "--build", rt_build, "--format=xml", UNLINK), 2, "xml")


def test_option_without_value():
    one_error(run_rtcheck("check", "--build"), 2, "--build")


def test_no_files(rt_build):
    one_error(run_rtcheck("check", "--build", rt_build), 2)


def test_tool_unknown_rule():
    run_rtcheck("--version")  # the launcher builds rtcheck-clang when needed
    proc = subprocess.run([TOOL, "--rules=nope", "--", "x.c"], capture_output=True, text=True)
    one_error(proc, 2, "nope")


# --- --werror and the JSON report -------------------------------------------

WARNS = "kernel/bpf/helpers.c"  # rt-atomic-sleep warnings in __bpf_async_init on 6.12-rt


def test_werror_with_findings(rt_build):
    proc = run_rtcheck("check", "--build", rt_build, "--werror", WARNS)
    assert proc.returncode == 1, proc.stderr
    assert ERR not in proc.stderr
    assert ": warning: " in proc.stdout


def test_werror_ignores_notes(rt_build):
    """unlink.c's non-owner rwsem uses are sleepable: notes, which like
    the compiler's do not fail -Werror."""
    proc = run_rtcheck("check", "--build", rt_build, "--werror", UNLINK)
    assert proc.returncode == 0, proc.stderr
    assert finding_lines(proc.stdout) == UNLINK_LINES
    assert all(": note: " in line for line in proc.stdout.splitlines()
               if line.endswith(f"[{RULE}]"))


def test_werror_without_findings(rt_build):
    proc = run_rtcheck("check", "--build", rt_build, "--werror", CLEAN)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""


def test_findings_without_werror_exit_0(rt_build):
    proc = run_rtcheck("check", "--build", rt_build, UNLINK)
    assert proc.returncode == 0, proc.stderr
    assert finding_lines(proc.stdout) == UNLINK_LINES


def test_json_report(rt_build):
    proc = run_rtcheck("check", "--build", rt_build, "--format", "json", UNLINK)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["tool"] == "rtcheck"
    assert isinstance(doc["version"], str) and doc["version"]
    findings = doc["findings"]
    assert sorted(f["line"] for f in findings if f["rule"] == RULE) == UNLINK_LINES
    for f in findings:
        for key in ("rule", "severity", "file", "line", "column", "function", "message",
                    "context", "fix"):
            assert key in f, f"finding lacks {key!r}: {f}"
        assert f["severity"] in ("error", "warning", "note"), f
        assert f["file"] == UNLINK
        assert isinstance(f["line"], int) and isinstance(f["column"], int) and f["column"] >= 1
        if f["rule"] == RULE:
            assert f["function"] in ("nfs_call_unlink", "nfs_async_unlink_release")
        assert isinstance(f["message"], str) and f["message"]
        assert isinstance(f["context"], list)
        for c in f["context"]:
            for key in ("file", "line", "column", "function", "note"):
                assert key in c, f"context entry lacks {key!r}: {c}"
            assert not os.path.isabs(c["file"]), c
        assert f["fix"]["kind"] in ("auto", "suggestion", "none")
        assert isinstance(f["fix"]["summary"], str)


def test_json_report_without_findings(rt_build):
    proc = run_rtcheck("check", "--build", rt_build, "--format=json", CLEAN)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["tool"] == "rtcheck" and doc["findings"] == []
