//===- GetCpuPtrToMigrate.h - get_cpu_ptr() -> migrate_disable() -*- C++ -*-===//
#ifndef RTCHECK_FIX_GETCPUPTRTOMIGRATE_H
#define RTCHECK_FIX_GETCPUPTRTOMIGRATE_H

#include "core/Analysis.h"

namespace rtcheck {

/// Documentation/locking/locktypes.rst, "spinlock_t and PREEMPT_RT": a
/// get_cpu_ptr(X) (or get_cpu_var(v)) section of F that takes a spinlock_t
/// becomes "migrate_disable(); p = this_cpu_ptr(X);" with migrate_enable()
/// for each put_cpu_ptr(X) that ends it. Only when every exit is a plain
/// put_cpu_ptr() of the same object in F, every sleeping operation of the
/// section is a spinlock_t acquisition or runs under one, and nothing else in
/// the section relies on preemption being off (per-CPU updates, stores
/// through the pointer or the pointer handed to a function outside the lock).
/// False with the reason in Why otherwise.
bool buildGetCpuPtrToMigrate(const TuFacts &TU, const FunctionFacts &F, const HeldContext &Section,
                             FixBuilder &Edits, std::string &Why);

} // namespace rtcheck
#endif
