//===- RtSkippedLock.h - lock wrappers that take nothing on RT -*- C++ -*-===//
// Linux 6.1's rps_lock_irqsave():
//
//   if (IS_ENABLED(CONFIG_RPS))
//           spin_lock_irqsave(&sd->input_pkt_queue.lock, *flags);
//   else if (!IS_ENABLED(CONFIG_PREEMPT_RT))
//           local_irq_save(*flags);
//
// The lock is taken with one config option, interrupts are disabled without
// it, and PREEMPT_RT without the option gets neither: the data is then
// serialised only by disabled BH. The branches are C, not #ifdef, so every
// configuration's code is in the AST, whatever the configured tree says.
#ifndef RTCHECK_CORE_RTSKIPPEDLOCK_H
#define RTCHECK_CORE_RTSKIPPEDLOCK_H

#include "core/Analysis.h"

namespace rtcheck {

struct RtSkippedLock {
  const FunctionFacts *F;
  const clang::IfStmt *LockIf;   ///< if (IS_ENABLED(CONFIG_X)) lock;
  const clang::IfStmt *AtomicIf; ///< else if (!IS_ENABLED(CONFIG_PREEMPT_RT)) irqs off;
  std::string Option;            ///< "CONFIG_RPS"
  std::string LockCall;          ///< "spin_lock_irqsave"
  std::string LockArg;           ///< "&sd->input_pkt_queue.lock"
  std::string AtomicCall;        ///< "local_irq_save"
  bool Releases;                 ///< the unlock side: spin_unlock_irqrestore(), local_irq_restore()
};

/// The functions of the main file with such a branch, in source order: the
/// first branch a config test (not an RT option) around a lock or unlock, the
/// else an "if" that RT never takes around irq/BH/preemption off or on, and
/// no final else.
std::vector<RtSkippedLock> rtSkippedLocks(const TuFacts &TU);

} // namespace rtcheck
#endif
