// SPDX-License-Identifier: GPL-2.0
/*
 * OUT/patches/ (docs/sweep.md "Patch series"): the fixes of findings.json as
 * git format-patch mails. Findings with the same fix diff are one conversion
 * and one patch; the patches are grouped by the subject prefix of the files
 * they change (include/rtcheck/subsystems.def) into series that git am
 * applies in order: a later patch on a file is made on top of the earlier
 * ones (patch_diff.c).
 */
#include "patches.h"
#include "errors.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *json_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static void *push(void *v, size_t n, size_t size)
{
	v = realloc(v, (n + 1) * size);
	if (!v) {
		fputs("rtcheck: error: out of memory\n", stderr);
		exit(EXIT_INTERNAL);
	}
	return v;
}

/* The conversions of findings.json that the mode takes, in findings order. */
static int read_conversions(struct run *r, json_t *doc, char *err, size_t errlen)
{
	json_t *fs = json_object_get(doc, "findings"), *f;
	size_t i, j;

	if (!json_is_array(fs))
		return failf(err, errlen, "%s/findings.json: no findings array", r->sw->out);
	json_array_foreach(fs, i, f) {
		json_t *fix = json_object_get(f, "fix");
		const char *kind = json_str(fix, "kind"), *diff = json_str(fix, "diff");
		struct conv *c = NULL;

		if (!*diff || !(!strcmp(kind, "auto") ||
				(!strcmp(kind, "suggestion") && r->po->mode == PATCHES_ALL)))
			continue;
		for (j = 0; j < r->nconvs && !c; j++)
			if (!strcmp(r->convs[j].diff, diff))
				c = &r->convs[j];
		if (!c) {
			r->convs = push(r->convs, r->nconvs, sizeof(*r->convs));
			c = memset(&r->convs[r->nconvs++], 0, sizeof(*c));
			c->kind = kind, c->diff = diff, c->rule = json_str(f, "rule");
			c->summary = json_str(fix, "summary");
		}
		c->fixes = push(c->fixes, c->n, sizeof(*c->fixes));
		c->fixes[c->n++] = f;
	}
	return 0;
}

static struct series *series_of(struct run *r, const char *prefix)
{
	struct series *s;
	size_t i, n = 0;
	int dash = 0;

	for (i = 0; i < r->nseries; i++)
		if (!strcmp(r->series[i].prefix, prefix))
			return &r->series[i];
	r->series = push(r->series, r->nseries, sizeof(*r->series));
	s = memset(&r->series[r->nseries++], 0, sizeof(*s));
	s->prefix = prefix;
	for (; *prefix && n + 2 < sizeof(s->dir); prefix++) {	/* "bpf, sockmap" -> bpf-sockmap */
		char c = *prefix | ((*prefix >= 'A' && *prefix <= 'Z') ? 32 : 0);

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.') {
			if (dash && n)
				s->dir[n++] = '-';
			s->dir[n++] = c;
			dash = 0;
		} else {
			dash = 1;
		}
	}
	return s;
}

/* The first file a diff changes, else the finding's. */
static char *first_path(const struct conv *c)
{
	const char *p = !strncmp(c->diff, "+++ b/", 6) ? c->diff : strstr(c->diff, "\n+++ b/");

	if (!p)
		return xstrdup(json_str(c->fixes[0], "file"));
	p += *p == '\n' ? 7 : 6;
	return strndup(p, strcspn(p, "\n"));
}

/* The patch of a series that conversion c is on top of, or left out with the
 * reason; a conversion that an earlier patch made entirely is that patch's. */
static void compose(struct series *s, struct conv *c)
{
	int owner = 0;
	long left;
	size_t k;

	if (change_parse(s->srcs, c->diff, &c->ch, c->skip, sizeof(c->skip)))
		return;
	left = change_rebase(&c->ch, &owner);
	if (left < 0) {
		snprintf(c->skip, sizeof(c->skip), "its fix overlaps the different change of "
			 "patch %d: sweep again once that is applied", owner);
	} else if (!left) {
		struct conv *o = NULL;

		for (k = 0; k < s->n && !o; k++)
			o = s->v[k]->nr == owner ? s->v[k] : NULL;
		for (k = 0; o && k < c->n; k++) {
			o->fixes = push(o->fixes, o->n, sizeof(*o->fixes));
			o->fixes[o->n++] = c->fixes[k];
		}
		c->n = 0;
	} else {
		c->nr = ++s->npatches;
		c->shares = owner;
		c->stat = xmalloc(c->ch.nfiles * sizeof(*c->stat));
		change_emit(&c->ch, c->nr, &c->diff_text, c->stat);
	}
}

/* Each conversion into the series of the first file it changes, in order. */
static void make_series(struct run *r)
{
	size_t i, j;

	for (i = 0; i < r->nconvs; i++) {
		struct conv *c = &r->convs[i];
		char *path = first_path(c);
		struct series *s;

		name_conversion(c);
		c->prefix = subject_prefix(path);
		free(path);
		s = series_of(r, c->prefix);
		s->v = push(s->v, s->n, sizeof(*s->v));
		s->v[s->n++] = c;
	}
	for (i = 0; i < r->nseries; i++) {
		r->series[i].srcs = sources_new(r->sw->kb.src);
		for (j = 0; j < r->series[i].n; j++)
			compose(&r->series[i], r->series[i].v[j]);
	}
}

static int write_file(const char *dir, const char *name, const char *text, char *err,
		      size_t errlen)
{
	char path[PATH_MAX * 2];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return failf(err, errlen, "%s: %s", path, strerror(errno));
	bad = fputs(text, f) == EOF;
	bad |= fclose(f) != 0;
	return bad ? failf(err, errlen, "%s: %s", path, strerror(errno)) : 0;
}

/* OUT/patches/<dir>/: the cover letter, the patches and their series file;
 * their names into the top-level series. */
static int write_series(struct run *r, struct series *s, struct sbuf *top, char *err,
			size_t errlen)
{
	struct sbuf mailbox = { 0 }, list = { 0 };
	char dir[PATH_MAX * 2], name[128], full[512];
	size_t i;
	int status = 0;

	snprintf(dir, sizeof(dir), "%s/%s", r->dir, s->dir);
	if (mkdir_p(dir))
		return failf(err, errlen, "%s: %s", dir, strerror(errno));
	cover_mail(r, s, &mailbox);
	status = write_file(dir, "0000-cover-letter.patch", mailbox.s, err, errlen);
	for (i = 0; i < s->n && !status; i++) {
		struct conv *c = s->v[i];

		if (!c->nr)
			continue;
		snprintf(full, sizeof(full), "%s: %s", s->prefix, c->subject);
		patch_file_name(name, sizeof(name), c->nr, full);
		mailbox.n = 0;
		patch_mail(r, s, c, &mailbox);
		status = write_file(dir, name, mailbox.s, err, errlen);
		sb_printf(&list, "%s\n", name);
		sb_printf(top, "%s/%s\n", s->dir, name);
	}
	if (!status)
		status = write_file(dir, "series", list.s ? list.s : "", err, errlen);
	free(mailbox.s);
	free(list.s);
	return status;
}

/* What an earlier sweep wrote there: its *.patch and series files. */
static void remove_old(const char *dir)
{
	char path[PATH_MAX * 2], file[PATH_MAX * 3];
	DIR *d = opendir(dir), *sub;
	struct dirent *e, *g;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!strcmp(e->d_name, "series")) {
			unlink(path);
			continue;
		}
		sub = opendir(path);
		while (sub && (g = readdir(sub))) {
			size_t n = strlen(g->d_name);

			snprintf(file, sizeof(file), "%s/%s", path, g->d_name);
			if (!strcmp(g->d_name, "series") ||
			    (n > 6 && !strcmp(g->d_name + n - 6, ".patch")))
				unlink(file);
		}
		if (sub)
			closedir(sub);
		rmdir(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static int by_dir(const void *a, const void *b)
{
	return strcmp(((const struct series *)a)->dir, ((const struct series *)b)->dir);
}

int write_patches(const struct sweep *sw, const struct patch_opts *po, char *err,
		  size_t errlen)
{
	struct run r = { .sw = sw, .po = po };
	struct sbuf top = { 0 };
	char path[PATH_MAX + 32];
	json_error_t jerr;
	json_t *doc;
	size_t i;
	int status = 0;

	snprintf(r.dir, sizeof(r.dir), "%s/patches", sw->out);
	remove_old(r.dir);
	if (po->mode == PATCHES_NONE)
		return 0;
	snprintf(path, sizeof(path), "%s/findings.json", sw->out);
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		return failf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
	if (read_conversions(&r, doc, err, errlen) ||
	    (mkdir_p(r.dir) && failf(err, errlen, "%s: %s", r.dir, strerror(errno)))) {
		json_decref(doc);
		return -1;
	}
	r.from = mail_from(po->from);
	mail_date(r.date, sizeof(r.date));
	make_series(&r);
	qsort(r.series, r.nseries, sizeof(*r.series), by_dir);
	for (i = 0; i < r.nseries && !status; i++)
		if (r.series[i].npatches)
			status = write_series(&r, &r.series[i], &top, err, errlen);
	for (i = 0; i < r.nconvs; i++)	/* what no series has */
		if (r.convs[i].skip[0] && !status)
			sb_printf(&top, "# not in the series: %s:%lld %s: %s\n",
				  json_str(r.convs[i].fixes[0], "file"),
				  (long long)json_integer_value(json_object_get(r.convs[i].fixes[0],
										"line")),
				  json_str(r.convs[i].fixes[0], "function"), r.convs[i].skip);
	if (!status)
		status = write_file(r.dir, "series", top.s ? top.s : "", err, errlen);
	for (i = 0; i < r.nconvs; i++) {
		change_free(&r.convs[i].ch);
		free(r.convs[i].fixes);
		free(r.convs[i].prefix);
		free(r.convs[i].diff_text.s);
		free(r.convs[i].stat);
	}
	for (i = 0; i < r.nseries; i++) {
		sources_free(r.series[i].srcs);
		free(r.series[i].v);
	}
	free(r.series);
	free(r.convs);
	free(r.from);
	free(top.s);
	json_decref(doc);
	return status;
}

int patches_option(struct patch_opts *po, int argc, char **argv, size_t *i)
{
	const char *a = argv[*i], *val;
	size_t n = !strncmp(a, "--patches", 9) ? 9 : !strncmp(a, "--patch-from", 12) ? 12 : 0;

	if (!n || (a[n] && a[n] != '='))
		return 0;
	if (a[n] == '=')
		val = a + n + 1;
	else if (*i + 1 < (size_t)argc)
		val = argv[++*i];
	else
		return die(EXIT_USAGE, "%s needs a value", a), -1;
	if (n == 12) {
		const char *lt = strchr(val, '<');

		if (!lt || lt == val || val[strlen(val) - 1] != '>' || !strchr(lt, '@'))
			return die(EXIT_USAGE, "--patch-from: '%s' is not \"Name <email>\"", val), -1;
		po->from = val;
	} else if (!strcmp(val, "auto") || !strcmp(val, "all") || !strcmp(val, "none")) {
		po->mode = val[0] == 'n' ? PATCHES_NONE : val[1] == 'l' ? PATCHES_ALL : PATCHES_AUTO;
	} else {
		return die(EXIT_USAGE, "--patches: '%s' is not auto, all or none", val), -1;
	}
	return 1;
}
