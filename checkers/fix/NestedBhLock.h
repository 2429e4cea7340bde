//===- NestedBhLock.h - a local_lock_t for BH-only per-CPU data --*- C++ -*-===//
#ifndef RTCHECK_FIX_NESTEDBHLOCK_H
#define RTCHECK_FIX_NESTEDBHLOCK_H

#include "core/Analysis.h"

namespace rtcheck {

struct NestedBhSite {
  const FunctionFacts *F;
  const PerCpuAccess *Access;
};

/// The nested-BH conversion upstream made for napi_alloc_cache (bdacf3e34945):
/// a local_lock_t bh_lock member in the per-CPU struct, INIT_LOCAL_LOCK() in
/// its DEFINE_PER_CPU(), and local_lock_nested_bh()/local_unlock_nested_bh()
/// around each BH-only use (from the access to the last use of the pointer
/// it gives, in one block). Auto only for a static per-CPU variable of a
/// struct defined in the file; guard(local_lock_nested_bh) where a use ends
/// in a return (auto only if the function already uses guards). Returns the
/// fix kind; Summary says what it does or why there is none.
rtcheck_fix_kind buildNestedBhLock(const TuFacts &TU, llvm::ArrayRef<NestedBhSite> Sites,
                                   FixBuilder &Edits, std::string &Summary);

} // namespace rtcheck
#endif
