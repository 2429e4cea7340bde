// SPDX-License-Identifier: GPL-2.0
/*
 * rtcheck install-hook: a git pre-commit (or pre-push) hook that runs
 * "rtcheck diff --cached" on the staged change (pre-push: on the pushed
 * commits). It warns; it blocks only when installed with --werror. The hook
 * carries a marker line: only a hook with it is replaced or removed without
 * --force; a foreign hook replaced with --force is kept beside it and put
 * back by --uninstall.
 */
#include "presubmit.h"
#include "errors.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOOK_MARKER "# rtcheck-hook: installed by rtcheck install-hook"
#define SAVED_SUFFIX ".rtcheck-orig"

/* Whether path is a hook rtcheck installed. */
static int ours(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = !strncmp(line, HOOK_MARKER, strlen(HOOK_MARKER));
	if (f)
		fclose(f);
	return found;
}

/* Writes s single-quoted for sh. */
static void shell_quote(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	fputc('\'', out);
}

static void write_command(FILE *out, const char *rtcheck, const char *build, const char *baseline,
			  int werror, const char *what)
{
	shell_quote(out, rtcheck);
	fputs(" diff", out);
	if (build) {
		fputs(" --build ", out);
		shell_quote(out, build);
	}
	if (baseline) {
		fputs(" --baseline ", out);
		shell_quote(out, baseline);
	}
	if (werror)
		fputs(" --werror", out);
	fprintf(out, " %s", what);
}

static int write_hook(const char *path, int pre_push, const char *rtcheck, const char *build,
		      const char *baseline, int werror)
{
	char tmp[PATH_MAX + 16];
	FILE *out;

	snprintf(tmp, sizeof(tmp), "%s.rtcheck-new", path);
	out = fopen(tmp, "w");
	if (!out)
		return -1;
	fputs("#!/bin/sh\n" HOOK_MARKER "; \"rtcheck install-hook --uninstall\" removes it.\n", out);
	if (!pre_push) {
		fprintf(out, "# Reports PREEMPT_RT problems the staged change introduces%s.\n",
			werror ? " and blocks the commit on them (git commit --no-verify skips it)" :
				 " (it never blocks the commit)");
		write_command(out, rtcheck, build, baseline, werror, "--cached");
		fputs(werror ? " || exit 1\n" : "\nexit 0\n", out);
	} else {
		fprintf(out, "# Reports PREEMPT_RT problems the pushed commits introduce%s.\n",
			werror ? " and blocks the push on them (git push --no-verify skips it)" :
				 " (it never blocks the push)");
		fputs("status=0\n"
		      "while read -r lref lsha rref rsha; do\n"
		      "\tcase $lsha in *[!0]*) ;; *) continue ;; esac\t# a deleted ref\n"
		      "\tcase $rsha in\n"
		      "\t*[!0]*) range=$rsha..$lsha ;;\n"
		      "\t*)\t# a new branch: the commits no remote has\n"
		      "\t\tfirst=$(git rev-list --reverse \"$lsha\" --not --remotes | head -n 1)\n"
		      "\t\t[ -n \"$first\" ] || continue\n"
		      "\t\trange=$first~1..$lsha ;;\n"
		      "\tesac\n\t", out);
		write_command(out, rtcheck, build, baseline, werror, "\"$range\"");
		fputs(" </dev/null || status=1\ndone\n", out);
		fputs(werror ? "exit $status\n" : "exit 0\n", out);
	}
	if (fclose(out) || chmod(tmp, 0755) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int cmd_install_hook(int argc, char **argv)
{
	const char *tree = ".", *build = NULL, *baseline = NULL;
	int pre_push = 0, werror = 0, force = 0, uninstall = 0, i;
	char err[PATH_MAX + 256], hook[PATH_MAX * 2], saved[PATH_MAX * 2 + 16], rtcheck[PATH_MAX];
	char build_abs[PATH_MAX], baseline_abs[PATH_MAX], *out = NULL;
	const char *home = getenv("RTCHECK_HOME");
	const char *args[] = { "rev-parse", "--git-path", NULL, NULL };
	const char *name;
	struct stat st;
	struct git g;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--pre-push"))
			pre_push = 1;
		else if (!strcmp(a, "--werror"))
			werror = 1;
		else if (!strcmp(a, "--force"))
			force = 1;
		else if (!strcmp(a, "--uninstall"))
			uninstall = 1;
		else if (!strcmp(a, "--build") || !strcmp(a, "--baseline")) {
			if (i + 1 == argc)
				return die(EXIT_USAGE, "%s needs a value", a);
			*(!strcmp(a, "--build") ? &build : &baseline) = argv[++i];
		} else if (a[0] == '-')
			return die(EXIT_USAGE, "unknown option '%s' (see rtcheck --help)", a);
		else if (strcmp(tree, "."))
			return die(EXIT_USAGE, "install-hook takes one tree, not '%s'", a);
		else
			tree = a;
	}
	name = pre_push ? "pre-push" : "pre-commit";
	if (git_open(&g, tree, err, sizeof(err)))
		return die(EXIT_INPUT, "%s", err);
	args[2] = pre_push ? "hooks/pre-push" : "hooks/pre-commit";
	if (git_run(&g, args, NULL, NULL, &out, err, sizeof(err)) || !out) {
		free(out);
		return die(EXIT_INPUT, "%s: git rev-parse --git-path: %s", g.top, err);
	}
	out[strcspn(out, "\n")] = '\0';
	if (out[0] == '/')
		snprintf(hook, sizeof(hook), "%s", out);
	else
		snprintf(hook, sizeof(hook), "%s/%s", g.top, out);
	free(out);
	snprintf(saved, sizeof(saved), "%s" SAVED_SUFFIX, hook);

	if (uninstall) {
		if (lstat(hook, &st)) {
			printf("rtcheck: no %s hook in %s: nothing to remove\n", name, g.top);
			return EXIT_OK;
		}
		if (!ours(hook))
			return die(EXIT_INPUT, "%s: not installed by rtcheck: left as it is", hook);
		if (unlink(hook))
			return die(EXIT_INPUT, "%s: %s", hook, strerror(errno));
		if (!lstat(saved, &st) && !rename(saved, hook))
			printf("rtcheck: removed the %s hook; %s is back\n", name, hook);
		else
			printf("rtcheck: removed the %s hook %s\n", name, hook);
		return EXIT_OK;
	}
	if (!lstat(hook, &st) && !ours(hook)) {
		if (!force)
			return die(EXIT_INPUT, "%s: a %s hook not installed by rtcheck exists "
				   "(--force replaces it and keeps it as %s" SAVED_SUFFIX ")",
				   hook, name, name);
		if (!lstat(saved, &st))
			return die(EXIT_INPUT, "%s: exists already: not replaced", saved);
		if (rename(hook, saved))
			return die(EXIT_INPUT, "%s: %s", hook, strerror(errno));
	}
	snprintf(err, sizeof(err), "%s/rtcheck", home && *home ? home : ".");
	if (!realpath(err, rtcheck))
		return die(EXIT_INTERNAL, "cannot find the rtcheck launcher");
	if (build && !realpath(build, build_abs))
		return die(EXIT_INPUT, "%s: %s", build, strerror(errno));
	if (baseline && !realpath(baseline, baseline_abs))
		return die(EXIT_INPUT, "%s: %s", baseline, strerror(errno));
	snprintf(err, sizeof(err), "%s", hook);
	*strrchr(err, '/') = '\0';
	if (mkdir(err, 0755) && errno != EEXIST)
		return die(EXIT_INPUT, "%s: %s", err, strerror(errno));
	if (write_hook(hook, pre_push, rtcheck, build ? build_abs : NULL,
		       baseline ? baseline_abs : NULL, werror))
		return die(EXIT_INPUT, "%s: cannot write the hook: %s", hook, strerror(errno));
	printf("rtcheck: installed the %s hook %s (%s)\n", name, hook,
	       werror ? "blocks on findings" : "reports, never blocks");
	return EXIT_OK;
}
