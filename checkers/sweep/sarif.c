// SPDX-License-Identifier: GPL-2.0
/*
 * OUT/rtcheck.sarif: one SARIF 2.1.0 log for the whole sweep, merged from the
 * logs rtcheck-clang wrote per TU (OUT/tu/NAME.sarif). One run: the driver
 * has the union of the TUs' rules, the results are the TUs' results in path
 * order, and a result that several TUs report at the same place (a header's
 * inline function) is kept once, as in findings.json. TUs that failed or were not
 * run are the invocation's toolExecutionNotifications, so that a code
 * scanning front end shows that the log does not cover them.
 */
#include "outputs.h"
#include "db.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct merge {
	json_t *rules;		/* the driver's rules[] */
	json_t *rule_index;	/* id -> index in rules */
	json_t *results;
	json_t *seen;		/* compact text of each result's place taken -> true */
	json_t *notes;		/* toolExecutionNotifications */
};

/* A JSON string of s, whose bytes that are not UTF-8 (a compiler's stderr) become '?'. */
static json_t *text_value(const char *s)
{
	json_t *v = json_string(s);
	char *copy, *p;

	if (v)
		return v;
	copy = xstrdup(s);
	for (p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

static void note(struct merge *m, const char *id, const char *rel, const char *text,
		 const char *stderr_tail)
{
	json_t *n = json_pack("{s:s,s:{s:o},s:{s:s}}", "level", "error",
			      "message", "text", text_value(text), "descriptor", "id", id);

	if (rel)
		json_object_set_new(n, "locations",
				    json_pack("[{s:{s:{s:o,s:s}}}]", "physicalLocation",
					      "artifactLocation", "uri", text_value(rel),
					      "uriBaseId", "SRCROOT"));
	if (stderr_tail && *stderr_tail)
		json_object_set_new(n, "properties",
				    json_pack("{s:o}", "stderr", text_value(stderr_tail)));
	json_array_append_new(m->notes, n);
}

static void merge_rules(struct merge *m, json_t *rules)
{
	size_t i;
	json_t *rule;

	json_array_foreach(rules, i, rule) {
		const char *id = json_string_value(json_object_get(rule, "id"));

		if (!id || json_object_get(m->rule_index, id))
			continue;
		json_object_set_new(m->rule_index, id,
				    json_integer((json_int_t)json_array_size(m->rules)));
		json_array_append(m->rules, rule);
	}
}

/*
 * Appends result unless one of the same place is there (the rule, the first
 * location and the message: a header's finding that several TUs report, each
 * with its own codeFlow, as findings.json keeps it); its ruleIndex is the
 * merged one.
 */
static void merge_result(struct merge *m, json_t *result)
{
	const char *id = json_string_value(json_object_get(result, "ruleId"));
	json_t *index = id ? json_object_get(m->rule_index, id) : NULL;
	json_t *loc = json_array_get(json_object_get(result, "locations"), 0);
	json_t *place = json_pack("[O?,O?,O?]", json_object_get(result, "ruleId"),
				  json_object_get(loc, "physicalLocation"),
				  json_object_get(json_object_get(result, "message"), "text"));
	char *text;

	if (index)
		json_object_set(result, "ruleIndex", index);
	else
		json_object_del(result, "ruleIndex");
	text = place ? json_dumps(place, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (text && !json_object_get(m->seen, text)) {
		json_object_set_new_nocheck(m->seen, text, json_true());
		json_array_append(m->results, result);
	}
	free(text);
	json_decref(place);
}

static void merge_tu(struct merge *m, const struct sweep *sw, const struct tu *tu)
{
	char path[PATH_MAX + 32], text[PATH_MAX + 256];
	json_error_t error;
	json_t *doc, *run, *result;
	size_t i, j;

	char *stored = db_tu_output(sw->db, tu->rel, TU_SARIF);

	snprintf(path, sizeof(path), "the facts database's SARIF log of %s", tu->rel);
	doc = stored ? json_loads(stored, 0, &error) : NULL;
	if (!stored)
		snprintf(error.text, sizeof(error.text), "not stored");
	free(stored);
	if (!doc) {
		snprintf(text, sizeof(text), "%s: its findings are missing here: cannot read "
			 "%s: %s", tu->rel, path, error.text);
		note(m, "tu-sarif-unreadable", tu->rel, text, NULL);
		return;
	}
	json_array_foreach(json_object_get(doc, "runs"), i, run) {
		merge_rules(m, json_object_get(json_object_get(json_object_get(run, "tool"),
							       "driver"), "rules"));
		json_array_foreach(json_object_get(run, "results"), j, result)
			merge_result(m, result);
	}
	json_decref(doc);
}

/* A path of the tree relative to SRCROOT; one outside it (an external module) as a file URI. */
static json_t *artifact(const char *file)
{
	char uri[PATH_MAX + 8];

	if (file[0] != '/')
		return json_pack("{s:s,s:s}", "uri", file, "uriBaseId", "SRCROOT");
	snprintf(uri, sizeof(uri), "file://%s", file);
	return json_pack("{s:s}", "uri", uri);
}

static json_t *sarif_location(json_t *step, int with_message)
{
	const char *file = json_string_value(json_object_get(step, "file"));
	json_t *loc = json_pack("{s:{s:o,s:{s:O,s:i}}}", "physicalLocation",
				"artifactLocation", artifact(file ? file : ""), "region", "startLine",
				json_object_get(step, "line"), "startColumn", 1);

	if (json_string_value(json_object_get(step, "function")))
		json_object_set_new(loc, "logicalLocations",
				    json_pack("[{s:O,s:s}]", "name", json_object_get(step, "function"),
					      "kind", "function"));
	if (with_message && json_object_get(step, "note"))
		json_object_set_new(loc, "message", json_pack("{s:O}", "text",
							      json_object_get(step, "note")));
	return loc;
}

/* The cross-TU propagation's findings (table xfinding) as SARIF results. */
static void merge_cross_tu(struct merge *m, const struct sweep *sw)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(sw->db, "SELECT json FROM xfinding ORDER BY file, line, op", -1, &st,
			       NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *f = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
		json_t *steps = json_array(), *step, *result;
		size_t i;

		if (!f)
			continue;
		json_array_foreach(json_object_get(f, "context"), i, step)
			json_array_append_new(steps, json_pack("{s:o}", "location",
							       sarif_location(step, 1)));
		json_array_append_new(steps, json_pack("{s:o}", "location", sarif_location(f, 0)));
		result = json_pack("{s:O,s:O,s:{s:O},s:[o],s:[{s:[{s:o}]}],s:{s:b}}",
				   "ruleId", json_object_get(f, "rule"),
				   "level", json_object_get(f, "severity"),
				   "message", "text", json_object_get(f, "message"),
				   "locations", sarif_location(f, 0),
				   "codeFlows", "threadFlows", "locations", steps,
				   "properties", "crossTu", 1);
		if (result)
			merge_result(m, result);
		json_decref(result);
		json_decref(f);
	}
	sqlite3_finalize(st);
}

static json_t *invocation(struct merge *m, const struct sweep *sw, const struct tu_list *list)
{
	size_t i, ok = 0, failed = 0, notrun = 0;
	char text[PATH_MAX + 256];

	for (i = 0; i < list->n; i++) {
		const struct tu *tu = &list->v[i];

		if (tu->state == TU_OK) {
			ok++;
		} else if (tu->state == TU_FAILED) {
			failed++;
			snprintf(text, sizeof(text), "%s: not analysed: %s", tu->rel, tu->reason);
			note(m, "tu-failed", tu->rel, text, tu->stderr_tail);
		} else {
			notrun++;
		}
	}
	if (notrun) {
		snprintf(text, sizeof(text), "interrupted by signal %d: %zu of %zu TUs not run",
			 sw->interrupted, notrun, list->n);
		note(m, "sweep-interrupted", NULL, text, NULL);
	}
	return json_pack("{s:b,s:O,s:{s:I,s:I,s:I,s:I,s:f}}",
			 "executionSuccessful", !sw->interrupted && ok > 0,
			 "toolExecutionNotifications", m->notes,
			 "properties", "tus", (json_int_t)list->n, "analysed", (json_int_t)ok,
			 "failed", (json_int_t)failed, "notRun", (json_int_t)notrun,
			 "seconds", sw->seconds);
}

int write_sweep_sarif(const struct sweep *sw, const struct tu_list *list, char *err,
		      size_t errlen)
{
	struct merge m = { json_array(), json_object(), json_array(), json_object(), json_array() };
	char path[PATH_MAX + 32], root[PATH_MAX + 16];
	json_t *doc;
	FILE *f;
	size_t i;
	int ret = 0;

	for (i = 0; i < list->n; i++)
		if (list->v[i].state == TU_OK)
			merge_tu(&m, sw, &list->v[i]);
	merge_cross_tu(&m, sw);
	snprintf(root, sizeof(root), "file://%s/", sw->kb.src);
	doc = json_pack("{s:s,s:s,s:[{s:{s:{s:s,s:s,s:O}},s:{s:{s:s}},s:[o],s:O}]}",
			"$schema", "https://json.schemastore.org/sarif-2.1.0.json",
			"version", "2.1.0",
			"runs", "tool", "driver", "name", "rtcheck", "version", RTCHECK_VERSION,
			"rules", m.rules,
			"originalUriBaseIds", "SRCROOT", "uri", root,
			"invocations", invocation(&m, sw, list),
			"results", m.results);
	snprintf(path, sizeof(path), "%s/rtcheck.sarif", sw->out);
	if (!doc) {
		snprintf(err, errlen, "%s: cannot build the SARIF log", path);
		ret = -1;
	} else if (!(f = fopen(path, "w"))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ret = -1;
	} else {
		ret = json_dumpf(doc, f, JSON_INDENT(2)) | -(fputc('\n', f) == EOF);
		if (fclose(f) || ret) {
			snprintf(err, errlen, "%s: write error", path);
			ret = -1;
		}
	}
	json_decref(doc);
	json_decref(m.rules);
	json_decref(m.rule_index);
	json_decref(m.results);
	json_decref(m.seen);
	json_decref(m.notes);
	return ret;
}
