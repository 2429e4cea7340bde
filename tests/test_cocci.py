"""Tests of the Coccinelle twin of rt-rwsem-non-owner (cocci/rt-rwsem-non-owner.cocci).

spatch runs in report mode with the options `make coccicheck` uses
(`-D report --very-quiet` plus the `// Options:` line of the script), on
  * every tests/fixtures/rt-rwsem-non-owner/*.c (inline expectations, design.md §5),
  * a few built-in snippets written to pytest's tmp dir,
  * real files of the prepared 6.12 and 6.1 trees,
and once through `make coccicheck ... MODE=report M=.../fs/nfs` on the 6.12 RT tree.
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

RULE = "rt-rwsem-non-owner"
COCCI = os.path.join(REPO, "cocci", f"{RULE}.cocci")
FIXTURE_DIR = os.path.join(FIXTURES, RULE)
APIS = ("down_read_non_owner", "up_read_non_owner",
        "mmap_read_trylock_non_owner", "mmap_read_unlock_non_owner")
API_RE = re.compile(r"\b(%s)\b" % "|".join(APIS))
from coccitest import MARKER_RE, REPORT_RE, TIMEOUT  # noqa: E402


# ---------------------------------------------------------------- helpers

def require_spatch():
    return coccitest.require_spatch(COCCI)

def cocci_options():
    return coccitest.cocci_options(COCCI)

def spatch_report(path, cwd=None):
    """Run the script in report mode on one file; returns [(line, column, message)]."""
    return coccitest.report_lines(COCCI, path, cwd)

def strip_comments(line):
    return re.sub(r"/\*.*?\*/|//.*$", " ", line)


def expectations(path):
    """{line: set(rule ids)} from /* expect: ... */ and /* expect@+N: ... */ markers."""
    exp = {}
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    for i, text in enumerate(lines, 1):
        for m in MARKER_RE.finditer(text):
            target = i + int(m["off"] or 0)
            ids = {x.strip() for x in m["ids"].split(",") if x.strip()}
            exp.setdefault(target, set()).update(ids)
    return exp, lines


def check_file(path, cwd=None):
    """Assert the report of one annotated C file against its expectation markers."""
    found = spatch_report(path, cwd=cwd)
    exp, lines = expectations(path)
    reported = {}
    for line, col, msg in found:
        reported.setdefault(line, []).append(msg)
    dups = {(line, col) for line, col, _ in found
            if sum(1 for f in found if f[:2] == (line, col)) > 1}
    name = os.path.relpath(path, REPO) if path.startswith(REPO) else path
    errors = []
    for line, msgs in sorted(reported.items()):
        if RULE not in exp.get(line, set()):
            errors.append(f"{name}:{line}: reported but no '{RULE}' expectation: {msgs[0]}")
        for msg in msgs:
            api = API_RE.search(msg)
            if not api or not msg.startswith(f"WARNING: {api[1]}()") or "PREEMPT_RT" not in msg:
                errors.append(f"{name}:{line}: message does not name the API and explain RT: {msg}")
    for line, ids in sorted(exp.items()):
        if RULE not in ids or line in reported:
            continue
        src = lines[line - 1] if 0 < line <= len(lines) else ""
        # Only direct calls are the Coccinelle script's business; calls of local
        # wrappers are left to the Clang checker.
        if API_RE.search(strip_comments(src)):
            errors.append(f"{name}:{line}: expected '{RULE}' not reported: {src.strip()}")
    errors += [f"{name}:{line}:{col}: reported more than once" for line, col in sorted(dups)]
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
    """The fixture set must contain at least one direct API call expected to be reported."""
    files = sorted(glob.glob(os.path.join(FIXTURE_DIR, "*.c")))
    if not files:
        pytest.fail(f"no fixtures: {os.path.relpath(FIXTURE_DIR, REPO)}/*.c does not exist yet")
    direct = 0
    for f in files:
        exp, lines = expectations(f)
        direct += sum(1 for l, ids in exp.items()
                      if RULE in ids and 0 < l <= len(lines) and API_RE.search(strip_comments(lines[l - 1])))
    assert direct, f"no fixture in {FIXTURE_DIR} expects {RULE} on a direct API call"


# ---------------------------------------------- built-in snippets (tmp)

SNIPPETS = {
    "direct": """
        void a(struct rw_semaphore *s, struct mm_struct *mm)
        {
        	down_read_non_owner(s); /* expect: rt-rwsem-non-owner */
        	up_read_non_owner(s); /* expect: rt-rwsem-non-owner */
        	if (!mmap_read_trylock_non_owner(mm)) /* expect: rt-rwsem-non-owner */
        		return;
        	/* expect@+1: rt-rwsem-non-owner */
        	mmap_read_unlock_non_owner(mm);
        }
        """,
    "not_rt_block": """
        void a(struct rw_semaphore *s, int x)
        {
        	if (!IS_ENABLED(CONFIG_PREEMPT_RT)) {
        		down_read_non_owner(s);
        		up_read_non_owner(s);
        	}
        	if (!IS_ENABLED(CONFIG_PREEMPT_RT) && x)
        		up_read_non_owner(s);
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		up_read(s);
        	else
        		up_read_non_owner(s);
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		x++;
        	up_read_non_owner(s); /* expect: rt-rwsem-non-owner */
        }
        """,
    "early_return": """
        void a(struct rw_semaphore *s)
        {
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		return;
        	up_read_non_owner(s);
        }
        int b(struct mm_struct *mm, int x)
        {
        	if (x)
        		mmap_read_unlock_non_owner(mm); /* expect: rt-rwsem-non-owner */
        	if (IS_ENABLED(CONFIG_PREEMPT_RT) || irqs_disabled())
        		return -EBUSY;
        	mmap_read_unlock_non_owner(mm);
        	return 0;
        }
        void c(struct irq_work *entry)
        {
        	struct mmap_unlock_irq_work *work;

        	if (WARN_ON_ONCE(IS_ENABLED(CONFIG_PREEMPT_RT)))
        		return;
        	work = container_of(entry, struct mmap_unlock_irq_work, irq_work);
        	mmap_read_unlock_non_owner(work->mm);
        }
        int d(struct mm_struct *mm)
        {
        	if (IS_ENABLED(CONFIG_PREEMPT_RT) || !mmap_read_trylock_non_owner(mm))
        		return -EBUSY;
        	return 0;
        }
        """,
    "ifdefs": """
        void a(struct rw_semaphore *s)
        {
        #ifndef CONFIG_PREEMPT_RT
        	up_read_non_owner(s);
        #else
        	up_read(s);
        #endif
        #ifdef CONFIG_PREEMPT_RT
        	up_read(s);
        #else
        	up_read_non_owner(s);
        #endif
        #if !IS_ENABLED(CONFIG_PREEMPT_RT)
        	up_read_non_owner(s);
        #endif
        #ifdef CONFIG_PREEMPT_RT
        	up_read_non_owner(s); /* expect: rt-rwsem-non-owner */
        #endif
        }
        #ifndef CONFIG_PREEMPT_RT
        void b(struct rw_semaphore *s)
        {
        	up_read_non_owner(s);
        }
        #endif
        void c(struct rw_semaphore *s)
        {
        #if !defined(CONFIG_PREEMPT_RT) && defined(CONFIG_SMP)
        	up_read_non_owner(s);
        #elif defined(CONFIG_SMP)
        	up_read_non_owner(s); /* expect: rt-rwsem-non-owner */
        #endif
        #if (defined(CONFIG_PREEMPT_RT) || defined(CONFIG_SMP)) && 1
        	up_read_non_owner(s); /* expect: rt-rwsem-non-owner */
        #elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 1, 0)
        	up_read_non_owner(s);
        #endif
        }
        void d(struct rw_semaphore *s)
        {
        #ifdef CONFIG_PREEMPT_RT
        	return;
        #endif
        	up_read_non_owner(s);
        }
        void e(struct rw_semaphore *s)
        {
        #ifndef CONFIG_PREEMPT_RT
        	return;
        #endif
        	up_read_non_owner(s); /* expect: rt-rwsem-non-owner */
        }
        """,
    "wrapper": """
        static inline void mmap_read_unlock_non_owner(struct mm_struct *mm)
        {
        	up_read_non_owner(&mm->mmap_lock);
        }
        static void my_unlock(struct rw_semaphore *s)
        {
        	up_read_non_owner(s); /* expect: rt-rwsem-non-owner */
        }
        static void user(struct rw_semaphore *s)
        {
        	my_unlock(s);
        }
        """,
    # Coccinelle cannot parse these definitions without the kernel headers:
    # the script's text scan covers them.
    "unparsed": """
        static CLOSURE_CALLBACK(write_complete)
        {
        	closure_type(s, struct search, cl);

        	up_read_non_owner(&s->lock); /* expect: rt-rwsem-non-owner */
        }
        static CLOSURE_CALLBACK(write_complete_rt)
        {
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		return;
        	up_read_non_owner(&s->lock);
        }
        #ifndef CONFIG_PREEMPT_RT
        static CLOSURE_CALLBACK(write_complete_nort)
        {
        	up_read_non_owner(&s->lock);
        }
        #endif
        """,
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet(name, tmp_path):
    path = tmp_path / f"{name}.c"
    path.write_text(textwrap.dedent(SNIPPETS[name]).lstrip("\n"))
    check_file(str(path), cwd=str(tmp_path))


# ------------------------------------------------------ real kernel code

def reported_lines(src, rel):
    return sorted(line for line, _, _ in spatch_report(rel, cwd=src))


def real(rel, lines):
    return pytest.param(rel, lines, id=rel)


@pytest.mark.parametrize("rel,lines", [
    real("fs/nfs/unlink.c", [69, 126, 129, 152]),
    # 977 is in a static CLOSURE_CALLBACK(): found by the script's text scan.
    real("drivers/md/bcache/request.c", [977, 990]),
    # 1201 is behind WARN_ON_ONCE(IS_ENABLED(CONFIG_PREEMPT_RT)) return.
    real("kernel/bpf/task_iter.c", []),
    # The wrapper's and the API's own definitions.
    real("include/linux/mmap_lock.h", []),
    real("kernel/locking/rwsem.c", []),
])
def test_real_612(src_612, rel, lines):
    assert reported_lines(src_612, rel) == lines


@pytest.mark.parametrize("rel,lines", [
    real("fs/nfs/unlink.c", [69, 126, 129, 151]),
    real("drivers/md/bcache/request.c", [963, 976]),
    # 870 is behind WARN_ON_ONCE(IS_ENABLED(CONFIG_PREEMPT_RT)) return.
    real("kernel/bpf/task_iter.c", []),
    # No direct call: bpf_mmap_unlock_guard_get() sends RT to the fallback and
    # the deferred non-owner unlock is the task_iter.c one above.
    real("kernel/bpf/stackmap.c", []),
    real("kernel/bpf/mmap_unlock_work.h", []),
])
def test_real_61(src_61, rel, lines):
    assert reported_lines(src_61, rel) == lines


def test_coccicheck_fs_nfs(src_612, rt_build):
    """The script works through kbuild's `make coccicheck` on the RT tree.

    M= is given as an absolute path: with O=, kbuild runs spatch in the build
    directory, and a relative M=fs/nfs makes it scan the object directory
    (no .c files there, so nothing would be reported).
    """
    require_spatch()
    nfs = os.path.join(src_612, "fs", "nfs")
    cmd = ["make", "-C", src_612, f"O={rt_build}", "coccicheck", f"COCCI={COCCI}",
           "MODE=report", f"M={nfs}"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}"
    assert "coccicheck failed" not in res.stdout, res.stdout
    hits = {}
    for l in res.stdout.splitlines():
        m = REPORT_RE.match(l)
        if m:
            rel = os.path.relpath(os.path.join(src_612, m["file"]), src_612)
            hits.setdefault(rel, []).append(int(m["line"]))
    assert {k: sorted(v) for k, v in hits.items()} == {"fs/nfs/unlink.c": [69, 126, 129, 152]}, \
        f"unexpected coccicheck report:\n{res.stdout}"
