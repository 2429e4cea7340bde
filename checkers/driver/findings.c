// SPDX-License-Identifier: GPL-2.0
/*
 * Findings read back from rtcheck-clang's JSON and written in the tool's
 * three formats. The JSON and SARIF writers print what the tool's emitters
 * (checkers/emit/) print: the same members, sorted, two-space indented.
 */
#include "findings.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("rtcheck: error: out of memory\n", stderr);
	exit(4);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		oom();
	return d;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

static const char *str_of(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static unsigned int num(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (json_is_integer(v))
		return (unsigned int)json_integer_value(v);
	return json_is_real(v) && json_real_value(v) >= 0 ? (unsigned int)json_real_value(v) : 0;
}

static void read_loc(const json_t *o, struct loc *l)
{
	const char *note = str_of(o, "note");

	l->file = xstrdup(str_of(o, "file"));
	l->line = num(o, "line");
	l->column = num(o, "column");
	l->function = xstrdup(str_of(o, "function"));
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
	char *text;
	size_t len, i, k;
	const json_t *list;
	json_t *doc;
	json_error_t jerr;

	text = slurp_file(path, &len);
	if (!text) {
		snprintf(err, errlen, "%s: cannot read the report of rtcheck-clang", path);
		return -1;
	}
	doc = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	free(text);
	list = json_object_get(doc, "findings");
	if (!json_is_array(list)) {
		if (doc)
			snprintf(err, errlen, "%s: not a report of rtcheck-clang: no findings", path);
		else
			snprintf(err, errlen, "%s: not a report of rtcheck-clang: line %d: %s", path,
				 jerr.line, jerr.text);
		json_decref(doc);
		return -1;
	}
	for (i = 0; i < json_array_size(list); i++) {
		const json_t *o = json_array_get(list, i), *ctx = json_object_get(o, "context");
		const json_t *fix = json_object_get(o, "fix");
		struct finding *d = grow(fs);
		const char *diff = str_of(fix, "diff");

		read_loc(o, &d->where);
		free(d->where.note);
		d->where.note = NULL;
		d->rule = xstrdup(str_of(o, "rule"));
		d->severity = severity(str_of(o, "severity"));
		d->message = xstrdup(str_of(o, "message"));
		if (json_is_array(ctx) && json_array_size(ctx)) {
			d->ncontext = json_array_size(ctx);
			d->context = xrealloc(NULL, d->ncontext * sizeof(*d->context));
			for (k = 0; k < d->ncontext; k++)
				read_loc(json_array_get(ctx, k), &d->context[k]);
		}
		d->fix_kind = xstrdup(fix ? str_of(fix, "kind") : "none");
		d->fix_summary = xstrdup(str_of(fix, "summary"));
		d->fix_diff = diff ? xstrdup(diff) : NULL;
	}
	json_decref(doc);
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
		if (fs->v[i].hidden == SHOWN && fs->v[i].severity != RTCHECK_NOTE)
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

/* --- JSON values (jansson); out of memory is fatal ---------------------- */

void utf8_copy_one(char **w, const char **s)
{
	size_t k = utf8_seq((const unsigned char *)*s);

	if (k) {
		memcpy(*w, *s, k);
		*w += k;
		*s += k;
	} else {
		memcpy(*w, "\xef\xbf\xbd", 3);
		*w += 3;
		(*s)++;
	}
}

size_t utf8_seq(const unsigned char *s)
{
	unsigned int cp, n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* s (NULL: "") as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *fixed, *w;

	if (!s)
		s = "";
	j = json_string(s);
	if (j)
		return j;
	fixed = w = xrealloc(NULL, 3 * strlen(s) + 1);
	while (*s) {
		utf8_copy_one(&w, &s);
	}
	*w = '\0';
	j = json_string(fixed);
	free(fixed);
	if (!j)
		oom();
	return j;
}

static json_t *jobj(void)
{
	json_t *o = json_object();

	if (!o)
		oom();
	return o;
}

static json_t *jarr(void)
{
	json_t *a = json_array();

	if (!a)
		oom();
	return a;
}

/* Sets member key of o to v (the reference passes to o); returns v. */
static json_t *set(json_t *o, const char *key, json_t *v)
{
	if (json_object_set_new(o, key, v))
		oom();
	return v;
}

/* Appends v to the array a (the reference passes to a); returns v. */
static json_t *add(json_t *a, json_t *v)
{
	if (json_array_append_new(a, v))
		oom();
	return v;
}

static void set_str(json_t *o, const char *key, const char *val)
{
	set(o, key, jstr(val));
}

static void set_num(json_t *o, const char *key, unsigned long val)
{
	set(o, key, json_integer(val));
}

/*
 * Writes doc and frees it, in the layout of llvm::formatv("{0:2}",
 * json::Value): two-space indented, the members in the order they were set
 * (sorted, as llvm::json prints them).
 */
static void dump(FILE *out, json_t *doc)
{
	json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(doc);
}

static json_t *loc_json(const struct loc *l)
{
	json_t *o = jobj();

	set_num(o, "column", l->column);
	set_str(o, "file", l->file);
	set_str(o, "function", l->function);
	set_num(o, "line", l->line);
	if (l->note)
		set_str(o, "note", l->note);
	return o;
}

static void emit_json(FILE *out, const struct findings *fs)
{
	json_t *doc = jobj(), *list = set(doc, "findings", jarr());
	size_t i, k;

	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];
		json_t *o, *ctx, *fix;

		if (f->hidden != SHOWN)
			continue;
		o = add(list, jobj());
		set_num(o, "column", f->where.column);
		ctx = set(o, "context", jarr());
		for (k = 0; k < f->ncontext; k++)
			add(ctx, loc_json(&f->context[k]));
		set_str(o, "file", f->where.file);
		fix = set(o, "fix", jobj());
		if (f->fix_diff)
			set_str(fix, "diff", f->fix_diff);
		set_str(fix, "kind", f->fix_kind);
		set_str(fix, "summary", f->fix_summary);
		set_str(o, "function", f->where.function);
		set_num(o, "line", f->where.line);
		set_str(o, "message", f->message);
		set_str(o, "rule", f->rule);
		set_str(o, "severity", rtcheck_severity_name(f->severity));
	}
	set_str(doc, "tool", "rtcheck");
	set_str(doc, "version", RTCHECK_VERSION);
	dump(out, doc);
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

/* {"text": text} */
static json_t *sarif_text(const char *text)
{
	json_t *o = jobj();

	set_str(o, "text", text);
	return o;
}

/* A SARIF location object. */
static json_t *sarif_location(const struct loc *l, int with_message)
{
	json_t *o = jobj(), *phys, *art, *region, *logical;

	if (l->function && *l->function) {
		logical = add(set(o, "logicalLocations", jarr()), jobj());
		set_str(logical, "kind", "function");
		set_str(logical, "name", l->function);
	}
	if (with_message && l->note)
		set(o, "message", sarif_text(l->note));
	phys = set(o, "physicalLocation", jobj());
	art = set(phys, "artifactLocation", jobj());
	set_str(art, "uri", l->file);
	set_str(art, "uriBaseId", "SRCROOT");
	region = set(phys, "region", jobj());
	set_num(region, "startColumn", l->column);
	set_num(region, "startLine", l->line);
	return o;
}

/* A step of a thread flow: {"location": {...}}. */
static json_t *sarif_step(const struct loc *l, int with_message)
{
	json_t *o = jobj();

	set(o, "location", sarif_location(l, with_message));
	return o;
}

static const char *level(enum rtcheck_severity s)
{
	return rtcheck_severity_name(s);	/* SARIF levels have the same names */
}

static void emit_sarif(FILE *out, const struct findings *fs, const char *root)
{
	json_t *doc = jobj(), *run, *base, *results, *driver, *list_json;
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
	set_str(doc, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	run = add(set(doc, "runs", jarr()), jobj());
	base = set(set(run, "originalUriBaseIds", jobj()), "SRCROOT", jobj());
	snprintf(uri, sizeof(uri), "file://%s%s", root,
		 *root && root[strlen(root) - 1] == '/' ? "" : "/");
	set_str(base, "uri", uri);
	results = set(run, "results", jarr());
	for (i = 0; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];
		json_t *res, *steps, *props;
		size_t r;

		if (f->hidden != SHOWN)
			continue;
		res = add(results, jobj());
		if (f->ncontext) {
			json_t *flow = add(set(res, "codeFlows", jarr()), jobj());
			json_t *thread = add(set(flow, "threadFlows", jarr()), jobj());

			steps = set(thread, "locations", jarr());
			for (k = 0; k < f->ncontext; k++)
				add(steps, sarif_step(&f->context[k], 1));
			add(steps, sarif_step(&f->where, 0));
		}
		set_str(res, "level", level(f->severity));
		add(set(res, "locations", jarr()), sarif_location(&f->where, 0));
		set(res, "message", sarif_text(f->message));
		if (strcmp(f->fix_kind, "none") && *f->fix_summary) {
			props = set(res, "properties", jobj());
			set_str(props, "fixDiff", f->fix_diff ? f->fix_diff : "");
			set_str(props, "fixKind", f->fix_kind);
			set_str(props, "fixSummary", f->fix_summary);
		}
		set_str(res, "ruleId", f->rule);
		for (r = 0; r < NRULES + nmeta; r++)
			if (!strcmp(list[r]->id, f->rule)) {
				set_num(res, "ruleIndex", r);
				break;
			}
	}
	driver = set(set(run, "tool", jobj()), "driver", jobj());
	set_str(driver, "name", "rtcheck");
	list_json = set(driver, "rules", jarr());
	for (i = 0; i < NRULES + nmeta; i++) {
		json_t *rule = add(list_json, jobj());

		set_str(set(rule, "defaultConfiguration", jobj()), "level", level(list[i]->severity));
		set_str(rule, "id", list[i]->id);
		set(rule, "shortDescription", sarif_text(list[i]->title));
	}
	set_str(driver, "version", RTCHECK_VERSION);
	set_str(doc, "version", "2.1.0");
	dump(out, doc);
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
