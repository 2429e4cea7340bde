/* SPDX-License-Identifier: GPL-2.0 */
/* One-line errors of the C programs (design.md §3): "rtcheck: error: ...". */
#ifndef RTCHECK_ERRORS_H
#define RTCHECK_ERRORS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Prints the error and returns status, for "return die(EXIT_INPUT, ...)". */
static inline int __attribute__((format(printf, 2, 3))) die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("rtcheck: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* Formats the error into err for the caller to report; returns -1. */
static inline int __attribute__((format(printf, 3, 4)))
failf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

#endif
