/* SPDX-License-Identifier: GPL-2.0 */
/* What a truly atomic context makes true (irqs off, hard irq ...), as bits
 * shared by the Clang checker and the sweep: include/rtcheck/context_tests.def. */
#ifndef RTCHECK_CONTEXT_FACTS_H
#define RTCHECK_CONTEXT_FACTS_H

#include <string.h>

enum rtcheck_context_fact_index {
#define RTCHECK_CONTEXT_FACT(Id, Name) CONTEXT_FACT_INDEX_##Id,
#include "rtcheck/context_tests.def"
#undef RTCHECK_CONTEXT_FACT
	CONTEXT_FACT_COUNT
};

enum rtcheck_context_fact {
#define RTCHECK_CONTEXT_FACT(Id, Name) CONTEXT_FACT_##Id = 1u << CONTEXT_FACT_INDEX_##Id,
#include "rtcheck/context_tests.def"
#undef RTCHECK_CONTEXT_FACT
};

static const char *const rtcheck_context_fact_names[CONTEXT_FACT_COUNT] = {
#define RTCHECK_CONTEXT_FACT(Id, Name) Name,
#include "rtcheck/context_tests.def"
#undef RTCHECK_CONTEXT_FACT
};

/* The bit of a fact's name, or 0. */
static inline unsigned rtcheck_context_fact(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; i < CONTEXT_FACT_COUNT; i++)
		if (strlen(rtcheck_context_fact_names[i]) == len &&
		    !strncmp(rtcheck_context_fact_names[i], name, len))
			return 1u << i;
	return 0;
}

#endif
