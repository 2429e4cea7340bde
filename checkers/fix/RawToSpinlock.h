//===- RawToSpinlock.h - raw_spinlock_t -> spinlock_t suggestion -*- C++ -*-===//
#ifndef RTCHECK_FIX_RAWTOSPINLOCK_H
#define RTCHECK_FIX_RAWTOSPINLOCK_H

#include "core/Analysis.h"

namespace rtcheck {

/// Builds the conversion of the raw lock that Acquire takes into a
/// spinlock_t (type, DEFINE_RAW_SPINLOCK, raw_spin_lock_init and every
/// raw_spin_* call on it), when the file shows every acquisition in a context
/// that is not truly atomic and the lock is private to the file. Returns
/// false with the reason in Why otherwise; on success Why is the evidence.
bool buildRawToSpinlock(const TuFacts &TU, const clang::CallExpr &Acquire, FixBuilder &Edits,
                        std::string &Why);

} // namespace rtcheck
#endif
