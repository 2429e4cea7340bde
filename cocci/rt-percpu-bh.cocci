// SPDX-License-Identifier: GPL-2.0-only
/// Find per-CPU data whose only serialisation is disabled BH: per-CPU data
/// used inside a local_bh_disable()/local_bh_enable(),
/// spin_lock_bh()/spin_unlock_bh(), read_lock_bh(), write_lock_bh() or
/// rcu_read_lock_bh() section, or under guard(spinlock_bh) or
/// scoped_guard(spinlock_bh, ...), of the same function.  On PREEMPT_RT
/// softirqs are preemptible and local_bh_disable() is a per-CPU lock that
/// serialises all BH work of a CPU; upstream is removing it, so every
/// per-CPU resource that relies on BH being off gets its own local_lock_t
/// (usually a bh_lock member) taken with local_lock_nested_bh(), or
/// guard(local_lock_nested_bh) / scoped_guard(local_lock_nested_bh, ...)
/// (napi_alloc_cache and ipv4_tcp_sk, Linux 6.11).
///
/// Accesses: this_cpu_ptr(), raw_cpu_ptr(), per_cpu_ptr(E, smp_processor_id())
/// and per_cpu(V, smp_processor_id()), the non-atomic __this_cpu_*() and
/// raw_cpu_*() operations (reads included), and this_cpu_read() of a
/// pointer into a local variable that is used afterwards.  What decides is
/// the context of each use: an access whose pointer is stored in a local
/// (sd = this_cpu_ptr(&softnet_data)) is judged at each use of the local up
/// to the next access stored to it (sd->completion_queue = NULL with irqs
/// off is serialised), the access itself when the local is not used.
/// Single-instruction this_cpu_inc(), this_cpu_add(), this_cpu_write() ...
/// need no lock and are not reported.  Not reported either: uses held on
/// every path under a local_lock_t (local_lock*(), guard(local_lock*),
/// scoped_guard(local_lock*, ...)), a spinlock_t, rwlock_t or sleeping lock
/// (spin_lock(), mutex_lock() ... and their guards), or in truly atomic
/// code (preempt_disable(), get_cpu*(), local_irq_save(), raw spinlocks:
/// rt-atomic-sleep concern); uses in a function that takes the local_lock_t
/// of the same per-CPU variable (local_lock_nested_bh(
/// &napi_alloc_cache.bh_lock), also through the local: &nc->bh_lock) or
/// asserts it held (lockdep_assert_held()), wherever the pointer was taken;
/// uses under spin_lock_bh() of a lock inside the object itself
/// (spin_lock_bh(&ul->lock), ul = raw_cpu_ptr(&rt_uncached_list)); uses of
/// a per-CPU variable whose every use in the file holds the same
/// spin_lock_bh()/read_lock_bh()/write_lock_bh() lock; blind statistics:
/// counter updates (p->f++, p->f--, p->f += e, p->f -= e, and
/// __this_cpu_inc/add/dec/sub() or raw_cpu_inc/add/dec/sub() statements) of
/// data that nothing in the file reads back (this_cpu_read(),
/// __this_cpu_read(), raw_cpu_read(), or a member read with only BH off);
/// members only read with only BH off (a peek before taking the lock that
/// guards them: if (sd->completion_queue), list_empty(&sd->poll_list));
/// the pointer handed whole to a function of the file, stored in a local or
/// straight (left to it), or a
/// header struct used field by field handed whole to any function; and code
/// a PREEMPT_RT kernel does not run (if (!IS_ENABLED(CONFIG_PREEMPT_RT)),
/// #ifndef CONFIG_PREEMPT_RT).  One report per per-CPU variable of the
/// file, at its first access with only BH disabled, listing the others, as
/// rtcheck reports it; the fields of a header struct that the file also
/// serialises otherwise somewhere (a container: softnet_data) are objects
/// of their own (softnet_data.process_queue), reported at their first use.
/// -D per_function (SPFLAGS=) gives one report per object and function.
/// Also reported: lock wrappers that PREEMPT_RT leaves empty, "if
/// (IS_ENABLED(CONFIG_X)) spin_lock_irqsave(...); else if
/// (!IS_ENABLED(CONFIG_PREEMPT_RT)) local_irq_save(...);" (rps_lock_irqsave(),
/// Linux 6.1): without CONFIG_X a PREEMPT_RT kernel takes nothing there.
///
// Confidence: Moderate
// Copyright: (C) 2026 The rtcheck authors.
// URL: https://coccinelle.gitlabpages.inria.fr/website
// Comments: Intraprocedural: a BH section entered in a caller or in a
//  softirq entry context (NAPI poll, timers, tasklets, netfilter hooks,
//  lockdep_assert_in_softirq() functions), and uses made in a called
//  function, are left to the rtcheck Clang checker (rt-percpu-bh).  A
//  helper that returns with BH disabled is reported when its access is
//  inside its own section (tcp_get_md5sig_pool()), the uses by its callers
//  of the returned pointer are not.  BH sections are paired by family
//  (local_bh_*, rcu_read_*_bh) or by the lock expression
//  (spin/read/write_lock_bh), and count when some path enters them;
//  protecting sections are paired by family and must hold on every path.
//  Without the headers, the uses of a pointer are told from the text around
//  the local (x->f++, &x->f, x->f = e ...); a struct counts as defined in a
//  header when the file has no definition of the type it gives to
//  DEFINE_PER_CPU() (or does not define the variable); a function of the
//  file is one the file defines.  Functions Coccinelle cannot parse without
//  the kernel headers (BPF_CALL_n(...), a local with
//  __attribute__((aligned(...)))) are not scanned.
// Options: --no-includes --include-headers
// Requires: 1.1.0
//
//# Accesses, sections and guards are recognised by the name spelled at the
//# call site, whatever the configured tree expands them to.  Branches on
//# IS_ENABLED(CONFIG_PREEMPT_RT) and #ifdef CONFIG_PREEMPT_RT are taken as a
//# PREEMPT_RT kernel takes them.  scoped_guard is declared as an iterator
//# so that Coccinelle parses the functions that use it.

#spatch --defined CONFIG_PREEMPT_RT --defined defined(CONFIG_PREEMPT_RT) --defined IS_ENABLED(CONFIG_PREEMPT_RT)
#spatch --undefined !defined(CONFIG_PREEMPT_RT) --undefined !IS_ENABLED(CONFIG_PREEMPT_RT)

virtual context
virtual org
virtual report
virtual per_function

@initialize:python@
@@

import re

# --- API knowledge (names spelled at the call site) --------------------------

# Per-CPU accesses that need a lock when only BH serialises them.
PTR_ACCESSES = ["this_cpu_ptr", "raw_cpu_ptr"]
# per_cpu_ptr(E, CPU) and per_cpu(V, CPU) with CPU one of these are this
# CPU's data.
CPU_ACCESSES = ["per_cpu_ptr", "per_cpu"]
THIS_CPU_IDS = ["smp_processor_id", "raw_smp_processor_id"]
OP_ACCESSES = """
    __this_cpu_read __this_cpu_write __this_cpu_add __this_cpu_sub
    __this_cpu_inc __this_cpu_dec __this_cpu_and __this_cpu_or
    __this_cpu_xchg __this_cpu_cmpxchg __this_cpu_add_return
    __this_cpu_sub_return __this_cpu_inc_return __this_cpu_dec_return
    raw_cpu_read raw_cpu_write raw_cpu_add raw_cpu_sub raw_cpu_inc
    raw_cpu_dec raw_cpu_and raw_cpu_or raw_cpu_xchg raw_cpu_cmpxchg
    raw_cpu_add_return raw_cpu_sub_return raw_cpu_inc_return
    raw_cpu_dec_return
""".split()
# this_cpu_read() is a single instruction; it counts when it loads a
# pointer that the function then uses (ctl_sk = this_cpu_read(ipv4_tcp_sk)).
POINTER_READS = ["this_cpu_read"]
# Updates that only count, as a statement of their own (__this_cpu_inc(v);):
# blind statistics unless the file reads the value back with one of
# VALUE_READS (a lost update loses a count, it breaks no invariant).
COUNTER_UPDATES = ["__this_cpu_inc", "__this_cpu_dec", "__this_cpu_add",
                   "__this_cpu_sub", "raw_cpu_inc", "raw_cpu_dec", "raw_cpu_add",
                   "raw_cpu_sub"]
VALUE_READS = ["this_cpu_read", "__this_cpu_read", "raw_cpu_read"]
# Calls that only look at the object their argument points to: a member
# passed to them by address is read (list_empty(&sd->poll_list)).
PEEKS = ["list_empty", "list_empty_careful", "list_first_entry", "list_last_entry",
         "list_first_entry_or_null", "test_bit", "arch_test_bit", "hlist_empty", "llist_empty",
         "skb_queue_empty", "skb_queue_empty_lockless", "skb_queue_len",
         "skb_queue_len_lockless"]
# Assertions that the caller holds a lock: of a local_lock_t, they say that
# it serialises the object in the function (lockdep_assert_held(
# &srh_state->bh_lock)).
LOCK_HELD = ["lockdep_assert_held", "lockdep_assert_held_once"]

# BH-disabled sections: lock -> unlock.  The keyed ones pair by lock.
BH_SECTIONS = {"local_bh_disable": "local_bh_enable",
               "rcu_read_lock_bh": "rcu_read_unlock_bh"}
BH_KEYED_SECTIONS = {"spin_lock_bh": "spin_unlock_bh",
                     "read_lock_bh": "read_unlock_bh",
                     "write_lock_bh": "write_unlock_bh"}
BH_GUARDS = ["spinlock_bh"]

# Sections that take an access out of this rule, by family: (locks,
# unlocks, guard classes).  A local_lock_t, spinlock_t, rwlock_t or sleeping
# lock serialises the data; preemption or interrupts off and raw spinlocks
# are truly atomic on PREEMPT_RT (rt-atomic-sleep's concern).
PROTECTIONS = {
    "local": (["local_lock", "local_lock_irq", "local_lock_irqsave",
               "local_lock_nested_bh"],
              ["local_unlock", "local_unlock_irq", "local_unlock_irqrestore",
               "local_unlock_nested_bh"],
              ["local_lock", "local_lock_irq", "local_lock_irqsave",
               "local_lock_nested_bh"]),
    "preempt": (["preempt_disable", "preempt_disable_notrace", "get_cpu",
                 "get_cpu_ptr", "get_cpu_var"],
                ["preempt_enable", "preempt_enable_notrace",
                 "preempt_enable_no_resched",
                 "preempt_enable_no_resched_notrace",
                 "sched_preempt_enable_no_resched", "put_cpu", "put_cpu_ptr",
                 "put_cpu_var"],
                ["preempt", "preempt_notrace"]),
    "irq": (["local_irq_disable", "local_irq_save", "raw_local_irq_disable",
             "raw_local_irq_save", "hard_irq_disable"],
            ["local_irq_enable", "local_irq_restore", "raw_local_irq_enable",
             "raw_local_irq_restore"],
            ["irq", "irqsave"]),
    "lock": (["spin_lock", "spin_lock_nested", "spin_lock_nest_lock",
              "spin_lock_irq", "spin_lock_irqsave", "spin_lock_irqsave_nested",
              "read_lock", "read_lock_irq", "read_lock_irqsave", "write_lock",
              "write_lock_irq", "write_lock_irqsave"],
             ["spin_unlock", "spin_unlock_irq", "spin_unlock_irqrestore",
              "read_unlock", "read_unlock_irq", "read_unlock_irqrestore",
              "write_unlock", "write_unlock_irq", "write_unlock_irqrestore"],
             ["spinlock", "spinlock_irq", "spinlock_irqsave", "read_lock",
              "read_lock_irq", "read_lock_irqsave", "write_lock",
              "write_lock_irq", "write_lock_irqsave"]),
    "sleeping": (["mutex_lock", "mutex_lock_nested", "mutex_lock_interruptible",
                  "mutex_lock_killable", "mutex_lock_io", "down_read",
                  "down_read_killable", "down_read_interruptible", "down_write",
                  "down_write_killable", "down", "down_interruptible",
                  "mmap_read_lock", "mmap_write_lock"],
                 ["mutex_unlock", "up_read", "up_write", "up",
                  "mmap_read_unlock", "mmap_write_unlock"],
                 ["mutex", "rwsem_read", "rwsem_write"]),
    "raw": (["raw_spin_lock", "raw_spin_lock_nested", "raw_spin_lock_nest_lock",
             "raw_spin_lock_irq", "raw_spin_lock_irqsave",
             "raw_spin_lock_irqsave_nested", "raw_spin_lock_bh",
             "raw_read_lock", "raw_write_lock", "raw_read_lock_irq",
             "raw_read_lock_irqsave", "raw_write_lock_irq", "raw_write_lock_irqsave",
             "arch_spin_lock", "bit_spin_lock", "hlist_bl_lock"],
            ["raw_spin_unlock", "raw_spin_unlock_irq",
             "raw_spin_unlock_irqrestore", "raw_spin_unlock_bh",
             "raw_read_unlock", "raw_write_unlock", "raw_read_unlock_irq",
             "raw_read_unlock_irqrestore", "raw_write_unlock_irq",
             "raw_write_unlock_irqrestore", "arch_spin_unlock",
             "bit_spin_unlock", "__bit_spin_unlock", "hlist_bl_unlock"],
            ["raw_spinlock", "raw_spinlock_bh", "raw_spinlock_irq",
             "raw_spinlock_irqsave", "raw_spinlock_nested"]),
}
GUARD_FAMILY = {g: fam for fam, (_, _, gs) in PROTECTIONS.items() for g in gs}
# Lockless on purpose: a use in their arguments is a read (xchg(&sd->q,
# NULL), WRITE_ONCE(sd->x, v)).
LOCKLESS = ["xchg", "cmpxchg", "try_cmpxchg", "cmpxchg_local", "READ_ONCE",
            "WRITE_ONCE", "smp_load_acquire", "smp_store_release", "llist_add",
            "llist_add_batch", "llist_del_all", "llist_del_first", "local_inc_return",
            "local_dec_return", "local_add_return", "local_inc", "local_dec", "local_read"]
# A member handed by address to a lock or unlock call is the lock, taken
# (spin_lock(&sk->lock)): a read of the object.  Guards call the class
# constructor (guard(spinlock)(&x->lock)).
TRYLOCKS = ["spin_trylock", "spin_trylock_irq", "spin_trylock_irqsave",
            "spin_trylock_bh", "read_trylock", "write_trylock",
            "raw_spin_trylock", "raw_spin_trylock_irq", "raw_spin_trylock_irqsave",
            "raw_spin_trylock_bh", "bit_spin_trylock", "arch_spin_trylock"]
LOCK_CALLS = set(TRYLOCKS) | set(BH_KEYED_SECTIONS) | set(BH_KEYED_SECTIONS.values()) | {
    n for locks, unlocks, _ in PROTECTIONS.values() for n in locks + unlocks} | {
    "class_%s_constructor" % g for g in BH_GUARDS + list(GUARD_FAMILY)}

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

def reachable_on_rt(p):
    """The call is compiled on RT."""
    return all(int(el.line) not in source(el.file).dead for el in p)

# --- Findings ---------------------------------------------------------------

# (file, line, col) -> [object, api, position] of every per-CPU access.
accesses = {}
# this_cpu_read() into a local: (file, line, col) -> (function, variable,
# object, position); the uses of the pointer are points once the variable
# is known to be a local pointer.
loads = {}
# (file, function, variable) of local pointers (the variables of the loads).
pointer_locals = set()
# Pointer accesses stored in a variable (nc = this_cpu_ptr(&v)): access key
# -> variable; (file, function, variable) of the locals of functions.
stores = {}
local_vars = set()
# Where the variables of loads and stores occur:
# (file, function, variable) -> {(line, col): position}.
occurrences = {}
# (file, name) of the functions the file defines.
defined_functions = set()
atomic_branches = {}	# file: [(start, end)] of branches taken only truly atomic
# Counter updates whose value is not used (__this_cpu_inc(v); as a
# statement), and every per-CPU value read: key -> object as written.
counter_updates = set()
value_reads = {}
# file -> {key: Point}: where per-CPU data is used, what decides.
point_cache = {}
# Points some path reaches on PREEMPT_RT.
live = set()
# (file, line, col) -> [(line, col, what, lock)] of the BH sections some
# path holds at it (lock: of a spin/read/write_lock_bh() section, or None).
candidates = {}
# (file, line, col, family): a path reaches the point outside the
# family's sections; (file, line, col) -> families of guards around it.
escapes = set()
guarded = {}
# (file, function, lock as written) of the local_lock_t a function takes
# or asserts held.
locked = set()
decided = {}
# Lock wrappers PREEMPT_RT leaves empty: file -> {(option, lock expression):
# [(line, column, position, function, lock, releases, atomic)]}.
skipped_locks = {}
# Set by -D per_function (a python name per_function is taken by spatch).
group_by_function = False

def key(el):
    return (el.file, int(el.line), int(el.column))

def arguments(el, group=0):
    """The arguments of the call at el, as written, without a leading &:
    of its first parenthesised group, or of the next (guard(G)(lock))."""
    src = source(el.file)
    line = int(el.line)
    text = "\n".join(src.lines[line - 1:line + 19])
    i = int(el.column) - 1
    for _ in range(group + 1):
        i = text.find("(", i + 1)
        if i < 0:
            return ["?"]
        depth, j, args, start = 0, i + 1, [], i + 1
        while j < len(text):
            c = text[j]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif c == "," and depth == 0:
                args.append(text[start:j])
                start = j + 1
            j += 1
        args.append(text[start:j])
        i = j
    out = []
    for arg in args:
        arg = re.sub(r"/\*.*?\*/", " ", arg, flags=re.S)
        arg = re.sub(r"\s+", " ", arg).strip()
        arg = re.sub(r"\s*([.>\[\]()]|->)\s*", r"\1", arg)
        out.append(arg[1:].strip() if arg.startswith("&") else arg)
    return out

def first_argument(el):
    return arguments(el)[0]

def add_access(p, api):
    for el in p:
        accesses[key(el)] = [first_argument(el), api, el]

def add_load(p, x):
    for el in p:
        loads[key(el)] = (el.current_element, x, first_argument(el), el)

def add_pointer_local(p, x):
    for el in p:
        pointer_locals.add((el.file, el.current_element, x))

def add_store(p, x):
    for el in p:
        stores[key(el)] = x

def add_local_var(p, x):
    for el in p:
        local_vars.add((el.file, el.current_element, x))

def add_occurrence(p, x):
    for el in p:
        occurrences.setdefault((el.file, el.current_element, x), {})[
            (int(el.line), int(el.column))] = el

def add_function(p, f):
    for el in p:
        defined_functions.add((el.file, f))

# Per-CPU nesting claims: "if (local_inc_return(&c->nesting) == 1)" has this
# CPU's data to itself (gen_cookie_next()).
CLAIMS = ("local_inc_return", "this_cpu_inc_return", "atomic_inc_return",
          "atomic_long_inc_return")

# Tests that say the code runs truly atomic where they are true (rtcheck's
# context_tests.def, the exact ones): a branch taken only then is not BH-only.
ATOMIC_TESTS = ("irqs_disabled()", "in_irq()", "in_hardirq()", "in_nmi()", "in_atomic()",
                "preempt_count()", "preempt_count()!=0", "!preemptible()")

def atomic_test(t):
    def strip(s):
        s = s.strip()
        for wrap in ("unlikely(", "likely("):
            if s.startswith(wrap) and s.endswith(")"):
                return strip(s[len(wrap):-1])
        if s.startswith("(") and s.endswith(")"):
            return strip(s[1:-1])
        return s
    t = re.sub(r"\s+", "", t)
    parts = strip(t).split("||")
    if all(strip(x) in ATOMIC_TESTS for x in parts):
        return True
    # A won nesting claim: "local_inc_return(&local->nesting) == 1".
    m = re.match(r"(\w+)\(.*\)==1$", strip(t))
    return bool(m) and m.group(1) in CLAIMS

def add_atomic_branch(p):
    for el in p:
        atomic_branches.setdefault(el.file, []).append(
            ((int(el.line), int(el.column)), (int(el.line_end), int(el.column_end))))

def in_atomic_branch(el):
    at = (int(el.line), int(el.column))
    return any(b <= at <= e for b, e in atomic_branches.get(el.file, []))

def add_counter_update(p):
    for el in p:
        counter_updates.add(key(el))

def add_value_read(p):
    for el in p:
        value_reads[key(el)] = first_argument(el)

# --- Uses of the pointer an access gives ---------------------------------------

C_KEYWORDS = {"if", "while", "for", "switch", "return", "sizeof", "typeof",
              "__typeof__", "_Alignof", "case", "do", "else"}

def unary_before(before):
    """The text before an operator character ends in an operand (then the
    operator is binary) or not."""
    prev = before.rstrip()
    m = re.search(r"(\w+)$", prev)
    return not prev or not re.search(r"[\w)\]]$", prev) or bool(
        m and m.group(1) in C_KEYWORDS)

def use_kind(src, line, col, x):
    """How the occurrence of the variable x at line:col uses the data:
    ("skip", "") when x gets a new value, ("whole", "") when the pointer
    itself goes somewhere, or (kind, member) for a member x->member, kind
    "count" (x->f++, x->f += e, ...), "write" (x->f = e), "address" (&x->f,
    x->f[i]) or "read" (the rest, and x->f->g ...), as rtcheck tells them."""
    off = src.offset(line, col)
    t = src.text
    if t[off:off + len(x)] != x:
        return ("whole", "")
    calls = enclosing_calls(src, off)
    if any(UNEVALUATED_RE.match(c) for c in calls) or SIZEOF_BEFORE_RE.search(
            t[max(0, off - 20):off]):
        return ("skip", "")
    # xchg(&sd->q, NULL), WRITE_ONCE(sd->x, v): lockless on purpose.
    lockless = any(c in LOCKLESS for c in calls)
    rest = t[off + len(x):off + len(x) + 400]
    m = re.match(r"\s*->\s*(\w+)", rest)
    if not m:
        if re.match(r"\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)", rest):
            return ("skip", "")
        # WARN_ON(cpu_t != t), if (!p): the pointer's value, not the data.
        before = t[max(0, off - 80):off].rstrip()
        if rest.lstrip()[:2] in COMPARISONS or before[-2:] in COMPARISONS or \
                (before.endswith("!") and not before.endswith("!=")):
            return ("read", "")
        return ("read" if lockless else "whole", "")
    member, j = m.group(1), m.end()
    if lockless:
        return ("read", member)
    while True:
        n = re.match(r"\s*\.\s*\w+", rest[j:])
        if not n:
            break
        j += n.end()
    after = rest[j:]
    before = t[max(0, off - 80):off].rstrip()
    if re.match(r"\s*->", after):
        return ("read", member)   # through a pointer member: x->f->g
    if before.endswith("*") and unary_before(before[:-1]):
        return ("read", member)   # *x->f: what the member points to
    if re.match(r"\s*(?:\+\+|--|\+=|-=)", after):
        return ("count", member)
    if re.match(r"\s*(?:[*/%&|^]|<<|>>)?=(?!=)", after):
        return ("write", member)
    if re.match(r"\s*\[", after):
        if stored_away(t, before, off + len(x) + j + close_bracket(after)):
            return ("read", member)
        return ("address", member)
    if before.endswith("++") or before.endswith("--"):
        return ("count", member)
    if before.endswith("&") and not before.endswith("&&") and unary_before(before[:-1]):
        # list_empty(&sd->poll_list) only looks; spin_lock(&sk->lock) takes
        # the lock that protects the rest.
        amp = off - 1
        while t[amp] in " \t\n":
            amp -= 1
        callee = called_with(src, amp, off + len(x) + j)
        if callee in PEEKS or callee in LOCK_CALLS:
            return ("read", member)
        if stored_away(t, before, off + len(x) + j):
            return ("read", member)
        return ("address", member)
    return ("read", member)

def close_bracket(after):
    """The length of after up to the end of the subscript it starts with."""
    depth = 0
    for i, c in enumerate(after):
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if not depth:
                return i + 1
    return 0

STORED_TO_RE = re.compile(r"(?:(?:->|\.)\s*\w+|\*\s*[\w()\s*]+)\s*=\s*&$")

def stored_away(t, before, end):
    """timer->base = &cpu_base->clock_base[i]; the address is stored in
    another object (a member or through a pointer), not used here."""
    return bool(STORED_TO_RE.search(before)) and re.match(r"\s*;", t[end:end + 20]) is not None

# Operators that compare the pointer's value (two characters of the text).
COMPARISONS = ("==", "!=")

UNEVALUATED_RE = re.compile(r"(?:sizeof|typeof|__typeof__|__typeof|_Alignof|__alignof__)$")
SIZEOF_BEFORE_RE = re.compile(r"\bsizeof\s*\**\s*$")
GUARD_CALL_RE = re.compile(r"\bguard\s*\(\s*(\w+)\s*\)\s*$")

def callee_before(t, i):
    """The function called by the parenthesis at t[i]: NAME(, or the class
    constructor of guard(NAME)( and scoped_guard(NAME, ...)."""
    before = t[max(0, i - 80):i]
    m = GUARD_CALL_RE.search(before)
    if m:
        return "class_%s_constructor" % m.group(1)
    m = re.search(r"(\w+)\s*$", before)
    if not m:
        return None
    if m.group(1) == "scoped_guard":
        g = re.match(r"\(\s*(\w+)", t[i:i + 80])
        return "class_%s_constructor" % g.group(1) if g else None
    return m.group(1)

def enclosing_calls(src, off):
    """The names before the parentheses that enclose the text at off, within
    its statement, innermost first (sizeof, WRITE_ONCE, a function)."""
    t = src.text
    out, depth, i = [], 0, off - 1
    while i >= 0:
        c = t[i]
        if c in ")]":
            depth += 1
        elif c in "([":
            if depth:
                depth -= 1
            elif c == "(":
                name = callee_before(t, i)
                if name:
                    out.append(name)
        elif c in ";{}" and not depth:
            break
        i -= 1
    return out

def call_end(t, start):
    """Where the call whose name starts at start ends (after its ')')."""
    i = t.find("(", start)
    depth = 0
    while 0 <= i < len(t):
        if t[i] == "(":
            depth += 1
        elif t[i] == ")":
            depth -= 1
            if not depth:
                return i + 1
        i += 1
    return start

def called_with(src, start, end):
    """The function whose direct argument src.text[start:end] is, or None."""
    t = src.text
    i = start - 1
    while i >= 0 and t[i] in " \t\n":
        i -= 1
    j = end
    while j < len(t) and t[j] in " \t\n":
        j += 1
    if i < 0 or t[i] not in "(," or j >= len(t) or t[j] not in "),":
        return None
    depth = 0
    while i >= 0:
        c = t[i]
        if c in ")]}":
            depth += 1
        elif c in "([{":
            if depth == 0:
                break
            depth -= 1
        elif c == ";":
            return None
        i -= 1
    if i < 0 or t[i] != "(":
        return None
    name = callee_before(t, i)
    return name if name not in C_KEYWORDS else None

# --- Objects --------------------------------------------------------------------

PERCPU_DEF_RE = re.compile(
    r"\b(?:DEFINE|DECLARE)_PER_CPU\w*\s*\(\s*([^,()]+?)\s*,\s*(\w+)\s*[,)]")

def fields_are_objects(fname, var):
    """The per-CPU variable is a struct that a header defines (softnet_data
    of netdevice.h): its fields are separate objects, as rtcheck counts them.
    A variable the file does not define is declared in a header, with its
    type; a pointer, an array, a struct or typedef of the file is one object."""
    if not re.match(r"\w+$", var or ""):
        return False
    src = source(fname)
    if not hasattr(src, "percpu_types"):
        src.percpu_types = {m.group(2): m.group(1) for m in PERCPU_DEF_RE.finditer(src.text)}
    t = src.percpu_types.get(var)
    if t is None:
        return True
    if "*" in t or "[" in t:
        return False
    m = re.match(r"(struct|union)\s+(\w+)$", t)
    if m:
        return not re.search(r"\b%s\s+%s\s*\{" % (m.group(1), m.group(2)), src.text)
    return not re.search(r"\}\s*%s\s*;" % re.escape(t), src.text)

def object_key(obj):
    """The per-CPU variable of an access ("napi_alloc_cache.page" ->
    "napi_alloc_cache") or, through a pointer, the member ("pool->cache" ->
    "->cache"): what its local_lock_t covers."""
    s = re.sub(r"[\s()]", "", obj)
    if s.startswith("&"):
        s = s[1:]
    if "->" in s:
        return "->" + re.match(r"\w*", s[s.rindex("->") + 2:]).group(0)
    return re.match(r"\w*", s).group(0)

def field_object(obj):
    """A header struct's field as written: "softnet_data.xmit.recursion" ->
    "softnet_data.xmit"."""
    s = re.sub(r"[\s()&]", "", obj)
    m = re.match(r"\w+(?:\.\w+)?", s)
    return m.group(0) if m else object_key(obj)

class Point:
    """A place per-CPU data is used: an access, or a use of the pointer an
    access stored in a local (sd->completion_queue after sd =
    this_cpu_ptr(&softnet_data)); its context decides, as in rtcheck."""
    def __init__(self, fname, access, access_el, el, kind, obj, member, local, load):
        self.access, self.access_el, self.el = access, access_el, el
        self.kind, self.obj, self.local, self.load = kind, obj, local, load
        self.fn = el.current_element
        self.base = object_key(obj)
        # The field of a header struct used: the member through the pointer,
        # or the one the accessor names (__this_cpu_read(softnet_data.processed)).
        self.field = ""
        if not load and fields_are_objects(fname, self.base):
            self.field = member if access != key(el) else field_object(obj)[len(self.base) + 1:]

def object_of(pt, containers):
    """What findings are grouped by: the variable, or a field of a container."""
    if pt.field and pt.base in containers:
        return pt.base + "." + pt.field
    return pt.base

def access_kind(k, api):
    if api in PTR_ACCESSES or api in CPU_ACCESSES:
        return "whole"
    if api in COUNTER_UPDATES and k in counter_updates:
        return "count"
    return "update"

def file_points(fname):
    """{key: Point} of the file, as rtcheck finds them: each access, or, for
    an access whose pointer is stored in a local, each use of the local up
    to the next access stored to it; the access itself when there is none.
    A pointer handed whole to a function of the file is left to that
    function, and so is a header struct the file uses field by field
    (softnet_data) handed whole to any function."""
    if fname in point_cache:
        return point_cache[fname]
    src = source(fname)
    points, stored = {}, {}
    for k, (obj, api, el) in accesses.items():
        if k[0] != fname:
            continue
        x = stores.get(k)
        if x and (api in PTR_ACCESSES or api in CPU_ACCESSES) and \
           (fname, el.current_element, x) in local_vars:
            stored.setdefault((el.current_element, x), []).append((k, obj, el, False))
        else:
            # this_cpu_ptr(&x) handed straight to a function of the file.
            start = src.offset(int(el.line), int(el.column))
            end = call_end(src.text, start)
            # this_cpu_ptr(ma->caches)->cache + idx: a part of the object of this CPU.
            part = re.match(r"\s*->\s*\w+\s*[-+]\s*\w+", src.text[end:end + 120])
            callee = called_with(src, start, end) or (
                part and called_with(src, start, end + part.end()))
            if api in PTR_ACCESSES and (fname, callee) in defined_functions:
                continue
            if in_atomic_branch(el):
                continue
            points[k] = Point(fname, k, el, el, access_kind(k, api), obj, "", None, False)
    for k, (fn, x, obj, el) in loads.items():
        if k[0] == fname and (fname, fn, x) in pointer_locals:
            stored.setdefault((fn, x), []).append((k, obj, el, True))
    owned = {}
    for (fn, x), accs in stored.items():
        accs.sort()
        for k, obj, el, load in accs:
            owned[k] = []
        for (line, col), uel in sorted(occurrences.get((fname, fn, x), {}).items()):
            owner = [a for a in accs if a[0][1:] < (line, col)]
            if not owner:
                continue
            kind, member = use_kind(src, line, col, x)
            if kind != "skip":
                owned[owner[-1][0]].append((uel, kind, member))
    # Header structs used field by field: handed whole, they are left to the
    # callee.
    passed = set()
    for accs in stored.values():
        for k, obj, el, load in accs:
            base = object_key(obj)
            if not load and fields_are_objects(fname, base) and (
                    field_object(obj) != base or any(u[2] for u in owned[k])):
                passed.add(base)
    for (fn, x), accs in stored.items():
        for k, obj, el, load in accs:
            if not owned[k]:
                # A this_cpu_read() into a local never used is no access.
                if not load and not in_atomic_branch(el):
                    points[k] = Point(fname, k, el, el, "whole", obj, "", x, False)
                continue
            for uel, kind, member in owned[k]:
                if kind == "whole":
                    off = src.offset(int(uel.line), int(uel.column))
                    callee = called_with(src, off, off + len(x))
                    if (fname, callee) in defined_functions or (
                            callee and object_key(obj) in passed):
                        continue
                if not in_atomic_branch(uel):
                    points[key(uel)] = Point(fname, k, el, uel, kind, obj, member, x, load)
    point_cache[fname] = points
    return points

def is_point(p):
    return all(key(el) in file_points(el.file) for el in p)

# The functions with points, and with candidates: the only ones the rules
# that follow paths to a point need to look at.
scanned = {}

def current_points():
    files = {k[0] for k in accesses} | {k[0] for k in loads}
    return [(k, pt) for f in files for k, pt in file_points(f).items()]

def has_points(fn):
    if "points" not in scanned:
        scanned["points"] = {pt.fn for k, pt in current_points()}
    return fn in scanned["points"]

def has_candidates(fn):
    if "candidates" not in scanned:
        scanned["candidates"] = {pt.fn for k, pt in current_points()
                                 if k in candidates and k in live}
    return fn in scanned["candidates"]

def is_candidate(p):
    return all(key(el) in candidates and key(el) in live for el in p)

def add_live(p):
    for el in p:
        live.add(key(el))

def add_candidate(p, p0, what, keyed=False):
    """A BH section some path holds at the point; keyed: the lock of a
    spin/read/write_lock_bh() section (what serialises the object if it is
    held at every point of the file)."""
    el0 = p0[0]
    lock = re.sub(r"\s", "", first_argument(el0)) if keyed else None
    for el in p:
        candidates.setdefault(key(el), []).append(
            (int(el0.line), int(el0.column), what, lock))

def add_escape(p, family):
    for el in p:
        escapes.add(key(el) + (family,))

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

def add_guard(p, p0, g, scoped):
    """guard(g)(...) before the point in its block, or scoped_guard(g, ...)
    around it (the SmPL rule matched the body)."""
    el0 = p0[0]
    for el in p:
        if not scoped:
            src = source(el.file)
            if not in_guard_scope(src, src.offset(int(el0.line), int(el0.column)),
                                  src.offset(int(el.line), int(el.column))):
                continue
        if g in BH_GUARDS:
            what = "%s(%s)" % ("scoped_guard" if scoped else "guard", g)
            args = arguments(el0, 0 if scoped else 1)
            lock = args[1] if scoped and len(args) > 1 else args[0]
            candidates.setdefault(key(el), []).append(
                (int(el0.line), int(el0.column), what, re.sub(r"\s", "", lock)))
        elif g in GUARD_FAMILY:
            guarded.setdefault(key(el), set()).add(GUARD_FAMILY[g])

def protected(k):
    if guarded.get(k):
        return True
    return any(k + (fam,) not in escapes for fam in PROTECTIONS)

def add_local_lock(p, lock_arg):
    """The function takes a local_lock_t (napi_alloc_cache.bh_lock,
    nc->bh_lock), or asserts it held."""
    for el in p:
        locked.add((el.file, el.current_element, re.sub(r"\s", "", lock_arg)))

def locked_objects(fname, points):
    """(function, object) of the local_lock_t taken or asserted: the
    variable or member it is in, or, through a local that an access of the
    function stored (srh_state->bh_lock), the object of that access."""
    out = set()
    for f, fn, lock in locked:
        if f != fname:
            continue
        root = re.match(r"[&(]*(\w*)", lock).group(1)
        obj = object_key(lock)
        for pt in points.values():
            if pt.fn == fn and pt.local and pt.local == root:
                obj = pt.base
        out.add((fn, obj))
    return out

def containers_of(points):
    """Header structs some of whose fields the file serialises otherwise (a
    lock, irqs off): their fields are separate objects, reported at their
    use (softnet_data: completion_queue with irqs off, process_queue with
    only BH off), as rtcheck counts them."""
    return {pt.base for k, pt in points.items()
            if pt.field and k in live and protected(k)}

def common_bh_locks(points, containers):
    """Per object, the spin/read/write_lock_bh() locks held at every point
    of the file: they serialise it (rtcheck does the same)."""
    common = {}
    for k, pt in points.items():
        if k not in live:
            continue
        held = {c[3] for c in candidates.get(k, ()) if c[3]}
        o = object_of(pt, containers)
        common[o] = held if o not in common else common[o] & held
    return common

def read_objects(fname, containers):
    """The objects whose value the file reads (this_cpu_read(v),
    __this_cpu_read(v.f) ...): their counters are not blind statistics."""
    out = set()
    for k, obj in value_reads.items():
        if k[0] == fname:
            base, field = object_key(obj), field_object(obj)
            out.add(field if base in containers and field != base else base)
    return out

def matters(pt, read_back):
    """A finding by itself: not a blind counter update (x->f++,
    __this_cpu_inc(v)) of data nothing reads back, nor a member only read;
    for the object a per-CPU slot points to (ctl_sk = this_cpu_read(
    ipv4_tcp_sk)), a change through the pointer, not the pointer handed on
    (a refcounted route cached per CPU)."""
    if pt.kind == "count":
        return read_back
    if pt.load:
        return pt.kind in ("write", "address")
    return pt.kind != "read"

def decide(fname):
    """[(line, column, position, message)]: one per object of the file, at
    its first point (as rtcheck reports it), the others listed; with
    -D per_function, one per object and function."""
    if fname in decided:
        return decided[fname]
    points = file_points(fname)
    containers = containers_of(points)
    common = common_bh_locks(points, containers)
    locks = locked_objects(fname, points)
    groups = {}
    for k, pt in points.items():
        if k not in candidates or k not in live or protected(k):
            continue
        if (pt.fn, pt.base) in locks:
            continue
        o = object_of(pt, containers)
        if any(c[3] in common.get(o, ()) for c in candidates[k]):
            continue
        bh = min(candidates[k], key=lambda c: c[:2])
        # spin_lock_bh(&ul->lock), ul = raw_cpu_ptr(&rt_uncached_list): the
        # object carries the lock that serialises it.
        if bh[3] and pt.local and re.match(r"[&(]*(\w*)", bh[3]).group(1) == pt.local:
            continue
        # A field of a container is found at its use, the rest at the access.
        at, at_el, name = pt.access[1:], pt.access_el, pt.obj
        if o != pt.base:
            at, at_el, name = k[1:], pt.el, o
        group = (pt.fn, o) if group_by_function else o
        groups.setdefault(group, []).append((at, k[1:], pt, bh, o, at_el, name))
    # A member read with only BH off makes its counters matter; an object
    # matters when one of its points does (in any function).
    hits_of = [h for hits in groups.values() for h in hits]
    read_back = read_objects(fname, containers) | {
        h[4] for h in hits_of if h[2].kind == "read"}
    mattering = {h[4] for h in hits_of if matters(h[2], h[4] in read_back)}
    found = []
    for hits in groups.values():
        if hits[0][4] not in mattering:
            continue
        hits.sort(key=lambda h: h[:2])
        (line, col), _, pt, (l0, c0, what, _), o, at_el, name = hits[0]
        fn = pt.fn
        if "(" not in what:
            what += "()"
        more = []
        for h in hits[1:]:
            if h[0][0] != line and (h[0][0], h[2].fn) not in more:
                more.append((h[0][0], h[2].fn))
        also = "".join("; also at line %d%s" % (l, "" if f == fn else " in %s()" % f)
                       for l, f in more)
        msg = ("WARNING: per-CPU %s is accessed with only BH disabled by %s: "
               "on PREEMPT_RT softirq code is preemptible and disabling BH "
               "only takes a per-CPU lock that upstream is removing, so this "
               "data needs a local_lock_t taken with local_lock_nested_bh() "
               "(in %s(), BH disabled at line %d%s)"
               % (name, what, fn, l0, also))
        found.append((line, col, at_el, msg))
    found += skipped_lock_reports(fname)
    found.sort(key=lambda f: f[:2])
    decided[fname] = found
    return found

RELEASES = set(PROTECTIONS["lock"][1] + PROTECTIONS["raw"][1])

def add_skipped_lock(el, fn, opt, lock, expr, atomic):
    key = (opt, re.sub(r"\s+", "", expr))
    skipped_locks.setdefault(el.file, {}).setdefault(key, []).append(
        (int(el.line), int(el.column), el, fn, lock, lock in RELEASES, atomic))

def skipped_lock_reports(fname):
    """[(line, column, position, message)]: one per option and lock."""
    found = []
    for (opt, expr), sites in skipped_locks.get(fname, {}).items():
        sites = sorted(set(sites), key=lambda s: s[:2])
        line, col, el, fn, lock, releases, atomic = sites[0]
        also = "".join("; also at line %d in %s()" % (s[0], s[3]) for s in sites[1:])
        msg = ("WARNING: on PREEMPT_RT without %s, %s() serialises nothing: it %s the "
               "lock (%s(%s)) only with %s and %s() is skipped on PREEMPT_RT, so what %s "
               "guards is serialised only by disabled BH; take the lock on PREEMPT_RT "
               "too (IS_ENABLED(%s) || IS_ENABLED(CONFIG_PREEMPT_RT))%s"
               % (opt, fn, "releases" if releases else "takes", lock, expr, opt,
                  atomic, expr.lstrip("&"), opt, also))
        found.append((line, col, el, msg))
    return found

def is_reported(p):
    return any((int(el.line), int(el.column)) in
               {(l, c) for l, c, _, _ in decide(el.file)} for el in p)

def org_report(pos, msg):
    coccilib.org.print_todo(pos, msg.replace("[", "@(").replace("]", ")"))

def report_all(printer):
    for fname in cocci.files():
        for _, _, el, msg in decide(fname):
            printer(el, msg)
    clear_state()

def clear_state():
    for d in (accesses, loads, pointer_locals, stores, local_vars, occurrences,
              defined_functions, counter_updates, value_reads, point_cache, scanned,
              live, candidates, escapes, guarded, locked, decided, sources, skipped_locks):
        d.clear()

@script:python depends on per_function@
@@

group_by_function = True

// --- Per-CPU accesses -------------------------------------------------------

@acc_ptr depends on context || org || report@
identifier op = {this_cpu_ptr, raw_cpu_ptr};
expression E;
position p : script:python() { reachable_on_rt(p) };
@@

op@p(E)

@script:python depends on context || org || report@
p << acc_ptr.p;
op << acc_ptr.op;
@@

add_access(p, op)

@acc_cpu depends on context || org || report@
identifier op = {per_cpu_ptr, per_cpu};
identifier cpu = {smp_processor_id, raw_smp_processor_id};
expression E;
position p : script:python() { reachable_on_rt(p) };
@@

op@p(E, cpu())

@script:python depends on context || org || report@
p << acc_cpu.p;
op << acc_cpu.op;
@@

add_access(p, op)

@acc_op depends on context || org || report@
identifier op = {__this_cpu_read, __this_cpu_write, __this_cpu_add,
		__this_cpu_sub, __this_cpu_inc, __this_cpu_dec, __this_cpu_and,
		__this_cpu_or, __this_cpu_xchg, __this_cpu_cmpxchg,
		__this_cpu_add_return, __this_cpu_sub_return,
		__this_cpu_inc_return, __this_cpu_dec_return, raw_cpu_read,
		raw_cpu_write, raw_cpu_add, raw_cpu_sub, raw_cpu_inc,
		raw_cpu_dec, raw_cpu_and, raw_cpu_or, raw_cpu_xchg,
		raw_cpu_cmpxchg, raw_cpu_add_return, raw_cpu_sub_return,
		raw_cpu_inc_return, raw_cpu_dec_return};
expression E;
position p : script:python() { reachable_on_rt(p) };
@@

op@p(E, ...)

@script:python depends on context || org || report@
p << acc_op.p;
op << acc_op.op;
@@

add_access(p, op)

// Counter updates whose value is not used: __this_cpu_inc(v); ...
@counter_update depends on context || org || report@
identifier op = {__this_cpu_inc, __this_cpu_dec, __this_cpu_add,
		__this_cpu_sub, raw_cpu_inc, raw_cpu_dec, raw_cpu_add,
		raw_cpu_sub};
expression list es;
position p : script:python() { reachable_on_rt(p) };
@@

op@p(es);

@script:python depends on context || org || report@
p << counter_update.p;
@@

add_counter_update(p)

// Reads of a per-CPU value: the counters of what the file reads back are
// not blind statistics.
@value_read depends on context || org || report@
identifier op = {this_cpu_read, __this_cpu_read, raw_cpu_read};
expression E;
position p : script:python() { reachable_on_rt(p) };
@@

op@p(E)

@script:python depends on context || org || report@
p << value_read.p;
@@

add_value_read(p)

// this_cpu_read() of a pointer into a local: its uses are the points.
@load depends on context || org || report@
identifier fn, x;
identifier op = {this_cpu_read};
expression E;
position p : script:python() { reachable_on_rt(p) };
@@

fn(...) {
  <+...
  x = op@p(E)
  ...+>
}

@script:python depends on context || org || report@
p << load.p;
x << load.x;
@@

add_load(p, x)

@load_decl depends on context || org || report@
identifier fn, x;
identifier op = {this_cpu_read};
type T;
expression E;
position p : script:python() { reachable_on_rt(p) };
@@

fn(...) {
  ... when any
  T *x = op@p(E);
  ... when any
}

@script:python depends on context || org || report@
p << load_decl.p;
x << load_decl.x;
@@

add_load(p, x)
add_pointer_local(p, x)

@pointer_local depends on context || org || report@
identifier load.fn, load.x;
type T;
expression E;
position pd;
@@

fn(...) {
  ... when any
(
  T *x@pd;
|
  T *x@pd = E;
)
  ... when any
}

@script:python depends on context || org || report@
pd << pointer_local.pd;
x << load.x;
@@

add_pointer_local(pd, x)

@used_load depends on context || org || report@
identifier load.x;
position px : script:python() { reachable_on_rt(px) };
@@

x@px

@script:python depends on context || org || report@
px << used_load.px;
x << load.x;
@@

add_occurrence(px, x)

@used_load_decl depends on context || org || report@
identifier load_decl.x;
position px : script:python() { reachable_on_rt(px) };
@@

x@px

@script:python depends on context || org || report@
px << used_load_decl.px;
x << load_decl.x;
@@

add_occurrence(px, x)

// The pointer of an access stored in a local (sd = this_cpu_ptr(
// &softnet_data), also as the initialiser of a declaration): its uses are
// the points.
@store depends on context || org || report@
identifier fn, x;
identifier op = {this_cpu_ptr, raw_cpu_ptr, per_cpu_ptr, per_cpu};
expression list es;
type T;
expression E;
identifier f;
position p : script:python() { key(p[0]) in accesses };
@@

fn(...) {
  <+...
(
  x = op@p(es)
|
  x = (T *)op@p(es)
|
  x = &op@p(es)[E]
|
  x = &op@p(es)->f
)
  ...+>
}

@script:python depends on context || org || report@
p << store.p;
x << store.x;
@@

add_store(p, x)

@store_local depends on context || org || report exists@
identifier store.fn, store.x;
type T;
expression E;
position pd;
@@

fn(...) {
  ... when any
(
  T x@pd;
|
  T x@pd = E;
)
  ... when any
}

@script:python depends on context || org || report@
pd << store_local.pd;
x << store.x;
@@

add_local_var(pd, x)

@used_store depends on context || org || report@
identifier store.x;
position px : script:python() { reachable_on_rt(px) };
@@

x@px

@script:python depends on context || org || report@
px << used_store.px;
x << store.x;
@@

add_occurrence(px, x)

// Branches taken only in truly atomic context: "if (preempt_count() != 0 ||
// irqs_disabled()) { ... }" (bpf_send_signal_common()), or by the winner of
// a per-CPU nesting claim (gen_cookie_next()).
@atomic_branch depends on context || org || report@
expression T : script:python() { atomic_test(T) };
statement S, S2;
position p;
@@

(
if (T) S@p else S2
|
if (T) S@p
)

@script:python depends on context || org || report@
p << atomic_branch.p;
@@

add_atomic_branch(p)

// The functions of the file: a pointer handed to one is left to it.
@defined depends on context || org || report@
identifier f;
position p;
@@

f@p(...) { ... }

@script:python depends on context || org || report@
p << defined.p;
f << defined.f;
@@

add_function(p, f)

// Points a PREEMPT_RT kernel reaches.
@reached depends on context || org || report exists@
identifier fn : script:python() { has_points(fn) };
identifier x;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_point(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << reached.p;
@@

add_live(p)

// --- BH-disabled sections ---------------------------------------------------

// local_bh_disable() ... local_bh_enable()
@bh_local_bh_disable depends on context || org || report exists@
identifier fn : script:python() { has_points(fn) };
identifier x;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_point(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  local_bh_disable@p0()
  ... when != local_bh_enable()
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p0 << bh_local_bh_disable.p0;
p << bh_local_bh_disable.p;
@@

add_candidate(p, p0, "local_bh_disable")

// rcu_read_lock_bh() ... rcu_read_unlock_bh()
@bh_rcu_read_lock_bh depends on context || org || report exists@
identifier fn : script:python() { has_points(fn) };
identifier x;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_point(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  rcu_read_lock_bh@p0()
  ... when != rcu_read_unlock_bh()
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p0 << bh_rcu_read_lock_bh.p0;
p << bh_rcu_read_lock_bh.p;
@@

add_candidate(p, p0, "rcu_read_lock_bh")

// spin_lock_bh(L) ... spin_unlock_bh(L)
@bh_spin_lock_bh depends on context || org || report exists@
identifier fn : script:python() { has_points(fn) };
identifier x;
expression L;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_point(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  spin_lock_bh@p0(L)
  ... when != spin_unlock_bh(L)
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p0 << bh_spin_lock_bh.p0;
p << bh_spin_lock_bh.p;
@@

add_candidate(p, p0, "spin_lock_bh", True)

// read_lock_bh(L) ... read_unlock_bh(L)
@bh_read_lock_bh depends on context || org || report exists@
identifier fn : script:python() { has_points(fn) };
identifier x;
expression L;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_point(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  read_lock_bh@p0(L)
  ... when != read_unlock_bh(L)
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p0 << bh_read_lock_bh.p0;
p << bh_read_lock_bh.p;
@@

add_candidate(p, p0, "read_lock_bh", True)

// write_lock_bh(L) ... write_unlock_bh(L)
@bh_write_lock_bh depends on context || org || report exists@
identifier fn : script:python() { has_points(fn) };
identifier x;
expression L;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_point(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  write_lock_bh@p0(L)
  ... when != write_unlock_bh(L)
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p0 << bh_write_lock_bh.p0;
p << bh_write_lock_bh.p;
@@

add_candidate(p, p0, "write_lock_bh", True)

// --- Guards: BH sections and protections -------------------------------------

// guard(G)(...): to the end of the enclosing block (add_guard checks it).
@guarded_by depends on context || org || report exists@
identifier fn : script:python() { has_points(fn) };
identifier x;
identifier G = {spinlock_bh, local_lock, local_lock_irq, local_lock_irqsave,
		local_lock_nested_bh, preempt, preempt_notrace, irq, irqsave,
		spinlock, spinlock_irq, spinlock_irqsave, read_lock,
		read_lock_irq, read_lock_irqsave, write_lock, write_lock_irq,
		write_lock_irqsave, mutex, rwsem_read, rwsem_write,
		raw_spinlock, raw_spinlock_bh, raw_spinlock_irq,
		raw_spinlock_irqsave, raw_spinlock_nested};
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_point(p) };
@@

fn(...) {
  ... when any
  guard@p0(G)(...);
  ... when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p0 << guarded_by.p0;
p << guarded_by.p;
G << guarded_by.G;
@@

add_guard(p, p0, G, False)

// scoped_guard(G, ...) { ... } and scoped_guard(G, ...) statement;
@scoped_by depends on context || org || report@
iterator name scoped_guard;
identifier x;
identifier G = {spinlock_bh, local_lock, local_lock_irq, local_lock_irqsave,
		local_lock_nested_bh, preempt, preempt_notrace, irq, irqsave,
		spinlock, spinlock_irq, spinlock_irqsave, read_lock,
		read_lock_irq, read_lock_irqsave, write_lock, write_lock_irq,
		write_lock_irqsave, mutex, rwsem_read, rwsem_write,
		raw_spinlock, raw_spinlock_bh, raw_spinlock_irq,
		raw_spinlock_irqsave, raw_spinlock_nested};
expression list es;
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_point(p) };
@@

scoped_guard@p0(G, es) { <+... x@p ...+> }

@script:python depends on context || org || report@
p0 << scoped_by.p0;
p << scoped_by.p;
G << scoped_by.G;
@@

add_guard(p, p0, G, True)

// A function that takes the local_lock_t of an object serialises its
// accesses there, the pointer taken before the lock or after (rtcheck's
// rule does the same).
@local_lock_taken depends on context || org || report@
identifier lock = {local_lock, local_lock_irq, local_lock_irqsave,
		local_lock_nested_bh};
identifier G = {local_lock, local_lock_irq, local_lock_irqsave,
		local_lock_nested_bh};
expression L;
position p : script:python() { reachable_on_rt(p) };
@@

(
  lock@p(L, ...)
|
  guard@p(G)(L)
)

@script:python depends on context || org || report@
p << local_lock_taken.p;
L << local_lock_taken.L;
@@

add_local_lock(p, L)

@local_lock_scoped depends on context || org || report@
iterator name scoped_guard;
identifier G = {local_lock, local_lock_irq, local_lock_irqsave,
		local_lock_nested_bh};
expression L;
statement S;
position p : script:python() { reachable_on_rt(p) };
@@

scoped_guard@p(G, L) S

@script:python depends on context || org || report@
p << local_lock_scoped.p;
L << local_lock_scoped.L;
@@

add_local_lock(p, L)

// lockdep_assert_held(&srh_state->bh_lock): the caller took it.
@lock_held depends on context || org || report@
identifier held = {lockdep_assert_held, lockdep_assert_held_once};
expression L;
position p : script:python() { reachable_on_rt(p) };
@@

held@p(L)

@script:python depends on context || org || report@
p << lock_held.p;
L << lock_held.L;
@@

add_local_lock(p, L)

// --- Protections: a path that reaches the access outside them ----------------

// local: local_lock() ... local_unlock() and the rest of PROTECTIONS["local"]
@e1_local depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {local_lock, local_lock_irq, local_lock_irqsave,
		local_lock_nested_bh};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e1_local.p;
@@

add_escape(p, "local")

@e2_local depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {local_lock, local_lock_irq, local_lock_irqsave,
		local_lock_nested_bh};
identifier unlock = {local_unlock, local_unlock_irq, local_unlock_irqrestore,
		local_unlock_nested_bh};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
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
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e2_local.p;
@@

add_escape(p, "local")

// preempt: preempt_disable() ... preempt_enable() and the rest of PROTECTIONS["preempt"]
@e1_preempt depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu, get_cpu_ptr,
		get_cpu_var};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e1_preempt.p;
@@

add_escape(p, "preempt")

@e2_preempt depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu, get_cpu_ptr,
		get_cpu_var};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched, preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
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
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e2_preempt.p;
@@

add_escape(p, "preempt")

// irq: local_irq_disable() ... local_irq_enable() and the rest of PROTECTIONS["irq"]
@e1_irq depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e1_irq.p;
@@

add_escape(p, "irq")

@e2_irq depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable};
identifier unlock = {local_irq_enable, local_irq_restore, raw_local_irq_enable,
		raw_local_irq_restore};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
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
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e2_irq.p;
@@

add_escape(p, "irq")

// lock: spin_lock() ... spin_unlock() and the rest of PROTECTIONS["lock"]
@e1_lock depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {spin_lock, spin_lock_nested, spin_lock_nest_lock,
		spin_lock_irq, spin_lock_irqsave, spin_lock_irqsave_nested,
		read_lock, read_lock_irq, read_lock_irqsave, write_lock,
		write_lock_irq, write_lock_irqsave};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e1_lock.p;
@@

add_escape(p, "lock")

@e2_lock depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {spin_lock, spin_lock_nested, spin_lock_nest_lock,
		spin_lock_irq, spin_lock_irqsave, spin_lock_irqsave_nested,
		read_lock, read_lock_irq, read_lock_irqsave, write_lock,
		write_lock_irq, write_lock_irqsave};
identifier unlock = {spin_unlock, spin_unlock_irq, spin_unlock_irqrestore,
		read_unlock, read_unlock_irq, read_unlock_irqrestore,
		write_unlock, write_unlock_irq, write_unlock_irqrestore};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
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
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e2_lock.p;
@@

add_escape(p, "lock")

// sleeping: mutex_lock() ... mutex_unlock() and the rest of PROTECTIONS["sleeping"]
@e1_sleeping depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {mutex_lock, mutex_lock_nested, mutex_lock_interruptible,
		mutex_lock_killable, mutex_lock_io, down_read,
		down_read_killable, down_read_interruptible, down_write,
		down_write_killable, down, down_interruptible, mmap_read_lock,
		mmap_write_lock};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e1_sleeping.p;
@@

add_escape(p, "sleeping")

@e2_sleeping depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {mutex_lock, mutex_lock_nested, mutex_lock_interruptible,
		mutex_lock_killable, mutex_lock_io, down_read,
		down_read_killable, down_read_interruptible, down_write,
		down_write_killable, down, down_interruptible, mmap_read_lock,
		mmap_write_lock};
identifier unlock = {mutex_unlock, up_read, up_write, up, mmap_read_unlock,
		mmap_write_unlock};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
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
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e2_sleeping.p;
@@

add_escape(p, "sleeping")

// raw: raw_spin_lock() ... raw_spin_unlock() and the rest of PROTECTIONS["raw"]
@e1_raw depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {raw_spin_lock, raw_spin_lock_nested, raw_spin_lock_nest_lock,
		raw_spin_lock_irq, raw_spin_lock_irqsave,
		raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock,
		raw_write_lock, raw_read_lock_irq, raw_read_lock_irqsave,
		raw_write_lock_irq, raw_write_lock_irqsave, arch_spin_lock, bit_spin_lock, hlist_bl_lock};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e1_raw.p;
@@

add_escape(p, "raw")

@e2_raw depends on context || org || report exists@
identifier fn : script:python() { has_candidates(fn) };
identifier x;
identifier lock = {raw_spin_lock, raw_spin_lock_nested, raw_spin_lock_nest_lock,
		raw_spin_lock_irq, raw_spin_lock_irqsave,
		raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock,
		raw_write_lock, raw_read_lock_irq, raw_read_lock_irqsave,
		raw_write_lock_irq, raw_write_lock_irqsave, arch_spin_lock, bit_spin_lock, hlist_bl_lock};
identifier unlock = {raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_write_unlock, raw_read_unlock_irq,
		raw_read_unlock_irqrestore, raw_write_unlock_irq,
		raw_write_unlock_irqrestore, arch_spin_unlock,
		bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
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
  x@p
  ... when any
}

@script:python depends on context || org || report@
p << e2_raw.p;
@@

add_escape(p, "raw")

// --- Lock wrappers PREEMPT_RT leaves empty ----------------------------------
// rps_lock_irqsave() of Linux 6.1: "if (IS_ENABLED(CONFIG_RPS)) spin_lock_irqsave(
// ...); else if (!IS_ENABLED(CONFIG_PREEMPT_RT)) local_irq_save(...);" takes
// nothing on PREEMPT_RT without CONFIG_RPS.  One report per option and lock
// expression, at its first wrapper (lock and unlock wrappers together).

@skipped_lock depends on context || org || report@
identifier fn;
identifier opt =~ "^CONFIG_";
identifier lock = {spin_lock, spin_lock_nested, spin_lock_nest_lock,
		spin_lock_irq, spin_lock_irqsave, spin_lock_irqsave_nested,
		read_lock, read_lock_irq, read_lock_irqsave, write_lock,
		write_lock_irq, write_lock_irqsave, spin_unlock,
		spin_unlock_irq, spin_unlock_irqrestore, read_unlock,
		read_unlock_irq, read_unlock_irqrestore, write_unlock,
		write_unlock_irq, write_unlock_irqrestore, raw_spin_lock,
		raw_spin_lock_nested, raw_spin_lock_nest_lock,
		raw_spin_lock_irq, raw_spin_lock_irqsave,
		raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock,
		raw_write_lock, raw_read_lock_irq, raw_read_lock_irqsave,
		raw_write_lock_irq, raw_write_lock_irqsave, arch_spin_lock, bit_spin_lock, hlist_bl_lock,
		raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_write_unlock, raw_read_unlock_irq,
		raw_read_unlock_irqrestore, raw_write_unlock_irq,
		raw_write_unlock_irqrestore, arch_spin_unlock,
		bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock};
identifier atomic = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable, local_irq_enable,
		local_irq_restore, raw_local_irq_enable, raw_local_irq_restore,
		preempt_disable, preempt_disable_notrace, get_cpu, get_cpu_ptr,
		get_cpu_var, preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched, preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var, local_bh_disable, rcu_read_lock_bh,
		local_bh_enable, rcu_read_unlock_bh};
expression L;
position p;
@@

fn(...) { <+...
if@p (IS_ENABLED(opt)) lock(L, ...); else if (!IS_ENABLED(CONFIG_PREEMPT_RT)) atomic(...);
...+> }

@script:python depends on context || org || report@
p << skipped_lock.p;
fn << skipped_lock.fn;
opt << skipped_lock.opt;
lock << skipped_lock.lock;
L << skipped_lock.L;
atomic << skipped_lock.atomic;
@@

add_skipped_lock(p[0], fn, opt, lock, L, atomic)

// --- Output -------------------------------------------------------------------

@depends on context@
identifier x;
position p : script:python() { is_reported(p) };
@@

* x@p

@depends on context@
expression E;
statement S1, S2;
position p : script:python() { is_reported(p) };
@@

* if@p (E) S1 else S2

@script:python depends on context@
@@

clear_state()

@script:python depends on org@
@@

report_all(org_report)

@script:python depends on report@
@@

report_all(coccilib.report.print_report)
