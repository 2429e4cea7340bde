// SPDX-License-Identifier: GPL-2.0
/*
 * The diffs of a patch series: a patch's edits applied on top of the earlier
 * patches' (patch_edits.c), written as git diff writes them (3 lines of
 * context, hunks that close merged, git's default function lines).
 */
#include "patches.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CONTEXT = 3 };

/* Whether a comes before b in the file (they do not overlap). */
static int before(const struct edit *a, const struct edit *b)
{
	return a->start + a->count <= b->start && !(a->start == b->start && !b->count);
}

/* The file as the earlier patches of the series left it. */
static struct line *current_text(const struct src_file *f, size_t *n)
{
	size_t cap = f->nlines, i, k = 0;
	long pos = 0;
	struct line *out;

	for (i = 0; i < f->napplied; i++)
		cap += f->applied[i].nlines;
	out = xmalloc(cap * sizeof(*out));
	for (i = 0; i < f->napplied; i++) {
		const struct edit *a = &f->applied[i];

		for (; pos < a->start; pos++)
			out[k++] = f->lines[pos];
		memcpy(out + k, a->lines, a->nlines * sizeof(*out));
		k += a->nlines;
		pos = a->start + a->count;
	}
	for (; pos < (long)f->nlines; pos++)
		out[k++] = f->lines[pos];
	*n = k;
	return out;
}

/* git's default hunk-header function line: the last line before the hunk
 * that starts with a letter, '_' or '$', at most 80 bytes. */
static void funcname(struct sbuf *out, const struct line *cur, long from)
{
	while (--from >= 0) {
		const char *s = cur[from].s;
		size_t n = cur[from].len < 80 ? cur[from].len : 80;

		if (!n || !(((*s | 32) >= 'a' && (*s | 32) <= 'z') || *s == '_' || *s == '$'))
			continue;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
			     s[n - 1] == '\r'))
			n--;
		sb_add(out, " ", 1);
		sb_add(out, s, n);
		return;
	}
}

static void emit_line(struct sbuf *out, char sign, struct line l)
{
	sb_add(out, &sign, 1);
	sb_add(out, l.s, l.len);
	if (!l.len || l.s[l.len - 1] != '\n')
		sb_add(out, "\n\\ No newline at end of file\n", 29);
}

/* "@@ -from,count" as git writes it: ",1" left out, an empty range at the line before. */
static void range(struct sbuf *out, char sign, long from, long count)
{
	sb_printf(out, count == 1 ? "%c%ld" : "%c%ld,%ld", sign, count ? from + 1 : from, count);
}

/* The hunks of edits v (sorted, in the coordinates of cur), with CONTEXT lines around. */
static void emit_hunks(struct sbuf *out, const struct line *cur, long ncur, const struct edit *v,
		       size_t n)
{
	long delta = 0;
	size_t i, j, k;

	for (i = 0; i < n; i = j) {
		long from = v[i].start > CONTEXT ? v[i].start - CONTEXT : 0, to, oldc, newc, pos;

		for (j = i + 1; j < n && v[j].start - (v[j - 1].start + v[j - 1].count) <= 2 * CONTEXT;)
			j++;
		to = v[j - 1].start + v[j - 1].count + CONTEXT;
		if (to > ncur)
			to = ncur;
		oldc = newc = to - from;
		for (k = i; k < j; k++)
			newc += (long)v[k].nlines - v[k].count;
		sb_add(out, "@@ ", 3);
		range(out, '-', from, oldc);
		sb_add(out, " ", 1);
		range(out, '+', from + delta, newc);
		sb_add(out, " @@", 3);
		funcname(out, cur, from);
		sb_add(out, "\n", 1);
		for (pos = from, k = i; k < j; k++) {
			for (; pos < v[k].start; pos++)
				emit_line(out, ' ', cur[pos]);
			for (; pos < v[k].start + v[k].count; pos++)
				emit_line(out, '-', cur[pos]);
			for (size_t l = 0; l < v[k].nlines; l++)
				emit_line(out, '+', v[k].lines[l]);
		}
		for (; pos < to; pos++)
			emit_line(out, ' ', cur[pos]);
		delta += newc - oldc;
	}
}

void change_emit(struct change *ch, int owner, struct sbuf *diff, struct stat_entry *stat)
{
	size_t i, j, k, ncur;

	for (i = 0; i < ch->nfiles; i++) {
		struct file_change *fc = &ch->files[i];
		struct src_file *f = fc->file;
		struct edit *moved = xmalloc((fc->n + 1) * sizeof(*moved));
		struct line *cur;

		stat[i] = (struct stat_entry){ f->path, 0, 0 };
		if (!fc->n) {
			free(moved);
			continue;
		}
		cur = current_text(f, &ncur);
		for (j = 0; j < fc->n; j++) {
			moved[j] = fc->v[j];
			for (k = 0; k < f->napplied; k++)
				if (before(&f->applied[k], &fc->v[j]))
					moved[j].start += (long)f->applied[k].nlines - f->applied[k].count;
			stat[i].ins += fc->v[j].nlines;
			stat[i].del += fc->v[j].count;
		}
		sb_printf(diff, "diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n", f->path, f->path,
			  f->path, f->path);
		emit_hunks(diff, cur, ncur, moved, fc->n);
		free(moved);
		free(cur);
		for (j = 0; j < fc->n; j++) {	/* into the series, in file order */
			f->applied = grow_array(f->applied, f->napplied, sizeof(*f->applied));
			for (k = 0; k < f->napplied && !before(&fc->v[j], &f->applied[k]);)
				k++;
			memmove(&f->applied[k + 1], &f->applied[k],
				(f->napplied++ - k) * sizeof(*f->applied));
			f->applied[k] = fc->v[j];
			f->applied[k].owner = owner;
		}
		fc->n = 0;	/* the lines belong to the file's applied edits now */
	}
}
