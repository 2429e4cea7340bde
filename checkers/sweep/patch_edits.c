// SPDX-License-Identifier: GPL-2.0
/*
 * The edits of a patch series. Each fix diff of findings.json is made against
 * the original file; a series applies its patches one after another, so the
 * patches after the first that change a file are written again on top of the
 * ones before (patch_diff.c). The fix diffs become edits, old lines replaced
 * by new ones, checked against the file; an edit that an earlier patch made
 * already is dropped, one that overlaps a different one cannot be composed.
 */
#include "patches.h"
#include "errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *grow_array(void *v, size_t n, size_t size)
{
	/* capacity doubles at powers of two: n elements fit, n + 1 may not */
	if (n & (n - 1) || (n && n < 8))
		return v;
	v = realloc(v, (n ? n * 2 : 8) * size);
	if (!v) {
		fputs("rtcheck: error: out of memory\n", stderr);
		exit(EXIT_INTERNAL);
	}
	return v;
}

struct sources *sources_new(const char *root)
{
	struct sources *s = calloc(1, sizeof(*s));

	s->root = xstrdup(root);
	return s;
}

void sources_free(struct sources *srcs)
{
	size_t i;

	for (i = 0; i < srcs->n; i++) {
		for (size_t j = 0; j < srcs->v[i].napplied; j++)
			free(srcs->v[i].applied[j].lines);
		free(srcs->v[i].path);
		free(srcs->v[i].text);
		free(srcs->v[i].lines);
		free(srcs->v[i].applied);
	}
	free(srcs->v);
	free(srcs->root);
	free(srcs);
}

static struct src_file *source(struct sources *srcs, const char *path)
{
	char full[PATH_MAX * 2];
	struct src_file *f;
	size_t i, len;
	char *p;

	for (i = 0; i < srcs->n; i++)
		if (!strcmp(srcs->v[i].path, path))
			return &srcs->v[i];
	snprintf(full, sizeof(full), "%s/%s", srcs->root, path);
	p = read_file(full, &len);
	if (!p)
		return NULL;
	srcs->v = grow_array(srcs->v, srcs->n, sizeof(*srcs->v));
	f = memset(&srcs->v[srcs->n++], 0, sizeof(*f));
	f->path = xstrdup(path);
	f->text = p;
	while (p < f->text + len) {
		char *eol = memchr(p, '\n', f->text + len - p);
		size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(f->text + len - p);

		f->lines = grow_array(f->lines, f->nlines, sizeof(*f->lines));
		f->lines[f->nlines++] = (struct line){ p, n };
		p += n;
	}
	return f;
}

/* The same text, whether or not either ends in '\n'. */
static int same_line(struct line a, const char *s, size_t n)
{
	if (a.len && a.s[a.len - 1] == '\n')
		a.len--;
	if (n && s[n - 1] == '\n')
		n--;
	return a.len == n && !memcmp(a.s, s, n);
}

static int identical(struct line a, struct line b)
{
	return a.len == b.len && !memcmp(a.s, b.s, a.len);
}

static void add_edit(struct file_change *fc, struct edit *e)
{
	if (e->count || e->nlines) {
		fc->v = grow_array(fc->v, fc->n, sizeof(*fc->v));
		fc->v[fc->n++] = *e;
	}
	memset(e, 0, sizeof(*e));
	e->start = -1;
}

/*
 * e as the smallest edits, the lines a longest common subsequence of its old
 * and new lines matches left as they are: a fix that takes out a line and
 * writes it again around new ones is, as git diff shows it, only the new ones.
 */
static void add_smallest(struct file_change *fc, const struct edit *e)
{
	const struct line *old = fc->file->lines + e->start, *new = e->lines;
	long n = e->count, m = e->nlines, i, j, w = m + 1;
	long *lcs = calloc((n + 1) * w, sizeof(*lcs));	/* of old[i..] and new[j..] */
	struct edit cur = { .start = -1 };

	if (!lcs) {
		fputs("rtcheck: error: out of memory\n", stderr);
		exit(EXIT_INTERNAL);
	}
	for (i = n - 1; i >= 0; i--)
		for (j = m - 1; j >= 0; j--)
			lcs[i * w + j] = identical(old[i], new[j]) ? lcs[(i + 1) * w + j + 1] + 1 :
				lcs[(i + 1) * w + j] > lcs[i * w + j + 1] ? lcs[(i + 1) * w + j] :
				lcs[i * w + j + 1];
	for (i = j = 0; i < n || j < m;) {
		if (i < n && j < m && identical(old[i], new[j]) &&
		    lcs[i * w + j] == lcs[(i + 1) * w + j + 1] + 1) {
			add_edit(fc, &cur);
			i++, j++;
			continue;
		}
		if (cur.start < 0)
			cur.start = e->start + i;
		if (i < n && (j == m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
			cur.count++, i++;
		} else {
			cur.lines = grow_array(cur.lines, cur.nlines, sizeof(*cur.lines));
			cur.lines[cur.nlines++] = new[j++];
		}
	}
	add_edit(fc, &cur);
	free(lcs);
}

static void flush(struct file_change *fc, struct edit *e)
{
	if (fc && (e->count || e->nlines))
		add_smallest(fc, e);
	free(e->lines);
	memset(e, 0, sizeof(*e));
	e->start = -1;
}

int change_parse(struct sources *srcs, const char *diff, struct change *ch, char *why,
		 size_t len)
{
	struct file_change *fc = NULL;
	struct edit e = { .start = -1 };
	long pos = 0, old_left = 0, new_left = 0;
	char *p, *next;

	memset(ch, 0, sizeof(*ch));
	ch->text = xstrdup(diff);
	for (p = ch->text; *p; p = next) {
		char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol + 1 - p) : strlen(p);
		long a, b = 1, c, d = 1;

		next = p + n;
		if (!old_left && !new_left) {
			flush(fc, &e);
			if (!strncmp(p, "+++ b/", 6)) {
				*(eol ? eol : next) = '\0';
				ch->files = grow_array(ch->files, ch->nfiles, sizeof(*ch->files));
				fc = memset(&ch->files[ch->nfiles++], 0, sizeof(*fc));
				fc->file = source(srcs, p + 6);
				if (!fc->file)
					return failf(why, len, "cannot read %s", p + 6), -1;
			} else if (!strncmp(p, "@@ -", 4) && fc &&
				   (sscanf(p, "@@ -%ld,%ld +%ld,%ld @@", &a, &b, &c, &d) == 4 ||
				    sscanf(p, "@@ -%ld +%ld,%ld @@", &a, &c, &d) == 3 ||
				    sscanf(p, "@@ -%ld,%ld +%ld @@", &a, &b, &c) == 3)) {
				pos = b ? a - 1 : a;
				old_left = b;
				new_left = d;
			}
			continue;
		}
		if (*p == ' ' || *p == '-') {
			if (pos >= (long)fc->file->nlines || !same_line(fc->file->lines[pos], p + 1, n - 1))
				return failf(why, len, "%s:%ld is not what the fix was made for",
					     fc->file->path, pos + 1), -1;
			old_left--;
		}
		if (*p == ' ') {
			flush(fc, &e);
			new_left--;
		} else if (*p == '-' || *p == '+') {
			if (e.start < 0)
				e.start = pos;
			if (*p == '-') {
				e.count++;
			} else {
				e.lines = grow_array(e.lines, e.nlines, sizeof(*e.lines));
				e.lines[e.nlines++] = (struct line){ p + 1, n - 1 };
				new_left--;
			}
		} else if (*p == '\\' && e.nlines) {
			struct line *l = &e.lines[e.nlines - 1];

			l->len -= l->len && l->s[l->len - 1] == '\n';
		} else if (*p != '\\') {
			return failf(why, len, "a malformed fix diff (%.*s)", (int)(n - 1), p), -1;
		}
		pos += *p == ' ' || *p == '-';
	}
	flush(fc, &e);
	return 0;
}

static int same_edit(const struct edit *a, const struct edit *b)
{
	size_t i;

	if (a->start != b->start || a->count != b->count || a->nlines != b->nlines)
		return 0;
	for (i = 0; i < a->nlines; i++)
		if (!same_line(a->lines[i], b->lines[i].s, b->lines[i].len))
			return 0;
	return 1;
}

/* Two insertions at one place (which first?) or intersecting replacements. */
static int overlap(const struct edit *a, const struct edit *b)
{
	if (!a->count && !b->count)
		return a->start == b->start;
	if (!a->count)
		return b->start < a->start && a->start < b->start + b->count;
	if (!b->count)
		return a->start < b->start && b->start < a->start + a->count;
	return a->start < b->start + b->count && b->start < a->start + a->count;
}

long change_rebase(struct change *ch, int *owner)
{
	long left = 0;
	size_t i, j, k;

	for (i = 0; i < ch->nfiles; i++) {
		struct file_change *fc = &ch->files[i];

		for (j = 0; j < fc->n; j++) {
			for (k = 0; k < fc->file->napplied; k++) {
				const struct edit *a = &fc->file->applied[k];

				if (same_edit(a, &fc->v[j])) {
					*owner = a->owner;
					free(fc->v[j].lines);
					memmove(&fc->v[j], &fc->v[j + 1], (--fc->n - j) * sizeof(*fc->v));
					j--;
					break;
				}
				if (overlap(a, &fc->v[j])) {
					*owner = a->owner;
					return -1;
				}
			}
		}
		left += fc->n;
	}
	return left;
}

void change_free(struct change *ch)
{
	size_t i, j;

	for (i = 0; i < ch->nfiles; i++) {
		for (j = 0; j < ch->files[i].n; j++)
			free(ch->files[i].v[j].lines);
		free(ch->files[i].v);
	}
	free(ch->files);
	free(ch->text);
	memset(ch, 0, sizeof(*ch));
}
