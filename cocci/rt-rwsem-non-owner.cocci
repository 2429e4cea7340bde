// SPDX-License-Identifier: GPL-2.0-only
/// Find calls to down_read_non_owner(), up_read_non_owner(),
/// mmap_read_trylock_non_owner() and mmap_read_unlock_non_owner() that
/// are reachable on PREEMPT_RT.  An rw_semaphore read lock that one task
/// acquires and another task releases defeats priority inheritance on
/// PREEMPT_RT, where rw_semaphores are rt_mutex based and need their owner
/// to release them.  Upstream makes RT take the existing fallback path
/// instead, e.g. IS_ENABLED(CONFIG_PREEMPT_RT) forces the no-trylock
/// fallback in the BPF stack map and in bpf_find_vma().
///
/// Calls that cannot run on PREEMPT_RT are not reported: code under
/// if (!IS_ENABLED(CONFIG_PREEMPT_RT)), code after an early
/// if (IS_ENABLED(CONFIG_PREEMPT_RT)) return ...; or
/// if (WARN_ON_ONCE(IS_ENABLED(CONFIG_PREEMPT_RT))) return; in the same
/// function, and #ifndef CONFIG_PREEMPT_RT code.
///
// Confidence: Moderate
// Copyright: (C) 2026 The rtcheck authors.
// URL: https://coccinelle.gitlabpages.inria.fr/website
// Comments: Intraprocedural: a call reached only through a local wrapper,
//  or guarded against PREEMPT_RT in a calling function, is not seen (the
//  rtcheck Clang checker follows wrappers).  The definitions of the four
//  APIs themselves are not reported.  The #spatch lines make spatch keep
//  only the PREEMPT_RT side of #ifdef CONFIG_PREEMPT_RT and of the exact
//  conditions given; calls under other #if conditions that are false on
//  PREEMPT_RT (e.g. !defined(CONFIG_PREEMPT_RT) && defined(CONFIG_SMP)) are
//  dropped by a python evaluation of the condition.  Functions that
//  Coccinelle cannot parse without the kernel headers (static
//  CLOSURE_CALLBACK(...), BPF_CALL_n(...), scoped_guard() blocks) are
//  scanned textually in report and org mode only: there a call is reported
//  unless the function mentions an RT guard before it.
// Options: --no-includes --include-headers
// Requires: 1.1.0
//
//# Guards are recognised when the condition is spelled
//# IS_ENABLED(CONFIG_PREEMPT_RT) or preempt_model_rt(), possibly negated,
//# inside WARN_ON_ONCE(), WARN_ON(), likely() or unlikely(), or as one
//# operand of || (positive form) or && (negated form), and in the
//# short-circuit forms IS_ENABLED(CONFIG_PREEMPT_RT) || call(...) and
//# IS_ENABLED(CONFIG_PREEMPT_RT) ? ... : call(...).

#spatch --defined CONFIG_PREEMPT_RT --defined defined(CONFIG_PREEMPT_RT) --defined IS_ENABLED(CONFIG_PREEMPT_RT)
#spatch --undefined !defined(CONFIG_PREEMPT_RT) --undefined !IS_ENABLED(CONFIG_PREEMPT_RT)

virtual context
virtual org
virtual report

@initialize:python@
@@

import re
import coccilib.elems

APIS = ("down_read_non_owner", "up_read_non_owner",
        "mmap_read_trylock_non_owner", "mmap_read_unlock_non_owner")

WHAT = {
    "down_read_non_owner":
        "takes an rw_semaphore for read that another task will release",
    "up_read_non_owner":
        "releases an rw_semaphore read lock that another task took",
    "mmap_read_trylock_non_owner":
        "takes mmap_lock for read for another task to release",
    "mmap_read_unlock_non_owner":
        "releases an mmap_lock read lock that another task took",
}

def rt_msg(api, fn, extra=""):
    return ("WARNING: %s() in %s() %s; on PREEMPT_RT rw_semaphores are "
            "rt_mutex based and need their owner to release them, a non-owner "
            "release defeats priority inheritance: make PREEMPT_RT take a "
            "fallback path (IS_ENABLED(CONFIG_PREEMPT_RT))%s"
            % (api, fn, WHAT.get(api, "is a non-owner rw_semaphore operation"),
               extra))

# Calls Coccinelle matched in parsed code, per file: (line, column).
seen = {}

# --- Text scan of code Coccinelle could not parse -------------------------

BACKSLASH = chr(92)
QUOTES = chr(34) + chr(39)
# A top-level brace or semicolon, or a call of one of the APIs.
TOKEN_RE = re.compile(r"[{};]|(?<![\w.>])(?:%s)\s*\(" % "|".join(APIS))
RT_GUARD_RE = re.compile(r"IS_ENABLED\s*\(\s*CONFIG_PREEMPT_RT\s*\)"
                         r"|preempt_model_rt\s*\(\s*\)")
NOT_A_NAME = {"__attribute__", "__printf", "__scanf", "__must_hold",
              "__acquires", "__releases", "__section", "__aligned",
              "__alloc_size", "__cond_acquires", "__diagnose_as",
              "__no_sanitize_or_inline", "__nocfi", "__weak", "asm",
              "__asm__", "__attribute"}

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
RT_SYMBOL = "CONFIG_PREEMPT_RT"

def pp_tokens(cond):
    return [m.group(1) for m in PP_TOKEN_RE.finditer(cond)]

def pp_eval(cond):
    toks = pp_tokens(cond)
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
            if sym != RT_SYMBOL:
                return None
            return t != "IS_MODULE"
        if t[0].isdigit():
            try:
                return int(t.rstrip("uUlL"), 0) != 0
            except ValueError:
                return None
        if peek() == "(":
            skip_parens()
        return True if t == RT_SYMBOL else None

    def term():
        # A primary possibly compared or combined arithmetically: unknown
        # unless it stands alone.
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

# Lines of the last file asked about that PREEMPT_RT does not compile.
dead_cache = {}

def dead_lines(fname):
    if fname not in dead_cache:
        dead_cache.clear()
        try:
            with open(fname, errors="replace") as f:
                text = strip_comments_strings(f.read())
        except OSError:
            text = ""
        dead_cache[fname] = {n for n, _, live, _ in code_lines(text) if not live}
    return dead_cache[fname]

# Calls that short-circuit evaluation skips on PREEMPT_RT (rule skipped).
skipped_pos = set()

def reachable_on_rt(p):
    """Script constraint of rule r: the call is compiled and evaluated on RT."""
    for el in p:
        if (el.file, el.line, el.column) in skipped_pos:
            return False
        if int(el.line) in dead_lines(el.file):
            return False
    return True

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

def scan_unparsed(fname, done):
    """Report API calls in code that Coccinelle did not parse."""
    try:
        with open(fname, errors="replace") as f:
            raw = f.read()
    except OSError:
        return []
    if not any(a in raw for a in APIS):
        return []
    text = strip_comments_strings(raw)
    found = []
    depth = 0
    header = []      # text since the last top-level ';' or '}'
    block = None     # [name, text of the current top-level block]
    for lineno, line, live, count in code_lines(text):
        col = 0
        for m in TOKEN_RE.finditer(line):
            tok = m.group(0)
            seg = line[col:m.start()]
            col = m.start()
            if depth == 0:
                header.append(seg)
            elif block is not None:
                block[1].append(seg)
            if tok in "{};":
                if not count:
                    continue
                if tok == "{":
                    if depth == 0:
                        block = [function_name(" ".join(header)), []]
                    depth += 1
                elif tok == "}":
                    depth = max(depth - 1, 0)
                    if depth == 0:
                        block, header = None, []
                elif depth == 0:
                    header = []
                if block is not None:
                    block[1].append(tok)
                col = m.end()
                continue
            api = tok.split("(")[0].strip()
            if (live and depth > 0 and block is not None
                    and block[0] not in APIS
                    and (lineno, m.start()) not in done
                    and not RT_GUARD_RE.search("".join(block[1]))):
                found.append((api, block[0], lineno, m.start()))
        rest = line[col:] + "\n"
        if depth == 0:
            header.append(rest)
        elif block is not None:
            block[1].append(rest)
    return found

def org_todo(pos, msg):
    coccilib.org.print_todo(pos, msg.replace("[", "@(").replace("]", ")"))

def report_unparsed(printer):
    for fname in cocci.files():
        done = seen.pop(fname, set())
        for api, fn, line, col in scan_unparsed(fname, done):
            pos = coccilib.elems.Location(fname, fn, line, col, line, col,
                                          line, col, line, col + len(api))
            printer(pos, rt_msg(api, fn, " (function not parsed by "
                                "Coccinelle: found by a text scan)"))
    seen.clear()

// Every call Coccinelle can see, so that the text scan skips them.
@seen_call depends on org || report@
identifier api = {down_read_non_owner, up_read_non_owner,
		  mmap_read_trylock_non_owner, mmap_read_unlock_non_owner};
position p;
@@

api@p(...)

@script:python depends on org || report@
p << seen_call.p;
@@

for el in p:
    seen.setdefault(el.file, set()).add((int(el.line), int(el.column)))

// Calls that short-circuit evaluation skips on PREEMPT_RT, e.g.
// IS_ENABLED(CONFIG_PREEMPT_RT) || !mmap_read_trylock_non_owner(mm)
@skipped depends on context || org || report@
identifier api = {down_read_non_owner, up_read_non_owner,
		  mmap_read_trylock_non_owner, mmap_read_unlock_non_owner};
expression E;
position p;
@@

(
  \(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\) || <+... api@p(...) ...+>
|
  !\(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\) && <+... api@p(...) ...+>
|
  \(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\) ? E : <+... api@p(...) ...+>
|
  !\(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\) ? <+... api@p(...) ...+> : E
)

@script:python depends on context || org || report@
p << skipped.p;
@@

for el in p:
    skipped_pos.add((el.file, el.line, el.column))

// A call is reachable on PREEMPT_RT when some path from the function entry
// reaches it without taking a branch that only a !PREEMPT_RT kernel takes.
@r depends on context || org || report exists@
identifier api = {down_read_non_owner, up_read_non_owner,
		  mmap_read_trylock_non_owner, mmap_read_unlock_non_owner};
identifier fn != {down_read_non_owner, up_read_non_owner,
		  mmap_read_trylock_non_owner, mmap_read_unlock_non_owner};
position p : script:python() { reachable_on_rt(p) };
@@

fn(...) {
  ... when != false \(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\)
      when != false \(WARN_ON_ONCE\|WARN_ON\|unlikely\|likely\)(\(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\))
      when != false \(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\) || ...
      when != false ... || \(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\)
      when != true !\(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\)
      when != true \(unlikely\|likely\)(!\(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\))
      when != true !\(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\) && ...
      when != true ... && !\(IS_ENABLED(CONFIG_PREEMPT_RT)\|preempt_model_rt()\)
      when any
  api@p(...)
  ... when any
}

@depends on context@
identifier r.api;
position r.p;
@@

* api@p(...)

@script:python depends on org@
p << r.p;
api << r.api;
fn << r.fn;
@@

org_todo(p[0], rt_msg(api, fn))

@script:python depends on report@
p << r.p;
api << r.api;
fn << r.fn;
@@

coccilib.report.print_report(p[0], rt_msg(api, fn))

@script:python depends on org@
@@

report_unparsed(org_todo)

@script:python depends on report@
@@

report_unparsed(coccilib.report.print_report)
