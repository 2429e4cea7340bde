// SPDX-License-Identifier: GPL-2.0
/* Cross-TU fixture: a pass-through TU, no context of its own. */
#include <linux/panic.h>

void xtu_take_lock(void);
void xtu_restart_cleanup(void);

static noinline void xtu_middle_step(void)
{
	xtu_take_lock();
}

void xtu_middle(void)
{
	xtu_middle_step();
}

/* A dying context (xtu_sections.c xtu_calls_panic()): what sleeps below stays here. */
void oops_end(unsigned long flags, struct pt_regs *regs, int signr)
{
	xtu_restart_cleanup();
}
