// SPDX-License-Identifier: GPL-2.0
/*
 * The mail form of the sweep's patches, as git format-patch writes it: the
 * mbox header, From:/Date:/Subject:, the diffstat, the file names; and the
 * text helpers of the bodies.
 */
#include "patches.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s) {
			fputs("rtcheck: error: out of memory\n", stderr);
			exit(EXIT_INTERNAL);
		}
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("rtcheck: error: out of memory\n", stderr);
		exit(EXIT_INTERNAL);
	}
	sb_add(b, s, n);
	free(s);
}

void sb_wrap(struct sbuf *b, int col, const char *text, int width, int indent)
{
	int first = 1;

	while (*text) {
		size_t word = strcspn(text, " \n");

		if (!first && col + 1 + (int)word > width) {
			sb_printf(b, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			sb_add(b, " ", 1);
			col++;
		}
		sb_add(b, text, word);
		col += word;
		first = 0;
		text += word;
		text += strspn(text, " \n");
	}
}

/* git's scale_linear(): at least 1 for a change, max_change fills width. */
static long scale(long it, long width, long max_change)
{
	return it ? 1 + it * (width - 1) / max_change : 0;
}

void diffstat(struct sbuf *out, const struct stat_entry *v, size_t n)
{
	long width = 72, name_width = 0, number_width = 1, graph_width, max_change = 0;
	long files = 0, ins = 0, del = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		long len = strlen(v[i].path), change = v[i].ins + v[i].del;

		if (!change)
			continue;
		name_width = len > name_width ? len : name_width;
		max_change = change > max_change ? change : max_change;
	}
	for (long m = max_change; m >= 10; m /= 10)
		number_width++;
	graph_width = max_change;
	if (name_width + number_width + 6 + graph_width > width) {	/* git's diff.c */
		if (graph_width > width * 3 / 8 - number_width - 6)
			graph_width = width * 3 / 8 - number_width - 6;
		if (graph_width < 6)
			graph_width = 6;
		if (name_width > width - number_width - 6 - graph_width)
			name_width = width - number_width - 6 - graph_width;
		else
			graph_width = width - number_width - 6 - name_width;
	}
	for (i = 0; i < n; i++) {
		long len = strlen(v[i].path), add = v[i].ins, rm = v[i].del, total;
		const char *name = v[i].path;

		if (!add && !rm)
			continue;
		files++, ins += add, del += rm;
		if (graph_width <= max_change) {
			total = scale(add + rm, graph_width, max_change);
			if (total < 2 && add && rm)
				total = 2;
			if (add < rm) {
				add = scale(add, graph_width, max_change);
				rm = total - add;
			} else {
				rm = scale(rm, graph_width, max_change);
				add = total - rm;
			}
		}
		if (len > name_width)	/* "...tail" */
			sb_printf(out, " ...%-*s |", (int)name_width - 3, name + len - name_width + 3);
		else
			sb_printf(out, " %-*s |", (int)name_width, name);
		sb_printf(out, " %*ld ", (int)number_width, v[i].ins + v[i].del);
		for (; add > 0; add--)
			sb_add(out, "+", 1);
		for (; rm > 0; rm--)
			sb_add(out, "-", 1);
		sb_add(out, "\n", 1);
	}
	sb_printf(out, " %ld file%s changed", files, files == 1 ? "" : "s");
	if (ins || !del)
		sb_printf(out, ", %ld insertion%s(+)", ins, ins == 1 ? "" : "s");
	if (del || !ins)
		sb_printf(out, ", %ld deletion%s(-)", del, del == 1 ? "" : "s");
	sb_add(out, "\n", 1);
}

static int ascii(const char *s, size_t n)
{
	for (; n--; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* A display name as RFC 2047/5322 want it: =?UTF-8?q?...?=, or "quoted". */
static void mail_name(struct sbuf *out, const char *name, size_t n)
{
	size_t i;

	if (!ascii(name, n)) {
		sb_add(out, "=?UTF-8?q?", 10);
		for (i = 0; i < n; i++) {
			unsigned char c = name[i];

			if (c == ' ')
				sb_add(out, "_", 1);
			else if (((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9'))
				sb_add(out, name + i, 1);
			else
				sb_printf(out, "=%02X", c);
		}
		sb_add(out, "?=", 2);
		return;
	}
	for (i = 0; i < n && !strchr("()<>[]:;@\\,.\"", name[i]);)
		i++;
	if (i < n)
		sb_add(out, "\"", 1);
	sb_add(out, name, n);
	if (i < n)
		sb_add(out, "\"", 1);
}

/* "Name: value", folded at spaces before 78 columns as git does. */
static void header(struct sbuf *out, const char *name, const char *value)
{
	int start = strlen(name) + 1, col = start;

	sb_printf(out, "%s:", name);
	while (*value) {
		size_t word = strcspn(value, " ");

		if (col > start && col + 1 + (int)word > 78) {
			sb_add(out, "\n", 1);
			col = 0;
		}
		sb_add(out, " ", 1);
		sb_add(out, value, word);
		col += 1 + word;
		value += word;
		value += strspn(value, " ");
	}
	sb_add(out, "\n", 1);
}

void mail(struct sbuf *out, const char *from, const char *date, const char *subject,
	  const char *body)
{
	const char *lt = strrchr(from, '<');
	size_t name = lt ? (size_t)(lt - from) : 0;
	struct sbuf who = { 0 };

	while (name && from[name - 1] == ' ')
		name--;
	sb_add(out, "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n",
	       71);
	if (name) {
		mail_name(&who, from, name);
		sb_printf(&who, " %s", lt);
	} else {
		sb_printf(&who, "%s", from);
	}
	header(out, "From", who.s);
	sb_printf(out, "Date: %s\n", date);
	header(out, "Subject", subject);
	if (!ascii(from, strlen(from)) || !ascii(subject, strlen(subject)) ||
	    !ascii(body, strlen(body)))
		sb_printf(out, "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
			  "Content-Transfer-Encoding: 8bit\n");
	sb_printf(out, "\n%s", body);
	free(who.s);
}

static int git_config(const char *key, char *buf, size_t len)
{
	char cmd[64];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "git config %s 2>/dev/null", key);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	ok = fgets(buf, len, p) != NULL;
	ok = pclose(p) == 0 && ok;
	buf[strcspn(buf, "\n")] = '\0';
	return ok && *buf;
}

char *mail_from(const char *who)
{
	char name[256], email[256], *out;

	if (who)
		return xstrdup(who);
	if (!git_config("user.name", name, sizeof(name)) ||
	    !git_config("user.email", email, sizeof(email)))
		return xstrdup("rtcheck <rtcheck@localhost>");
	if (asprintf(&out, "%s <%s>", name, email) < 0)
		exit(EXIT_INTERNAL);
	return out;
}

void mail_date(char *buf, size_t len)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	time_t t = epoch && *epoch ? (time_t)strtoll(epoch, NULL, 10) : time(NULL);
	struct tm tm;

	if (epoch && *epoch)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	strftime(buf, len, "%a, %-d %b %Y %H:%M:%S %z", &tm);
}

void patch_file_name(char *buf, size_t len, int nr, const char *subject)
{
	size_t n = snprintf(buf, len, "%04d-", nr), start = n, max = 64 - 7;
	int space = 2;

	for (; *subject && n + 1 < len; subject++) {	/* git's format_sanitized_subject() */
		char c = *subject;

		if (((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		    c == '_') {
			if (space == 1 && n + 2 < len)
				buf[n++] = '-';
			space = 0;
			buf[n++] = c;
			while (c == '.' && subject[1] == '.')
				subject++;
		} else {
			space |= 1;
		}
	}
	while (n > start && (buf[n - 1] == '.' || buf[n - 1] == '-'))
		n--;
	if (n > max)
		n = max;
	snprintf(buf + n, len - n, ".patch");
}
