// SPDX-License-Identifier: GPL-2.0
/*
 * rt-percpu-bh across TUs. A TU exports the per-CPU uses none of its own
 * contexts serialises (of objects it does not report itself); they flow up
 * to callers in other TUs through calls made with no serialisation, and a
 * call made with only BH disabled (a softirq entry, local_bh_disable()) that
 * reaches one makes it a BH-only use: one finding per per-CPU object, at its
 * first such use, the others as notes.
 */
#include "propagate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_freach(struct xfn *f, const struct xcall *c, const struct xfree *use,
		      const struct xfreach *r)
{
	struct xneeds needs = c->needs;
	size_t i;

	if (f->nfreach == XTU_MAX_FREE)
		return 0;
	for (i = 0; i < f->nfreach; i++)
		if (f->freach[i].use == use)
			return 0;
	/* A use behind a branch on m's parameter that c's arguments rule out. */
	if (xneeds_map(r ? &r->needs : &use->needs, &c->args, &needs))
		return 0;
	if (!xtu_path_extend(&f->freach[f->nfreach].path, c, r ? &r->path : NULL))
		return 0;
	f->freach[f->nfreach].needs = needs;
	f->freach[f->nfreach++].use = use;
	return 1;
}

/* Only calls that leave it to f's callers: no lock, no atomic context, BH not off. */
static int unserialised(const struct xcall *c)
{
	return !c->serialised && !c->bh_file && !c->atomic;
}

/* The unserialised per-CPU uses below m are below f. */
static int learn_uses(struct xfn *f, const struct xcall *c, struct xfn *m)
{
	size_t k;
	int changed = 0;

	for (k = 0; !c->local && k < m->nfrees; k++)
		changed |= add_freach(f, c, &m->frees[k], NULL);
	for (k = 0; k < m->nfreach; k++)
		changed |= add_freach(f, c, m->freach[k].use, &m->freach[k]);
	return changed;
}

int xtu_bh_round(struct xtu_graph *g)
{
	return xtu_each_call(g, unserialised, learn_uses);
}

/* A BH-only use: the chain from the BH context down to it. */
struct bh_use {
	const struct xfree *use;
	json_t *context;	/* owned */
	char *why;		/* what disables BH */
};

struct bh_uses {
	struct bh_use *v;
	size_t n;
};

static void add_use(struct bh_uses *u, const struct xfree *use, json_t *context, const char *why)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (u->v[i].use == use) {	/* the first chain in path order stays */
			json_decref(context);
			return;
		}
	u->v = realloc(u->v, (u->n + 1) * sizeof(*u->v));
	if (!u->v) {
		fputs("rtcheck: error: out of memory\n", stderr);
		exit(EXIT_INTERNAL);
	}
	u->v[u->n].use = use;
	u->v[u->n].context = context;
	u->v[u->n++].why = xstrdup(why);
}

/* The steps its own TU recorded from the exporting function down to the use. */
static void own_steps(json_t *context, const struct xfree *use)
{
	json_t *steps = json_loads(use->calls ? use->calls : "[]", 0, NULL), *s;
	size_t i;

	json_array_foreach(steps, i, s)
		json_array_append(context, s);
	json_decref(steps);
}

static void reached(struct bh_uses *u, const struct xcall *c, struct xfn *to,
		    const char *bh_file, long bh_line, const char *bh_note, const char *fn)
{
	size_t k;

	for (k = 0; k < to->nfrees + to->nfreach; k++) {
		const struct xfreach *r = k < to->nfrees ? NULL : &to->freach[k - to->nfrees];
		const struct xfree *use = r ? r->use : &to->frees[k];
		struct xneeds unused = { .n = 0 };
		json_t *context;

		if (c && c->local && !r)
			continue;	/* its own TU judged these */
		if (c && xneeds_map(r ? &r->needs : &use->needs, &c->args, &unused))
			continue;	/* its arguments rule the use out */
		context = json_array();
		xtu_step(context, bh_file, bh_line, fn, bh_note);
		if (c)
			xtu_call_step(context, c, to);
		if (r)
			xtu_path_steps(context, &r->path, use->owner);
		own_steps(context, use);
		xtu_step(context, use->file, use->line, use->function, use->note);
		add_use(u, use, context, bh_note);
	}
}

static int by_object(const void *a, const void *b)
{
	const struct bh_use *x = a, *y = b;
	int c = strcmp(x->use->object, y->use->object);

	if (!c)
		c = strcmp(x->use->owner->tu_path, y->use->owner->tu_path);
	if (!c)
		c = strcmp(x->use->file, y->use->file);
	return c ? c : (x->use->line > y->use->line) - (x->use->line < y->use->line);
}

static int same_object(const struct bh_use *a, const struct bh_use *b)
{
	return !strcmp(a->use->object, b->use->object) &&
	       !strcmp(a->use->owner->tu_path, b->use->owner->tu_path);
}

/* One finding for the uses v[0..n) of one object. */
static int store_object(sqlite3 *db, struct xtu_graph *g, struct bh_use *v, size_t n)
{
	const struct xfree *first = v[0].use;
	json_t *context = json_copy(v[0].context);
	char msg[1536];
	struct xfinding x = { "rt-percpu-bh", first->file, first->line, first->function, msg,
			      "the BH context comes from another translation unit: add a local_lock_t "
			      "to the per-CPU data and take it with local_lock_nested_bh() around its "
			      "uses", first->object, NULL };
	size_t i;

	for (i = 1; i < n; i++) {
		char note[1024];

		snprintf(note, sizeof(note), "also with only BH disabled (%s): %s", v[i].why,
			 v[i].use->note);
		xtu_step(context, v[i].use->file, v[i].use->line, v[i].use->function, note);
	}
	snprintf(msg, sizeof(msg), "per-CPU %s is serialised only by disabled BH (%s): on "
		 "PREEMPT_RT BH-disabled code is preemptible and only the per-CPU BH lock, "
		 "optional since Linux 6.18, keeps another task on this CPU from using %s at the "
		 "same time; protect it with a local_lock_t taken with local_lock_nested_bh()%s"
		 " (the chain crosses translation units)", first->object, v[0].why, first->object,
		 n > 1 ? " (several uses)" : "");
	return xtu_insert_finding(db, g, &x, context);
}

int xtu_bh_store(sqlite3 *db, struct xtu_graph *g)
{
	struct bh_uses u = { 0 };
	size_t i, j, t, nt, start;
	int bad = 0;

	for (i = 0; i < g->nfns; i++) {
		struct xfn *f = g->order[i];

		for (j = 0; j < f->ncalls; j++) {
			const struct xcall *c = &f->calls[j];
			struct xfn *to[XTU_MAX_DEFS];

			if (!c->bh_file)
				continue;
			nt = xtu_targets(g, f->tu, c->callee, c->local, to);
			for (t = 0; t < nt; t++)
				reached(&u, c, to[t], c->bh_file, c->bh_line, c->bh_note, f->name);
		}
	}
	for (i = 0; i < g->nregs; i++) {
		const struct xreg *r = &g->regs[i];
		struct xfn *to[XTU_MAX_DEFS];

		if (strcmp(r->kind, "softirq"))
			continue;
		nt = xtu_targets(g, r->tu, r->function, 0, to);
		for (t = 0; t < nt; t++)
			reached(&u, NULL, to[t], r->file, r->line, r->note, r->function);
	}
	if (u.n > 1)
		qsort(u.v, u.n, sizeof(*u.v), by_object);
	for (start = 0; start < u.n; start = i) {
		for (i = start + 1; i < u.n && same_object(&u.v[start], &u.v[i]); i++)
			;
		bad |= store_object(db, g, u.v + start, i - start);
	}
	for (i = 0; i < u.n; i++) {
		json_decref(u.v[i].context);
		free(u.v[i].why);
	}
	free(u.v);
	return bad;
}
