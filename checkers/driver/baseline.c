// SPDX-License-Identifier: GPL-2.0
/*
 * Baselines: known findings, fingerprinted by rule, file, function and the
 * whitespace-squeezed text of the finding's line, not by line number, so an
 * edit elsewhere in the file does not bring them back (docs/presubmit.md).
 */
#include "presubmit.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

struct fingerprint {
	char *rule, *file, *function, *snippet;
	int used;
};

#define BASELINE_FORMAT "rtcheck-baseline-1"

/*
 * The line with leading and trailing blanks removed, inner runs squeezed,
 * and every byte that is not UTF-8 (a Latin-1 source file) as U+FFFD: the
 * snippet is a JSON string in the baseline.
 */
static char *snippet(struct sources *src, const char *file, unsigned int line)
{
	const char *p = source_line(src, file, line);
	char *out = malloc(p ? 3 * strlen(p) + 1 : 1), *w = out;
	int blank = 0;

	if (!out)
		return NULL;
	while (p && *p) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v') {
			blank = w != out;
			p++;
			continue;
		}
		if (blank)
			*w++ = ' ';
		blank = 0;
		utf8_copy_one(&w, &p);
	}
	*w = '\0';
	return out;
}

static int is_meta(const char *rule)
{
	return !strcmp(rule, RULE_IGNORE_INVALID) || !strcmp(rule, RULE_IGNORE_UNUSED);
}

int baseline_load(struct baseline *b, const char *path, char *err, size_t errlen)
{
	char *text;
	size_t len, i;
	const json_t *list;
	json_t *doc;
	json_error_t jerr;
	const char *fmt;

	memset(b, 0, sizeof(*b));
	text = slurp_file(path, &len);
	if (!text) {
		snprintf(err, errlen, "%s: cannot read the baseline", path);
		return -1;
	}
	doc = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	free(text);
	fmt = json_string_value(json_object_get(doc, "format"));
	list = json_object_get(doc, "findings");
	if (!fmt || strcmp(fmt, BASELINE_FORMAT) || !json_is_array(list)) {
		if (doc)
			snprintf(err, errlen, "%s: not an rtcheck baseline", path);
		else
			snprintf(err, errlen, "%s: not an rtcheck baseline: line %d: %s", path,
				 jerr.line, jerr.text);
		json_decref(doc);
		return -1;
	}
	b->v = calloc(json_array_size(list) ? json_array_size(list) : 1, sizeof(*b->v));
	for (i = 0; b->v && i < json_array_size(list); i++) {
		const json_t *o = json_array_get(list, i);
		const char *rule = json_string_value(json_object_get(o, "rule"));
		const char *file = json_string_value(json_object_get(o, "file"));
		const char *fn = json_string_value(json_object_get(o, "function"));
		const char *snip = json_string_value(json_object_get(o, "snippet"));

		if (!rule || !file || !fn || !snip) {
			snprintf(err, errlen, "%s: entry %zu lacks rule, file, function or snippet",
				 path, i + 1);
			json_decref(doc);
			baseline_free(b);
			return -1;
		}
		b->v[b->n].rule = strdup(rule);
		b->v[b->n].file = strdup(file);
		b->v[b->n].function = strdup(fn);
		b->v[b->n].snippet = strdup(snip);
		b->n++;
	}
	json_decref(doc);
	if (!b->v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void baseline_apply(const struct baseline *b, struct findings *fs, struct sources *src)
{
	size_t i, k;

	for (k = 0; k < b->n; k++)
		b->v[k].used = 0;
	for (i = 0; i < fs->n; i++) {
		struct finding *f = &fs->v[i];
		char *snip;

		if (f->hidden != SHOWN || is_meta(f->rule))
			continue;
		snip = snippet(src, f->where.file, f->where.line);
		for (k = 0; snip && k < b->n; k++) {
			struct fingerprint *p = &b->v[k];

			if (!p->used && !strcmp(p->rule, f->rule) && !strcmp(p->file, f->where.file) &&
			    !strcmp(p->function, f->where.function) && !strcmp(p->snippet, snip)) {
				p->used = 1;
				f->hidden = BASELINED;
				break;
			}
		}
		free(snip);
	}
}

/* Member key of o set to the string val; nonzero when val is not UTF-8 or out of memory. */
static int set_str(json_t *o, const char *key, const char *val)
{
	return json_object_set_new(o, key, json_string(val));
}

int baseline_write(FILE *out, const struct findings *fs, struct sources *src)
{
	size_t i, n = 0;
	int bad = 0;

	fputs("{\n  \"format\": \"" BASELINE_FORMAT "\",\n  \"tool\": \"rtcheck " RTCHECK_VERSION
	      "\",\n  \"findings\": [", out);
	for (i = 0; i < fs->n && !bad; i++) {
		const struct finding *f = &fs->v[i];
		json_t *o;
		char *snip;

		if (f->hidden != SHOWN || is_meta(f->rule))
			continue;
		snip = snippet(src, f->where.file, f->where.line);
		/* one finding a line: {"rule": ..., "file": ..., ..., "line": N} */
		o = json_object();
		bad = !o || set_str(o, "rule", f->rule) || set_str(o, "file", f->where.file) ||
		      set_str(o, "function", f->where.function) ||
		      set_str(o, "snippet", snip ? snip : "") ||
		      json_object_set_new(o, "line", json_integer(f->where.line));
		fputs(n++ ? ",\n    " : "\n    ", out);
		bad = bad || json_dumpf(o, out, JSON_PRESERVE_ORDER);
		json_decref(o);
		free(snip);
	}
	fputs(n ? "\n  ]\n}\n" : "]\n}\n", out);
	return bad || fflush(out) || ferror(out) ? -1 : 0;
}

void baseline_free(struct baseline *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->v[i].rule);
		free(b->v[i].file);
		free(b->v[i].function);
		free(b->v[i].snippet);
	}
	free(b->v);
	memset(b, 0, sizeof(*b));
}
