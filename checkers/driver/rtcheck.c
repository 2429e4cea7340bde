// SPDX-License-Identifier: GPL-2.0
/*
 * rtcheck: the command users run. Finds the build directory and the exact
 * compiler flags of each file, then runs rtcheck-clang on them.
 *
 * Exit status (design.md §3): 0 ok, 1 findings with --werror, 2 usage error,
 * 3 input error, 4 internal error. Errors are one line: "rtcheck: error: ...".
 */
#include "kbuild.h"
#include "errors.h"
#include "presubmit.h"

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] =
	"usage: rtcheck <command> [options]\n"
	"commands:\n"
	"  check [--build DIR] [--format text|json|sarif] [--rules ID,...] [--werror]\n"
	"        [--baseline FILE] [--facts DB | --no-facts] FILE.c...\n"
	"        check files of a configured kernel build directory (default: the\n"
	"        prepared Linux 6.12 PREEMPT_RT tree of rtcheck prepare-tree); with a\n"
	"        facts database (--facts, $RTCHECK_FACTS, or the build's from rtcheck\n"
	"        facts) also the contexts and callees of the other files\n"
	"  facts [--build DIR] [--db FILE] [--jobs N] [PATH...]\n"
	"        build or refresh the build's facts database (a sweep's summaries of\n"
	"        every TU under PATH, default: the whole tree) for check\n"
	"  diff [--build DIR] [--format text|json|sarif] [--rules ID,...] [--werror]\n"
	"       [--baseline FILE] [--max-tus N] [--cached] [REV | A..B | -]\n"
	"        check what a change touches, in the git tree of the current directory:\n"
	"        HEAD (or REV) vs the work tree, --cached: vs the index, A..B: a range,\n"
	"        -: a patch on stdin applied to HEAD; reports only findings on changed\n"
	"        lines or whose chain passes through one; ends with \"total: ...\"\n"
	"  baseline save [--build DIR] [--rules ID,...] [--out FILE]\n"
	"                (FILE.c... | --diff [--cached] [REV | A..B | -])\n"
	"        write the current findings as a baseline for --baseline\n"
	"  install-hook [--pre-push] [--werror] [--force] [--uninstall] [--build DIR]\n"
	"               [--baseline FILE] [TREE]\n"
	"        install (or remove) a git hook running rtcheck diff on the staged\n"
	"        change (pre-push: the pushed commits); blocks only with --werror\n"
	"  sweep [--build DIR] [--jobs N] [--out DIR] [--timeout SEC] [--mem-mb MB]\n"
	"        [--rules ID,...] [PATH...]\n"
	"        check every TU under PATH (default: the whole tree) in parallel;\n"
	"        findings.json, report.txt, failures.txt under --out (./rtcheck-out)\n"
	"  fix [--build DIR] [--dry-run] [--unsafe] [--verify [--verify-build DIR]]\n"
	"      [--rules ID,...] FILE.c...\n"
	"        apply the safe conversions in place (--dry-run: print them as one\n"
	"        unified diff; --unsafe: also apply suggestions; --verify: apply only\n"
	"        the fixes that still compile, also with the flags of --verify-build\n"
	"        (by default the non-RT 6.12 tree), and lose their findings; each\n"
	"        refused fix is a note and makes the exit status 3); findings on stderr\n"
	"  prepare-tree [--version 6.12|6.1] [--config rt|nort]\n"
	"        unpack and configure a Debian linux-source tree; prints its build dir\n"
	"  --help, --version\n"
	"inline suppression, on a finding's line or the line above (docs/presubmit.md):\n"
	"        /* rtcheck: ignore RULE[,RULE]: reason (mandatory) */\n";


/* Where the rtcheck checkout is: the launcher exports RTCHECK_HOME. */
const char *rtcheck_home(void)
{
	const char *h = getenv("RTCHECK_HOME");

	return h && *h ? h : ".";
}

static int wait_status(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A prepared 6.12 tree: "rt" is the default build directory, "nort" the
 * one fixes are verified against too. */
static int default_build(const char *config, char *buf, size_t len)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "'%s/scripts/prepare-tree' --version 6.12 --config %s",
		 rtcheck_home(), config);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	ok = fgets(buf, len, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return -1;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Absolute path of a file argument: as given, or relative to the source root. */
static int resolve_file(const char *arg, const struct kbuild *kb, char *out)
{
	char tmp[PATH_MAX];
	size_t n = strlen(kb->src);
	struct stat st;

	if (!realpath(arg, out)) {
		snprintf(tmp, sizeof(tmp), "%s/%s", kb->src, arg);
		if (arg[0] == '/' || !realpath(tmp, out))
			return die(EXIT_INPUT, "%s: no such file", arg);
	}
	if (stat(out, &st) || !S_ISREG(st.st_mode))
		return die(EXIT_INPUT, "%s: not a regular file", arg);
	if (strncmp(out, kb->src, n) || out[n] != '/')
		return die(EXIT_INPUT, "%s: outside the kernel tree %s", arg, kb->src);
	if (strlen(out) < 3 || strcmp(out + strlen(out) - 2, ".c"))
		return die(EXIT_INPUT, "%s: not a C file", arg);
	return 0;
}

static int cmd_fix(int argc, char **argv)
{
	const char *build = NULL, *format = "text", *rules = NULL;
	char build_buf[PATH_MAX], tmpdir[] = "/tmp/rtcheck.XXXXXX", err[1024];
	char **files, **cargv, fmt_opt[64], root_opt[PATH_MAX + 8], rules_opt[512];
	char tool[PATH_MAX], db[PATH_MAX + 32];
	const char *verify_build = NULL;
	char verify_buf[PATH_MAX], verify_dir[] = "/tmp/rtcheck-verify.XXXXXX", verify_opt[64];
	int verify = 0, verify_failed = 0, build_given;
	int werror = 0, dry_run = 0, unsafe = 0, nfiles = 0, i, n, cargc = 0, failed = 0, written, status, bad_input = 0;
	struct kbuild kb;
	pid_t pid;

	files = calloc(argc + 1, sizeof(*files));
	if (!files)
		return die(EXIT_INTERNAL, "out of memory");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--build") || !strcmp(a, "--format") || !strcmp(a, "--rules")) {
			if (i + 1 == argc)
				return die(EXIT_USAGE, "%s needs a value", a);
			if (!strcmp(a, "--build"))
				build = argv[++i];
			else if (!strcmp(a, "--format"))
				format = argv[++i];
			else
				rules = argv[++i];
		} else if (!strncmp(a, "--build=", 8)) {
			build = a + 8;
		} else if (!strncmp(a, "--format=", 9)) {
			format = a + 9;
		} else if (!strncmp(a, "--rules=", 8)) {
			rules = a + 8;
		} else if (!strcmp(a, "--werror")) {
			werror = 1;
		} else if (!strcmp(a, "--dry-run")) {
			dry_run = 1;
		} else if (!strcmp(a, "--unsafe")) {
			unsafe = 1;
		} else if (!strcmp(a, "--verify")) {
			verify = 1;
		} else if (!strcmp(a, "--verify-build")) {
			if (i + 1 == argc)
				return die(EXIT_USAGE, "%s needs a value", a);
			verify = 1;
			verify_build = argv[++i];
		} else if (a[0] == '-') {
			return die(EXIT_USAGE, "unknown option '%s' (see rtcheck --help)", a);
		} else {
			files[nfiles++] = (char *)a;
		}
	}
	if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "sarif"))
		return die(EXIT_USAGE, "unknown format '%s' (text, json, sarif)", format);
	if (!nfiles)
		return die(EXIT_USAGE, "no input files (see rtcheck --help)");
	build_given = build != NULL;
	if (!build) {
		if (default_build("rt", build_buf, sizeof(build_buf)))
			return die(EXIT_INPUT, "cannot prepare the default tree (scripts/prepare-tree)");
		build = build_buf;
	}
	if (kbuild_locate(build, &kb, err, sizeof(err)))
		return die(EXIT_INPUT, "%s", err);

	/* A bad file is reported and skipped: the others are still checked. */
	for (i = 0, n = 0; i < nfiles; i++) {
		char *abs = malloc(PATH_MAX);

		if (!abs)
			return die(EXIT_INTERNAL, "out of memory");
		if (resolve_file(files[i], &kb, abs)) {
			bad_input = 1;
			free(abs);
			continue;
		}
		files[n++] = abs;
	}
	nfiles = n;
	if (!nfiles)
		return EXIT_INPUT;

	if (!mkdtemp(tmpdir))
		return die(EXIT_INTERNAL, "cannot create a temporary directory: %s", strerror(errno));
	written = kbuild_compile_commands(&kb, files, nfiles, tmpdir, &failed, err, sizeof(err));
	if (written < 0) {
		status = die(EXIT_INTERNAL, "%s", err);
		goto out;
	}
	status = failed || bad_input ? EXIT_INPUT : EXIT_OK;
	if (!written)
		goto out;

	cargv = calloc(nfiles + 12, sizeof(*cargv));
	snprintf(tool, sizeof(tool), "%s/build/rtcheck-clang", rtcheck_home());
	snprintf(fmt_opt, sizeof(fmt_opt), "--format=%s", format);
	snprintf(root_opt, sizeof(root_opt), "--root=%s", kb.src);
	cargv[cargc++] = tool;
	cargv[cargc++] = fmt_opt;
	cargv[cargc++] = root_opt;
	if (rules) {
		snprintf(rules_opt, sizeof(rules_opt), "--rules=%s", rules);
		cargv[cargc++] = rules_opt;
	}
	if (werror)
		cargv[cargc++] = "--werror";
	cargv[cargc++] = dry_run ? "--fix-dry-run" : "--fix";
	if (unsafe)
		cargv[cargc++] = "--unsafe";
	if (verify) {
		struct kbuild other;

		if (!verify_build && !build_given &&
		    !default_build("nort", verify_buf, sizeof(verify_buf)))
			verify_build = verify_buf;
		cargv[cargc++] = "--verify";
		if (verify_build) {
			if (kbuild_locate(verify_build, &other, err, sizeof(err))) {
				status = die(EXIT_INPUT, "%s", err);
				goto out;
			}
			/* a copy: kbuild_compile_commands() clears files it cannot handle */
			char **vfiles = calloc(nfiles, sizeof(*vfiles));

			if (vfiles)
				memcpy(vfiles, files, nfiles * sizeof(*vfiles));
			if (!vfiles || !mkdtemp(verify_dir) ||
			    kbuild_compile_commands(&other, vfiles, nfiles, verify_dir,
						    &verify_failed, err, sizeof(err)) < 0) {
				free(vfiles);
				status = die(EXIT_INTERNAL, "cannot get the flags of %s", verify_build);
				goto out;
			}
			free(vfiles);
			snprintf(verify_opt, sizeof(verify_opt), "--verify-db=%s", verify_dir);
			cargv[cargc++] = verify_opt;
		}
	}
	cargv[cargc++] = "-p";
	cargv[cargc++] = tmpdir;
	for (i = 0; i < nfiles; i++)
		if (files[i])	/* kbuild could not give a command: already reported */
			cargv[cargc++] = files[i];
	pid = fork();
	if (pid == 0) {
		execv(tool, cargv);
		_exit(127);
	}
	i = wait_status(pid);
	if (i == 128 + SIGPIPE)
		status = EXIT_INTERNAL;	/* the reader went away: nothing to say */
	else if (i > 128)
		status = die(EXIT_INTERNAL, "rtcheck-clang was killed by signal %d", i - 128);
	else if (i == 127 || i < 0)
		status = die(EXIT_INTERNAL, "cannot run %s", tool);
	else if (i > status)
		status = i;
	free(cargv);
out:
	if (strcmp(verify_dir, "/tmp/rtcheck-verify.XXXXXX")) {
		snprintf(db, sizeof(db), "%s/compile_commands.json", verify_dir);
		unlink(db);
		snprintf(db, sizeof(db), "%s/kbuild.log", verify_dir);
		unlink(db);
		rmdir(verify_dir);
	}
	snprintf(db, sizeof(db), "%s/compile_commands.json", tmpdir);
	unlink(db);
	snprintf(db, sizeof(db), "%s/kbuild.log", tmpdir);
	unlink(db);
	rmdir(tmpdir);
	return status;
}

/* --- check, diff and baseline save: rtcheck-clang's findings, filtered ---- */

/* Options of check, diff and baseline save. */
struct opts {
	const char *build, *format, *rules, *baseline, *out, *rev, *facts;
	int werror, cached, diff, save, max_tus, no_facts;
	char **files;
	int nfiles;
};

enum { O_CHECK = 1, O_DIFF = 2, O_SAVE = 4, O_SAVE_DIFF = 8 };

static int parse_opts(int argc, char **argv, struct opts *o, int mode)
{
	static const struct {
		const char *name;
		int modes;	/* where it is an option */
		int value;
	} known[] = {
		{ "--build", O_CHECK | O_DIFF | O_SAVE | O_SAVE_DIFF, 1 },
		{ "--format", O_CHECK | O_DIFF, 1 },
		{ "--rules", O_CHECK | O_DIFF | O_SAVE | O_SAVE_DIFF, 1 },
		{ "--baseline", O_CHECK | O_DIFF, 1 },
		{ "--out", O_SAVE | O_SAVE_DIFF, 1 },
		{ "--max-tus", O_DIFF | O_SAVE_DIFF, 1 },
		{ "--werror", O_CHECK | O_DIFF, 0 },
		{ "--cached", O_DIFF | O_SAVE_DIFF, 0 },
		{ "--diff", O_SAVE | O_SAVE_DIFF, 0 },
		{ "--facts", O_CHECK, 1 },
		{ "--no-facts", O_CHECK, 0 },
	};
	const char **slot[] = { &o->build, &o->format, &o->rules, &o->baseline, &o->out };
	const char *maxtus = "20";
	char *endp;
	int i, k;

	memset(o, 0, sizeof(*o));
	o->format = "text";
	o->files = calloc(argc + 1, sizeof(*o->files));
	if (!o->files)
		return die(EXIT_INTERNAL, "out of memory");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		size_t n;

		if (a[0] != '-' || !strcmp(a, "-")) {
			o->files[o->nfiles++] = (char *)a;
			continue;
		}
		for (k = 0; k < (int)(sizeof(known) / sizeof(known[0])); k++) {
			n = strlen(known[k].name);
			if (!strncmp(a, known[k].name, n) && (!a[n] || (a[n] == '=' && known[k].value)))
				break;
		}
		if (k == (int)(sizeof(known) / sizeof(known[0])) || !(known[k].modes & mode))
			return die(EXIT_USAGE, "unknown option '%s' (see rtcheck --help)", a);
		if (known[k].value) {
			if (a[n] == '=')
				val = a + n + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return die(EXIT_USAGE, "%s needs a value", a);
		}
		if (k < 5)
			*slot[k] = val;
		else if (k == 5)
			maxtus = val;
		else if (k == 6)
			o->werror = 1;
		else if (k == 7)
			o->cached = 1;
		else if (k == 8)
			o->diff = 1;
		else if (k == 9)
			o->facts = val;
		else
			o->no_facts = 1;
	}
	if (strcmp(o->format, "text") && strcmp(o->format, "json") && strcmp(o->format, "sarif"))
		return die(EXIT_USAGE, "unknown format '%s' (text, json, sarif)", o->format);
	o->max_tus = (int)strtol(maxtus, &endp, 10);
	if (*endp || o->max_tus < 0)
		return die(EXIT_USAGE, "--max-tus takes a number, not '%s'", maxtus);
	o->save = mode & (O_SAVE | O_SAVE_DIFF);
	return EXIT_OK;
}

static int locate_build(const char *build, struct kbuild *kb)
{
	char buf[PATH_MAX], err[PATH_MAX + 128];

	if (!build) {
		if (default_build("rt", buf, sizeof(buf)))
			return die(EXIT_INPUT, "cannot prepare the default tree (scripts/prepare-tree)");
		build = buf;
	}
	if (kbuild_locate(build, kb, err, sizeof(err)))
		return die(EXIT_INPUT, "%s", err);
	return EXIT_OK;
}

static int on_change(const struct change *ch, const struct finding *f)
{
	size_t k;

	if (change_has(ch, f->where.file, f->where.line))
		return 1;
	for (k = 0; k < f->ncontext; k++)
		if (change_has(ch, f->context[k].file, f->context[k].line))
			return 1;
	return 0;
}

/*
 * The filters every command shares, then the report (or the baseline):
 * suppressions, --baseline, and for diff the changed lines.
 */
static int report(struct findings *fs, struct sources *src, char *const main_files[], int nmain,
		  const struct opts *o, const struct baseline *known, const struct change *ch,
		  const char *root, int status)
{
	size_t i, counts[3];
	FILE *out = stdout;

	findings_sort_unique(fs);
	suppress_apply(fs, src, main_files, nmain, o->rules, status == EXIT_OK);
	if (known)
		baseline_apply(known, fs, src);
	for (i = 0; ch && i < fs->n; i++)
		if (fs->v[i].hidden == SHOWN && !on_change(ch, &fs->v[i]))
			fs->v[i].hidden = OFF_CHANGE;
	findings_sort_unique(fs);
	if (o->save) {
		if (o->out && !(out = fopen(o->out, "w")))
			return die(EXIT_INPUT, "%s: %s", o->out, strerror(errno));
		if (baseline_write(out, fs, src) || (out != stdout && fclose(out)))
			return die(EXIT_INPUT, "%s: write error", o->out ? o->out : "stdout");
		return status;
	}
	findings_emit(stdout, fs, o->format, root);
	if (ch) {
		findings_count(fs, counts);
		fprintf(strcmp(o->format, "text") ? stderr : stdout,
			"total: %zu errors, %zu warnings", counts[RTCHECK_ERROR], counts[RTCHECK_WARNING]);
		if (counts[RTCHECK_NOTE])
			fprintf(strcmp(o->format, "text") ? stderr : stdout, ", %zu notes",
				counts[RTCHECK_NOTE]);
		fputc('\n', strcmp(o->format, "text") ? stderr : stdout);
	}
	if (fflush(stdout) || ferror(stdout))
		return EXIT_INTERNAL;	/* the reader went away: nothing to say */
	if (status == EXIT_OK && o->werror && findings_fail_werror(fs))
		status = EXIT_FINDINGS;
	return status;
}

static int load_baseline(const struct opts *o, struct baseline *b)
{
	char err[PATH_MAX + 256];

	if (o->baseline && baseline_load(b, o->baseline, err, sizeof(err)))
		return die(EXIT_INPUT, "%s", err);
	return EXIT_OK;
}

static void tool_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/build/rtcheck-clang", rtcheck_home());
}

/*
 * A .c file outside the build's source tree, in a git work tree (another
 * checkout of the kernel) whose same path the build has: checked with that
 * path's flags, the tree's text first (all such files in one tree). Returns
 * the path relative to the tree, or NULL.
 */
static const char *in_git_tree(const char *arg, const struct kbuild *kb, struct git *g,
			       char *abs)
{
	char dir[PATH_MAX], err[PATH_MAX + 256], *slash;
	struct git found;
	size_t n;

	if (!realpath(arg, abs) || !strncmp(abs, kb->src, strlen(kb->src)) ||
	    strlen(abs) < 3 || strcmp(abs + strlen(abs) - 2, ".c"))
		return NULL;
	snprintf(dir, sizeof(dir), "%s", abs);
	slash = strrchr(dir, '/');
	*slash = '\0';
	if (git_open(&found, dir, err, sizeof(err)))
		return NULL;
	n = strlen(found.top);
	if (strncmp(abs, found.top, n) || abs[n] != '/' || (g->top[0] && strcmp(g->top, found.top)))
		return NULL;
	snprintf(dir, sizeof(dir), "%s/%s", kb->src, abs + n + 1);
	if (access(dir, F_OK))
		return NULL;
	*g = found;
	return abs + n + 1;
}

/* check FILE.c... and baseline save FILE.c...: whole files. */
static int check_files(int argc, char **argv, int mode)
{
	struct baseline known = { 0 };
	struct findings fs = { 0 };
	struct sources src = { 0 };
	struct layers ly = { { NULL }, 0 };
	struct git g;
	struct opts o;
	struct kbuild kb;
	char tool[PATH_MAX], db[PATH_MAX], **rel;
	int i, n = 0, status, bad_input = 0;

	memset(&g, 0, sizeof(g));

	status = parse_opts(argc, argv, &o, mode);
	if (status)
		return status;
	if (!o.nfiles)
		return die(EXIT_USAGE, "no input files (see rtcheck --help)");
	if ((status = load_baseline(&o, &known)) || (status = locate_build(o.build, &kb)))
		return status;
	rel = calloc(o.nfiles, sizeof(*rel));
	if (!rel)
		return die(EXIT_INTERNAL, "out of memory");
	/* A bad file is reported and skipped: the others are still checked. */
	for (i = 0; i < o.nfiles; i++) {
		char *abs = malloc(PATH_MAX);
		const char *r;

		if (!abs)
			return die(EXIT_INTERNAL, "out of memory");
		r = in_git_tree(o.files[i], &kb, &g, abs);
		if (r) {
			rel[n++] = (char *)r;
			continue;
		}
		if (resolve_file(o.files[i], &kb, abs)) {
			bad_input = 1;
			free(abs);
			continue;
		}
		rel[n++] = abs + strlen(kb.src) + 1;
	}
	if (g.top[0])
		ly.dir[ly.n++] = g.top;
	if (!n)
		return EXIT_INPUT;
	tool_path(tool, sizeof(tool));
	status = analyse(&kb, rel, n, &ly, tool, o.rules, &fs);
	if (status == EXIT_INTERNAL)
		return status;
	if (mode == O_CHECK && !g.top[0] && facts_db(o.facts, o.no_facts, &kb, db, sizeof(db))) {
		int st = facts_findings(&kb, db, rel, n, o.rules, &fs);

		if (st == EXIT_INTERNAL)
			return st;
		if (st > status)
			status = st;
	}
	if (bad_input && status < EXIT_INPUT)
		status = EXIT_INPUT;
	if (g.top[0])
		src.dirs[src.ndirs++] = g.top;
	src.dirs[src.ndirs++] = kb.src;
	status = report(&fs, &src, rel, n, &o, o.baseline ? &known : NULL, NULL, kb.src, status);
	findings_free(&fs);
	sources_free(&src);
	baseline_free(&known);
	return status;
}

static int cmd_check(int argc, char **argv, int save)
{
	return check_files(argc, argv, save ? O_SAVE : O_CHECK);
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

void remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int make_parents(char *path)
{
	char *p;

	for (p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

/* The empty tree: what an unborn HEAD is compared as. */
static int empty_tree(const struct git *g, char *buf, size_t len)
{
	static const char *const args[] = { "hash-object", "-t", "tree", "--stdin", NULL };
	char *out = NULL;
	int status = git_run(g, args, NULL, NULL, &out, NULL, 0);

	if (status || !out) {
		free(out);
		return -1;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(out, "\n"), out);
	free(out);
	return 0;
}

/* diff [REV | A..B | -] and baseline save --diff: the TUs a change touches. */
static int cmd_diff(int argc, char **argv, int save)
{
	char cwd[PATH_MAX], err[PATH_MAX + 512], tmp[] = "/tmp/rtcheck-diff.XXXXXX";
	char newdir[PATH_MAX], index[PATH_MAX], patch[PATH_MAX], base[128], newcommit[512];
	char blob[PATH_MAX + 600];
	char tool[PATH_MAX], path[PATH_MAX * 2], *diff = NULL, **tus = NULL, **headers = NULL;
	char **users = NULL;
	const char *dargs[24], *newrev = NULL, *rev;
	struct baseline known = { 0 };
	struct findings fs = { 0 };
	struct sources src = { 0 };
	struct layers ly = { { NULL }, 0 };
	struct change ch = { 0 };
	struct opts o;
	struct kbuild kb;
	struct git g;
	int status, nd = 0, ntus = 0, nh = 0, nusers = 0, extracted = 0, i;
	size_t k;

	status = parse_opts(argc, argv, &o, save ? O_SAVE_DIFF : O_DIFF);
	if (status)
		return status;
	if (o.nfiles > 1)
		return die(EXIT_USAGE, "diff takes one revision, range or '-', not '%s'", o.files[1]);
	rev = o.nfiles ? o.files[0] : NULL;
	if (rev && !strcmp(rev, "-") && o.cached)
		return die(EXIT_USAGE, "'-' reads a patch from stdin: no --cached");
	if (rev && strstr(rev, "..") && o.cached)
		return die(EXIT_USAGE, "--cached compares the index with one revision, not '%s'", rev);
	if ((status = load_baseline(&o, &known)))
		return status;
	if (!getcwd(cwd, sizeof(cwd)))
		return die(EXIT_INTERNAL, "cannot get the current directory: %s", strerror(errno));
	if (git_open(&g, cwd, err, sizeof(err))) {
		/* outside a git tree: the build's source tree, if it is one */
		if (!o.build)
			return die(EXIT_INPUT, "%s", err);
		if ((status = locate_build(o.build, &kb)))
			return status;
		if (git_open(&g, kb.src, err, sizeof(err)))
			return die(EXIT_INPUT, "%s", err);
	} else {
		snprintf(path, sizeof(path), "%s/include/generated/autoconf.h", g.top);
		if (!o.build && !access(path, F_OK))
			o.build = g.top;	/* an in-tree build */
		if ((status = locate_build(o.build, &kb)))
			return status;
	}
	kb.reuse_records = 1;
	if (!mkdtemp(tmp))
		return die(EXIT_INTERNAL, "cannot create a temporary directory: %s", strerror(errno));
	snprintf(newdir, sizeof(newdir), "%s/new", tmp);

	/* What is compared with what: dargs for git diff, newrev for the new side. */
	dargs[nd++] = "diff";
	dargs[nd++] = "--no-color";
	dargs[nd++] = "--no-ext-diff";
	dargs[nd++] = "--no-textconv";
	dargs[nd++] = "--no-relative";
	dargs[nd++] = "-U0";
	dargs[nd++] = "-M";
	dargs[nd++] = "--src-prefix=a/";
	dargs[nd++] = "--dst-prefix=b/";
	if (!git_is_commit(&g, "HEAD")) {
		if (empty_tree(&g, base, sizeof(base))) {
			status = die(EXIT_INTERNAL, "git hash-object failed");
			goto out;
		}
	} else {
		snprintf(base, sizeof(base), "HEAD");
	}
	if (rev && !strcmp(rev, "-")) {
		/* a patch as checkpatch.pl takes it: applied to HEAD in a scratch index */
		const char *rt[] = { "read-tree", base, NULL };
		const char *ap[] = { "apply", "--cached", "--whitespace=nowarn", patch, NULL };
		FILE *f;
		char buf[65536];
		size_t n;

		snprintf(patch, sizeof(patch), "%s/patch", tmp);
		snprintf(index, sizeof(index), "%s/index", tmp);
		f = fopen(patch, "w");
		while (f && (n = fread(buf, 1, sizeof(buf), stdin)))
			fwrite(buf, 1, n, f);
		if (!f || fclose(f)) {
			status = die(EXIT_INTERNAL, "%s: cannot write the patch", patch);
			goto out;
		}
		g.index = index;
		if (git_run(&g, rt, NULL, NULL, NULL, err, sizeof(err))) {
			status = die(EXIT_INTERNAL, "git read-tree: %s", err);
			goto out;
		}
		if (git_run(&g, ap, NULL, NULL, NULL, err, sizeof(err))) {
			status = die(EXIT_INPUT, "the patch on stdin does not apply to HEAD: %s", err);
			goto out;
		}
		dargs[nd++] = "--cached";
		dargs[nd++] = base;
		newrev = "";
	} else if (rev && strstr(rev, "..")) {
		const char *dots = strstr(rev, ".."), *b = dots + (dots[2] == '.' ? 3 : 2);
		char a[512];

		snprintf(a, sizeof(a), "%.*s", (int)(dots - rev), rev);
		if (!git_is_commit(&g, *a ? a : "HEAD") || !git_is_commit(&g, *b ? b : "HEAD")) {
			status = die(EXIT_INPUT, "'%s': not a range of commits of %s", rev, g.top);
			goto out;
		}
		dargs[nd++] = rev;
		snprintf(newcommit, sizeof(newcommit), "%s", *b ? b : "HEAD");
		newrev = newcommit;
	} else {
		if (rev && !git_is_commit(&g, rev)) {
			status = die(EXIT_INPUT, "'%s': not a commit of %s", rev, g.top);
			goto out;
		}
		if (o.cached)
			dargs[nd++] = "--cached";
		dargs[nd++] = rev ? rev : base;
		newrev = o.cached ? "" : NULL;
	}
	dargs[nd++] = "--";
	dargs[nd] = NULL;
	if ((i = git_run(&g, dargs, NULL, NULL, &diff, err, sizeof(err))) || !diff) {
		status = die(i > 0 ? EXIT_INPUT : EXIT_INTERNAL, "git diff: %s", *err ? err : "failed");
		goto out;
	}
	if (change_parse(&ch, diff)) {
		status = die(EXIT_INTERNAL, "out of memory");
		goto out;
	}

	/* The new versions, when they are not the work tree's files. */
	for (k = 0; newrev && k < ch.n; k++) {
		const char *cat[] = { "cat-file", "blob", blob, NULL };
		char *name = ch.v[k].path;

		if (!ends_with(name, ".c") && !ends_with(name, ".h"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", newdir, name);
		if (make_parents(path)) {
			status = die(EXIT_INTERNAL, "%s: %s", path, strerror(errno));
			goto out;
		}
		snprintf(blob, sizeof(blob), "%s:%s", newrev, name);	/* ":path": the index */
		if (git_run(&g, cat, NULL, path, NULL, err, sizeof(err))) {
			status = die(EXIT_INTERNAL, "git cat-file %s: %s", blob, err);
			goto out;
		}
		extracted = 1;
	}

	/* The TUs: changed .c files, then TUs of the build including changed headers. */
	tus = calloc(ch.n + o.max_tus + 1, sizeof(*tus));
	headers = calloc(ch.n + 1, sizeof(*headers));
	if (!tus || !headers) {
		status = die(EXIT_INTERNAL, "out of memory");
		goto out;
	}
	for (k = 0; k < ch.n; k++) {
		char *name = ch.v[k].path;

		if (ends_with(name, ".h"))
			headers[nh++] = name;
		if (!ends_with(name, ".c") || !strncmp(name, "tools/", 6) ||
		    !strncmp(name, "scripts/", 8))
			continue;
		snprintf(path, sizeof(path), "%s/%s", kb.src, name);
		if (access(path, F_OK)) {
			fprintf(stderr, "rtcheck: note: %s: not in the build's source tree %s: not checked\n",
				name, kb.src);
			continue;
		}
		tus[ntus++] = name;
	}
	if (nh) {
		int added = 0, more = 0, j;

		nusers = kbuild_header_users(&kb, headers, nh, &users);
		if (nusers < 0) {
			status = die(EXIT_INTERNAL, "cannot read the kbuild records of %s", kb.build);
			goto out;
		}
		for (i = 0; i < nusers; i++) {
			for (j = 0; j < ntus && strcmp(tus[j], users[i]); j++)
				;
			if (j < ntus)
				continue;
			if (added == o.max_tus) {
				more++;
				continue;
			}
			tus[ntus++] = users[i];
			added++;
		}
		if (!nusers)
			fprintf(stderr, "rtcheck: note: no kbuild record of %s lists the changed headers: "
				"only changed .c files are checked\n", kb.build);
		/*
		 * A header included with quotes is found beside its includer first:
		 * the includers come from the new side too, to see the new header.
		 */
		for (i = ntus - added; newrev && i < ntus; i++) {
			const char *cat[] = { "cat-file", "blob", blob, NULL };

			snprintf(path, sizeof(path), "%s/%s", newdir, tus[i]);
			snprintf(blob, sizeof(blob), "%s:%s", newrev, tus[i]);
			if (!make_parents(path) && !git_run(&g, cat, NULL, path, NULL, NULL, 0))
				extracted = 1;
			else
				unlink(path);	/* not in git: the work tree's file */
		}
		if (more)
			fprintf(stderr, "rtcheck: note: %d more TUs of %s include the changed headers: "
				"not checked (--max-tus %d)\n", more, kb.build, o.max_tus);
	}
	if (extracted)
		ly.dir[ly.n++] = newdir;
	if (strcmp(g.top, kb.src))
		ly.dir[ly.n++] = g.top;
	src.dirs[src.ndirs++] = newdir;
	if (strcmp(g.top, kb.src))
		src.dirs[src.ndirs++] = g.top;
	src.dirs[src.ndirs++] = kb.src;
	status = EXIT_OK;
	if (ntus) {
		tool_path(tool, sizeof(tool));
		status = analyse(&kb, tus, ntus, &ly, tool, o.rules, &fs);
		if (status == EXIT_INTERNAL)
			goto out;
	}
	status = report(&fs, &src, tus, ntus, &o, o.baseline ? &known : NULL, save ? NULL : &ch,
			kb.src, status);
out:
	remove_tree(tmp);
	for (i = 0; i < nusers; i++)
		free(users[i]);
	free(users);
	free(tus);
	free(headers);
	free(diff);
	change_free(&ch);
	findings_free(&fs);
	sources_free(&src);
	baseline_free(&known);
	return status;
}

static int cmd_baseline(int argc, char **argv)
{
	int i;

	if (argc < 2 || strcmp(argv[1], "save"))
		return die(EXIT_USAGE, "baseline: %s%s%s (see rtcheck --help)",
			   argc < 2 ? "no subcommand" : "unknown subcommand '",
			   argc < 2 ? "" : argv[1], argc < 2 ? "" : "'");
	for (i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--diff"))
			return cmd_diff(argc - 1, argv + 1, 1);
	return cmd_check(argc - 1, argv + 1, 1);
}

static int cmd_prepare_tree(int argc, char **argv)
{
	char script[PATH_MAX];

	snprintf(script, sizeof(script), "%s/scripts/prepare-tree", rtcheck_home());
	argv[0] = script;
	(void)argc;
	execv(script, argv);
	return die(EXIT_INTERNAL, "cannot run %s: %s", script, strerror(errno));
}

static int cmd_sweep(int argc, char **argv)
{
	char sweep[PATH_MAX];

	snprintf(sweep, sizeof(sweep), "%s/build/rtcheck-sweep", rtcheck_home());
	argv[0] = sweep;
	(void)argc;
	execv(sweep, argv);
	return die(EXIT_INTERNAL, "cannot run %s: %s", sweep, strerror(errno));
}

/* facts [--build DIR] [--db FILE] [--jobs N] [PATH...] (facts.c). */
static int cmd_facts(int argc, char **argv)
{
	const char *build = NULL, *db = NULL, *jobs = NULL;
	struct kbuild kb;
	char **paths;
	int i, n = 0, status;

	paths = calloc(argc + 1, sizeof(*paths));
	if (!paths)
		return die(EXIT_INTERNAL, "out of memory");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], **slot = NULL;

		if (!strcmp(a, "--build"))
			slot = &build;
		else if (!strcmp(a, "--db"))
			slot = &db;
		else if (!strcmp(a, "--jobs") || !strcmp(a, "-j"))
			slot = &jobs;
		else if (a[0] == '-')
			return die(EXIT_USAGE, "unknown option '%s' (see rtcheck --help)", a);
		else
			paths[n++] = argv[i];
		if (!slot)
			continue;
		if (i + 1 == argc)
			return die(EXIT_USAGE, "%s needs a value", a);
		*slot = argv[++i];
	}
	if ((status = locate_build(build, &kb)))
		return status;
	return facts_refresh(&kb, db, jobs, paths, n);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return die(EXIT_USAGE, "no command (see rtcheck --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("rtcheck " RTCHECK_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "diff"))
		return cmd_diff(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "baseline"))
		return cmd_baseline(argc - 1, argv + 1);
	if (!strcmp(argv[1], "install-hook"))
		return cmd_install_hook(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fix"))
		return cmd_fix(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sweep"))
		return cmd_sweep(argc - 1, argv + 1);
	if (!strcmp(argv[1], "facts"))
		return cmd_facts(argc - 1, argv + 1);
	if (!strcmp(argv[1], "prepare-tree"))
		return cmd_prepare_tree(argc - 1, argv + 1);
	return die(EXIT_USAGE, "unknown command '%s' (see rtcheck --help)", argv[1]);
}
