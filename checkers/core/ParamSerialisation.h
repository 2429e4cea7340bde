//===- ParamSerialisation.h - what a function does with a pointer it is given -*- C++ -*-===//
// tasklet_action_common(this_cpu_ptr(&tasklet_vec), ...) takes the list
// with interrupts off; bstats_update(this_cpu_ptr(p->cpu_bstats), skb) only
// updates u64_stats; blk_complete_reqs(this_cpu_ptr(&blk_cpu_done)) only
// llist_del_all()s it. A per-CPU pointer handed to such a function is
// serialised by the function, not by the caller's disabled BH.
#ifndef RTCHECK_CORE_PARAMSERIALISATION_H
#define RTCHECK_CORE_PARAMSERIALISATION_H

#include "core/Analysis.h"

namespace rtcheck {

/// Whether every use G makes of its pointer parameter Index serialises
/// itself: under a lock or with interrupts or preemption off, through a
/// lockless, statistics or read-only API (kernel_api.def: LOCKLESS, STATS,
/// PEEK, lock operations on a lock it carries), a test of the pointer
/// itself, or handed to a function of the TU that serialises it in turn.
/// A use stored elsewhere (an alias) or returned is not.
bool serialisesParam(const TuFacts &TU, const FunctionFacts &G, unsigned Index);

/// A call of F to a lockless, statistics, read-only or lock API
/// (kernel_api.def): what it is given is serialised by the API.
bool serialisingCall(const FunctionFacts &F, const clang::CallExpr &C);

/// The function of the TU a call passes E to (as argument ArgIndex), if E
/// is one of the call's arguments.
const FunctionFacts *argumentOf(const TuFacts &TU, const clang::CallExpr &Call,
                                const clang::Expr *E, unsigned &ArgIndex);

} // namespace rtcheck
#endif
