//===- BpfLockedData.h - the data side of a BPF section's local_lock -*- C++ -*-===//
// Part of fix/BpfSectionLock: what the conversion changes besides the
// section itself, in the checked file, its headers and other files.
#ifndef RTCHECK_FIX_BPFLOCKEDDATA_H
#define RTCHECK_FIX_BPFLOCKEDDATA_H

#include "core/BpfRuns.h"

namespace rtcheck {

struct LockedData {
  std::vector<std::string> Done;  ///< what the edits do, for the summary
  std::vector<std::string> Notes; ///< what is left to the reviewer
};

/// For the per-CPU struct variable A.Var that Section of F updates:
///  - unless the struct has a bh_lock: the member, first in the struct
///    (in its header if need be), and INIT_LOCAL_LOCK() in the variable's
///    DEFINE_PER_CPU() (of this TU, or found by core/BpfTreeUses);
///  - lockdep_assert_held() in the TU's functions called in the section that
///    use the variable, and in the other files' functions that take it at
///    the top of their body (the BPF program's helpers).
/// False, with Why, when an edit cannot be made.
bool buildLockedData(const TuFacts &TU, const FunctionFacts &F, const HeldContext &Section,
                     const PerCpuAccess &A, const FindingSink &Out, FixBuilder &Edits,
                     OtherFileEdits &Others, LockedData &Result, std::string &Why);

/// The white space that starts the line of Loc.
std::string lineIndent(const clang::SourceManager &SM, clang::SourceLocation Loc);

} // namespace rtcheck
#endif
