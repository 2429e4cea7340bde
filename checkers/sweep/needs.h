/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a site needs of its function's parameters, and what a call passes
 * (docs/facts.md "needs", "args"): the C twin of core/ParamConditions. A site
 * behind "if (!timeout) return;" needs p3!=0; a caller that passes 0 does not
 * reach it.
 */
#ifndef RTCHECK_SWEEP_NEEDS_H
#define RTCHECK_SWEEP_NEEDS_H

#define XTU_MAX_NEEDS 4
#define XTU_MAX_ARGS 8

struct xneed {
	unsigned param;
	int eq;			/* param & mask == value, else != */
	long long value;
	unsigned long long mask;	/* ~0, or what the function keeps of it */
};

struct xneeds {
	struct xneed v[XTU_MAX_NEEDS];
	unsigned n;
};

enum xarg_kind { XARG_UNKNOWN, XARG_CONST, XARG_NONZERO, XARG_PARAM, XARG_NOTPARAM };

struct xarg {
	enum xarg_kind kind;
	long long value;	/* XARG_CONST */
	unsigned index;		/* XARG_PARAM, XARG_NOTPARAM: the caller's parameter */
};

struct xargs {
	struct xarg v[XTU_MAX_ARGS];
	unsigned n;
};

/* "p3!=0,p0==0,p2&0xffffffffffff00ff==4" (the needs column); what does not
 * parse is left out. */
void xneeds_parse(const char *text, struct xneeds *out);
/* "?,nz,0,p2,!p1" (the args column). */
void xargs_parse(const char *text, struct xargs *out);
/* Adds the callee's needs in, in the caller's terms through args, to out:
 * 0, or -1 when an argument rules the site out. */
int xneeds_map(const struct xneeds *in, const struct xargs *args, struct xneeds *out);

#endif
