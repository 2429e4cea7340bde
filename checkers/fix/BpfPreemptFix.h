//===- BpfPreemptFix.h - the fix of an rt-bpf-preempt section -*- C++ -*-===//
#ifndef RTCHECK_FIX_BPFPREEMPTFIX_H
#define RTCHECK_FIX_BPFPREEMPTFIX_H

#include "core/Analysis.h"

namespace rtcheck {

struct BpfPreemptFix {
  rtcheck_fix_kind Kind = RTCHECK_FIX_NONE;
  std::string Summary; ///< what the edits do, or why there are none
};

/// The conversion of a preempt-off Section of F around a BPF run, with no
/// per-CPU update in it (PerCpuUpdate: there is one, no fix):
///  - "preempt_disable(); x = bpf_prog_run(p, ctx); preempt_enable();" as
///    three statements of one block -> "x = bpf_prog_run_pin_on_cpu(p, ctx);"
///    (auto, upstream's "bpf: Use bpf_prog_run_pin_on_cpu() at simple call
///    sites");
///  - any other pure section -> migrate_disable()/migrate_enable() (auto,
///    buildPreemptToMigrate());
///  - a section held on some paths, entered and left by
///    "if (c) preempt_*(); else migrate_*();" on the same c -> each if/else
///    becomes its migrate_*() branch (suggestion: drops the mode).
BpfPreemptFix buildBpfPreemptFix(const TuFacts &TU, const FunctionFacts &F,
                                 const HeldContext &Section, bool PerCpuUpdate, FixBuilder &Edits);

} // namespace rtcheck
#endif
