//===- PercpuBhSkippedLock.h - rt-percpu-bh: lock wrappers RT skips -*- C++ -*-===//
// The part of rt-percpu-bh that judges no per-CPU access: a lock wrapper that
// takes its lock with one config option, disables interrupts without it
// except on PREEMPT_RT, and so leaves PREEMPT_RT without the option with BH
// alone (core/RtSkippedLock.h). Docs: docs/rules/rt-percpu-bh.md
#ifndef RTCHECK_RULES_PERCPUBHSKIPPEDLOCK_H
#define RTCHECK_RULES_PERCPUBHSKIPPEDLOCK_H

#include "core/Analysis.h"

namespace rtcheck {

/// One finding per lock (the lock and unlock wrappers of one lock together,
/// at the first), with the fix when the group both takes and releases it.
void reportRtSkippedLocks(const TuFacts &TU, FindingSink &Out, const char *RuleId);

} // namespace rtcheck
#endif
