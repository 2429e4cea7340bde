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

/*
 * One edit of a fix (what SARIF calls a replacement): the text of the
 * original file from start_line:start_column up to, not including,
 * end_line:end_column is replaced by text. Lines and columns are 1-based;
 * columns, char_offset and char_length count UTF-16 code units, as SARIF
 * does by default (the same as bytes for ASCII); offset and length are the
 * same region in bytes.
 */
struct rtcheck_edit {
	unsigned int offset;
	unsigned int length;
	unsigned int char_offset;
	unsigned int char_length;
	unsigned int start_line;
	unsigned int start_column;
	unsigned int end_line;
	unsigned int end_column;
	const char *text;
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
	/* the edits fix.diff is made of, all in fix_file (relative like the
	 * locations); none for RTCHECK_FIX_NONE */
	const char *fix_file;
	const struct rtcheck_edit *fix_edits;
	unsigned int n_fix_edits;
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
