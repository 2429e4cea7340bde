#!/usr/bin/env python3
"""Generate cocci/rt-atomic-sleep.cocci from cocci/gen/rt-atomic-sleep.cocci.in:
    cocci/gen/rt-atomic-sleep.py cocci/gen/rt-atomic-sleep.cocci.in > cocci/rt-atomic-sleep.cocci
The SmPL rules repeat the same
identifier sets and when clauses; this keeps the copies identical."""
import sys
import textwrap

def wrap(names, indent="\t\t"):
    out, line = [], ""
    for n in names:
        piece = n + ", "
        if len(line) + len(piece) > 64:
            out.append(line.rstrip())
            line = ""
        line += piece
    out.append(line.rstrip().rstrip(","))
    return ("\n" + indent).join(out)

def gen(cocci_py, ns):
    sleep_ops, sleep_guards = list(ns["SLEEP_WHY"]), list(ns["SLEEP_GUARD_WHY"])
    KEYED_LOCK, KEYED_TRYLOCK, KEYED_UNLOCK = list(ns["KEYED_LOCK"]), list(ns["KEYED_TRYLOCK"]), list(ns["KEYED_UNLOCK"])
    UNKEYED = [(f, list(a), list(b)) for f, a, b in ns["UNKEYED"]]
    ATOMIC_GUARDS = list(ns["ATOMIC_GUARDS"])
    SLEEP = wrap(sleep_ops)
    SG = wrap(sleep_guards)
    RTW = ("      when != false rtc\n"
           "      when != true nrtc\n"
           "      when any")
    RTDECL = ("expression rtc : script:python() { rt_true(rtc) };\n"
              "expression nrtc : script:python() { rt_false(nrtc) };")
    SLEEPPAT = "(\n  sleep@p(...)\n|\n  guard@p(sg)(...)\n)"
    CALLPAT = "  sleep@p(...)"
    dep = "depends on context || org || report"
    out = []
    w = out.append
    w(cocci_py)

    w(f"""
// Every sleeping call Coccinelle sees: the other rules match f@p(...) with p
// among them, and the text scan skips them.
@sleeping {dep}@
identifier sleep = {{{SLEEP}}};
identifier sg = {{{SG}}};
position p;
@@

{SLEEPPAT}

@script:python {dep}@
p << sleeping.p;
@@

for el in p:
    seen.setdefault(el.file, set()).add((int(el.line), int(el.column)))

// Trylocks whose success is tested by an if or while: the start of a
// section only on the success branch.
@condtry {dep}@
identifier try = {{{wrap(KEYED_TRYLOCK)}}};
expression E;
position p;
statement S1, S2;
@@

(
if (\\(try@p(E, ...)\\|likely(try@p(E, ...))\\)) S1 else S2
|
if (\\(try@p(E, ...)\\|likely(try@p(E, ...))\\)) S1
|
if (\\(!try@p(E, ...)\\|unlikely(!try@p(E, ...))\\)) S1 else S2
|
if (\\(!try@p(E, ...)\\|unlikely(!try@p(E, ...))\\)) S1
|
while (!try@p(E, ...)) S1
)

@script:python {dep}@
p << condtry.p;
@@

for el in p:
    cond_trylocks.add((el.file, el.line, el.column))

// Calls that short-circuit evaluation skips on PREEMPT_RT, e.g.
// IS_ENABLED(CONFIG_PREEMPT_RT) || spin_trylock(&lock)
@skipped {dep}@
identifier f;
{RTDECL}
expression E;
position p : script:python() {{ is_sleeping(p) }};
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

@script:python {dep}@
p << skipped.p;
@@

for el in p:
    skipped_pos.add((el.file, el.line, el.column))

// A raw, bit or arch spinlock held from lock@p0(E) to the sleeping call on
// some path that PREEMPT_RT takes.  The escape rules below drop the call
// when another path reaches it without the lock held.
@ck {dep} exists@
identifier fn;
identifier lock = {{{wrap(KEYED_LOCK + KEYED_TRYLOCK)}}};
identifier unlock = {{{wrap(KEYED_UNLOCK)}}};
identifier try = {{{wrap(KEYED_TRYLOCK)}}};
identifier sleep;
expression E;
{RTDECL}
position p0 : script:python() {{ section_start_ok(p0) }};
position p : script:python() {{ is_sleeping(p) and reachable_on_rt(p) }};
@@

fn(...) {{
  ... when any
{RTW}
  lock@p0(E, ...)
  ... when != unlock(E, ...)
      when != false try(E, ...)
      when != true !try(E, ...)
{RTW}
{CALLPAT}
  ... when any
}}

// The candidate holds unless every path releases the section through a
// local helper given the lock or its object: raw_spin_lock(&p->pi_lock)
// ... task_rq_unlock(rq, p, &rf).
@ckh {dep} exists@
identifier ck.fn;
expression ck.E;
position ck.p0, ck.p;
identifier unlock = {{{wrap(KEYED_UNLOCK)}}};
identifier try = {{{wrap(KEYED_TRYLOCK)}}};
identifier f, g;
identifier hu =~ "unlock|restore";
position ph : script:python(p0) {{ releases(ph, p0) }};
{RTDECL}
position q;
@@

fn(...) {{
  ... when any
  g@p0(...)
  ... when != unlock(E, ...)
      when != false try(E, ...)
      when != true !try(E, ...)
      when != hu@ph(...)
{RTW}
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}}

@script:python {dep}@
p0 << ck.p0;
q << ckh.q;
lock << ck.lock;
E << ck.E;
@@

add_candidate(q, p0, "raw", E, lock + "()")

// Escapes: a path from the function entry that never takes the lock, ...
@ek1 {dep} exists@
identifier ck.fn;
expression ck.E;
position ck.p;
identifier lock = {{{wrap(KEYED_LOCK + KEYED_TRYLOCK)}}};
identifier f;
{RTDECL}
position q;
@@

fn(...) {{
  ... when != lock(E, ...)
{RTW}
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}}

@script:python {dep}@
q << ek1.q;
E << ck.E;
@@

add_escape(q, "raw", E)

// ... or that releases it and does not take it again, ...
@ek2 {dep} exists@
identifier ck.fn;
expression ck.E;
position ck.p;
identifier lock = {{{wrap(KEYED_LOCK + KEYED_TRYLOCK)}}};
identifier unlock = {{{wrap(KEYED_UNLOCK)}}};
identifier f;
{RTDECL}
position q;
@@

fn(...) {{
  ... when any
{RTW}
  unlock(E, ...)
  ... when != lock(E, ...)
{RTW}
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}}

@script:python {dep}@
q << ek2.q;
E << ck.E;
@@

add_escape(q, "raw", E)

// ... or whose trylock failed.
@ek3 {dep} exists@
identifier ck.fn;
expression ck.E;
position ck.p;
identifier lock = {{{wrap(KEYED_LOCK + KEYED_TRYLOCK)}}};
identifier try = {{{wrap(KEYED_TRYLOCK)}}};
identifier f;
{RTDECL}
position q;
@@

fn(...) {{
  ... when any
{RTW}
  try(E, ...)
  ... when != lock(E, ...)
      when != true try(E, ...)
      when != false !try(E, ...)
{RTW}
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}}

@script:python {dep}@
q << ek3.q;
E << ck.E;
@@

add_escape(q, "raw", E)
""")

    def refine(c, fam, starts, ends):
        if fam != "irq":
            return f"""@script:python {dep}@
p0 << {c}.p0;
p << {c}.p;
lock << {c}.lock;
@@

add_candidate(p, p0, "{fam}", "", lock + "()")
"""
        return f"""// As for raw locks: local_irq_save(rf.flags) ... task_rq_unlock(rq, p, &rf),
// local_irq_disable() ... spin_unlock_irq(&lock).
@{c}h {dep} exists@
identifier {c}.fn;
position {c}.p0, {c}.p;
identifier unlock = {{{wrap(ends)}}};
identifier f, g;
identifier hu =~ "unlock|restore|enable";
position ph : script:python(p0) {{ releases(ph, p0) }};
{RTDECL}
position q;
@@

fn(...) {{
  ... when any
  g@p0(...)
  ... when != unlock(...)
      when != hu@ph(...)
{RTW}
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}}

@script:python {dep}@
p0 << {c}.p0;
q << {c}h.q;
lock << {c}.lock;
@@

add_candidate(q, p0, "{fam}", "", lock + "()")
"""

    for fam, starts, ends in UNKEYED:
        c, e1, e2 = "c_" + fam, "e1_" + fam, "e2_" + fam
        w(f"""
// {', '.join(s + '()' for s in starts)} ... {', '.join(s + '()' for s in ends)}
@{c} {dep} exists@
identifier fn;
identifier lock = {{{wrap(starts)}}};
identifier unlock = {{{wrap(ends)}}};
identifier sleep;
{RTDECL}
position p0 : script:python() {{ section_start_ok(p0) }};
position p : script:python() {{ is_sleeping(p) and reachable_on_rt(p) }};
@@

fn(...) {{
  ... when any
{RTW}
  lock@p0(...)
  ... when != unlock(...)
{RTW}
{CALLPAT}
  ... when any
}}

{refine(c, fam, starts, ends)}

@{e1} {dep} exists@
identifier {c}.fn;
position {c}.p;
identifier lock = {{{wrap(starts)}}};
identifier f;
{RTDECL}
position q;
@@

fn(...) {{
  ... when != lock(...)
{RTW}
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}}

@script:python {dep}@
q << {e1}.q;
@@

add_escape(q, "{fam}", "")

@{e2} {dep} exists@
identifier {c}.fn;
position {c}.p;
identifier lock = {{{wrap(starts)}}};
identifier unlock = {{{wrap(ends)}}};
identifier f;
{RTDECL}
position q;
@@

fn(...) {{
  ... when any
{RTW}
  unlock(...)
  ... when != lock(...)
{RTW}
(
  f@p@q(...)
|
  guard@p@q(...)(...)
)
  ... when any
}}

@script:python {dep}@
q << {e2}.q;
@@

add_escape(q, "{fam}", "")
""")

    w(f"""
// guard(raw_spinlock*)(...), guard(preempt)(), guard(irq)() ...: to the end
// of the enclosing block (checked by add_guard_candidate).
@cg {dep} exists@
identifier fn;
identifier G = {{{wrap(ATOMIC_GUARDS)}}};
identifier sleep;
{RTDECL}
position p0 : script:python() {{ section_start_ok(p0) }};
position p : script:python() {{ is_sleeping(p) and reachable_on_rt(p) }};
@@

fn(...) {{
  ... when any
{RTW}
  guard@p0(G)(...);
  ... when any
{RTW}
{CALLPAT}
  ... when any
}}

@script:python {dep}@
p0 << cg.p0;
p << cg.p;
G << cg.G;
@@

add_guard_candidate(p, p0, G)

@depends on context@
identifier f;
position p : script:python() {{ is_reported(p) }};
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
""")
    return "".join(out)


if __name__ == "__main__":
    head = open(sys.argv[1]).read()
    ns = {}
    # The python block of the script defines SLEEP_WHY and SLEEP_GUARD_WHY.
    body = head.split("@initialize:python@\n@@\n", 1)[1]
    import types
    fake = types.ModuleType("coccilib")
    fake.elems = types.ModuleType("coccilib.elems")
    sys.modules["coccilib"] = fake
    sys.modules["coccilib.elems"] = fake.elems
    exec(body, ns)
    out = gen(head, ns).replace("  ... when any\n      when != false rtc",
                                "  ... when != false rtc")
    sys.stdout.write(out)
