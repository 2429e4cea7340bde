// SPDX-License-Identifier: GPL-2.0
/*
 * Findings read back from rtcheck-clang's JSON and written in the tool's
 * three formats. The JSON and SARIF writers print what the tool's emitters
 * (checkers/emit/) print: the same members, sorted, two-space indented.
 */
#include "findings.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		fputs("rtcheck: error: out of memory\n", stderr);
		exit(4);
	}
	return d;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("rtcheck: error: out of memory\n", stderr);
		exit(4);
	}
	return p;
}

static unsigned int num(const struct json *obj, const char *key)
{
	const struct json *v = json_get(obj, key);

	return v && v->type == JSON_NUMBER ? (unsigned int)strtoul(v->str, NULL, 10) : 0;
}

static void read_loc(const struct json *o, struct loc *l)
{
	const char *note = json_get_string(o, "note");

	l->file = xstrdup(json_get_string(o, "file"));
	l->line = num(o, "line");
	l->column = num(o, "column");
	l->function = xstrdup(json_get_string(o, "function"));
	l->note = note ? xstrdup(note) : NULL;
}

static enum rtcheck_severity severity(const char *s)
{
	if (s && !strcmp(s, "error"))
		return RTCHECK_ERROR;
	if (s && !strcmp(s, "note"))
		return RTCHECK_NOTE;
	return RTCHECK_WARNING;
}

static struct finding *grow(struct findings *fs)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? 2 * fs->cap : 16;
		fs->v = xrealloc(fs->v, fs->cap * sizeof(*fs->v));
	}
	memset(&fs->v[fs->n], 0, sizeof(fs->v[0]));
	return &fs->v[fs->n++];
}

char *slurp_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 0, k;
	char *text = NULL;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (cap - *len < 65536)
			text = xrealloc(text, cap = 2 * cap + 65536);
		k = fread(text + *len, 1, cap - *len, f);
		if (!k)
			break;
		*len += k;
	}
	fclose(f);
	return text;
}

int findings_load(struct findings *fs, const char *path, char *err, size_t errlen)
{
	char *text, perr[256];
	size_t len, i, k;
	const struct json *list;
	struct json *doc;

	text = slurp_file(path, &len);
	if (!text) {
		snprintf(err, errlen, "%s: cannot read the report of rtcheck-clang", path);
		return -1;
	}
	doc = json_parse(text, len, perr, sizeof(perr));
	free(text);
	list = json_get(doc, "findings");
	if (!doc || !list || list->type != JSON_ARRAY) {
		snprintf(err, errlen, "%s: not a report of rtcheck-clang: %s", path,
			 doc ? "no findings" : perr);
		json_free(doc);
		return -1;
	}
	for (i = 0; i < list->n; i++) {
		const struct json *o = list->items[i], *ctx = json_get(o, "context");
		const struct json *fix = json_get(o, "fix");
		struct finding *d = grow(fs);
		const char *diff = json_get_string(fix, "diff");

		read_loc(o, &d->where);
		free(d->where.note);
		d->where.note = NULL;
		d->rule = xstrdup(json_get_string(o, "rule"));
		d->severity = severity(json_get_string(o, "severity"));
		d->message = xstrdup(json_get_string(o, "message"));
		if (ctx && ctx->type == JSON_ARRAY && ctx->n) {
			d->context = xrealloc(NULL, ctx->n * sizeof(*d->context));
			for (k = 0; k < ctx->n; k++)
				read_loc(ctx->items[k], &d->context[k]);
			d->ncontext = ctx->n;
		}
		d->fix_kind = xstrdup(fix ? json_get_string(fix, "kind") : "none");
		d->fix_summary = xstrdup(json_get_string(fix, "summary"));
		d->fix_diff = diff ? xstrdup(diff) : NULL;
	}
	json_free(doc);
	return 0;
}

void findings_add(struct findings *fs, const char *rule, enum rtcheck_severity sev,
		  const char *file, unsigned int line, unsigned int column, const char *message)
{
	struct finding *d = grow(fs);

	d->rule = xstrdup(rule);
	d->severity = sev;
	d->where.file = xstrdup(file);
	d->where.line = line;
	d->where.column = column;
	d->where.function = xstrdup("");
	d->message = xstrdup(message);
	d->fix_kind = xstrdup("none");
	d->fix_summary = xstrdup("");
}

static int cmp_finding(const void *pa, const void *pb)
{
	const struct finding *a = pa, *b = pb;
	int c = strcmp(a->where.file, b->where.file);

	if (c)
		return c;
	if (a->where.line != b->where.line)
		return a->where.line < b->where.line ? -1 : 1;
	if (a->where.column != b->where.column)
		return a->where.column < b->where.column ? -1 : 1;
	c = strcmp(a->rule, b->rule);
	return c ? c : strcmp(a->message, b->message);
}

static void free_loc(struct loc *l)
{
	free(l->file);
	free(l->function);
	free(l->note);
}

static void free_finding(struct finding *f)
{
	size_t i;

	free_loc(&f->where);
	for (i = 0; i < f->ncontext; i++)
		free_loc(&f->context[i]);
	free(f->context);
	free(f->rule);
	free(f->message);
	free(f->fix_kind);
	free(f->fix_summary);
	free(f->fix_diff);
}

void findings_sort_unique(struct findings *fs)
{
	size_t i, n = 0;

	if (fs->n)
		qsort(fs->v, fs->n, sizeof(*fs->v), cmp_finding);
	for (i = 0; i < fs->n; i++) {
		if (n && !cmp_finding(&fs->v[n - 1], &fs->v[i])) {
			free_finding(&fs->v[i]);
			continue;
		}
		fs->v[n++] = fs->v[i];
	}
	fs->n = n;
}

/* Every occurrence of prefix + '/' in *s removed (paths in diffs too). */
static void strip_in(char **s, const char *prefix)
{
	size_t n = strlen(prefix);
	char *p, *w, *r;

	if (!*s || !n || !strstr(*s, prefix))
		return;
	for (r = w = *s; *r;) {
		p = strstr(r, prefix);
		if (p && p[n] == '/') {
			memmove(w, r, p - r);
			w += p - r;
			r = p + n + 1;
			continue;
		}
		if (p) {
			memmove(w, r, p - r + n);
			w += p - r + n;
			r = p + n;
			continue;
		}
		memmove(w, r, strlen(r) + 1);
		return;
	}
	*w = '\0';
}

void findings_strip_prefixes(struct findings *fs, const char *const prefixes[], int n)
{
	size_t i, k;
	int p;

	for (i = 0; i < fs->n; i++) {
		struct finding *f = &fs->v[i];

		for (p = 0; p < n; p++) {
			strip_in(&f->where.file, prefixes[p]);
			for (k = 0; k < f->ncontext; k++)
				strip_in(&f->context[k].file, prefixes[p]);
			strip_in(&f->fix_diff, prefixes[p]);
		}
	}
}

void findings_free(struct findings *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		free_finding(&fs->v[i]);
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

void findings_count(const struct findings *fs, size_t counts[3])
{
	size_t i;

	counts[0] = counts[1] = counts[2] = 0;
	for (i = 0; i < fs->n; i++)
		if (fs->v[i].hidden == SHOWN)
			counts[fs->v[i].severity]++;
}

int findings_fail_werror(const struct findings *fs)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (fs->v[i].hidden == SHOWN && strcmp(fs->v[i].rule, RULE_IGNORE_UNUSED))
			return 1;
	return 0;
}

/* --- writers ------------------------------------------------------------ */

static void emit_text(FILE *out, const struct findings *fs)
{
	size_t i, k;

	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		if (f->hidden != SHOWN)
			continue;
		fprintf(out, "%s:%u:%u: %s: %s [%s]\n", f->where.file, f->where.line,
			f->where.column, rtcheck_severity_name(f->severity), f->message, f->rule);
		for (k = 0; k < f->ncontext; k++)
			fprintf(out, "%s:%u:%u: note: %s\n", f->context[k].file, f->context[k].line,
				f->context[k].column, f->context[k].note ? f->context[k].note : "");
		if (strcmp(f->fix_kind, "none") && f->fix_diff)
			fputs(f->fix_diff, out);
	}
}

/* A pretty-printer in the layout of llvm::formatv("{0:2}", json::Value). */
struct jw {
	FILE *out;
	int depth;
	int items[32];	/* items written so far at each depth */
};

static void jw_sep(struct jw *w)
{
	if (w->depth && w->items[w->depth]++)
		fputc(',', w->out);
	if (w->depth)
		fprintf(w->out, "\n%*s", 2 * w->depth, "");
}

static void jw_open(struct jw *w, const char *key, char c)
{
	if (key) {
		jw_sep(w);
		json_write_string(w->out, key);
		fputs(": ", w->out);
	} else {
		jw_sep(w);
	}
	fputc(c, w->out);
	w->items[++w->depth] = 0;
}

static void jw_close(struct jw *w, char c)
{
	int had = w->items[w->depth--];

	if (had)
		fprintf(w->out, "\n%*s", 2 * w->depth, "");
	fputc(c, w->out);
}

static void jw_str(struct jw *w, const char *key, const char *val)
{
	jw_sep(w);
	json_write_string(w->out, key);
	fputs(": ", w->out);
	json_write_string(w->out, val ? val : "");
}

static void jw_num(struct jw *w, const char *key, unsigned long val)
{
	jw_sep(w);
	json_write_string(w->out, key);
	fprintf(w->out, ": %lu", val);
}

/* Members in the sorted order llvm::json prints them in. */
static void json_loc(struct jw *w, const struct loc *l, const char *key)
{
	jw_open(w, key, '{');
	jw_num(w, "column", l->column);
	jw_str(w, "file", l->file);
	jw_str(w, "function", l->function);
	jw_num(w, "line", l->line);
	if (l->note)
		jw_str(w, "note", l->note);
	jw_close(w, '}');
}

static void emit_json(FILE *out, const struct findings *fs)
{
	struct jw w = { .out = out };
	size_t i, k;

	jw_open(&w, NULL, '{');
	jw_open(&w, "findings", '[');
	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		if (f->hidden != SHOWN)
			continue;
		jw_open(&w, NULL, '{');
		jw_num(&w, "column", f->where.column);
		jw_open(&w, "context", '[');
		for (k = 0; k < f->ncontext; k++)
			json_loc(&w, &f->context[k], NULL);
		jw_close(&w, ']');
		jw_str(&w, "file", f->where.file);
		jw_open(&w, "fix", '{');
		if (f->fix_diff)
			jw_str(&w, "diff", f->fix_diff);
		jw_str(&w, "kind", f->fix_kind);
		jw_str(&w, "summary", f->fix_summary);
		jw_close(&w, '}');
		jw_str(&w, "function", f->where.function);
		jw_num(&w, "line", f->where.line);
		jw_str(&w, "message", f->message);
		jw_str(&w, "rule", f->rule);
		jw_str(&w, "severity", rtcheck_severity_name(f->severity));
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_str(&w, "tool", "rtcheck");
	jw_str(&w, "version", RTCHECK_VERSION);
	jw_close(&w, '}');
	fputc('\n', out);
}

struct rule_info {
	const char *id;
	enum rtcheck_severity severity;
	const char *title;
};

static const struct rule_info rules[] = {
#define RTCHECK_RULE(cls, id, sev, title) { id, sev, title },
#include "rtcheck/rules.def"
#undef RTCHECK_RULE
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

static const struct rule_info meta_rules[] = {
	{ RULE_IGNORE_INVALID, RTCHECK_ERROR,
	  "inline suppression without a reason or with an unknown rule id" },
	{ RULE_IGNORE_UNUSED, RTCHECK_NOTE, "inline suppression that suppresses nothing" },
};

/* A SARIF location object (under key, or as an array item). */
static void sarif_location(struct jw *w, const char *key, const struct loc *l, int with_message)
{
	jw_open(w, key, '{');
	if (l->function && *l->function) {
		jw_open(w, "logicalLocations", '[');
		jw_open(w, NULL, '{');
		jw_str(w, "kind", "function");
		jw_str(w, "name", l->function);
		jw_close(w, '}');
		jw_close(w, ']');
	}
	if (with_message && l->note) {
		jw_open(w, "message", '{');
		jw_str(w, "text", l->note);
		jw_close(w, '}');
	}
	jw_open(w, "physicalLocation", '{');
	jw_open(w, "artifactLocation", '{');
	jw_str(w, "uri", l->file);
	jw_str(w, "uriBaseId", "SRCROOT");
	jw_close(w, '}');
	jw_open(w, "region", '{');
	jw_num(w, "startColumn", l->column);
	jw_num(w, "startLine", l->line);
	jw_close(w, '}');
	jw_close(w, '}');
	jw_close(w, '}');
}

/* A step of a thread flow: {"location": {...}}. */
static void sarif_step(struct jw *w, const struct loc *l, int with_message)
{
	jw_open(w, NULL, '{');
	sarif_location(w, "location", l, with_message);
	jw_close(w, '}');
}

static const char *level(enum rtcheck_severity s)
{
	return rtcheck_severity_name(s);	/* SARIF levels have the same names */
}

static void emit_sarif(FILE *out, const struct findings *fs, const char *root)
{
	struct jw w = { .out = out };
	size_t i, k, nmeta = 0;
	const struct rule_info *list[NRULES + 2];
	char uri[PATH_MAX + 16];

	for (i = 0; i < NRULES; i++)
		list[i] = &rules[i];
	/* the suppression rules only where they have results */
	for (k = 0; k < 2; k++)
		for (i = 0; i < fs->n; i++)
			if (fs->v[i].hidden == SHOWN && !strcmp(fs->v[i].rule, meta_rules[k].id)) {
				list[NRULES + nmeta++] = &meta_rules[k];
				break;
			}
	jw_open(&w, NULL, '{');
	jw_str(&w, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	jw_open(&w, "runs", '[');
	jw_open(&w, NULL, '{');
	jw_open(&w, "originalUriBaseIds", '{');
	jw_open(&w, "SRCROOT", '{');
	snprintf(uri, sizeof(uri), "file://%s%s", root,
		 *root && root[strlen(root) - 1] == '/' ? "" : "/");
	jw_str(&w, "uri", uri);
	jw_close(&w, '}');
	jw_close(&w, '}');
	jw_open(&w, "results", '[');
	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];
		size_t r;

		if (f->hidden != SHOWN)
			continue;
		jw_open(&w, NULL, '{');
		if (f->ncontext) {
			jw_open(&w, "codeFlows", '[');
			jw_open(&w, NULL, '{');
			jw_open(&w, "threadFlows", '[');
			jw_open(&w, NULL, '{');
			jw_open(&w, "locations", '[');
			for (k = 0; k < f->ncontext; k++)
				sarif_step(&w, &f->context[k], 1);
			sarif_step(&w, &f->where, 0);
			jw_close(&w, ']');
			jw_close(&w, '}');
			jw_close(&w, ']');
			jw_close(&w, '}');
			jw_close(&w, ']');
		}
		jw_str(&w, "level", level(f->severity));
		jw_open(&w, "locations", '[');
		sarif_location(&w, NULL, &f->where, 0);
		jw_close(&w, ']');
		jw_open(&w, "message", '{');
		jw_str(&w, "text", f->message);
		jw_close(&w, '}');
		if (strcmp(f->fix_kind, "none") && *f->fix_summary) {
			jw_open(&w, "properties", '{');
			jw_str(&w, "fixDiff", f->fix_diff ? f->fix_diff : "");
			jw_str(&w, "fixKind", f->fix_kind);
			jw_str(&w, "fixSummary", f->fix_summary);
			jw_close(&w, '}');
		}
		jw_str(&w, "ruleId", f->rule);
		for (r = 0; r < NRULES + nmeta; r++)
			if (!strcmp(list[r]->id, f->rule)) {
				jw_num(&w, "ruleIndex", r);
				break;
			}
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_open(&w, "tool", '{');
	jw_open(&w, "driver", '{');
	jw_str(&w, "name", "rtcheck");
	jw_open(&w, "rules", '[');
	for (i = 0; i < NRULES + nmeta; i++) {
		jw_open(&w, NULL, '{');
		jw_open(&w, "defaultConfiguration", '{');
		jw_str(&w, "level", level(list[i]->severity));
		jw_close(&w, '}');
		jw_str(&w, "id", list[i]->id);
		jw_open(&w, "shortDescription", '{');
		jw_str(&w, "text", list[i]->title);
		jw_close(&w, '}');
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_str(&w, "version", RTCHECK_VERSION);
	jw_close(&w, '}');
	jw_close(&w, '}');
	jw_close(&w, '}');
	jw_close(&w, ']');
	jw_str(&w, "version", "2.1.0");
	jw_close(&w, '}');
	fputc('\n', out);
}

void findings_emit(FILE *out, const struct findings *fs, const char *format, const char *root)
{
	if (!strcmp(format, "json"))
		emit_json(out, fs);
	else if (!strcmp(format, "sarif"))
		emit_sarif(out, fs, root);
	else
		emit_text(out, fs);
}

/* --- source text -------------------------------------------------------- */

struct srcfile {
	char *name;
	char *text;		/* NUL-separated lines */
	char **lines;
	unsigned int nlines;
	struct srcfile *next;
};

static struct srcfile *load(struct sources *src, const char *file)
{
	struct srcfile *s;
	char path[PATH_MAX];
	FILE *f = NULL;
	size_t len = 0, cap = 0, k, i;
	int d;

	for (s = src->files; s; s = s->next)
		if (!strcmp(s->name, file))
			return s;
	s = xrealloc(NULL, sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(file);
	s->next = src->files;
	src->files = s;
	for (d = 0; d < src->ndirs && !f; d++) {
		snprintf(path, sizeof(path), "%s/%s", src->dirs[d], file);
		f = fopen(path, "r");
	}
	if (!f && file[0] == '/')
		f = fopen(file, "r");
	if (!f)
		return s;
	for (;;) {
		if (cap - len < 65536)
			s->text = xrealloc(s->text, cap = 2 * cap + 65537);
		k = fread(s->text + len, 1, cap - len - 1, f);
		if (!k)
			break;
		len += k;
	}
	fclose(f);
	if (!s->text)
		return s;
	s->text[len] = '\0';
	for (i = 0; i < len; i++)
		s->nlines += s->text[i] == '\n';
	s->nlines += len && s->text[len - 1] != '\n';
	s->lines = xrealloc(NULL, (s->nlines + 1) * sizeof(*s->lines));
	s->lines[0] = s->text;
	for (i = 0, k = 1; i < len; i++)
		if (s->text[i] == '\n') {
			s->text[i] = '\0';
			if (k < s->nlines)
				s->lines[k++] = s->text + i + 1;
		}
	return s;
}

const char *source_line(struct sources *src, const char *file, unsigned int line)
{
	struct srcfile *s = load(src, file);

	return line >= 1 && line <= s->nlines ? s->lines[line - 1] : NULL;
}

unsigned int source_nlines(struct sources *src, const char *file)
{
	return load(src, file)->nlines;
}

void sources_free(struct sources *src)
{
	struct srcfile *s, *next;

	for (s = src->files; s; s = next) {
		next = s->next;
		free(s->name);
		free(s->text);
		free(s->lines);
		free(s);
	}
	src->files = NULL;
}
