// SPDX-License-Identifier: GPL-2.0
/* Cross-TU fixture: a pass-through TU, no context of its own. */
void xtu_take_lock(void);

static noinline void xtu_middle_step(void)
{
	xtu_take_lock();
}

void xtu_middle(void)
{
	xtu_middle_step();
}
