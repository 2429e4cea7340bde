//===- ContextEngine.h - RT contexts over a TU's functions ------*- C++ -*-===//
// A forward dataflow over each function's CFG (model: Clang's thread-safety
// analysis) whose state is the set of contexts held (Context.h), with a join
// at merges: a context held on only some incoming paths is kept as "may".
// Summaries to a fixpoint over the TU's call graph: what a function returns
// holding (lock wrappers), and what in it may sleep on RT (for its callers).
#ifndef RTCHECK_CORE_CONTEXTENGINE_H
#define RTCHECK_CORE_CONTEXTENGINE_H

#include "core/Analysis.h"
#include <optional>

namespace rtcheck {

/// Fills StateBefore, EntryContexts, Effect and MaySleep of every function.
void runContextEngine(TuFacts &TU);

/// Registrations that make a function start in a truly atomic context.
void findEntryContexts(TuFacts &TU);

/// An operation that sleeps on PREEMPT_RT, as the API table describes it.
struct SleepOp {
  std::string Op;  ///< the name as written: "kmalloc"
  std::string Why; ///< "allocates memory ..."
};
std::optional<SleepOp> sleepOp(const SpelledCall &C);

/// What the system is doing when F runs, if F is one of the dying contexts
/// (a panic, an oops ...: include/rtcheck/dying_contexts.def): what sleeps
/// below F is not reported, neither in F nor through it.
const char *dyingContextOf(const TuFacts &TU, const FunctionFacts &F);

/// Needs of a callee's site (Needs, on Callee's parameters) in Caller's
/// terms through the arguments of call C, added to Out; Ruled when the
/// arguments rule the site out (a constant 0 where the site needs non-zero).
NeedsResult neededByCall(const TuFacts &TU, const FunctionFacts &Caller, const SpelledCall &C,
                         const FunctionFacts &Callee, llvm::ArrayRef<ParamNeed> Needs,
                         ParamNeeds &Out);

/// __init code (.init.text) runs at boot, before the scheduler does: its
/// irqs-off sections (start_kernel's, check_timer()'s) may sleep, and are not
/// reported, in one TU as across TUs.
bool isBootCode(const clang::FunctionDecl &FD);

/// Argument Index of the invocation written at Site ("spin_lock(&l)" -> "&l"),
/// as text; guard(class)(lock) and scoped_guard(class, lock) give the lock.
std::string spelledArgument(const clang::SourceManager &SM, clang::SourceLocation Site,
                            int Index);

} // namespace rtcheck
#endif
