// SPDX-License-Identifier: GPL-2.0
/*
 * The propagation's graph from the facts database, and its findings back
 * into it (table xfinding: the design.md §4 finding object and its text).
 */
#include "propagate.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? xstrdup((const char *)s) : NULL;
}

/* Room for element n of v: the capacity doubles when n reaches a power of two. */
static void *grow(void *v, size_t n, size_t size)
{
	if (n & (n - 1))
		return v;
	v = realloc(v, (n ? n * 2 : 1) * size);
	if (!v) {
		fputs("rtcheck: error: out of memory\n", stderr);
		exit(EXIT_INTERNAL);
	}
	return v;
}

static int by_id(const void *key, const void *elem)
{
	long long k = *(const long long *)key, id = ((const struct xfn *)elem)->id;

	return (k > id) - (k < id);
}

/* include/rtcheck/dying_contexts.def: is function name, defined in file, one? */
static int dying(const char *name, const char *file)
{
	static const struct {
		const char *file, *function;
	} table[] = {
#define RTCHECK_DYING(File, Function, What) { File, Function },
#include "rtcheck/dying_contexts.def"
#undef RTCHECK_DYING
	};
	size_t i, n = strlen(file);

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		size_t m = strlen(table[i].file);

		if (strcmp(table[i].function, name))
			continue;
		if (!m || (n >= m && !strcmp(file + n - m, table[i].file) &&
			   (n == m || file[n - m - 1] == '/')))
			return 1;
	}
	return 0;
}

static struct xfn *fn_by_id(struct xtu_graph *g, long long id)
{
	return bsearch(&id, g->fns, g->nfns, sizeof(*g->fns), by_id);
}

int xtu_load(sqlite3 *db, struct xtu_graph *g, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t i, j;

	if (sqlite3_prepare_v2(db, "SELECT f.id, f.tu, f.name, f.file, f.line, f.static, t.path,"
			       " f.init"
			       " FROM function f JOIN tu t ON t.id = f.tu JOIN scope s ON s.path = t.path"
			       " WHERE t.state = 'ok' ORDER BY f.id", -1, &st, NULL))
		goto sqlerr;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct xfn *f;

		g->fns = grow(g->fns, g->nfns, sizeof(*g->fns));
		f = &g->fns[g->nfns++];
		memset(f, 0, sizeof(*f));
		f->id = sqlite3_column_int64(st, 0);
		f->tu = sqlite3_column_int64(st, 1);
		f->name = col(st, 2);
		f->file = col(st, 3);
		f->line = sqlite3_column_int(st, 4);
		f->is_static = sqlite3_column_int(st, 5);
		f->tu_path = col(st, 6);
		f->is_init = sqlite3_column_int(st, 7);
		f->is_dying = f->name && dying(f->name, f->file ? f->file : "");
	}
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db, "SELECT function, site_function, op, why, file, line, depth,"
			       " unless, needs, last_ref FROM sleep", -1, &st, NULL))
		goto sqlerr;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct xfn *f = fn_by_id(g, sqlite3_column_int64(st, 0));
		struct xsite *s;

		if (!f)
			continue;	/* out of scope */
		f->sites = grow(f->sites, f->nsites, sizeof(*f->sites));
		s = &f->sites[f->nsites++];
		s->function = col(st, 1);
		s->op = col(st, 2);
		s->why = col(st, 3);
		s->file = col(st, 4);
		s->line = sqlite3_column_int(st, 5);
		s->depth = sqlite3_column_int(st, 6);
		s->unless = (unsigned)sqlite3_column_int(st, 7);
		xneeds_parse((const char *)sqlite3_column_text(st, 8), &s->needs);
		s->last_ref = col(st, 9);
	}
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db, "SELECT function, object, file, line, note, calls, use_function,"
			       " needs FROM percpu_free", -1, &st, NULL))
		goto sqlerr;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct xfn *f = fn_by_id(g, sqlite3_column_int64(st, 0));
		struct xfree *u;

		if (!f)
			continue;
		f->frees = grow(f->frees, f->nfrees, sizeof(*f->frees));
		u = &f->frees[f->nfrees++];
		u->object = col(st, 1);
		u->file = col(st, 2);
		u->line = sqlite3_column_int(st, 3);
		u->note = col(st, 4);
		u->calls = col(st, 5);
		u->function = col(st, 6);
		xneeds_parse((const char *)sqlite3_column_text(st, 7), &u->needs);
	}
	sqlite3_finalize(st);

	if (sqlite3_prepare_v2(db, "SELECT function, callee, local, file, line, atomic,"
			       " atomic_file, atomic_line, atomic_note, serialised, bh_file, bh_line,"
			       " bh_note, released, unless, atomic_facts, needs, args, last_ref FROM call", -1, &st,
			       NULL))
		goto sqlerr;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct xfn *f = fn_by_id(g, sqlite3_column_int64(st, 0));
		struct xcall *c;

		if (!f)
			continue;
		f->calls = grow(f->calls, f->ncalls, sizeof(*f->calls));
		c = &f->calls[f->ncalls++];
		c->callee = col(st, 1);
		c->local = sqlite3_column_int(st, 2);
		c->file = col(st, 3);
		c->line = sqlite3_column_int(st, 4);
		c->atomic = col(st, 5);
		c->atomic_file = col(st, 6);
		c->atomic_line = sqlite3_column_int(st, 7);
		c->atomic_note = col(st, 8);
		c->serialised = sqlite3_column_int(st, 9);
		c->bh_file = col(st, 10);
		c->bh_line = sqlite3_column_int(st, 11);
		c->bh_note = col(st, 12);
		c->released = sqlite3_column_int(st, 13);
		c->unless = (unsigned)sqlite3_column_int(st, 14);
		c->atomic_facts = (unsigned)sqlite3_column_int(st, 15);
		xneeds_parse((const char *)sqlite3_column_text(st, 16), &c->needs);
		xargs_parse((const char *)sqlite3_column_text(st, 17), &c->args);
		c->last_ref = col(st, 18);
	}
	sqlite3_finalize(st);
	for (i = 0; i < g->nfns; i++) {
		for (j = 0; j < g->fns[i].nsites; j++)
			g->fns[i].sites[j].owner = &g->fns[i];
		for (j = 0; j < g->fns[i].ncalls; j++)
			g->fns[i].calls[j].caller = &g->fns[i];
		for (j = 0; j < g->fns[i].nfrees; j++)
			g->fns[i].frees[j].owner = &g->fns[i];
	}

	if (sqlite3_prepare_v2(db, "SELECT r.tu, r.function, r.kind, r.note, r.file, r.line, t.path"
			       " FROM registration r JOIN tu t ON t.id = r.tu"
			       " JOIN scope s ON s.path = t.path", -1, &st, NULL))
		goto sqlerr;
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct xreg *r;

		g->regs = grow(g->regs, g->nregs, sizeof(*g->regs));
		r = &g->regs[g->nregs++];
		r->tu = sqlite3_column_int64(st, 0);
		r->function = col(st, 1);
		r->kind = col(st, 2);
		r->note = col(st, 3);
		r->file = col(st, 4);
		r->line = sqlite3_column_int(st, 5);
		r->tu_path = col(st, 6);
	}
	sqlite3_finalize(st);
	return 0;
sqlerr:
	snprintf(err, errlen, "facts database: %s", sqlite3_errmsg(db));
	return -1;
}

void xtu_free(struct xtu_graph *g)
{
	size_t i, j;

	for (i = 0; i < g->nfns; i++) {
		struct xfn *f = &g->fns[i];

		for (j = 0; j < f->nsites; j++) {
			free(f->sites[j].function);
			free(f->sites[j].op);
			free(f->sites[j].why);
			free(f->sites[j].file);
			free(f->sites[j].last_ref);
		}
		for (j = 0; j < f->ncalls; j++) {
			free(f->calls[j].callee);
			free(f->calls[j].file);
			free(f->calls[j].atomic);
			free(f->calls[j].atomic_file);
			free(f->calls[j].atomic_note);
			free(f->calls[j].bh_file);
			free(f->calls[j].bh_note);
			free(f->calls[j].last_ref);
		}
		for (j = 0; j < f->nfrees; j++) {
			free(f->frees[j].object);
			free(f->frees[j].file);
			free(f->frees[j].note);
			free(f->frees[j].calls);
			free(f->frees[j].function);
		}
		free(f->frees);
		free(f->sites);
		free(f->calls);
		free(f->name);
		free(f->file);
		free(f->tu_path);
	}
	for (i = 0; i < g->nregs; i++) {
		free(g->regs[i].function);
		free(g->regs[i].kind);
		free(g->regs[i].note);
		free(g->regs[i].file);
		free(g->regs[i].tu_path);
	}
	free(g->regs);
	free(g->fns);
	free(g->by_name);
	free(g->by_tu_name);
	free(g->order);
	memset(g, 0, sizeof(*g));
}
