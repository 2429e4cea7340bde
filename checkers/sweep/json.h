/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small JSON reader for what the sweep reads: compile_commands.json (an
 * array of {directory, file, command|arguments}) and the finding objects of
 * rtcheck-clang --format=jsonl. Whole-document, in memory, UTF-8 in and out.
 */
#ifndef RTCHECK_SWEEP_JSON_H
#define RTCHECK_SWEEP_JSON_H

#include <stddef.h>
#include <stdio.h>

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
		 JSON_OBJECT };

struct json {
	enum json_type type;
	char *str;		/* JSON_STRING: the decoded value; JSON_NUMBER: its text */
	size_t n;		/* JSON_ARRAY, JSON_OBJECT: number of items */
	struct json **items;	/* the items, or the members' values */
	char **keys;		/* JSON_OBJECT: the members' names */
};

/* Parses text[0..len); NULL with a message ("line N: ...") in err. */
struct json *json_parse(const char *text, size_t len, char *err, size_t errlen);
void json_free(struct json *j);

/* The member key of an object (the first one of that name), or NULL. */
const struct json *json_get(const struct json *obj, const char *key);
/* The string value of member key, or NULL when missing or not a string. */
const char *json_get_string(const struct json *obj, const char *key);

/* Writes s as a JSON string literal. */
void json_write_string(FILE *out, const char *s);

#endif
