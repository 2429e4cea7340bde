/* SPDX-License-Identifier: GPL-2.0 */
/* Cross-TU propagation (propagate.c): the graph it works on. */
#ifndef RTCHECK_SWEEP_PROPAGATE_H
#define RTCHECK_SWEEP_PROPAGATE_H

#include "needs.h"
#include "sweep.h"

#include <jansson.h>
#include <sqlite3.h>

/* Bounds: a chain crosses at most this many calls; a function keeps this many ways to
 * sleep, and this many unserialised per-CPU uses of other TUs. */
#define XTU_MAX_DEPTH 8
#define XTU_MAX_REACH 2
#define XTU_MAX_FREE 8
/* A global name with more definitions than this (same-named static-less functions of
 * different modules) is ambiguous and not followed. */
#define XTU_MAX_DEFS 2

struct xfn;

/* An operation that may sleep on RT, as the function's own TU found it. */
struct xsite {
	char *function, *op, *why, *file;
	long line, depth;
	unsigned unless;	/* context facts (context_facts.h) that rule the site out */
	struct xneeds needs;	/* what it needs of the function's parameters */
	char *last_ref;		/* reached only when this API drops the last reference, or NULL */
	const struct xfn *owner;
};

struct xcall {
	char *callee, *file;
	long line;
	int local;
	char *atomic;		/* the truly atomic context it runs in, or NULL */
	char *atomic_file, *atomic_note;
	long atomic_line;
	int serialised;		/* a lock or truly atomic context: per-CPU data is safe below */
	char *bh_file, *bh_note;	/* made with only BH disabled: where and how, or NULL */
	long bh_line;
	int released;		/* made after the function ended its caller's context (it
				 * unlocked a lock it was called with): sleeps below are not
				 * its callers' */
	unsigned unless;	/* context facts known false where the call is made */
	unsigned atomic_facts;	/* what its truly atomic context makes true */
	struct xneeds needs;	/* what the call needs of the caller's parameters */
	struct xargs args;	/* what it passes, for the callee's needs */
	char *last_ref;		/* made only when the caller dropped the last reference */
	const struct xfn *caller;
};

/* Calls from a function down through other TUs. */
struct xpath {
	const struct xcall *steps[XTU_MAX_DEPTH];
	size_t nsteps;
};

/* A per-CPU use its own TU found nothing to serialise (rt-percpu-bh's export). */
struct xfree {
	char *object, *file, *note;
	char *function;		/* where the use is */
	char *calls;		/* JSON array of the steps from the function down to the use */
	long line;
	struct xneeds needs;	/* what it needs of the function's parameters */
	const struct xfn *owner;
};

/* A way a function reaches such a use of another TU: calls, then the use. */
struct xfreach {
	const struct xfree *use;
	struct xpath path;
	struct xneeds needs;	/* what it needs of the function's parameters */
};

/* A way a function may sleep through calls into other TUs: calls, then site. */
struct xreach {
	const struct xsite *site;
	struct xpath path;
	unsigned unless;	/* the site's and the path's calls': facts that rule it out */
	struct xneeds needs;	/* what it needs of the function's parameters */
	const char *last_ref;	/* the site's or a call's on the path, or NULL */
};

struct xfn {
	long long id, tu;
	char *name, *file, *tu_path;
	long line;
	int is_static;
	int is_init;		/* __init: boot code, whose atomic sections may sleep */
	int is_dying;		/* panic(), an oops ... (dying_contexts.def): neither its atomic
				 * sections nor what sleeps below it are reported */
	struct xsite *sites;
	size_t nsites;
	struct xcall *calls;
	size_t ncalls;
	struct xreach reach[XTU_MAX_REACH];
	size_t nreach;
	struct xfree *frees;
	size_t nfrees;
	struct xfreach freach[XTU_MAX_FREE];
	size_t nfreach;
};

/* A TU's registration of a function another TU defines (request_irq(..., fn)). */
struct xreg {
	long long tu;
	char *function, *kind, *note, *file, *tu_path;
	long line;
};

struct xtu_graph {
	struct xfn *fns;	/* by id */
	size_t nfns, nglobal;
	struct xfn **by_name, **by_tu_name;
	struct xfn **order;	/* by TU path, line, name: the same results whatever the run order */
	struct xreg *regs;
	size_t nregs;
	size_t rounds, nfindings;
	const char *rules;	/* --rules, or NULL: all */
};

/* Whether rule is among the sweep's rules (--rules, comma-separated; NULL: all). */
int xtu_wants(const struct xtu_graph *g, const char *rule);

/*
 * Propagates over the TUs named in the temporary table scope(path), stores the
 * findings in xfinding; 0 or -1 with err.
 */
/* What a propagation did, for report.txt. */
struct xtu_stats {
	size_t functions, calls, rounds, findings;
	double seconds;
};
int xtu_propagate(sqlite3 *db, const char *rules, struct xtu_stats *stats, char *err,
		  size_t errlen);
size_t xtu_targets(const struct xtu_graph *g, long long tu, const char *name, int local,
		   struct xfn *out[XTU_MAX_DEFS]);
void xtu_free(struct xtu_graph *g);
/* A finding of the propagation, as propagate_out.c stores it. */
struct xfinding {
	const char *rule, *file;
	long line;
	const char *function, *message, *fix_summary;
	const char *key;	/* with file and line, what makes it one: the op, the object */
	const char *severity;	/* NULL: "warning" */
};

/* visit(f, c, m) for every call c of every function f (in path order) that pass()
 * lets through, and each definition m (not f) it may reach; ORs what visit returns. */
int xtu_each_call(struct xtu_graph *g, int (*pass)(const struct xcall *c),
		  int (*visit)(struct xfn *f, const struct xcall *c, struct xfn *m));
/* The path "call c, then r" in out; 0 when it would be too deep. */
int xtu_path_extend(struct xpath *out, const struct xcall *c, const struct xpath *r);
/* The chain steps of a path that ends in function last. */
void xtu_path_steps(json_t *context, const struct xpath *p, const struct xfn *last);
int xtu_insert_finding(sqlite3 *db, struct xtu_graph *g, const struct xfinding *x,
		       json_t *context);
/* propagate_bh.c: one round of the per-CPU uses flowing up; their findings. */
int xtu_bh_round(struct xtu_graph *g);
int xtu_bh_store(sqlite3 *db, struct xtu_graph *g);
/* propagate_out.c */
void xtu_step(json_t *context, const char *file, long line, const char *function,
	      const char *note);
void xtu_call_step(json_t *context, const struct xcall *c, const struct xfn *to);
/* propagate_io.c: the graph of the TUs in scope; propagate_out.c: its findings. */
int xtu_load(sqlite3 *db, struct xtu_graph *g, char *err, size_t errlen);
int xtu_store(sqlite3 *db, struct xtu_graph *g, char *err, size_t errlen);

#endif
