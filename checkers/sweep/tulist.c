// SPDX-License-Identifier: GPL-2.0
/*
 * The translation units of a sweep and their exact compiler commands: from
 * BUILD/compile_commands.json when the build directory has one, otherwise
 * from kbuild itself without compiling anything ("make -n", see docs/sweep.md).
 */
#include "sweep.h"
#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Added to KCFLAGS for "make -n": kbuild reruns (here: prints) a command
 * whose flags changed since the object was built, so every configured object
 * is listed whatever the state of the build directory. Removed again from
 * the commands.
 */
#define SENTINEL "-D__RTCHECK_SWEEP__"


static int has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int sweep_wants(const struct sweep *sw, const char *rel)
{
	size_t i;

	if (!sw->npaths)
		return 1;
	for (i = 0; i < sw->npaths; i++) {
		const struct sweep_path *p = &sw->paths[i];
		size_t n = strlen(p->rel);

		if (!p->is_dir && !strcmp(rel, p->rel))
			return 1;
		if (p->is_dir && (!n || (!strncmp(rel, p->rel, n) && rel[n] == '/')))
			return 1;
	}
	return 0;
}

/* Host programs and build tools are not kernel code. */
static int excluded(const char *rel)
{
	return has_prefix(rel, "scripts/") || has_prefix(rel, "tools/") ||
	       has_prefix(rel, "usr/") || has_prefix(rel, "Documentation/");
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * Takes one command into the list if it compiles a kernel .c file under the
 * requested paths; the strings are copied. Returns 1 taken, 0 not, -1 ENOMEM.
 */
static int add_tu(const struct sweep *sw, struct tu_list *list, const char *directory,
		  const char *file, const char *command, char *const *args, size_t nargs,
		  int is_kernel)
{
	char joined[PATH_MAX], abs[PATH_MAX];
	size_t srclen = strlen(sw->kb.src);
	struct tu *tu;
	size_t i;
	int outside;

	if (!ends_with(file, ".c") || !is_kernel)
		return 0;
	if (file[0] == '/')
		snprintf(joined, sizeof(joined), "%s", file);
	else
		snprintf(joined, sizeof(joined), "%s/%s", directory, file);
	if (!realpath(joined, abs))
		snprintf(abs, sizeof(abs), "%s", joined);
	outside = strncmp(abs, sw->kb.src, srclen) || abs[srclen] != '/';
	/* Out-of-tree files only from a database given with --compile-commands
	 * (external modules): they keep their absolute path. */
	if (outside && !sw->outside_tree)
		return 0;
	if (!outside && (excluded(abs + srclen + 1) || !sweep_wants(sw, abs + srclen + 1)))
		return 0;

	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 256;
		struct tu *v = realloc(list->v, cap * sizeof(*v));

		if (!v)
			return -1;
		list->v = v;
		list->cap = cap;
	}
	tu = &list->v[list->n];
	memset(tu, 0, sizeof(*tu));
	tu->file = strdup(abs);
	tu->directory = strdup(directory);
	if (!tu->file || !tu->directory)
		return -1;
	tu->rel = outside ? tu->file : tu->file + srclen + 1;
	if (command) {
		tu->command = strdup(command);
		if (!tu->command)
			return -1;
	} else {
		tu->args = calloc(nargs + 1, sizeof(*tu->args));
		if (!tu->args)
			return -1;
		for (i = 0; i < nargs; i++)
			if (!(tu->args[i] = strdup(args[i])))
				return -1;
		tu->nargs = nargs;
	}
	list->n++;
	return 1;
}

int tus_from_compile_commands(const struct sweep *sw, const char *json_path,
			      struct tu_list *list, char *err, size_t errlen)
{
	size_t len, i, j;
	char *text = read_file(json_path, &len);
	json_t *db;
	json_error_t jerr;
	int ret = 0;

	list->origin = "compile_commands.json";
	if (!text)
		return failf(err, errlen, "%s: %s", json_path, strerror(errno));
	db = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
	free(text);
	if (!db)
		return failf(err, errlen, "%s: line %d: %s", json_path, jerr.line, jerr.text);
	if (!json_is_array(db)) {
		json_decref(db);
		return failf(err, errlen, "%s: not a compilation database (no array)", json_path);
	}
	for (i = 0; i < json_array_size(db) && ret >= 0; i++) {
		const json_t *e = json_array_get(db, i), *arguments = json_object_get(e, "arguments");
		const char *directory = json_string_value(json_object_get(e, "directory"));
		const char *file = json_string_value(json_object_get(e, "file"));
		const char *command = json_string_value(json_object_get(e, "command"));
		char **args = NULL;
		size_t nargs = 0;
		int kernel = 0;

		if (!directory || !file || (!command && !json_is_array(arguments)))
			continue;	/* not an entry we understand */
		if (command) {
			kernel = strstr(command, "-D__KERNEL__") != NULL;
		} else {
			args = calloc(json_array_size(arguments) + 1, sizeof(*args));
			if (!args) {
				ret = -1;
				break;
			}
			for (j = 0; j < json_array_size(arguments); j++) {
				const char *a = json_string_value(json_array_get(arguments, j));

				if (!a)
					break;
				args[nargs++] = (char *)a;	/* add_tu() copies them */
				kernel |= !strcmp(a, "-D__KERNEL__");
			}
			if (j < json_array_size(arguments)) {
				free(args);
				continue;
			}
		}
		if (add_tu(sw, list, directory, file, command, args, nargs, kernel) < 0)
			ret = -1;
		free(args);
	}
	json_decref(db);
	if (ret < 0)
		return failf(err, errlen, "out of memory");
	return 0;
}

/*
 * Splits a shell line at the ';' that are not quoted. Modifies line; returns
 * the number of segments stored in seg (at most max).
 */
static int split_segments(char *line, char **seg, int max)
{
	char quote = 0, *s;
	int n = 0;

	seg[n++] = line;
	for (s = line; *s; s++) {
		if (quote) {
			if (*s == quote)
				quote = 0;
			else if (quote == '"' && *s == '\\' && s[1])
				s++;
		} else if (*s == '\'' || *s == '"') {
			quote = *s;
		} else if (*s == '\\' && s[1]) {
			s++;
		} else if (*s == ';' && n < max) {
			*s = '\0';
			seg[n++] = s + 1;
		}
	}
	return n;
}

/* clang, clang-16, gcc, gcc-12, x86_64-linux-gnu-gcc-12, /usr/bin/cc ... */
static int is_compiler(const char *word)
{
	char base[256];
	const char *slash = strrchr(word, '/');
	size_t n;

	snprintf(base, sizeof(base), "%s", slash ? slash + 1 : word);
	n = strlen(base);
	while (n && (base[n - 1] == '.' || base[n - 1] == '-' ||
		     (base[n - 1] >= '0' && base[n - 1] <= '9')))
		base[--n] = '\0';
	return ends_with(base, "clang") || ends_with(base, "gcc") || !strcmp(base, "cc");
}

/* Removes every " SENTINEL" word from cmd, in place. */
static void remove_sentinel(char *cmd)
{
	size_t n = strlen(" " SENTINEL);
	char *p = cmd;

	while ((p = strstr(p, " " SENTINEL))) {
		if (p[n] == ' ' || p[n] == '\0')
			memmove(p, p + n, strlen(p + n) + 1);
		else
			p += n;
	}
}

/* One line of make -n output: the kbuild compile command in it, if any. */
static int take_line(const struct sweep *sw, struct tu_list *list, char *line)
{
	char *seg[64], word[PATH_MAX], last_c[PATH_MAX];
	int nseg = split_segments(line, seg, 64), i, ret = 0;

	for (i = 0; i < nseg; i++) {
		char *cmd = seg[i];
		const char *s;
		int has_c = 0, has_o = 0, prev_o = 0;

		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		s = cmd;
		if (!shell_word(&s, word, sizeof(word)) || !is_compiler(word))
			continue;
		last_c[0] = '\0';
		while (shell_word(&s, word, sizeof(word))) {
			if (!strcmp(word, "-c"))
				has_c = 1;
			else if (prev_o)
				has_o = ends_with(word, ".o");
			else if (ends_with(word, ".c"))
				snprintf(last_c, sizeof(last_c), "%s", word);
			prev_o = !strcmp(word, "-o");
		}
		if (!has_c || !has_o || !last_c[0])
			continue;
		cmd[strcspn(cmd, "\n")] = '\0';
		remove_sentinel(cmd);
		ret = add_tu(sw, list, sw->kb.build, last_c, cmd, NULL, 0,
			     strstr(cmd, "-D__KERNEL__") != NULL);
		if (ret < 0)
			break;
	}
	return ret;
}

/*
 * Starts "make -s -k -C SRC [O=BUILD] [LLVM=x] EXTRA... TARGETS..." with
 * stdout to outfd (-1: the log too), stderr to log; returns its pid or -1.
 */
static pid_t start_make(const struct sweep *sw, char *const extra[], size_t nextra,
			char *const targets[], size_t ntargets, int outfd, const char *log)
{
	char **argv = calloc(nextra + ntargets + 10, sizeof(*argv));
	char srcdir[PATH_MAX], oflag[PATH_MAX + 4], llvm[32];
	size_t argc = 0, i;
	pid_t pid;

	if (!argv)
		return -1;
	snprintf(srcdir, sizeof(srcdir), "%s", sw->kb.src);
	snprintf(oflag, sizeof(oflag), "O=%s", sw->kb.build);
	argv[argc++] = "make";
	argv[argc++] = "-s";
	argv[argc++] = "-k";	/* one bad target does not stop the others */
	argv[argc++] = "-C";
	argv[argc++] = srcdir;
	if (strcmp(sw->kb.src, sw->kb.build))
		argv[argc++] = oflag;
	if (sw->kb.llvm[0]) {	/* clang-built trees; empty for GCC trees */
		snprintf(llvm, sizeof(llvm), "LLVM=%s", sw->kb.llvm);
		argv[argc++] = llvm;
	}
	for (i = 0; i < nextra; i++)
		argv[argc++] = extra[i];
	for (i = 0; i < ntargets; i++)
		argv[argc++] = targets[i];

	pid = fork();
	if (pid == 0) {
		int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nullfd = open("/dev/null", O_RDONLY);

		if (logfd >= 0) {
			dup2(logfd, 2);
			if (outfd < 0)
				dup2(logfd, 1);
		}
		if (outfd >= 0)
			dup2(outfd, 1);
		if (nullfd >= 0)
			dup2(nullfd, 0);
		/* A make above us must not hand its jobserver or flags down. */
		unsetenv("MAKEFLAGS");
		unsetenv("MFLAGS");
		unsetenv("MAKELEVEL");
		unsetenv("MAKEOVERRIDES");
		execvp(argv[0], argv);
		_exit(127);
	}
	free(argv);
	return pid;
}

/*
 * rtcheck's own processes that run make in a build directory (the tests, the
 * sweep) take turns on BUILD/.rtcheck-test-make.lock when it exists; no lock
 * file is made in the user's build directories. Returns the fd or -1.
 */
static int lock_build(const struct sweep *sw)
{
	char path[PATH_MAX + 32];
	int fd;

	snprintf(path, sizeof(path), "%s/.rtcheck-test-make.lock", sw->kb.build);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void unlock_build(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the flock */
}

/* The first line of log that looks like an error, or log itself. */
static void first_error(const char *log, char *buf, size_t len)
{
	FILE *f = fopen(log, "r");
	char line[512];

	snprintf(buf, len, "see %s", log);
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "***") || strstr(line, "rror")) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, len, "%s", line);
			break;
		}
	}
	if (f)
		fclose(f);
}

int tus_from_kbuild(const struct sweep *sw, struct tu_list *list, char *err, size_t errlen)
{
	char **targets = calloc(sw->npaths + 1, sizeof(*targets));
	char kcflags[1024], log[PATH_MAX + 16], msg[512];
	char *extra[2] = { "-n", kcflags };	/* -n: print the commands, run none */
	const char *user_kcflags = getenv("KCFLAGS");
	int pipefd[2], status, ret = -1, lock = -1;
	char *line = NULL;
	size_t cap = 0, i;
	FILE *in = NULL;
	pid_t pid;

	list->origin = "kbuild (make -n)";
	if (!targets)
		return failf(err, errlen, "out of memory");
	snprintf(kcflags, sizeof(kcflags), "KCFLAGS=%s%s" SENTINEL,
		 user_kcflags ? user_kcflags : "", user_kcflags && *user_kcflags ? " " : "");
	/* No path: kbuild's default goal, everything the .config builds. */
	for (i = 0; i < sw->npaths; i++) {
		const struct sweep_path *p = &sw->paths[i];
		size_t n = strlen(p->rel);

		targets[i] = malloc(n + 2);
		if (!targets[i]) {
			failf(err, errlen, "out of memory");
			goto out;
		}
		memcpy(targets[i], p->rel, n + 1);
		if (p->is_dir)
			strcat(targets[i], "/");	/* a directory target */
		else
			targets[i][n - 1] = 'o';	/* foo.c -> foo.o */
	}
	snprintf(log, sizeof(log), "%s/kbuild.log", sw->out);

	if (pipe(pipefd)) {
		failf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	lock = lock_build(sw);
	pid = start_make(sw, extra, 2, targets, sw->npaths, pipefd[1], log);
	close(pipefd[1]);
	if (pid < 0) {
		failf(err, errlen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		goto out;
	}
	in = fdopen(pipefd[0], "r");
	if (!in) {
		close(pipefd[0]);
		waitpid(pid, &status, 0);
		failf(err, errlen, "fdopen: %s", strerror(errno));
		goto out;
	}
	ret = 0;
	while (getline(&line, &cap, in) > 0) {
		if (!strstr(line, " -c ") || ret < 0)
			continue;	/* read on: make must not get SIGPIPE */
		if (take_line(sw, list, line) < 0)
			ret = -1;
	}
	fclose(in);
	if (waitpid(pid, &status, 0) < 0) {
		ret = failf(err, errlen, "waitpid: %s", strerror(errno));
	} else if (ret < 0) {
		failf(err, errlen, "out of memory");
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		ret = failf(err, errlen, "cannot run make (see %s)", log);
	} else if (!list->n && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		/* make failed and printed nothing usable: say why. */
		first_error(log, msg, sizeof(msg));
		ret = failf(err, errlen, "kbuild lists no translation unit: %s", msg);
	}
	/* Otherwise a failing make is not fatal: -k lists what it can. */
out:
	unlock_build(lock);
	free(line);
	for (i = 0; i < sw->npaths; i++)
		free(targets[i]);
	free(targets);
	return ret;
}

int kbuild_build_objects(const struct sweep *sw, struct tu *const tus[], size_t n, char *err,
			 size_t errlen)
{
	char **targets = calloc(n + 1, sizeof(*targets));
	char log[PATH_MAX + 24];
	int status, ret = -1, lock = -1;
	size_t i;
	pid_t pid;

	if (!targets)
		return failf(err, errlen, "out of memory");
	for (i = 0; i < n; i++) {
		targets[i] = strdup(tus[i]->rel);
		if (!targets[i]) {
			failf(err, errlen, "out of memory");
			goto out;
		}
		targets[i][strlen(targets[i]) - 1] = 'o';	/* foo.c -> foo.o */
	}
	snprintf(log, sizeof(log), "%s/kbuild-objects.log", sw->out);
	lock = lock_build(sw);
	pid = start_make(sw, NULL, 0, targets, n, -1, log);
	if (pid < 0 || waitpid(pid, &status, 0) < 0) {
		failf(err, errlen, "cannot run make: %s", strerror(errno));
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		failf(err, errlen, "cannot run make (see %s)", log);
		goto out;
	}
	ret = 0;	/* what make could not build fails again, with its reason */
out:
	unlock_build(lock);
	for (i = 0; i < n; i++)
		free(targets[i]);
	free(targets);
	return ret;
}

/* By path, then in the order found: the first command of a file wins. */
static int by_rel(const void *a, const void *b)
{
	const struct tu *x = a, *y = b;
	int c = strcmp(x->rel, y->rel);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static void tu_free(struct tu *tu)
{
	size_t i;

	free(tu->file);
	free(tu->directory);
	free(tu->command);
	for (i = 0; i < tu->nargs; i++)
		free(tu->args[i]);
	free(tu->args);
	free(tu->name);
	free(tu->stderr_tail);
}

void tus_free_one(struct tu *tu)
{
	tu_free(tu);
}

void tus_free(struct tu_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		tu_free(&list->v[i]);
	free(list->v);
	memset(list, 0, sizeof(*list));
}

/* {"directory": ..., "file": ..., "command" or "arguments": ...}; NULL when not UTF-8. */
static json_t *tu_json(const struct tu *tu)
{
	json_t *o = json_pack("{s:s, s:s}", "directory", tu->directory, "file", tu->file), *v;
	size_t j;

	if (!o)
		return NULL;
	if (tu->command) {
		v = json_string(tu->command);
	} else {
		v = json_array();
		for (j = 0; v && j < tu->nargs; j++)
			if (json_array_append_new(v, json_string(tu->args[j]))) {
				json_decref(v);
				v = NULL;
			}
	}
	if (json_object_set_new(o, tu->command ? "command" : "arguments", v)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int tus_finish(const struct sweep *sw, struct tu_list *list, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	size_t i, j, n = 0;
	FILE *out;
	int bad = 0;

	for (i = 0; i < list->n; i++)
		list->v[i].seq = i;
	if (list->n > 1)
		qsort(list->v, list->n, sizeof(*list->v), by_rel);
	for (i = 0; i < list->n; i++) {
		if (n && !strcmp(list->v[n - 1].rel, list->v[i].rel))
			tu_free(&list->v[i]);
		else
			list->v[n++] = list->v[i];
	}
	list->n = n;

	for (i = 0; i < list->n; i++) {
		struct tu *tu = &list->v[i];
		struct stat st;
		char *o;

		tu->name = malloc(strlen(tu->rel) * 2 + 1);
		if (!tu->name)
			return failf(err, errlen, "out of memory");
		for (o = tu->name, j = 0; tu->rel[j]; j++) {
			if (tu->rel[j] == '/') {
				*o++ = '_';
				*o++ = '_';
			} else {
				*o++ = tu->rel[j];
			}
		}
		*o = '\0';
		tu->size = stat(tu->file, &st) ? 0 : st.st_size;
	}

	snprintf(path, sizeof(path), "%s/compile_commands.json", sw->out);
	out = fopen(path, "w");
	if (!out)
		return failf(err, errlen, "%s: %s", path, strerror(errno));
	fputs("[", out);
	for (i = 0; i < list->n && !bad; i++) {
		const struct tu *tu = &list->v[i];
		json_t *o = tu_json(tu);

		if (!o) {
			fclose(out);
			return failf(err, errlen, "%s: its path or command is not UTF-8", tu->file);
		}
		fputs(i ? ",\n " : "\n ", out);
		bad = json_dumpf(o, out, JSON_PRESERVE_ORDER);
		json_decref(o);
	}
	fputs("\n]\n", out);
	if (fclose(out) || bad)
		return failf(err, errlen, "%s: write error", path);
	return 0;
}
