//===- BpfSectionLock.h - a local_lock_t for a BPF section's per-CPU data -*- C++ -*-===//
#ifndef RTCHECK_FIX_BPFSECTIONLOCK_H
#define RTCHECK_FIX_BPFSECTIONLOCK_H

#include "core/BpfRuns.h"
#include "fix/BpfPreemptFix.h"

namespace rtcheck {

/// The conversion upstream made for seg6_bpf_srh_states (6.11, d1542d4ae4df),
/// for a preempt_disable() Section of F around a BPF run that also updates
/// per-CPU data (Update: where, in F or a TU function called in it):
///  - a "local_lock_t bh_lock;" member first in the variable's struct, and
///    ".bh_lock = INIT_LOCAL_LOCK(bh_lock)" in its DEFINE_PER_CPU(), unless
///    the struct has a bh_lock already;
///  - preempt_disable()/preempt_enable() -> local_lock()/local_unlock() of
///    &v.bh_lock (local_lock_nested_bh() where the tree has it and BH is off
///    around the section), with the section's pointer to this CPU's instance
///    taken inside the lock;
///  - lockdep_assert_held(&p->bh_lock) in the functions that use the
///    variable and run inside the section: the TU's functions called in it
///    and, in other files (core/BpfTreeUses), the program's helpers.
/// Edits outside the checked file (the struct in a header, the DEFINE or the
/// helpers in another TU) make the patch a multi-file diff (Fix.Diff).
BpfPreemptFix buildBpfSectionLock(const TuFacts &TU, const FunctionFacts &F,
                                  const HeldContext &Section, const BpfPath &Update,
                                  const FindingSink &Out, FixBuilder &Edits);

} // namespace rtcheck
#endif
