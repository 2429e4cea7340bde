// SPDX-License-Identifier: GPL-2.0
/* Cross-TU fixture: per-CPU data with no serialisation of its own here. */
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/local_lock.h>
#include <linux/percpu.h>

struct xtu_frames {
	struct list_head list;
	void *last;
};

static DEFINE_PER_CPU(struct xtu_frames, xtu_frames);
static DEFINE_PER_CPU(unsigned long, xtu_frame_count);

struct xtu_locked {
	local_lock_t bh_lock;
	void *last;
};

static DEFINE_PER_CPU(struct xtu_locked, xtu_locked) = {
	.bh_lock = INIT_LOCAL_LOCK(bh_lock),
};

static void xtu_remember(void *frame)
{
	struct xtu_frames *f = this_cpu_ptr(&xtu_frames);

	f->last = frame; /* expect: rt-percpu-bh (cross-TU) */
}

void xtu_queue_frame(void *frame)
{
	xtu_remember(frame);
}

void xtu_flush_frames(void)
{
	struct xtu_frames *f = this_cpu_ptr(&xtu_frames);

	INIT_LIST_HEAD(&f->list);
}

/* A blind statistics counter: at worst a lost count. */
void xtu_count_frame(void)
{
	__this_cpu_inc(xtu_frame_count);
}

/* Serialised by its own local_lock_t. */
void xtu_locked_queue(void *frame)
{
	local_lock_nested_bh(&xtu_locked.bh_lock);
	this_cpu_ptr(&xtu_locked)->last = frame;
	local_unlock_nested_bh(&xtu_locked.bh_lock);
}

/* Serialised by a lock of its own (as rt_uncached_list); storing the pointer is not a use. */
struct xtu_uncached {
	spinlock_t lock;
	struct list_head head;
};

static DEFINE_PER_CPU(struct xtu_uncached, xtu_uncached);

void xtu_uncached_add(struct list_head *item, struct xtu_uncached **owner)
{
	struct xtu_uncached *ul = raw_cpu_ptr(&xtu_uncached);

	*owner = ul;
	spin_lock_bh(&ul->lock);
	list_add_tail(item, &ul->head);
	spin_unlock_bh(&ul->lock);
}
