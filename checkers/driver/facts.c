// SPDX-License-Identifier: GPL-2.0
/*
 * The facts database in single-file modes (issue 17, docs/facts-db.md): a
 * sweep's database of every TU's summaries (what each function may sleep on,
 * its calls and their contexts, its unserialised per-CPU uses, its
 * registrations) gives "rtcheck check FILE" the contexts and callees of the
 * other files, as smatch's checks consult smatch_db. The checked files are
 * analysed into the database again (when they changed), the sweep's cross-TU
 * propagation runs over all of it, and its findings that are in a checked
 * file, or whose chain passes through one, join the file's own.
 */
#include "presubmit.h"
#include "errors.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

void facts_default_db(const struct kbuild *kb, char *out, size_t len)
{
	const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char name[PATH_MAX];
	size_t i;

	/* One database per build directory: its path, made a file name. */
	snprintf(name, sizeof(name), "%s", kb->build);
	for (i = 0; name[i]; i++)
		if (name[i] == '/')
			name[i] = '_';
	if (cache && *cache)
		snprintf(out, len, "%s/rtcheck/facts/%s.db", cache, name);
	else
		snprintf(out, len, "%s/.cache/rtcheck/facts/%s.db", home ? home : "/tmp", name);
}

/*
 * "rtcheck-sweep --build B --db DB --out OUT --patches=none OPT... -- PATH...":
 * a NULL-terminated argv (malloc'ed), or NULL. sweep is filled in.
 */
static const char **sweep_argv(const struct kbuild *kb, const char *db, const char *out,
			       const char *const opts[], char *const paths[], int n,
			       char sweep[PATH_MAX])
{
	const char **argv = calloc(n + 16, sizeof(*argv));
	int i, k = 0;

	if (!argv)
		return NULL;
	snprintf(sweep, PATH_MAX, "%s/build/rtcheck-sweep", rtcheck_home());
	argv[k++] = sweep;
	argv[k++] = "--build";
	argv[k++] = kb->build;
	argv[k++] = "--db";
	argv[k++] = db;
	argv[k++] = "--out";
	argv[k++] = out;
	argv[k++] = "--patches=none";
	for (i = 0; opts[i] && k < 12; i++)
		argv[k++] = opts[i];
	argv[k++] = "--";
	for (i = 0; i < n; i++)
		argv[k++] = paths[i];
	return argv;
}

int facts_db(const char *opt, int none, const struct kbuild *kb, char *out, size_t len)
{
	const char *env = getenv("RTCHECK_FACTS");

	if (none)
		return 0;
	if (opt || env) {
		snprintf(out, len, "%s", opt ? opt : env);
		return *out != '\0';
	}
	facts_default_db(kb, out, len);
	return access(out, F_OK) == 0;
}

int facts_refresh(const struct kbuild *kb, const char *db, const char *jobs, char *const paths[],
		  int n)
{
	char sweep[PATH_MAX], dbbuf[PATH_MAX], out[PATH_MAX + 8];
	const char *opts[] = { jobs ? "--jobs" : NULL, jobs, NULL }, **argv;

	if (!db) {
		facts_default_db(kb, dbbuf, sizeof(dbbuf));
		db = dbbuf;
	}
	snprintf(out, sizeof(out), "%s", db);
	if (make_parents(out))
		return die(EXIT_INPUT, "%s: %s", db, strerror(errno));
	snprintf(out, sizeof(out), "%s.out", db);
	if (!(argv = sweep_argv(kb, db, out, opts, paths, n, sweep)))
		return die(EXIT_INTERNAL, "out of memory");
	execv(sweep, (char *const *)argv);
	return die(EXIT_INTERNAL, "cannot run %s: %s", sweep, strerror(errno));
}

static int mentions(const json_t *loc, char *const rel[], int n)
{
	const char *file = json_string_value(json_object_get(loc, "file"));
	int i;

	for (i = 0; file && i < n; i++)
		if (!strcmp(file, rel[i]))
			return 1;
	return 0;
}

/* The database's cross-TU findings in or through the files rel[], as a report. */
static int keep_ours(const char *all, const char *ours, char *const rel[], int n)
{
	json_t *doc = json_load_file(all, 0, NULL), *list, *kept = json_array(), *out;
	size_t i, k;
	int ok;

	list = json_object_get(doc, "findings");
	for (i = 0; i < json_array_size(list); i++) {
		json_t *f = json_array_get(list, i), *ctx = json_object_get(f, "context");
		int hit = mentions(f, rel, n);

		if (!json_is_true(json_object_get(f, "cross_tu")))
			continue;	/* the file's own findings come from its own run */
		for (k = 0; !hit && k < json_array_size(ctx); k++)
			hit = mentions(json_array_get(ctx, k), rel, n);
		if (hit)
			json_array_append(kept, f);
	}
	out = json_pack("{s:o}", "findings", kept);
	ok = doc && out && !json_dump_file(out, ours, 0);
	json_decref(out);
	json_decref(doc);
	return ok ? 0 : -1;
}

int facts_findings(const struct kbuild *kb, const char *db, char *const rel[], int n,
		   const char *rules, struct findings *fs)
{
	char dir[] = "/tmp/rtcheck-facts.XXXXXX", sweep[PATH_MAX], all[PATH_MAX + 32];
	char ours[PATH_MAX + 32], err[PATH_MAX + 256], rules_opt[512];
	const char *opts[] = { "--all-contexts", "--jobs=1", rules ? rules_opt : NULL, NULL }, **argv;
	int status = EXIT_OK, wst;
	pid_t pid;

	if (access(db, R_OK | W_OK))
		return die(EXIT_INPUT, "facts database %s: %s (build it with rtcheck facts)", db,
			   strerror(errno));
	if (!mkdtemp(dir))
		return die(EXIT_INTERNAL, "cannot make a temporary directory: %s", strerror(errno));
	if (rules)
		snprintf(rules_opt, sizeof(rules_opt), "--rules=%s", rules);
	if (!(argv = sweep_argv(kb, db, dir, opts, rel, n, sweep)))
		return die(EXIT_INTERNAL, "out of memory");
	pid = fork();
	if (pid < 0)
		return die(EXIT_INTERNAL, "cannot fork: %s", strerror(errno));
	if (!pid) {
		/* Its summary line is not the check's output. */
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execv(sweep, (char *const *)argv);
		_exit(127);
	}
	free(argv);
	if (waitpid(pid, &wst, 0) < 0 || !WIFEXITED(wst) || WEXITSTATUS(wst) == 127) {
		status = die(EXIT_INTERNAL, "cannot run %s", sweep);
		goto out;
	}
	snprintf(all, sizeof(all), "%s/findings.json", dir);
	/* The sweep said why it could not use the database (another schema ...). */
	if (WEXITSTATUS(wst) == EXIT_INPUT && access(all, R_OK)) {
		status = EXIT_INPUT;
		goto out;
	}
	/* A TU that does not compile is the check's own error to report. */
	if (WEXITSTATUS(wst) != EXIT_OK && WEXITSTATUS(wst) != EXIT_INPUT) {
		status = die(EXIT_INTERNAL, "the facts database sweep failed (status %d)",
			     WEXITSTATUS(wst));
		goto out;
	}
	snprintf(ours, sizeof(ours), "%s/ours.json", dir);
	if (keep_ours(all, ours, rel, n) || findings_load(fs, ours, err, sizeof(err)))
		status = die(EXIT_INTERNAL, "facts database: %s", access(all, R_OK) ? all : err);
out:
	remove_tree(dir);
	return status;
}
