// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-TU propagation over the facts database. Each TU already carried what
 * may sleep up through its own functions; here "may sleep on RT" flows from a
 * function to its callers in other TUs (and on up through their own
 * functions), to a fixpoint of bounded depth. A call made in truly atomic
 * context to a function that may sleep that way, and a function that another
 * TU registers as a hard-irq (NMI ...) callback, are findings whose chain
 * crosses files. They are stored in the xfinding table, replaced each run.
 */
#include "propagate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Sorted by name, non-static only: the definitions a global call may reach. */
static int by_name(const void *a, const void *b)
{
	const struct xfn *x = *(struct xfn *const *)a, *y = *(struct xfn *const *)b;

	return strcmp(x->name, y->name);
}

/* Sorted by (TU, name): the callee of a local call. */
static int by_tu_name(const void *a, const void *b)
{
	const struct xfn *x = *(struct xfn *const *)a, *y = *(struct xfn *const *)b;

	if (x->tu != y->tu)
		return x->tu < y->tu ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The definitions call c may reach: at most XTU_MAX_DEFS, else none (ambiguous). */
size_t xtu_targets(const struct xtu_graph *g, long long tu, const char *name, int local,
		   struct xfn *out[XTU_MAX_DEFS])
{
	struct xfn key = { .tu = tu, .name = (char *)name }, *kp = &key, **hit, **lo, **hi;
	struct xfn *const *index = local ? g->by_tu_name : g->by_name;
	size_t n = local ? g->nfns : g->nglobal, k = 0;
	int (*cmp)(const void *, const void *) = local ? by_tu_name : by_name;

	hit = bsearch(&kp, index, n, sizeof(*index), cmp);
	if (!hit)
		return 0;
	for (lo = hit; lo > index && !cmp(lo - 1, &kp); lo--)
		;
	for (hi = hit; hi + 1 < index + n && !cmp(hi + 1, &kp); hi++)
		;
	if (hi - lo + 1 > XTU_MAX_DEFS)
		return 0;
	for (; lo <= hi; lo++)
		if (local || (*lo)->tu != tu)	/* a global call into the own TU: it followed it */
			out[k++] = *lo;
	return k;
}

static int same_site(const struct xsite *a, const struct xsite *b)
{
	return a->line == b->line && !strcmp(a->file, b->file) && !strcmp(a->op, b->op);
}

int xtu_path_extend(struct xpath *out, const struct xcall *c, const struct xpath *r)
{
	if (r && r->nsteps + 1 > XTU_MAX_DEPTH)
		return 0;
	out->steps[0] = c;
	out->nsteps = 1;
	if (r) {
		memcpy(out->steps + 1, r->steps, r->nsteps * sizeof(*r->steps));
		out->nsteps += r->nsteps;
	}
	return 1;
}

/* Adds the reach "call c, then r" to f; 1 if f learnt something. */
static int add_reach(struct xfn *f, const struct xcall *c, const struct xsite *site,
		     const struct xreach *r)
{
	struct xneeds needs;
	size_t i;

	if (f->nreach == XTU_MAX_REACH)
		return 0;
	for (i = 0; i < f->nreach; i++)
		if (same_site(f->reach[i].site, site))
			return 0;
	/* What the site needs of m's parameters, in f's terms: ruled out by the
	 * call's arguments (a constant 0 where it needs non-zero), or not. */
	needs = c->needs;
	if (xneeds_map(r ? &r->needs : &site->needs, &c->args, &needs))
		return 0;
	if (!xtu_path_extend(&f->reach[f->nreach].path, c, r ? &r->path : NULL))
		return 0;
	f->reach[f->nreach].needs = needs;
	f->reach[f->nreach].unless = site->unless | c->unless | (r ? r->unless : 0);
	/* A put on the way down that frees only when its reference was the last. */
	f->reach[f->nreach].last_ref = r ? r->last_ref : site->last_ref;
	if (!f->reach[f->nreach].last_ref)
		f->reach[f->nreach].last_ref = c->last_ref;
	f->reach[f->nreach++].site = site;
	return 1;
}

static int by_place(const void *a, const void *b)
{
	const struct xfn *x = *(struct xfn *const *)a, *y = *(struct xfn *const *)b;
	int c = strcmp(x->tu_path, y->tu_path);

	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return strcmp(x->name, y->name);
}

int xtu_each_call(struct xtu_graph *g, int (*pass)(const struct xcall *c),
		  int (*visit)(struct xfn *f, const struct xcall *c, struct xfn *m))
{
	size_t i, j, t, nt;
	int changed = 0;

	for (i = 0; i < g->nfns; i++) {
		struct xfn *f = g->order[i];

		for (j = 0; j < f->ncalls; j++) {
			const struct xcall *c = &f->calls[j];
			struct xfn *to[XTU_MAX_DEFS];

			if (!pass(c))
				continue;
			nt = xtu_targets(g, f->tu, c->callee, c->local, to);
			for (t = 0; t < nt; t++)
				if (to[t] != f)
					changed |= visit(f, c, to[t]);
		}
	}
	return changed;
}

static int outside_atomic(const struct xcall *c)
{
	return !c->atomic;
}

/* What may sleep below m may sleep below f. */
static int learn_sleeps(struct xfn *f, const struct xcall *c, struct xfn *m)
{
	size_t k;
	int changed = 0;

	/* panic() sleeps below as the system dies: not its callers' business;
	 * nor does what f calls after unlocking the lock it was called with. */
	if (f->is_dying || m->is_dying || c->released)
		return 0;
	/* A local callee's own sites are in f's already. */
	for (k = 0; !c->local && k < m->nsites; k++)
		changed |= add_reach(f, c, &m->sites[k], NULL);
	for (k = 0; k < m->nreach; k++)
		changed |= add_reach(f, c, m->reach[k].site, &m->reach[k]);
	return changed;
}

static int round_once(struct xtu_graph *g)
{
	return xtu_each_call(g, outside_atomic, learn_sleeps);
}

int xtu_wants(const struct xtu_graph *g, const char *rule)
{
	const char *p = g->rules;
	size_t n = strlen(rule);

	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, rule, n))
			return 1;
		p += len + (p[len] == ',');
	}
	return !g->rules;
}

int xtu_propagate(sqlite3 *db, const char *rules, struct xtu_stats *stats, char *err,
		  size_t errlen)
{
	struct xtu_graph g = { .rules = rules };
	double started = now_seconds();
	size_t i, round;
	int ret = -1;

	if (xtu_load(db, &g, err, errlen))
		goto out;
	g.by_name = malloc((g.nfns + 1) * sizeof(*g.by_name));
	g.by_tu_name = malloc((g.nfns + 1) * sizeof(*g.by_tu_name));
	g.order = malloc((g.nfns + 1) * sizeof(*g.order));
	if (!g.by_name || !g.by_tu_name || !g.order) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < g.nfns; i++) {
		g.by_tu_name[i] = g.order[i] = &g.fns[i];
		if (!g.fns[i].is_static)
			g.by_name[g.nglobal++] = &g.fns[i];
	}
	qsort(g.by_name, g.nglobal, sizeof(*g.by_name), by_name);
	qsort(g.by_tu_name, g.nfns, sizeof(*g.by_tu_name), by_tu_name);
	qsort(g.order, g.nfns, sizeof(*g.order), by_place);
	for (round = 0; round < XTU_MAX_DEPTH; round++) {
		int changed = round_once(&g);

		if (!(xtu_bh_round(&g) | changed))
			break;
	}
	g.rounds = round;
	if (xtu_store(db, &g, err, errlen))
		goto out;
	stats->functions = g.nfns;
	for (stats->calls = 0, i = 0; i < g.nfns; i++)
		stats->calls += g.fns[i].ncalls;
	stats->rounds = g.rounds;
	stats->findings = g.nfindings;
	stats->seconds = now_seconds() - started;
	ret = 0;
out:
	xtu_free(&g);
	return ret;
}
