// SPDX-License-Identifier: GPL-2.0-only
/// Find BPF program runs (bpf_prog_run*(), BPF_PROG_RUN*(),
/// trace_call_bpf(), bpf_flow_dissect() ...) inside a preempt_disable(),
/// preempt_disable_notrace(), get_cpu*() or guard(preempt) section of the
/// same function.  A BPF program only needs to finish on the CPU it started
/// on: on PREEMPT_RT such a section makes the whole program run
/// non-preemptible, and upstream converted these sections to
/// migrate_disable()/migrate_enable() or bpf_prog_run_pin_on_cpu() (tglx,
/// 2020).  When the section also updates per-CPU data non-atomically
/// (__this_cpu_*(), raw_cpu_*(), stores through this_cpu_ptr() or
/// get_cpu_ptr()), migrate_disable() is not enough: the per-CPU data needs a
/// local_lock_t (seg6_bpf_srh_states in net/ipv6/seg6_local.c, Linux 6.11).
///
/// Runs under a raw spinlock or with interrupts disabled on every path are
/// not reported (rt-atomic-sleep's territory), nor runs under
/// migrate_disable() or local_bh_disable().  A section held on some paths
/// only (if (mode == NO_PREEMPT) preempt_disable();) and a migrate_disable()
/// made redundant by a local_bh_disable() around the same run
/// (net/core/lwt_bpf.c, Linux 6.1) are reported as INFO.
///
/// In patch mode, a section of a plain preempt_disable() that contains a
/// run reported with the migrate_disable() advice, no per-CPU update, and
/// whose every release on every path is a plain preempt_enable(), becomes
/// migrate_disable()/migrate_enable(), which pin the task without disabling
/// preemption (on every SMP kernel since Linux 5.11).  Sections with a per-CPU update,
/// held on some paths only, entered by get_cpu*(), preempt_disable_notrace()
/// or guard(preempt), under local_bh_disable(), nested, or that end in
/// another function are left alone.
///
// Confidence: Moderate
// Copyright: (C) 2026 The rtcheck authors.
// URL: https://coccinelle.gitlabpages.inria.fr/website
// Comments: Intraprocedural: a run reached through a local function
//  (a wrapper that runs the program) and a section entered in a caller or
//  in a helper that returns with preemption disabled are left to the
//  rtcheck Clang checker (rt-bpf-preempt); per-CPU updates made in a
//  function of the same file called in the section are followed (up to
//  four calls deep, unless that function protects them with a preempt-off,
//  irq-off or raw lock section of its own).  Sections are paired by family
//  (preempt_disable and get_cpu with preempt_enable and put_cpu), not by
//  nesting count: the patch mode leaves nested sections alone, and converts
//  sections that share a release together or not at all.  The
//  extent of a section, for its per-CPU updates, runs from its start to the
//  last release reached after the run, in source order.  Functions
//  Coccinelle cannot parse without the kernel headers (scoped_guard()
//  blocks, BPF_CALL_n(...)) are not scanned.
// Options: --no-includes --include-headers
// Requires: 1.1.0
//
//# BPF runs, sections and per-CPU operations are recognised by the name
//# spelled at the call site, whatever the configured tree expands them to.
//# Branches on IS_ENABLED(CONFIG_PREEMPT_RT) and #ifdef CONFIG_PREEMPT_RT are
//# taken as a PREEMPT_RT kernel takes them.

#spatch --defined CONFIG_PREEMPT_RT --defined defined(CONFIG_PREEMPT_RT) --defined IS_ENABLED(CONFIG_PREEMPT_RT)
#spatch --undefined !defined(CONFIG_PREEMPT_RT) --undefined !IS_ENABLED(CONFIG_PREEMPT_RT)

virtual context
virtual org
virtual patch
virtual report

@initialize:python@
@@

import re
import coccilib.elems

# BPF program runs (include/rtcheck/kernel_api.def, effect BPF_RUN).
RUNS = """
    bpf_prog_run __bpf_prog_run bpf_prog_run_pin_on_cpu bpf_prog_run_save_cb
    __bpf_prog_run_save_cb bpf_prog_run_clear_cb bpf_prog_run_data_pointers
    bpf_prog_run_xdp bpf_prog_run_generic_xdp bpf_prog_run_array
    bpf_prog_run_array_sleepable bpf_prog_run_array_uprobe
    bpf_prog_run_array_cg bpf_prog_run_array_cg_flags BPF_PROG_RUN
    __BPF_PROG_RUN BPF_PROG_RUN_ARRAY __BPF_PROG_RUN_ARRAY
    BPF_PROG_RUN_ARRAY_CHECK BPF_PROG_RUN_ARRAY_CG
    BPF_PROG_RUN_ARRAY_CG_FLAGS BPF_PROG_SK_LOOKUP_RUN_ARRAY trace_call_bpf
    bpf_flow_dissect __bpf_trace_run bpf_trace_run1 bpf_trace_run2
    bpf_trace_run3 bpf_trace_run4 bpf_trace_run5 bpf_trace_run6
    bpf_trace_run7 bpf_trace_run8 bpf_trace_run9 bpf_trace_run10
    bpf_trace_run11 bpf_trace_run12
""".split()
# Non-atomic per-CPU read-modify-write (kernel_api.def, effect PERCPU_RMW).
PERCPU_RMW = """
    __this_cpu_write __this_cpu_add __this_cpu_sub __this_cpu_inc
    __this_cpu_dec __this_cpu_and __this_cpu_or __this_cpu_xchg
    __this_cpu_cmpxchg __this_cpu_add_return __this_cpu_sub_return
    __this_cpu_inc_return __this_cpu_dec_return raw_cpu_write raw_cpu_add
    raw_cpu_sub raw_cpu_inc raw_cpu_dec raw_cpu_and raw_cpu_or raw_cpu_xchg
    raw_cpu_cmpxchg raw_cpu_add_return raw_cpu_sub_return raw_cpu_inc_return
    raw_cpu_dec_return
""".split()

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

# (file, line, col) -> (name, position) of every BPF run seen.
runs = {}
# (file, line, col) -> {family: [(start line, start col, what)]}
candidates = {}
# (file, line, col, family): a path reaches the run outside the section.
escapes = set()
# (file, line, col, family) -> last line of a release reached after the run.
ends = {}
# file -> [(line, col, function, what)] per-CPU updates.
updates = {}
decided = {}
# (file, line, col) -> "atomic" (under a raw lock or irqs off on every
# path), "pure", "bh" (pure, but BH is off too), "percpu", "some" (held on
# some paths only), for the runs in a preempt-off section.
run_class = {}

# Sections of this file, paired by family along every path (for the patch
# mode, and for the protection a called function gives its own per-CPU
# updates): (file, line, col) of the acquire -> {"fn", "family", "name",
# "ends": {(line, col, name) of the first release on each path}}.
sections = {}
# Acquires with a path to the end of the function that does not release.
leaks = set()
# Acquires with a path to another acquire of the family before a release.
nested = set()
# Releases reached from the function's entry, or from another release,
# without an acquire of the family in between.
unmatched = set()
# (file, name) of the functions defined in the file, and every call:
# (file, line, col, caller, callee).
defs = set()
calls = []
writers_of = {}
planned = {}
# A chain of calls to a per-CPU update is followed this deep (as rtcheck).
MAX_DEPTH = 4

def key(el):
    return (el.file, int(el.line), int(el.column))

def add_run(p, name):
    for el in p:
        runs[key(el)] = (name, el)

def is_run(p):
    return all(key(el) in runs for el in p)

def add_candidate(p, p0, family, what):
    el, el0 = p[0], p0[0]
    candidates.setdefault(key(el), {}).setdefault(family, []).append(
        (int(el0.line), int(el0.column), what))

def add_escape(p, family):
    for el in p:
        escapes.add(key(el) + (family,))

def add_end(p, pe, family):
    for el in p:
        k = key(el) + (family,)
        ends[k] = max(ends.get(k, 0), max(int(e.line) for e in pe))

def add_update(pos, what):
    for el in pos:
        updates.setdefault(el.file, []).append(
            (int(el.line), int(el.column), el.current_element, what))

def add_section(p0, pe, family, lock, unlock):
    for el in p0:
        s = sections.setdefault(key(el), {"fn": el.current_element,
                                          "family": family, "name": lock,
                                          "ends": set()})
        for e in pe:
            s["ends"].add((int(e.line), int(e.column), unlock))

def add_def(pf, f):
    for el in pf:
        defs.add((el.file, f))

def add_call(pc, f):
    for el in pc:
        calls.append((el.file, int(el.line), int(el.column),
                      el.current_element, f))

def extents(fname):
    """{function: [(first line, last line)]} of the file's sections, in
    source order: from the acquire to its last release (to the end of the
    function when no release is seen)."""
    out = {}
    for (f, line, _), s in sections.items():
        if f == fname:
            last = max([e[0] for e in s["ends"]] or [1 << 30])
            out.setdefault(s["fn"], []).append((line, last))
    return out

def writers(fname):
    """{function: (description, depth)}: functions of the file that make a
    non-atomic per-CPU update outside a preempt-off, irq-off or raw lock
    section of their own, or call one (to MAX_DEPTH)."""
    if fname in writers_of:
        return writers_of[fname]
    ext = extents(fname)

    def protected(fn, line):
        return any(a <= line <= b for a, b in ext.get(fn, ()))

    w = {}
    for line, col, fn, what in sorted(updates.get(fname, ())):
        if (fname, fn) in defs and fn not in w and not protected(fn, line):
            w[fn] = ("%s in %s() at line %d" % (what, fn, line), 1)
    changed = True
    while changed:
        changed = False
        for f, line, col, caller, callee in sorted(calls):
            if (f != fname or caller == callee or caller in w
                    or callee not in w or (fname, caller) not in defs
                    or w[callee][1] >= MAX_DEPTH or protected(caller, line)):
                continue
            w[caller] = ("%s, called from %s() at line %d"
                         % (w[callee][0], caller, line), w[callee][1] + 1)
            changed = True
    writers_of[fname] = w
    return w

def section_update(fname, fn, first, last):
    """What in fn, between lines first and last, updates per-CPU data
    non-atomically (itself, or in a function of the file it calls), with
    its line; None if nothing does."""
    upd = [u for u in updates.get(fname, ())
           if u[2] == fn and first <= u[0] <= last]
    if upd:
        u = min(upd)
        return u[3], u[0]
    w = writers(fname)
    via = [c for c in calls if c[0] == fname and c[3] == fn and c[4] != fn
           and c[4] in w and first <= c[1] <= last]
    if via:
        c = min(via)
        return w[c[4]][0] + ", called", c[1]
    return None

GUARD_FAMILY = {"preempt": "preempt", "preempt_notrace": "preempt",
                "migrate": "migrate", "irq": "irq", "irqsave": "irq"}

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
        fam = GUARD_FAMILY.get(g, "raw")
        add_candidate(p, p0, fam, "guard(%s)" % g)
        # A guard ends with its scope: no path escapes it, no release.
        ends[key(el) + (fam,)] = 1 << 30

def statement_end(src, line, col):
    """Offset just after the statement that begins at line:col."""
    off = src.offset(line, col)
    semi = src.text.find(";", off)
    return len(src.text) if semi < 0 else semi + 1

def adjacent(src, first, second):
    """Nothing but blanks between the statement at first and second."""
    a = statement_end(src, *first)
    b = src.offset(*second)
    return a <= b and not src.text[a:b].strip()

def decide(fname):
    """[(line, column, position, message)] of the runs to report."""
    if fname in decided:
        return decided[fname]
    found = []
    src = source(fname)
    for (f, line, col), (name, el) in sorted(runs.items()):
        if f != fname:
            continue
        fams = candidates.get((f, line, col), {})

        def must(fam):
            return fam in fams and (f, line, col, fam) not in escapes

        if must("raw") or must("irq"):
            run_class[(f, line, col)] = "atomic"
            continue
        op = name + "()"
        if "preempt" in fams:
            l0, c0, what = min(fams["preempt"])
            end = ends.get((f, line, col, "preempt"), line)
            upd = section_update(f, el.current_element, l0, max(end, line))
            msg = ("%s runs a BPF program with preemption disabled by %s "
                   "(line %d)" % (op, what, l0))
            if not must("preempt"):
                run_class[(f, line, col)] = "some"
                msg = "INFO: " + msg + (
                    " on some paths: on PREEMPT_RT a program only needs to "
                    "stay on its CPU, drop the non-preemptible mode and use "
                    "migrate_disable()/migrate_enable() on every path")
            elif upd:
                run_class[(f, line, col)] = "percpu"
                msg = "WARNING: " + msg + (
                    ", and the section also updates per-CPU data "
                    "non-atomically (%s at line %d): on PREEMPT_RT "
                    "migrate_disable() is not enough, protect the per-CPU "
                    "data with a local_lock_t" % upd)
            else:
                run_class[(f, line, col)] = "bh" if must("bh") else "pure"
                msg = "WARNING: " + msg + (
                    ": on PREEMPT_RT a program only needs to stay on its "
                    "CPU, use migrate_disable()/migrate_enable() or "
                    "bpf_prog_run_pin_on_cpu()")
            found.append((line, col, el, msg))
        elif must("migrate") and must("bh"):
            m0 = min(fams["migrate"])
            b0 = min(fams["bh"])
            mend = ends.get((f, line, col, "migrate"), 0)
            bend = ends.get((f, line, col, "bh"), 0)
            inside = m0[:2] > b0[:2] and bend >= mend
            if not inside and not adjacent(src, m0[:2], b0[:2]):
                continue
            if not inside:
                # local_bh_enable(); then migrate_enable(); with nothing between.
                tail = src.text[src.offset(bend, 0):].split("\n", 2)
                if mend != bend + 1 or not re.match(
                        r"\s*local_bh_enable\s*\(\s*\)\s*;\s*$", tail[0]) or not re.match(
                        r"\s*migrate_enable\s*\(\s*\)\s*;\s*$", tail[1]):
                    continue
            found.append((line, col, el, (
                "INFO: %s runs a BPF program under %s (line %d) and %s "
                "(line %d): the migrate_disable() is redundant, BH disabled "
                "already keeps the task on its CPU (on PREEMPT_RT "
                "local_bh_disable() takes a per-CPU lock that disables "
                "migration)" % (op, m0[2], m0[0], b0[2], b0[0]))))
    decided[fname] = found
    return found

def is_reported(p):
    return any((int(el.line), int(el.column)) in
               {(l, c) for l, c, _, _ in decide(el.file)} for el in p)

def plan(fname):
    """{(line, col)} of the preempt_disable() and preempt_enable() calls the
    patch mode converts: the sections of plain preempt_disable() whose every
    release, on every path, is a plain preempt_enable(), that contain a BPF
    run reported with the pure message (and otherwise only runs under a raw
    lock or with irqs off), and no per-CPU update.  Sections that share a
    release are converted together or not at all."""
    if fname in planned:
        return planned[fname]
    decide(fname)
    runs_in = {}
    for rk in runs:
        if rk[0] == fname:
            for l0, c0, _ in candidates.get(rk, {}).get("preempt", ()):
                runs_in.setdefault((fname, l0, c0), set()).add(rk)
    starts = [k for k, s in sections.items()
              if k[0] == fname and s["family"] == "preempt"]
    dead = source(fname).dead

    def start_ok(k):
        s = sections[k]
        kinds = {run_class.get(r) for r in runs_in.get(k, ())}
        last = max(e[0] for e in s["ends"])
        return (s["name"] == "preempt_disable" and s["ends"]
                and k not in leaks and k not in nested and k[1] not in dead
                and "pure" in kinds and kinds <= {"pure", "atomic"}
                and section_update(fname, s["fn"], k[1], last) is None)

    def end_ok(e):
        return e[2] == "preempt_enable" and (fname,) + e[:2] not in unmatched

    # Union of the sections that share a release.
    group = {k: k for k in starts}

    def find(k):
        while group[k] != k:
            k = group[k]
        return k

    by_release = {}
    for k in starts:
        for e in sections[k]["ends"]:
            by_release.setdefault(e[:2], []).append(k)
    for ks in by_release.values():
        for k in ks[1:]:
            group[find(k)] = find(ks[0])
    members = {}
    for k in starts:
        members.setdefault(find(k), []).append(k)
    out = set()
    for ks in members.values():
        rel = {e for k in ks for e in sections[k]["ends"]}
        if all(start_ok(k) for k in ks) and all(end_ok(e) for e in rel):
            out |= {k[1:] for k in ks} | {e[:2] for e in rel}
    planned[fname] = out
    return out

def converted(p):
    return all((int(el.line), int(el.column)) in plan(el.file) for el in p)

def org_report(pos, msg):
    coccilib.org.print_todo(pos, msg.replace("[", "@(").replace("]", ")"))

def report_all(printer):
    for fname in cocci.files():
        for _, _, el, msg in decide(fname):
            printer(el, msg)
    clear_state()

def clear_state():
    runs.clear()
    candidates.clear()
    escapes.clear()
    ends.clear()
    updates.clear()
    decided.clear()
    sources.clear()
    run_class.clear()
    sections.clear()
    leaks.clear()
    nested.clear()
    unmatched.clear()
    defs.clear()
    del calls[:]
    writers_of.clear()
    planned.clear()

// Every BPF run Coccinelle sees (the candidates' run@p must be one).
@seen_run depends on context || org || report || patch@
identifier run = {bpf_prog_run, __bpf_prog_run, bpf_prog_run_pin_on_cpu,
		bpf_prog_run_save_cb, __bpf_prog_run_save_cb,
		bpf_prog_run_clear_cb, bpf_prog_run_data_pointers,
		bpf_prog_run_xdp, bpf_prog_run_generic_xdp,
		bpf_prog_run_array, bpf_prog_run_array_sleepable,
		bpf_prog_run_array_uprobe, bpf_prog_run_array_cg,
		bpf_prog_run_array_cg_flags, BPF_PROG_RUN, __BPF_PROG_RUN,
		BPF_PROG_RUN_ARRAY, __BPF_PROG_RUN_ARRAY,
		BPF_PROG_RUN_ARRAY_CHECK, BPF_PROG_RUN_ARRAY_CG,
		BPF_PROG_RUN_ARRAY_CG_FLAGS, BPF_PROG_SK_LOOKUP_RUN_ARRAY,
		trace_call_bpf, bpf_flow_dissect, __bpf_trace_run,
		bpf_trace_run1, bpf_trace_run2, bpf_trace_run3,
		bpf_trace_run4, bpf_trace_run5, bpf_trace_run6,
		bpf_trace_run7, bpf_trace_run8, bpf_trace_run9,
		bpf_trace_run10, bpf_trace_run11, bpf_trace_run12};
position p : script:python() { reachable_on_rt(p) };
@@

run@p(...)

@script:python depends on context || org || report || patch@
p << seen_run.p;
run << seen_run.run;
@@

add_run(p, run)

// Non-atomic per-CPU updates: __this_cpu_*()/raw_cpu_*() and stores
// through a pointer taken with this_cpu_ptr()/get_cpu_ptr().
@rmw depends on context || org || report || patch@
identifier op = {__this_cpu_write, __this_cpu_add, __this_cpu_sub,
		__this_cpu_inc, __this_cpu_dec, __this_cpu_and,
		__this_cpu_or, __this_cpu_xchg, __this_cpu_cmpxchg,
		__this_cpu_add_return, __this_cpu_sub_return,
		__this_cpu_inc_return, __this_cpu_dec_return,
		raw_cpu_write, raw_cpu_add, raw_cpu_sub, raw_cpu_inc,
		raw_cpu_dec, raw_cpu_and, raw_cpu_or, raw_cpu_xchg,
		raw_cpu_cmpxchg, raw_cpu_add_return, raw_cpu_sub_return,
		raw_cpu_inc_return, raw_cpu_dec_return};
position pr;
@@

op@pr(...)

@script:python depends on context || org || report || patch@
pr << rmw.pr;
op << rmw.op;
@@

add_update(pr, op + "()")

@pdecl depends on context || org || report || patch@
identifier fn;
identifier pm = {this_cpu_ptr, raw_cpu_ptr, get_cpu_ptr};
type T;
identifier P;
identifier fld;
expression V;
assignment operator aop;
position pw;
@@

fn(...) {
  ... when any
  T *P = pm(...);
  ... when any
(
  P->fld@pw aop V
|
  P->fld@pw++
|
  P->fld@pw--
|
  ++P->fld@pw
|
  --P->fld@pw
)
  ... when any
}

@script:python depends on context || org || report || patch@
pw << pdecl.pw;
P << pdecl.P;
fld << pdecl.fld;
@@

add_update(pw, "a store to %s->%s" % (P, fld))

@passign depends on context || org || report || patch@
identifier fn;
identifier pm = {this_cpu_ptr, raw_cpu_ptr, get_cpu_ptr};
idexpression P;
identifier fld;
expression V;
assignment operator aop;
position pw;
@@

fn(...) {
  ... when any
  P = pm(...);
  ... when any
(
  P->fld@pw aop V
|
  P->fld@pw++
|
  P->fld@pw--
|
  ++P->fld@pw
|
  --P->fld@pw
)
  ... when any
}

@script:python depends on context || org || report || patch@
pw << passign.pw;
P << passign.P;
fld << passign.fld;
@@

add_update(pw, "a store to %s->%s" % (P, fld))

@pdirect depends on context || org || report || patch@
identifier pm = {this_cpu_ptr, raw_cpu_ptr, get_cpu_ptr};
identifier fld;
expression V, X;
assignment operator aop;
position pw;
@@

(
  pm(X)->fld@pw aop V
|
  pm(X)->fld@pw++
|
  pm(X)->fld@pw--
)

@script:python depends on context || org || report || patch@
pw << pdirect.pw;
fld << pdirect.fld;
@@

add_update(pw, "a store to this CPU's ->" + fld)

// Functions of the file and their calls: a section is not pure when a
// function of the file called in it updates per-CPU data outside a section
// of its own (followed through the file's functions, as rtcheck does).
@fdef depends on (context || org || report || patch) && seen_run@
identifier f;
position pf;
@@

f@pf(...) { ... }

@script:python depends on context || org || report || patch@
f << fdef.f;
pf << fdef.pf;
@@

add_def(pf, f)

// (=~ "^": spatch 1.1.1 does not let a script rule inherit an identifier
// with no constraint, or with a script constraint, in this position.)
@fcall depends on (context || org || report || patch) && seen_run@
identifier f =~ "^";
position pc;
@@

f@pc(...)

@script:python depends on context || org || report || patch@
f << fcall.f;
pc << fcall.pc;
@@

add_call(pc, f)

// Preempt-off sections along every path: each acquire and the first release after
// it on each path.
@s_preempt depends on (context || org || report || patch) && seen_run exists@
identifier fn;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu,
		get_cpu_ptr, get_cpu_var};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched,
		preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var};
position p0, pe;
@@

fn(...) {
  ... when any
  lock@p0(...)
  ... when != unlock(...)
      when any
  unlock@pe(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p0 << s_preempt.p0;
pe << s_preempt.pe;
lock << s_preempt.lock;
unlock << s_preempt.unlock;
@@

add_section(p0, pe, "preempt", lock, unlock)

// Raw lock sections along every path: each acquire and the first release after
// it on each path.
@s_raw depends on (context || org || report || patch) && seen_run exists@
identifier fn;
identifier lock = {raw_spin_lock, raw_spin_lock_nested,
		raw_spin_lock_nest_lock, raw_spin_lock_irq,
		raw_spin_lock_irqsave, raw_spin_lock_irqsave_nested,
		raw_spin_lock_bh, raw_read_lock, raw_write_lock,
		arch_spin_lock, bit_spin_lock, hlist_bl_lock};
identifier unlock = {raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_write_unlock, arch_spin_unlock,
		bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock};
position p0, pe;
@@

fn(...) {
  ... when any
  lock@p0(...)
  ... when != unlock(...)
      when any
  unlock@pe(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p0 << s_raw.p0;
pe << s_raw.pe;
lock << s_raw.lock;
unlock << s_raw.unlock;
@@

add_section(p0, pe, "raw", lock, unlock)

// Irq-off sections along every path: each acquire and the first release after
// it on each path.
@s_irq depends on (context || org || report || patch) && seen_run exists@
identifier fn;
identifier lock = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable};
identifier unlock = {local_irq_enable, local_irq_restore, raw_local_irq_enable,
		raw_local_irq_restore};
position p0, pe;
@@

fn(...) {
  ... when any
  lock@p0(...)
  ... when != unlock(...)
      when any
  unlock@pe(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p0 << s_irq.p0;
pe << s_irq.pe;
lock << s_irq.lock;
unlock << s_irq.unlock;
@@

add_section(p0, pe, "irq", lock, unlock)

// Patch mode: the preempt-off sections that the conversion would leave
// unbalanced.  An acquire with a path to the function's end that releases
// nothing (the section ends in a caller) ...
@leak_preempt depends on patch && seen_run exists@
identifier fn;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu,
		get_cpu_ptr, get_cpu_var};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched,
		preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var};
position p0;
@@

fn(...) {
  ... when any
  lock@p0(...)
  ... when != unlock(...)
}

@script:python depends on patch@
p0 << leak_preempt.p0;
@@

leaks.update(key(el) for el in p0)

// ... an acquire followed by another before a release (nested sections are
// paired by family here, not by count) ...
@nest_preempt depends on patch && seen_run exists@
identifier fn;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu,
		get_cpu_ptr, get_cpu_var};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched,
		preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var};
position p0;
@@

fn(...) {
  ... when any
  lock@p0(...)
  ... when != unlock(...)
      when any
  lock(...)
  ... when any
}

@script:python depends on patch@
p0 << nest_preempt.p0;
@@

nested.update(key(el) for el in p0)

// ... and a release reached from the entry, or from another release,
// without an acquire (it ends a section entered in a caller).
@u1_preempt depends on patch && seen_run exists@
identifier fn;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu,
		get_cpu_ptr, get_cpu_var};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched,
		preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var};
position pe;
@@

fn(...) {
  ... when != lock(...)
      when any
  unlock@pe(...)
  ... when any
}

@script:python depends on patch@
pe << u1_preempt.pe;
@@

unmatched.update(key(el) for el in pe)

@u2_preempt depends on patch && seen_run exists@
identifier fn;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu,
		get_cpu_ptr, get_cpu_var};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched,
		preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var};
position pe;
@@

fn(...) {
  ... when any
  unlock(...)
  ... when != lock(...)
      when any
  unlock@pe(...)
  ... when any
}

@script:python depends on patch@
pe << u2_preempt.pe;
@@

unmatched.update(key(el) for el in pe)

// preempt: preempt_disable, preempt_disable_notrace, get_cpu, get_cpu_ptr, get_cpu_var ... preempt_enable, preempt_enable_notrace, preempt_enable_no_resched, preempt_enable_no_resched_notrace, sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr, put_cpu_var
@c_preempt depends on context || org || report || patch exists@
identifier fn;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu,
		get_cpu_ptr, get_cpu_var};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched,
		preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_run(p) };
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
  run@p(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p0 << c_preempt.p0;
p << c_preempt.p;
lock << c_preempt.lock;
@@

add_candidate(p, p0, "preempt", lock + "()")

// Where the section ends after the run (its extent, for per-CPU updates).
@x_preempt depends on context || org || report || patch exists@
identifier c_preempt.fn;
position c_preempt.p;
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched,
		preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var};
identifier run;
position pe;
@@

fn(...) {
  ... when any
  run@p(...)
  ... when any
  unlock@pe(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << c_preempt.p;
pe << x_preempt.pe;
@@

add_end(p, pe, "preempt")

// A path from the entry, or from a release, reaches the run outside.
@e1_preempt depends on context || org || report || patch exists@
identifier c_preempt.fn;
position c_preempt.p;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu,
		get_cpu_ptr, get_cpu_var};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e1_preempt.q;
@@

add_escape(p, "preempt")

@e2_preempt depends on context || org || report || patch exists@
identifier c_preempt.fn;
position c_preempt.p;
identifier lock = {preempt_disable, preempt_disable_notrace, get_cpu,
		get_cpu_ptr, get_cpu_var};
identifier unlock = {preempt_enable, preempt_enable_notrace,
		preempt_enable_no_resched,
		preempt_enable_no_resched_notrace,
		sched_preempt_enable_no_resched, put_cpu, put_cpu_ptr,
		put_cpu_var};
identifier run;
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
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e2_preempt.q;
@@

add_escape(p, "preempt")

// raw: raw_spin_lock, raw_spin_lock_nested, raw_spin_lock_nest_lock, raw_spin_lock_irq, raw_spin_lock_irqsave, raw_spin_lock_irqsave_nested, raw_spin_lock_bh, raw_read_lock, raw_write_lock, arch_spin_lock, bit_spin_lock, hlist_bl_lock ... raw_spin_unlock, raw_spin_unlock_irq, raw_spin_unlock_irqrestore, raw_spin_unlock_bh, raw_read_unlock, raw_write_unlock, arch_spin_unlock, bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock
@c_raw depends on context || org || report || patch exists@
identifier fn;
identifier lock = {raw_spin_lock, raw_spin_lock_nested,
		raw_spin_lock_nest_lock, raw_spin_lock_irq,
		raw_spin_lock_irqsave, raw_spin_lock_irqsave_nested,
		raw_spin_lock_bh, raw_read_lock, raw_write_lock,
		arch_spin_lock, bit_spin_lock, hlist_bl_lock};
identifier unlock = {raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_write_unlock, arch_spin_unlock,
		bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_run(p) };
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
  run@p(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p0 << c_raw.p0;
p << c_raw.p;
lock << c_raw.lock;
@@

add_candidate(p, p0, "raw", lock + "()")

// Where the section ends after the run (its extent, for per-CPU updates).
@x_raw depends on context || org || report || patch exists@
identifier c_raw.fn;
position c_raw.p;
identifier unlock = {raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_write_unlock, arch_spin_unlock,
		bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock};
identifier run;
position pe;
@@

fn(...) {
  ... when any
  run@p(...)
  ... when any
  unlock@pe(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << c_raw.p;
pe << x_raw.pe;
@@

add_end(p, pe, "raw")

// A path from the entry, or from a release, reaches the run outside.
@e1_raw depends on context || org || report || patch exists@
identifier c_raw.fn;
position c_raw.p;
identifier lock = {raw_spin_lock, raw_spin_lock_nested,
		raw_spin_lock_nest_lock, raw_spin_lock_irq,
		raw_spin_lock_irqsave, raw_spin_lock_irqsave_nested,
		raw_spin_lock_bh, raw_read_lock, raw_write_lock,
		arch_spin_lock, bit_spin_lock, hlist_bl_lock};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e1_raw.q;
@@

add_escape(p, "raw")

@e2_raw depends on context || org || report || patch exists@
identifier c_raw.fn;
position c_raw.p;
identifier lock = {raw_spin_lock, raw_spin_lock_nested,
		raw_spin_lock_nest_lock, raw_spin_lock_irq,
		raw_spin_lock_irqsave, raw_spin_lock_irqsave_nested,
		raw_spin_lock_bh, raw_read_lock, raw_write_lock,
		arch_spin_lock, bit_spin_lock, hlist_bl_lock};
identifier unlock = {raw_spin_unlock, raw_spin_unlock_irq,
		raw_spin_unlock_irqrestore, raw_spin_unlock_bh,
		raw_read_unlock, raw_write_unlock, arch_spin_unlock,
		bit_spin_unlock, __bit_spin_unlock, hlist_bl_unlock};
identifier run;
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
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e2_raw.q;
@@

add_escape(p, "raw")

// irq: local_irq_disable, local_irq_save, raw_local_irq_disable, raw_local_irq_save, hard_irq_disable ... local_irq_enable, local_irq_restore, raw_local_irq_enable, raw_local_irq_restore
@c_irq depends on context || org || report || patch exists@
identifier fn;
identifier lock = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable};
identifier unlock = {local_irq_enable, local_irq_restore, raw_local_irq_enable,
		raw_local_irq_restore};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_run(p) };
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
  run@p(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p0 << c_irq.p0;
p << c_irq.p;
lock << c_irq.lock;
@@

add_candidate(p, p0, "irq", lock + "()")

// Where the section ends after the run (its extent, for per-CPU updates).
@x_irq depends on context || org || report || patch exists@
identifier c_irq.fn;
position c_irq.p;
identifier unlock = {local_irq_enable, local_irq_restore, raw_local_irq_enable,
		raw_local_irq_restore};
identifier run;
position pe;
@@

fn(...) {
  ... when any
  run@p(...)
  ... when any
  unlock@pe(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << c_irq.p;
pe << x_irq.pe;
@@

add_end(p, pe, "irq")

// A path from the entry, or from a release, reaches the run outside.
@e1_irq depends on context || org || report || patch exists@
identifier c_irq.fn;
position c_irq.p;
identifier lock = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e1_irq.q;
@@

add_escape(p, "irq")

@e2_irq depends on context || org || report || patch exists@
identifier c_irq.fn;
position c_irq.p;
identifier lock = {local_irq_disable, local_irq_save, raw_local_irq_disable,
		raw_local_irq_save, hard_irq_disable};
identifier unlock = {local_irq_enable, local_irq_restore, raw_local_irq_enable,
		raw_local_irq_restore};
identifier run;
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
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e2_irq.q;
@@

add_escape(p, "irq")

// migrate: migrate_disable ... migrate_enable
@c_migrate depends on context || org || report || patch exists@
identifier fn;
identifier lock = {migrate_disable};
identifier unlock = {migrate_enable};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_run(p) };
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
  run@p(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p0 << c_migrate.p0;
p << c_migrate.p;
lock << c_migrate.lock;
@@

add_candidate(p, p0, "migrate", lock + "()")

// Where the section ends after the run (its extent, for per-CPU updates).
@x_migrate depends on context || org || report || patch exists@
identifier c_migrate.fn;
position c_migrate.p;
identifier unlock = {migrate_enable};
identifier run;
position pe;
@@

fn(...) {
  ... when any
  run@p(...)
  ... when any
  unlock@pe(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << c_migrate.p;
pe << x_migrate.pe;
@@

add_end(p, pe, "migrate")

// A path from the entry, or from a release, reaches the run outside.
@e1_migrate depends on context || org || report || patch exists@
identifier c_migrate.fn;
position c_migrate.p;
identifier lock = {migrate_disable};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e1_migrate.q;
@@

add_escape(p, "migrate")

@e2_migrate depends on context || org || report || patch exists@
identifier c_migrate.fn;
position c_migrate.p;
identifier lock = {migrate_disable};
identifier unlock = {migrate_enable};
identifier run;
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
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e2_migrate.q;
@@

add_escape(p, "migrate")

// bh: local_bh_disable ... local_bh_enable
@c_bh depends on context || org || report || patch exists@
identifier fn;
identifier lock = {local_bh_disable};
identifier unlock = {local_bh_enable};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_run(p) };
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
  run@p(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p0 << c_bh.p0;
p << c_bh.p;
lock << c_bh.lock;
@@

add_candidate(p, p0, "bh", lock + "()")

// Where the section ends after the run (its extent, for per-CPU updates).
@x_bh depends on context || org || report || patch exists@
identifier c_bh.fn;
position c_bh.p;
identifier unlock = {local_bh_enable};
identifier run;
position pe;
@@

fn(...) {
  ... when any
  run@p(...)
  ... when any
  unlock@pe(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << c_bh.p;
pe << x_bh.pe;
@@

add_end(p, pe, "bh")

// A path from the entry, or from a release, reaches the run outside.
@e1_bh depends on context || org || report || patch exists@
identifier c_bh.fn;
position c_bh.p;
identifier lock = {local_bh_disable};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position q;
@@

fn(...) {
  ... when != lock(...)
      when != false rtc
      when != true nrtc
      when any
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e1_bh.q;
@@

add_escape(p, "bh")

@e2_bh depends on context || org || report || patch exists@
identifier c_bh.fn;
position c_bh.p;
identifier lock = {local_bh_disable};
identifier unlock = {local_bh_enable};
identifier run;
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
  run@p@q(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p << e2_bh.q;
@@

add_escape(p, "bh")

// guard(preempt)(), guard(raw_spinlock*)(...), guard(irq*)(), guard(migrate)():
// to the end of the enclosing block (checked by add_guard_candidate).
@cg depends on context || org || report || patch exists@
identifier fn;
identifier G = {irq, irqsave, migrate, preempt, preempt_notrace,
		raw_spinlock, raw_spinlock_bh, raw_spinlock_irq,
		raw_spinlock_irqsave, raw_spinlock_nested};
identifier run;
expression rtc : script:python() { rt_true(rtc) };
expression nrtc : script:python() { rt_false(nrtc) };
position p0 : script:python() { reachable_on_rt(p0) };
position p : script:python() { is_run(p) };
@@

fn(...) {
  ... when != false rtc
      when != true nrtc
      when any
  guard@p0(G)(...);
  ... when != false rtc
      when != true nrtc
      when any
  run@p(...)
  ... when any
}

@script:python depends on context || org || report || patch@
p0 << cg.p0;
p << cg.p;
G << cg.G;
@@

add_guard_candidate(p, p0, G)

@depends on context@
identifier f;
position p : script:python() { is_reported(p) };
@@

* f@p(...)

@script:python depends on context@
@@

clear_state()

// The conversion: one rule, so that every position still refers to the
// unmodified file.
@depends on patch@
position pd : script:python() { converted(pd) };
position pe : script:python() { converted(pe) };
@@

(
- preempt_disable@pd()
+ migrate_disable()
|
- preempt_enable@pe()
+ migrate_enable()
)

@script:python depends on patch@
@@

clear_state()

@script:python depends on org@
@@

report_all(org_report)

@script:python depends on report@
@@

report_all(coccilib.report.print_report)
