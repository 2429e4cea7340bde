// SPDX-License-Identifier: GPL-2.0
/*
 * OUT/rtcheck.sarif: one SARIF 2.1.0 log for the whole sweep, merged from the
 * logs rtcheck-clang wrote per TU (OUT/tu/NAME.sarif). One run: the driver
 * has the union of the TUs' rules, the results are the TUs' results in path
 * order, and a result that several TUs report identically (a header's inline
 * function) is kept once, as in findings.json. TUs that failed or were not
 * run are the invocation's toolExecutionNotifications, so that a code
 * scanning front end shows that the log does not cover them.
 */
#include "outputs.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct merge {
	json_t *rules;		/* the driver's rules[] */
	json_t *rule_index;	/* id -> index in rules */
	json_t *results;
	json_t *seen;		/* compact text of each result taken -> true */
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

/* Appends result unless an identical one is there; its ruleIndex is the merged one. */
static void merge_result(struct merge *m, json_t *result)
{
	const char *id = json_string_value(json_object_get(result, "ruleId"));
	json_t *index = id ? json_object_get(m->rule_index, id) : NULL;
	char *text;

	if (index)
		json_object_set(result, "ruleIndex", index);
	else
		json_object_del(result, "ruleIndex");
	text = json_dumps(result, JSON_COMPACT | JSON_SORT_KEYS);
	if (text && !json_object_get(m->seen, text)) {
		json_object_set_new_nocheck(m->seen, text, json_true());
		json_array_append(m->results, result);
	}
	free(text);
}

static void merge_tu(struct merge *m, const struct sweep *sw, const struct tu *tu)
{
	char path[PATH_MAX + 32], text[PATH_MAX + 256];
	json_error_t error;
	json_t *doc, *run, *result;
	size_t i, j;

	snprintf(path, sizeof(path), "%s/tu/%s.sarif", sw->out, tu->name);
	doc = json_load_file(path, 0, &error);
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
