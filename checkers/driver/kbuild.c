// SPDX-License-Identifier: GPL-2.0
/*
 * Exact compiler flags from kbuild without building: "make foo.i" runs the
 * preprocessor with $(c_flags) and records the command in .foo.i.cmd, at the
 * cost of one preprocessing per file and one kbuild start for all of them.
 */
#include "kbuild.h"
#include "errors.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <ftw.h>
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

/* dir/.foo.i.cmd beside dir/foo.i in the build directory. */
static void record_path(const struct kbuild *kb, const char *target, char *out, size_t len)
{
	const char *slash = strrchr(target, '/');

	if (slash)
		snprintf(out, len, "%s/%.*s/.%s.cmd", kb->build, (int)(slash - target), target,
			 slash + 1);
	else
		snprintf(out, len, "%s/.%s.cmd", kb->build, target);
}

static int newer(const struct stat *a, const char *path)
{
	struct stat b;

	if (stat(path, &b))
		return 1;	/* missing: nothing to be older than */
	return a->st_mtim.tv_sec > b.st_mtim.tv_sec ||
	       (a->st_mtim.tv_sec == b.st_mtim.tv_sec && a->st_mtim.tv_nsec >= b.st_mtim.tv_nsec);
}

/* Whether the record of target (dir/foo.i) is newer than what makes its flags. */
static int record_fresh(const struct kbuild *kb, const char *target)
{
	char record[PATH_MAX], p[PATH_MAX];
	const char *slash = strrchr(target, '/');
	int dlen = slash ? (int)(slash - target) : 0;
	struct stat st;

	record_path(kb, target, record, sizeof(record));
	if (stat(record, &st))
		return 0;
	snprintf(p, sizeof(p), "%s/.config", kb->build);
	if (!newer(&st, p))
		return 0;
	snprintf(p, sizeof(p), "%s/include/config/auto.conf", kb->build);
	if (!newer(&st, p))
		return 0;
	snprintf(p, sizeof(p), "%s/Makefile", kb->src);
	if (!newer(&st, p))
		return 0;
	snprintf(p, sizeof(p), "%s/%.*s/Makefile", kb->src, dlen, target);
	if (!newer(&st, p))
		return 0;
	snprintf(p, sizeof(p), "%s/%.*s/Kbuild", kb->src, dlen, target);
	return newer(&st, p);
}

int kbuild_compile_commands(const struct kbuild *kb, char *files[], int nfiles,
			    const char *out_dir, int *failed, char *err, size_t errlen)
{
	size_t srclen = strlen(kb->src);
	char **argv = calloc(nfiles + 8, sizeof(*argv));
	char **targets = calloc(nfiles, sizeof(*targets));
	char cflag[PATH_MAX + 4], oflag[PATH_MAX + 4], llvm[32], log[PATH_MAX], json[PATH_MAX];
	int argc = 0, nmake, i, status, written = 0, ret = -1;
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
	nmake = argc;
	for (i = 0; i < nfiles; i++) {
		const char *rel = files[i] + srclen + 1;	/* inside src: resolve_file() */
		size_t n = strlen(rel);

		targets[i] = malloc(n + 1);
		memcpy(targets[i], rel, n - 1);	/* foo.c -> foo.i */
		memcpy(targets[i] + n - 1, "i", 2);
		if (!kb->reuse_records || !record_fresh(kb, targets[i]))
			argv[argc++] = targets[i];
	}
	snprintf(log, sizeof(log), "%s/kbuild.log", out_dir);
	status = argc > nmake ? run_logged(argv, log) : 0;
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
		char record[PATH_MAX], ipath[PATH_MAX], *cmd;
		json_t *o;
		int bad;

		snprintf(ipath, sizeof(ipath), "%s/%s", kb->build, targets[i]);
		record_path(kb, targets[i], record, sizeof(record));
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
		/* {"directory": ..., "file": ..., "command": ...}, one a line */
		o = json_pack("{s:s, s:s, s:s}", "directory", kb->build, "file", files[i],
			      "command", cmd);
		free(cmd);
		if (!o) {
			failf(err, errlen, "%s: its path or command is not UTF-8", files[i]);
			goto out;
		}
		fputs(written++ ? ",\n " : " ", out);
		bad = json_dumpf(o, out, JSON_PRESERVE_ORDER);
		json_decref(o);
		if (bad) {
			failf(err, errlen, "%s: write error", json);
			goto out;
		}
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

/* --- which TUs include a header: kbuild's dependency records ------------ */

static struct {
	const struct kbuild *kb;
	char *const *headers;
	int nheaders;
	char **users;
	int n, cap, failed;
} hu;

/* Whether text lists path as a dependency (a whole word of a deps_ list). */
static int lists(const char *text, size_t len, const char *path)
{
	size_t n = strlen(path);
	const char *p = text, *end = text + len;

	while ((p = memmem(p, end - p, path, n))) {
		char after = p + n < end ? p[n] : '\n';

		if (p > text && (p[-1] == ' ' || p[-1] == '\t') &&
		    (after == ' ' || after == '\t' || after == '\\' || after == '\n'))
			return 1;
		p += n;
	}
	return 0;
}

static void add_user(const char *rel)
{
	int i;

	for (i = 0; i < hu.n; i++)
		if (!strcmp(hu.users[i], rel))
			return;
	if (hu.n == hu.cap) {
		char **t = realloc(hu.users, (hu.cap = 2 * hu.cap + 64) * sizeof(*t));

		if (!t) {
			hu.failed = 1;
			return;
		}
		hu.users = t;
	}
	if (!(hu.users[hu.n] = strdup(rel)))
		hu.failed = 1;
	else
		hu.n++;
}

static int visit(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *base = path + ftw->base, *src, *eol;
	size_t blen = strlen(base), srclen = strlen(hu.kb->src), len;
	char abs[PATH_MAX], *text;
	FILE *f;
	int i;

	if (type != FTW_F || base[0] != '.' || blen < 7 ||
	    (strcmp(base + blen - 6, ".o.cmd") && strcmp(base + blen - 6, ".i.cmd")))
		return 0;
	f = fopen(path, "r");
	if (!f)
		return 0;
	text = malloc(st->st_size + 1);
	len = text ? fread(text, 1, st->st_size, f) : 0;
	fclose(f);
	if (!text)
		return 0;
	text[len] = '\0';
	src = strstr(text, "\nsource_");
	src = src ? strstr(src, " := ") : NULL;
	if (!src) {
		free(text);
		return 0;
	}
	src += 4;
	eol = src + strcspn(src, "\n");
	if (eol - src < 3 || strncmp(eol - 2, ".c", 2)) {
		free(text);
		return 0;
	}
	for (i = 0; i < hu.nheaders; i++) {
		snprintf(abs, sizeof(abs), "%s/%s", hu.kb->src, hu.headers[i]);
		if (lists(text, len, abs) ||
		    (!strcmp(hu.kb->src, hu.kb->build) && lists(text, len, hu.headers[i]))) {
			snprintf(abs, sizeof(abs), "%.*s", (int)(eol - src), src);
			if (!strncmp(abs, hu.kb->src, srclen) && abs[srclen] == '/')
				add_user(abs + srclen + 1);
			else if (abs[0] != '/')
				add_user(abs);
			break;
		}
	}
	free(text);
	return 0;
}

/* Number of leading directories a and b share. */
static int shared_dirs(const char *a, const char *b)
{
	int n = 0;
	size_t i;

	for (i = 0; a[i] && a[i] == b[i]; i++)
		if (a[i] == '/')
			n++;
	return n;
}

/* How close a TU is to a header: foo.c for foo.h first, then shared directories. */
static int closeness(const char *tu, const char *header)
{
	size_t n = strlen(header);

	if (n > 2 && !strncmp(tu, header, n - 1) && !strcmp(tu + n - 1, "c"))
		return 1000;
	return shared_dirs(tu, header);
}

static int nearest(const void *pa, const void *pb)
{
	const char *a = *(char *const *)pa, *b = *(char *const *)pb;
	int da = 0, db = 0, i;

	for (i = 0; i < hu.nheaders; i++) {
		if (closeness(a, hu.headers[i]) > da)
			da = closeness(a, hu.headers[i]);
		if (closeness(b, hu.headers[i]) > db)
			db = closeness(b, hu.headers[i]);
	}
	return da != db ? db - da : strcmp(a, b);
}

int kbuild_header_users(const struct kbuild *kb, char *const headers[], int nheaders,
			char ***users)
{
	memset(&hu, 0, sizeof(hu));
	hu.kb = kb;
	hu.headers = headers;
	hu.nheaders = nheaders;
	if (nheaders && nftw(kb->build, visit, 16, FTW_PHYS) < 0)
		hu.failed = 1;
	if (hu.failed) {
		while (hu.n)
			free(hu.users[--hu.n]);
		free(hu.users);
		return -1;
	}
	if (hu.n)
		qsort(hu.users, hu.n, sizeof(*hu.users), nearest);
	*users = hu.users;
	return hu.n;
}
