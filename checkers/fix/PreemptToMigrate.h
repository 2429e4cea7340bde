//===- PreemptToMigrate.h - preempt_disable() -> migrate_disable() -*- C++ -*-===//
#ifndef RTCHECK_FIX_PREEMPTTOMIGRATE_H
#define RTCHECK_FIX_PREEMPTTOMIGRATE_H

#include "core/Analysis.h"

namespace rtcheck {

/// The BPF conversion of 2020 (tglx, "bpf: Replace preempt_disable() with
/// migrate_disable()"): the preempt_disable() that enters Section and every
/// preempt_enable() that ends it become migrate_disable()/migrate_enable().
/// Only for a plain preempt_disable() section of F whose every exit is a
/// plain preempt_enable(); false with the reason in Why otherwise.
bool buildPreemptToMigrate(const FunctionFacts &F, const HeldContext &Section, FixBuilder &Edits,
                           std::string &Why);

} // namespace rtcheck
#endif
