//===- PerCpuPoints.h - where per-CPU data is used, in which context -*- C++ -*-===//
// A per-CPU access gives a pointer that is used later ("sd = this_cpu_ptr(
// &softnet_data); ... local_irq_disable(); sd->completion_queue ..."): what
// serialises the data is the context of each use, not of the access. The
// points of a function are its accesses without a stored pointer, and the
// uses of the pointers the others give.
#ifndef RTCHECK_CORE_PERCPUPOINTS_H
#define RTCHECK_CORE_PERCPUPOINTS_H

#include "core/Analysis.h"

namespace rtcheck {

struct PerCpuPoint {
  const FunctionFacts *F;
  const PerCpuAccess *Access;
  clang::SourceLocation Loc;    ///< the access
  clang::SourceLocation UseLoc; ///< where the data is used: the access, or a use of its pointer
  std::string Object;           ///< "softnet_data"
  std::string Field;            ///< for a header's struct, the field used: "process_queue"
  std::string What; ///< for messages: "sd->process_queue (sd = this_cpu_ptr(&softnet_data))"
  const ContextState *State;
  PerCpuUseKind Use = PerCpuUseKind::Whole; ///< through the pointer, how
  /// What must hold of F's parameters for the use to be reached.
  const ParamNeeds *Needs = nullptr;
};

/// The points of each function of the main file and of each header inline
/// the file calls (dev_xmit_recursion_inc(); FunctionFacts::InMainFile tells
/// them apart), in access order. A pointer passed whole to a function of the
/// file is left to that function, and so is a header struct used as a
/// container of fields (softnet_data) passed whole to any function; a header
/// inline's pointer passed whole to anything is left to its caller.
llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuPoint>> perCpuPoints(const TuFacts &TU);

/// How much a use says about the data, for choosing one use per line: a
/// read alone the least.
int useWeight(PerCpuUseKind K);

/// Whether a point reached with only BH disabled breaks on PREEMPT_RT. Blind
/// updates of a statistics counter (__this_cpu_inc(stats), sd->time_squeeze++,
/// whose value nothing reads back: ReadBack false) lose at worst a count, and
/// a field only read (a peek before taking the lock that guards it) breaks
/// nothing. A pointer to the data used whole, a field written or whose
/// address is taken, a pointer read from a per-CPU slot, or a counter whose
/// value is read back (a recursion limit) do.
bool pointMattersOnRt(const PerCpuPoint &P, bool ReadBack);

/// The point reads the data back: the object's updates are not blind statistics.
bool pointReadsValue(const PerCpuPoint &P);

/// spin_lock_bh(&ul->lock) with ul = raw_cpu_ptr(&rt_uncached_list): Bh is a
/// lock the per-CPU object carries, and it serialises the object.
bool lockOfTheObject(const PerCpuPoint &P, const HeldContext &Bh);

/// For chains: "updates this CPU's softnet_data.xmit non-atomically: ...".
std::string pointPhrase(const PerCpuPoint &P, const std::string &Object);

} // namespace rtcheck
#endif
