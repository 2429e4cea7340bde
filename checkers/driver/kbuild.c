// SPDX-License-Identifier: GPL-2.0
/*
 * Exact compiler flags from kbuild without building: "make foo.i" runs the
 * preprocessor with $(c_flags) and records the command in .foo.i.cmd, at the
 * cost of one preprocessing per file and one kbuild start for all of them.
 */
#include "kbuild.h"
#include "errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


static int exists(const char *dir, const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* Value of a CONFIG_ option in .config, or NULL. */
static char *config_value(const char *build, const char *opt, char *buf, size_t len)
{
	char path[PATH_MAX], line[512];
	size_t n = strlen(opt);
	FILE *f;
	char *ret = NULL;

	snprintf(path, sizeof(path), "%s/.config", build);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, opt, n) == 0 && line[n] == '=') {
			snprintf(buf, len, "%s", line + n + 1);
			buf[strcspn(buf, "\n")] = '\0';
			ret = buf;
			break;
		}
	}
	fclose(f);
	return ret;
}

int kbuild_locate(const char *dir, struct kbuild *kb, char *err, size_t errlen)
{
	char val[64];

	memset(kb, 0, sizeof(*kb));
	if (!realpath(dir, kb->build))
		return failf(err, errlen, "%s: %s", dir, strerror(errno));
	if (!exists(kb->build, ".config") || !exists(kb->build, "Makefile"))
		return failf(err, errlen, "%s: not a configured kernel build directory (no .config)", dir);
	/* kbuild links O= directories to their source tree. */
	if (exists(kb->build, "source/include/linux/kconfig.h")) {
		char link[PATH_MAX];

		snprintf(link, sizeof(link), "%s/source", kb->build);
		if (!realpath(link, kb->src))
			return failf(err, errlen, "%s: %s", link, strerror(errno));
	} else if (exists(kb->build, "include/linux/kconfig.h")) {
		memcpy(kb->src, kb->build, sizeof(kb->src));
	} else {
		return failf(err, errlen, "%s: not a kernel build directory (no source tree)", dir);
	}
	if (!exists(kb->build, "include/generated/autoconf.h"))
		return failf(err, errlen, "%s: not prepared (run make prepare, or rtcheck prepare-tree)", dir);
	if (config_value(kb->build, "CONFIG_CC_IS_CLANG", val, sizeof(val)) && !strcmp(val, "y") &&
	    config_value(kb->build, "CONFIG_CLANG_VERSION", val, sizeof(val)))
		snprintf(kb->llvm, sizeof(kb->llvm), "-%d", atoi(val) / 10000);
	return 0;
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* The command recorded in a .cmd file ("savedcmd_X := ..." or "cmd_X := ..."). */
static char *read_cmd_record(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *ret = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	if (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " := ");

		if (sep && (!strncmp(line, "savedcmd_", 9) || !strncmp(line, "cmd_", 4))) {
			ret = strdup(sep + 4);
			ret[strcspn(ret, "\n")] = '\0';
		}
	}
	free(line);
	fclose(f);
	return ret;
}

/* Runs argv with stdout/stderr to log; returns the exit status or -1. */
static int run_logged(char *const argv[], const char *log)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		FILE *f = fopen(log, "w");

		if (f) {
			dup2(fileno(f), 1);
			dup2(fileno(f), 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The first line of log that says "error", for a one-line message. */
static void first_error(const char *log, char *buf, size_t len)
{
	FILE *f = fopen(log, "r");
	char line[1024];

	snprintf(buf, len, "see %s", log);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "error")) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s", line);
			break;
		}
	}
	fclose(f);
}

int kbuild_compile_commands(const struct kbuild *kb, char *files[], int nfiles,
			    const char *out_dir, int *failed, char *err, size_t errlen)
{
	size_t srclen = strlen(kb->src);
	char **argv = calloc(nfiles + 8, sizeof(*argv));
	char **targets = calloc(nfiles, sizeof(*targets));
	char cflag[PATH_MAX + 4], oflag[PATH_MAX + 4], llvm[32], log[PATH_MAX], json[PATH_MAX];
	int argc = 0, i, status, written = 0, ret = -1;
	FILE *out = NULL;

	if (!argv || !targets)
		return failf(err, errlen, "out of memory");
	snprintf(cflag, sizeof(cflag), "%s", kb->src);
	snprintf(oflag, sizeof(oflag), "O=%s", kb->build);
	argv[argc++] = "make";
	argv[argc++] = "-s";
	argv[argc++] = "-k";	/* one bad file does not stop the others */
	argv[argc++] = "-C";
	argv[argc++] = cflag;
	if (strcmp(kb->src, kb->build))
		argv[argc++] = oflag;
	if (kb->llvm[0]) {
		snprintf(llvm, sizeof(llvm), "LLVM=%s", kb->llvm);
		argv[argc++] = llvm;
	}
	for (i = 0; i < nfiles; i++) {
		const char *rel = files[i] + srclen + 1;	/* inside src: resolve_file() */
		size_t n = strlen(rel);

		targets[i] = malloc(n + 1);
		memcpy(targets[i], rel, n - 1);	/* foo.c -> foo.i */
		memcpy(targets[i] + n - 1, "i", 2);
		argv[argc++] = targets[i];
	}
	snprintf(log, sizeof(log), "%s/kbuild.log", out_dir);
	status = run_logged(argv, log);
	if (status < 0) {
		failf(err, errlen, "cannot run make: %s", strerror(errno));
		goto out;
	}
	snprintf(json, sizeof(json), "%s/compile_commands.json", out_dir);
	out = fopen(json, "w");
	if (!out) {
		failf(err, errlen, "%s: %s", json, strerror(errno));
		goto out;
	}
	fputs("[\n", out);
	for (i = 0; i < nfiles; i++) {
		char record[PATH_MAX], ipath[PATH_MAX], *cmd, *slash;

		/* dir/.foo.i.cmd beside dir/foo.i in the build directory */
		snprintf(ipath, sizeof(ipath), "%s/%s", kb->build, targets[i]);
		slash = strrchr(ipath, '/');
		*slash = '\0';
		snprintf(record, sizeof(record), "%s/.%s.cmd", ipath, slash + 1);
		*slash = '/';
		cmd = read_cmd_record(record);
		if (!cmd) {
			char first[512];

			first_error(log, first, sizeof(first));
			fprintf(stderr, "rtcheck: error: %s: kbuild cannot compile it: %s\n",
				files[i] + srclen + 1, first);
			(*failed)++;
			files[i] = NULL;
			continue;
		}
		unlink(ipath);	/* the preprocessed output is not needed */
		fputs(written++ ? ",\n {\"directory\": " : " {\"directory\": ", out);
		json_string(out, kb->build);
		fputs(", \"file\": ", out);
		json_string(out, files[i]);
		fputs(", \"command\": ", out);
		json_string(out, cmd);
		fputs("}", out);
		free(cmd);
	}
	fputs("\n]\n", out);
	ret = written;
out:
	if (out && fclose(out) && ret == 0)
		ret = failf(err, errlen, "%s: write error", json);
	for (i = 0; i < nfiles; i++)
		free(targets[i]);
	free(targets);
	free(argv);
	return ret;
}
