// SPDX-License-Identifier: GPL-2.0
#include <linux/bottom_half.h>
#include <linux/percpu.h>
#include "dup_nest.h"

int dup_xmit_b(void (*xmit)(void))
{
	local_bh_disable();
	if (dup_too_deep()) {
		local_bh_enable();
		return -1;
	}
	dup_enter();
	xmit();
	dup_leave();
	local_bh_enable();
	return 0;
}
