//===- PerCpuWrites.h - non-atomic updates of this CPU's data ----*- C++ -*-===//
// What needs preemption (or a local_lock on RT) rather than migrate_disable():
// __this_cpu_*()/raw_cpu_*() read-modify-writes and stores through a pointer
// taken with this_cpu_ptr()/get_cpu_ptr()/&get_cpu_var(). this_cpu_*() single
// instructions do not count. Shared by rt-bpf-preempt and rt-atomic-sleep's
// get_cpu_ptr() conversion (fix/GetCpuPtrToMigrate).
#ifndef RTCHECK_CORE_PERCPUWRITES_H
#define RTCHECK_CORE_PERCPUWRITES_H

#include "clang/AST/Decl.h"
#include "clang/Basic/SourceManager.h"
#include <string>
#include <vector>

namespace rtcheck {

struct PerCpuWrite {
  clang::SourceLocation Loc; ///< file location
  std::string What;          ///< "__this_cpu_inc()", "a store to p->x (p = this_cpu_ptr(&v))"
  /// A store through a pointer to this CPU's instance, not a __this_cpu_*()
  /// operation: a lock held around it may be what serialises it.
  bool Store;
};

/// The per-CPU updates of a function body, in source order.
std::vector<PerCpuWrite> perCpuWrites(const clang::FunctionDecl *FD,
                                      const clang::SourceManager &SM,
                                      const clang::LangOptions &LO);

} // namespace rtcheck
#endif
