//===- KernelApi.h - kernel API table lookup --------------------*- C++ -*-===//
// The table itself is include/rtcheck/kernel_api.def; this only indexes it.
#ifndef RTCHECK_CORE_KERNELAPI_H
#define RTCHECK_CORE_KERNELAPI_H

#include "llvm/ADT/StringRef.h"

namespace rtcheck {

enum class ApiEffect {
  RWSEM_NON_OWNER,
  RAW_LOCK, RAW_UNLOCK, RAW_TRYLOCK,
  PREEMPT_OFF, PREEMPT_ON,
  IRQ_OFF, IRQ_ON,
  BH_OFF, BH_ON,
  MIGRATE_OFF, MIGRATE_ON,
  RT_LOCK, RT_LOCK_BH, LOCAL_LOCK, RT_UNLOCK, RT_UNLOCK_BH, RT_TRYLOCK,
  SLEEPING_LOCK, SLEEPING_UNLOCK,
  ALLOCATES, FREES,
  SLEEPS, SLEEPS_ON_RT,
  BPF_RUN,
  PERCPU_RMW, PERCPU_COUNT, PERCPU_PTR, PERCPU_CPU_PTR, PERCPU_READ,
  LOCK_HELD, PEEK, LOCKLESS, STATS,
  LAST_REF,
  COND_TRANSPARENT,
  CONFIG_TEST,
  RT_CONFIG_ON,
};

struct ApiEntry {
  llvm::StringRef Name;
  ApiEffect Effect;
  int Arg;            ///< argument naming the lock, or -1
  llvm::StringRef Why; ///< for operations that sleep on RT
  /// A raw lock operation that also disables (lock) or restores (unlock)
  /// interrupts: raw_spin_lock_irqsave(), raw_spin_unlock_irqrestore().
  bool IrqsToo = false;
};

/// The table entry for a name spelled in the source, or null.
const ApiEntry *lookupApi(llvm::StringRef Name);

inline bool hasEffect(llvm::StringRef Name, ApiEffect E) {
  const ApiEntry *A = lookupApi(Name);
  return A && A->Effect == E;
}

/// What the system is doing when Function, defined in File (any path ending
/// in the table's), runs: "a panic" (include/rtcheck/dying_contexts.def), or
/// null for an ordinary function.
const char *dyingContext(llvm::StringRef Function, llvm::StringRef File);

} // namespace rtcheck
#endif
