// SPDX-License-Identifier: GPL-2.0-only
/// Find per-CPU data whose only serialisation is disabled BH: a per-CPU
/// access inside a local_bh_disable()/local_bh_enable(),
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
/// pointer into a local variable that is used afterwards.
/// Single-instruction this_cpu_inc(), this_cpu_add(), this_cpu_write() ...
/// need no lock and are not reported.  Not reported either: accesses held
/// on every path under a local_lock_t (local_lock*(), guard(local_lock*),
/// scoped_guard(local_lock*, ...)), a spinlock_t, rwlock_t or sleeping lock
/// (spin_lock(), mutex_lock() ... and their guards), or in truly atomic
/// code (preempt_disable(), get_cpu*(), local_irq_save(), raw spinlocks:
/// rt-atomic-sleep's concern); accesses in a function that takes the
/// local_lock_t of the same per-CPU variable (local_lock_nested_bh(
/// &napi_alloc_cache.bh_lock)), wherever the pointer was taken; accesses
/// of a per-CPU variable whose every access in the file holds the same
/// spin_lock_bh()/read_lock_bh()/write_lock_bh() lock; and code a
/// PREEMPT_RT kernel does not run (if (!IS_ENABLED(CONFIG_PREEMPT_RT)),
/// #ifndef CONFIG_PREEMPT_RT).  One report per per-CPU variable of the
/// file, at its first access with only BH disabled, listing the others, as
/// rtcheck reports it; -D per_function (SPFLAGS=) gives one report per
/// variable and function.
///
// Confidence: Moderate
// Copyright: (C) 2026 The rtcheck authors.
// URL: https://coccinelle.gitlabpages.inria.fr/website
// Comments: Intraprocedural: a BH section entered in a caller or in a
//  softirq entry context (NAPI poll, timers, tasklets, netfilter hooks,
//  lockdep_assert_in_softirq() functions), and accesses made in a called
//  function, are left to the rtcheck Clang checker (rt-percpu-bh).  A
//  helper that returns with BH disabled is reported when its access is
//  inside its own section (tcp_get_md5sig_pool()), its callers' uses of the
//  returned pointer are not.  BH sections are paired by family (local_bh_*,
//  rcu_read_*_bh) or by the lock expression (spin/read/write_lock_bh), and
//  count when some path enters them; protecting sections are paired by
//  family and must hold on every path.  The access is where the per-CPU
//  pointer is taken or the value read, not each later dereference.
//  Functions Coccinelle cannot parse without the kernel headers
//  (BPF_CALL_n(...), a local with __attribute__((aligned(...)))) are not
//  scanned.
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
             "raw_read_lock", "raw_write_lock", "arch_spin_lock",
             "bit_spin_lock", "hlist_bl_lock"],
            ["raw_spin_unlock", "raw_spin_unlock_irq",
             "raw_spin_unlock_irqrestore", "raw_spin_unlock_bh",
             "raw_read_unlock", "raw_write_unlock", "arch_spin_unlock",
             "bit_spin_unlock", "__bit_spin_unlock", "hlist_bl_unlock"],
            ["raw_spinlock", "raw_spinlock_bh", "raw_spinlock_irq",
             "raw_spinlock_irqsave", "raw_spinlock_nested"]),
}
GUARD_FAMILY = {g: fam for fam, (_, _, gs) in PROTECTIONS.items() for g in gs}

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
# object, position); an access once the variable is known to be a pointer
# that is used after the read.
loads = {}
# (file, function, variable) of local pointers, and where the variables
# of the loads occur: (file, function, variable) -> [(line, col)].
pointer_locals = set()
occurrences = {}
# Accesses some path reaches on PREEMPT_RT.
live = set()
# (file, line, col) -> [(line, col, what, lock)] of the BH sections some
# path holds at it (lock: of a spin/read/write_lock_bh() section, or None).
candidates = {}
# (file, line, col, family): a path reaches the access outside the
# family's sections; (file, line, col) -> families of guards around it.
escapes = set()
guarded = {}
# (file, function, object) whose local_lock_t the function takes.
locked = set()
decided = {}
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

def add_occurrence(p, x):
    for el in p:
        occurrences.setdefault((el.file, el.current_element, x), []).append(
            (int(el.line), int(el.column)))

def load_is_access(k):
    fn, x, obj, el = loads[k]
    f, line, col = k
    if (f, fn, x) not in pointer_locals:
        return False
    return any(o > (line, col) for o in occurrences.get((f, fn, x), ()))

def is_access(p):
    for el in p:
        k = key(el)
        if k in accesses:
            continue
        if k in loads and load_is_access(k):
            accesses[k] = [loads[k][2], "this_cpu_read", el]
            continue
        return False
    return True

def is_candidate(p):
    return all(key(el) in candidates and key(el) in live for el in p)

def add_live(p):
    for el in p:
        live.add(key(el))

def add_candidate(p, p0, what, keyed=False):
    """A BH section some path holds at the access; keyed: the lock of a
    spin/read/write_lock_bh() section (what serialises the object if it is
    held at every access of the file)."""
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
    """guard(g)(...) before the access in its block, or scoped_guard(g, ...)
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

def object_key(obj):
    """What accesses are grouped by, as rtcheck does: the per-CPU variable
    ("napi_alloc_cache.page" -> "napi_alloc_cache") or, through a pointer,
    the member ("pool->cache" -> "->cache")."""
    s = re.sub(r"[\s()]", "", obj)
    if s.startswith("&"):
        s = s[1:]
    if "->" in s:
        return "->" + re.match(r"\w*", s[s.rindex("->") + 2:]).group(0)
    return re.match(r"\w*", s).group(0)

def add_local_lock(p, lock_arg):
    """The function takes a local_lock_t of this object (napi_alloc_cache.bh_lock)."""
    for el in p:
        locked.add((el.file, el.current_element, object_key(lock_arg)))

def common_bh_locks(fname):
    """Per object, the spin/read/write_lock_bh() locks held at every access
    of the file: they serialise it (rtcheck does the same)."""
    common = {}
    for k, (obj, api, el) in accesses.items():
        if k[0] != fname or k not in live:
            continue
        held = {c[3] for c in candidates.get(k, ()) if c[3]}
        o = object_key(obj)
        common[o] = held if o not in common else common[o] & held
    return common

def decide(fname):
    """[(line, column, position, message)]: one per object of the file, at
    its first access (as rtcheck reports it), the others listed; with
    -D per_function, one per object and function."""
    if fname in decided:
        return decided[fname]
    common = common_bh_locks(fname)
    groups = {}
    for k, (obj, api, el) in accesses.items():
        if k[0] != fname or k not in candidates or k not in live or protected(k):
            continue
        fn = el.current_element
        o = object_key(obj)
        if (fname, fn, o) in locked:
            continue
        if any(c[3] in common.get(o, ()) for c in candidates[k]):
            continue
        group = (fn, o) if group_by_function else o
        groups.setdefault(group, []).append(
            (k[1], k[2], el, obj, fn, min(candidates[k], key=lambda c: c[:2])))
    found = []
    for hits in groups.values():
        hits.sort(key=lambda h: h[:2])
        line, col, el, obj, fn, (l0, c0, what, _) = hits[0]
        if "(" not in what:
            what += "()"
        more = []
        for h in hits[1:]:
            if h[0] != line and (h[0], h[4]) not in more:
                more.append((h[0], h[4]))
        also = "".join("; also at line %d%s" % (l, "" if f == fn else " in %s()" % f)
                       for l, f in more)
        msg = ("WARNING: per-CPU %s is accessed with only BH disabled by %s: "
               "on PREEMPT_RT softirq code is preemptible and disabling BH "
               "only takes a per-CPU lock that upstream is removing, so this "
               "data needs a local_lock_t taken with local_lock_nested_bh() "
               "(in %s(), BH disabled at line %d%s)"
               % (obj, what, fn, l0, also))
        found.append((line, col, el, msg))
    found.sort(key=lambda f: f[:2])
    decided[fname] = found
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
    for d in (accesses, loads, pointer_locals, occurrences, live, candidates,
              escapes, guarded, locked, decided, sources):
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

// this_cpu_read() of a pointer into a local that is used afterwards.
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
position px;
@@

x@px

@script:python depends on context || org || report@
px << used_load.px;
x << load.x;
@@

add_occurrence(px, x)

@used_load_decl depends on context || org || report@
identifier load_decl.x;
position px;
@@

x@px

@script:python depends on context || org || report@
px << used_load_decl.px;
x << load_decl.x;
@@

add_occurrence(px, x)

// Accesses a PREEMPT_RT kernel reaches.
@reached depends on context || org || report exists@
identifier fn, acc;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_access(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << reached.p;
@@

add_live(p)

// --- BH-disabled sections ---------------------------------------------------

// local_bh_disable() ... local_bh_enable()
@bh_local_bh_disable depends on context || org || report exists@
identifier fn, acc;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_access(p) };
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p0 << bh_local_bh_disable.p0;
p << bh_local_bh_disable.p;
@@

add_candidate(p, p0, "local_bh_disable")

// rcu_read_lock_bh() ... rcu_read_unlock_bh()
@bh_rcu_read_lock_bh depends on context || org || report exists@
identifier fn, acc;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_access(p) };
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p0 << bh_rcu_read_lock_bh.p0;
p << bh_rcu_read_lock_bh.p;
@@

add_candidate(p, p0, "rcu_read_lock_bh")

// spin_lock_bh(L) ... spin_unlock_bh(L)
@bh_spin_lock_bh depends on context || org || report exists@
identifier fn, acc;
expression L;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_access(p) };
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p0 << bh_spin_lock_bh.p0;
p << bh_spin_lock_bh.p;
@@

add_candidate(p, p0, "spin_lock_bh", True)

// read_lock_bh(L) ... read_unlock_bh(L)
@bh_read_lock_bh depends on context || org || report exists@
identifier fn, acc;
expression L;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_access(p) };
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p0 << bh_read_lock_bh.p0;
p << bh_read_lock_bh.p;
@@

add_candidate(p, p0, "read_lock_bh", True)

// write_lock_bh(L) ... write_unlock_bh(L)
@bh_write_lock_bh depends on context || org || report exists@
identifier fn, acc;
expression L;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_access(p) };
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
  acc@p(...)
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
identifier fn, acc;
identifier G = {spinlock_bh, local_lock, local_lock_irq, local_lock_irqsave,
		local_lock_nested_bh, preempt, preempt_notrace, irq, irqsave,
		spinlock, spinlock_irq, spinlock_irqsave, read_lock,
		read_lock_irq, read_lock_irqsave, write_lock, write_lock_irq,
		write_lock_irqsave, mutex, rwsem_read, rwsem_write,
		raw_spinlock, raw_spinlock_bh, raw_spinlock_irq,
		raw_spinlock_irqsave, raw_spinlock_nested};
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_access(p) };
@@

fn(...) {
  ... when any
  guard@p0(G)(...);
  ... when any
  acc@p(...)
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
identifier acc;
identifier G = {spinlock_bh, local_lock, local_lock_irq, local_lock_irqsave,
		local_lock_nested_bh, preempt, preempt_notrace, irq, irqsave,
		spinlock, spinlock_irq, spinlock_irqsave, read_lock,
		read_lock_irq, read_lock_irqsave, write_lock, write_lock_irq,
		write_lock_irqsave, mutex, rwsem_read, rwsem_write,
		raw_spinlock, raw_spinlock_bh, raw_spinlock_irq,
		raw_spinlock_irqsave, raw_spinlock_nested};
expression list es;
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_access(p) };
@@

scoped_guard@p0(G, es) { <+... acc@p(...) ...+> }

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

// --- Protections: a path that reaches the access outside them ----------------

// local: local_lock() ... local_unlock() and the rest of PROTECTIONS["local"]
@e1_local depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e1_local.p;
@@

add_escape(p, "local")

@e2_local depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e2_local.p;
@@

add_escape(p, "local")

// preempt: preempt_disable() ... preempt_enable() and the rest of PROTECTIONS["preempt"]
@e1_preempt depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e1_preempt.p;
@@

add_escape(p, "preempt")

@e2_preempt depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e2_preempt.p;
@@

add_escape(p, "preempt")

// irq: local_irq_disable() ... local_irq_enable() and the rest of PROTECTIONS["irq"]
@e1_irq depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e1_irq.p;
@@

add_escape(p, "irq")

@e2_irq depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e2_irq.p;
@@

add_escape(p, "irq")

// lock: spin_lock() ... spin_unlock() and the rest of PROTECTIONS["lock"]
@e1_lock depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e1_lock.p;
@@

add_escape(p, "lock")

@e2_lock depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e2_lock.p;
@@

add_escape(p, "lock")

// sleeping: mutex_lock() ... mutex_unlock() and the rest of PROTECTIONS["sleeping"]
@e1_sleeping depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e1_sleeping.p;
@@

add_escape(p, "sleeping")

@e2_sleeping depends on context || org || report exists@
identifier fn, acc;
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e2_sleeping.p;
@@

add_escape(p, "sleeping")

// raw: raw_spin_lock() ... raw_spin_unlock() and the rest of PROTECTIONS["raw"]
@e1_raw depends on context || org || report exists@
identifier fn, acc;
identifier lock = {raw_spin_lock, raw_spin_lock_nested, raw_spin_lock_nest_lock,
		raw_spin_lock_irq, raw_spin_lock_irqsave,
		raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock,
		raw_write_lock, arch_spin_lock, bit_spin_lock, hlist_bl_lock};
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p : script:python() { is_candidate(p) };
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e1_raw.p;
@@

add_escape(p, "raw")

@e2_raw depends on context || org || report exists@
identifier fn, acc;
identifier lock = {raw_spin_lock, raw_spin_lock_nested, raw_spin_lock_nest_lock,
		raw_spin_lock_irq, raw_spin_lock_irqsave,
		raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock,
		raw_write_lock, arch_spin_lock, bit_spin_lock, hlist_bl_lock};
identifier unlock = {raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_write_unlock, arch_spin_unlock,
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
  acc@p(...)
  ... when any
}

@script:python depends on context || org || report@
p << e2_raw.p;
@@

add_escape(p, "raw")

// --- Output -------------------------------------------------------------------

@depends on context@
identifier acc;
position p : script:python() { is_reported(p) };
@@

* acc@p(...)

@script:python depends on context@
@@

clear_state()

@script:python depends on org@
@@

report_all(org_report)

@script:python depends on report@
@@

report_all(coccilib.report.print_report)
