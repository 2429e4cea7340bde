// SPDX-License-Identifier: GPL-2.0
/*
 * OUT/report.html: the sweep as one self-contained page for a browser (inline
 * CSS and JS, a Content-Security-Policy that lets it fetch nothing): the run,
 * the findings per subsystem and rule, the findings (sorted by clicking a
 * column header, filtered by rule; the URL hash keeps both, e.g.
 * report.html#sort=-file&rule=rt-atomic-sleep; each finding opens to its
 * chain and patch) and the failed TUs. The findings are read back from
 * OUT/findings.json, so that the page shows exactly what that file says.
 */
#include "outputs.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void escn(FILE *f, const char *s, size_t n)
{
	for (; n--; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void esc(FILE *f, const char *s)
{
	if (s)
		escn(f, s, strlen(s));
}

/* A path that may break after its slashes. */
static void esc_path(FILE *f, const char *s)
{
	const char *slash;

	while ((slash = strchr(s, '/'))) {
		escn(f, s, slash + 1 - s);
		fputs("<wbr>", f);
		s = slash + 1;
	}
	esc(f, s);
}

static const char *str(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

/* kernel/bpf/core.c -> kernel/bpf, init/main.c -> init: as report.txt counts. */
static void subsystem(const char *file, char *buf, size_t len)
{
	const char *first = strchr(file, '/'), *second = first ? strchr(first + 1, '/') : NULL;
	size_t n = second ? (size_t)(second - file) : first ? (size_t)(first - file) : strlen(file);

	snprintf(buf, len, "%.*s", (int)n, file);
}

static void count(json_t *counts, const char *key)
{
	json_t *n = json_object_get(counts, key);

	json_object_set_new(counts, key, json_integer(n ? json_integer_value(n) + 1 : 1));
}

struct ranked {
	const char *name;
	json_int_t n;
};

static int by_count(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->name, y->name);
}

/* The keys of counts, most counted first; *n of them. */
static struct ranked *ranked(json_t *counts, size_t *n)
{
	struct ranked *v = xmalloc((json_object_size(counts) + 1) * sizeof(*v));
	const char *key;
	json_t *value;

	*n = 0;
	json_object_foreach(counts, key, value)
		v[(*n)++] = (struct ranked){ key, json_integer_value(value) };
	qsort(v, *n, sizeof(*v), by_count);
	return v;
}

static void put_header(FILE *f, const struct sweep *sw, const struct tu_list *list,
		       size_t nfindings)
{
	size_t i, ok = 0, failed = 0, retried = 0, notrun = 0;
	char when[64];
	time_t now = time(NULL);
	struct tm tm;

	for (i = 0; i < list->n; i++) {
		ok += list->v[i].state == TU_OK;
		failed += list->v[i].state == TU_FAILED;
		notrun += list->v[i].state != TU_OK && list->v[i].state != TU_FAILED;
		retried += list->v[i].retried;
	}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime_r(&now, &tm));
	fputs("<h1>rtcheck sweep</h1>\n<table class=\"run\">\n<tr><th>tree</th><td>", f);
	esc(f, sw->kb.src);
	fputs("</td></tr>\n<tr><th>build</th><td>", f);
	esc(f, sw->kb.build);
	fputs("</td></tr>\n<tr><th>paths</th><td>", f);
	for (i = 0; i < sw->npaths; i++) {
		fputs(i ? " " : "", f);
		esc(f, sw->paths[i].rel);
		fputs(sw->paths[i].is_dir ? "/" : "", f);
	}
	fprintf(f, "%s</td></tr>\n<tr><th>TUs</th><td>%zu (commands from ", sw->npaths ? "" :
		"(whole tree)", list->n);
	esc(f, list->origin);
	fprintf(f, ")</td></tr>\n<tr><th>analysed</th><td>%zu</td></tr>\n"
		"<tr><th>failed</th><td>%s%zu%s</td></tr>\n", ok,
		failed ? "<a href=\"#failures\">" : "", failed, failed ? "</a>" : "");
	if (retried)
		fprintf(f, "<tr><th>retried</th><td>%zu (missed a generated file: kbuild built "
			"their objects)</td></tr>\n", retried);
	if (notrun)
		fprintf(f, "<tr><th>not run</th><td>%zu (interrupted by signal %d)</td></tr>\n",
			notrun, sw->interrupted);
	fprintf(f, "<tr><th>findings</th><td>%zu</td></tr>\n"
		"<tr><th>time</th><td>%.1f s wall, %d jobs, limits per TU: %g s, %ld MB</td></tr>\n",
		nfindings, sw->seconds, sw->jobs, sw->timeout, sw->mem_mb);
	if (sw->rules) {
		fputs("<tr><th>rules</th><td>", f);
		esc(f, sw->rules);
		fputs("</td></tr>\n", f);
	}
	fprintf(f, "<tr><th>written</th><td>%s by rtcheck " RTCHECK_VERSION "</td></tr>\n</table>\n",
		when);
}

/* Subsystems down, rules across, most findings first; totals last. */
static void put_summary(FILE *f, json_t *findings)
{
	json_t *cells = json_object(), *rules = json_object(), *subs = json_object(), *fi;
	struct ranked *r, *s;
	size_t i, j, nr, ns;
	json_int_t total = 0;
	char sub[PATH_MAX];

	json_array_foreach(findings, i, fi) {
		subsystem(str(fi, "file"), sub, sizeof(sub));
		count(rules, str(fi, "rule"));
		count(subs, sub);
		if (!json_object_get(cells, sub))
			json_object_set_new(cells, sub, json_object());
		count(json_object_get(cells, sub), str(fi, "rule"));
	}
	r = ranked(rules, &nr);
	s = ranked(subs, &ns);
	fputs("<h2>Findings per subsystem and rule</h2>\n", f);
	if (!ns) {
		fputs("<p>No findings.</p>\n", f);
		goto out;
	}
	fputs("<table class=\"summary\">\n<thead><tr><th>subsystem</th>", f);
	for (j = 0; j < nr; j++) {
		fputs("<th><a href=\"#rule=", f);
		esc(f, r[j].name);
		fputs("\">", f);
		esc(f, r[j].name);
		fputs("</a></th>", f);
	}
	fputs("<th>total</th></tr></thead>\n<tbody>\n", f);
	for (i = 0; i < ns; i++) {
		json_t *row = json_object_get(cells, s[i].name);

		fputs("<tr><td>", f);
		esc(f, s[i].name);
		fputs("</td>", f);
		for (j = 0; j < nr; j++)
			fprintf(f, "<td>%lld</td>",
				(long long)json_integer_value(json_object_get(row, r[j].name)));
		fprintf(f, "<td>%lld</td></tr>\n", (long long)s[i].n);
	}
	fputs("</tbody>\n<tfoot><tr><th>total</th>", f);
	for (j = 0; j < nr; j++) {
		fprintf(f, "<td>%lld</td>", (long long)r[j].n);
		total += r[j].n;
	}
	fprintf(f, "<td>%lld</td></tr></tfoot>\n</table>\n", (long long)total);
out:
	free(r);
	free(s);
	json_decref(cells);
	json_decref(rules);
	json_decref(subs);
}

static void put_location(FILE *f, json_t *loc)
{
	fputs("<span class=\"loc\">", f);
	esc(f, str(loc, "file"));
	fprintf(f, ":%lld</span>", (long long)json_integer_value(json_object_get(loc, "line")));
	if (*str(loc, "function")) {
		fputs(" in <code>", f);
		esc(f, str(loc, "function"));
		fputs("</code>", f);
	}
}

/* The chain, then the patch with its lines marked for colouring. */
static void put_details(FILE *f, json_t *fi, const char *kind)
{
	json_t *fix = json_object_get(fi, "fix"), *step;
	const char *diff = str(fix, "diff");
	size_t i, nsteps = json_array_size(json_object_get(fi, "context"));

	fputs("<details><summary>chain: ", f);
	if (nsteps)
		fprintf(f, "%zu step%s", nsteps, nsteps == 1 ? "" : "s");
	else
		fputs("none", f);
	fputs("; fix: ", f);
	esc(f, kind);
	fputs(*diff ? ", with a patch</summary>\n" : "</summary>\n", f);
	if (nsteps) {
		fputs("<div class=\"chain\"><b>chain</b><ol>", f);
		json_array_foreach(json_object_get(fi, "context"), i, step) {
			fputs("<li>", f);
			put_location(f, step);
			if (*str(step, "note")) {
				fputs(": ", f);
				esc(f, str(step, "note"));
			}
			fputs("</li>", f);
		}
		fputs("<li class=\"here\">", f);
		put_location(f, fi);
		fputs(": the finding</li></ol></div>\n", f);
	}
	fputs("<div class=\"patch\"><b>fix: ", f);
	esc(f, kind);
	fputs("</b> ", f);
	esc(f, str(fix, "summary"));
	fputs(*diff ? "\n<pre class=\"diff\">" : "</div></details>", f);
	while (*diff) {
		size_t n = strcspn(diff, "\n");
		const char *cls = !strncmp(diff, "+++", 3) || !strncmp(diff, "---", 3) ? "head" :
				  !strncmp(diff, "@@", 2) ? "hunk" : *diff == '+' ? "add" :
				  *diff == '-' ? "del" : "ctx";

		fprintf(f, "<span class=\"%s\">", cls);
		escn(f, diff, n);
		fputs("</span>\n", f);
		diff += n + (diff[n] == '\n');
		if (!*diff)
			fputs("</pre></div></details>", f);
	}
}

static void put_findings(FILE *f, json_t *findings)
{
	static const char *const columns[][2] = {
		{ "rule", "rule" }, { "severity", "severity" }, { "file", "file:line" },
		{ "function", "function" }, { "message", "message" },
		{ "subsystem", "subsystem" }, { "fix", "fix" },
	};
	json_t *rules = json_object(), *fi;
	struct ranked *r;
	size_t i, nr;

	json_array_foreach(findings, i, fi)
		count(rules, str(fi, "rule"));
	r = ranked(rules, &nr);
	fputs("<h2>Findings</h2>\n<p class=\"controls\"><label>rule <select id=\"rule\">"
	      "<option value=\"\">all</option>", f);
	for (i = 0; i < nr; i++) {
		fputs("<option>", f);
		esc(f, r[i].name);
		fputs("</option>", f);
	}
	free(r);
	fputs("</select></label> <span id=\"status\"></span></p>\n<table id=\"findings\">\n"
	      "<thead><tr>", f);
	for (i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
		fprintf(f, "<th data-sort=\"%s\" title=\"click to sort\">%s</th>", columns[i][0],
			columns[i][1]);
	fputs("</tr></thead>\n", f);
	/* One tbody per finding: its row, and its chain and patch across the table. */
	json_array_foreach(findings, i, fi) {
		const char *kind = *str(json_object_get(fi, "fix"), "kind") ?
				   str(json_object_get(fi, "fix"), "kind") : "none";
		long long line = json_integer_value(json_object_get(fi, "line"));
		char sub[PATH_MAX];
		const char *vals[] = { str(fi, "rule"), str(fi, "severity"), str(fi, "file"),
				       str(fi, "function"), str(fi, "message"), sub, kind };
		size_t c;

		subsystem(str(fi, "file"), sub, sizeof(sub));
		fprintf(f, "<tbody class=\"finding\" data-seq=\"%zu\" data-line=\"%lld\"", i, line);
		for (c = 0; c < sizeof(vals) / sizeof(vals[0]); c++) {
			fprintf(f, " data-%s=\"", columns[c][0]);
			esc(f, vals[c]);
			fputc('"', f);
		}
		fputs(">\n<tr>", f);
		for (c = 0; c < sizeof(vals) / sizeof(vals[0]); c++) {
			fprintf(f, "<td class=\"%s\">", columns[c][0]);
			if (c == 2) {
				esc_path(f, vals[c]);
				fprintf(f, ":%lld", line);
			} else {
				esc(f, vals[c]);
			}
			fputs("</td>", f);
		}
		fprintf(f, "</tr>\n<tr class=\"more\"><td colspan=\"%zu\">", c);
		put_details(f, fi, kind);
		fputs("</td></tr>\n</tbody>\n", f);
	}
	fputs("</table>\n", f);
	json_decref(rules);
}

static void put_failures(FILE *f, const struct tu_list *list)
{
	size_t i, n = 0;

	for (i = 0; i < list->n; i++)
		n += list->v[i].state == TU_FAILED;
	fprintf(f, "<h2 id=\"failures\">Failed TUs (%zu)</h2>\n", n);
	if (!n)
		fputs("<p>None.</p>\n", f);
	else
		fputs("<table class=\"failures\">\n<thead><tr><th>TU</th><th>reason</th>"
		      "<th>the checker's last lines on stderr</th></tr></thead>\n<tbody>\n", f);
	for (i = 0; i < list->n; i++) {
		const struct tu *tu = &list->v[i];

		if (tu->state != TU_FAILED)
			continue;
		fputs("<tr><td class=\"loc\">", f);
		esc(f, tu->rel);
		fputs("</td><td>", f);
		esc(f, tu->reason);
		fputs("</td><td><pre>", f);
		esc(f, tu->stderr_tail);
		fputs("</pre></td></tr>\n", f);
	}
	if (n)
		fputs("</tbody>\n</table>\n", f);
}

int write_sweep_html(const struct sweep *sw, const struct tu_list *list, char *err,
		     size_t errlen)
{
	char path[PATH_MAX + 32];
	json_error_t error;
	json_t *doc, *findings;
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/findings.json", sw->out);
	doc = json_load_file(path, 0, &error);
	findings = json_object_get(doc, "findings");
	if (!json_is_array(findings)) {
		snprintf(err, errlen, "%s: %s", path, doc ? "no findings array" : error.text);
		json_decref(doc);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/report.html", sw->out);
	f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		json_decref(doc);
		return -1;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	      "<title>rtcheck sweep: ", f);
	esc(f, sw->kb.src);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", sweep_html_style);
	put_header(f, sw, list, json_array_size(findings));
	put_summary(f, findings);
	put_findings(f, findings);
	put_failures(f, list);
	fprintf(f, "<script>\n%s</script>\n</body>\n</html>\n", sweep_html_script);
	if (ferror(f) | fclose(f)) {
		snprintf(err, errlen, "%s: write error", path);
		ret = -1;
	}
	json_decref(doc);
	return ret;
}
