// SPDX-License-Identifier: GPL-2.0
/*
 * The subjects of the sweep's patches: "<subsystem>: <what it does>", the
 * prefix from include/rtcheck/subsystems.def, the rest (and what the change
 * does without PREEMPT_RT) from include/rtcheck/conversions.def.
 */
#include "patches.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *path, *prefix;
} subsystems[] = {
#define RTCHECK_SUBSYSTEM(path, prefix) { path, prefix },
#include "rtcheck/subsystems.def"
#undef RTCHECK_SUBSYSTEM
};

static const struct {
	const char *rule, *start, *subject, *obj_after, *not_rt;
} conversions[] = {
#define RTCHECK_CONVERSION(rule, start, subject, obj_after, not_rt) \
	{ rule, start, subject, obj_after, not_rt },
#include "rtcheck/conversions.def"
#undef RTCHECK_CONVERSION
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The longest subsystems.def prefix of path, else the last directory of its
 * first two components (drivers/md/raid5.c: "md"; mm/slub.c: "mm"). */
char *subject_prefix(const char *path)
{
	char buf[128];
	const char *best = NULL, *first = strchr(path, '/'), *second;
	size_t best_len = 0, i;

	for (i = 0; i < N(subsystems); i++) {
		size_t n = strlen(subsystems[i].path);

		if (n > best_len && !strncmp(path, subsystems[i].path, n))
			best = subsystems[i].prefix, best_len = n;
	}
	if (best)
		return xstrdup(best);
	second = first ? strchr(first + 1, '/') : NULL;
	if (second)
		snprintf(buf, sizeof(buf), "%.*s", (int)(second - first - 1), first + 1);
	else
		snprintf(buf, sizeof(buf), "%.*s", (int)(first ? first - path : (long)strlen(path)),
			 path);
	return xstrdup(buf);
}

/* The object right after marker in text: "napi_alloc_cache", "stab->lock",
 * or the argument of a call there ("raw_spin_lock_bh(&stab->lock)"). */
static int object_after(const char *text, const char *marker, char *buf, size_t len)
{
	const char *p = strstr(text, marker);
	size_t n = 0;

	if (!p)
		return 0;
	for (p += strlen(marker);; p++) {
		while (*p == '&' || *p == '*')
			p++;
		for (n = 0; p[n] == '_' || p[n] == '.' || ((p[n] | 32) >= 'a' && (p[n] | 32) <= 'z') ||
			    (p[n] >= '0' && p[n] <= '9') || (p[n] == '-' && p[n + 1] == '>') ||
			    (p[n] == '>' && n && p[n - 1] == '-');)
			n++;
		if (p[n] != '(' || !n)
			break;
		p += n;
	}
	while (n && (p[n - 1] == '.' || p[n - 1] == '-'))	/* a sentence's full stop */
		n--;
	if (!n || n >= len)
		return 0;
	snprintf(buf, len, "%.*s", (int)n, p);
	return 1;
}

/* The subject after the prefix and the !PREEMPT_RT note, from conversions.def. */
void name_conversion(struct conv *c)
{
	const char *fn = json_str(c->fixes[0], "function"), *t = "Convert {fn}() for PREEMPT_RT";
	char obj[128] = "";
	size_t i, n = 0;

	for (i = 0; i < N(conversions); i++) {
		if (strcmp(c->rule, conversions[i].rule) ||
		    strncmp(c->summary, conversions[i].start, strlen(conversions[i].start)))
			continue;
		if (conversions[i].obj_after &&
		    !object_after(c->summary, conversions[i].obj_after, obj, sizeof(obj)) &&
		    !object_after(json_str(c->fixes[0], "message"), conversions[i].obj_after, obj,
				  sizeof(obj)))
			break;
		t = conversions[i].subject;
		c->not_rt = conversions[i].not_rt;
		break;
	}
	while (*t && n + 1 < sizeof(c->subject)) {
		const char *with = !strncmp(t, "{fn}", 4) ? fn : !strncmp(t, "{obj}", 5) ? obj : NULL;

		if (with) {
			n += snprintf(c->subject + n, sizeof(c->subject) - n, "%s", with);
			t += t[1] == 'f' ? 4 : 5;
		} else {
			c->subject[n++] = *t++;
		}
		if (n >= sizeof(c->subject))
			n = sizeof(c->subject) - 1;
	}
	c->subject[n] = '\0';
}
