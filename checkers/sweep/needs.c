// SPDX-License-Identifier: GPL-2.0
/*
 * Parameter needs across TUs (needs.h): the same mapping as
 * core/ParamConditions.cpp's mapNeeds().
 */
#include "needs.h"

#include <stdlib.h>
#include <string.h>

static void add(struct xneeds *out, unsigned param, int eq, long long value,
		unsigned long long mask)
{
	unsigned i;

	for (i = 0; i < out->n; i++)
		if (out->v[i].param == param && out->v[i].eq == eq && out->v[i].value == value &&
		    out->v[i].mask == mask)
			return;
	if (out->n < XTU_MAX_NEEDS)
		out->v[out->n++] = (struct xneed){ param, eq, value, mask };
}

void xneeds_parse(const char *text, struct xneeds *out)
{
	const char *p = text;

	out->n = 0;
	while (p && *p == 'p') {
		char *end;
		unsigned long param = strtoul(p + 1, &end, 10);
		unsigned long long mask = ~0ull;
		long long value;
		int eq;

		if (*end == '&')
			mask = strtoull(end + 1, &end, 0);
		eq = !strncmp(end, "==", 2);
		if (!eq && strncmp(end, "!=", 2))
			return;
		value = strtoll(end + 2, &end, 10);
		add(out, (unsigned)param, eq, value, mask);
		p = *end == ',' ? end + 1 : NULL;
	}
}

void xargs_parse(const char *text, struct xargs *out)
{
	const char *p = text;

	out->n = 0;
	while (p && *p && out->n < XTU_MAX_ARGS) {
		struct xarg *a = &out->v[out->n++];
		size_t len = strcspn(p, ",");
		char *end;

		memset(a, 0, sizeof(*a));
		if (!strncmp(p, "nz", len) && len == 2) {
			a->kind = XARG_NONZERO;
		} else if (*p == 'p' || (*p == '!' && p[1] == 'p')) {
			a->kind = *p == '!' ? XARG_NOTPARAM : XARG_PARAM;
			a->index = (unsigned)strtoul(p + (*p == '!' ? 2 : 1), &end, 10);
		} else if (*p != '?') {
			a->value = strtoll(p, &end, 10);
			a->kind = end == p + len ? XARG_CONST : XARG_UNKNOWN;
		}
		p = p[len] == ',' ? p + len + 1 : NULL;
	}
}

int xneeds_map(const struct xneeds *in, const struct xargs *args, struct xneeds *out)
{
	unsigned i;

	for (i = 0; i < in->n; i++) {
		const struct xneed *n = &in->v[i];
		const struct xarg *a;

		if (n->param >= args->n)
			continue;	/* not given: may hold */
		a = &args->v[n->param];
		switch (a->kind) {
		case XARG_UNKNOWN:
			break;
		case XARG_CONST:
			if ((((unsigned long long)a->value & n->mask) ==
			     (unsigned long long)n->value) != n->eq)
				return -1;
			break;
		case XARG_NONZERO:	/* &p->rcu: not NULL */
			if (n->value == 0 && n->eq && n->mask == ~0ull)
				return -1;
			break;
		case XARG_PARAM:
			add(out, a->index, n->eq, n->value, n->mask);
			break;
		case XARG_NOTPARAM:	/* !p: 1 when p == 0, else 0 */
			if (n->mask != ~0ull)
				break;
			if (n->value != 0 && n->value != 1) {
				if (n->eq)
					return -1;
				break;
			}
			add(out, a->index, (n->value == 1) == n->eq, 0, ~0ull);
			break;
		}
	}
	return 0;
}
