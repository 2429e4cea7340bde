// SPDX-License-Identifier: GPL-2.0
/*
 * git, the only program besides rtcheck-clang the driver runs: the tree,
 * revisions, and the lines a change touches ("git diff -U0" hunks).
 */
#include "presubmit.h"
#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reads fd to EOF into a malloc'd NUL-terminated buffer (NULL on ENOMEM). */
static char *slurp(int fd)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *t;
	ssize_t k;

	for (;;) {
		if (cap - len < 4096) {
			t = realloc(buf, cap = 2 * cap + 65536);
			if (!t) {
				free(buf);
				return NULL;
			}
			buf = t;
		}
		k = read(fd, buf + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += k;
	}
	buf[len] = '\0';
	return buf;
}

int git_run(const struct git *g, const char *const args[], const char *in, const char *out_path,
	    char **out, char *err, size_t errlen)
{
	const char *argv[64] = { "git", "-C", g->top, "-c", "core.quotePath=false" };
	int argc = 5, outp[2] = { -1, -1 }, errp[2], status;
	char *errtext;
	pid_t pid;

	while (*args && argc < 63)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (pipe(errp) || (out && pipe(outp)))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(in ? in : "/dev/null", O_RDONLY);

		if (fd >= 0)
			dup2(fd, 0);
		if (out)
			dup2(outp[1], 1);
		else if ((fd = open(out_path ? out_path : "/dev/null",
				    O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0)
			dup2(fd, 1);
		dup2(errp[1], 2);
		if (g->index)
			setenv("GIT_INDEX_FILE", g->index, 1);
		execvp("git", (char **)argv);
		_exit(127);
	}
	close(errp[1]);
	if (out) {
		close(outp[1]);
		*out = slurp(outp[0]);
		close(outp[0]);
	}
	errtext = slurp(errp[0]);
	close(errp[0]);
	if (errtext && err && errlen) {
		char *p = errtext;

		p += strspn(p, "\n");
		snprintf(err, errlen, "%.*s", (int)strcspn(p, "\n"), p);
	}
	free(errtext);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (!WIFEXITED(status))
		return -1;
	if (WEXITSTATUS(status) == 127 && err && !err[0])
		snprintf(err, errlen, "cannot run git");
	return WEXITSTATUS(status);
}

int git_open(struct git *g, const char *dir, char *err, size_t errlen)
{
	static const char *const args[] = { "rev-parse", "--show-toplevel", NULL };
	char *out = NULL, why[512];
	int status;

	memset(g, 0, sizeof(*g));
	snprintf(g->top, sizeof(g->top), "%s", dir);
	status = git_run(g, args, NULL, NULL, &out, why, sizeof(why));
	if (status || !out || !*out) {
		free(out);
		return failf(err, errlen, "%s: not a git work tree%s%s", dir, *why ? ": " : "",
			     why);
	}
	out[strcspn(out, "\n")] = '\0';
	snprintf(g->top, sizeof(g->top), "%s", out);
	free(out);
	return 0;
}

int git_is_commit(const struct git *g, const char *rev)
{
	char spec[512];
	const char *args[] = { "rev-parse", "--verify", "--quiet", spec, NULL };

	if (!*rev || *rev == '-' || strlen(rev) > sizeof(spec) - 16)
		return 0;
	snprintf(spec, sizeof(spec), "%s^{commit}", rev);
	return git_run(g, args, NULL, NULL, NULL, NULL, 0) == 0;
}

/* A path of a "+++ " line: b/path, or "b/pa\th" in C quotes; NULL for /dev/null. */
static char *new_path(const char *p, size_t n)
{
	char *out = malloc(n + 1), *w = out;
	size_t i;

	if (!out)
		return NULL;
	if (n && p[0] == '"') {
		for (i = 1; i < n && p[i] != '"'; i++) {
			if (p[i] != '\\' || i + 1 >= n) {
				*w++ = p[i];
				continue;
			}
			i++;
			if (p[i] >= '0' && p[i] <= '7' && i + 2 < n) {
				*w++ = (char)(((p[i] - '0') << 6) | ((p[i + 1] - '0') << 3) | (p[i + 2] - '0'));
				i += 2;
			} else {
				*w++ = p[i] == 'n' ? '\n' : p[i] == 't' ? '\t' : p[i];
			}
		}
	} else {
		memcpy(out, p, n);
		w = out + n;
	}
	*w = '\0';
	if (strncmp(out, "b/", 2)) {
		free(out);
		return NULL;	/* /dev/null: the file is deleted */
	}
	memmove(out, out + 2, strlen(out + 2) + 1);
	return out;
}

static int add_range(struct changed_file *f, unsigned int first, unsigned int last)
{
	void *t = realloc(f->ranges, (f->nranges + 1) * sizeof(*f->ranges));

	if (!t)
		return -1;
	f->ranges = t;
	f->ranges[f->nranges][0] = first;
	f->ranges[f->nranges][1] = last;
	f->nranges++;
	return 0;
}

int change_parse(struct change *c, const char *diff)
{
	const char *line, *next;
	struct changed_file *cur = NULL;

	memset(c, 0, sizeof(*c));
	for (line = diff; line && *line; line = next) {
		size_t n = strcspn(line, "\n");

		next = line[n] ? line + n + 1 : NULL;
		if (!strncmp(line, "diff --git ", 11)) {
			cur = NULL;
		} else if (!strncmp(line, "+++ ", 4) && !cur) {
			char *path = new_path(line + 4, n - 4);
			void *t;

			if (!path)
				continue;
			t = realloc(c->v, (c->n + 1) * sizeof(*c->v));
			if (!t)
				return -1;
			c->v = t;
			cur = &c->v[c->n++];
			memset(cur, 0, sizeof(*cur));
			cur->path = path;
		} else if (!strncmp(line, "@@ ", 3) && cur) {
			const char *plus = strstr(line, " +");
			unsigned long start, count = 1;
			char *end;

			if (!plus)
				continue;
			start = strtoul(plus + 2, &end, 10);
			if (*end == ',')
				count = strtoul(end + 1, NULL, 10);
			/* a pure deletion changes the lines around it */
			if (!count && add_range(cur, start ? start : 1, start + 1))
				return -1;
			if (count && add_range(cur, start, start + count - 1))
				return -1;
		}
	}
	return 0;
}

int change_has(const struct change *c, const char *file, unsigned int line)
{
	size_t i, k;

	for (i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].path, file))
			continue;
		for (k = 0; k < c->v[i].nranges; k++)
			if (line >= c->v[i].ranges[k][0] && line <= c->v[i].ranges[k][1])
				return 1;
	}
	return 0;
}

void change_free(struct change *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].ranges);
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}
