//===- TakeLockOnRt.h - take a config-only lock on PREEMPT_RT too -*- C++ -*-===//
// "if (IS_ENABLED(CONFIG_RPS)) spin_lock_irqsave(...); else if
// (!IS_ENABLED(CONFIG_PREEMPT_RT)) local_irq_save(...);" becomes
// "if (IS_ENABLED(CONFIG_RPS) || IS_ENABLED(CONFIG_PREEMPT_RT)) spin_lock_irqsave(...);
// else local_irq_save(...);": RT without the option does what RT with it
// already does, and !RT is unchanged (upstream's backlog_lock_irq_save()).
#ifndef RTCHECK_FIX_TAKELOCKONRT_H
#define RTCHECK_FIX_TAKELOCKONRT_H

#include "core/RtSkippedLock.h"
#include "fix/Fix.h"

namespace rtcheck {

/// The edits for one wrapper; false (and Fix.Reason) if they cannot be made.
bool takeLockOnRt(const RtSkippedLock &S, FixBuilder &Fix);

} // namespace rtcheck
#endif
