/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A recursion counter in a header, as softnet_data.xmit.recursion is: both
 * TUs reach it with only BH disabled and report it at the read in
 * dup_too_deep(); the sweep lists it once (tests/test_sweep_xtu.py).
 */
#include <linux/percpu.h>

DECLARE_PER_CPU(unsigned int, dup_nest);

static inline bool dup_too_deep(void)
{
	return __this_cpu_read(dup_nest) > 3;
}

static inline void dup_enter(void)
{
	__this_cpu_inc(dup_nest);
}

static inline void dup_leave(void)
{
	__this_cpu_dec(dup_nest);
}
