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
};

/// The points of each function of the main file, in access order. A pointer
/// passed whole to a function of the file is left to that function, and so
/// is a header struct used as a container of fields (softnet_data) passed
/// whole to any function.
llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuPoint>> perCpuPoints(const TuFacts &TU);

} // namespace rtcheck
#endif
