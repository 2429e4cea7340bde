// SPDX-License-Identifier: GPL-2.0
/*
 * rtcheck-sweep: "rtcheck sweep", the tree-wide run (docs/sweep.md).
 *
 * Lists the translation units under the requested paths with their exact
 * compiler commands (compile_commands.json, or kbuild's "make -n"), runs
 * rtcheck-clang on each of them in parallel under time and memory limits,
 * and writes findings.json, report.txt, failures.txt, rtcheck.sarif and
 * report.html under --out.
 *
 * Exit status (design.md §3): 0 ok (failed TUs do not fail the sweep),
 * 2 usage error, 3 input error (no build dir, no TU, every TU failed),
 * 4 internal error. Errors are one line: "rtcheck: error: ...".
 */
#include "sweep.h"
#include "db.h"
#include "errors.h"
#include "outputs.h"
#include "patches.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: rtcheck sweep [--build DIR] [--jobs N] [--out DIR] [--timeout SEC]\n"
	"                     [--mem-mb MB] [--rules ID,...] [--db FILE] [--fresh]\n"
	"                     [--shard I/N] [--compile-commands FILE] [PATH...]\n"
	"       rtcheck sweep merge [--build DIR] [--out DIR] SHARD.db...\n"
	"Checks every translation unit under PATH (directories or .c files relative to\n"
	"the kernel source root; default: the whole tree) and writes findings.json,\n"
	"report.txt, failures.txt, rtcheck.sarif, report.html and patches/ under --out.\n"
	"  --build DIR     configured kernel build directory (default: the prepared\n"
	"                  Linux 6.12 PREEMPT_RT tree of rtcheck prepare-tree)\n"
	"  --jobs N, -j N  parallel TUs (default: the number of CPUs)\n"
	"  --out DIR       output directory (default: ./rtcheck-out)\n"
	"  --timeout SEC   wall-time limit per TU (decimals allowed), 0: none\n"
	"                  (default: 300)\n"
	"  --mem-mb MB     address-space limit per TU, 0: none (default: 4096)\n"
	"  --rules ID,...  run only these rules\n"
	"  --no-build      do not let kbuild build the objects of TUs that miss a\n"
	"                  generated file, to check them again (see docs/sweep.md)\n"
	"  --list          only list the TUs (and write DIR/compile_commands.json)\n"
	"  --db FILE       the facts database (default: DIR/rtcheck.db); a TU whose\n"
	"                  command and files are unchanged since it was stored there\n"
	"                  is not analysed again\n"
	"  --fresh         analyse every TU again, whatever the database holds\n"
	"  --all-contexts  follow contexts and callees through every TU the database\n"
	"                  holds, not only the TUs of PATH (rtcheck check --facts)\n"
	"  --shard I/N     check only the I-th of N parts of the TUs (0 <= I < N);\n"
	"                  'rtcheck sweep merge' joins the parts' databases\n"
	"  --compile-commands FILE  take the TUs from this compilation database; its\n"
	"                  files outside the tree (external modules) are kept\n"
	"  --patches=auto|all|none  the fixes written as patch series under\n"
	"                  OUT/patches/: auto ones (default), suggestions too, none\n"
	"  --patch-from='Name <email>'  their From: (default: git config user.*)\n";

static const char *const known_rules[] = {
#define RTCHECK_RULE(cls, id, severity, title) id,
#include "rtcheck/rules.def"
#undef RTCHECK_RULE
};


/* Where the rtcheck checkout is: the launcher exports RTCHECK_HOME. */
static void find_home(char *home, size_t len, const char *exe_dir)
{
	const char *h = getenv("RTCHECK_HOME");

	if (h && *h)
		snprintf(home, len, "%s", h);
	else
		snprintf(home, len, "%s/..", exe_dir);	/* build/rtcheck-sweep */
}

/* The default build directory: prepare-tree's output for 6.12 rt. */
static int default_build(const char *home, char *buf, size_t len)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "'%s/scripts/prepare-tree' --version 6.12 --config rt", home);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	ok = fgets(buf, len, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int parse_long(const char *opt, const char *val, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(val, &end, 10);
	if (!*val || *end || errno)
		return die(EXIT_USAGE, "%s: '%s' is not a number", opt, val);
	if (v < min || v > max)
		return die(EXIT_USAGE, "%s: %ld is out of range (%ld..%ld)", opt, v, min, max);
	*out = v;
	return 0;
}

static int parse_seconds(const char *opt, const char *val, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(val, &end);
	if (!*val || *end || errno || v != v)
		return die(EXIT_USAGE, "%s: '%s' is not a number of seconds", opt, val);
	if (v < 0 || v > 7 * 86400)
		return die(EXIT_USAGE, "%s: %s is out of range (0..604800)", opt, val);
	*out = v;
	return 0;
}

static int check_rules(const char *rules)
{
	char *copy = xstrdup(rules), *save = NULL, *id;
	size_t i;

	for (id = strtok_r(copy, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(known_rules) / sizeof(known_rules[0]); i++)
			if (!strcmp(id, known_rules[i]))
				break;
		if (i == sizeof(known_rules) / sizeof(known_rules[0])) {
			die(EXIT_USAGE, "unknown rule '%s'", id);
			free(copy);
			return -1;
		}
	}
	free(copy);
	return 0;
}

/* A PATH argument: relative to the source root (or, failing that, to the
 * current directory), or absolute; inside the tree; a directory or a .c file. */
static int add_path(struct sweep *sw, const char *arg, int *whole_tree)
{
	size_t srclen = strlen(sw->kb.src);
	char joined[PATH_MAX], abs[PATH_MAX];
	struct sweep_path *p;
	struct stat st;
	int found;

	snprintf(joined, sizeof(joined), "%s/%s", sw->kb.src, arg);
	found = arg[0] != '/' && realpath(joined, abs);
	if (!found)
		found = realpath(arg, abs) != NULL;
	if (!found)
		return die(EXIT_INPUT, "%s: no such file or directory in %s", arg, sw->kb.src);
	if (strncmp(abs, sw->kb.src, srclen) || (abs[srclen] != '/' && abs[srclen]))
		return die(EXIT_INPUT, "%s: outside the kernel tree %s", arg, sw->kb.src);
	if (stat(abs, &st))
		return die(EXIT_INPUT, "%s: %s", arg, strerror(errno));
	if (!S_ISDIR(st.st_mode) &&
	    !(S_ISREG(st.st_mode) && strlen(abs) > 2 && !strcmp(abs + strlen(abs) - 2, ".c")))
		return die(EXIT_INPUT, "%s: not a directory or a .c file", arg);
	if (!abs[srclen]) {
		*whole_tree = 1;	/* the source root */
		return 0;
	}
	p = &sw->paths[sw->npaths++];
	p->rel = xstrdup(abs + srclen + 1);
	p->is_dir = S_ISDIR(st.st_mode);
	return 0;
}

/*
 * Some TUs include files that only a build generates (security/selinux's
 * flask.h, drivers/scsi's scsi_devinfo_tbl.c): kbuild builds their objects,
 * which makes those files, and they are checked again.
 */
static int retry_missing(struct sweep *sw, struct tu_list *list)
{
	struct tu **retry = xmalloc((list->n + 1) * sizeof(*retry));
	char err[1024];
	size_t n = 0, i;
	int status = EXIT_OK;

	for (i = 0; i < list->n; i++) {
		struct tu *tu = &list->v[i];

		if (tu->state == TU_FAILED && !tu->timed_out && tu->stderr_tail &&
		    strstr(tu->stderr_tail, "file not found"))
			retry[n++] = tu;
	}
	if (!n)
		goto out;
	if (isatty(2))
		fprintf(stderr, "rtcheck: sweep: %zu TUs miss a generated file: kbuild builds "
			"their objects, then they are checked again\n", n);
	if (kbuild_build_objects(sw, retry, n, err, sizeof(err))) {
		status = die(EXIT_INTERNAL, "%s", err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		free(retry[i]->stderr_tail);
		retry[i]->stderr_tail = NULL;
		retry[i]->reason[0] = '\0';
		retry[i]->state = TU_PENDING;
		retry[i]->retried = 1;
	}
	if (run_tus(sw, list, err, sizeof(err)))
		status = die(EXIT_INTERNAL, "%s", err);
out:
	free(retry);
	return status;
}

/* rtcheck sweep merge: the shards' databases into --out's, then one report. */
static int merge_shards(struct sweep *sw, const struct patch_opts *popts, char **shards, int n,
			struct tu_list *list)
{
	char err[1024];
	size_t nfindings = 0;

	if (db_merge(sw->db, shards, n, err, sizeof(err)))
		return die(EXIT_INPUT, "%s", err);
	if (db_list_tus(sw->db, sw->kb.src, list, err, sizeof(err)) ||
	    sweep_cross_tu(sw, list, err, sizeof(err)))
		return die(EXIT_INTERNAL, "%s", err);
	sw->ncached = list->n;
	sw->seconds = now_seconds() - sw->started;
	if (write_reports(sw, list, &nfindings, err, sizeof(err)) ||
	    write_sweep_sarif(sw, list, err, sizeof(err)) ||
	    write_sweep_html(sw, list, err, sizeof(err)) ||
	    write_patches(sw, popts, err, sizeof(err)))
		return die(EXIT_INTERNAL, "%s", err);
	printf("rtcheck: sweep merge: %d shard%s, %zu TUs, %zu findings (%zu across TUs): "
	       "%s/report.txt\n", n, n == 1 ? "" : "s", list->n, nfindings, sw->nxfindings, sw->out);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *build = NULL, *out = "rtcheck-out";
	char build_buf[PATH_MAX], home[PATH_MAX], exe[PATH_MAX], err[1024], ccjson[PATH_MAX + 32];
	char tudir[PATH_MAX + 8];
	char **args = argv + 1;	/* the PATHs, compacted in place */
	struct sweep sw;
	struct tu_list list = { 0 };
	struct patch_opts popts = { PATCHES_AUTO, NULL };
	size_t nfindings = 0, nfailed = 0, ok = 0, npaths = 0, i;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN), mem_mb = 4096, v;
	double timeout = 300;
	int nargs = 0, status = EXIT_OK, whole_tree = 0, list_only = 0, build_missing = 1;
	int fresh = 0, merge = 0;
	const char *db_path = NULL, *compile_commands = NULL;
	char db_buf[PATH_MAX + 16];
	ssize_t n;

	memset(&sw, 0, sizeof(sw));
	if (jobs < 1)
		jobs = 1;
	for (i = 1; i < (size_t)argc; i++) {
		const char *a = argv[i], *val = NULL, *eq;
		char name[32];

		if (!strcmp(a, "--")) {
			for (i++; i < (size_t)argc; i++)
				args[nargs++] = argv[i];
			break;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage, stdout);
			return EXIT_OK;
		}
		if (!strcmp(a, "--version")) {
			puts("rtcheck " RTCHECK_VERSION);
			return EXIT_OK;
		}
		if (!strcmp(a, "--list")) {
			list_only = 1;
			continue;
		}
		if (!strcmp(a, "--no-build")) {
			build_missing = 0;
			continue;
		}
		if (!strcmp(a, "--fresh")) {
			fresh = 1;
			continue;
		}
		if (!strcmp(a, "--all-contexts")) {
			sw.all_contexts = 1;
			continue;
		}
		if (i == 1 && !strcmp(a, "merge")) {
			merge = 1;
			continue;
		}
		switch (patches_option(&popts, argc, argv, &i)) {	/* --patches, --patch-from */
		case -1:
			return EXIT_USAGE;
		case 1:
			continue;
		}
		if (a[0] != '-' || !a[1]) {
			args[nargs++] = argv[i];
			continue;
		}
		/* -j N, -jN, --opt VALUE, --opt=VALUE */
		if (!strncmp(a, "-j", 2) && a[2] != '-') {
			snprintf(name, sizeof(name), "--jobs");
			val = a[2] ? a + 2 : NULL;
		} else {
			eq = strchr(a, '=');
			snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - a : (long)strlen(a)), a);
			val = eq ? eq + 1 : NULL;
		}
		if (strcmp(name, "--build") && strcmp(name, "--jobs") && strcmp(name, "--out") &&
		    strcmp(name, "--timeout") && strcmp(name, "--mem-mb") && strcmp(name, "--rules") &&
		    strcmp(name, "--db") && strcmp(name, "--shard") &&
		    strcmp(name, "--compile-commands"))
			return die(EXIT_USAGE, "unknown option '%s' (see rtcheck sweep --help)", a);
		if (!val) {
			if (i + 1 == (size_t)argc)
				return die(EXIT_USAGE, "%s needs a value", name);
			val = argv[++i];
		}
		if (!strcmp(name, "--build")) {
			build = val;
		} else if (!strcmp(name, "--db")) {
			db_path = val;
		} else if (!strcmp(name, "--compile-commands")) {
			compile_commands = val;
			sw.outside_tree = 1;
		} else if (!strcmp(name, "--shard")) {
			char *slash;
			long idx;

			if (!(slash = strchr(val, '/')))
				return die(EXIT_USAGE, "--shard: '%s' is not I/N", val);
			*slash = '\0';
			if (parse_long("--shard N", slash + 1, 1, 1 << 20, &v) ||
			    parse_long("--shard I", val, 0, v - 1, &idx))
				return EXIT_USAGE;
			sw.shard = idx;
			sw.nshards = v;
		} else if (!strcmp(name, "--out")) {
			if (!*val)
				return die(EXIT_USAGE, "--out needs a directory");
			out = val;
		} else if (!strcmp(name, "--rules")) {
			if (check_rules(val))
				return EXIT_USAGE;
			sw.rules = val;
		} else if (!strcmp(name, "--jobs")) {
			if (parse_long(name, val, 1, 1024, &v))
				return EXIT_USAGE;
			jobs = v;
		} else if (!strcmp(name, "--timeout")) {
			if (parse_seconds(name, val, &timeout))
				return EXIT_USAGE;
		} else {
			if (parse_long(name, val, 0, 1L << 30, &v))
				return EXIT_USAGE;
			if (v && v < 256)
				return die(EXIT_USAGE, "--mem-mb: %ld MB is too little for clang "
					   "(at least 256, or 0 for no limit)", v);
			mem_mb = v;
		}
	}
	sw.jobs = jobs;
	sw.timeout = timeout;
	sw.mem_mb = mem_mb;
	sw.build_missing = build_missing;

	/* rtcheck-clang sits beside us in build/. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return die(EXIT_INTERNAL, "cannot find my own executable: %s", strerror(errno));
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(sw.tool, sizeof(sw.tool), "%s/rtcheck-clang", exe);
	if (access(sw.tool, X_OK))
		return die(EXIT_INTERNAL, "%s: %s (build rtcheck first)", sw.tool, strerror(errno));
	find_home(home, sizeof(home), exe);

	if (!build) {
		if (default_build(home, build_buf, sizeof(build_buf)))
			return die(EXIT_INPUT, "cannot prepare the default tree (scripts/prepare-tree)");
		build = build_buf;
	}
	if (kbuild_locate(build, &sw.kb, err, sizeof(err)))
		return die(EXIT_INPUT, "%s", err);

	sw.paths = xmalloc((nargs + 1) * sizeof(*sw.paths));
	if (merge && !nargs)
		return die(EXIT_USAGE, "sweep merge: no shard database given");
	for (i = 0; !merge && i < (size_t)nargs; i++) {
		if (add_path(&sw, args[i], &whole_tree)) {
			status = EXIT_INPUT;
			goto out;
		}
	}
	npaths = sw.npaths;
	if (whole_tree)
		sw.npaths = 0;

	if (mkdir_p(out) || !realpath(out, sw.out)) {
		status = die(EXIT_INPUT, "%s: cannot create the output directory: %s", out,
			     strerror(errno));
		goto out;
	}
	if (!strcmp(sw.out, sw.kb.build) || !strcmp(sw.out, sw.kb.src)) {
		status = die(EXIT_USAGE, "--out %s: not the build or source directory itself", out);
		goto out;
	}
	snprintf(tudir, sizeof(tudir), "%s/tu", sw.out);
	if (mkdir_p(tudir)) {
		status = die(EXIT_INPUT, "%s: %s", tudir, strerror(errno));
		goto out;
	}

	if (!db_path) {
		snprintf(db_buf, sizeof(db_buf), "%s/rtcheck.db", sw.out);
		db_path = db_buf;
	}
	if (sweep_open_db(&sw, db_path, err, sizeof(err))) {
		status = die(EXIT_INPUT, "%s", err);
		goto out;
	}
	sw.started = now_seconds();
	if (merge) {
		status = merge_shards(&sw, &popts, args, nargs, &list);
		goto out;
	}
	snprintf(ccjson, sizeof(ccjson), "%s/compile_commands.json", sw.kb.build);
	if (compile_commands && access(compile_commands, R_OK))
		return die(EXIT_INPUT, "%s: %s", compile_commands, strerror(errno));
	if (compile_commands)
		snprintf(ccjson, sizeof(ccjson), "%s", compile_commands);
	if (access(ccjson, R_OK) == 0 ?
	    tus_from_compile_commands(&sw, ccjson, &list, err, sizeof(err)) :
	    tus_from_kbuild(&sw, &list, err, sizeof(err))) {
		status = die(EXIT_INPUT, "%s", err);
		goto out;
	}
	if (tus_finish(&sw, &list, err, sizeof(err))) {
		status = die(EXIT_INTERNAL, "%s", err);
		goto out;
	}
	if (!list.n) {
		status = die(EXIT_INPUT, "no translation unit to check (commands from %s)",
			     list.origin);
		if (!list_only) {	/* empty reports: no stale ones */
			write_reports(&sw, &list, &nfindings, err, sizeof(err));
			write_sweep_sarif(&sw, &list, err, sizeof(err));
			write_sweep_html(&sw, &list, err, sizeof(err));
		}
		goto out;
	}
	if (list_only) {
		for (i = 0; i < list.n; i++)
			puts(list.v[i].rel);
		goto out;
	}
	sweep_take_shard(&sw, &list);
	if (!fresh)
		sw.ncached = db_mark_cached(&sw, &list);
	if (isatty(2))
		fprintf(stderr, "rtcheck: sweep: %zu TUs (commands from %s in %.1f s), %zu unchanged,"
			" %d jobs\n", list.n, list.origin, now_seconds() - sw.started, sw.ncached,
			sw.jobs);

	if (run_tus(&sw, &list, err, sizeof(err)))
		status = die(EXIT_INTERNAL, "%s", err);
	else if (!sw.interrupted && sw.build_missing)
		status = retry_missing(&sw, &list);
	if (!status && sweep_cross_tu(&sw, &list, err, sizeof(err)))
		status = die(EXIT_INTERNAL, "%s", err);
	sw.seconds = now_seconds() - sw.started;
	if (write_reports(&sw, &list, &nfindings, err, sizeof(err)) ||
	    write_sweep_sarif(&sw, &list, err, sizeof(err)) ||
	    write_sweep_html(&sw, &list, err, sizeof(err)) ||
	    write_patches(&sw, &popts, err, sizeof(err))) {
		status = die(EXIT_INTERNAL, "%s", err);
		goto out;
	}
	if (status)
		goto out;
	if (sw.interrupted) {
		status = die(128 + sw.interrupted, "interrupted: partial report in %s/report.txt",
			     sw.out);
		goto out;
	}
	for (i = 0; i < list.n; i++) {
		ok += list.v[i].state == TU_OK;
		nfailed += list.v[i].state == TU_FAILED;
	}
	printf("rtcheck: sweep: %zu TUs, %zu analysed, %zu unchanged, %zu failed, %zu finding%s"
	       " (%zu across TUs) in %.1f s: %s/report.txt\n", list.n, ok - sw.ncached, sw.ncached,
	       nfailed, nfindings, nfindings == 1 ? "" : "s", sw.nxfindings, sw.seconds, sw.out);
	fflush(stdout);
	if (!ok)
		status = die(EXIT_INPUT, "every TU failed (see %s/failures.txt)", sw.out);
out:
	if (sw.db)
		db_close(sw.db);
	tus_free(&list);
	for (i = 0; i < npaths; i++)
		free(sw.paths[i].rel);
	free(sw.paths);
	return status;
}
