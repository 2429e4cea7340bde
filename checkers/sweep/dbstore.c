// SPDX-License-Identifier: GPL-2.0
/*
 * Storing one TU's result in the facts database: its findings (the jsonl and
 * text reports) and its facts (rtcheck-clang --facts, docs/facts.md), in one
 * transaction, replacing what an earlier run stored for the same path.
 */
#include "db.h"

#include "rtcheck/context_facts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static long num(json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

/* The strings of a JSON array joined by sep, malloc'ed. */
static char *joined(json_t *array, char sep)
{
	size_t i, len = 1;
	json_t *v;
	char *out, *p;

	json_array_foreach(array, i, v)
		len += strlen(json_string_value(v) ? json_string_value(v) : "") + 1;
	p = out = xmalloc(len);
	json_array_foreach(array, i, v) {
		const char *s = json_string_value(v) ? json_string_value(v) : "";

		if (i)
			*p++ = sep;
		memcpy(p, s, strlen(s));
		p += strlen(s);
	}
	*p = '\0';
	return out;
}

/* The CONTEXT_FACT_* bits a JSON array of fact names ("irqs_off") stands for. */
static int context_facts(json_t *names)
{
	const char *name;
	unsigned bits = 0;
	size_t i;
	json_t *x;

	json_array_foreach(names, i, x)
		if ((name = json_string_value(x)))
			bits |= rtcheck_context_fact(name, strlen(name));
	return (int)bits;
}

static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The function rows of one TU's facts line. */
static int store_functions(sqlite3 *db, long long tu_id, json_t *facts)
{
	sqlite3_stmt *fn, *en, *sl, *ca, *re, *pf;
	json_t *f, *x;
	char *needs, *args;
	size_t i, j;
	int bad = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO function(tu, name, file, line, static, init)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1, &fn, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO entry VALUES(?1, ?2, ?3)", -1, &en, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO sleep VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
			       -1, &sl, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO call VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
			       " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)", -1, &ca,
			       NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO registration VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1,
			       &re, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO percpu_free VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1,
			       &pf, NULL))
		return -1;
	json_array_foreach(json_object_get(facts, "functions"), i, f) {
		long long id;

		sqlite3_bind_int64(fn, 1, tu_id);
		sqlite3_bind_text(fn, 2, str(f, "name"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(fn, 3, str(f, "file"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(fn, 4, num(f, "line"));
		sqlite3_bind_int(fn, 5, json_is_true(json_object_get(f, "static")));
		sqlite3_bind_int(fn, 6, json_is_true(json_object_get(f, "init")));
		bad |= run(fn);
		id = sqlite3_last_insert_rowid(db);
		json_array_foreach(json_object_get(f, "entry"), j, x) {
			sqlite3_bind_int64(en, 1, id);
			sqlite3_bind_text(en, 2, str(x, "kind"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(en, 3, str(x, "note"), -1, SQLITE_TRANSIENT);
			bad |= run(en);
		}
		json_array_foreach(json_object_get(f, "may_sleep"), j, x) {
			sqlite3_bind_int64(sl, 1, id);
			sqlite3_bind_text(sl, 2, str(x, "function"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(sl, 3, str(x, "op"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(sl, 4, str(x, "why"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(sl, 5, str(x, "file"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(sl, 6, num(x, "line"));
			sqlite3_bind_int64(sl, 7, num(x, "depth"));
			sqlite3_bind_int(sl, 8, context_facts(json_object_get(x, "unless")));
			needs = joined(json_object_get(x, "needs"), ',');
			sqlite3_bind_text(sl, 9, needs, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(sl, 10, json_string_value(json_object_get(x, "last_ref")), -1,
					  SQLITE_TRANSIENT);
			bad |= run(sl);
			free(needs);
		}
		json_array_foreach(json_object_get(f, "calls"), j, x) {
			char *held = joined(json_object_get(x, "held"), ',');

			sqlite3_bind_int64(ca, 1, id);
			sqlite3_bind_text(ca, 2, str(x, "callee"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(ca, 3, json_is_true(json_object_get(x, "local")));
			sqlite3_bind_text(ca, 4, str(x, "file"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(ca, 5, num(x, "line"));
			sqlite3_bind_text(ca, 6, held, -1, SQLITE_TRANSIENT);
			if (json_string_value(json_object_get(x, "atomic"))) {
				json_t *at = json_object_get(x, "atomic_at");

				sqlite3_bind_text(ca, 7, str(x, "atomic"), -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(ca, 8, str(at, "file"), -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(ca, 9, num(at, "line"));
				sqlite3_bind_text(ca, 10, str(at, "note"), -1, SQLITE_TRANSIENT);
			}
			sqlite3_bind_int(ca, 11, json_is_true(json_object_get(x, "serialised")));
			if (json_object_get(x, "bh")) {
				json_t *bh = json_object_get(x, "bh");

				sqlite3_bind_text(ca, 12, str(bh, "file"), -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(ca, 13, num(bh, "line"));
				sqlite3_bind_text(ca, 14, str(bh, "note"), -1, SQLITE_TRANSIENT);
			}
			sqlite3_bind_int(ca, 15, json_is_true(json_object_get(x, "released")));
			sqlite3_bind_int(ca, 16, context_facts(json_object_get(x, "unless")));
			sqlite3_bind_int(ca, 17, context_facts(json_object_get(x, "atomic_facts")));
			needs = joined(json_object_get(x, "needs"), ',');
			args = joined(json_object_get(x, "args"), ',');
			sqlite3_bind_text(ca, 18, needs, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ca, 19, args, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(ca, 20, json_string_value(json_object_get(x, "last_ref")), -1,
					  SQLITE_TRANSIENT);
			bad |= run(ca);
			free(held);
			free(needs);
			free(args);
		}
		json_array_foreach(json_object_get(f, "percpu_free"), j, x) {
			char *calls = json_dumps(json_object_get(x, "calls"), JSON_COMPACT);

			sqlite3_bind_int64(pf, 1, id);
			sqlite3_bind_text(pf, 2, str(x, "object"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(pf, 3, str(x, "function"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(pf, 4, str(x, "file"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(pf, 5, num(x, "line"));
			sqlite3_bind_text(pf, 6, str(x, "note"), -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(pf, 7, calls ? calls : "[]", -1, SQLITE_TRANSIENT);
			needs = joined(json_object_get(x, "needs"), ',');
			sqlite3_bind_text(pf, 8, needs, -1, SQLITE_TRANSIENT);
			bad |= run(pf);
			free(calls);
			free(needs);
		}
	}
	json_array_foreach(json_object_get(facts, "registers"), i, x) {
		sqlite3_bind_int64(re, 1, tu_id);
		sqlite3_bind_text(re, 2, str(x, "function"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(re, 3, str(x, "kind"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(re, 4, str(x, "note"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(re, 5, str(x, "file"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(re, 6, num(x, "line"));
		bad |= run(re);
	}
	sqlite3_finalize(fn);
	sqlite3_finalize(en);
	sqlite3_finalize(sl);
	sqlite3_finalize(ca);
	sqlite3_finalize(re);
	sqlite3_finalize(pf);
	return bad ? -1 : 0;
}

static char *tu_file(const struct sweep *sw, const struct tu *tu, const char *ext)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/tu/%s%s", sw->out, tu->name, ext);
	return read_file(path, NULL);
}

int db_store_tu(struct sweep *sw, const struct tu *tu, char *err, size_t errlen)
{
	char *jsonl = NULL, *text = NULL, *sarif = NULL, *facts_text = NULL, *includes = NULL;
	json_t *facts = NULL;
	sqlite3_stmt *st = NULL;
	char key[17] = "";
	int ret = -1;

	if (tu->state == TU_OK) {
		json_error_t jerr;

		jsonl = tu_file(sw, tu, ".jsonl");
		text = tu_file(sw, tu, ".txt");
		sarif = tu_file(sw, tu, ".sarif");
		facts_text = tu_file(sw, tu, ".facts");
		facts = facts_text ? json_loads(facts_text, 0, &jerr) : NULL;
		if (!facts) {
			snprintf(err, errlen, "%s: no facts from rtcheck-clang", tu->rel);
			goto out;
		}
		includes = joined(json_object_get(facts, "includes"), '\n');
		db_tu_key(sw, tu, includes, key);
	}
	if (sqlite3_exec(sw->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto sqlerr;
	if (sqlite3_prepare_v2(sw->db, "DELETE FROM tu WHERE path = ?1", -1, &st, NULL))
		goto rollback;
	sqlite3_bind_text(st, 1, tu->rel, -1, SQLITE_STATIC);
	if (run(st))
		goto rollback;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(sw->db, "INSERT INTO tu(path, key, state, seconds, retried, reason,"
			       " stderr_tail, nfindings, findings_jsonl, findings_text, findings_sarif, includes)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", -1, &st, NULL))
		goto rollback;
	sqlite3_bind_text(st, 1, tu->rel, -1, SQLITE_STATIC);
	if (key[0])
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, tu->state == TU_OK ? "ok" : "failed", -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 4, tu->seconds);
	sqlite3_bind_int(st, 5, tu->retried);
	sqlite3_bind_text(st, 6, tu->reason, -1, SQLITE_STATIC);
	if (tu->stderr_tail)
		sqlite3_bind_text(st, 7, tu->stderr_tail, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, tu->nfindings);
	if (jsonl)
		sqlite3_bind_text(st, 9, jsonl, -1, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(st, 10, text, -1, SQLITE_STATIC);
	if (sarif)
		sqlite3_bind_text(st, 11, sarif, -1, SQLITE_STATIC);
	if (includes)
		sqlite3_bind_text(st, 12, includes, -1, SQLITE_STATIC);
	if (run(st))
		goto rollback;
	if (facts && store_functions(sw->db, sqlite3_last_insert_rowid(sw->db), facts))
		goto rollback;
	if (sqlite3_exec(sw->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto rollback;
	ret = 0;
	goto out;
rollback:
	snprintf(err, errlen, "facts database: %s: %s", tu->rel, sqlite3_errmsg(sw->db));
	sqlite3_exec(sw->db, "ROLLBACK", NULL, NULL, NULL);
	goto out;
sqlerr:
	snprintf(err, errlen, "facts database: %s", sqlite3_errmsg(sw->db));
out:
	sqlite3_finalize(st);
	json_decref(facts);
	free(jsonl);
	free(text);
	free(sarif);
	free(facts_text);
	free(includes);
	return ret;
}
