// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-TU fixture: a NAPI poll function (softirq) and a BH-disabled section
 * that use per-CPU data of xtu_percpu.c through its functions.
 */
#include <linux/bottom_half.h>
#include <linux/netdevice.h>

void xtu_queue_frame(void *frame);
void xtu_flush_frames(void);
void xtu_count_frame(void);
void xtu_locked_queue(void *frame);
struct xtu_uncached;
void xtu_uncached_add(struct list_head *item, struct xtu_uncached **owner);

static struct xtu_uncached *xtu_owner;
static struct list_head xtu_item;

static int xtu_poll(struct napi_struct *napi, int budget)
{
	xtu_queue_frame(napi);
	xtu_count_frame();
	xtu_locked_queue(napi);
	xtu_uncached_add(&xtu_item, &xtu_owner);
	return 0;
}

void xtu_napi_setup(struct net_device *dev, struct napi_struct *napi)
{
	netif_napi_add(dev, napi, xtu_poll);
}

void xtu_bh_flush(void)
{
	local_bh_disable();
	xtu_flush_frames();
	local_bh_enable();
}
