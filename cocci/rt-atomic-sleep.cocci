// SPDX-License-Identifier: GPL-2.0-only
/// Find operations that sleep on PREEMPT_RT inside a truly atomic section
/// of the same function.  On PREEMPT_RT spinlock_t, rwlock_t and
/// local_lock_t become sleeping rt_mutex based locks and the memory
/// allocator takes them, so any allocation or free (whatever the GFP
/// flags), any spinlock_t/rwlock_t/local_lock_t acquisition or
/// local_bh_disable(), a wake_up() on a wait queue, and everything that
/// sleeps on every kernel must not run
/// where PREEMPT_RT still cannot schedule: under raw_spin_lock*(), a
/// successful raw_spin_trylock*(), bit_spin_lock(), arch_spin_lock(),
/// preempt_disable*(), get_cpu*(), local_irq_disable()/local_irq_save(),
/// raw_local_irq_*(), rcu_read_lock_sched(), and guard(raw_spinlock*),
/// guard(preempt), guard(irq), guard(irqsave) to the end of their block.
/// The same operations under spin_lock*(), local_lock*(),
/// local_bh_disable(), rcu_read_lock() or migrate_disable() are fine on
/// PREEMPT_RT and are not reported.  Upstream conversions: make the lock a
/// spinlock_t when no truly atomic user needs it, move the operation out of
/// the section, or preallocate.
///
/// A call is reported when every path that PREEMPT_RT takes from the
/// function entry to it holds the same section: code under
/// if (!IS_ENABLED(CONFIG_PREEMPT_RT)), after
/// if (IS_ENABLED(CONFIG_PREEMPT_RT)) return; and #ifndef CONFIG_PREEMPT_RT
/// code are left out, as are sections taken on some paths only.
///
// Confidence: Moderate
// Copyright: (C) 2026 The rtcheck authors.
// URL: https://coccinelle.gitlabpages.inria.fr/website
// Comments: Intraprocedural: a section entered in a caller or in a local
//  wrapper (htab_lock_bucket(), zram_slot_lock(), rq_lock()), a sleeping
//  operation inside a called function, and callbacks that run in hard-irq
//  context (IRQF_NO_THREAD handlers, HRTIMER_MODE_*_HARD timers,
//  smp_call_function() callbacks) are left to the rtcheck Clang checker.
//  A raw lock section is paired by the lock expression spelled at the lock
//  and the unlock, preempt/get_cpu/rcu_sched/irq sections by family; a call
//  of a local helper whose name says unlock or restore and that is given
//  the lock, its object or the saved flags also ends the section
//  (raw_spin_lock(&p->pi_lock) ... task_rq_unlock(rq, p, &rf)).
//  complete() is not reported: completions use a raw swait lock; nor is
//  anything in a dying context (panic(), an oops, a crash dump ...: the
//  functions of include/rtcheck/dying_contexts.def).
//  Functions Coccinelle cannot parse without the kernel headers
//  (scoped_guard() blocks, BPF_CALL_n(...), static CLOSURE_CALLBACK(...))
//  are scanned textually in report and org mode only, following braces
//  rather than paths.
// Options: --no-includes --include-headers
// Requires: 1.1.0
//
//# Sleeping operations, locks and guards are recognised by the name spelled
//# at the call site (the outermost macro), whatever the configured tree
//# expands them to.  RT guards are recognised when a condition evaluates
//# to a constant on PREEMPT_RT: IS_ENABLED(CONFIG_PREEMPT_RT),
//# IS_ENABLED(CONFIG_PREEMPTION) or preempt_model_rt(), negated, inside
//# likely(), unlikely(), WARN_ON() or WARN_ON_ONCE(), combined with || and &&.

#spatch --defined CONFIG_PREEMPT_RT --defined defined(CONFIG_PREEMPT_RT) --defined IS_ENABLED(CONFIG_PREEMPT_RT)
#spatch --undefined !defined(CONFIG_PREEMPT_RT) --undefined !IS_ENABLED(CONFIG_PREEMPT_RT)

virtual context
virtual org
virtual report

@initialize:python@
@@

import re
import coccilib.elems

# --- What enters and leaves truly atomic context (rt-model.md section 1) ---

# lock(E, ...) ... unlock(E, ...): paired by the first argument.
KEYED_LOCK = (
    "raw_spin_lock", "raw_spin_lock_nested", "raw_spin_lock_nest_lock",
    "raw_spin_lock_irq", "raw_spin_lock_irqsave",
    "raw_spin_lock_irqsave_nested", "raw_spin_lock_bh",
    "raw_read_lock", "raw_read_lock_irq", "raw_read_lock_irqsave",
    "raw_read_lock_bh", "raw_write_lock", "raw_write_lock_irq",
    "raw_write_lock_irqsave", "raw_write_lock_bh", "raw_write_lock_nested",
    "arch_spin_lock", "arch_read_lock", "arch_write_lock",
    "bit_spin_lock", "hlist_bl_lock")
# Only in an if or while condition, for the branch where they succeeded.
KEYED_TRYLOCK = (
    "raw_spin_trylock", "raw_spin_trylock_irq", "raw_spin_trylock_irqsave",
    "raw_spin_trylock_bh", "raw_read_trylock", "raw_write_trylock",
    "arch_spin_trylock", "bit_spin_trylock")
KEYED_UNLOCK = (
    "raw_spin_unlock", "raw_spin_unlock_irq", "raw_spin_unlock_irqrestore",
    "raw_spin_unlock_bh", "raw_read_unlock", "raw_read_unlock_irq",
    "raw_read_unlock_irqrestore", "raw_read_unlock_bh", "raw_write_unlock",
    "raw_write_unlock_irq", "raw_write_unlock_irqrestore",
    "raw_write_unlock_bh", "arch_spin_unlock", "arch_read_unlock",
    "arch_write_unlock", "bit_spin_unlock", "__bit_spin_unlock",
    "hlist_bl_unlock", "__hlist_bl_unlock")
# (family, enter, leave): paired by family.
UNKEYED = (
    ("preempt", ("preempt_disable", "preempt_disable_notrace"),
     ("preempt_enable", "preempt_enable_notrace", "preempt_enable_no_resched",
      "preempt_enable_no_resched_notrace", "sched_preempt_enable_no_resched")),
    ("cpu", ("get_cpu", "get_cpu_ptr", "get_cpu_var"),
     ("put_cpu", "put_cpu_ptr", "put_cpu_var")),
    ("rcu_sched", ("rcu_read_lock_sched", "rcu_read_lock_sched_notrace"),
     ("rcu_read_unlock_sched", "rcu_read_unlock_sched_notrace")),
    ("irq", ("local_irq_disable", "local_irq_save", "raw_local_irq_disable",
             "raw_local_irq_save", "hard_irq_disable"),
     ("local_irq_enable", "local_irq_restore", "raw_local_irq_enable",
      "raw_local_irq_restore")),
)
# guard(NAME)(...) and scoped_guard(NAME, ...) classes that are truly atomic
# (the rq locks of kernel/sched/sched.h are raw spinlocks).
ATOMIC_GUARDS = (
    "raw_spinlock", "raw_spinlock_nested", "raw_spinlock_irq",
    "raw_spinlock_irqsave", "raw_spinlock_bh", "raw_spinlock_try",
    "raw_spinlock_irq_try", "raw_spinlock_irqsave_try", "preempt",
    "preempt_notrace", "irq", "irqsave", "rq_lock", "rq_lock_irq",
    "rq_lock_irqsave", "task_rq_lock", "double_rq_lock",
    "double_raw_spinlock")

# --- What sleeps on PREEMPT_RT (rt-model.md section 2) --------------------

SLEEP_WHY = {}

def _sleeps(why, names):
    for n in names.split():
        SLEEP_WHY[n] = why

_sleeps("allocates memory, whatever the GFP flags", """
    kmalloc kmalloc_node kmalloc_array kmalloc_array_node kcalloc
    kcalloc_node kzalloc kzalloc_node krealloc krealloc_array
    kmalloc_track_caller kmalloc_node_track_caller __kmalloc __kmalloc_node
    kmalloc_trace kmem_cache_alloc_trace kvmalloc kvmalloc_node kvzalloc
    kvzalloc_node kvcalloc kvcalloc_node kvmalloc_array kvrealloc
    kmem_cache_alloc kmem_cache_alloc_node kmem_cache_zalloc
    kmem_cache_alloc_lru kmem_cache_alloc_bulk alloc_pages alloc_pages_node
    alloc_page alloc_pages_exact __alloc_pages __alloc_pages_node folio_alloc
    __folio_alloc __get_free_pages __get_free_page get_zeroed_page vmalloc
    vzalloc vmalloc_node vzalloc_node __vmalloc vmalloc_user vmap kstrdup
    kstrndup kstrdup_const kmemdup kmemdup_nul kmemdup_array kasprintf
    kvasprintf mempool_alloc alloc_percpu alloc_percpu_gfp __alloc_percpu
    __alloc_percpu_gfp idr_alloc idr_alloc_cyclic idr_alloc_u32 idr_preload
    ida_alloc ida_alloc_range ida_alloc_min ida_alloc_max ida_simple_get
    xa_store xa_store_bh xa_store_irq xa_insert xa_insert_bh xa_insert_irq
    xa_alloc xa_alloc_bh xa_alloc_irq xa_alloc_cyclic xa_alloc_cyclic_bh
    xa_alloc_cyclic_irq radix_tree_insert radix_tree_preload
    radix_tree_maybe_preload bpf_map_kmalloc_node bpf_map_kzalloc
    bpf_map_kvcalloc bpf_map_alloc_percpu zs_malloc""")
_sleeps("frees memory", """
    kfree kvfree kfree_sensitive kvfree_sensitive kfree_const
    kmem_cache_free kmem_cache_free_bulk vfree free_pages free_page
    __free_pages __free_page free_pages_exact folio_put mempool_free
    free_percpu zs_free""")
_sleeps("acquires a spinlock_t", """
    spin_lock spin_lock_nested spin_lock_nest_lock spin_lock_irq
    spin_lock_irqsave spin_lock_irqsave_nested spin_lock_bh spin_trylock
    spin_trylock_irq spin_trylock_irqsave spin_trylock_bh xa_lock xa_lock_bh
    xa_lock_irq xa_lock_irqsave xa_lock_nested xa_lock_bh_nested
    xa_lock_irq_nested xa_lock_irqsave_nested xas_lock xas_lock_bh
    xas_lock_irq xas_lock_irqsave task_lock lock_task_sighand""")
_sleeps("acquires an rwlock_t", """
    read_lock read_lock_irq read_lock_irqsave read_lock_bh write_lock
    write_lock_irq write_lock_irqsave write_lock_bh write_lock_nested
    read_trylock write_trylock write_trylock_irqsave""")
_sleeps("acquires a local_lock_t", """
    local_lock local_lock_irq local_lock_irqsave local_lock_nested_bh""")
_sleeps("disables BH, a per-CPU lock on PREEMPT_RT", """
    local_bh_disable rcu_read_lock_bh""")
_sleeps("acquires a mutex", """
    mutex_lock mutex_lock_nested mutex_lock_interruptible
    mutex_lock_interruptible_nested mutex_lock_killable
    mutex_lock_killable_nested mutex_lock_io rt_mutex_lock lock_sock""")
_sleeps("acquires a semaphore", """
    down down_interruptible down_killable down_timeout down_read
    down_read_nested down_read_killable down_read_interruptible down_write
    down_write_nested down_write_killable mmap_read_lock mmap_write_lock
    mmap_read_lock_killable mmap_write_lock_killable percpu_down_read
    percpu_down_write""")
_sleeps("sleeps", """
    might_sleep might_sleep_if might_fault cond_resched schedule
    schedule_timeout schedule_timeout_interruptible
    schedule_timeout_uninterruptible schedule_timeout_killable
    schedule_timeout_idle schedule_hrtimeout schedule_hrtimeout_range
    io_schedule io_schedule_timeout msleep msleep_interruptible ssleep
    usleep_range usleep_range_state fsleep
    wait_event wait_event_cmd wait_event_exclusive_cmd wait_event_freezable
    wait_event_freezable_exclusive wait_event_freezable_timeout
    wait_event_hrtimeout wait_event_idle wait_event_idle_exclusive
    wait_event_idle_exclusive_timeout wait_event_idle_timeout
    wait_event_interruptible wait_event_interruptible_exclusive
    wait_event_interruptible_hrtimeout wait_event_interruptible_timeout
    wait_event_killable wait_event_killable_exclusive
    wait_event_killable_timeout wait_event_state wait_event_timeout
    wait_event_lock_irq wait_event_lock_irq_cmd wait_event_lock_irq_timeout
    wait_event_interruptible_lock_irq wait_event_interruptible_lock_irq_cmd
    wait_event_interruptible_lock_irq_timeout io_wait_event
    wait_for_completion wait_for_completion_interruptible
    wait_for_completion_interruptible_timeout wait_for_completion_io
    wait_for_completion_io_timeout wait_for_completion_killable
    wait_for_completion_killable_timeout wait_for_completion_state
    wait_for_completion_timeout synchronize_rcu synchronize_rcu_expedited
    synchronize_srcu synchronize_net synchronize_irq rcu_barrier flush_work
    flush_delayed_work flush_workqueue drain_workqueue cancel_work_sync
    cancel_delayed_work_sync kthread_stop copy_from_user copy_to_user
    get_user put_user clear_user strncpy_from_user memdup_user vunmap
    free_irq""")
_sleeps("takes the wait queue's spinlock_t", """
    wake_up wake_up_all wake_up_nr wake_up_interruptible
    wake_up_interruptible_all wake_up_interruptible_nr
    wake_up_interruptible_sync wake_up_interruptible_poll
    wake_up_interruptible_sync_poll wake_up_poll wake_up_pollfree
    wake_up_bit wake_up_var __wake_up""")
_sleeps("wakes all waiters: preemptible context only on PREEMPT_RT", """
    complete_all""")
_sleeps("waits for a running callback", """
    hrtimer_cancel del_timer_sync timer_delete_sync timer_shutdown_sync
    irq_work_sync""")
_sleeps("takes sighand->siglock, a spinlock_t", """
    send_sig send_sig_info send_sig_fault send_sig_mceerr send_sig_perf
    send_sigqueue force_sig force_sig_info force_sig_fault
    force_sig_fault_to_task force_sig_mceerr force_sig_bnderr
    force_sig_pkuerr force_sig_perf force_sig_seccomp
    force_sig_ptrace_errno_trap force_sigsegv force_fatal_sig force_exit_sig
    kill_pid kill_pid_info kill_pgrp""")
_sleeps("takes css_set_lock, a spinlock_t", "cgroup_enter_frozen")
_sleeps("takes zsmalloc's pool lock and a local_lock_t", "zs_map_object")

# guard(NAME)(...) classes that sleep on PREEMPT_RT.
SLEEP_GUARD_WHY = {}
for _g, _why in (
        ("spinlock spinlock_irq spinlock_irqsave spinlock_bh spinlock_nested task_lock",
         "acquires a spinlock_t"),
        ("read_lock read_lock_irq read_lock_irqsave write_lock write_lock_irq write_lock_irqsave",
         "acquires an rwlock_t"),
        ("local_lock local_lock_irq local_lock_irqsave local_lock_nested_bh",
         "acquires a local_lock_t"),
        ("mutex", "acquires a mutex"),
        ("rwsem_read rwsem_write", "acquires a semaphore")):
    for _n in _g.split():
        SLEEP_GUARD_WHY[_n] = _why

def rt_msg(op, why, ctx, line):
    return ("WARNING: %s may sleep on PREEMPT_RT (%s): called under %s "
            "(truly atomic) from line %d" % (op, why, ctx, line))

# --- Source text --------------------------------------------------------------

BACKSLASH = chr(92)
QUOTES = chr(34) + chr(39)

def strip_comments_strings(text):
    """Blank comments and string/char literals, keeping line/column layout."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in QUOTES:
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == BACKSLASH else 1
            j = min(j + 1, n)
            out.append(c + re.sub(r"[^\n]", " ", text[i + 1:j - 1]) + c
                       if j - i >= 2 else text[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)

# Three-valued evaluation of #if conditions on a PREEMPT_RT kernel: True,
# False, or None when the condition depends on other configuration.
PP_TOKEN_RE = re.compile(r"\s*(&&|\|\||[!()]|[A-Za-z_]\w*|\d\w*|\S)")
RT_SYMBOLS = ("CONFIG_PREEMPT_RT",)

def pp_eval(cond):
    toks = [m.group(1) for m in PP_TOKEN_RE.finditer(cond)]
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else None

    def take():
        pos[0] += 1
        return toks[pos[0] - 1]

    def skip_parens():
        depth = 0
        while peek() is not None:
            t = take()
            depth += (t == "(") - (t == ")")
            if depth == 0:
                return

    def primary():
        t = peek()
        if t is None:
            raise ValueError(cond)
        if t == "!":
            take()
            v = primary()
            return None if v is None else not v
        if t == "(":
            take()
            v = disj()
            if take() != ")":
                raise ValueError(cond)
            return v
        take()
        if t in ("defined", "IS_ENABLED", "IS_BUILTIN", "IS_REACHABLE",
                 "IS_MODULE"):
            paren = peek() == "("
            if paren:
                take()
            sym = take()
            if paren and take() != ")":
                raise ValueError(cond)
            if sym not in RT_SYMBOLS:
                return None
            return t != "IS_MODULE"
        if t[0].isdigit():
            try:
                return int(t.rstrip("uUlL"), 0) != 0
            except ValueError:
                return None
        if peek() == "(":
            skip_parens()
        return True if t in RT_SYMBOLS else None

    def term():
        v = primary()
        while peek() not in (None, "&&", "||", ")"):
            take()
            if peek() is not None and peek() not in ("&&", "||", ")"):
                primary()
            v = None
        return v

    def conj():
        v = term()
        while peek() == "&&":
            take()
            w = term()
            v = False if (v is False or w is False) else (
                True if (v and w) else None)
        return v

    def disj():
        v = conj()
        while peek() == "||":
            take()
            w = conj()
            v = True if (v is True or w is True) else (
                False if (v is False and w is False) else None)
        return v

    try:
        v = disj()
        return v if pos[0] == len(toks) else None
    except (ValueError, IndexError):
        return None

def code_lines(text):
    """Yield (lineno, line, live_on_rt, count_braces) for non-directive lines.

    live_on_rt is False in #if branches a PREEMPT_RT kernel does not compile.
    Braces are counted in branches RT compiles for sure, and in the first
    branch of conditionals that depend on other configuration.
    """
    stack = []  # per #if: [value of current branch, some branch was True, branch index]
    lines = text.split("\n")
    k = 0
    while k < len(lines):
        start = k
        while lines[k].endswith(BACKSLASH) and k + 1 < len(lines):
            k += 1
        k += 1
        logical = " ".join(l.rstrip(BACKSLASH) for l in lines[start:k])
        m = re.match(r"\s*#\s*(\w+)(.*)", logical)
        if not m:
            live = all(f[0] is not False for f in stack)
            count = all(f[0] is True or (f[0] is None and f[2] == 0)
                        for f in stack)
            for i in range(start, k):
                yield i + 1, lines[i], live, count
            continue
        for i in range(start, k):
            yield i + 1, "", False, False
        d, arg = m.group(1), m.group(2)
        if d in ("if", "ifdef", "ifndef"):
            if d == "ifdef":
                v = pp_eval("defined(%s)" % arg.strip())
            elif d == "ifndef":
                v = pp_eval("!defined(%s)" % arg.strip())
            else:
                v = pp_eval(arg)
            stack.append([v, v is True, 0])
        elif d == "elif" and stack:
            f = stack[-1]
            v = False if f[1] else pp_eval(arg)
            stack[-1] = [v, f[1] or v is True, f[2] + 1]
        elif d == "else" and stack:
            f = stack[-1]
            v = False if f[1] else (True if f[0] is False and f[2] == 0 else None)
            stack[-1] = [v, True, f[2] + 1]
        elif d == "endif" and stack:
            stack.pop()

class Source:
    """One file: its lines, and its text as the RT kernel's compiler sees
    the braces (comments, strings and uncounted #if branches blanked)."""
    def __init__(self, fname):
        try:
            with open(fname, errors="replace") as f:
                raw = f.read()
        except OSError:
            raw = ""
        self.lines = raw.split("\n")
        self.dead = set()
        scan = []
        for n, line, live, count in code_lines(strip_comments_strings(raw)):
            if not live:
                self.dead.add(n)
            scan.append(line if count else " " * len(line))
        self.text = "\n".join(scan)
        self.line_start = [0]
        for line in scan:
            self.line_start.append(self.line_start[-1] + len(line) + 1)

    def offset(self, line, col):
        return self.line_start[line - 1] + col

    def line_col(self, off):
        lo, hi = 0, len(self.line_start) - 1
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            if self.line_start[mid] <= off:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, off - self.line_start[lo]

    def word_at(self, line, col):
        m = re.match(r"\w+", self.lines[line - 1][col:]) if line <= len(self.lines) else None
        return m.group(0) if m else ""

    def guard_class(self, line, col):
        """NAME of guard(NAME)... or scoped_guard(NAME, ...) at line:col."""
        m = re.match(r"\w+\s*\(\s*(\w+)", self.text[self.offset(line, col):])
        return m.group(1) if m else ""

sources = {}

def source(fname):
    if fname not in sources:
        sources.clear()
        sources[fname] = Source(fname)
    return sources[fname]

# --- PREEMPT_RT conditions --------------------------------------------------

RT_TRUE_RE = re.compile(r"(IS_ENABLED|IS_BUILTIN)\(CONFIG_(PREEMPT_RT|PREEMPTION)\)$"
                        r"|preempt_model_rt\(\)$")
TRANSPARENT_RE = re.compile(r"(likely|unlikely|WARN_ON|WARN_ON_ONCE)\((.*)\)$")

def split_top(e, op):
    parts, depth, last, i = [], 0, 0, 0
    while i < len(e):
        c = e[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0 and e.startswith(op, i):
            parts.append(e[last:i])
            last = i + len(op)
            i = last
            continue
        i += 1
    parts.append(e[last:])
    return parts

def balanced(e):
    depth = 0
    for c in e:
        depth += (c == "(") - (c == ")")
        if depth < 0:
            return False
    return depth == 0

def rt_value(e):
    """Value of a C condition on PREEMPT_RT: True, False or None (unknown)."""
    e = re.sub(r"\s+", "", e)
    while e.startswith("(") and e.endswith(")") and balanced(e[1:-1]):
        e = e[1:-1]
    parts = split_top(e, "||")
    if len(parts) > 1:
        vals = [rt_value(x) for x in parts]
        return True if True in vals else (False if all(v is False for v in vals) else None)
    parts = split_top(e, "&&")
    if len(parts) > 1:
        vals = [rt_value(x) for x in parts]
        return False if False in vals else (True if all(v is True for v in vals) else None)
    if e.startswith("!"):
        v = rt_value(e[1:])
        return None if v is None else not v
    m = TRANSPARENT_RE.match(e)
    if m and balanced(m.group(2)):
        return rt_value(m.group(2))
    return True if RT_TRUE_RE.match(e) else None

def rt_true(e):
    return ("CONFIG_PREEMPT" in e or "preempt_model_rt" in e) and rt_value(e) is True

def rt_false(e):
    return ("CONFIG_PREEMPT" in e or "preempt_model_rt" in e) and rt_value(e) is False

# Calls that short-circuit evaluation skips on PREEMPT_RT (rule skipped).
skipped_pos = set()
# Trylocks tested by an if or while condition (rule condtry).
cond_trylocks = set()

def reachable_on_rt(p):
    """The call is compiled and evaluated on RT."""
    for el in p:
        if (el.file, el.line, el.column) in skipped_pos:
            return False
        if int(el.line) in source(el.file).dead:
            return False
    return True

def section_start_ok(p0):
    if not reachable_on_rt(p0):
        return False
    for el in p0:
        if (source(el.file).word_at(int(el.line), int(el.column)) in KEYED_TRYLOCK
                and (el.file, el.line, el.column) not in cond_trylocks):
            return False
    return True

# --- Findings ---------------------------------------------------------------

# Sleeping calls Coccinelle matched in parsed code, per file: (line, column).
seen = {}
# file -> {(line, column): [(start line, start column, family, key, context, position)]}
candidates = {}
# (file, line, column, family, key): a path reaches the call without the section.
escapes = set()
decided = {}

def is_sleeping(p):
    return all((int(el.line), int(el.column)) in seen.get(el.file, ())
               for el in p)

def sleep_op(src, line, col):
    name = src.word_at(line, col)
    if name == "guard":
        g = src.guard_class(line, col)
        return "guard(%s)" % g, SLEEP_GUARD_WHY.get(g, "may sleep")
    return name + "()", SLEEP_WHY.get(name, "may sleep")

def add_candidate(p, p0, family, key, ctx):
    el, el0 = p[0], p0[0]
    candidates.setdefault(el.file, {}).setdefault(
        (int(el.line), int(el.column)), []).append(
        (int(el0.line), int(el0.column), family, key, ctx, el))

def in_guard_scope(src, guard_off, call_off):
    """call_off follows the guard at guard_off within its enclosing block."""
    if call_off <= guard_off:
        return False
    depth = 0
    for c in src.text[guard_off:call_off]:
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
    return True

def add_guard_candidate(p, p0, g):
    el, el0 = p[0], p0[0]
    src = source(el.file)
    if in_guard_scope(src, src.offset(int(el0.line), int(el0.column)),
                      src.offset(int(el.line), int(el.column))):
        add_candidate(p, p0, "guard", "%s:%s" % (el0.line, el0.column),
                      "guard(%s)" % g)

def add_escape(q, family, key):
    for el in q:
        escapes.add((el.file, int(el.line), int(el.column), family, key))

def key_objects(key):
    """The lock expression and the objects it belongs to:
    &p->pi_lock -> p->pi_lock, p; rf.flags -> rf.flags, rf."""
    objs = set()
    k = key.lstrip("&")
    while k:
        objs.add(k)
        m = re.match(r"(.*?)(->\w+|\.\w+|\[[^][]*\])$", k)
        if not m:
            break
        k = m.group(1).strip("()")
    return objs

IRQ_RELEASE_RE = re.compile(r"\w*(unlock_irq|unlock_irqrestore|irq_restore|irqrestore|irq_enable)$")

def releases(ph, p0):
    """The call at ph is a local helper that ends the section entered at p0:
    its name says unlock or restore and it is given the lock, the object
    that holds it (or the saved flags), or it re-enables interrupts after
    local_irq_disable()."""
    el, el0 = ph[0], p0[0]
    src = source(el.file)
    name = src.word_at(int(el.line), int(el.column))
    start = src.word_at(int(el0.line), int(el0.column))
    if name in SLEEP_WHY or name in STARTS or name in KEYED_TRYLOCK:
        return False
    fam = STARTS.get(start, ("raw", True))[0]
    off = src.offset(int(el0.line), int(el0.column)) + len(start)
    open0 = src.text.find("(", off)
    args0 = call_args(src.text, open0) if open0 >= 0 else []
    if start in ("bit_spin_lock", "bit_spin_trylock") and len(args0) > 1:
        key = args0[1]
    else:
        key = args0[0] if args0 else ""
    if fam not in ("raw", "irq"):
        return False
    off = src.offset(int(el.line), int(el.column)) + len(name)
    args = [a.lstrip("&") for a in call_args(src.text, src.text.find("(", off))]
    if not key:
        return fam == "irq" and IRQ_RELEASE_RE.match(name) is not None
    objs = key_objects(key)
    return any(a in objs for a in args)

def decide(fname):
    """[(line, column, position, message)] of the sleeping calls held in a
    truly atomic section on every path."""
    if fname in decided:
        return decided[fname]
    found = []
    src = source(fname)
    for (line, col), cands in sorted(candidates.get(fname, {}).items()):
        held = [c for c in cands
                if (fname, line, col, c[2], c[3]) not in escapes]
        if not held:
            continue
        # The innermost section: the last one entered before the call.
        before = [c for c in held if c[:2] < (line, col)] or held
        start_line, _, _, _, ctx, el = max(before, key=lambda c: c[:2])
        op, why = sleep_op(src, line, col)
        found.append((line, col, el, rt_msg(op, why, ctx, start_line)))
    decided[fname] = found
    return found

def is_reported(p):
    return any((int(el.line), int(el.column)) in
               {(l, c) for l, c, _, _ in decide(el.file)} for el in p)

# --- Text scan of functions Coccinelle could not parse ----------------------

SCAN_RE = re.compile(r"[{};]|(?<![\w.>$])([A-Za-z_]\w*)(\s*\()?")
RT_GUARD_RE = re.compile(r"IS_ENABLED\s*\(\s*CONFIG_PREEMPT(_RT|ION)\s*\)"
                         r"|preempt_model_rt\s*\(\s*\)")
JUMP_RE = re.compile(r"\s*(return|goto|break|continue)\b")
NOT_A_NAME = {"__attribute__", "__printf", "__scanf", "__must_hold",
              "__acquires", "__releases", "__section", "__aligned",
              "__alloc_size", "__cond_acquires", "__diagnose_as",
              "__no_sanitize_or_inline", "__nocfi", "__weak", "asm",
              "__asm__", "__attribute"}
STARTS = {n: ("raw", True) for n in KEYED_LOCK}
ENDS = {n: ("raw", True) for n in KEYED_UNLOCK}
for _fam, _enter, _leave in UNKEYED:
    STARTS.update((n, (_fam, False)) for n in _enter)
    ENDS.update((n, (_fam, False)) for n in _leave)

def function_name(header):
    depth, names = 0, []
    for m in re.finditer(r"[()]|[A-Za-z_]\w*\s*\(", header):
        tok = m.group(0)
        if tok == "(":
            depth += 1
        elif tok == ")":
            depth -= 1
        else:
            if depth == 0:
                names.append((m.group(0)[:-1].strip(), m.end()))
            depth += 1
    for name, end in names:
        if name in NOT_A_NAME:
            continue
        if name.isupper():
            arg = re.match(r"\s*([A-Za-z_]\w*)", header[end:])
            if arg:
                return arg.group(1)
        return name
    return "?"

def close_paren(text, open_off):
    """Offset just after the parenthesis matching text[open_off] == '('."""
    depth = 0
    for i in range(open_off, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)

def call_args(text, open_off):
    """The arguments of the call whose '(' is at open_off, blanks removed."""
    end = close_paren(text, open_off)
    inner, depth, last, args = text[open_off + 1:end - 1], 0, 0, []
    for i, c in enumerate(inner):
        depth += (c in "([{") - (c in ")]}")
        if c == "," and depth == 0:
            args.append(inner[last:i])
            last = i + 1
    args.append(inner[last:])
    args = [re.sub(r"\s+", "", a) for a in args]
    return [] if args == [""] else args

def first_arg(text, open_off):
    args = call_args(text, open_off)
    return args[0] if args else ""

def scan_function(src, fn, body, end, done):
    """Follow sections through one function body in text order, block by
    block: a section entered in a block that closes is dropped (held on some
    paths only), a release in an inner block is undone when that block ends
    with a jump.  Returns [(line, col, name, message)]."""
    text = src.text
    found = []
    sections = []       # [family, key, context, line, depth, scope]
    frames = [[[], False]]  # per open block: [sections released, ends in a jump]
    depth = 0
    pending = None      # a section whose scope is the next block or statement
    stmt_start = body
    pos = body
    while True:
        m = SCAN_RE.search(text, pos, end)
        if not m:
            break
        pos = m.end()
        tok = m.group(0)
        if tok == "{":
            depth += 1
            frames.append([[], False])
            if pending is not None:
                pending[4] = pending[5] = depth
                sections.append(pending)
                pending = None
            stmt_start = pos
            continue
        if tok == "}":
            released, jumps = frames.pop() if len(frames) > 1 else ([], False)
            sections = [s for s in sections
                        if s[5] != depth and not (s[4] == depth and s[5] is None)]
            if jumps:
                sections.extend(s for s in released if s[5] != depth)
            depth -= 1
            frames[-1][1] = False
            stmt_start = pos
            if depth <= 0:
                break
            continue
        if tok == ";":
            frames[-1][1] = bool(JUMP_RE.match(text[stmt_start:m.start()]))
            sections = [s for s in sections if s[5] != ("stmt", depth)]
            if pending is not None and pending[5] == "stmt":
                pending = None
            stmt_start = pos
            continue
        name = m.group(1)
        if not m.group(2):
            continue
        open_off = m.end() - 1
        before = text[stmt_start:m.start()]
        line, col = src.line_col(m.start())
        # The call is the whole body of an if/else/for/while without braces.
        braceless = (re.search(r"\b(if|else|for|while)\b", before) is not None
                     and balanced(before))
        if name in STARTS:
            if not braceless:
                fam, keyed = STARTS[name]
                key = first_arg(text, open_off) if keyed else ""
                sections.append([fam, key, name + "()", line, depth, None])
            continue
        if name in KEYED_TRYLOCK:
            key = first_arg(text, open_off)
            sec = ["raw", key, name + "()", line, depth, None]
            if re.search(r"\b(if|while)\s*\(\s*(unlikely\s*\(\s*)?!\s*$", before):
                sections.append(sec)
            elif re.search(r"\bif\s*\(\s*(likely\s*\(\s*)?$", before):
                cond_end = close_paren(text, text.rfind("(", stmt_start, m.start()))
                if re.match(r"\s*\{", text[cond_end:end]):
                    pending = sec
                else:
                    sec[5] = ("stmt", depth)
                    sections.append(sec)
            continue
        if name in ENDS:
            fam, keyed = ENDS[name]
            key = first_arg(text, open_off) if keyed else ""
            for s in reversed(sections):
                if s[0] == fam and s[1] == key:
                    sections.remove(s)
                    if s[4] < depth and not braceless:
                        frames[-1][0].append(s)
                    break
            continue
        if name in ("guard", "scoped_guard"):
            g = src.guard_class(line, col)
            if g in ATOMIC_GUARDS:
                ctx = "%s(%s)" % (name, g)
                if name == "guard":
                    sections.append(["guard", "", ctx, line, depth, depth])
                else:
                    cond_end = close_paren(text, open_off)
                    sec = ["guard", "", ctx, line, depth, None]
                    if re.match(r"\s*\{", text[cond_end:end]):
                        pending = sec
                    else:
                        sec[5] = ("stmt", depth)
                        sections.append(sec)
                continue
            if g not in SLEEP_GUARD_WHY:
                continue
            op, why = "%s(%s)" % (name, g), SLEEP_GUARD_WHY[g]
        elif name in SLEEP_WHY:
            op, why = name + "()", SLEEP_WHY[name]
        else:
            continue
        if (sections and (line, col) not in done and line not in src.dead
                and not RT_GUARD_RE.search(text[body:m.start()])):
            s = sections[-1]
            found.append((line, col, name,
                          rt_msg(op, why, s[2], s[3]) +
                          " (function not parsed by Coccinelle: found by a text scan)"))
    return found

def scan_unparsed(fname, done):
    src = source(fname)
    text = src.text
    found = []
    pos, depth, header_start = 0, 0, 0
    top = re.compile(r"[{};]")
    while True:
        m = top.search(text, pos)
        if not m:
            break
        tok = m.group(0)
        if tok == ";":
            pos = m.end()
            if depth == 0:
                header_start = pos
            continue
        if tok == "}":
            depth = max(depth - 1, 0)
            pos = m.end()
            if depth == 0:
                header_start = pos
            continue
        # A top-level block: find its end, scan it if it has unseen calls.
        body, d, i = m.start(), 0, m.start()
        while i < len(text):
            if text[i] == "{":
                d += 1
            elif text[i] == "}":
                d -= 1
                if d == 0:
                    break
            i += 1
        end = min(i + 1, len(text))
        fn = function_name(text[header_start:body])
        pos, header_start = end, end
        if any(src.line_col(c.start()) not in done
               for c in SCAN_RE.finditer(text, body, end)
               if c.group(2) and is_sleep_call(src, c)):
            found += [(fn,) + f for f in scan_function(src, fn, body, end, done)]
    return found

def is_sleep_call(src, m):
    name = m.group(1)
    if name in ("guard", "scoped_guard"):
        return src.guard_class(*src.line_col(m.start())) in SLEEP_GUARD_WHY
    return name in SLEEP_WHY

def org_report(pos, msg):
    coccilib.org.print_todo(pos, msg.replace("[", "@(").replace("]", ")"))

# Functions that run while the system dies (include/rtcheck/dying_contexts.def,
# the Clang checker's table): (file suffix or "", name). Not reported.
DYING = (
    ("", "panic"), ("", "nmi_panic"), ("", "vpanic"), ("", "oops_begin"),
    ("", "oops_end"), ("", "__die"), ("", "die_addr"),
    ("arch/x86/kernel/dumpstack.c", "die"), ("", "__crash_kexec"),
    ("", "native_machine_crash_shutdown"), ("", "machine_real_restart"),
    ("", "native_machine_emergency_restart"), ("", "emergency_restart"),
    ("", "native_machine_power_off"), ("drivers/acpi/sleep.c", "acpi_power_off"),
    ("", "resume_target_kernel"), ("", "ftrace_dump"), ("", "ftrace_dump_one"))

def dying(el):
    return any(el.current_element == name and
               (not f or el.file == f or el.file.endswith("/" + f))
               for f, name in DYING)

def report_all(printer):
    for fname in cocci.files():
        items = [(l, c, el, msg) for l, c, el, msg in decide(fname)]
        done = seen.get(fname, set()) | {(l, c) for l, c, _, _ in items}
        for fn, l, c, name, msg in scan_unparsed(fname, done):
            items.append((l, c, coccilib.elems.Location(
                fname, fn, l, c, l, c, l, c, l, c + len(name)), msg))
        for _, _, el, msg in sorted(items, key=lambda x: x[:2]):
            if not dying(el):
                printer(el, msg)
    clear_state()

def clear_state():
    seen.clear()
    candidates.clear()
    escapes.clear()
    decided.clear()
    skipped_pos.clear()
    cond_trylocks.clear()
    sources.clear()

// Every sleeping call Coccinelle sees: the other rules match f@p(...) with p
// among them, and the text scan skips them.
@sleeping depends on context || org || report@
identifier sleep = {kmalloc, kmalloc_node, kmalloc_array, kmalloc_array_node,
		kcalloc, kcalloc_node, kzalloc, kzalloc_node, krealloc,
		krealloc_array, kmalloc_track_caller,
		kmalloc_node_track_caller, __kmalloc, __kmalloc_node,
		kmalloc_trace, kmem_cache_alloc_trace, kvmalloc, kvmalloc_node,
		kvzalloc, kvzalloc_node, kvcalloc, kvcalloc_node,
		kvmalloc_array, kvrealloc, kmem_cache_alloc,
		kmem_cache_alloc_node, kmem_cache_zalloc, kmem_cache_alloc_lru,
		kmem_cache_alloc_bulk, alloc_pages, alloc_pages_node,
		alloc_page, alloc_pages_exact, __alloc_pages,
		__alloc_pages_node, folio_alloc, __folio_alloc,
		__get_free_pages, __get_free_page, get_zeroed_page, vmalloc,
		vzalloc, vmalloc_node, vzalloc_node, __vmalloc, vmalloc_user,
		vmap, kstrdup, kstrndup, kstrdup_const, kmemdup, kmemdup_nul,
		kmemdup_array, kasprintf, kvasprintf, mempool_alloc,
		alloc_percpu, alloc_percpu_gfp, __alloc_percpu,
		__alloc_percpu_gfp, idr_alloc, idr_alloc_cyclic, idr_alloc_u32,
		idr_preload, ida_alloc, ida_alloc_range, ida_alloc_min,
		ida_alloc_max, ida_simple_get, xa_store, xa_store_bh,
		xa_store_irq, xa_insert, xa_insert_bh, xa_insert_irq, xa_alloc,
		xa_alloc_bh, xa_alloc_irq, xa_alloc_cyclic, xa_alloc_cyclic_bh,
		xa_alloc_cyclic_irq, radix_tree_insert, radix_tree_preload,
		radix_tree_maybe_preload, bpf_map_kmalloc_node,
		bpf_map_kzalloc, bpf_map_kvcalloc, bpf_map_alloc_percpu,
		zs_malloc, kfree, kvfree, kfree_sensitive, kvfree_sensitive,
		kfree_const, kmem_cache_free, kmem_cache_free_bulk, vfree,
		free_pages, free_page, __free_pages, __free_page,
		free_pages_exact, folio_put, mempool_free, free_percpu,
		zs_free, spin_lock, spin_lock_nested, spin_lock_nest_lock,
		spin_lock_irq, spin_lock_irqsave, spin_lock_irqsave_nested,
		spin_lock_bh, spin_trylock, spin_trylock_irq,
		spin_trylock_irqsave, spin_trylock_bh, xa_lock, xa_lock_bh,
		xa_lock_irq, xa_lock_irqsave, xa_lock_nested,
		xa_lock_bh_nested, xa_lock_irq_nested, xa_lock_irqsave_nested,
		xas_lock, xas_lock_bh, xas_lock_irq, xas_lock_irqsave,
		task_lock, lock_task_sighand, read_lock, read_lock_irq,
		read_lock_irqsave, read_lock_bh, write_lock, write_lock_irq,
		write_lock_irqsave, write_lock_bh, write_lock_nested,
		read_trylock, write_trylock, write_trylock_irqsave, local_lock,
		local_lock_irq, local_lock_irqsave, local_lock_nested_bh,
		local_bh_disable, rcu_read_lock_bh, mutex_lock,
		mutex_lock_nested, mutex_lock_interruptible,
		mutex_lock_interruptible_nested, mutex_lock_killable,
		mutex_lock_killable_nested, mutex_lock_io, rt_mutex_lock,
		lock_sock, down, down_interruptible, down_killable,
		down_timeout, down_read, down_read_nested, down_read_killable,
		down_read_interruptible, down_write, down_write_nested,
		down_write_killable, mmap_read_lock, mmap_write_lock,
		mmap_read_lock_killable, mmap_write_lock_killable,
		percpu_down_read, percpu_down_write, might_sleep,
		might_sleep_if, might_fault, cond_resched, schedule,
		schedule_timeout, schedule_timeout_interruptible,
		schedule_timeout_uninterruptible, schedule_timeout_killable,
		schedule_timeout_idle, schedule_hrtimeout,
		schedule_hrtimeout_range, io_schedule, io_schedule_timeout,
		msleep, msleep_interruptible, ssleep, usleep_range,
		usleep_range_state, fsleep, wait_event, wait_event_cmd,
		wait_event_exclusive_cmd, wait_event_freezable,
		wait_event_freezable_exclusive, wait_event_freezable_timeout,
		wait_event_hrtimeout, wait_event_idle,
		wait_event_idle_exclusive, wait_event_idle_exclusive_timeout,
		wait_event_idle_timeout, wait_event_interruptible,
		wait_event_interruptible_exclusive,
		wait_event_interruptible_hrtimeout,
		wait_event_interruptible_timeout, wait_event_killable,
		wait_event_killable_exclusive, wait_event_killable_timeout,
		wait_event_state, wait_event_timeout, wait_event_lock_irq,
		wait_event_lock_irq_cmd, wait_event_lock_irq_timeout,
		wait_event_interruptible_lock_irq,
		wait_event_interruptible_lock_irq_cmd,
		wait_event_interruptible_lock_irq_timeout, io_wait_event,
		wait_for_completion, wait_for_completion_interruptible,
		wait_for_completion_interruptible_timeout,
		wait_for_completion_io, wait_for_completion_io_timeout,
		wait_for_completion_killable,
		wait_for_completion_killable_timeout,
		wait_for_completion_state, wait_for_completion_timeout,
		synchronize_rcu, synchronize_rcu_expedited, synchronize_srcu,
		synchronize_net, synchronize_irq, rcu_barrier, flush_work,
		flush_delayed_work, flush_workqueue, drain_workqueue,
		cancel_work_sync, cancel_delayed_work_sync, kthread_stop,
		copy_from_user, copy_to_user, get_user, put_user, clear_user,
		strncpy_from_user, memdup_user, vunmap, free_irq, wake_up,
		wake_up_all, wake_up_nr, wake_up_interruptible,
		wake_up_interruptible_all, wake_up_interruptible_nr,
		wake_up_interruptible_sync, wake_up_interruptible_poll,
		wake_up_interruptible_sync_poll, wake_up_poll,
		wake_up_pollfree, wake_up_bit, wake_up_var, __wake_up,
		complete_all, hrtimer_cancel, del_timer_sync,
		timer_delete_sync, timer_shutdown_sync, irq_work_sync,
		send_sig, send_sig_info, send_sig_fault, send_sig_mceerr,
		send_sig_perf, send_sigqueue, force_sig, force_sig_info,
		force_sig_fault, force_sig_fault_to_task, force_sig_mceerr,
		force_sig_bnderr, force_sig_pkuerr, force_sig_perf,
		force_sig_seccomp, force_sig_ptrace_errno_trap, force_sigsegv,
		force_fatal_sig, force_exit_sig, kill_pid, kill_pid_info,
		kill_pgrp, cgroup_enter_frozen, zs_map_object};
identifier sg = {spinlock, spinlock_irq, spinlock_irqsave, spinlock_bh,
		spinlock_nested, task_lock, read_lock, read_lock_irq,
		read_lock_irqsave, write_lock, write_lock_irq,
		write_lock_irqsave, local_lock, local_lock_irq,
		local_lock_irqsave, local_lock_nested_bh, mutex, rwsem_read,
		rwsem_write};
position p;
@@

(
  sleep@p(...)
|
  guard@p(sg)(...)
)

@script:python depends on context || org || report@
p << sleeping.p;
@@

for el in p:
    seen.setdefault(el.file, set()).add((int(el.line), int(el.column)))

// Trylocks whose success is tested by an if or while: the start of a
// section only on the success branch.
@condtry depends on context || org || report@
identifier try = {raw_spin_trylock, raw_spin_trylock_irq,
		raw_spin_trylock_irqsave, raw_spin_trylock_bh,
		raw_read_trylock, raw_write_trylock, arch_spin_trylock,
		bit_spin_trylock};
expression E;
position p;
statement S1, S2;
@@

(
if (\(try@p(E, ...)\|likely(try@p(E, ...))\)) S1 else S2
|
if (\(try@p(E, ...)\|likely(try@p(E, ...))\)) S1
|
if (\(!try@p(E, ...)\|unlikely(!try@p(E, ...))\)) S1 else S2
|
if (\(!try@p(E, ...)\|unlikely(!try@p(E, ...))\)) S1
|
while (!try@p(E, ...)) S1
)

@script:python depends on context || org || report@
p << condtry.p;
@@

for el in p:
    cond_trylocks.add((el.file, el.line, el.column))

// Calls that short-circuit evaluation skips on PREEMPT_RT, e.g.
// IS_ENABLED(CONFIG_PREEMPT_RT) || spin_trylock(&lock)
@skipped depends on context || org || report@
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
expression E;
position p : script:python() { is_sleeping(p) };
@@

(
  rtc || <+... f@p(...) ...+>
|
  nrtc && <+... f@p(...) ...+>
|
  rtc ? E : <+... f@p(...) ...+>
|
  nrtc ? <+... f@p(...) ...+> : E
)

@script:python depends on context || org || report@
p << skipped.p;
@@

for el in p:
    skipped_pos.add((el.file, el.line, el.column))

// A raw, bit or arch spinlock held from lock@p0(E) to the sleeping call on
// some path that PREEMPT_RT takes.  The escape rules below drop the call
// when another path reaches it without the lock held.
@ck depends on context || org || report exists@
identifier fn;
identifier lock = {raw_spin_lock, raw_spin_lock_nested, raw_spin_lock_nest_lock,
		raw_spin_lock_irq, raw_spin_lock_irqsave,
		raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock,
		raw_read_lock_irq, raw_read_lock_irqsave, raw_read_lock_bh,
		raw_write_lock, raw_write_lock_irq, raw_write_lock_irqsave,
		raw_write_lock_bh, raw_write_lock_nested, arch_spin_lock,
		arch_read_lock, arch_write_lock, bit_spin_lock, hlist_bl_lock,
		raw_spin_trylock, raw_spin_trylock_irq,
		raw_spin_trylock_irqsave, raw_spin_trylock_bh,
		raw_read_trylock, raw_write_trylock, arch_spin_trylock,
		bit_spin_trylock};
identifier unlock = {raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_read_unlock_irq,
		raw_read_unlock_irqrestore, raw_read_unlock_bh,
		raw_write_unlock, raw_write_unlock_irq,
		raw_write_unlock_irqrestore, raw_write_unlock_bh,
		arch_spin_unlock, arch_read_unlock, arch_write_unlock,
		bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock,
		__hlist_bl_unlock};
identifier try = {raw_spin_trylock, raw_spin_trylock_irq,
		raw_spin_trylock_irqsave, raw_spin_trylock_bh,
		raw_read_trylock, raw_write_trylock, arch_spin_trylock,
		bit_spin_trylock};
identifier sleep;
expression E;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { section_start_ok(p0) };
position p : script:python() { is_sleeping(p) and reachable_on_rt(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  lock@p0(E, ...)
  ... when != unlock(E, ...)
      when != false try(E, ...)
      when != true !try(E, ...)
      when != false rtc
      when != true nrtc
      when any
  sleep@p(...)
  ... when any
}

// The candidate holds unless every path releases the section through a
// local helper given the lock or its object: raw_spin_lock(&p->pi_lock)
// ... task_rq_unlock(rq, p, &rf).
@ckh depends on context || org || report exists@
identifier ck.fn;
expression ck.E;
position ck.p0, ck.p;
identifier unlock = {raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_read_unlock_irq,
		raw_read_unlock_irqrestore, raw_read_unlock_bh,
		raw_write_unlock, raw_write_unlock_irq,
		raw_write_unlock_irqrestore, raw_write_unlock_bh,
		arch_spin_unlock, arch_read_unlock, arch_write_unlock,
		bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock,
		__hlist_bl_unlock};
identifier try = {raw_spin_trylock, raw_spin_trylock_irq,
		raw_spin_trylock_irqsave, raw_spin_trylock_bh,
		raw_read_trylock, raw_write_trylock, arch_spin_trylock,
		bit_spin_trylock};
identifier f, g;
identifier hu =~ "unlock|restore";
position ph : script:python(p0) { releases(ph, p0) };
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when any
  g@p0(...)
  ... when != unlock(E, ...)
      when != false try(E, ...)
      when != true !try(E, ...)
      when != hu@ph(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
p0 << ck.p0;
q << ckh.q;
lock << ck.lock;
E << ck.E;
@@

add_candidate(q, p0, "raw", E, lock + "()")

// Escapes: a path from the function entry that never takes the lock, ...
@ek1 depends on context || org || report exists@
identifier ck.fn;
expression ck.E;
position ck.p;
identifier lock = {raw_spin_lock, raw_spin_lock_nested, raw_spin_lock_nest_lock,
		raw_spin_lock_irq, raw_spin_lock_irqsave,
		raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock,
		raw_read_lock_irq, raw_read_lock_irqsave, raw_read_lock_bh,
		raw_write_lock, raw_write_lock_irq, raw_write_lock_irqsave,
		raw_write_lock_bh, raw_write_lock_nested, arch_spin_lock,
		arch_read_lock, arch_write_lock, bit_spin_lock, hlist_bl_lock,
		raw_spin_trylock, raw_spin_trylock_irq,
		raw_spin_trylock_irqsave, raw_spin_trylock_bh,
		raw_read_trylock, raw_write_trylock, arch_spin_trylock,
		bit_spin_trylock};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(E, ...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << ek1.q;
E << ck.E;
@@

add_escape(q, "raw", E)

// ... or that releases it and does not take it again, ...
@ek2 depends on context || org || report exists@
identifier ck.fn;
expression ck.E;
position ck.p;
identifier lock = {raw_spin_lock, raw_spin_lock_nested, raw_spin_lock_nest_lock,
		raw_spin_lock_irq, raw_spin_lock_irqsave,
		raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock,
		raw_read_lock_irq, raw_read_lock_irqsave, raw_read_lock_bh,
		raw_write_lock, raw_write_lock_irq, raw_write_lock_irqsave,
		raw_write_lock_bh, raw_write_lock_nested, arch_spin_lock,
		arch_read_lock, arch_write_lock, bit_spin_lock, hlist_bl_lock,
		raw_spin_trylock, raw_spin_trylock_irq,
		raw_spin_trylock_irqsave, raw_spin_trylock_bh,
		raw_read_trylock, raw_write_trylock, arch_spin_trylock,
		bit_spin_trylock};
identifier unlock = {raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_read_unlock_irq,
		raw_read_unlock_irqrestore, raw_read_unlock_bh,
		raw_write_unlock, raw_write_unlock_irq,
		raw_write_unlock_irqrestore, raw_write_unlock_bh,
		arch_spin_unlock, arch_read_unlock, arch_write_unlock,
		bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock,
		__hlist_bl_unlock};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  unlock(E, ...)
  ... when != lock(E, ...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << ek2.q;
E << ck.E;
@@

add_escape(q, "raw", E)

// ... or whose trylock failed.
@ek3 depends on context || org || report exists@
identifier ck.fn;
expression ck.E;
position ck.p;
identifier lock = {raw_spin_lock, raw_spin_lock_nested, raw_spin_lock_nest_lock,
		raw_spin_lock_irq, raw_spin_lock_irqsave,
		raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock,
		raw_read_lock_irq, raw_read_lock_irqsave, raw_read_lock_bh,
		raw_write_lock, raw_write_lock_irq, raw_write_lock_irqsave,
		raw_write_lock_bh, raw_write_lock_nested, arch_spin_lock,
		arch_read_lock, arch_write_lock, bit_spin_lock, hlist_bl_lock,
		raw_spin_trylock, raw_spin_trylock_irq,
		raw_spin_trylock_irqsave, raw_spin_trylock_bh,
		raw_read_trylock, raw_write_trylock, arch_spin_trylock,
		bit_spin_trylock};
identifier try = {raw_spin_trylock, raw_spin_trylock_irq,
		raw_spin_trylock_irqsave, raw_spin_trylock_bh,
		raw_read_trylock, raw_write_trylock, arch_spin_trylock,
		bit_spin_trylock};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  try(E, ...)
  ... when != lock(E, ...)
      when != true try(E, ...)
      when != false !try(E, ...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << ek3.q;
E << ck.E;
@@

add_escape(q, "raw", E)

// preempt_disable(), preempt_disable_notrace() ... preempt_enable(), preempt_enable_notrace(), preempt_enable_no_resched(), preempt_enable_no_resched_notrace(), sched_preempt_enable_no_resched()
@c_preempt depends on context || org || report exists@
identifier fn;
identifier lock = {preempt_disable, preempt_disable_notrace};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched, preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched};
identifier sleep;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { section_start_ok(p0) };
position p : script:python() { is_sleeping(p) and reachable_on_rt(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  lock@p0(...)
  ... when != unlock(...)
      when != false rtc
      when != true nrtc
      when any
  sleep@p(...)
  ... when any
}

@script:python depends on context || org || report@
p0 << c_preempt.p0;
p << c_preempt.p;
lock << c_preempt.lock;
@@

add_candidate(p, p0, "preempt", "", lock + "()")


@e1_preempt depends on context || org || report exists@
identifier c_preempt.fn;
position c_preempt.p;
identifier lock = {preempt_disable, preempt_disable_notrace};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << e1_preempt.q;
@@

add_escape(q, "preempt", "")

@e2_preempt depends on context || org || report exists@
identifier c_preempt.fn;
position c_preempt.p;
identifier lock = {preempt_disable, preempt_disable_notrace};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched, preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  unlock(...)
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << e2_preempt.q;
@@

add_escape(q, "preempt", "")

// get_cpu(), get_cpu_ptr(), get_cpu_var() ... put_cpu(), put_cpu_ptr(), put_cpu_var()
@c_cpu depends on context || org || report exists@
identifier fn;
identifier lock = {get_cpu, get_cpu_ptr, get_cpu_var};
identifier unlock = {put_cpu, put_cpu_ptr, put_cpu_var};
identifier sleep;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { section_start_ok(p0) };
position p : script:python() { is_sleeping(p) and reachable_on_rt(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  lock@p0(...)
  ... when != unlock(...)
      when != false rtc
      when != true nrtc
      when any
  sleep@p(...)
  ... when any
}

@script:python depends on context || org || report@
p0 << c_cpu.p0;
p << c_cpu.p;
lock << c_cpu.lock;
@@

add_candidate(p, p0, "cpu", "", lock + "()")


@e1_cpu depends on context || org || report exists@
identifier c_cpu.fn;
position c_cpu.p;
identifier lock = {get_cpu, get_cpu_ptr, get_cpu_var};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << e1_cpu.q;
@@

add_escape(q, "cpu", "")

@e2_cpu depends on context || org || report exists@
identifier c_cpu.fn;
position c_cpu.p;
identifier lock = {get_cpu, get_cpu_ptr, get_cpu_var};
identifier unlock = {put_cpu, put_cpu_ptr, put_cpu_var};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  unlock(...)
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << e2_cpu.q;
@@

add_escape(q, "cpu", "")

// rcu_read_lock_sched(), rcu_read_lock_sched_notrace() ... rcu_read_unlock_sched(), rcu_read_unlock_sched_notrace()
@c_rcu_sched depends on context || org || report exists@
identifier fn;
identifier lock = {rcu_read_lock_sched, rcu_read_lock_sched_notrace};
identifier unlock = {rcu_read_unlock_sched, rcu_read_unlock_sched_notrace};
identifier sleep;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { section_start_ok(p0) };
position p : script:python() { is_sleeping(p) and reachable_on_rt(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  lock@p0(...)
  ... when != unlock(...)
      when != false rtc
      when != true nrtc
      when any
  sleep@p(...)
  ... when any
}

@script:python depends on context || org || report@
p0 << c_rcu_sched.p0;
p << c_rcu_sched.p;
lock << c_rcu_sched.lock;
@@

add_candidate(p, p0, "rcu_sched", "", lock + "()")


@e1_rcu_sched depends on context || org || report exists@
identifier c_rcu_sched.fn;
position c_rcu_sched.p;
identifier lock = {rcu_read_lock_sched, rcu_read_lock_sched_notrace};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << e1_rcu_sched.q;
@@

add_escape(q, "rcu_sched", "")

@e2_rcu_sched depends on context || org || report exists@
identifier c_rcu_sched.fn;
position c_rcu_sched.p;
identifier lock = {rcu_read_lock_sched, rcu_read_lock_sched_notrace};
identifier unlock = {rcu_read_unlock_sched, rcu_read_unlock_sched_notrace};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  unlock(...)
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << e2_rcu_sched.q;
@@

add_escape(q, "rcu_sched", "")

// local_irq_disable(), local_irq_save(), raw_local_irq_disable(), raw_local_irq_save(), hard_irq_disable() ... local_irq_enable(), local_irq_restore(), raw_local_irq_enable(), raw_local_irq_restore()
@c_irq depends on context || org || report exists@
identifier fn;
identifier lock = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable};
identifier unlock = {local_irq_enable, local_irq_restore, raw_local_irq_enable,
		raw_local_irq_restore};
identifier sleep;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { section_start_ok(p0) };
position p : script:python() { is_sleeping(p) and reachable_on_rt(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  lock@p0(...)
  ... when != unlock(...)
      when != false rtc
      when != true nrtc
      when any
  sleep@p(...)
  ... when any
}

// As for raw locks: local_irq_save(rf.flags) ... task_rq_unlock(rq, p, &rf),
// local_irq_disable() ... spin_unlock_irq(&lock).
@c_irqh depends on context || org || report exists@
identifier c_irq.fn;
position c_irq.p0, c_irq.p;
identifier unlock = {local_irq_enable, local_irq_restore, raw_local_irq_enable,
		raw_local_irq_restore};
identifier f, g;
identifier hu =~ "unlock|restore|enable";
position ph : script:python(p0) { releases(ph, p0) };
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when any
  g@p0(...)
  ... when != unlock(...)
      when != hu@ph(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
p0 << c_irq.p0;
q << c_irqh.q;
lock << c_irq.lock;
@@

add_candidate(q, p0, "irq", "", lock + "()")


@e1_irq depends on context || org || report exists@
identifier c_irq.fn;
position c_irq.p;
identifier lock = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << e1_irq.q;
@@

add_escape(q, "irq", "")

@e2_irq depends on context || org || report exists@
identifier c_irq.fn;
position c_irq.p;
identifier lock = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable};
identifier unlock = {local_irq_enable, local_irq_restore, raw_local_irq_enable,
		raw_local_irq_restore};
identifier f;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  unlock(...)
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}

@script:python depends on context || org || report@
q << e2_irq.q;
@@

add_escape(q, "irq", "")

// guard(raw_spinlock*)(...), guard(preempt)(), guard(irq)() ...: to the end
// of the enclosing block (checked by add_guard_candidate).
@cg depends on context || org || report exists@
identifier fn;
identifier G = {raw_spinlock, raw_spinlock_nested, raw_spinlock_irq,
		raw_spinlock_irqsave, raw_spinlock_bh, raw_spinlock_try,
		raw_spinlock_irq_try, raw_spinlock_irqsave_try, preempt,
		preempt_notrace, irq, irqsave, rq_lock, rq_lock_irq,
		rq_lock_irqsave, task_rq_lock, double_rq_lock,
		double_raw_spinlock};
identifier sleep;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { section_start_ok(p0) };
position p : script:python() { is_sleeping(p) and reachable_on_rt(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  guard@p0(G)(...);
  ... when != false rtc
      when != true nrtc
      when any
  sleep@p(...)
  ... when any
}

@script:python depends on context || org || report@
p0 << cg.p0;
p << cg.p;
G << cg.G;
@@

add_guard_candidate(p, p0, G)

@depends on context@
identifier f;
position p : script:python() { is_reported(p) };
@@

(
* f@p(...)
|
* guard@p(...)(...)
)

@script:python depends on context@
@@

clear_state()

@script:python depends on org@
@@

report_all(org_report)

@script:python depends on report@
@@

report_all(coccilib.report.print_report)
