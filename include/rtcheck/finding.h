/* SPDX-License-Identifier: GPL-2.0 */
/* A finding, as plain C: shared by the Clang checker (C++) and the C parts. */
#ifndef RTCHECK_FINDING_H
#define RTCHECK_FINDING_H

#ifdef __cplusplus
extern "C" {
#endif

enum rtcheck_severity { RTCHECK_NOTE, RTCHECK_WARNING, RTCHECK_ERROR };

enum rtcheck_fix_kind { RTCHECK_FIX_NONE, RTCHECK_FIX_AUTO, RTCHECK_FIX_SUGGESTION };

/* Paths are relative to the kernel source root. */
struct rtcheck_location {
	const char *file;
	unsigned int line;
	unsigned int column;
	const char *function;
	const char *note;	/* what happens here, for context entries */
};

struct rtcheck_fix {
	enum rtcheck_fix_kind kind;
	const char *summary;	/* for RTCHECK_FIX_NONE: why there is no fix */
	const char *diff;	/* unified diff, a/ b/ paths; NULL when none */
};

struct rtcheck_finding {
	const char *rule;
	enum rtcheck_severity severity;
	struct rtcheck_location where;
	const char *message;
	/* chain from the context's entry to the offending call */
	const struct rtcheck_location *context;
	unsigned int n_context;
	struct rtcheck_fix fix;
};

static inline const char *rtcheck_severity_name(enum rtcheck_severity s)
{
	return s == RTCHECK_ERROR ? "error" : s == RTCHECK_WARNING ? "warning" : "note";
}

static inline const char *rtcheck_fix_kind_name(enum rtcheck_fix_kind k)
{
	return k == RTCHECK_FIX_AUTO ? "auto" : k == RTCHECK_FIX_SUGGESTION ? "suggestion" : "none";
}

#ifdef __cplusplus
}
#endif
#endif /* RTCHECK_FINDING_H */
