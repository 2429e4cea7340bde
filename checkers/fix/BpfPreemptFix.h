//===- BpfPreemptFix.h - the fix of an rt-bpf-preempt section -*- C++ -*-===//
#ifndef RTCHECK_FIX_BPFPREEMPTFIX_H
#define RTCHECK_FIX_BPFPREEMPTFIX_H

#include "core/BpfRuns.h"

namespace rtcheck {

struct BpfPreemptFix {
  rtcheck_fix_kind Kind = RTCHECK_FIX_NONE;
  std::string Summary; ///< what the edits do, or why there are none
  /// A patch that also edits other files (fix/BpfSectionLock), given as the
  /// finding's diff instead of the FixBuilder's edits.
  std::string Diff;
};

/// The conversion of a preempt-off Section of F around a BPF run:
///  - with a per-CPU update in it (Update): a local_lock_t for the data, as
///    upstream did for seg6_bpf_srh_states (suggestion, fix/BpfSectionLock);
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
                                 const HeldContext &Section, const BpfPath *Update,
                                 const FindingSink &Out, FixBuilder &Edits);

} // namespace rtcheck
#endif
