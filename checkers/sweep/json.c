// SPDX-License-Identifier: GPL-2.0
/* A small recursive-descent JSON reader (RFC 8259), see json.h. */
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

struct parser {
	const char *s, *end, *start;
	char *err;
	size_t errlen;
	int failed;
};

static void perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	const char *c;
	int line = 1;
	char msg[256];

	if (p->failed)
		return;
	p->failed = 1;
	for (c = p->start; c < p->s && c < p->end; c++)
		line += *c == '\n';
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "line %d: %s", line, msg);
}

static void skip_ws(struct parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static struct json *new_value(enum json_type type)
{
	struct json *j = calloc(1, sizeof(*j));

	if (j)
		j->type = type;
	return j;
}

void json_free(struct json *j)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < j->n; i++) {
		json_free(j->items[i]);
		if (j->keys)
			free(j->keys[i]);
	}
	free(j->items);
	free(j->keys);
	free(j->str);
	free(j);
}

static int hex4(struct parser *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	if (p->end - p->s < 4) {
		perr(p, "truncated \\u escape");
		return -1;
	}
	for (i = 0; i < 4; i++) {
		char c = *p->s++;

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else {
			perr(p, "bad \\u escape");
			return -1;
		}
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | (cp >> 6);
		o[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = 0xe0 | (cp >> 12);
		o[1] = 0x80 | ((cp >> 6) & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | (cp >> 18);
	o[1] = 0x80 | ((cp >> 12) & 0x3f);
	o[2] = 0x80 | ((cp >> 6) & 0x3f);
	o[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* At the opening quote; returns the decoded string (malloc'd) or NULL. */
static char *parse_string(struct parser *p)
{
	const char *q;
	char *buf, *o;

	p->s++;
	/* The decoded form is never longer than the literal. */
	for (q = p->s; q < p->end && *q != '"'; q++)
		if (*q == '\\')
			q++;
	if (q >= p->end) {
		perr(p, "unterminated string");
		return NULL;
	}
	buf = malloc(q - p->s + 1);
	if (!buf) {
		perr(p, "out of memory");
		return NULL;
	}
	o = buf;
	while (*p->s != '"') {
		unsigned char c = *p->s++;
		uint32_t cp, lo;

		if (c < 0x20) {
			perr(p, "control character in string");
			goto fail;
		}
		if (c != '\\') {
			*o++ = c;
			continue;
		}
		switch (*p->s++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(p, &cp))
				goto fail;
			/* A surrogate pair is 12 bytes of literal for 4 of UTF-8. */
			if (cp >= 0xd800 && cp < 0xdc00 && p->end - p->s >= 6 &&
			    p->s[0] == '\\' && p->s[1] == 'u') {
				p->s += 2;
				if (hex4(p, &lo))
					goto fail;
				if (lo >= 0xdc00 && lo < 0xe000)
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				else
					cp = 0xfffd;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd;
			}
			o += put_utf8(o, cp);
			break;
		default:
			perr(p, "bad escape in string");
			goto fail;
		}
	}
	p->s++;
	*o = '\0';
	return buf;
fail:
	free(buf);
	return NULL;
}

static int append(struct json *j, struct json *item, char *key)
{
	if ((j->n & (j->n - 1)) == 0) {	/* grow at powers of two */
		size_t cap = j->n ? j->n * 2 : 4;
		struct json **items = realloc(j->items, cap * sizeof(*items));

		if (!items)
			return -1;
		j->items = items;
		if (j->type == JSON_OBJECT) {
			char **keys = realloc(j->keys, cap * sizeof(*keys));

			if (!keys)
				return -1;
			j->keys = keys;
		}
	}
	j->items[j->n] = item;
	if (j->type == JSON_OBJECT)
		j->keys[j->n] = key;
	j->n++;
	return 0;
}

static struct json *parse_value(struct parser *p, int depth);

static struct json *parse_container(struct parser *p, int depth, enum json_type type)
{
	char close = type == JSON_ARRAY ? ']' : '}';
	struct json *j = new_value(type);

	if (!j) {
		perr(p, "out of memory");
		return NULL;
	}
	p->s++;
	skip_ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return j;
	}
	for (;;) {
		char *key = NULL;
		struct json *item;

		skip_ws(p);
		if (type == JSON_OBJECT) {
			if (p->s >= p->end || *p->s != '"') {
				perr(p, "expected a member name");
				goto fail;
			}
			key = parse_string(p);
			if (!key)
				goto fail;
			skip_ws(p);
			if (p->s >= p->end || *p->s != ':') {
				free(key);
				perr(p, "expected ':'");
				goto fail;
			}
			p->s++;
		}
		item = parse_value(p, depth + 1);
		if (!item || append(j, item, key)) {
			json_free(item);
			free(key);
			perr(p, "out of memory");
			goto fail;
		}
		skip_ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			return j;
		}
		perr(p, "expected ',' or '%c'", close);
		goto fail;
	}
fail:
	json_free(j);
	return NULL;
}

static struct json *parse_literal(struct parser *p, const char *word, enum json_type type)
{
	size_t n = strlen(word);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n)) {
		perr(p, "unexpected character '%c'", *p->s);
		return NULL;
	}
	p->s += n;
	return new_value(type);
}

static struct json *parse_number(struct parser *p)
{
	const char *b = p->s;
	struct json *j;

	while (p->s < p->end && strchr("+-0123456789.eE", *p->s))
		p->s++;
	j = new_value(JSON_NUMBER);
	if (j)
		j->str = strndup(b, p->s - b);
	return j;
}

static struct json *parse_value(struct parser *p, int depth)
{
	struct json *j;

	skip_ws(p);
	if (depth > JSON_MAX_DEPTH) {
		perr(p, "nested too deeply");
		return NULL;
	}
	if (p->s >= p->end) {
		perr(p, "unexpected end of input");
		return NULL;
	}
	switch (*p->s) {
	case '{':
		return parse_container(p, depth, JSON_OBJECT);
	case '[':
		return parse_container(p, depth, JSON_ARRAY);
	case '"':
		j = new_value(JSON_STRING);
		if (j && !(j->str = parse_string(p))) {
			free(j);
			j = NULL;
		}
		return j;
	case 't':
		return parse_literal(p, "true", JSON_TRUE);
	case 'f':
		return parse_literal(p, "false", JSON_FALSE);
	case 'n':
		return parse_literal(p, "null", JSON_NULL);
	default:
		if (*p->s == '-' || (*p->s >= '0' && *p->s <= '9'))
			return parse_number(p);
		perr(p, "unexpected character '%c'", *p->s);
		return NULL;
	}
}

struct json *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
	struct parser p = { text, text + len, text, err, errlen, 0 };
	struct json *j = parse_value(&p, 0);

	if (j) {
		skip_ws(&p);
		if (p.s < p.end) {
			perr(&p, "trailing characters");
			json_free(j);
			return NULL;
		}
	}
	return j;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	size_t i;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (i = 0; i < obj->n; i++)
		if (!strcmp(obj->keys[i], key))
			return obj->items[i];
	return NULL;
}

const char *json_get_string(const struct json *obj, const char *key)
{
	const struct json *v = json_get(obj, key);

	return v && v->type == JSON_STRING ? v->str : NULL;
}

void json_write_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}
