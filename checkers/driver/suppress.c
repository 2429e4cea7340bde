// SPDX-License-Identifier: GPL-2.0
/*
 * Inline suppressions: a comment "rtcheck: ignore rt-atomic-sleep: bounded,
 * runs only at boot" (a C or C++ comment) on a finding's line or the line
 * above hides it. The reason is mandatory:
 * a suppression without one (or naming an unknown rule) is an error-level
 * finding of its own and suppresses nothing; one that covers no finding is
 * reported as a note, so stale suppressions do not pile up.
 */
#include "presubmit.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDS 8

struct suppression {
	unsigned int line, column;
	char ids[MAX_IDS][64];
	int nids;
	int used;
};

static const char *const known_rules[] = {
#define RTCHECK_RULE(cls, id, sev, title) id,
#include "rtcheck/rules.def"
#undef RTCHECK_RULE
};

static int known(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof(known_rules) / sizeof(known_rules[0]); i++)
		if (!strcmp(known_rules[i], id))
			return 1;
	return 0;
}

/* Whether id is among the comma-separated ids of list (NULL: all rules). */
static int selected(const char *list, const char *id)
{
	size_t n = strlen(id);
	const char *p;

	if (!list)
		return 1;
	for (p = list; (p = strstr(p, id)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

/*
 * Parses the suppression on text, if any: 1 (valid, in *s), 0 (none) or -1
 * (invalid, why in msg).
 */
static int parse(const char *text, struct suppression *s, char *msg, size_t msglen)
{
	const char *p = strstr(text, "rtcheck:"), *c1 = strstr(text, "/*"), *c2 = strstr(text, "//");
	const char *end;
	size_t n;

	if (!p || !((c1 && c1 < p) || (c2 && c2 < p)))
		return 0;
	s->column = (unsigned int)(p - text) + 1;
	p += 8;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, "ignore", 6) || isalnum((unsigned char)p[6]))
		return 0;
	p += 6;
	s->nids = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-_");
		if (!n)
			break;
		if (s->nids == MAX_IDS || n >= sizeof(s->ids[0])) {
			snprintf(msg, msglen, "suppression names too many or too long rule ids");
			return -1;
		}
		memcpy(s->ids[s->nids], p, n);
		s->ids[s->nids][n] = '\0';
		if (!known(s->ids[s->nids])) {
			snprintf(msg, msglen, "suppression of unknown rule '%s'", s->ids[s->nids]);
			return -1;
		}
		s->nids++;
		p += n;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ',')
			break;
		p++;
	}
	if (!s->nids) {
		snprintf(msg, msglen, "suppression names no rule: write /* rtcheck: ignore RULE: reason */");
		return -1;
	}
	/* the reason: after ':' up to the end of the comment or line */
	if (*p == ':')
		p++;
	while (*p == ' ' || *p == '\t')
		p++;
	end = strstr(p, "*/");
	if (!end)
		end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (end == p) {
		snprintf(msg, msglen,
			 "suppression of %s without a reason: write /* rtcheck: ignore %s: why it is safe */",
			 s->ids[0], s->ids[0]);
		return -1;
	}
	return 1;
}

static int is_meta(const char *rule)
{
	return !strcmp(rule, RULE_IGNORE_INVALID) || !strcmp(rule, RULE_IGNORE_UNUSED);
}

static int covers(const struct suppression *s, const struct finding *f)
{
	int i;

	if (f->where.line != s->line && f->where.line != s->line + 1)
		return 0;
	for (i = 0; i < s->nids; i++)
		if (!strcmp(s->ids[i], f->rule))
			return 1;
	return 0;
}

static void apply_file(struct findings *fs, struct sources *src, const char *file, int is_main,
		       const char *rules, int report_unused)
{
	unsigned int line, n = source_nlines(src, file);
	size_t i, nf = fs->n;
	char msg[512];
	int k;

	for (line = 1; line <= n; line++) {
		const char *text = source_line(src, file, line);
		struct suppression s = { .line = line };
		int r;

		if (!text || !strstr(text, "rtcheck:"))
			continue;
		r = parse(text, &s, msg, sizeof(msg));
		if (r < 0) {
			findings_add(fs, RULE_IGNORE_INVALID, RTCHECK_ERROR, file, line, s.column, msg);
			continue;
		}
		if (!r)
			continue;
		for (i = 0; i < nf; i++) {
			struct finding *f = &fs->v[i];

			if (f->hidden != SUPPRESSED && !is_meta(f->rule) &&
			    !strcmp(f->where.file, file) && covers(&s, f)) {
				f->hidden = SUPPRESSED;
				s.used = 1;
			}
		}
		if (s.used || !is_main || !report_unused)
			continue;
		for (k = 0; k < s.nids && !selected(rules, s.ids[k]); k++)
			;
		if (k == s.nids)
			continue;	/* its rules were not checked */
		snprintf(msg, sizeof(msg),
			 "suppression of %s suppresses nothing: no such finding on this line or the next",
			 s.ids[0]);
		findings_add(fs, RULE_IGNORE_UNUSED, RTCHECK_NOTE, file, line, s.column, msg);
	}
}

void suppress_apply(struct findings *fs, struct sources *src, char *const main_files[],
		    int nmain, const char *rules, int report_unused)
{
	size_t i, nf = fs->n, k;
	int m;

	for (m = 0; m < nmain; m++)
		apply_file(fs, src, main_files[m], 1, rules, report_unused);
	/* headers and other files findings are in: suppressions apply there too */
	for (i = 0; i < nf; i++) {
		const char *file = fs->v[i].where.file;

		for (m = 0; m < nmain && strcmp(main_files[m], file); m++)
			;
		for (k = 0; k < i && strcmp(fs->v[k].where.file, file); k++)
			;
		if (m == nmain && k == i && !is_meta(fs->v[i].rule))
			apply_file(fs, src, file, 0, rules, 0);
	}
}
