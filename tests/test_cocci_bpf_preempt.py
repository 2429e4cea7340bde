"""Tests of the Coccinelle twin of rt-bpf-preempt (cocci/rt-bpf-preempt.cocci),
and the comparison with the Clang rule.

spatch runs in report mode with the options `make coccicheck` uses
(`-D report --very-quiet` plus the `// Options:` line of the script), on
  * every tests/fixtures/rt-bpf-preempt/*.c (inline expectations, design.md §5):
    the script is intraprocedural, so an expected line whose marker line also
    says `interprocedural` or `not parsed by Coccinelle` in a comment may stay
    silent; every other expected line must be reported, with the message kind
    the fixture asks for (`needs local_lock`, `expect-severity: note`), and
    nothing else may be,
  * a few built-in snippets written to pytest's tmp dir,
  * real files of the prepared 6.1 and 6.12 trees,
and once through `make coccicheck ... MODE=report M=.../net/ipv6` on the 6.1
tree. The script's API lists are checked against include/rtcheck/kernel_api.def,
and its findings against rtcheck's on the fixtures and the real files: every
difference is one the rule's doc explains.

Patch mode (`-D patch`, the pure-section conversion) runs on every fixture: the
diff, applied to a copy, must give the Clang fix's expected result (the
`.c.fixed` beside the fixture) except in the functions PATCH_DIFFERENCES names,
where the script keeps the original text; a second run on the patched text must
change nothing. It runs on built-in snippets of the sections it must refuse, on
the real files (no change where rtcheck has no auto fix), and through
`make coccicheck ... MODE=patch`: on the 6.1 net/ipv6 (seg6_local.c's section
updates per-CPU data: no patch) and on copies of the fixtures.
"""
import difflib
import glob
import json
import os
import re
import shutil
import subprocess
import textwrap

import pytest

import coccitest
from conftest import FIXTURES, REPO, prepared_tree, run_rtcheck
from rtfixtures import run_check

RULE = "rt-bpf-preempt"
COCCI = os.path.join(REPO, "cocci", f"{RULE}.cocci")
FIXTURE_DIR = os.path.join(FIXTURES, RULE)
KERNEL_API = os.path.join(REPO, "include", "rtcheck", "kernel_api.def")
from coccitest import MARKER_RE, REPORT_RE, TIMEOUT  # noqa: E402
MESSAGE_RE = re.compile(r"^(?P<level>WARNING|INFO): (?P<op>\w+)\(\) runs a BPF program .*PREEMPT_RT")
COMMENT_RE = re.compile(r"/\*.*?\*/|//.*$")
BLIND = ("interprocedural", "not parsed by Coccinelle")


# ---------------------------------------------------------------- helpers
# (spatch invocation as in tests/test_cocci.py)

def require_spatch():
    return coccitest.require_spatch(COCCI)

def cocci_options():
    return coccitest.cocci_options(COCCI)

def run_spatch(path, mode="report", cwd=None):
    return coccitest.run_spatch(COCCI, path, mode, cwd)

def spatch_report(path, cwd=None):
    """Run the script in report mode on one file; returns [(line, column, message)]."""
    return coccitest.report_lines(COCCI, path, cwd)

def expectations(path):
    """{line: {"ids", "blind", "local_lock", "note"}} from the markers of one file."""
    exp = {}
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    for i, text in enumerate(lines, 1):
        comments = " ".join(COMMENT_RE.findall(text))
        for m in MARKER_RE.finditer(text):
            e = exp.setdefault(i + int(m["off"] or 0),
                               {"ids": set(), "blind": False, "local_lock": False, "note": False})
            e["ids"] |= {x.strip() for x in m["ids"].split(",") if x.strip()}
            e["blind"] |= any(b in comments for b in BLIND)
            e["local_lock"] |= "needs local_lock" in comments
            e["note"] |= "expect-severity: note" in comments
    return exp, lines


def check_file(path, cwd=None):
    """Assert the report of one annotated C file against its expectation markers."""
    found = spatch_report(path, cwd=cwd)
    exp, lines = expectations(path)
    name = os.path.relpath(path, REPO) if path.startswith(REPO) else path
    errors = []
    reported = {}
    for line, col, msg in found:
        reported.setdefault(line, []).append(col)
        e = exp.get(line)
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        m = MESSAGE_RE.match(msg)
        if not e or RULE not in e["ids"]:
            errors.append(f"{name}:{line}: reported but no '{RULE}' expectation: {msg}")
        elif not m:
            errors.append(f"{name}:{line}: malformed message: {msg}")
        elif m["op"] not in src:
            errors.append(f"{name}:{line}: message names {m['op']}(), not on the line: {src.strip()}")
        elif (m["level"] == "INFO") != e["note"]:
            errors.append(f"{name}:{line}: {m['level']}, want {'INFO' if e['note'] else 'WARNING'}")
        elif not e["blind"] and not e["note"] and ("local_lock_t" in msg) != e["local_lock"]:
            errors.append(f"{name}:{line}: wrong conversion (local_lock wanted: "
                          f"{e['local_lock']}): {msg}")
    for line, e in sorted(exp.items()):
        if RULE in e["ids"] and not e["blind"] and line not in reported:
            src = lines[line - 1] if 0 < line <= len(lines) else ""
            errors.append(f"{name}:{line}: expected '{RULE}' not reported: {src.strip()}")
    for line, cols in sorted(reported.items()):
        if len(set(cols)) != len(cols):
            errors.append(f"{name}:{line}: reported more than once")
    assert not errors, "\n".join(errors)
    return found


# ------------------------------------------------------- fixture files

def fixture_files():
    files = sorted(glob.glob(os.path.join(FIXTURE_DIR, "*.c")))
    if not files:
        return [pytest.param(None, id="no-fixtures")]
    return [pytest.param(f, id=os.path.basename(f)) for f in files]


@pytest.mark.parametrize("path", fixture_files())
def test_fixture(path):
    if path is None:
        pytest.fail(f"no fixtures: {os.path.relpath(FIXTURE_DIR, REPO)}/*.c does not exist yet")
    check_file(path)


def test_fixtures_exercise_the_script():
    """Both conversions and both notes are expected somewhere, intraprocedurally."""
    kinds = set()
    for f in glob.glob(os.path.join(FIXTURE_DIR, "*.c")):
        for e in expectations(f)[0].values():
            if RULE in e["ids"] and not e["blind"]:
                kinds.add("note" if e["note"] else "local_lock" if e["local_lock"] else "migrate")
    assert kinds == {"note", "local_lock", "migrate"}, kinds


# ---------------------------------------------- built-in snippets (tmp)

SNIPPETS = {
    "rt_guards": """
        u32 a(struct bpf_prog *prog, void *ctx)
        {
        	u32 ret;

        	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
        		preempt_disable();
        	ret = bpf_prog_run(prog, ctx);
        	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
        		preempt_enable();
        #ifndef CONFIG_PREEMPT_RT
        	preempt_disable();
        	ret = bpf_prog_run(prog, ctx);
        	preempt_enable();
        #endif
        #ifdef CONFIG_PREEMPT_RT
        	preempt_disable();
        	ret = bpf_prog_run(prog, ctx); /* expect: rt-bpf-preempt */
        	preempt_enable();
        #endif
        	return ret;
        }
        """,
    "sections": """
        u32 a(struct bpf_prog *prog, struct o *o, void *ctx)
        {
        	unsigned long flags;
        	u32 ret;

        	preempt_disable();
        	ret = BPF_PROG_RUN_ARRAY(o->progs, ctx, bpf_prog_run); /* expect: rt-bpf-preempt */
        	preempt_enable();
        	local_irq_save(flags);
        	preempt_disable();
        	ret = bpf_prog_run(prog, ctx);
        	preempt_enable();
        	local_irq_restore(flags);
        	raw_spin_lock(&o->lock);
        	ret = bpf_prog_run(prog, ctx);
        	raw_spin_unlock(&o->lock);
        	migrate_disable();
        	ret = bpf_prog_run(prog, ctx);
        	migrate_enable();
        	return ret;
        }
        int b(struct o *o, void *ctx)
        {
        	int cpu = get_cpu();

        	if (o->cpu != cpu) {
        		put_cpu();
        		return -EBUSY;
        	}
        	o->ret = trace_call_bpf(o->call, ctx); /* expect: rt-bpf-preempt */
        	put_cpu();
        	return 0;
        }
        """,
    "percpu": """
        u32 a(struct bpf_prog *prog, void *ctx)
        {
        	struct state *s;
        	u32 ret;

        	preempt_disable();
        	s = this_cpu_ptr(&states);
        	s->ctx = ctx;
        	ret = bpf_prog_run(prog, ctx); /* expect: rt-bpf-preempt */ /* needs local_lock */
        	preempt_enable();
        	preempt_disable();
        	ret = bpf_prog_run(prog, ctx); /* expect: rt-bpf-preempt */
        	preempt_enable();
        	raw_cpu_inc(hits);
        	return ret;
        }
        """,
    "modes": """
        u32 a(struct bpf_prog *prog, void *ctx, int mode)
        {
        	u32 ret;

        	if (mode == NO_PREEMPT)
        		preempt_disable();
        	else
        		migrate_disable();
        	ret = bpf_prog_run(prog, ctx); /* expect: rt-bpf-preempt */ /* expect-severity: note */
        	if (mode == NO_PREEMPT)
        		preempt_enable();
        	else
        		migrate_enable();
        	return ret;
        }
        """,
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet(name, tmp_path):
    path = tmp_path / f"{name}.c"
    path.write_text(textwrap.dedent(SNIPPETS[name]).lstrip("\n"))
    check_file(str(path), cwd=str(tmp_path))


def test_context_and_org_modes(tmp_path):
    """context mode stars exactly the reported runs; org mode lists them."""
    path = tmp_path / "sections.c"
    path.write_text(textwrap.dedent(SNIPPETS["sections"]).lstrip("\n"))
    want = sorted(l for l, _, _ in spatch_report(str(path), cwd=str(tmp_path)))
    assert len(want) == 2
    coccitest.check_context_and_org(COCCI, str(path), want, cwd=str(tmp_path))


# ------------------------------------- API knowledge vs kernel_api.def

def script_lists():
    """RUNS and PERCPU_RMW of the script's @initialize:python@ block."""
    return coccitest.script_namespace(COCCI)


def test_script_lists_match_kernel_api_def():
    ns, text = script_lists()
    with open(KERNEL_API) as f:
        entries = re.findall(r'^RTCHECK_API\("(\w+)",\s*(\w+)', f.read(), re.M)
    assert set(ns["RUNS"]) == {n for n, e in entries if e == "BPF_RUN"}
    assert set(ns["PERCPU_RMW"]) == {n for n, e in entries if e in ("PERCPU_RMW", "PERCPU_COUNT")}
    sets = {m[1]: {x.strip() for x in m[2].split(",") if x.strip()}
            for m in re.finditer(r"^identifier (run|op) = \{([^}]*)\};", text, re.M)}
    assert sets == {"run": set(ns["RUNS"]), "op": set(ns["PERCPU_RMW"])}


# ------------------------------------------------------ real kernel code

def reported_lines(src, rel):
    return sorted(line for line, _, _ in spatch_report(rel, cwd=src))


def real(rel, lines):
    return pytest.param(rel, lines, id=rel)


BR_FILES = ["kernel/bpf/hashtab.c", "kernel/bpf/helpers.c", "kernel/bpf/stackmap.c",
            "kernel/bpf/syscall.c", "kernel/bpf/trampoline.c", "kernel/bpf/memalloc.c",
            "kernel/bpf/percpu_freelist.c", "kernel/trace/bpf_trace.c"]


@pytest.mark.parametrize("rel,lines", [
    # B18: preempt_disable() + srh_state stores + bpf_prog_run_save_cb().
    real("net/ipv6/seg6_local.c", [1065]),
    # B19: migrate_disable() + local_bh_disable() around the run (INFO).
    real("net/core/lwt_bpf.c", [49]),
    # The get_cpu() run is in __bpf_prog_test_run_raw_tp(): interprocedural.
    real("net/bpf/test_run.c", []),
    *[real(f, []) for f in BR_FILES],
])
def test_real_61(src_61, rel, lines):
    assert reported_lines(src_61, rel) == lines


@pytest.mark.parametrize("rel,lines", [
    # Converted in 6.11: local_lock_nested_bh(), and no migrate_disable().
    real("net/ipv6/seg6_local.c", []),
    real("net/core/lwt_bpf.c", []),
    real("net/bpf/test_run.c", []),
    real("kernel/bpf/hashtab.c", []),
    real("kernel/bpf/helpers.c", []),
    real("kernel/trace/bpf_trace.c", []),
])
def test_real_612(src_612, rel, lines):
    assert reported_lines(src_612, rel) == lines


def test_coccicheck_net_ipv6(src_61, build_61):
    """The script works through kbuild's `make coccicheck` (absolute M=, as in
    tests/test_cocci.py)."""
    require_spatch()
    ipv6 = os.path.join(src_61, "net", "ipv6")
    cmd = ["make", "-C", src_61, f"O={build_61}", "coccicheck", f"COCCI={COCCI}",
           "MODE=report", f"M={ipv6}"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}"
    assert "coccicheck failed" not in res.stdout, res.stdout
    assert "Traceback" not in res.stdout + res.stderr, res.stdout + res.stderr
    hits = {}
    for l in res.stdout.splitlines():
        m = REPORT_RE.match(l)
        if m:
            rel = os.path.relpath(os.path.join(src_61, m["file"]), src_61)
            hits.setdefault(rel, []).append(int(m["line"]))
    assert hits == {"net/ipv6/seg6_local.c": [1065]}, f"unexpected report:\n{res.stdout}"


# ------------------------------------------ Coccinelle vs the Clang rule

@pytest.mark.parametrize("path", fixture_files())
def test_agrees_with_clang_on_fixture(path):
    """On the fixtures the script finds a subset of rtcheck's findings: exactly
    the lines not marked as invisible to it."""
    findings, proc = run_check("6.12-rt", path)
    assert "rtcheck: error" not in proc.stderr, proc.stderr
    clang = {f["line"] for f in findings if f["rule"] == RULE}
    cocci = {line for line, _, _ in spatch_report(path)}
    exp, _ = expectations(path)
    blind = {l for l, e in exp.items() if e["blind"]}
    assert cocci <= clang, f"cocci only: {sorted(cocci - clang)}"
    assert clang - cocci <= blind, f"rtcheck only, not marked: {sorted(clang - cocci - blind)}"


# Real files: where the two differ, and why (docs/rules/rt-bpf-preempt.md).
# (none left: test_run.c's get_cpu() call of __bpf_prog_test_run_raw_tp(),
# which is also its IPI callback, is silent in both.)
REAL_DIFFERENCES = {}


@pytest.mark.parametrize("version,rel", [
    ("6.1", "net/ipv6/seg6_local.c"), ("6.1", "net/core/lwt_bpf.c"),
    ("6.1", "net/bpf/test_run.c"), ("6.1", "kernel/bpf/hashtab.c"),
    ("6.12", "net/ipv6/seg6_local.c"), ("6.12", "net/bpf/test_run.c"),
])
def test_agrees_with_clang_on_real_file(version, rel):
    build = prepared_tree(version, "rt" if version == "6.12" else "nort")
    src = prepared_tree(version, "rt" if version == "6.12" else "nort", src=True)
    proc = run_rtcheck("check", "--build", build, "--format", "json", "--rules", RULE, rel)
    assert proc.returncode == 0, proc.stderr
    clang = {(f["line"], f["function"]) for f in json.loads(proc.stdout)["findings"]}
    cocci = {line for line, _, _ in spatch_report(rel, cwd=src)}
    assert cocci <= {l for l, _ in clang}, f"cocci only: {cocci}"
    only_clang = {fn for l, fn in clang if l not in cocci}
    assert only_clang == REAL_DIFFERENCES.get((version, rel), set())
    # The conversions: the lines rtcheck's auto fixes change, and the patch
    # mode's (none on these files: seg6_local.c updates per-CPU data, lwt_bpf.c
    # runs under migrate_disable(), test_run.c's section is a get_cpu()).
    findings = json.loads(proc.stdout)["findings"]
    clang_fixed = set()
    for f in findings:
        if f["fix"]["kind"] == "auto":
            clang_fixed |= changed_lines(f["fix"]["diff"])
    assert changed_lines(spatch_patch(rel, cwd=src)) == clang_fixed


# ------------------------------------------------------------- patch mode

def spatch_patch(path, cwd=None):
    """Patch mode on one file: the unified diff spatch prints (maybe empty)."""
    return run_spatch(path, "patch", cwd)


def changed_lines(diff):
    """Line numbers, in the original file, that a unified diff removes."""
    out, old = set(), None
    for l in diff.splitlines():
        m = re.match(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@", l)
        if m:
            old = int(m[1])
        elif old is None or l.startswith(("---", "+++")):
            continue
        elif l.startswith("-"):
            out.add(old)
            old += 1
        elif l.startswith(" "):
            old += 1
    return out


def apply_diff(diff, target):
    """Apply one file's unified diff to target (GNU patch, strict)."""
    if not diff.strip():
        return
    res = subprocess.run(["patch", "--batch", "--forward", "--silent",
                          "--no-backup-if-mismatch", "--fuzz=0", target],
                         input=diff, capture_output=True, text=True)
    assert res.returncode == 0, f"patch failed on {target}:\n{res.stdout}{res.stderr}\n{diff}"


def read_lines(path):
    with open(path) as f:
        return f.read().split("\n")


def function_range(lines, name):
    """1-based (first, last) lines of the definition of name."""
    for i, l in enumerate(lines, 1):
        if re.match(r"^[A-Za-z_][^;(]*\b%s\(" % re.escape(name), l):
            for j in range(i, len(lines) + 1):
                if lines[j - 1] == "}":
                    return i, j
    raise AssertionError(f"no definition of {name}()")


# Fixtures where the script's patch cannot be the Clang fix (.c.fixed): the
# functions whose section rtcheck converts and the script keeps, and why
# (docs/rules/rt-bpf-preempt.md, "Coccinelle patch mode"). Everywhere else the
# two agree to the byte.
# The script writes migrate_disable()/migrate_enable() where rtcheck writes
# bpf_prog_run_pin_on_cpu(): in those functions the expected patch is the
# original with the pair converted.
PIN_ON_CPU = "Clang writes bpf_prog_run_pin_on_cpu(), cocci migrate_disable()"
PATCH_DIFFERENCES = {
    "wrappers.c": {
        "fixture_wrapper_under_preempt":
            "the run is in fixture_run_prog(), a runner of the file",
        "fixture_deep_wrapper_under_preempt":
            "the run is two calls down (fixture_run_twice_removed(), fixture_run_prog())",
        "fixture_pinned_wrapper_under_preempt":
            "fixture_run_pinned() runs the program under its own migrate_disable()",
        "fixture_caller_of_reported":
            "fixture_run_preempt_off() runs the program (under its own section, "
            "which both convert)",
        "fixture_ops_under_preempt":
            "a call through ops->run, which the file sets to fixture_run_prog()",
        "fixture_run_preempt_off": PIN_ON_CPU,
    },
    "historical.c": {
        "fixture_flow_dissect": PIN_ON_CPU,
        "fixture_kcm_parse": PIN_ON_CPU,
    },
    "sections.c": {
        "fixture_preempt_run": PIN_ON_CPU,
    },
    "flag_driven.c": {
        "fixture_mode_run":
            "rtcheck suggests (--unsafe) dropping the non-preemptible mode, the script "
            "only reports it",
    },
    "percpu_lock.c": {
        "fixture_end_bpf":
            "rtcheck suggests (--unsafe) a local_lock_t for the per-CPU data, the script "
            "only reports it",
        "fixture_bh_state_run":
            "rtcheck suggests (--unsafe) local_lock_nested_bh(), the script only reports it",
        "fixture_valid_state":
            "the lockdep_assert_held() of fixture_end_bpf()'s suggestion: the script "
            "has no calls to follow",
    },
}


def expected_patch(path):
    """The text the patch mode must give for a fixture: its .c.fixed, but
    in the functions PATCH_DIFFERENCES names the original text (for
    PIN_ON_CPU: with the migrate_disable() conversion instead)."""
    orig, fixed = read_lines(path), read_lines(path + ".fixed")
    want = list(fixed)
    ranges = []
    for name, why in PATCH_DIFFERENCES.get(os.path.basename(path), {}).items():
        a, b = function_range(orig, name)
        fa, fb = function_range(fixed, name)
        assert orig[a - 1:b] != fixed[fa - 1:fb], \
            f"stale PATCH_DIFFERENCES entry: rtcheck does not convert {name}() ({why})"
        text = orig[a - 1:b]
        if why == PIN_ON_CPU:
            text = [l.replace("preempt_disable();", "migrate_disable();")
                     .replace("preempt_enable();", "migrate_enable();") for l in text]
        ranges.append((fa, fb, text))
    for fa, fb, text in sorted(ranges, reverse=True):  # bottom up: the lines above stay
        want[fa - 1:fb] = text
    assert len(want) == len(orig), \
        f"{path}.fixed changes the line count outside PATCH_DIFFERENCES: update expected_patch()"
    return "\n".join(want)


_patched = {}


def patched_fixture(path, tmp_path):
    """(diff, patched text) of the patch mode on a copy of the fixture."""
    if path not in _patched:
        name = os.path.basename(path)
        work = tmp_path / "patched"
        work.mkdir()
        shutil.copy(path, work / name)
        diff = spatch_patch(name, cwd=str(work))
        apply_diff(diff, str(work / name))
        _patched[path] = (diff, (work / name).read_text())
    return _patched[path]


def fixed_fixtures():
    """Fixtures the patch mode changes (the others are all refusals)."""
    out = []
    for p in fixture_files():
        f = p.values[0]
        if f and os.path.exists(f + ".fixed") and "\n".join(read_lines(f)) != expected_patch(f):
            out.append(p)
    return out or [pytest.param(None, id="no-fixed-fixtures")]


@pytest.mark.parametrize("path", fixture_files())
def test_patch_matches_clang_fix(path, tmp_path):
    """Patch mode on a copy of the fixture gives the .c.fixed (the Clang fix's
    expected result), except where PATCH_DIFFERENCES says why it cannot."""
    if path is None:
        pytest.fail(f"no fixtures in {os.path.relpath(FIXTURE_DIR, REPO)}")
    assert os.path.exists(path + ".fixed"), f"{path}.fixed is missing"
    diff, got = patched_fixture(path, tmp_path)
    want = expected_patch(path)
    assert "bpf_prog_run_pin_on_cpu" not in "".join(
        l for l in diff.splitlines(True) if l.startswith("+")), diff
    if got != want:
        delta = "".join(difflib.unified_diff(want.splitlines(True), got.splitlines(True),
                                             "expected", "patch mode"))
        pytest.fail(f"{os.path.basename(path)}: patch mode differs from the expected "
                    f"result:\n{delta}")


@pytest.mark.parametrize("path", fixed_fixtures())
def test_patch_is_idempotent(path, tmp_path):
    """A second patch-mode run on the patched fixture changes nothing, and the
    report loses exactly the runs of the converted sections."""
    if path is None:
        pytest.fail("no fixture has a .c.fixed that converts something")
    diff, text = patched_fixture(path, tmp_path)
    changed = changed_lines(diff)
    assert changed, f"{os.path.basename(path)}: patch mode converted nothing"
    again = tmp_path / "again"
    again.mkdir()
    name = os.path.basename(path)
    (again / name).write_text(text)
    assert spatch_patch(name, cwd=str(again)).strip() == ""
    before = spatch_report(path)
    after = spatch_report(str(again / name), cwd=str(again))
    start = lambda msg: int(re.search(r"\(line (\d+)\)", msg)[1])
    assert sorted(after) == sorted(r for r in before if start(r[2]) not in changed)


# Sections the patch mode must refuse (or may convert), one per function.
PATCH_SNIPPET = """
    u32 exact(struct bpf_prog *p, void *ctx)
    {
    	u32 ret;

    	preempt_disable();
    	ret = bpf_prog_run(p, ctx);
    	preempt_enable();
    	return ret;
    }

    /* Two sections share the release and both are pure. */
    u32 shared_pure(struct bpf_prog *prog, void *ctx, int x)
    {
    	u32 ret = 0;

    	if (x) {
    		preempt_disable();
    		ret = bpf_prog_run(prog, ctx);
    	} else {
    		preempt_disable();
    		ret = bpf_prog_run(prog, ctx);
    	}
    	preempt_enable();
    	return ret;
    }

    /* The other section sharing the release runs no program. */
    u32 shared_other(struct bpf_prog *prog, void *ctx, int x)
    {
    	u32 ret = 0;

    	if (x) {
    		preempt_disable();
    		ret = bpf_prog_run(prog, ctx);
    	} else {
    		preempt_disable();
    		ret = x;
    	}
    	preempt_enable();
    	return ret;
    }

    /* One path returns with preemption disabled. */
    u32 leaks(struct bpf_prog *prog, void *ctx, int x)
    {
    	u32 ret;

    	preempt_disable();
    	ret = bpf_prog_run(prog, ctx);
    	if (x)
    		return ret;
    	preempt_enable();
    	return ret;
    }

    u32 nested(struct bpf_prog *prog, void *ctx)
    {
    	u32 ret;

    	preempt_disable();
    	preempt_disable();
    	ret = bpf_prog_run(prog, ctx);
    	preempt_enable();
    	preempt_enable();
    	return ret;
    }

    /* The release also ends a section of the caller (the goto path). */
    u32 unmatched(struct bpf_prog *prog, void *ctx, int x)
    {
    	u32 ret = 0;

    	if (x)
    		goto out;
    	preempt_disable();
    	ret = bpf_prog_run(prog, ctx);
    out:
    	preempt_enable();
    	return ret;
    }

    u32 no_resched_exit(struct bpf_prog *prog, void *ctx, int x)
    {
    	u32 ret;

    	preempt_disable();
    	ret = bpf_prog_run(prog, ctx);
    	if (x) {
    		preempt_enable_no_resched();
    		return ret;
    	}
    	preempt_enable();
    	return ret;
    }

    static void count(void)
    {
    	__this_cpu_inc(hits);
    }

    static void count_indirect(void)
    {
    	count();
    }

    /* A per-CPU update two calls down. */
    u32 callee_update(struct bpf_prog *prog, void *ctx)
    {
    	u32 ret;

    	preempt_disable();
    	count_indirect();
    	ret = bpf_prog_run(prog, ctx);
    	preempt_enable();
    	return ret;
    }

    u32 get_cpu_section(struct bpf_prog *prog, void *ctx, int *cpu)
    {
    	u32 ret;

    	*cpu = get_cpu();
    	ret = bpf_prog_run(prog, ctx);
    	put_cpu();
    	return ret;
    }

    u32 guarded(struct bpf_prog *prog, void *ctx)
    {
    	guard(preempt)();
    	return bpf_prog_run(prog, ctx);
    }
"""
PATCH_SNIPPET_CONVERTED = {"exact", "shared_pure"}


def test_patch_refusals(tmp_path):
    """Exactly the sections that can be converted whole are."""
    path = tmp_path / "refusals.c"
    path.write_text(textwrap.dedent(PATCH_SNIPPET).lstrip("\n"))
    lines = read_lines(str(path))
    diff = spatch_patch(path.name, cwd=str(tmp_path))
    got = set()
    for n in changed_lines(diff):
        got |= {f for f in re.findall(r"^u32 (\w+)\(", "\n".join(lines), re.M)
                if function_range(lines, f)[0] <= n <= function_range(lines, f)[1]}
    assert got == PATCH_SNIPPET_CONVERTED, diff
    apply_diff(diff, str(path))
    text = path.read_text()
    assert "bpf_prog_run_pin_on_cpu" not in text
    # The exact three-statement form keeps its shape, with migrate_*().
    assert ("\tmigrate_disable();\n\tret = bpf_prog_run(p, ctx);\n\tmigrate_enable();\n"
            in text), text


def coccicheck(src, build, mode, mdir):
    """`make coccicheck COCCI=... MODE=mode M=mdir`: its output."""
    require_spatch()
    cmd = ["make", "-C", src, f"O={build}", "coccicheck", f"COCCI={COCCI}",
           f"MODE={mode}", f"M={mdir}"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}"
    assert "coccicheck failed" not in res.stdout, res.stdout
    assert "Traceback" not in res.stdout + res.stderr, res.stdout + res.stderr
    # run_cmd_parmap echoes the spatch command it runs.
    assert re.search(r"spatch -D %s .*--cocci-file %s" % (mode, re.escape(COCCI)),
                     res.stdout), res.stdout
    return res.stdout


def coccicheck_diffs(out):
    """{absolute path: its diff} in the output of coccicheck MODE=patch."""
    diffs, cur = {}, None
    for l in out.splitlines(True):
        m = re.match(r"^diff -u -p a/(\S+) b/", l)
        if m:
            cur = "/" + m[1] if not m[1].startswith("/") else m[1]
            diffs[cur] = ""
        elif cur and (l.startswith(("---", "+++", "@@", " ", "-", "+")) or l == "\n"):
            diffs[cur] += l
        else:
            cur = None
    return diffs


def test_coccicheck_patch_net_ipv6(src_61, build_61):
    """MODE=patch through kbuild on 6.1 net/ipv6, the directory of the only
    BPF run under a preempt_disable() of the same function in 6.1:
    seg6_local.c input_action_end_bpf() also stores to the per-CPU
    seg6_bpf_srh_states, so nothing may be patched."""
    out = coccicheck(src_61, build_61, "patch", os.path.join(src_61, "net", "ipv6"))
    assert not re.search(r"^(diff|---|\+\+\+) ", out, re.M), f"unexpected patch:\n{out}"


def test_coccicheck_patch_fixtures(src_61, build_61, tmp_path):
    """MODE=patch through kbuild on copies of the fixtures (M= outside the
    tree): the diffs it prints apply and give the expected results."""
    for f in glob.glob(os.path.join(FIXTURE_DIR, "*.c")):
        shutil.copy(f, tmp_path / os.path.basename(f))
    diffs = coccicheck_diffs(coccicheck(src_61, build_61, "patch", str(tmp_path)))
    want_changed = {os.path.basename(p.values[0]) for p in fixed_fixtures()}
    assert {os.path.basename(d) for d in diffs} == want_changed, sorted(diffs)
    for d, text in diffs.items():
        assert os.path.dirname(d) == str(tmp_path), d
        apply_diff(text, d)
    for f in glob.glob(os.path.join(FIXTURE_DIR, "*.c")):
        got = (tmp_path / os.path.basename(f)).read_text()
        assert got == expected_patch(f), os.path.basename(f)


def test_doc_lists_patch_differences():
    """The rule doc has the patch mode, and every known patch difference has
    its row, with a reason, in the cocci-vs-clang table."""
    with open(os.path.join(REPO, "docs", "rules", f"{RULE}.md")) as f:
        doc = f.read()
    m = re.search(r"^## Coccinelle twin\n(.*?)(?=^## |\Z)", doc, re.M | re.S)
    assert m, f"docs/rules/{RULE}.md has no '## Coccinelle twin' section"
    assert re.search(r"^### Coccinelle patch mode$", m[1], re.M), "no patch mode paragraph"
    rows = [[c.strip() for c in l.strip("|").split("|")]
            for l in m[1].splitlines() if l.startswith("| ")]
    for fixture, functions in PATCH_DIFFERENCES.items():
        for fn in functions:
            row = [r for r in rows if r[0] == fixture and f"`{fn}()`" in r[1]]
            assert row, f"the doc's comparison table has no row for {fixture} {fn}()"
            assert ("auto" in row[0][2] or "suggestion" in row[0][2]) and row[0][-1], \
                f"{fixture} {fn}(): the row must say rtcheck converts it, and why cocci does not"
