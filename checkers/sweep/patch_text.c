// SPDX-License-Identifier: GPL-2.0
/*
 * The text of the sweep's patch mails: a patch says what breaks on
 * PREEMPT_RT (the rule), where (each finding with its chain), what the
 * conversion does and what it does without PREEMPT_RT; the cover letter says
 * where the series comes from, what it leaves out, its shortlog and diffstat.
 */
#include "patches.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WIDTH = 72 };

static const struct {
	const char *id, *title;
} rules[] = {
#define RTCHECK_RULE(cls, id, severity, title) { id, title },
#include "rtcheck/rules.def"
#undef RTCHECK_RULE
};

static const char *rule_title(const char *id)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].id, id))
			return rules[i].title;
	return NULL;
}

/* "file:line function(): text", wrapped with a hanging indent. */
static void located(struct sbuf *b, int indent, json_t *at, const char *text)
{
	char *s;

	if (asprintf(&s, "%s:%lld %s%s%s", json_str(at, "file"),
		     (long long)json_integer_value(json_object_get(at, "line")),
		     json_str(at, "function"), *json_str(at, "function") ? "(): " : "",
		     text) < 0)
		exit(EXIT_INTERNAL);
	sb_printf(b, "%*s", indent, "");
	sb_wrap(b, indent, s, WIDTH, indent + 2);
	sb_add(b, "\n", 1);
	free(s);
}

/* A sentence: capitalised, with its full stop. */
static void sentence(struct sbuf *b, const char *text)
{
	char *s = xstrdup(text);
	size_t n = strlen(s);

	s[0] = toupper((unsigned char)s[0]);
	sb_wrap(b, 0, s, WIDTH, 0);
	sb_add(b, n && s[n - 1] == '.' ? "\n" : ".\n", n && s[n - 1] == '.' ? 1 : 2);
	free(s);
}

static void full_subject(struct sbuf *b, const struct series *s, int nr, const char *subject)
{
	sb_printf(b, "[PATCH %d/%d] %s: %s", nr, s->npatches, s->prefix, subject);
}

void patch_mail(const struct run *r, const struct series *s, const struct conv *c,
		struct sbuf *out)
{
	struct sbuf body = { 0 }, subject = { 0 }, intro = { 0 };
	const char *title = rule_title(c->rule);
	size_t i, j;

	sb_printf(&intro, "rtcheck's %s rule%s%s%s reports %s:", c->rule, title ? " (\"" : "",
		  title ? title : "", title ? "\")" : "",
		  c->n == 1 ? "this finding" : "these findings");
	sb_wrap(&body, 0, intro.s, WIDTH, 0);
	sb_add(&body, "\n", 1);
	for (i = 0; i < c->n; i++) {
		json_t *f = c->fixes[i], *ctx = json_object_get(f, "context"), *step;

		sb_add(&body, "\n", 1);
		located(&body, 0, f, json_str(f, "message"));
		json_array_foreach(ctx, j, step)
			located(&body, 2, step, json_str(step, "note"));
	}
	sb_add(&body, "\n", 1);
	sentence(&body, c->summary);
	if (c->shares) {
		char shared[160];

		snprintf(shared, sizeof(shared), "patch %d/%d of this series already makes part of "
			 "this conversion, the same change there: this patch leaves it out",
			 c->shares, s->npatches);
		sb_add(&body, "\n", 1);
		sentence(&body, shared);
	}
	if (c->not_rt) {
		sb_add(&body, "\n", 1);
		sentence(&body, c->not_rt);
	}
	if (!strcmp(c->kind, "suggestion")) {
		sb_add(&body, "\n", 1);
		sentence(&body, "this conversion is a suggestion of rtcheck, not a fix it knows "
			 "to be safe: review it before sending it");
	}
	sb_add(&body, "---\n", 4);
	diffstat(&body, c->stat, c->ch.nfiles);
	sb_printf(&body, "\n%s-- \nrtcheck %s\n\n", c->diff_text.s, RTCHECK_VERSION);
	full_subject(&subject, s, c->nr, c->subject);
	mail(out, r->from, r->date, subject.s, body.s);
	free(body.s);
	free(subject.s);
	free(intro.s);
}

/* The files of the whole series, each once. */
static size_t series_stat(const struct series *s, struct stat_entry **out)
{
	struct stat_entry *v = NULL;
	size_t n = 0, i, j, k;

	for (i = 0; i < s->n; i++) {
		const struct conv *c = s->v[i];

		for (j = 0; c->nr && j < c->ch.nfiles; j++) {
			for (k = 0; k < n && strcmp(v[k].path, c->stat[j].path);)
				k++;
			if (k == n) {
				v = realloc(v, (n + 1) * sizeof(*v));
				if (!v)
					exit(EXIT_INTERNAL);
				v[n++] = (struct stat_entry){ c->stat[j].path, 0, 0 };
			}
			v[k].ins += c->stat[j].ins;
			v[k].del += c->stat[j].del;
		}
	}
	*out = v;
	return n;
}

void cover_mail(const struct run *r, const struct series *s, struct sbuf *out)
{
	struct sbuf body = { 0 }, subject = { 0 }, text = { 0 };
	const struct sweep *sw = r->sw;
	int nauto = 0, nsugg = 0, left_out = 0;
	struct stat_entry *stat;
	size_t i, nstat, n = strcspn(r->from, "<");

	for (i = 0; i < s->n; i++) {
		nauto += s->v[i]->nr && !strcmp(s->v[i]->kind, "auto");
		nsugg += s->v[i]->nr && strcmp(s->v[i]->kind, "auto");
	}
	sb_printf(&text, "%d conversion%s of code that breaks on PREEMPT_RT, written by rtcheck %s "
		  "from its sweep of", s->npatches, s->npatches == 1 ? "" : "s", RTCHECK_VERSION);
	for (i = 0; i < sw->npaths; i++)
		sb_printf(&text, " %s", sw->paths[i].rel);
	sb_printf(&text, "%s in %s (configured in %s): %d automatic, %d suggestion%s to review.",
		  sw->npaths ? "" : " the whole tree", sw->kb.src, sw->kb.build, nauto, nsugg,
		  nsugg == 1 ? "" : "s");
	sb_wrap(&body, 0, text.s, WIDTH, 0);
	sb_add(&body, "\n\n", 2);
	sentence(&body, "each patch is one conversion and names the findings it fixes with "
		 "their chains. The patches carry no Signed-off-by: add yours (git am -s) once "
		 "you have reviewed them");
	for (i = 0; i < s->n; i++) {
		if (!s->v[i]->skip[0])
			continue;
		if (!left_out++)
			sb_add(&body, "\nNot in this series:\n", 21);
		located(&body, 2, s->v[i]->fixes[0], s->v[i]->skip);
	}
	while (n && r->from[n - 1] == ' ')
		n--;
	sb_printf(&body, "\n%.*s (%d):\n", (int)n, r->from, s->npatches);
	for (i = 0; i < s->n; i++) {
		if (!s->v[i]->nr)
			continue;
		sb_printf(&body, "  %s: ", s->prefix);
		sb_wrap(&body, 4 + strlen(s->prefix), s->v[i]->subject, WIDTH, 4);
		sb_add(&body, "\n", 1);
	}
	sb_add(&body, "\n", 1);
	nstat = series_stat(s, &stat);
	diffstat(&body, stat, nstat);
	sb_printf(&body, "\n-- \nrtcheck %s\n\n", RTCHECK_VERSION);
	sb_printf(&subject, "[PATCH 0/%d] %s: PREEMPT_RT conversions found by rtcheck",
		  s->npatches, s->prefix);
	mail(out, r->from, r->date, subject.s, body.s);
	free(stat);
	free(body.s);
	free(subject.s);
	free(text.s);
}
