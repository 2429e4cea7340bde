// SPDX-License-Identifier: GPL-2.0
/*
 * Baselines: known findings, fingerprinted by rule, file, function and the
 * whitespace-squeezed text of the finding's line, not by line number, so an
 * edit elsewhere in the file does not bring them back (docs/presubmit.md).
 */
#include "presubmit.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

struct fingerprint {
	char *rule, *file, *function, *snippet;
	int used;
};

#define BASELINE_FORMAT "rtcheck-baseline-1"

/* The line with leading and trailing blanks removed, inner runs squeezed. */
static char *snippet(struct sources *src, const char *file, unsigned int line)
{
	const char *p = source_line(src, file, line);
	char *out = malloc(p ? strlen(p) + 1 : 1), *w = out;
	int blank = 0;

	if (!out)
		return NULL;
	for (; p && *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v') {
			blank = w != out;
			continue;
		}
		if (blank)
			*w++ = ' ';
		blank = 0;
		*w++ = *p;
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
	char *text, perr[256];
	size_t len, i;
	const struct json *list;
	struct json *doc;
	const char *fmt;

	memset(b, 0, sizeof(*b));
	text = slurp_file(path, &len);
	if (!text) {
		snprintf(err, errlen, "%s: cannot read the baseline", path);
		return -1;
	}
	doc = json_parse(text, len, perr, sizeof(perr));
	free(text);
	fmt = json_get_string(doc, "format");
	list = json_get(doc, "findings");
	if (!doc || !fmt || strcmp(fmt, BASELINE_FORMAT) || !list || list->type != JSON_ARRAY) {
		snprintf(err, errlen, "%s: not an rtcheck baseline%s%s", path, doc ? "" : ": ",
			 doc ? "" : perr);
		json_free(doc);
		return -1;
	}
	b->v = calloc(list->n ? list->n : 1, sizeof(*b->v));
	for (i = 0; b->v && i < list->n; i++) {
		const struct json *o = list->items[i];
		const char *rule = json_get_string(o, "rule"), *file = json_get_string(o, "file");
		const char *fn = json_get_string(o, "function"), *snip = json_get_string(o, "snippet");

		if (!rule || !file || !fn || !snip) {
			snprintf(err, errlen, "%s: entry %zu lacks rule, file, function or snippet",
				 path, i + 1);
			json_free(doc);
			baseline_free(b);
			return -1;
		}
		b->v[b->n].rule = strdup(rule);
		b->v[b->n].file = strdup(file);
		b->v[b->n].function = strdup(fn);
		b->v[b->n].snippet = strdup(snip);
		b->n++;
	}
	json_free(doc);
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

int baseline_write(FILE *out, const struct findings *fs, struct sources *src)
{
	size_t i, n = 0;

	fputs("{\n  \"format\": \"" BASELINE_FORMAT "\",\n  \"tool\": \"rtcheck " RTCHECK_VERSION
	      "\",\n  \"findings\": [", out);
	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];
		char *snip;

		if (f->hidden != SHOWN || is_meta(f->rule))
			continue;
		snip = snippet(src, f->where.file, f->where.line);
		fputs(n++ ? ",\n    {\"rule\": " : "\n    {\"rule\": ", out);
		json_write_string(out, f->rule);
		fputs(", \"file\": ", out);
		json_write_string(out, f->where.file);
		fputs(", \"function\": ", out);
		json_write_string(out, f->where.function);
		fputs(", \"snippet\": ", out);
		json_write_string(out, snip ? snip : "");
		fprintf(out, ", \"line\": %u}", f->where.line);
		free(snip);
	}
	fputs(n ? "\n  ]\n}\n" : "]\n}\n", out);
	return fflush(out) || ferror(out) ? -1 : 0;
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
