"""Fixes (fix engine): every fixture of a rule with fixes has a .c.fixed (the
same text where no safe fix applies) and is fixed to exactly that text; the fixed file compiles on every tree and keeps only the findings that
had no safe fix; a second run changes nothing; the dry-run diff applies; bad
situations (read-only file, file changed since analysis) leave it untouched."""
import difflib
import glob
import json
import os
import shutil
import stat
import subprocess

import pytest

from conftest import FIXTURES, REPO
from rtfixtures import ALL_TREES, fixture_trees, kbuild_flags

TOOL = os.path.join(REPO, "build", "rtcheck-clang")
FIXED = sorted(glob.glob(os.path.join(FIXTURES, "*", "*.c.fixed")))


def run_tool(path, *opts, tree="6.12-rt", env=None):
    build, src, args = kbuild_flags(tree)
    out = path + ".json"
    proc = subprocess.run([TOOL, "--format=json", f"--output={out}",
                           f"--root={os.path.dirname(path)}", *opts, "--", *args, path],
                          cwd=build, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))
    findings = json.load(open(out))["findings"] if os.path.exists(out) else []
    if os.path.exists(out):
        os.unlink(out)
    return proc, findings


def copy(fixture, tmp_path):
    dst = tmp_path / os.path.basename(fixture)
    shutil.copy(fixture, dst)
    return str(dst)


def fix_options(fixture):
    """A fixture whose expected text needs suggestions says /* fix-mode: unsafe */."""
    return ["--fix", "--unsafe"] if "fix-mode: unsafe" in open(fixture).read() else ["--fix"]


def fixed_lines(original, fixed):
    """{line of original: the same line in fixed} for the lines a fix leaves
    as they were (a fix that adds lines moves the findings after it)."""
    a, b = open(original).read().split("\n"), open(fixed).read().split("\n")
    out = {}
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            out[block.a + k + 1] = block.b + k + 1
    return out


@pytest.mark.parametrize("fixed", FIXED, ids=[os.path.relpath(f, FIXTURES) for f in FIXED])
def test_fix_gives_expected_text(fixed, tmp_path):
    original = fixed[: -len(".fixed")]
    work = copy(original, tmp_path)
    opts = fix_options(original)
    proc, before = run_tool(work, *opts)
    assert proc.returncode == 0, proc.stderr
    assert open(work).read() == open(fixed).read(), "fixed text differs from " + fixed
    applied = {"auto", "suggestion"} if "--unsafe" in opts else {"auto"}
    moved = fixed_lines(original, fixed)
    left = {(moved.get(f["line"], f["line"]), f["rule"])
            for f in before if f["fix"]["kind"] not in applied}
    # The fixed file compiles on every tree and only unfixable findings remain.
    for tree in fixture_trees(original):
        proc, after = run_tool(work, tree=tree)
        assert "does not compile" not in proc.stderr, f"{tree}: {proc.stderr}"
        assert {(f["line"], f["rule"]) for f in after} == left, tree
    # Idempotent.
    proc, _ = run_tool(work, *opts)
    assert proc.returncode == 0 and "fixed" not in proc.stderr, proc.stderr
    assert open(work).read() == open(fixed).read()


@pytest.mark.parametrize("fixed", FIXED, ids=[os.path.relpath(f, FIXTURES) for f in FIXED])
def test_dry_run_diff_applies(fixed, tmp_path):
    work = copy(fixed[: -len(".fixed")], tmp_path)
    build, _, args = kbuild_flags("6.12-rt")
    opts = ["--fix-dry-run"] + fix_options(work)[1:]
    proc = subprocess.run([TOOL, f"--root={tmp_path}", *opts, "--", *args, work],
                          cwd=build, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    if open(work).read() == open(fixed).read():
        assert proc.stdout == "", "a fixture without fixes gives an empty diff"
        return
    assert proc.stdout.startswith("--- a/"), proc.stdout[:200]
    subprocess.run(["git", "apply", "--unsafe-paths", "-"], input=proc.stdout, text=True,
                   cwd=tmp_path, check=True)
    assert open(work).read() == open(fixed).read()


def test_read_only_file_is_refused(tmp_path):
    work = copy(os.path.join(FIXTURES, "rt-rwsem-non-owner", "fallback.c"), tmp_path)
    before = open(work).read()
    os.chmod(work, 0o444)
    proc, _ = run_tool(work, "--fix")
    assert proc.returncode == 3
    assert "read-only" in proc.stderr and "rtcheck: error:" in proc.stderr
    assert open(work).read() == before


def test_changed_file_is_refused(tmp_path):
    work = copy(os.path.join(FIXTURES, "rt-rwsem-non-owner", "fallback.c"), tmp_path)
    proc, _ = run_tool(work, "--fix", env={"RTCHECK_TEST_BEFORE_APPLY": f"echo '/* edited */' >> {work}"})
    assert proc.returncode == 3 and "changed since it was analysed" in proc.stderr, proc.stderr
    assert open(work).read().endswith("/* edited */\n")
    assert "IS_ENABLED(CONFIG_PREEMPT_RT) ||" not in open(work).read()


def test_permissions_are_kept(tmp_path):
    work = copy(os.path.join(FIXTURES, "rt-rwsem-non-owner", "fallback.c"), tmp_path)
    os.chmod(work, 0o640)
    proc, _ = run_tool(work, "--fix")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(work).st_mode) == 0o640
    assert not glob.glob(str(tmp_path / "*.rtcheck-*")), "temporary file left behind"


def test_unfixable_findings_say_why(tmp_path):
    work = copy(os.path.join(FIXTURES, "rt-rwsem-non-owner", "fallback.c"), tmp_path)
    _, findings = run_tool(work)
    by_function = {f["function"]: f["fix"] for f in findings}
    assert by_function["fixture_macro_fallback"]["kind"] == "none"
    assert "macro" in by_function["fixture_macro_fallback"]["summary"]
    assert by_function["fixture_release_only"]["kind"] == "none"
    assert by_function["fixture_build_id"]["kind"] == "auto"
    assert by_function["fixture_build_id"]["diff"].startswith("--- a/fallback.c")


def test_get_cpu_ptr_conversion_only_where_preemption_is_not_needed(tmp_path):
    """rt-atomic-sleep's get_cpu_ptr() + spin_lock() suggestion (locktypes.rst):
    offered for the three sections the spinlock_t serialises, refused with
    the reason for each neighbour."""
    work = copy(os.path.join(FIXTURES, "rt-atomic-sleep", "get_cpu_ptr.c"), tmp_path)
    _, findings = run_tool(work)
    fixes = {}
    for f in findings:
        fixes.setdefault(f["function"], []).append(f["fix"])
    for function in ("fixture_locktypes", "fixture_assigned", "fixture_cpu_var"):
        for fix in fixes[function]:  # the kmalloc() under the lock too
            assert fix["kind"] == "suggestion", (function, fix)
            assert "migrate_disable() + this_cpu_ptr()" in fix["summary"]
            assert "+\tmigrate_disable();" in fix["diff"] and "+\tmigrate_enable();" in fix["diff"]
    assert len(fixes["fixture_assigned"]) == 2
    why = {
        "fixture_store_outside_lock": "a store to p->count",
        "fixture_this_cpu_update": "__this_cpu_inc() at line",
        "fixture_callee_update": "calls fixture_count_event()",
        "fixture_passed_outside_lock": "p is handed to fixture_pcp_reset()",
        "fixture_alloc_only": "kmalloc() at line",
        "fixture_under_raw_lock": "the lock stays raw",
        "fixture_other_object": "put_cpu_ptr(&fixture_other_pcp)",
        "fixture_preempt_enable_exit": "ends with preempt_enable()",
        "fixture_cpu_after": "the declaration of cpu",
        "fixture_wrapped": "no automatic conversion",
    }
    for function, reason in why.items():
        for fix in fixes[function]:
            assert fix["kind"] == "none" and "diff" not in fix, (function, fix)
            assert reason in fix["summary"], (function, fix["summary"])
    assert set(fixes) == set(why) | {"fixture_locktypes", "fixture_assigned", "fixture_cpu_var"}


def verify_db(tmp_path, work, tree, extra=()):
    """A compile_commands.json for the copied fixture with another tree's flags."""
    build, _, args = kbuild_flags(tree)
    db = tmp_path / f"db-{tree}"
    db.mkdir()
    (db / "compile_commands.json").write_text(json.dumps(
        [{"directory": build, "file": work, "arguments": ["clang-16", *args, *extra, work]}]))
    return str(db)


def test_verify_with_rt_and_nort(tmp_path):
    work = copy(os.path.join(FIXTURES, "rt-rwsem-non-owner", "fallback.c"), tmp_path)
    db = verify_db(tmp_path, work, "6.12-nort")
    proc, _ = run_tool(work, "--fix", f"--verify-db={db}")
    assert proc.returncode == 0, proc.stderr
    assert open(work).read() == open(os.path.join(FIXTURES, "rt-rwsem-non-owner",
                                                  "fallback.c.fixed")).read()


def test_verify_refuses_a_fix_that_does_not_compile_elsewhere(tmp_path):
    work = copy(os.path.join(FIXTURES, "rt-rwsem-non-owner", "fallback.c"), tmp_path)
    before = open(work).read()
    db = verify_db(tmp_path, work, "6.12-nort", extra=["-include", "/nonexistent/rtcheck.h"])
    proc, _ = run_tool(work, "--fix", f"--verify-db={db}")
    assert proc.returncode == 3
    assert "fix not applied" in proc.stderr and "does not compile" in proc.stderr, proc.stderr
    assert open(work).read() == before


def test_every_fixture_of_a_rule_with_fixes_has_its_fixed_text():
    for rule_dir in glob.glob(os.path.join(FIXTURES, "*")):
        if glob.glob(os.path.join(rule_dir, "*.c.fixed")):
            missing = [os.path.basename(c) for c in glob.glob(os.path.join(rule_dir, "*.c"))
                       if not os.path.exists(c + ".fixed")]
            assert not missing, f"{os.path.basename(rule_dir)}: no .c.fixed for {missing}"


# Three fixes of two kinds; -DRTCHECK_TEST_NO_MIGRATE (in the verify DB only)
# makes migrate_disable() an undeclared identifier, so the rt-bpf-preempt
# conversion does not compile on that tree while the rt-rwsem-non-owner
# fallbacks before and after it do.
MIXED = """// SPDX-License-Identifier: GPL-2.0
#include <linux/filter.h>
#include <linux/kconfig.h>
#include <linux/preempt.h>
#include <linux/rwsem.h>

#ifdef RTCHECK_TEST_NO_MIGRATE
#undef migrate_disable
#define migrate_disable() rtcheck_test_no_such_function
#endif

struct fixture_stack {
	struct rw_semaphore *sem;
	bool busy;
};

void fixture_first(struct fixture_stack *st)
{
	if (st->busy)
		return;
	down_read_non_owner(st->sem);
}

u32 fixture_preempt_run(struct bpf_prog *prog, void *ctx)
{
	u32 ret;

	preempt_disable();
	ret = bpf_prog_run(prog, ctx);
	ret &= 0xff;	/* not the bpf_prog_run_pin_on_cpu() form: migrate_disable() */
	preempt_enable();
	return ret;
}

void fixture_last(struct fixture_stack *st)
{
	if (st->busy)
		return;
	down_read_non_owner(st->sem);
}
"""


def test_verify_applies_the_fixes_that_pass(tmp_path):
    work = tmp_path / "mixed.c"
    work.write_text(MIXED)
    work = str(work)
    db = verify_db(tmp_path, work, "6.12-nort", extra=["-DRTCHECK_TEST_NO_MIGRATE"])
    proc, findings = run_tool(work, "--fix", f"--verify-db={db}")
    assert sorted((f["function"], f["fix"]["kind"]) for f in findings) == [
        ("fixture_first", "auto"), ("fixture_last", "auto"), ("fixture_preempt_run", "auto")]
    # A refused fix is exit 3 (as a file that cannot be fixed); the others are written.
    assert proc.returncode == 3, proc.stderr
    assert open(work).read() == MIXED.replace(
        "\tif (st->busy)", "\tif (IS_ENABLED(CONFIG_PREEMPT_RT) || st->busy)")
    line = MIXED.split("\n").index("\tret = bpf_prog_run(prog, ctx);") + 1
    build, _, _ = kbuild_flags("6.12-nort")
    notes = [l for l in proc.stderr.splitlines() if l.startswith("rtcheck: note: fix not applied")]
    assert len(notes) == 1, proc.stderr
    assert notes[0].startswith(f"rtcheck: note: fix not applied: mixed.c:{line}: rt-bpf-preempt: "
                               f"does not compile on {build}: "), notes[0]
    assert "rtcheck_test_no_such_function" in notes[0], notes[0]
    assert "rtcheck: error: mixed.c: 1 of 3 fixes not applied" in proc.stderr, proc.stderr
    assert not glob.glob(str(tmp_path / "*.rtcheck-*")), "temporary file left behind"
    # Without the poison every fix passes: the refusal was the flag's doing.
    work2 = tmp_path / "clean" / "mixed.c"
    work2.parent.mkdir()
    work2.write_text(MIXED)
    db2 = verify_db(tmp_path / "clean", str(work2), "6.12-nort")
    proc, _ = run_tool(str(work2), "--fix", f"--verify-db={db2}")
    assert proc.returncode == 0, proc.stderr
    assert "migrate_disable();" in work2.read_text()
