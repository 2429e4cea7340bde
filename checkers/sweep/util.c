// SPDX-License-Identifier: GPL-2.0
/* Small helpers of rtcheck-sweep. */
#include "sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs("rtcheck: error: out of memory\n", stderr);
		exit(EXIT_INTERNAL);
	}
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

int mkdir_p(const char *dir)
{
	char p[PATH_MAX];
	char *s;

	snprintf(p, sizeof(p), "%s", dir);
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(p, 0777) && errno != EEXIST)
		return -1;
	return 0;
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536, n = 0, got;
	char *buf, *nbuf;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				free(buf);
				buf = NULL;
				errno = ENOMEM;
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
	}
	if (buf && ferror(f)) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/*
 * The next shell word of *sp, unquoted, into buf (truncated to len); NULL at
 * the end of the line.
 */
char *shell_word(const char **sp, char *buf, size_t len)
{
	const char *s = *sp;
	char quote = 0;
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	for (; *s && (quote || (*s != ' ' && *s != '\t')); s++) {
		char c = *s;

		if (quote) {
			if (c == quote) {
				quote = 0;
				continue;
			}
			if (quote == '"' && c == '\\' && s[1])
				c = *++s;
		} else if (c == '\'' || c == '"') {
			quote = c;
			continue;
		} else if (c == '\\' && s[1]) {
			c = *++s;
		}
		if (n + 1 < len)
			buf[n++] = c;
	}
	buf[n] = '\0';
	*sp = s;
	return buf;
}
