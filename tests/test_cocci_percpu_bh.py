"""Tests of the Coccinelle twin of rt-percpu-bh (cocci/rt-percpu-bh.cocci),
and the comparison with the Clang rule.

spatch runs in report mode with the options `make coccicheck` uses
(`-D report --very-quiet` plus the `// Options:` line of the script), on
  * a few built-in snippets written to pytest's tmp dir: each case next to its
    nearest legal neighbour (the same access under local_lock_nested_bh(),
    under preempt_disable(), a this_cpu_inc(), an RT-dead branch; blind
    statistics next to a write or a read-back, a peek next to a write); the
    ones that compile against the 6.12 headers are also checked against
    rtcheck's findings,
  * real files of the prepared 6.1 and 6.12 trees, with function-level
    results (the report names the function of each access),
  * every tests/fixtures/rt-percpu-bh/*.c (inline expectations, design.md §5):
    the script is intraprocedural, so an expected line whose marker line also
    says `interprocedural`, `entry context` or `not parsed by Coccinelle` in a
    comment may stay silent; every other expected line must be reported and
    nothing else may be; and against rtcheck's own findings on them,
and once through `make coccicheck ... MODE=report M=.../net/ipv4` on the 6.1
tree. Like rtcheck, the script judges each use of the pointer an access
stores in a local, and reports each per-CPU variable once per file, at its
first BH-only access, and lists the others in the message (the fields of a
header struct that the file serialises otherwise somewhere are objects of
their own, reported at their use); `-D per_function` gives one report per
variable and function.
"""
import glob
import os
import re
import subprocess
import textwrap

import pytest

import coccitest
from conftest import FIXTURES, REPO
from coccitest import MARKER_RE, REPORT_RE, TIMEOUT

RULE = "rt-percpu-bh"
COCCI = os.path.join(REPO, "cocci", f"{RULE}.cocci")
FIXTURE_DIR = os.path.join(FIXTURES, RULE)
KERNEL_API = os.path.join(REPO, "include", "rtcheck", "kernel_api.def")
MESSAGE_RE = re.compile(
    r"^WARNING: per-CPU (?P<obj>.+?) is accessed with only BH disabled by "
    r"(?P<api>\w+\(\)|\w+\(\w+\)): on PREEMPT_RT .* needs a local_lock_t taken with "
    r"local_lock_nested_bh\(\) \(in (?P<fn>\w+)\(\), BH disabled at line (?P<bh>\d+)"
    r"(?P<also>(?:; also at line \d+(?: in \w+\(\))?)*)\)$")
# A lock wrapper PREEMPT_RT leaves empty (rps_lock_irqsave(), Linux 6.1).
SKIPPED_LOCK_RE = re.compile(
    r"^WARNING: on PREEMPT_RT without (?P<opt>CONFIG_\w+), (?P<fn>\w+)\(\) serialises "
    r"nothing: it (?:takes|releases) the lock \((?P<api>\w+)\((?P<lock>.+?)\)\) only with "
    r"(?P=opt) and \w+\(\) is skipped on PREEMPT_RT, .*\(IS_ENABLED\((?P=opt)\) \|\| "
    r"IS_ENABLED\(CONFIG_PREEMPT_RT\)\)(?P<also>(?:; also at line \d+ in \w+\(\))*)$")
ALSO_RE = re.compile(r"; also at line (\d+)(?: in (\w+)\(\))?")
# Snippet annotation of an expected report: /* is: OBJECT by API */
IS_RE = re.compile(r"/\*\s*is:\s*(?P<obj>\S+) by (?P<api>\S+)\s*\*/")
COMMENT_RE = re.compile(r"/\*.*?\*/|//.*$")
BLIND = ("interprocedural", "entry context", "not parsed by Coccinelle")


# ---------------------------------------------------------------- helpers

def spatch_report(path, cwd=None, per_function=False):
    """Report mode on one file: [(line, column, message)]; other output fails."""
    if not per_function:
        return coccitest.report_lines(COCCI, path, cwd)
    spatch = coccitest.require_spatch(COCCI)
    cmd = [spatch, "-D", "report", "-D", "per_function", "--very-quiet",
           *coccitest.cocci_options(COCCI), "--cocci-file", COCCI, path]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT)
    assert res.returncode == 0 and "Traceback" not in res.stdout + res.stderr, \
        f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}{res.stderr}"
    found = []
    for l in res.stdout.splitlines():
        m = REPORT_RE.match(l)
        assert m or not l.strip(), f"unexpected spatch output for {path}: {l}"
        if m:
            found.append((int(m["line"]), int(m["col"]), m["msg"]))
    return found


def parse(msg):
    m = SKIPPED_LOCK_RE.match(msg)
    if m:
        also = [(int(l), f) for l, f in ALSO_RE.findall(m["also"])]
        return {"obj": m["lock"].lstrip("&"), "api": m["api"] + "()", "fn": m["fn"], "bh": None,
                "also": also}
    m = MESSAGE_RE.match(msg)
    assert m, f"malformed message: {msg}"
    also = [(int(l), f or m["fn"]) for l, f in ALSO_RE.findall(m["also"])]
    return {"obj": m["obj"], "api": m["api"], "fn": m["fn"], "bh": int(m["bh"]), "also": also}


def findings(path, cwd=None, per_function=False):
    """[(line, function, object, [(line, function) also listed])], in line order."""
    out = []
    for line, _, msg in sorted(spatch_report(path, cwd, per_function)):
        f = parse(msg)
        out.append((line, f["fn"], f["obj"], f["also"]))
    return out


def expectations(path):
    """{line: {"ids", "blind", "is"}} from the markers of one file."""
    exp = {}
    with open(path, errors="replace") as f:
        lines = f.read().split("\n")
    for i, text in enumerate(lines, 1):
        comments = " ".join(COMMENT_RE.findall(text))
        for m in MARKER_RE.finditer(text):
            e = exp.setdefault(i + int(m["off"] or 0), {"ids": set(), "blind": False, "is": None})
            e["ids"] |= {x.strip() for x in m["ids"].split(",") if x.strip()}
            e["blind"] |= any(b in comments for b in BLIND)
            is_ = IS_RE.search(text)
            if is_:
                e["is"] = (is_["obj"], is_["api"])
    return exp, lines


def check_file(path, cwd=None):
    """Assert the report of one annotated C file against its expectation markers."""
    found = spatch_report(path, cwd=cwd)
    exp, lines = expectations(path)
    name = os.path.relpath(path, REPO) if path.startswith(REPO) else path
    errors, reported = [], {}
    for line, col, msg in found:
        reported.setdefault(line, []).append(col)
        e = exp.get(line)
        src = COMMENT_RE.sub(" ", lines[line - 1]) if 0 < line <= len(lines) else ""
        m = MESSAGE_RE.match(msg)
        skipped = SKIPPED_LOCK_RE.match(msg)
        if not e or RULE not in e["ids"]:
            errors.append(f"{name}:{line}: reported but no '{RULE}' expectation: {msg}")
        elif skipped:  # at the config test of the first wrapper
            if f"IS_ENABLED({skipped['opt']})" not in src:
                errors.append(f"{name}:{line}: not the test of {skipped['opt']}: {src.strip()}")
        elif not m:
            errors.append(f"{name}:{line}: malformed message: {msg}")
        elif not names_object(m["obj"], src):
            errors.append(f"{name}:{line}: message names {m['obj']}, not on the line: {src.strip()}")
        elif e["is"] and e["is"] != (m["obj"], m["api"]):
            errors.append(f"{name}:{line}: {m['obj']} by {m['api']}, want {e['is'][0]} by {e['is'][1]}")
    for line, e in sorted(exp.items()):
        if RULE in e["ids"] and not e["blind"] and line not in reported:
            src = lines[line - 1] if 0 < line <= len(lines) else ""
            errors.append(f"{name}:{line}: expected '{RULE}' not reported: {src.strip()}")
    for line, cols in sorted(reported.items()):
        if len(cols) != 1:
            errors.append(f"{name}:{line}: reported more than once")
    assert not errors, "\n".join(errors)
    return found


def names_object(obj, src):
    """The line shows the object: as written at an access, or, for a field of
    a header struct found at its use, as p->field."""
    obj, src = re.sub(r"\s", "", obj), re.sub(r"\s", "", src)
    return obj in src or ("." in obj and "->" + obj.split(".", 1)[1] in src)


def write_snippet(tmp_path, name):
    path = tmp_path / f"{name}.c"
    path.write_text(textwrap.dedent(SNIPPETS[name]).lstrip("\n"))
    return str(path)


# ---------------------------------------------- built-in snippets (tmp)

SNIPPETS = {
    # Each BH-disabling API, and what lies just outside its section.
    "sections": """
        void a(struct list_head *item)
        {
        	local_bh_disable();
        	list_add(item, this_cpu_ptr(&a_list)); /* expect: rt-percpu-bh */ /* is: a_list by local_bh_disable() */
        	local_bh_enable();
        	list_add(item, this_cpu_ptr(&a_after));
        }
        void b(struct o *o, int cpu)
        {
        	spin_lock_bh(&o->lock);
        	__this_cpu_inc(b_count); /* expect: rt-percpu-bh */ /* is: b_count by spin_lock_bh() */
        	spin_unlock_bh(&o->lock);
        	read_lock_bh(&o->rwlock);
        	o->p = raw_cpu_ptr(&b_raw.slot); /* expect: rt-percpu-bh */ /* is: b_raw.slot by read_lock_bh() */
        	read_unlock_bh(&o->rwlock);
        	write_lock_bh(&o->rwlock);
        	o->q = per_cpu_ptr(&b_pcp, smp_processor_id()); /* expect: rt-percpu-bh */ /* is: b_pcp by write_lock_bh() */
        	o->r = per_cpu_ptr(&b_other, cpu);
        	write_unlock_bh(&o->rwlock);
        	rcu_read_lock_bh();
        	__this_cpu_add(b_bytes, o->len); /* expect: rt-percpu-bh */ /* is: b_bytes by rcu_read_lock_bh() */
        	rcu_read_unlock_bh();
        }
        void c(struct o *o)
        {
        	spin_lock_bh(&o->outer);
        	spin_lock_bh(&o->inner);
        	spin_unlock_bh(&o->inner);
        	o->x = __this_cpu_read(c_state); /* expect: rt-percpu-bh */ /* is: c_state by spin_lock_bh() */
        	spin_unlock_bh(&o->outer);
        	o->y = __this_cpu_read(c_after);
        }
        void d(struct o *o)
        {
        	guard(spinlock_bh)(&o->lock);
        	__this_cpu_write(d_owner, o); /* expect: rt-percpu-bh */ /* is: d_owner by guard(spinlock_bh) */
        }
        void e(struct o *o)
        {
        	scoped_guard(spinlock_bh, &o->lock) {
        		__this_cpu_dec(e_depth); /* expect: rt-percpu-bh */ /* is: e_depth by scoped_guard(spinlock_bh) */
        	}
        	__this_cpu_dec(e_after);
        }
        void f(int x)
        {
        	local_bh_disable();
        	if (x) {
        		local_bh_enable();
        		return;
        	}
        	raw_cpu_inc(f_hits); /* expect: rt-percpu-bh */ /* is: f_hits by local_bh_disable() */
        	local_bh_enable();
        	per_cpu(f_cpu, smp_processor_id()) = x;
        }
        /* Other BH-only uses: no spin_lock_bh() lock is held at every use. */
        void z(struct o *o)
        {
        	local_bh_disable();
        	__this_cpu_dec(b_count);
        	o->p = raw_cpu_ptr(&b_raw.slot);
        	o->q = per_cpu_ptr(&b_pcp, smp_processor_id());
        	__this_cpu_sub(b_bytes, o->len);
        	__this_cpu_write(c_state, 0);
        	__this_cpu_write(d_owner, NULL);
        	__this_cpu_inc(e_depth);
        	local_bh_enable();
        }
        /* The counters are read back: their updates are no blind statistics. */
        unsigned long y(void)
        {
        	return __this_cpu_read(b_count) + __this_cpu_read(b_bytes) +
        	       __this_cpu_read(e_depth) + raw_cpu_read(f_hits);
        }
        """,
    # A spin_lock_bh() lock held at every access of the file serialises the
    # per-CPU data (as rtcheck decides it).
    "common_lock": """
        void a(struct list_head *item)
        {
        	spin_lock_bh(&list_lock);
        	list_add(item, this_cpu_ptr(&a_list));
        	spin_unlock_bh(&list_lock);
        }
        void b(void)
        {
        	spin_lock_bh(&list_lock);
        	INIT_LIST_HEAD(this_cpu_ptr(&a_list));
        	spin_unlock_bh(&list_lock);
        }
        void c(struct list_head *item)
        {
        	spin_lock_bh(&list_lock);
        	list_add(item, this_cpu_ptr(&c_list)); /* expect: rt-percpu-bh */ /* is: c_list by spin_lock_bh() */
        	spin_unlock_bh(&list_lock);
        }
        void d(void)
        {
        	spin_lock_bh(&other_lock);
        	INIT_LIST_HEAD(this_cpu_ptr(&c_list));
        	spin_unlock_bh(&other_lock);
        }
        void e(void)
        {
        	guard(spinlock_bh)(&list_lock);
        	__this_cpu_inc(e_count);
        }
        void f(void)
        {
        	scoped_guard(spinlock_bh, &list_lock)
        		__this_cpu_dec(e_count);
        }
        int g(void)
        {
        	int n;

        	spin_lock_bh(&list_lock);
        	n = __this_cpu_read(e_count);
        	spin_unlock_bh(&list_lock);
        	return n;
        }
        """,
    # The same accesses under what serialises them, or makes them another
    # rule's concern; single-instruction this_cpu_*() operations.
    "neighbours": """
        void a(unsigned int len, gfp_t gfp)
        {
        	struct page_frag_cache *nc;

        	local_bh_disable();
        	local_lock_nested_bh(&a_cache.bh_lock);
        	nc = this_cpu_ptr(&a_cache.page);
        	local_unlock_nested_bh(&a_cache.bh_lock);
        	local_bh_enable();
        }
        void b(void)
        {
        	local_bh_disable();
        	{
        		guard(local_lock_nested_bh)(&b_cache.bh_lock);
        		b_use(this_cpu_ptr(&b_cache.page));
        	}
        	local_bh_enable();
        }
        void c(unsigned int len, gfp_t gfp)
        {
        	struct page_frag_cache *nc;
        	void *data;

        	local_bh_disable();
        	scoped_guard(local_lock_nested_bh, &c_cache.bh_lock) {
        		nc = this_cpu_ptr(&c_cache.page);
        		data = page_frag_alloc(nc, len, gfp);
        	}
        	local_bh_enable();
        }
        void d(void)
        {
        	local_bh_disable();
        	local_lock(&d_locks.other);
        	__this_cpu_inc(d_count);
        	local_unlock(&d_locks.other);
        	local_bh_enable();
        }
        void e(struct o *o)
        {
        	unsigned long flags;

        	local_bh_disable();
        	preempt_disable();
        	__this_cpu_inc(e_count);
        	preempt_enable();
        	local_irq_save(flags);
        	__this_cpu_inc(e_irq_count);
        	local_irq_restore(flags);
        	raw_spin_lock(&o->raw);
        	o->p = this_cpu_ptr(&e_raw_data);
        	raw_spin_unlock(&o->raw);
        	spin_lock(&o->lock);
        	o->q = this_cpu_ptr(&e_locked_data);
        	spin_unlock(&o->lock);
        	mutex_lock(&o->mutex);
        	o->r = this_cpu_ptr(&e_mutex_data);
        	mutex_unlock(&o->mutex);
        	this_cpu_inc(e_stat);
        	this_cpu_add(e_stat, 2);
        	this_cpu_write(e_flag, 1);
        	local_bh_enable();
        }
        void f(void)
        {
        	struct softnet_data *sd;

        	local_bh_disable();
        	sd = this_cpu_ptr(&f_data);
        	local_lock_nested_bh(&f_data.bh_lock);
        	f_use(sd);
        	local_unlock_nested_bh(&f_data.bh_lock);
        	local_bh_enable();
        }
        void g(int x)
        {
        	local_bh_disable();
        	if (x)
        		local_lock_nested_bh(&g_other.bh_lock);
        	g_use(this_cpu_ptr(&g_data)); /* expect: rt-percpu-bh */ /* is: g_data by local_bh_disable() */
        	if (x)
        		local_unlock_nested_bh(&g_other.bh_lock);
        	if (x)
        		preempt_disable();
        	__this_cpu_inc(g_count); /* expect: rt-percpu-bh */ /* is: g_count by local_bh_disable() */
        	if (x)
        		preempt_enable();
        	local_bh_enable();
        }
        /* The counters are read back: their updates are no blind statistics. */
        unsigned long h(void)
        {
        	return __this_cpu_read(d_count) + __this_cpu_read(e_count) +
        	       __this_cpu_read(e_irq_count) + __this_cpu_read(g_count);
        }
        """,
    # Code a PREEMPT_RT kernel does not run, and code only it runs.
    "rt_dead": """
        void a(void)
        {
        	local_bh_disable();
        	if (!IS_ENABLED(CONFIG_PREEMPT_RT))
        		__this_cpu_inc(a_count);
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		__this_cpu_inc(a_rt_count); /* expect: rt-percpu-bh */ /* is: a_rt_count by local_bh_disable() */
        	local_bh_enable();
        }
        void b(void)
        {
        	if (!IS_ENABLED(CONFIG_PREEMPT_RT)) {
        		local_bh_disable();
        		b_use(this_cpu_ptr(&b_data));
        		local_bh_enable();
        	}
        }
        void c(void)
        {
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		return;
        	local_bh_disable();
        	c_use(this_cpu_ptr(&c_data));
        	local_bh_enable();
        }
        void d(void)
        {
        	local_bh_disable();
        #ifndef CONFIG_PREEMPT_RT
        	d_use(this_cpu_ptr(&d_data));
        #else
        	local_lock_nested_bh(&d_locks.bh_lock);
        	d_use(this_cpu_ptr(&d_rt_data));
        	local_unlock_nested_bh(&d_locks.bh_lock);
        #endif
        #if !defined(CONFIG_PREEMPT_RT) && defined(CONFIG_SMP)
        	d_use(this_cpu_ptr(&d_smp_data));
        #endif
        #ifdef CONFIG_PREEMPT_RT
        	d_use(this_cpu_ptr(&d_rt_only)); /* expect: rt-percpu-bh */ /* is: d_rt_only by local_bh_disable() */
        #endif
        	local_bh_enable();
        }
        void e(void)
        {
        	local_bh_disable();
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		local_lock_nested_bh(&e_locks.bh_lock);
        	e_use(this_cpu_ptr(&e_data));
        	if (IS_ENABLED(CONFIG_PREEMPT_RT))
        		local_unlock_nested_bh(&e_locks.bh_lock);
        	local_bh_enable();
        }
        unsigned long f(void)
        {
        	return this_cpu_read(a_count) + this_cpu_read(a_rt_count);
        }
        """,
    # this_cpu_read() counts when it loads a pointer through which the object
    # is then changed (ctl_sk = this_cpu_read(ipv4_tcp_sk), Linux 6.1), not
    # when the pointer is only handed on.
    "pointer_reads": """
        void a(struct net *net)
        {
        	struct sock *ctl_sk;
        	unsigned int n;

        	local_bh_disable();
        	ctl_sk = this_cpu_read(a_ctl_sk); /* expect: rt-percpu-bh */ /* is: a_ctl_sk by local_bh_disable() */
        	sock_net_set(ctl_sk, net);
        	ctl_sk->sk_mark = 0;
        	n = this_cpu_read(a_count);
        	a_use(n);
        	local_bh_enable();
        }
        void b(u32 mark)
        {
        	local_bh_disable();
        	{
        		struct sock *sk = this_cpu_read(b_sk); /* expect: rt-percpu-bh */ /* is: b_sk by local_bh_disable() */

        		sk->sk_mark = mark;
        	}
        	local_bh_enable();
        }
        void c(void)
        {
        	struct sock *unused;

        	local_bh_disable();
        	unused = this_cpu_read(c_sk);
        	local_bh_enable();
        }
        /* The pointer only handed on (a refcounted route cached per CPU). */
        void d(struct sk_buff *skb)
        {
        	struct dst_entry *dst;

        	local_bh_disable();
        	dst = this_cpu_read(d_dst);
        	dst_hold(dst);
        	skb_dst_set(skb, dst);
        	local_bh_enable();
        }
        """,
    # One report per per-CPU variable of the file, at its first BH-only access.
    "grouping": """
        void a(struct sk_buff *skb)
        {
        	local_bh_disable();
        	if (__this_cpu_inc_return(g_nest) > 4) /* expect: rt-percpu-bh */ /* is: g_nest by local_bh_disable() */
        		goto out;
        	g_xmit(skb);
        out:
        	__this_cpu_dec(g_nest);
        	local_bh_enable();
        }
        void b(void)
        {
        	struct page_frag_cache *nc;

        	local_bh_disable();
        	nc = this_cpu_ptr(&g_cache.page); /* expect: rt-percpu-bh */ /* is: g_cache.page by local_bh_disable() */
        	local_bh_enable();
        }
        void c(void)
        {
        	struct page_frag_1k *nc;

        	rcu_read_lock_bh();
        	nc = this_cpu_ptr(&g_cache.page_small);
        	rcu_read_unlock_bh();
        }
        struct g_cache {
        	struct page_frag_cache page;
        	struct page_frag_1k page_small;
        };
        static DEFINE_PER_CPU(struct g_cache, g_cache);
        """,
    # Blind statistics: a per-CPU struct whose BH-only uses through the pointer
    # only count (p->f++, p->f += e ...), and __this_cpu_inc/add/dec/sub()
    # statements, when nothing in the file reads the value back; next to a
    # write, a read-back, the pointer handed whole somewhere.
    "blind_stats": """
        #include <linux/bottom_half.h>
        #include <linux/percpu.h>

        struct a_stats {
        	unsigned long packets;
        	unsigned long bytes;
        };
        static DEFINE_PER_CPU(struct a_stats, a_stats);
        static DEFINE_PER_CPU(struct a_stats, a_written);
        static DEFINE_PER_CPU(struct a_stats, a_read_back);
        static DEFINE_PER_CPU(struct a_stats, a_passed);
        static DEFINE_PER_CPU(struct a_stats, a_kept);
        static DEFINE_PER_CPU(struct a_stats, a_state);
        static DEFINE_PER_CPU(unsigned long, g_drops);
        static DEFINE_PER_CPU(unsigned long, g_bytes);
        static DEFINE_PER_CPU(unsigned long, g_raw);
        static DEFINE_PER_CPU(unsigned long, h_count);
        void a_log(unsigned long n);
        void d_flush(struct a_stats *st);

        /* Blind statistics through the pointer: a lost count breaks nothing. */
        void a(unsigned int len)
        {
        	struct a_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&a_stats);
        	st->packets++;
        	st->bytes += len;
        	--st->packets;
        	st->bytes -= len;
        	a_log(sizeof(*st));
        	local_bh_enable();
        }

        /* A write next to the counter. */
        void b(unsigned int len)
        {
        	struct a_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&a_written); /* expect: rt-percpu-bh */ /* is: a_written by local_bh_disable() */
        	st->packets++;
        	st->bytes = len;
        	local_bh_enable();
        }

        /* A counter whose value the file reads back. */
        void c(void)
        {
        	struct a_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&a_read_back); /* expect: rt-percpu-bh */ /* is: a_read_back by local_bh_disable() */
        	st->packets++;
        	local_bh_enable();
        }

        unsigned long c_show(void)
        {
        	return __this_cpu_read(a_read_back.packets);
        }

        /* The pointer handed whole to a function of another file ... */
        void d(void)
        {
        	struct a_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&a_passed); /* expect: rt-percpu-bh */ /* is: a_passed by local_bh_disable() */
        	st->packets++;
        	d_flush(st);
        	local_bh_enable();
        }

        /* ... or to one of this file, which decides. */
        static void e_reset(struct a_stats *st)
        {
        	st->bytes = 0;
        }

        void e(void)
        {
        	struct a_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&a_kept);
        	st->packets++;
        	e_reset(st);
        	local_bh_enable();
        }

        /* One local, two accesses: a use belongs to the access before it. */
        void f(void *owner)
        {
        	struct a_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&a_stats);
        	st->packets++;
        	st = this_cpu_ptr(&a_state); /* expect: rt-percpu-bh */ /* is: a_state by local_bh_disable() */
        	st->bytes = (unsigned long)owner;
        	local_bh_enable();
        }

        /* __this_cpu_inc/add/dec/sub() statements, blind ... */
        void g(unsigned int len)
        {
        	local_bh_disable();
        	__this_cpu_inc(g_drops);
        	__this_cpu_add(g_bytes, len);
        	__this_cpu_dec(g_drops);
        	__this_cpu_sub(g_bytes, len);
        	raw_cpu_inc(g_raw);
        	local_bh_enable();
        }

        /* ... or read back. */
        void h(void)
        {
        	local_bh_disable();
        	__this_cpu_inc(h_count); /* expect: rt-percpu-bh */ /* is: h_count by local_bh_disable() */
        	local_bh_enable();
        }

        bool h_busy(void)
        {
        	return this_cpu_read(h_count) > 4;
        }
        """,
    # Members only read with BH off (a peek before taking the lock that
    # guards them, list_empty()), and what is judged at each use: a write
    # with irqs off is serialised, wherever the pointer was taken.
    "peeks": """
        #include <linux/bottom_half.h>
        #include <linux/irqflags.h>
        #include <linux/list.h>
        #include <linux/netdevice.h>
        #include <linux/percpu.h>
        #include <linux/skbuff.h>

        struct p_state {
        	void *owner;
        	unsigned int busy;
        };
        static DEFINE_PER_CPU(struct p_state, p_state);
        static DEFINE_PER_CPU(struct p_state, p_owned);
        void p_free(struct sk_buff *skb);
        void p_wait(void);

        /* net_tx_action(): a peek, then the field taken with irqs off. */
        void a(void)
        {
        	struct softnet_data *sd;
        	struct sk_buff *clist;

        	local_bh_disable();
        	sd = this_cpu_ptr(&softnet_data);
        	if (sd->completion_queue) {
        		local_irq_disable();
        		clist = sd->completion_queue;
        		sd->completion_queue = NULL;
        		local_irq_enable();
        		p_free(clist);
        	}
        	if (!list_empty(&sd->poll_list))
        		p_wait();
        	local_bh_enable();
        }

        /* A peek next to a write of the field: found at the first use. */
        void b(void)
        {
        	struct softnet_data *sd;

        	local_bh_disable();
        	sd = this_cpu_ptr(&softnet_data);
        	if (sd->output_queue) /* expect: rt-percpu-bh */ /* is: softnet_data.output_queue by local_bh_disable() */
        		sd->output_queue = NULL;
        	local_bh_enable();
        }

        /* A struct of the file: a member only read ... */
        void c(void)
        {
        	struct p_state *ps;

        	local_bh_disable();
        	ps = this_cpu_ptr(&p_state);
        	if (ps->busy)
        		p_wait();
        	local_bh_enable();
        }

        /* ... or written too. */
        void d(void *owner)
        {
        	struct p_state *ps;

        	local_bh_disable();
        	ps = this_cpu_ptr(&p_owned); /* expect: rt-percpu-bh */ /* is: p_owned by local_bh_disable() */
        	if (!ps->owner)
        		ps->owner = owner;
        	local_bh_enable();
        }

        /* A counter read back in the section is no blind statistic. */
        void e(void)
        {
        	struct softnet_data *sd;

        	local_bh_disable();
        	sd = this_cpu_ptr(&softnet_data);
        	sd->received_rps++;
        	sd->time_squeeze++; /* expect: rt-percpu-bh */ /* is: softnet_data.time_squeeze by local_bh_disable() */
        	if (sd->time_squeeze > 100)
        		p_wait();
        	local_bh_enable();
        }
        """,
    # What the findings are grouped by: the fields of a header struct that the
    # file also serialises otherwise (softnet_data) are objects of their own,
    # found at their use; locks of the object itself.
    "fields": """
        #include <linux/bottom_half.h>
        #include <linux/irqflags.h>
        #include <linux/list.h>
        #include <linux/spinlock.h>
        #include <linux/local_lock.h>
        #include <linux/lockdep.h>
        #include <linux/netdevice.h>
        #include <linux/percpu.h>
        #include <linux/skbuff.h>

        static DEFINE_PER_CPU(struct list_head, f_list);
        DECLARE_PER_CPU(struct sk_buff_head, f_queue);
        void f_flush(struct softnet_data *sd);

        /* A header struct with a field serialised otherwise (irqs off) is a
         * container: each field is an object, found at its use; the struct handed
         * whole to a function is left to it. */
        void a(struct sk_buff *skb)
        {
        	struct softnet_data *sd;
        	unsigned long flags;

        	local_bh_disable();
        	sd = this_cpu_ptr(&softnet_data);
        	__skb_queue_tail(&sd->process_queue, skb); /* expect: rt-percpu-bh */ /* is: softnet_data.process_queue by local_bh_disable() */
        	sd->in_net_rx_action = true; /* expect: rt-percpu-bh */ /* is: softnet_data.in_net_rx_action by local_bh_disable() */
        	f_flush(sd);
        	local_irq_save(flags);
        	sd->completion_queue = NULL;
        	local_irq_restore(flags);
        	sd->in_net_rx_action = false;
        	local_bh_enable();
        }

        void b(void)
        {
        	local_bh_disable();
        	__this_cpu_write(softnet_data.processed, 0); /* expect: rt-percpu-bh */ /* is: softnet_data.processed by local_bh_disable() */
        	__this_cpu_inc(softnet_data.time_squeeze);
        	local_bh_enable();
        }

        unsigned int b_processed(void)
        {
        	return __this_cpu_read(softnet_data.processed);
        }

        void c(void)
        {
        	struct softnet_data *sd;

        	rcu_read_lock_bh();
        	sd = this_cpu_ptr(&softnet_data);
        	sd->in_net_rx_action = false;
        	rcu_read_unlock_bh();
        }

        /* A header struct with no field serialised otherwise: one object ... */
        void d(struct sk_buff *skb)
        {
        	struct sk_buff_head *q;

        	local_bh_disable();
        	q = this_cpu_ptr(&f_queue); /* expect: rt-percpu-bh */ /* is: f_queue by local_bh_disable() */
        	q->qlen++;
        	q->next = skb;
        	local_bh_enable();
        }

        /* ... and one used whole. */
        void e(struct list_head *item)
        {
        	struct list_head *l;

        	local_bh_disable();
        	l = this_cpu_ptr(&f_list); /* expect: rt-percpu-bh */ /* is: f_list by local_bh_disable() */
        	list_add(item, l);
        	local_bh_enable();
        }

        /* spin_lock_bh() of the object's own lock serialises it, another lock not. */
        struct f_uncached {
        	spinlock_t lock;
        	struct list_head head;
        };
        static DEFINE_PER_CPU(struct f_uncached, f_uncached);
        static DEFINE_PER_CPU(struct f_uncached, f_other);
        static DEFINE_SPINLOCK(f_lock);

        void f(struct list_head *node, struct f_uncached **where)
        {
        	struct f_uncached *ul = raw_cpu_ptr(&f_uncached);

        	*where = ul;
        	spin_lock_bh(&ul->lock);
        	list_add_tail(node, &ul->head);
        	spin_unlock_bh(&ul->lock);
        }

        void g(struct list_head *node, struct f_uncached **where)
        {
        	struct f_uncached *ul = raw_cpu_ptr(&f_other); /* expect: rt-percpu-bh */ /* is: f_other by spin_lock_bh() */

        	*where = ul;
        	spin_lock_bh(&f_lock);
        	list_add_tail(node, &ul->head);
        	spin_unlock_bh(&f_lock);
        }

        /* The local_lock_t of the object, through the pointer: taken or asserted. */
        struct f_scratch {
        	local_lock_t bh_lock;
        	void *hdr;
        };
        static DEFINE_PER_CPU(struct f_scratch, f_scratch) = {
        	.bh_lock = INIT_LOCAL_LOCK(bh_lock),
        };
        static DEFINE_PER_CPU(struct f_scratch, f_held) = {
        	.bh_lock = INIT_LOCAL_LOCK(bh_lock),
        };
        static DEFINE_PER_CPU(struct f_scratch, f_unheld);

        void h(void *hdr)
        {
        	struct f_scratch *s;

        	local_bh_disable();
        	s = this_cpu_ptr(&f_scratch);
        	s->hdr = NULL;
        	local_lock_nested_bh(&s->bh_lock);
        	s->hdr = hdr;
        	local_unlock_nested_bh(&s->bh_lock);
        	local_bh_enable();
        }

        void i(void *hdr)
        {
        	struct f_scratch *s;

        	local_bh_disable();
        	s = this_cpu_ptr(&f_held);
        	lockdep_assert_held(&s->bh_lock);
        	s->hdr = hdr;
        	local_bh_enable();
        }

        void j(void *hdr, spinlock_t *l)
        {
        	struct f_scratch *s;

        	local_bh_disable();
        	s = this_cpu_ptr(&f_unheld); /* expect: rt-percpu-bh */ /* is: f_unheld by local_bh_disable() */
        	lockdep_assert_held(l);
        	s->hdr = hdr;
        	local_bh_enable();
        }
        """,
    # Lockless on purpose (READ_ONCE(), WRITE_ONCE(), xchg()), and the lock
    # of the object taken: uses that are reads.
    "lockless": """
        #include <linux/bottom_half.h>
        #include <linux/netdevice.h>
        #include <linux/percpu.h>
        #include <linux/skbuff.h>
        #include <linux/spinlock.h>

        struct l_state {
        	spinlock_t lock;
        	void *owner;
        	unsigned long seq;
        	struct sk_buff *queue;
        };
        static DEFINE_PER_CPU(struct l_state, l_state);
        static DEFINE_PER_CPU(struct l_state, l_locked);
        static DEFINE_PER_CPU(struct l_state, l_plain);
        void l_free(struct sk_buff *skb);

        /* Lockless on purpose. */
        void a(void *owner)
        {
        	struct l_state *ls;

        	local_bh_disable();
        	ls = this_cpu_ptr(&l_state);
        	WRITE_ONCE(ls->owner, owner);
        	l_free(xchg(&ls->queue, NULL));
        	if (READ_ONCE(ls->seq) > 3)
        		WRITE_ONCE(ls->seq, 0);
        	local_bh_enable();
        }

        /* The lock of the object, taken: the data under it is serialised. */
        void b(void *owner)
        {
        	struct l_state *ls;

        	local_bh_disable();
        	ls = this_cpu_ptr(&l_locked);
        	spin_lock(&ls->lock);
        	ls->owner = owner;
        	spin_unlock(&ls->lock);
        	local_bh_enable();
        }

        /* Plain stores: reported. */
        void c(void *owner)
        {
        	struct l_state *ls;

        	local_bh_disable();
        	ls = this_cpu_ptr(&l_plain); /* expect: rt-percpu-bh */ /* is: l_plain by local_bh_disable() */
        	ls->owner = owner;
        	local_bh_enable();
        }
        """,
    # A member read with only BH off makes the counters of its object matter.
    "read_back": """
        struct r_stats {
        	unsigned long drops;
        	unsigned long bytes;
        };
        static DEFINE_PER_CPU(struct r_stats, r_stats);
        static DEFINE_PER_CPU(struct r_stats, r_other);
        static DEFINE_PER_CPU(struct r_stats, r_blind);

        /* A counter read back through the pointer, in the same function ... */
        void a(void)
        {
        	struct r_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&r_stats); /* expect: rt-percpu-bh */ /* is: r_stats by local_bh_disable() */
        	st->drops++;
        	if (st->drops > 100)
        		a_throttle();
        	local_bh_enable();
        }

        /* ... or in another, with BH off. */
        void b(unsigned int len)
        {
        	struct r_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&r_other); /* expect: rt-percpu-bh */ /* is: r_other by local_bh_disable() */
        	st->bytes += len;
        	local_bh_enable();
        }

        void c(void)
        {
        	struct r_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&r_other);
        	c_log(st->bytes);
        	local_bh_enable();
        }

        /* Summed over the CPUs only (another CPU's instance is no access): blind. */
        void d(void)
        {
        	struct r_stats *st;

        	local_bh_disable();
        	st = this_cpu_ptr(&r_blind);
        	st->drops++;
        	local_bh_enable();
        }

        unsigned long e(int cpu)
        {
        	return per_cpu_ptr(&r_blind, cpu)->drops;
        }
        """,
}


# The snippets that compile against the 6.12 headers.
COMPILED = ["blind_stats", "fields", "lockless", "peeks"]
CLANG_OBJECT_RE = re.compile(r"^per-CPU (\S+) is serialised only by disabled BH")


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_snippet(name, tmp_path):
    check_file(write_snippet(tmp_path, name), cwd=str(tmp_path))


@pytest.mark.parametrize("name", COMPILED)
def test_agrees_with_clang_on_snippet(name, tmp_path):
    """On the snippets that compile, rtcheck finds the same objects at the
    same lines (nothing there is beyond an intraprocedural view)."""
    from rtfixtures import run_check
    path = write_snippet(tmp_path, name)
    found, proc = run_check("6.12-rt", path)
    assert "rtcheck: error" not in proc.stderr, proc.stderr
    clang = sorted((f["line"], CLANG_OBJECT_RE.match(f["message"]).group(1))
                   for f in found if f["rule"] == RULE)
    cocci = [(line, obj) for line, _, obj, _ in findings(path, str(tmp_path))]
    assert cocci == clang


def test_grouping(tmp_path):
    """The other accesses of a variable are listed, with their function when
    it differs; -D per_function reports each function's first access."""
    path = write_snippet(tmp_path, "grouping")
    assert findings(path, str(tmp_path)) == [
        (4, "a", "g_nest", [(8, "a")]),
        (16, "b", "g_cache.page", [(24, "c")]),
    ]
    assert [f[:3] for f in findings(path, str(tmp_path), per_function=True)] == [
        (4, "a", "g_nest"), (16, "b", "g_cache.page"), (24, "c", "g_cache.page_small")]


def test_fields(tmp_path):
    """A field of a container is reported at its first use, its other uses
    listed; the rest of the header structs at the access."""
    path = write_snippet(tmp_path, "fields")
    assert findings(path, str(tmp_path)) == [
        (25, "a", "softnet_data.process_queue", []),
        (26, "a", "softnet_data.in_net_rx_action", [(31, "a"), (54, "c")]),
        (38, "b", "softnet_data.processed", []),
        (64, "d", "f_queue", []),
        (76, "e", "f_list", []),
        (102, "g", "f_other", []),
        (152, "j", "f_unheld", []),
    ]


def test_read_back(tmp_path):
    """The peek of c() makes the counter of b() matter: one finding, the peek
    listed; -D per_function reports each function of an object that matters."""
    path = write_snippet(tmp_path, "read_back")
    assert findings(path, str(tmp_path)) == [
        (15, "a", "r_stats", []),
        (28, "b", "r_other", [(38, "c")]),
    ]
    assert [f[:3] for f in findings(path, str(tmp_path), per_function=True)] == [
        (15, "a", "r_stats"), (28, "b", "r_other"), (38, "c", "r_other")]


def test_context_and_org_modes(tmp_path):
    """context mode stars exactly the reported accesses; org mode lists them."""
    path = write_snippet(tmp_path, "sections")
    want = sorted(l for l, _, _ in spatch_report(path, cwd=str(tmp_path)))
    assert len(want) == 9
    coccitest.check_context_and_org(COCCI, path, want, cwd=str(tmp_path))


# ------------------------------------- API knowledge: script and catalogue

def script_lists():
    """The API lists of the script's @initialize:python@ block, and its text."""
    return coccitest.script_namespace(COCCI)


def rule_sets(text):
    """{rule name: {metavariable: set of names}} of the SmPL rules' identifier lists."""
    out = {}
    for m in re.finditer(r"^@(\w+) [^@\n]*@\n(.*?)^@@$", text, re.M | re.S):
        out[m[1]] = {v: {x.strip() for x in names.split(",") if x.strip()}
                     for v, names in re.findall(r"^identifier (\w+) = \{([^}]*)\};", m[2], re.M)}
    return out


def test_script_rules_match_its_lists():
    """The SmPL identifier sets are the python lists the decisions use."""
    ns, text = script_lists()
    rules = rule_sets(text)
    prot = ns["PROTECTIONS"]
    assert rules["acc_ptr"] == {"op": set(ns["PTR_ACCESSES"])}
    assert rules["acc_cpu"] == {"op": set(ns["CPU_ACCESSES"]), "cpu": set(ns["THIS_CPU_IDS"])}
    assert rules["acc_op"] == {"op": set(ns["OP_ACCESSES"])}
    assert rules["load"] == rules["load_decl"] == {"op": set(ns["POINTER_READS"])}
    assert rules["store"] == {"op": set(ns["PTR_ACCESSES"] + ns["CPU_ACCESSES"])}
    assert rules["counter_update"] == {"op": set(ns["COUNTER_UPDATES"])}
    assert rules["value_read"] == {"op": set(ns["VALUE_READS"])}
    assert rules["lock_held"] == {"held": set(ns["LOCK_HELD"])}
    guards = set(ns["BH_GUARDS"]) | {g for fam in prot.values() for g in fam[2]}
    assert rules["guarded_by"] == rules["scoped_by"] == {"G": guards}
    assert rules["local_lock_taken"] == {"lock": set(prot["local"][0]), "G": set(prot["local"][2])}
    for fam, (locks, unlocks, _) in prot.items():
        assert rules[f"e1_{fam}"] == {"lock": set(locks)}
        assert rules[f"e2_{fam}"] == {"lock": set(locks), "unlock": set(unlocks)}
    for lock, unlock in {**ns["BH_SECTIONS"], **ns["BH_KEYED_SECTIONS"]}.items():
        body = text.split(f"@bh_{lock} ", 1)[1].split("@script:python", 1)[0]
        assert f"{lock}@p0(" in body and f"when != {unlock}(" in body, lock
    assert rules["skipped_lock"] == {
        "lock": set(prot["lock"][0] + prot["lock"][1] + prot["raw"][0] + prot["raw"][1]),
        "atomic": set(prot["irq"][0] + prot["irq"][1] + prot["preempt"][0] + prot["preempt"][1])
        | set(ns["BH_SECTIONS"]) | set(ns["BH_SECTIONS"].values())}
    assert {r for r in rules if r.startswith("bh_")} == {
        f"bh_{l}" for l in {**ns["BH_SECTIONS"], **ns["BH_KEYED_SECTIONS"]}}


def test_script_lists_match_kernel_api_def():
    """Accesses and sections are the ones rtcheck's catalogue gives rt-percpu-bh."""
    ns, _ = script_lists()
    with open(KERNEL_API) as f:
        entries = re.findall(r'^RTCHECK_API\("(\w+)",\s*(\w+)', f.read(), re.M)
    effect = {}
    for name, e in entries:
        effect.setdefault(e, set()).add(name)
    if "PERCPU_PTR" not in effect:
        pytest.skip("kernel_api.def has no rt-percpu-bh accessors (PERCPU_PTR) yet")
    percpu = set().union(*(effect.get(e, set()) for e in
                           ("PERCPU_PTR", "PERCPU_CPU_PTR", "PERCPU_READ", "PERCPU_RMW",
                            "PERCPU_COUNT")))
    assert set(ns["PTR_ACCESSES"] + ns["CPU_ACCESSES"] + ns["OP_ACCESSES"]
               + ns["POINTER_READS"]) == percpu
    assert set(ns["BH_SECTIONS"]) == effect.get("BH_OFF", set())
    assert set(ns["BH_KEYED_SECTIONS"]) == {n for n in effect.get("RT_LOCK_BH", set())
                                            if not n.startswith("class_")}
    assert {f"class_{g}_constructor" for g in ns["BH_GUARDS"]} == {
        n for n in effect.get("RT_LOCK_BH", set()) if n.startswith("class_")}
    local = ns["PROTECTIONS"]["local"]
    assert set(local[0]) | {f"class_{g}_constructor" for g in local[2]} == effect.get("LOCAL_LOCK")
    assert set(ns["VALUE_READS"]) == effect.get("PERCPU_READ", set())
    assert set(ns["COUNTER_UPDATES"]) == effect.get("PERCPU_COUNT", set())
    assert set(ns["PEEKS"]) == effect.get("PEEK", set())
    assert set(ns["LOCK_HELD"]) == effect.get("LOCK_HELD", set())
    assert set(ns["LOCKLESS"]) == effect.get("LOCKLESS", set())
    locking = set().union(*(effect.get(e, set()) for e in (
        "RAW_LOCK", "RAW_UNLOCK", "RAW_TRYLOCK", "RT_LOCK", "RT_LOCK_BH", "LOCAL_LOCK",
        "RT_UNLOCK", "RT_UNLOCK_BH", "RT_TRYLOCK", "SLEEPING_LOCK", "SLEEPING_UNLOCK")))
    assert locking <= ns["LOCK_CALLS"], sorted(locking - ns["LOCK_CALLS"])


# ------------------------------------------------------ real kernel code

def real(rel, result):
    return pytest.param(rel, result, id=rel)


@pytest.mark.parametrize("rel,result", [
    # The BH branches of __netdev_alloc_frag_align() and __netdev_alloc_skb()
    # (napi_alloc_cache and napi_alloc_cache.page): one finding, at the first.
    real("net/core/skbuff.c", [(244, "__netdev_alloc_frag_align", "napi_alloc_cache",
                                [(596, "__netdev_alloc_skb")])]),
    # ctl_sk = this_cpu_read(ipv4_tcp_sk) under local_bh_disable().
    real("net/ipv4/tcp_ipv4.c", [(833, "tcp_v4_send_reset", "ipv4_tcp_sk",
                                  [(939, "tcp_v4_send_ack")])]),
    # tcp_get_md5sig_pool() returns this_cpu_ptr(&tcp_md5sig_pool) with BH
    # still disabled: its own section is visible; the callers' uses of the
    # pool until tcp_put_md5sig_pool() are not (interprocedural).
    real("net/ipv4/tcp.c", [(4580, "tcp_get_md5sig_pool", "tcp_md5sig_pool", [])]),
    # rps_lock_irqsave() and its three siblings: nothing on RT without
    # CONFIG_RPS (A06), one report for the lock.
    real("net/core/dev.c", [(223, "rps_lock_irqsave", "sd->input_pkt_queue.lock",
                             [(231, "rps_lock_irq_disable"), (240, "rps_unlock_irq_restore"),
                              (248, "rps_unlock_irq_enable")]),
    # flush_backlog(): softnet_data is a container (completion_queue is used
    # with irqs off), its fields are found at their use. rtcheck reports
    # process_queue only: it sees the spinlock that rps_lock_irq_disable(sd),
    # a helper of the file, takes around input_pkt_queue (with CONFIG_RPS).
                            (5941, "flush_backlog", "softnet_data.input_pkt_queue",
                             [(5943, "flush_backlog")]),
                            (5950, "flush_backlog", "softnet_data.process_queue",
                             [(5952, "flush_backlog")])]),
])
def test_real_61(src_61, rel, result):
    assert findings(rel, cwd=src_61) == result


def test_real_61_per_function(src_61):
    assert [f[:3] for f in findings("net/core/skbuff.c", src_61, per_function=True)] == [
        (244, "__netdev_alloc_frag_align", "napi_alloc_cache"),
        (596, "__netdev_alloc_skb", "napi_alloc_cache.page")]
    assert [f[:3] for f in findings("net/ipv4/tcp_ipv4.c", src_61, per_function=True)] == [
        (833, "tcp_v4_send_reset", "ipv4_tcp_sk"), (939, "tcp_v4_send_ack", "ipv4_tcp_sk")]


@pytest.mark.parametrize("rel,result", [
    # Converted in 6.11: every napi_alloc_cache access is under
    # local_lock_nested_bh(&napi_alloc_cache.bh_lock) (__netdev_alloc_skb()
    # takes it inside its local_bh_disable()), and ipv4_tcp_sk.sock under
    # local_lock_nested_bh(&ipv4_tcp_sk.bh_lock).
    real("net/core/skbuff.c", []),
    real("net/ipv4/tcp_ipv4.c", []),
    # tcp_md5sig_pool became tcp_sigpool (6.7), its scratch converted in 6.11.
    real("net/ipv4/tcp.c", []),
    real("net/ipv4/tcp_sigpool.c", []),
    # softnet_data in 6.12: __napi_busy_loop() hands this_cpu_ptr(
    # &softnet_data) straight to skb_defer_free_flush(), a function of the
    # file (left to it: it takes sd->defer_lock); napi_threaded_poll_loop()
    # sets a field with BH alone. softnet_data is a container
    # (completion_queue with irqs off): the field is reported at its use, as
    # rtcheck reports it.
    real("net/core/dev.c", [(7077, "napi_threaded_poll_loop",
                             "softnet_data.in_napi_threaded_poll",
                             [(7083, "napi_threaded_poll_loop")])]),
])
def test_real_612(src_612, rel, result):
    assert findings(rel, cwd=src_612) == result


def test_coccicheck_net_ipv4(src_61, build_61):
    """The script works through kbuild's `make coccicheck` (absolute M=, as in
    tests/test_cocci.py): net/ipv4 and its netfilter/ take about 20 s."""
    coccitest.require_spatch(COCCI)
    ipv4 = os.path.join(src_61, "net", "ipv4")
    cmd = ["make", "-C", src_61, f"O={build_61}", "coccicheck", f"COCCI={COCCI}",
           "MODE=report", f"M={ipv4}"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}{res.stderr}"
    assert "coccicheck failed" not in res.stdout, res.stdout
    assert "Traceback" not in res.stdout + res.stderr, res.stdout + res.stderr
    hits = {}
    for l in res.stdout.splitlines():
        m = REPORT_RE.match(l)
        if m:
            rel = os.path.relpath(os.path.join(src_61, m["file"]), src_61)
            hits.setdefault(rel, []).append((int(m["line"]), parse(m["msg"])["fn"]))
    assert {k: sorted(v) for k, v in hits.items()} == {
        "net/ipv4/tcp_ipv4.c": [(833, "tcp_v4_send_reset")],
        "net/ipv4/tcp.c": [(4580, "tcp_get_md5sig_pool")],
        # __this_cpu_write(nf_skb_duplicated, true) around ip_local_out().
        "net/ipv4/netfilter/nf_dup_ipv4.c": [(88, "nf_dup_ipv4")],
    }, f"unexpected report:\n{res.stdout}"


# ------------------------------------------ Coccinelle vs the Clang rule

def fixture_files():
    files = sorted(glob.glob(os.path.join(FIXTURE_DIR, "*.c")))
    if not files:
        return [pytest.param(None, id="no-fixtures")]
    return [pytest.param(f, id=os.path.basename(f)) for f in files]


def require_fixture(path):
    if path is None:
        pytest.skip(f"no fixtures yet: {os.path.relpath(FIXTURE_DIR, REPO)}/*.c is empty")


@pytest.mark.parametrize("path", fixture_files())
def test_fixture(path):
    """Every expected line the script can see is reported, nothing else."""
    require_fixture(path)
    check_file(path)


@pytest.mark.parametrize("path", fixture_files())
def test_agrees_with_clang_on_fixture(path):
    """On the fixtures the script finds a subset of rtcheck's findings: exactly
    the lines not marked as invisible to it."""
    require_fixture(path)
    from rtfixtures import run_check
    found, proc = run_check("6.12-rt", path)
    assert "rtcheck: error" not in proc.stderr, proc.stderr
    clang = {f["line"] for f in found if f["rule"] == RULE}
    cocci = {line for line, _, _ in spatch_report(path)}
    exp, _ = expectations(path)
    blind = {l for l, e in exp.items() if e["blind"]}
    assert cocci <= clang, f"cocci only: {sorted(cocci - clang)}"
    assert clang - cocci <= blind, f"rtcheck only, not marked: {sorted(clang - cocci - blind)}"
