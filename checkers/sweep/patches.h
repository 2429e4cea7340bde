/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sweep's patch series (docs/sweep.md "Patch series"): OUT/patches/, one
 * git format-patch mail per conversion, one series per subsystem.
 */
#ifndef RTCHECK_SWEEP_PATCHES_H
#define RTCHECK_SWEEP_PATCHES_H

#include "sweep.h"

#include <jansson.h>
#include <stddef.h>

enum patch_mode { PATCHES_AUTO, PATCHES_ALL, PATCHES_NONE };

struct patch_opts {
	enum patch_mode mode;	/* --patches: which fix kinds become patches */
	const char *from;	/* --patch-from "Name <email>", or NULL: git config */
};

/*
 * Handles argv[*i] if it is --patches[=]MODE or --patch-from[=]WHO (moving *i
 * past a separate value): 1 if it was one of them, 0 if not, -1 after a usage
 * error was printed.
 */
int patches_option(struct patch_opts *po, int argc, char **argv, size_t *i);

/*
 * Replaces OUT/patches/ with the series of the conversions in OUT/findings.json
 * (none for PATCHES_NONE); 0, or -1 with a message in err.
 */
int write_patches(const struct sweep *sw, const struct patch_opts *po, char *err,
		  size_t errlen);

/* A growing string. */
struct sbuf {
	char *s;
	size_t n, cap;
};
void sb_add(struct sbuf *b, const char *s, size_t n);
void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...);
/* Appends text from column col, wrapped at width columns, later lines
 * indented by indent. */
void sb_wrap(struct sbuf *b, int col, const char *text, int width, int indent);

/* patch_edits.c, patch_diff.c: the edits of the conversions of one series,
 * composed in order. */
struct line {
	const char *s;
	size_t len;		/* with its '\n' (the last line of a file may lack it) */
};

struct edit {
	long start, count;	/* the lines it replaces, 0-based in the original file */
	struct line *lines;	/* what it puts there */
	size_t nlines;
	int owner;		/* patch of the series that made it, once applied */
};

struct file_change {
	struct src_file *file;
	struct edit *v;
	size_t n;
};

/* One conversion's edits, file by file, as its fix diff gives them. */
struct change {
	char *text;		/* the diff, which the lines point into */
	struct file_change *files;
	size_t nfiles;
};

/* A file of the source tree and the edits of the series' patches so far. */
struct src_file {
	char *path;		/* relative to the source root */
	char *text;
	struct line *lines;
	size_t nlines;
	struct edit *applied;	/* the series' edits so far, in file order */
	size_t napplied;
};

struct sources {
	char *root;
	struct src_file *v;
	size_t n;
};

/* patch_edits.c */
/* Doubles the array v of n elements of size size when n is a power of two (from 8). */
void *grow_array(void *v, size_t n, size_t size);
struct sources *sources_new(const char *root);
void sources_free(struct sources *srcs);
/* Parses a fix diff against the original sources; 0, or -1 with why. */
int change_parse(struct sources *srcs, const char *diff, struct change *ch, char *why,
		 size_t len);
/*
 * Drops the edits that earlier patches of the series already made. Returns
 * the number left, or -1 when an edit overlaps a different one of an earlier
 * patch (*owner: that patch; *owner is the patch of a dropped edit otherwise).
 */
long change_rebase(struct change *ch, int *owner);
/* Frees ch; after the last change_emit() of its sources (they share lines). */
void change_free(struct change *ch);

/* A diffstat: " path | N +++--" lines and the summary line, git's format. */
struct stat_entry {
	const char *path;
	long ins, del;
};

/* patch_diff.c */
/*
 * Appends the "diff --git" text of ch on top of the earlier patches of the
 * series, fills stat[0..ch->nfiles) and records its edits as patch owner's.
 */
void change_emit(struct change *ch, int owner, struct sbuf *diff, struct stat_entry *stat);

/* patch_mail.c */
void diffstat(struct sbuf *out, const struct stat_entry *v, size_t n);
/* "From 000... Mon Sep 17 00:00:00 2001", From:, Date:, Subject: (folded),
 * MIME headers when the mail is not ASCII; then body. */
void mail(struct sbuf *out, const char *from, const char *date, const char *subject,
	  const char *body);
/* The From: of the patches: who, else git config user.name/email, else rtcheck's. */
char *mail_from(const char *who);
/* RFC 2822 date of now, or of $SOURCE_DATE_EPOCH. */
void mail_date(char *buf, size_t len);
/* git format-patch's file name: "0001-net-Use-nested-BH-locking-for-x.patch". */
void patch_file_name(char *buf, size_t len, int nr, const char *subject);

/* Between patches.c and patch_text.c: the series being written. */
struct conv {
	json_t **fixes;		/* the findings it fixes; [0] names it */
	size_t n;
	const char *rule, *kind, *summary, *diff;
	char *prefix;		/* of its subject: its subsystem */
	char subject[256];	/* after the prefix */
	const char *not_rt;
	struct change ch;
	char skip[300];		/* why it is not in the series, or "" */
	int nr;			/* number in its series, from 1; 0 when not in it */
	int shares;		/* an earlier patch that made part of it, or 0 */
	struct sbuf diff_text;
	struct stat_entry *stat;
};

struct series {
	const char *prefix;
	char dir[128];		/* OUT/patches/<dir>: the prefix, sanitised */
	struct sources *srcs;	/* the files as its patches leave them */
	struct conv **v;
	size_t n;
	int npatches;
};

struct run {
	const struct sweep *sw;
	const struct patch_opts *po;
	char *from, date[64], dir[PATH_MAX + 16];
	struct conv *convs;
	size_t nconvs;
	struct series *series;
	size_t nseries;
};

/* A string member of o, or "". */
const char *json_str(json_t *o, const char *key);

/* patch_subject.c */
/* The subject prefix of the patches that change path (malloc'd). */
char *subject_prefix(const char *path);
/* c->subject after the prefix, c->not_rt. */
void name_conversion(struct conv *c);

/* patch_text.c: the mails. */
void patch_mail(const struct run *r, const struct series *s, const struct conv *c,
		struct sbuf *out);
void cover_mail(const struct run *r, const struct series *s, struct sbuf *out);

#endif
