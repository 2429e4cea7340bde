//===- RtCondition.h - what a condition is on a PREEMPT_RT kernel -*- C++ -*-===//
// rtcheck analyses every tree with RT meaning (rt-model.md §1), so a branch on
// IS_ENABLED(CONFIG_PREEMPT_RT), or an #ifdef CONFIG_PREEMPT_RT, is decided as
// an RT kernel decides it, whatever the configured tree says. Works on the
// condition as written (text), so the same code serves C and the preprocessor.
#ifndef RTCHECK_CORE_RTCONDITION_H
#define RTCHECK_CORE_RTCONDITION_H

#include "llvm/ADT/StringRef.h"

namespace rtcheck {

enum class Truth { False, True, Unknown };

struct RtVerdict {
  Truth Value = Truth::Unknown;
  /// The condition tests an RT config option: its value must come from RT
  /// semantics, never from the configured tree.
  bool MentionsRt = false;
};

/// Evaluates a C or #if condition on an RT kernel. Anything it cannot decide
/// (run-time values, other config options) is Unknown.
RtVerdict evaluateOnRt(llvm::StringRef ConditionText);

} // namespace rtcheck
#endif
