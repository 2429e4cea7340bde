// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-TU fixture: truly atomic sections that call functions defined in the
 * other files of this directory. The expectations are on the sleeping calls,
 * in the files where they are: "expect: RULE (cross-TU)".
 */
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/panic.h>
#include <linux/reboot.h>
#include <linux/spinlock.h>

static DEFINE_RAW_SPINLOCK(xtu_raw_lock);

void xtu_alloc_elem(void);
void xtu_take_lock(void);
void xtu_no_sleep(void);
void xtu_middle(void);
void xtu_boot_alloc(void);
irqreturn_t xtu_hard_handler(int irq, void *dev);
irqreturn_t xtu_threaded_handler(int irq, void *dev);
void xtu_restart_cleanup(void);
void xtu_sleepy(void);
void xtu_put_irqs_off(void);
void xtu_put_raw_lock(void);

/* Guards in the callee (xtu_helpers.c): with interrupts off the deferral is
 * taken, under a raw lock that leaves them on the inline free. */
void xtu_puts(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&xtu_raw_lock, flags);
	xtu_put_irqs_off();
	raw_spin_unlock_irqrestore(&xtu_raw_lock, flags);
	raw_spin_lock(&xtu_raw_lock);
	xtu_put_raw_lock();
	raw_spin_unlock(&xtu_raw_lock);
}

/* One hop: the allocation is in xtu_helpers.c. */
void xtu_under_raw_lock(void)
{
	raw_spin_lock(&xtu_raw_lock);
	xtu_alloc_elem();
	raw_spin_unlock(&xtu_raw_lock);
}

/* Three TUs: xtu_middle() (xtu_middle.c) reaches xtu_take_lock() through a static. */
static void xtu_irqs_off(void)
{
	unsigned long flags;

	local_irq_save(flags);
	xtu_middle();
	local_irq_restore(flags);
}

void xtu_entry(void)
{
	xtu_irqs_off();
}

/* Legal neighbours: the callee does not sleep; the call is outside the section. */
void xtu_quiet(void)
{
	raw_spin_lock(&xtu_raw_lock);
	xtu_no_sleep();
	raw_spin_unlock(&xtu_raw_lock);
	xtu_alloc_elem();
}

/* Boot code (start_kernel's irqs-off stretch): nothing else runs yet, it may sleep. */
void __init xtu_boot(void)
{
	local_irq_disable();
	xtu_boot_alloc();
	local_irq_enable();
}

/* A hard-irq handler defined elsewhere; a threaded one is preemptible on RT. */
int xtu_setup(void)
{
	int ret = request_irq(1, xtu_hard_handler, IRQF_NO_THREAD, "xtu-hard", NULL);

	return ret ?: request_irq(2, xtu_threaded_handler, 0, "xtu-threaded", NULL);
}

/*
 * The system is going down (include/rtcheck/dying_contexts.def): an emergency
 * restart's irqs-off stretch may sleep in another TU, and oops_end() (in
 * xtu_middle.c) passes nothing up to the raw-locked section that calls it.
 */
void emergency_restart(void)
{
	local_irq_disable();
	xtu_restart_cleanup();
}

void oops_end(unsigned long flags, struct pt_regs *regs, int signr); /* asm/kdebug.h */

void xtu_calls_panic(void)
{
	raw_spin_lock(&xtu_raw_lock);
	oops_end(0, NULL, 0);
	raw_spin_unlock(&xtu_raw_lock);
}

/*
 * Called with the raw lock held, it drops it around a call that may sleep (as
 * futex's __fixup_pi_state_owner() around its fault-in): nothing to report.
 */
static noinline void xtu_unlock_around(void)
{
	raw_spin_unlock(&xtu_raw_lock);
	xtu_sleepy();
	raw_spin_lock(&xtu_raw_lock);
}

void xtu_relock(void)
{
	raw_spin_lock(&xtu_raw_lock);
	xtu_unlock_around();
	raw_spin_unlock(&xtu_raw_lock);
}

/* A put under the raw lock (xtu_helpers.c): freeing needs the last reference. */
struct xtu_obj;
void xtu_obj_put(struct xtu_obj *o);

void xtu_put_obj_locked(struct xtu_obj *o)
{
	raw_spin_lock(&xtu_raw_lock);
	xtu_obj_put(o);
	raw_spin_unlock(&xtu_raw_lock);
}
