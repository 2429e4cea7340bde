// SPDX-License-Identifier: GPL-2.0
/* Cross-TU fixture: what the sections of xtu_sections.c call. */
#include <linux/hardirq.h>
#include <linux/interrupt.h>
#include <linux/workqueue.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

static DEFINE_SPINLOCK(xtu_lock);
static void *xtu_elem;

void xtu_alloc_elem(void)
{
	xtu_elem = kmalloc(64, GFP_ATOMIC); /* expect: rt-atomic-sleep (cross-TU) */
}

void xtu_take_lock(void)
{
	spin_lock(&xtu_lock); /* expect: rt-atomic-sleep (cross-TU) */
	xtu_elem = NULL;
	spin_unlock(&xtu_lock);
}

static struct work_struct xtu_work;

/* Free inline only with interrupts on, defer otherwise (__bpf_prog_put()). */
void xtu_put_irqs_off(void)
{
	if (in_irq() || irqs_disabled()) {
		schedule_work(&xtu_work);
		return;
	}
	kfree(xtu_elem);
}

void xtu_put_raw_lock(void)
{
	if (!irqs_disabled())
		kfree(xtu_elem); /* expect: rt-atomic-sleep (cross-TU) */
	else
		schedule_work(&xtu_work);
}

/* Called only by boot code with irqs off (xtu_sections.c xtu_boot()): silent. */
void xtu_boot_alloc(void)
{
	xtu_elem = kzalloc(16, GFP_KERNEL);
}

void xtu_no_sleep(void)
{
	WRITE_ONCE(xtu_elem, NULL);
}

irqreturn_t xtu_hard_handler(int irq, void *dev)
{
	kfree(xtu_elem); /* expect: rt-atomic-sleep (cross-TU) */
	return IRQ_HANDLED;
}

irqreturn_t xtu_threaded_handler(int irq, void *dev)
{
	void *p = kzalloc(32, GFP_KERNEL);

	kfree(p);
	return IRQ_HANDLED;
}

/* Called only by dying contexts (xtu_sections.c, xtu_middle.c): silent. */
void xtu_restart_cleanup(void)
{
	kfree(xtu_elem);
}

/* Called only with the caller's raw lock dropped (xtu_sections.c xtu_unlock_around()). */
void xtu_sleepy(void)
{
	might_sleep();
}

/* Frees only when its reference was the last: under a caller's raw lock
 * (xtu_sections.c xtu_put_obj_locked()), a note, not a warning. */
#include <linux/refcount.h>

struct xtu_obj {
	refcount_t ref;
};

void xtu_obj_put(struct xtu_obj *o)
{
	if (!refcount_dec_and_test(&o->ref))
		return;
	kfree(o); /* expect: rt-atomic-sleep (cross-TU) */
}
