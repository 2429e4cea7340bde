/* SPDX-License-Identifier: GPL-2.0 */
/* rtcheck-sweep: the tree-wide run (docs/sweep.md). Shared declarations. */
#ifndef RTCHECK_SWEEP_H
#define RTCHECK_SWEEP_H

#include "kbuild.h"

#include <stddef.h>
#include <sys/types.h>

enum { EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INPUT, EXIT_INTERNAL };

/* A path the user asked for, relative to the source root ("" = whole tree). */
struct sweep_path {
	char *rel;
	int is_dir;
};

enum tu_state { TU_PENDING, TU_RUNNING, TU_OK, TU_FAILED };

/* One translation unit: its compile command, then its result. */
struct tu {
	char *file;		/* absolute source path */
	const char *rel;	/* file relative to the source root (points into file) */
	char *directory;	/* the command's working directory */
	char *command;		/* the shell command line, or NULL: */
	char **args;		/* the argument vector ("arguments" form) */
	size_t nargs;
	char *name;		/* rel with '/' as "__": the name of its outputs in OUT/tu */
	off_t size;		/* of the source: biggest first keeps the workers busy */
	size_t seq;		/* position in the compile commands */

	enum tu_state state;
	pid_t pid;
	double start, seconds;
	int timed_out;
	int retried;		/* run again after kbuild built its object */
	char reason[160];	/* why it failed */
	char *stderr_tail;	/* the last lines rtcheck-clang wrote on stderr */
	int nfindings;		/* lines of its jsonl output */
	int cached;		/* its stored result is still valid: not run again */
};

struct tu_list {
	struct tu *v;
	size_t n, cap;
	const char *origin;	/* "compile_commands.json" or "kbuild (make -n)" */
};

struct sweep {
	struct kbuild kb;
	struct sweep_path *paths;
	size_t npaths;
	char out[PATH_MAX];	/* --out, absolute */
	char tool[PATH_MAX];	/* rtcheck-clang */
	const char *rules;	/* --rules, or NULL */
	int jobs;
	double timeout;		/* seconds per TU, 0: none */
	long mem_mb;		/* RLIMIT_AS per TU, 0: none */
	int build_missing;	/* let kbuild build what TUs miss, then retry them */
	int interrupted;	/* the signal that stopped the sweep, or 0 */
	double started, seconds;
	struct sqlite3 *db;	/* the facts database (db.h) */
	char tool_id[64];	/* rtcheck-clang's size and mtime: a new build re-checks all */
	int shard, nshards;	/* --shard I/N: this run checks the TUs with hash % N == I */
	int outside_tree;	/* --compile-commands: files outside the tree are kept */
	int all_contexts;	/* --all-contexts: propagate over every TU of the database */
	size_t ncached;		/* TUs whose stored result was still valid */
	size_t nxfindings;	/* findings of the cross-TU propagation */
	char xtu_summary[160];	/* what the propagation did, for report.txt */
};

/* tulist.c */
int tus_from_compile_commands(const struct sweep *sw, const char *json_path,
			      struct tu_list *list, char *err, size_t errlen);
int tus_from_kbuild(const struct sweep *sw, struct tu_list *list, char *err, size_t errlen);
/*
 * Builds the objects of tus with kbuild ("make -k dir/file.o ..."), which
 * generates the sources they include that only a build makes (generated
 * headers, tables); 0, or -1 with err when make cannot run.
 */
int kbuild_build_objects(const struct sweep *sw, struct tu *const tus[], size_t n, char *err,
			 size_t errlen);
/* Sorts by path, drops duplicates; writes OUT/compile_commands.json. */
int tus_finish(const struct sweep *sw, struct tu_list *list, char *err, size_t errlen);
void tus_free(struct tu_list *list);
/* Whether rel (relative to the source root) is one of the requested paths. */
int sweep_wants(const struct sweep *sw, const char *rel);

/* run.c: runs every TU_PENDING TU; 0, or -1 with a message in err (cannot fork...). */
int run_tus(struct sweep *sw, struct tu_list *list, char *err, size_t errlen);

/* report.c: findings.json, report.txt, failures.txt; 0 or -1 with err. */
int write_reports(const struct sweep *sw, const struct tu_list *list, size_t *nfindings,
		  char *err, size_t errlen);

/* stages.c: the facts database (at path), the shard, the cross-TU propagation. */
int sweep_open_db(struct sweep *sw, const char *path, char *err, size_t errlen);
void sweep_take_shard(const struct sweep *sw, struct tu_list *list);
int sweep_cross_tu(struct sweep *sw, const struct tu_list *list, char *err, size_t errlen);
void tus_free_one(struct tu *tu);

/* util */
double now_seconds(void);
char *xstrdup(const char *s);
void *xmalloc(size_t n);
int mkdir_p(const char *dir);
/* The whole file (NUL-terminated, *len without it), or NULL with errno. */
char *read_file(const char *path, size_t *len);
/* The next word of a shell command line at *sp, unquoted into buf, or NULL. */
char *shell_word(const char **sp, char *buf, size_t len);

#endif
