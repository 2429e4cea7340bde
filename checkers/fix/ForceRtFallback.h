//===- ForceRtFallback.h - make PREEMPT_RT take an existing fallback -*- C++ -*-===//
// tglx 2020 for the BPF stack map: "this just forces the IP fallback path".
// Where a branch already chooses a fallback over a path RT must not take,
// "IS_ENABLED(CONFIG_PREEMPT_RT) ||" in front of its condition makes RT take it.
#ifndef RTCHECK_FIX_FORCERTFALLBACK_H
#define RTCHECK_FIX_FORCERTFALLBACK_H

#include "core/Analysis.h"
#include "core/KernelApi.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace rtcheck {

/// S contains a call of F whose spelled API has Effect.
bool containsCallOf(const clang::Stmt *S, const FunctionFacts &F, ApiEffect Effect);

/// The branch that already chooses a fallback over the path to C:
/// "if (X) { fallback; return; } ... C" or "if (X) other path; else ... C",
/// where ReachesPath(branch) says the fallback side reaches such a path too.
const clang::IfStmt *fallbackBranch(const FunctionFacts &F, const SpelledCall &C,
                                    llvm::function_ref<bool(const clang::Stmt *)> ReachesPath);

/// Adds "IS_ENABLED(CONFIG_PREEMPT_RT) || " in front of the branch condition.
bool forceFallbackOnRt(const clang::IfStmt *If, FixBuilder &Fix);

} // namespace rtcheck
#endif
