/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver's view of rtcheck-clang's findings: read from its JSON report
 * (design.md §4), filtered (changed lines, baselines, inline suppressions)
 * and written again as text, JSON or SARIF, the same three formats the
 * tool writes itself.
 */
#ifndef RTCHECK_FINDINGS_H
#define RTCHECK_FINDINGS_H

#include "rtcheck/finding.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

/* Findings the driver makes itself, about inline suppressions. */
#define RULE_IGNORE_INVALID "rtcheck-ignore-invalid"
#define RULE_IGNORE_UNUSED "rtcheck-ignore-unused"

struct loc {
	char *file;		/* relative to the kernel source root */
	unsigned int line, column;
	char *function;
	char *note;		/* NULL for a finding's own location */
};

enum hidden_by { SHOWN, OFF_CHANGE, SUPPRESSED, BASELINED };

struct finding {
	char *rule;
	enum rtcheck_severity severity;
	struct loc where;
	char *message;
	struct loc *context;
	size_t ncontext;
	char *fix_kind, *fix_summary, *fix_diff;	/* fix_diff may be NULL */
	enum hidden_by hidden;
};

struct findings {
	struct finding *v;
	size_t n, cap;
};

/* Appends the findings of an rtcheck-clang JSON report; 0 or -1 with err. */
int findings_load(struct findings *fs, const char *path, char *err, size_t errlen);
/* The whole of a file, malloc'ed (*len bytes, not NUL-terminated); NULL if unreadable. */
char *slurp_file(const char *path, size_t *len);
/* Appends a finding of the driver's own (no context, no fix). */
void findings_add(struct findings *fs, const char *rule, enum rtcheck_severity sev,
		  const char *file, unsigned int line, unsigned int column, const char *message);
/* Sorts by file, line, column, rule, message and drops duplicates (one
 * header finding seen from several TUs). */
void findings_sort_unique(struct findings *fs);
/* Rewrites every path starting with one of the prefixes (directories the
 * checked text came from) to the part after it, in locations and diffs. */
void findings_strip_prefixes(struct findings *fs, const char *const prefixes[], int n);
void findings_free(struct findings *fs);

/* Counts the shown findings by severity (counts[RTCHECK_NOTE...]). */
void findings_count(const struct findings *fs, size_t counts[3]);
/* Whether a shown finding fails --werror: any but notes about suppressions. */
int findings_fail_werror(const struct findings *fs);

/* Writes the shown findings; root is the kernel source root (SARIF). */
void findings_emit(FILE *out, const struct findings *fs, const char *format, const char *root);

/*
 * The text rtcheck checked, for snippets and suppressions: a file relative
 * to the kernel root is read from the first of dirs that has it (the
 * extracted new versions of a change, the git tree, the build's sources).
 */
struct sources {
	const char *dirs[4];
	int ndirs;
	struct srcfile *files;	/* cache, one per file read */
};

/* Line (1-based) of file, without its newline, or NULL. */
const char *source_line(struct sources *src, const char *file, unsigned int line);
/* Number of lines of file, 0 when unreadable. */
unsigned int source_nlines(struct sources *src, const char *file);
void sources_free(struct sources *src);

/* The length of the UTF-8 sequence at s that jansson accepts, 0 if none. */
size_t utf8_seq(const unsigned char *s);
/* Copies the UTF-8 sequence at *s to *w (U+FFFD for a byte that is none), advancing both. */
void utf8_copy_one(char **w, const char **s);

#endif
