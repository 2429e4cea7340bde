// SPDX-License-Identifier: GPL-2.0
/*
 * The findings of the cross-TU propagation, as rtcheck-clang would write
 * them (design.md §4; text in GCC style), into table xfinding.
 */
#include "propagate.h"
#include "rtcheck/context_facts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The contexts that are truly atomic on RT (Context.h isTrulyAtomic). */
static const char *const truly_atomic[] = { "raw_lock", "preempt_off", "irq_off", "hardirq",
					    "nmi" };

static int is_truly_atomic(const char *kind)
{
	size_t i;

	for (i = 0; i < sizeof(truly_atomic) / sizeof(*truly_atomic); i++)
		if (!strcmp(kind, truly_atomic[i]))
			return 1;
	return 0;
}

void xtu_step(json_t *context, const char *file, long line, const char *function,
		 const char *note)
{
	json_array_append_new(context, json_pack("{s:s, s:i, s:i, s:s, s:s}", "file", file,
						 "line", (json_int_t)line, "column", 1, "function",
						 function, "note", note));
}

/* "calls m() (kernel/foo.c)", the TU named when the call leaves the caller's. */
void xtu_call_step(json_t *context, const struct xcall *c, const struct xfn *to)
{
	char note[512];

	if (c->local || !to)
		snprintf(note, sizeof(note), "calls %s()", c->callee);
	else
		snprintf(note, sizeof(note), "calls %s(), defined in %s", c->callee, to->tu_path);
	xtu_step(context, c->file, c->line, c->caller->name, note);
}

/* The function each step calls into: the next step's caller, or last. */
void xtu_path_steps(json_t *context, const struct xpath *p, const struct xfn *last)
{
	size_t i;

	for (i = 0; i < p->nsteps; i++)
		xtu_call_step(context, p->steps[i],
			      i + 1 < p->nsteps ? p->steps[i + 1]->caller : last);
}

static int stored(sqlite3 *db, const struct xsite *site)
{
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM xfinding WHERE file = ?1 AND line = ?2"
			       " AND op = ?3", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, site->file, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, site->line);
		sqlite3_bind_text(st, 3, site->op, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	return found;
}

int xtu_insert_finding(sqlite3 *db, struct xtu_graph *g, const struct xfinding *x, json_t *context)
{
	char *text, *jtext;
	size_t i, len;
	json_t *f, *c;
	FILE *out;
	sqlite3_stmt *st;
	int rc;

	f = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:o, s:{s:s, s:s}, s:b}", "rule",
		      x->rule, "severity", x->severity ? x->severity : "warning", "file", x->file, "line", (json_int_t)x->line,
		      "column", 1, "function", x->function, "message", x->message, "context",
		      context, "fix", "kind", "none", "summary", x->fix_summary, "cross_tu", 1);
	jtext = json_dumps(f, JSON_COMPACT);
	out = open_memstream(&text, &len);
	fprintf(out, "%s:%ld:1: %s: %s [%s]\n", x->file, x->line,
		x->severity ? x->severity : "warning", x->message, x->rule);
	json_array_foreach(context, i, c)
		fprintf(out, "%s:%ld:1: note: %s\n", json_string_value(json_object_get(c, "file")),
			(long)json_integer_value(json_object_get(c, "line")),
			json_string_value(json_object_get(c, "note")));
	fclose(out);
	rc = sqlite3_prepare_v2(db, "INSERT INTO xfinding(file, line, op, json, text)"
				" VALUES(?1, ?2, ?3, ?4, ?5)", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, x->file, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, x->line);
		sqlite3_bind_text(st, 3, x->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, jtext, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_finalize(st);
	}
	g->nfindings += rc == SQLITE_OK;
	free(text);
	free(jtext);
	json_decref(f);
	return rc == SQLITE_OK ? 0 : -1;
}

/* One finding at site, with its chain; one per site over the whole sweep. */
static int emit(sqlite3 *db, struct xtu_graph *g, const struct xsite *site, json_t *context,
		const char *phrase, const char *last_ref)
{
	char msg[1400];
	struct xfinding x = { "rt-atomic-sleep", site->file, site->line, site->function, msg,
			      "the chain crosses translation units: move the call out of the atomic "
			      "section, or make the callee not sleep on RT", site->op, NULL };

	if (stored(db, site)) {
		json_decref(context);
		return 0;
	}
	if (site->depth)
		xtu_step(context, site->file, site->line, site->function,
			 "the sleeping call (below the calls its own TU follows)");
	snprintf(msg, sizeof(msg), "%s() %s: called in truly atomic context on PREEMPT_RT, %s"
		 " (the chain crosses translation units)", site->op, site->why, phrase);
	/* As rtcheck-clang says it (AtomicSleep.cpp): a note, not a warning. */
	if (last_ref) {
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), "; reached only when %s() in"
			 " a callee drops the last reference, which a caller that holds this context"
			 " while it puts its reference usually rules out (review whether it can be the"
			 " last here)", last_ref);
		x.severity = "note";
	}
	return xtu_insert_finding(db, g, &x, context);
}

/* The call's arguments rule out a site that needs this of the callee's parameters. */
static int ruled_out(const struct xcall *c, const struct xneeds *needs)
{
	struct xneeds unused = { .n = 0 };

	return xneeds_map(needs, &c->args, &unused) < 0;
}

/* A call in truly atomic context to functions of other TUs that may sleep. */
static int atomic_call(sqlite3 *db, struct xtu_graph *g, const struct xcall *c)
{
	struct xfn *to[XTU_MAX_DEFS];
	size_t t, k, nt = xtu_targets(g, c->caller->tu, c->callee, c->local, to);
	char phrase[512];
	int bad = 0;

	/* A guard on the way (in_irq() || irqs_disabled()) that the atomic
	 * context makes true: the call, or the site, is not reached from it. */
	if (c->atomic_facts & c->unless)
		return 0;
	snprintf(phrase, sizeof(phrase), "under %s in %s()", c->atomic, c->caller->name);
	for (t = 0; t < nt; t++) {
		for (k = 0; !c->local && k < to[t]->nsites; k++) {
			json_t *context;

			if ((c->atomic_facts & to[t]->sites[k].unless) ||
			    ruled_out(c, &to[t]->sites[k].needs))
				continue;
			context = json_array();

			xtu_step(context, c->atomic_file, c->atomic_line, c->caller->name, c->atomic_note);
			xtu_call_step(context, c, to[t]);
			bad |= emit(db, g, &to[t]->sites[k], context, phrase,
				    to[t]->sites[k].last_ref);
		}
		for (k = 0; k < to[t]->nreach; k++) {
			json_t *context;

			if ((c->atomic_facts & to[t]->reach[k].unless) ||
			    ruled_out(c, &to[t]->reach[k].needs))
				continue;
			context = json_array();
			xtu_step(context, c->atomic_file, c->atomic_line, c->caller->name, c->atomic_note);
			xtu_call_step(context, c, to[t]);
			xtu_path_steps(context, &to[t]->reach[k].path, to[t]->reach[k].site->owner);
			bad |= emit(db, g, to[t]->reach[k].site, context, phrase,
				    to[t]->reach[k].last_ref);
		}
	}
	return bad;
}

/* A function another TU registers in a truly atomic context (request_irq(..., fn)). */
static int atomic_registration(sqlite3 *db, struct xtu_graph *g, const struct xreg *r)
{
	struct xfn *to[XTU_MAX_DEFS];
	size_t t, k, nt = xtu_targets(g, r->tu, r->function, 0, to);
	char phrase[512];
	int bad = 0;

	unsigned facts = CONTEXT_FACT_HARDIRQ | CONTEXT_FACT_IRQS_OFF | CONTEXT_FACT_PREEMPT_COUNT |
			 (!strcmp(r->kind, "nmi") ? CONTEXT_FACT_NMI : 0);

	snprintf(phrase, sizeof(phrase), "as %s() is registered in %s", r->function, r->tu_path);
	for (t = 0; t < nt; t++) {
		for (k = 0; k < to[t]->nsites + to[t]->nreach; k++) {
			const struct xreach *reach = k < to[t]->nsites ? NULL :
				&to[t]->reach[k - to[t]->nsites];
			json_t *context;

			if (facts & (reach ? reach->unless : to[t]->sites[k].unless))
				continue;
			context = json_array();

			xtu_step(context, r->file, r->line, r->function, r->note);
			if (reach)
				xtu_path_steps(context, &reach->path, reach->site->owner);
			bad |= emit(db, g, reach ? reach->site : &to[t]->sites[k], context, phrase,
				    reach ? reach->last_ref : to[t]->sites[k].last_ref);
		}
	}
	return bad;
}

int xtu_store(sqlite3 *db, struct xtu_graph *g, char *err, size_t errlen)
{
	size_t i, j;
	int bad = 0;

	if (sqlite3_exec(db, "BEGIN; DROP TABLE IF EXISTS xfinding;"
			 "CREATE TABLE xfinding(id INTEGER PRIMARY KEY, file TEXT, line INTEGER,"
			 " op TEXT, json TEXT, text TEXT);", NULL, NULL, NULL) != SQLITE_OK)
		goto sqlerr;
	for (i = 0; xtu_wants(g, "rt-atomic-sleep") && i < g->nfns; i++)
		for (j = 0; !g->order[i]->is_init && !g->order[i]->is_dying &&
			    j < g->order[i]->ncalls; j++)
			if (g->order[i]->calls[j].atomic)
				bad |= atomic_call(db, g, &g->order[i]->calls[j]);
	for (i = 0; xtu_wants(g, "rt-atomic-sleep") && i < g->nregs; i++)
		if (is_truly_atomic(g->regs[i].kind))
			bad |= atomic_registration(db, g, &g->regs[i]);
	if (xtu_wants(g, "rt-percpu-bh"))
		bad |= xtu_bh_store(db, g);
	if (bad || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto sqlerr;
	}
	return 0;
sqlerr:
	snprintf(err, errlen, "facts database: %s", sqlite3_errmsg(db));
	return -1;
}
