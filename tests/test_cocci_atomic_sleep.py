"""Tests of the Coccinelle twin of rt-atomic-sleep (cocci/rt-atomic-sleep.cocci).

spatch runs in report mode with the options `make coccicheck` uses
(`-D report --very-quiet` plus the `// Options:` line of the script), on
  * every tests/fixtures/rt-atomic-sleep/*.c (inline expectations, design.md §5):
    the script is intraprocedural, so an expected line whose marker line also
    says `interprocedural` in a comment may stay silent; every other expected
    line must be reported, and nothing else may be,
  * a few built-in snippets written to pytest's tmp dir,
  * real files of the prepared 6.12 and 6.1 trees,
and once through `make coccicheck ... MODE=report M=.../kernel/trace` on the
6.12 RT tree.  The script's API lists are checked against
include/rtcheck/kernel_api.def, the Clang checker's knowledge.
"""
import glob
import os
import re
import shutil
import subprocess
import textwrap

import pytest

import coccitest
from conftest import FIXTURES, REPO

RULE = "rt-atomic-sleep"
COCCI = os.path.join(REPO, "cocci", f"{RULE}.cocci")
FIXTURE_DIR = os.path.join(FIXTURES, RULE)
KERNEL_API = os.path.join(REPO, "include", "rtcheck", "kernel_api.def")
DYING_CONTEXTS = os.path.join(REPO, "include", "rtcheck", "dying_contexts.def")
from coccitest import MARKER_RE, REPORT_RE, TIMEOUT  # noqa: E402
MESSAGE_RE = re.compile(r"^WARNING: (?P<op>[\w()]+) may sleep on PREEMPT_RT \(.+\): "
                        r"called under (?P<ctx>[\w(), ]+) \(truly atomic\) from line (?P<from>\d+)")
COMMENT_RE = re.compile(r"/\*.*?\*/|//.*$")


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
    """{line: (set of rule ids, intraprocedural)} from the markers of one file.

    A marker line that also says `interprocedural` in a comment marks a
    finding that needs call-graph summaries or callback entry contexts.
    """
    exp = {}
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    for i, text in enumerate(lines, 1):
        inter = any("interprocedural" in c for c in COMMENT_RE.findall(text))
        for m in MARKER_RE.finditer(text):
            target = i + int(m["off"] or 0)
            ids = {x.strip() for x in m["ids"].split(",") if x.strip()}
            old_ids, old_intra = exp.get(target, (set(), False))
            exp[target] = (old_ids | ids, old_intra or (RULE in ids and not inter))
    return exp, lines


def check_file(path, cwd=None):
    """Assert the report of one annotated C file against its expectation markers."""
    found = spatch_report(path, cwd=cwd)
    exp, lines = expectations(path)
    name = os.path.relpath(path, REPO) if path.startswith(REPO) else path
    errors = []
    reported = {}
    for line, col, msg in found:
        reported.setdefault(line, []).append((col, msg))
        if RULE not in exp.get(line, (set(), False))[0]:
            errors.append(f"{name}:{line}: reported but no '{RULE}' expectation: {msg}")
        m = MESSAGE_RE.match(msg)
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        if not m:
            errors.append(f"{name}:{line}: malformed message: {msg}")
        elif m["op"].split("(")[0] not in src:
            errors.append(f"{name}:{line}: message names {m['op']}, not on the line: {src.strip()}")
        elif not 0 < int(m["from"]) <= line:
            errors.append(f"{name}:{line}: section start line {m['from']} is not before the call")
    for line, (ids, intra) in sorted(exp.items()):
        if RULE in ids and intra and line not in reported:
            src = lines[line - 1] if 0 < line <= len(lines) else ""
            errors.append(f"{name}:{line}: expected '{RULE}' not reported: {src.strip()}")
    for line, hits in sorted(reported.items()):
        cols = [c for c, _ in hits]
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


def test_fixtures_exercise_the_rule():
    """The fixtures must expect at least one intraprocedural finding."""
    files = sorted(glob.glob(os.path.join(FIXTURE_DIR, "*.c")))
    if not files:
        pytest.fail(f"no fixtures: {os.path.relpath(FIXTURE_DIR, REPO)}/*.c does not exist yet")
    intra = sum(1 for f in files for ids, i in expectations(f)[0].values() if RULE in ids and i)
    assert intra, f"no fixture in {FIXTURE_DIR} expects an intraprocedural {RULE}"


# ---------------------------------------------- built-in snippets (tmp)

SNIPPETS = {
    "nesting": """
        void a(struct o *o, struct o *o2)
        {
        	unsigned long flags;

        	raw_spin_lock(&o->l);
        	raw_spin_lock(&o2->l);
        	raw_spin_unlock(&o2->l);
        	kfree(o->p); /* expect: rt-atomic-sleep */
        	raw_spin_unlock(&o->l);
        	kfree(o->p);
        	local_irq_save(flags);
        	raw_spin_lock(&o->l);
        	raw_spin_unlock(&o->l);
        	o->p = kstrdup(o->name, GFP_ATOMIC); /* expect: rt-atomic-sleep */
        	local_irq_restore(flags);
        }
        void b(struct o *o, int x)
        {
        	raw_spin_lock(&o->l);
        	if (x)
        		goto out;
        	spin_lock(&o->sl); /* expect: rt-atomic-sleep */
        	spin_unlock(&o->sl);
        out:
        	raw_spin_unlock(&o->l);
        	wake_up(&o->wq);
        }
        """,
    # Sections taken on some paths only, or released on every path.
    "paths": """
        void a(struct o *o, int x)
        {
        	if (x)
        		preempt_disable();
        	o->p = kmalloc(8, GFP_ATOMIC);
        	if (x)
        		preempt_enable();
        }
        void b(struct o *o)
        {
        	raw_spin_lock(&o->l);
        	if (o->n) {
        		raw_spin_unlock(&o->l);
        		return;
        	}
        	mutex_lock(&o->m); /* expect: rt-atomic-sleep */
        	raw_spin_unlock(&o->l);
        	mutex_lock(&o->m);
        }
        void c(struct o *o)
        {
        	int i;

        	for (i = 0; i < 4; i++) {
        		kfree(o->v[i]);
        		raw_spin_lock(&o->l);
        		o->v[i] = NULL;
        		raw_spin_unlock(&o->l);
        	}
        }
        int d(struct o *o)
        {
        	while (!raw_spin_trylock(&o->l))
        		cpu_relax();
        	kfree(o->p); /* expect: rt-atomic-sleep */
        	raw_spin_unlock(&o->l);
        	if (raw_spin_trylock(&o->l))
        		raw_spin_unlock(&o->l);
        	kfree(o->p);
        	return 0;
        }
        int e(struct o *o)
        {
        	int locked = raw_spin_trylock(&o->l);

        	kfree(o->p);
        	if (locked)
        		raw_spin_unlock(&o->l);
        	return 0;
        }
        """,
    # A section released by a local helper given the lock's object or the
    # saved flags (kernel/sched/core.c migration_cpu_stop()).
    "helper_release": """
        int a(struct task_struct *p, struct rq *rq, struct migration_arg *arg)
        {
        	struct rq_flags rf;

        	local_irq_save(rf.flags);
        	raw_spin_lock(&p->pi_lock);
        	rq_lock(rq, &rf);
        	if (arg->x) {
        		task_rq_unlock(rq, p, &rf);
        		return 0;
        	}
        	task_rq_unlock(rq, p, &rf);
        	complete_all(&arg->done);
        	return 0;
        }
        void b(struct o *o)
        {
        	local_irq_disable();
        	spin_lock(&o->sl); /* expect: rt-atomic-sleep */
        	o->n++;
        	spin_unlock_irq(&o->sl);
        	kfree(o->p);
        }
        void c(struct o *o, struct o *other)
        {
        	raw_spin_lock(&o->l);
        	other_unlock(other);
        	kfree(o->p); /* expect: rt-atomic-sleep */
        	raw_spin_unlock(&o->l);
        }
        """,
    # Not sleeping on RT, or not truly atomic on RT.
    "neighbours": """
        void a(struct o *o, struct task_struct *t)
        {
        	raw_spin_lock(&o->l);
        	complete(&o->done);
        	wake_up_process(t);
        	swake_up_one(&o->swq);
        	kfree_rcu(o->p, rcu);
        	o->p = bpf_mem_cache_alloc(&o->ma);
        	raw_spin_unlock(&o->l);
        	local_lock(&o->ll);
        	o->p = kmalloc(8, GFP_ATOMIC);
        	local_unlock(&o->ll);
        	preempt_disable_nested();
        	o->p = kmalloc(8, GFP_ATOMIC);
        	preempt_enable_nested();
        	migrate_disable();
        	spin_lock(&o->sl);
        	spin_unlock(&o->sl);
        	migrate_enable();
        }
        void b(struct o *o)
        {
        	preempt_disable();
        	local_bh_disable(); /* expect: rt-atomic-sleep */
        	local_bh_enable();
        	complete_all(&o->done); /* expect: rt-atomic-sleep */
        	del_timer_sync(&o->timer); /* expect: rt-atomic-sleep */
        	preempt_enable();
        }
        """,
    "rt_guards": """
        void a(struct o *o)
        {
        	if (WARN_ON_ONCE(IS_ENABLED(CONFIG_PREEMPT_RT)))
        		return;
        	raw_spin_lock(&o->l);
        	kfree(o->p);
        	raw_spin_unlock(&o->l);
        }
        void b(struct o *o)
        {
        	raw_spin_lock(&o->l);
        	if (IS_ENABLED(CONFIG_PREEMPT_RT) || !spin_trylock(&o->sl))
        		goto out;
        	spin_unlock(&o->sl);
        	if (!IS_ENABLED(CONFIG_PREEMPT_RT) && o->n)
        		kfree(o->p);
        out:
        	raw_spin_unlock(&o->l);
        }
        void c(struct o *o)
        {
        	raw_spin_lock(&o->l);
        #ifdef CONFIG_PREEMPT_RT
        	o->q = o->p;
        #else
        	kfree(o->p);
        #endif
        #if !defined(CONFIG_PREEMPT_RT) && defined(CONFIG_SMP)
        	kfree(o->p);
        #endif
        	raw_spin_unlock(&o->l);
        }
        void d(struct o *o)
        {
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		local_irq_disable();
        	kfree(o->p); /* expect: rt-atomic-sleep */
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		local_irq_enable();
        }
        """,
    "guards": """
        void *a(struct o *o)
        {
        	int i;

        	for (i = 0; i < 4; i++) {
        		kfree(o->v[i]);
        		guard(raw_spinlock_irqsave)(&o->l);
        		o->v[i] = NULL;
        	}
        	{
        		guard(irq)();
        		guard(spinlock)(&o->sl); /* expect: rt-atomic-sleep */
        	}
        	return kmalloc(8, GFP_KERNEL);
        }
        void b(struct rq *rq)
        {
        	guard(rq_lock_irqsave)(rq);
        	might_sleep(); /* expect: rt-atomic-sleep */
        }
        """,
    # Coccinelle cannot parse these definitions without the kernel headers:
    # the script's text scan covers them.
    "unparsed": """
        void a(struct o *o)
        {
        	scoped_guard(raw_spinlock_irqsave, &o->l) {
        		if (o->n) {
        			kfree(o->p); /* expect: rt-atomic-sleep */
        			return;
        		}
        		o->n++;
        	}
        	kfree(o->p);
        	scoped_guard(spinlock, &o->sl)
        		kfree(o->p);
        }
        BPF_CALL_2(bpf_o_update, struct o *, o, u64, flags)
        {
        	raw_spin_lock(&o->l);
        	if (o->n) {
        		raw_spin_unlock(&o->l);
        		return -EBUSY;
        	}
        	o->p = kmalloc(8, GFP_ATOMIC); /* expect: rt-atomic-sleep */
        	raw_spin_unlock(&o->l);
        	kfree(o->p);
        	if (raw_spin_trylock(&o->l)) {
        		kfree(o->p); /* expect: rt-atomic-sleep */
        		raw_spin_unlock(&o->l);
        	}
        	kfree(o->p);
        	return 0;
        }
        BPF_CALL_1(bpf_o_rt, struct o *, o)
        {
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		return 0;
        	scoped_guard(preempt) {
        		kfree(o->p);
        	}
        	return 0;
        }
        static CLOSURE_CALLBACK(o_done)
        {
        	closure_type(o, struct o, cl);

        	scoped_guard(irqsave) {
        		scoped_guard(spinlock, &o->sl) /* expect: rt-atomic-sleep */
        			o->n++;
        	}
        }
        """,
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet(name, tmp_path):
    path = tmp_path / f"{name}.c"
    path.write_text(textwrap.dedent(SNIPPETS[name]).lstrip("\n"))
    check_file(str(path), cwd=str(tmp_path))


def test_context_and_org_modes(tmp_path):
    """context mode stars exactly the reported calls; org mode lists them."""
    path = tmp_path / "nesting.c"
    path.write_text(textwrap.dedent(SNIPPETS["nesting"]).lstrip("\n"))
    want = sorted(l for l, _, _ in spatch_report(str(path), cwd=str(tmp_path)))
    coccitest.check_context_and_org(COCCI, str(path), want, cwd=str(tmp_path))


# ------------------------------------- API knowledge vs kernel_api.def

def script_knowledge():
    """The python lists of the script (its @initialize:python@ block)."""
    return coccitest.script_namespace(COCCI)


def smpl_sets(text):
    """{metavariable name: [identifier set of each rule declaring it]}."""
    sets = {}
    for m in re.finditer(r"^identifier (\w+) = \{([^}]*)\};", text, re.M):
        sets.setdefault(m[1], []).append({x.strip() for x in m[2].split(",") if x.strip()})
    return sets


def test_smpl_sets_match_python_lists():
    """Each identifier set of the SmPL rules is the python list it mirrors."""
    ns, text = script_knowledge()
    sets = smpl_sets(text)
    starts = {n for _, enter, _ in ns["UNKEYED"] for n in enter}
    ends = {n for _, _, leave in ns["UNKEYED"] for n in leave}
    keyed_starts = set(ns["KEYED_LOCK"]) | set(ns["KEYED_TRYLOCK"])
    want = {
        "sleep": [set(ns["SLEEP_WHY"])],
        "sg": [set(ns["SLEEP_GUARD_WHY"])],
        "try": [set(ns["KEYED_TRYLOCK"])],
        "G": [set(ns["ATOMIC_GUARDS"])],
        "lock": [keyed_starts, set(ns["KEYED_TRYLOCK"]) | set(ns["KEYED_LOCK"])]
                + [set(enter) for _, enter, _ in ns["UNKEYED"]],
        "unlock": [set(ns["KEYED_UNLOCK"])] + [set(leave) for _, _, leave in ns["UNKEYED"]],
    }
    errors = []
    for var, found in sets.items():
        for s in found:
            if s not in want.get(var, []):
                errors.append(f"identifier {var} = {{...}} matches no python list: {sorted(s)[:5]}...")
    assert starts.isdisjoint(set(ns["SLEEP_WHY"])) and keyed_starts.isdisjoint(set(ns["SLEEP_WHY"]))
    assert ends.isdisjoint(keyed_starts)
    assert not errors, "\n".join(errors)


# Names the script deliberately treats differently from kernel_api.def.
NOT_IN_SCRIPT = {}


def test_script_covers_kernel_api_def():
    """Every sleeping operation and atomic section of the Clang checker's
    API table is known to the Coccinelle twin."""
    ns, _ = script_knowledge()
    with open(KERNEL_API) as f:
        entries = re.findall(r'^RTCHECK_API\("(\w+)",\s*(\w+)', f.read(), re.M)
    assert entries, f"no RTCHECK_API entries in {KERNEL_API}"
    starts = set(ns["KEYED_LOCK"]) | {n for _, enter, _ in ns["UNKEYED"] for n in enter}
    ends = set(ns["KEYED_UNLOCK"]) | {n for _, _, leave in ns["UNKEYED"] for n in leave}
    missing = []
    for name, effect in entries:
        guard = re.match(r"class_(\w+)_constructor$", name)
        if effect in ("ALLOCATES", "FREES", "RT_LOCK", "RT_LOCK_BH", "LOCAL_LOCK", "RT_TRYLOCK", "SLEEPING_LOCK",
                      "SLEEPS", "SLEEPS_ON_RT"):
            ok = guard[1] in ns["SLEEP_GUARD_WHY"] if guard else name in ns["SLEEP_WHY"]
        elif effect in ("RAW_LOCK", "PREEMPT_OFF", "IRQ_OFF"):
            ok = guard[1] in ns["ATOMIC_GUARDS"] if guard else name in starts
        elif effect == "RAW_TRYLOCK":
            ok = name in ns["KEYED_TRYLOCK"]
        elif effect in ("RAW_UNLOCK", "PREEMPT_ON", "IRQ_ON"):
            ok = name in ends
        else:
            continue
        if not ok and name not in NOT_IN_SCRIPT:
            missing.append(f"{name} ({effect})")
    assert not missing, "cocci/rt-atomic-sleep.cocci does not know: " + ", ".join(missing)


def test_script_dying_matches_dying_contexts_def():
    """The script's DYING list is the Clang checker's dying_contexts.def: a
    function added to one and not the other would be reported by one twin."""
    ns, _ = script_knowledge()
    with open(DYING_CONTEXTS) as f:
        table = re.findall(r'^RTCHECK_DYING\("([^"]*)",\s*"(\w+)"', f.read(), re.M)
    assert len(table) >= 10, f"too few RTCHECK_DYING entries in {DYING_CONTEXTS}"
    assert sorted(ns["DYING"]) == sorted(table)


# ------------------------------------------------------ real kernel code

def reported_lines(src, rel):
    return sorted(line for line, _, _ in spatch_report(rel, cwd=src))


def real(rel, lines):
    return pytest.param(rel, lines, id=rel)


@pytest.mark.parametrize("rel,lines", [
    # trie->lock is a spinlock_t in 6.12.y: kmalloc under it is fine on RT.
    real("kernel/bpf/lpm_trie.c", []),
    # Its sections are mostly taken through rq_lock()/task_rq_lock() helpers;
    # migration_cpu_stop()'s complete_all() follows task_rq_unlock(rq, p, &rf),
    # which releases the raw_spin_lock(&p->pi_lock) and local_irq_save(rf.flags).
    real("kernel/sched/core.c", []),
    real("kernel/time/hrtimer.c", []),
    # ptrace_stop(): the upstream fix, if (!IS_ENABLED(CONFIG_PREEMPT_RT))
    # preempt_disable(), leaves cgroup_enter_frozen() preemptible on RT.
    real("kernel/signal.c", []),
    # kfree() under local_irq_disable() + arch_spin_lock(&tr->max_lock), in a
    # function Coccinelle does not parse: found by the text scan.
    real("kernel/trace/trace.c", [1508]),
])
def test_real_612(src_612, rel, lines):
    assert reported_lines(src_612, rel) == lines


@pytest.mark.parametrize("rel,lines", [
    # bpf_timer_init() allocates under __bpf_spin_lock_irqsave(), a local
    # helper (and in a BPF_CALL_3 body): interprocedural, left to rtcheck.
    real("kernel/bpf/helpers.c", []),
    # zram_slot_lock() wraps bit_spin_lock(): interprocedural, left to rtcheck.
    real("drivers/block/zram/zram_drv.c", []),
    real("kernel/bpf/lpm_trie.c", []),
    # ptrace_stop(): cgroup_enter_frozen() takes css_set_lock (spinlock_t)
    # under preempt_disable() (benchmark D12, fixed upstream as in 6.12).
    real("kernel/signal.c", [2324]),
])
def test_real_61(src_61, rel, lines):
    assert reported_lines(src_61, rel) == lines


def test_real_seeded_sched_core(src_612, tmp_path):
    """kernel/sched/core.c is parsed and matched: a kfree() put under
    get_wchan()'s raw_spin_lock_irq(&p->pi_lock) is reported."""
    with open(os.path.join(src_612, "kernel", "sched", "core.c")) as f:
        lines = f.read().split("\n")
    at = next(i for i, l in enumerate(lines) if l.strip() == "raw_spin_lock_irq(&p->pi_lock);"
              and "get_wchan" in "\n".join(lines[max(0, i - 12):i]))
    lines.insert(at + 1, "\tkfree(p); /* seeded */")
    path = tmp_path / "core.c"
    path.write_text("\n".join(lines))
    found = spatch_report(str(path), cwd=str(tmp_path))
    assert [(l, m.split(":")[1].strip()) for l, _, m in found] == \
        [(at + 2, "kfree() may sleep on PREEMPT_RT (frees memory)")], found
    assert "called under raw_spin_lock_irq() (truly atomic)" in found[0][2]


def test_coccicheck_kernel_trace(src_612, rt_build):
    """The script works through kbuild's `make coccicheck` on the RT tree.

    M= is given as an absolute path: with O=, kbuild runs spatch in the build
    directory, and a relative M= makes it scan the object directory.
    """
    require_spatch()
    trace = os.path.join(src_612, "kernel", "trace")
    cmd = ["make", "-C", src_612, f"O={rt_build}", "coccicheck", f"COCCI={COCCI}",
           "MODE=report", f"M={trace}"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}"
    assert "coccicheck failed" not in res.stdout, res.stdout
    assert "Traceback" not in res.stdout + res.stderr, res.stdout + res.stderr
    hits = {}
    for l in res.stdout.splitlines():
        m = REPORT_RE.match(l)
        if m:
            rel = os.path.relpath(os.path.join(src_612, m["file"]), src_612)
            hits.setdefault(rel, []).append(int(m["line"]))
    assert {k: sorted(v) for k, v in hits.items()} == {"kernel/trace/trace.c": [1508]}, \
        f"unexpected coccicheck report:\n{res.stdout}"
