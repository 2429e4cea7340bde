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

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INPUT, EXIT_INTERNAL };

static const char usage[] =
	"usage: rtcheck <command> [options]\n"
	"commands:\n"
	"  check [--build DIR] [--format text|json|sarif] [--rules ID,...] [--werror] FILE.c...\n"
	"        check files of a configured kernel build directory (default: the\n"
	"        prepared Linux 6.12 PREEMPT_RT tree of rtcheck prepare-tree)\n"
	"  sweep [--build DIR] [--jobs N] [--out DIR] [--timeout SEC] [--mem-mb MB]\n"
	"        [--rules ID,...] [PATH...]\n"
	"        check every TU under PATH (default: the whole tree) in parallel;\n"
	"        findings.json, report.txt, failures.txt under --out (./rtcheck-out)\n"
	"  fix [--build DIR] [--dry-run] [--unsafe] [--verify [--verify-build DIR]]\n"
	"      [--rules ID,...] FILE.c...\n"
	"        apply the safe conversions in place (--dry-run: print them as one\n"
	"        unified diff; --unsafe: also apply suggestions; --verify: write only\n"
	"        files that still compile, also with the flags of --verify-build (by\n"
	"        default the non-RT 6.12 tree), and lose the fixed findings);\n"
	"        findings on stderr\n"
	"  prepare-tree [--version 6.12|6.1] [--config rt|nort]\n"
	"        unpack and configure a Debian linux-source tree; prints its build dir\n"
	"  --help, --version\n";


/* Where the rtcheck checkout is: the launcher exports RTCHECK_HOME. */
static const char *home(void)
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
		 home(), config);
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

static int cmd_check(int argc, char **argv, int fix)
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
		} else if (fix && !strcmp(a, "--dry-run")) {
			dry_run = 1;
		} else if (fix && !strcmp(a, "--unsafe")) {
			unsafe = 1;
		} else if (fix && !strcmp(a, "--verify")) {
			verify = 1;
		} else if (fix && !strcmp(a, "--verify-build")) {
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
	snprintf(tool, sizeof(tool), "%s/build/rtcheck-clang", home());
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
	if (fix)
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

static int cmd_prepare_tree(int argc, char **argv)
{
	char script[PATH_MAX];

	snprintf(script, sizeof(script), "%s/scripts/prepare-tree", home());
	argv[0] = script;
	(void)argc;
	execv(script, argv);
	return die(EXIT_INTERNAL, "cannot run %s: %s", script, strerror(errno));
}

static int cmd_sweep(int argc, char **argv)
{
	char sweep[PATH_MAX];

	snprintf(sweep, sizeof(sweep), "%s/build/rtcheck-sweep", home());
	argv[0] = sweep;
	(void)argc;
	execv(sweep, argv);
	return die(EXIT_INTERNAL, "cannot run %s: %s", sweep, strerror(errno));
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
	if (!strcmp(argv[1], "fix"))
		return cmd_check(argc - 1, argv + 1, 1);
	if (!strcmp(argv[1], "sweep"))
		return cmd_sweep(argc - 1, argv + 1);
	if (!strcmp(argv[1], "prepare-tree"))
		return cmd_prepare_tree(argc - 1, argv + 1);
	return die(EXIT_USAGE, "unknown command '%s' (see rtcheck --help)", argv[1]);
}
