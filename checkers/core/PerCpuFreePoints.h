//===- PerCpuFreePoints.h - per-CPU uses whose callers decide ---*- C++ -*-===//
// Which per-CPU objects a function serialises with their own local_lock_t,
// and the per-CPU uses nothing in their function serialises: the context a
// caller gives them decides (rt-percpu-bh, and the sweep across TUs).
#ifndef RTCHECK_CORE_PERCPUFREEPOINTS_H
#define RTCHECK_CORE_PERCPUFREEPOINTS_H

#include "core/PerCpuPoints.h"
#include "llvm/ADT/StringSet.h"

namespace rtcheck {

using PerCpuPointMap = llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuPoint>>;

/// "softnet_data.xmit" -> "softnet_data": what a local_lock of the variable covers.
inline llvm::StringRef baseObject(llvm::StringRef Object) {
  return Object.take_until([](char C) { return C == '.'; });
}

/// Per function, the objects whose local_lock_t it takes
/// ("local_lock_nested_bh(&napi_alloc_cache.bh_lock)") or asserts held
/// (lockdep_assert_held(&srh_state->bh_lock), srh_state a this_cpu_ptr()).
class LockedObjects {
public:
  explicit LockedObjects(const TuFacts &TU);
  bool locks(const FunctionFacts &F, llvm::StringRef Object) const;

private:
  llvm::DenseMap<const FunctionFacts *, llvm::StringSet<>> Locked;
};

/// A point with no serialisation of its own, and the calls down to it.
struct FreePoint {
  PerCpuPoint Point;
  std::vector<ChainStep> Calls;
};

/// The free points of each function without an entry context: its own, and
/// those of the TU functions it calls in no context, at most MaxDepth calls down.
llvm::DenseMap<const FunctionFacts *, std::vector<FreePoint>>
findFreePoints(const TuFacts &TU, const PerCpuPointMap &Points, const LockedObjects &Locked,
               size_t MaxDepth);

} // namespace rtcheck
#endif
