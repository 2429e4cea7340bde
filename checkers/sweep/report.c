// SPDX-License-Identifier: GPL-2.0
/*
 * The outputs of a sweep under --out: findings.json (design.md §4, the jsonl
 * lines of every TU in path order, a finding reported by several TUs through
 * a header once), report.txt (summary, counts per rule and per subsystem,
 * the text of every finding as rtcheck-clang printed it, the failures) and
 * failures.txt.
 */
#include "sweep.h"
#include "db.h"

#include <jansson.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct count {
	char *name;
	long n;
};

struct counts {
	struct count *v;
	size_t n, cap;
};

static void count_add(struct counts *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (!strcmp(c->v[i].name, name)) {
			c->v[i].n++;
			return;
		}
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = realloc(c->v, c->cap * sizeof(*c->v));
		if (!c->v) {
			fputs("rtcheck: error: out of memory\n", stderr);
			exit(EXIT_INTERNAL);
		}
	}
	c->v[c->n].name = xstrdup(name);
	c->v[c->n].n = 1;
	c->n++;
}

static int by_count_desc(const void *a, const void *b)
{
	const struct count *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void counts_free(struct counts *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
}

/* A set of strings (the finding lines already taken): open addressing. */
struct strset {
	const char **slot;
	size_t cap, n;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Adds s (not copied); 1 if it was new, 0 if already there. */
static int strset_add(struct strset *set, const char *s)
{
	size_t i;

	if ((set->n + 1) * 2 > set->cap) {
		struct strset bigger = { NULL, set->cap ? set->cap * 2 : 1024, 0 };

		bigger.slot = calloc(bigger.cap, sizeof(*bigger.slot));
		if (!bigger.slot) {
			fputs("rtcheck: error: out of memory\n", stderr);
			exit(EXIT_INTERNAL);
		}
		for (i = 0; i < set->cap; i++)
			if (set->slot[i])
				strset_add(&bigger, set->slot[i]);
		free(set->slot);
		*set = bigger;
	}
	for (i = hash(s) & (set->cap - 1); set->slot[i]; i = (i + 1) & (set->cap - 1))
		if (!strcmp(set->slot[i], s))
			return 0;
	set->slot[i] = s;
	set->n++;
	return 1;
}

/* kernel/bpf/core.c -> kernel/bpf; init/main.c -> init. */
static void subsystem(const char *file, char *buf, size_t len)
{
	const char *first = strchr(file, '/'), *second = first ? strchr(first + 1, '/') : NULL;
	size_t n = second ? (size_t)(second - file) : first ? (size_t)(first - file) : strlen(file);

	if (n >= len)
		n = len - 1;
	memcpy(buf, file, n);
	buf[n] = '\0';
}

/* Writes text to out, ending with a newline. */
static void put_text(FILE *out, const char *text)
{
	size_t len = strlen(text);

	fwrite(text, 1, len, out);
	if (len && text[len - 1] != '\n')
		fputc('\n', out);
}

/*
 * Adds one finding line to findings.json and the counts unless already
 * there. A finding in a header (x_tables.h's xt_write_recseq_begin()) comes
 * from every TU that reaches it, each with its own chain: it is listed once,
 * with the first TU's chain (places: rule, file, line, column and message).
 */
static int take_finding(FILE *json, char *line, struct strset *seen, struct strset *places,
			struct counts *rules, struct counts *subsystems, size_t *findings)
{
	char sub[PATH_MAX];
	json_error_t jerr;
	json_t *f = json_loads(line, 0, &jerr);
	const char *rule = json_string_value(json_object_get(f, "rule"));
	const char *file = json_string_value(json_object_get(f, "file"));
	const char *msg = json_string_value(json_object_get(f, "message"));
	char *place;
	size_t len;

	if (!rule || !file) {
		json_decref(f);
		return -1;	/* not a finding object: a bug of rtcheck-clang */
	}
	len = strlen(rule) + strlen(file) + (msg ? strlen(msg) : 0) + 64;
	place = xmalloc(len);
	snprintf(place, len, "%s\t%s\t%lld\t%lld\t%s", rule, file,
		 (long long)json_integer_value(json_object_get(f, "line")),
		 (long long)json_integer_value(json_object_get(f, "column")), msg ? msg : "");
	if (strset_add(seen, line) && strset_add(places, place)) {
		place = NULL;	/* kept by places */
		fputs((*findings)++ ? ",\n" : "\n", json);
		fputs(line, json);
		count_add(rules, rule);
		subsystem(file, sub, sizeof(sub));
		count_add(subsystems, sub);
	}
	free(place);
	json_decref(f);
	return 0;
}

static void print_counts(FILE *out, const char *title, struct counts *c)
{
	size_t i;

	if (c->n > 1)
		qsort(c->v, c->n, sizeof(*c->v), by_count_desc);
	fprintf(out, "\n%s:\n", title);
	if (!c->n)
		fputs("  (none)\n", out);
	for (i = 0; i < c->n; i++)
		fprintf(out, "%7ld  %s\n", c->v[i].n, c->v[i].name);
}

static void print_failure(FILE *out, const struct tu *tu)
{
	const char *s = tu->stderr_tail;

	fprintf(out, "%s: %s\n", tu->rel, tu->reason);
	while (s && *s) {
		size_t n = strcspn(s, "\n");

		fprintf(out, "    %.*s\n", (int)n, s);
		s += n + (s[n] == '\n');
	}
}

static int by_seconds_desc(const void *a, const void *b)
{
	const struct tu *x = *(struct tu *const *)a, *y = *(struct tu *const *)b;

	return (x->seconds < y->seconds) - (x->seconds > y->seconds);
}

int write_reports(const struct sweep *sw, const struct tu_list *list, size_t *nfindings,
		  char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	struct counts rules = { 0 }, subsystems = { 0 };
	sqlite3_stmt *xq;
	char **xlines = NULL, **xtexts = NULL;
	size_t nx = 0;
	struct strset seen = { 0 }, places = { 0 };
	size_t i, j, ok = 0, nfailed = 0, notrun = 0, bad = 0, findings = 0, ntimed = 0;
	size_t retried = 0;
	char **texts = xmalloc((list->n + 1) * sizeof(*texts));
	const struct tu **timed = xmalloc((list->n + 1) * sizeof(*timed));
	FILE *json, *rep, *fail;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/findings.json", sw->out);
	json = fopen(path, "w");
	if (!json) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(texts);
		free(timed);
		return -1;
	}
	fputs("{\"tool\":\"rtcheck\",\"version\":\"" RTCHECK_VERSION "\",\"findings\":[", json);
	for (i = 0; i < list->n; i++) {
		const struct tu *tu = &list->v[i];
		char *line, *next;

		texts[i] = NULL;
		retried += tu->retried;
		if (tu->state == TU_OK)
			ok++;
		else if (tu->state == TU_FAILED)
			nfailed++;
		else
			notrun++;
		if (tu->state == TU_OK || tu->state == TU_FAILED)
			timed[ntimed++] = tu;
		if (tu->state != TU_OK)
			continue;
		texts[i] = db_tu_output(sw->db, tu->rel, TU_JSONL);
		for (line = texts[i]; line && *line; line = next) {
			size_t n = strcspn(line, "\n");

			next = line + n + (line[n] == '\n');
			line[n] = '\0';
			while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
				line[--n] = '\0';
			if (n && take_finding(json, line, &seen, &places, &rules, &subsystems, &findings))
				bad++;
		}
	}
	/* The cross-TU propagation's findings, after the TUs' own. */
	if (sqlite3_prepare_v2(sw->db, "SELECT json, text FROM xfinding ORDER BY file, line, op",
			       -1, &xq, NULL) != SQLITE_OK)
		xq = NULL;
	while (xq && sqlite3_step(xq) == SQLITE_ROW) {
		char *line = xstrdup((const char *)sqlite3_column_text(xq, 0));

		xlines = realloc(xlines, (nx + 1) * sizeof(*xlines));
		xtexts = realloc(xtexts, (nx + 1) * sizeof(*xtexts));
		if (!xlines || !xtexts) {
			fputs("rtcheck: error: out of memory\n", stderr);
			exit(EXIT_INTERNAL);
		}
		xlines[nx] = line;
		xtexts[nx++] = xstrdup((const char *)sqlite3_column_text(xq, 1));
		if (take_finding(json, line, &seen, &places, &rules, &subsystems, &findings))
			bad++;
	}
	sqlite3_finalize(xq);
	fputs(findings ? "\n]}\n" : "]}\n", json);
	if (fclose(json)) {
		snprintf(err, errlen, "%s: write error", path);
		ret = -1;
	}
	*nfindings = findings;

	snprintf(path, sizeof(path), "%s/failures.txt", sw->out);
	fail = fopen(path, "w");
	if (fail) {
		for (i = 0; i < list->n; i++)
			if (list->v[i].state == TU_FAILED)
				print_failure(fail, &list->v[i]);
		if (fclose(fail) && !ret) {
			snprintf(err, errlen, "%s: write error", path);
			ret = -1;
		}
	} else if (!ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ret = -1;
	}

	snprintf(path, sizeof(path), "%s/report.txt", sw->out);
	rep = fopen(path, "w");
	if (!rep) {
		if (!ret)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		ret = -1;
		goto out;
	}
	fputs("rtcheck sweep report (rtcheck " RTCHECK_VERSION ")\n\n", rep);
	fprintf(rep, "tree:       %s\n", sw->kb.src);
	fprintf(rep, "build:      %s\n", sw->kb.build);
	fputs("paths:     ", rep);
	for (i = 0; i < sw->npaths; i++)
		fprintf(rep, " %s%s", sw->paths[i].rel, sw->paths[i].is_dir ? "/" : "");
	fputs(sw->npaths ? "\n" : " (whole tree)\n", rep);
	fprintf(rep, "TUs:        %zu (commands from %s)\n", list->n, list->origin);
	fprintf(rep, "analysed:   %zu\n", ok);
	fprintf(rep, "failed:     %zu\n", nfailed);
	if (retried)
		fprintf(rep, "retried:    %zu (missed a generated file: kbuild built their objects)\n",
			retried);
	if (notrun)
		fprintf(rep, "not run:    %zu (interrupted by signal %d)\n", notrun, sw->interrupted);
	if (sw->ncached)
		fprintf(rep, "unchanged:  %zu (results from the facts database)\n", sw->ncached);
	fprintf(rep, "findings:   %zu (%zu across TUs)\n", findings, nx);
	if (bad)
		fprintf(rep, "malformed:  %zu jsonl lines skipped\n", bad);
	fprintf(rep, "time:       %.1f s wall, %d jobs, limits per TU: %g s, %ld MB\n",
		sw->seconds, sw->jobs, sw->timeout, sw->mem_mb);
	if (sw->xtu_summary[0])
		fprintf(rep, "cross-TU:   %s\n", sw->xtu_summary);
	if (sw->rules)
		fprintf(rep, "rules:      %s\n", sw->rules);

	print_counts(rep, "findings per rule", &rules);
	print_counts(rep, "findings per subsystem", &subsystems);

	if (ntimed > 1)
		qsort(timed, ntimed, sizeof(*timed), by_seconds_desc);
	fputs("\nslowest TUs:\n", rep);
	if (!ntimed)
		fputs("  (none)\n", rep);
	for (j = 0; j < ntimed && j < 5; j++)
		fprintf(rep, "%7.1f s  %s\n", timed[j]->seconds, timed[j]->rel);

	fputs("\n== findings (per TU, in path order) ==\n", rep);
	for (i = 0; i < list->n; i++) {
		const struct tu *tu = &list->v[i];

		char *text;

		if (tu->state != TU_OK || tu->nfindings <= 0)
			continue;
		text = db_tu_output(sw->db, tu->rel, TU_TEXT);
		if (text)
			put_text(rep, text);
		else
			fprintf(rep, "%s: (text report missing from the database)\n", tu->rel);
		free(text);
	}
	fputs("\n== cross-TU findings (chains through several TUs) ==\n", rep);
	for (i = 0; i < nx; i++)
		put_text(rep, xtexts[i]);
	if (!nx)
		fputs("(none)\n", rep);
	fputs("\n== failures ==\n", rep);
	for (i = 0; i < list->n; i++)
		if (list->v[i].state == TU_FAILED)
			print_failure(rep, &list->v[i]);
	if (!nfailed)
		fputs("(none)\n", rep);
	if (fclose(rep) && !ret) {
		snprintf(err, errlen, "%s: write error", path);
		ret = -1;
	}
out:
	for (i = 0; i < list->n; i++)
		free(texts[i]);
	free(texts);
	for (i = 0; i < nx; i++) {
		free(xlines[i]);
		free(xtexts[i]);
	}
	free(xlines);
	free(xtexts);
	free(timed);
	free(seen.slot);
	for (i = 0; i < places.cap; i++)
		free((char *)places.slot[i]);
	free(places.slot);
	counts_free(&rules);
	counts_free(&subsystems);
	return ret;
}
