/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pre-submit mode (docs/presubmit.md): the lines a git change touches,
 * baselines of known findings, inline suppressions and the git hook.
 */
#ifndef RTCHECK_PRESUBMIT_H
#define RTCHECK_PRESUBMIT_H

#include "findings.h"
#include "kbuild.h"

#include <stddef.h>

/* design.md §3 */
enum { EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INPUT, EXIT_INTERNAL };

/* --- running rtcheck-clang (analyse.c) ---------------------------------- */

/*
 * Where the text of a file comes from when it is not the build's source
 * tree: the new versions of a change extracted from git, a git tree other
 * than the build's sources. The first that has a file wins, then kb->src.
 */
struct layers {
	const char *dir[2];
	int n;
};

/*
 * Checks the TUs rel[] (paths relative to kb->src; each must exist there, for
 * kbuild's flags) with rtcheck-clang and appends its findings to fs, paths
 * relative to the kernel root. Returns EXIT_OK, EXIT_INPUT (a TU kbuild or
 * clang cannot compile: reported on stderr) or EXIT_INTERNAL.
 */
int analyse(const struct kbuild *kb, char *const rel[], int nrel, const struct layers *ly,
	    const char *tool, const char *rules, struct findings *fs);

/* --- shared by the commands (rtcheck.c) ---------------------------------- */

/* Where the rtcheck checkout is (the launcher exports RTCHECK_HOME). */
const char *rtcheck_home(void);
/* Makes the parent directories of path; 0 or -1 with errno. */
int make_parents(char *path);
/* Removes a directory and everything below it. */
void remove_tree(const char *dir);

/* --- the facts database (facts.c) --------------------------------------- */

/* Where "rtcheck facts" keeps the database of a build directory. */
void facts_default_db(const struct kbuild *kb, char *out, size_t len);
/*
 * The database check consults, into out: opt (--facts), else $RTCHECK_FACTS
 * (empty: none), else the build's default one if it exists; 0 for none.
 */
int facts_db(const char *opt, int none, const struct kbuild *kb, char *out, size_t len);
/* rtcheck facts: a sweep of paths[] (none: the whole tree) that keeps db (NULL:
 * the default); execs, returns only on error. */
int facts_refresh(const struct kbuild *kb, const char *db, const char *jobs, char *const paths[],
		  int n);
/*
 * Analyses rel[] into the facts database db (when they changed), propagates
 * over every TU it holds and appends the cross-TU findings in rel[] or whose
 * chain passes through one. EXIT_OK, EXIT_INPUT or EXIT_INTERNAL.
 */
int facts_findings(const struct kbuild *kb, const char *db, char *const rel[], int n,
		   const char *rules, struct findings *fs);

/* --- inline suppressions (suppress.c) ----------------------------------- */

/*
 * Hides the findings an inline "rtcheck: ignore RULE: reason" comment on
 * their line or the line above covers, and adds the driver's findings about
 * suppressions: RULE_IGNORE_INVALID (no reason, unknown rule) for every file
 * read, RULE_IGNORE_UNUSED for suppressions in main_files (the .c files
 * checked) that cover nothing, unless report_unused is 0 (a TU did not
 * compile: its findings are unknown). rules: the ids checked, NULL for all.
 */
void suppress_apply(struct findings *fs, struct sources *src, char *const main_files[],
		    int nmain, const char *rules, int report_unused);

/* --- baselines (baseline.c) --------------------------------------------- */

struct baseline {
	struct fingerprint *v;
	size_t n;
};

/* 0, or -1 with a message in err. */
int baseline_load(struct baseline *b, const char *path, char *err, size_t errlen);
/* Hides the shown findings the baseline knows (each entry hides one). */
void baseline_apply(const struct baseline *b, struct findings *fs, struct sources *src);
/* Writes the shown findings as a baseline; 0 or -1 on a write error. */
int baseline_write(FILE *out, const struct findings *fs, struct sources *src);
void baseline_free(struct baseline *b);

/* --- git (gitdiff.c) ---------------------------------------------------- */

struct git {
	char top[PATH_MAX];	/* the work tree's top-level directory */
	const char *index;	/* GIT_INDEX_FILE for git, or NULL */
};

/* The lines of one file a change adds or rewrites, in its new version. */
struct changed_file {
	char *path;		/* relative to the top of the tree */
	unsigned int (*ranges)[2];	/* [first, last] line */
	size_t nranges;
};

struct change {
	struct changed_file *v;
	size_t n;
};

/* Finds the work tree dir belongs to; 0 or -1 with a message in err. */
int git_open(struct git *g, const char *dir, char *err, size_t errlen);
/*
 * Runs "git -C top ARGS" with stdin from in (or /dev/null), stdout into
 * out_path or *out (malloc'd, NUL-terminated) or /dev/null; returns git's
 * exit status, with its first line of stderr in err.
 */
int git_run(const struct git *g, const char *const args[], const char *in, const char *out_path,
	    char **out, char *err, size_t errlen);
/* Whether rev names a commit. */
int git_is_commit(const struct git *g, const char *rev);
/* Parses "git diff -U0" output; 0 or -1. */
int change_parse(struct change *c, const char *diff);
/* Whether line of file (relative to the top) is among the changed lines. */
int change_has(const struct change *c, const char *file, unsigned int line);
void change_free(struct change *c);

/* --- the git hook (hook.c) ---------------------------------------------- */

int cmd_install_hook(int argc, char **argv);

#endif
