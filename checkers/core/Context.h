//===- Context.h - the RT execution context at a program point --*- C++ -*-===//
// The state of the dataflow (model: Clang's thread-safety analysis lock
// sets): the contexts held at a point, each with where it began, so a finding
// can tell the chain from the context's entry to the offending call.
#ifndef RTCHECK_CORE_CONTEXT_H
#define RTCHECK_CORE_CONTEXT_H

#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/Basic/SourceLocation.h"
#include <string>
#include <vector>

namespace rtcheck {

enum class ContextKind {
  RawLock,      ///< raw/bit/arch spinlock held
  PreemptOff,   ///< preempt_disable() and friends
  IrqOff,       ///< local_irq_disable()/save()
  HardIrq,      ///< function runs as a hard-irq handler or IPI callback
  Nmi,          ///< function runs as an NMI handler
  BhOff,        ///< local_bh_disable(): a per-CPU lock on RT, not atomic
  MigrateOff,   ///< migrate_disable(): preemptible
  RtLock,       ///< spinlock_t/rwlock_t/local_lock_t held: preemptible on RT
  SleepingLock, ///< mutex, rw_semaphore held
  IrqWork,      ///< function runs as an irq_work callback (a thread on RT)
  Softirq,      ///< function runs in softirq context (NAPI poll, timer, tasklet ...)
};

inline unsigned kindBit(ContextKind K) { return 1u << unsigned(K); }

/// A lock of some kind, not a context without an object.
inline bool isLock(ContextKind K) {
  return K == ContextKind::RawLock || K == ContextKind::RtLock || K == ContextKind::SleepingLock;
}

/// What RT's lockdep calls LD_WAIT_SPIN: nothing that sleeps on RT may run.
inline bool isTrulyAtomic(ContextKind K) {
  return K == ContextKind::RawLock || K == ContextKind::PreemptOff ||
         K == ContextKind::IrqOff || K == ContextKind::HardIrq || K == ContextKind::Nmi;
}

/// A step of a finding's chain, in source terms.
struct ChainStep {
  clang::SourceLocation Loc;
  std::string Function;
  std::string Note;
};

struct HeldContext {
  ContextKind Kind;
  std::string Key;       ///< the lock as written ("&trie->lock"), or empty
  std::string Api;       ///< what entered it: "raw_spin_lock_irqsave"
  clang::SourceLocation Begin; ///< where, in this function (identity of the entry)
  /// How it was entered, outermost first: a callee that returns with the lock
  /// held, or the registration that makes a function a hard-irq handler.
  std::vector<ChainStep> Origin;
  bool Must = true;      ///< held on every path to this point
  bool DisablesBh = false; ///< RtLock taken with BH disabled (spin_lock_bh())
  bool LocalLock = false;  ///< RtLock that is a local_lock_t (local_lock_nested_bh())
  /// RawLock whose entry also disabled interrupts (raw_spin_lock_irqsave()):
  /// a raw_spin_unlock() leaves an IrqOff behind.
  bool IrqsOff = false;
  /// Taken again after the function dropped its caller's context of the same
  /// kind (__run_hrtimer(): unlock, run the callback, lock): the caller's
  /// context again, not one the function returns holding.
  bool Retaken = false;
  const clang::VarDecl *Guard = nullptr; ///< guard() variable that ends it
  const clang::CallExpr *Call = nullptr; ///< the call that entered it, in this function
  /// Given to the whole function by how it is registered (hard-irq handler,
  /// IPI callback ...), not entered by its code.
  bool FromEntry = false;
  std::string Note;      ///< for FromEntry: "a hard-irq handler (not force-threaded)"
  /// FromEntry of a timer or soft hrtimer registration: the callbacks of
  /// one registration (Begin) never run at the same time on a CPU, even on
  /// RT (entry_contexts.def RTCHECK_SERIAL_CALLBACK).
  bool SerialCallback = false;

  bool sameEntry(const HeldContext &O) const {
    return Kind == O.Kind && Begin == O.Begin && Api == O.Api;
  }
};

struct ContextState {
  std::vector<HeldContext> Held;
  /// The function ended a context its caller began (hrtimer_sync_wait_running
  /// drops the caller's raw lock) on some path to here: what follows does not
  /// run in the caller's context.
  bool ReleasedInherited = false;
  /// Kinds (bits of ContextKind) of the caller's contexts the function has
  /// ended on some path to here and not taken again: what it releases.
  unsigned DroppedInherited = 0;
  /// Context facts (CONTEXT_FACT_*) known false on every path to here: a
  /// branch on "in_irq() || irqs_disabled()" went the "no" way. A caller
  /// whose context makes one of them true does not reach here.
  unsigned Excluded = 0;
  /// A context test on every path to here says the code runs truly atomic
  /// ("if (preempt_count() != 0 || irqs_disabled())"), whatever it is.
  bool Exclusive = false;

  /// The function itself entered a truly atomic context held on every path
  /// (not one given by how it is registered).
  bool ownTrulyAtomic() const {
    for (const HeldContext &H : Held)
      if (H.Must && !H.FromEntry && isTrulyAtomic(H.Kind))
        return true;
    return false;
  }

  /// The innermost truly atomic context held on every path, or null.
  const HeldContext *trulyAtomic() const {
    for (auto It = Held.rbegin(); It != Held.rend(); ++It)
      if (It->Must && isTrulyAtomic(It->Kind))
        return &*It;
    return nullptr;
  }
};

/// What the contexts held on every path make true (CONTEXT_FACT_* bits of
/// rtcheck/context_facts.h): irqs off, hard irq, a raised preempt count.
unsigned contextFacts(const ContextState &S);

/// "raw_spin_lock_irqsave(&trie->lock)", for messages.
std::string describe(const HeldContext &H);

} // namespace rtcheck
#endif
