//===- BpfRuns.h - BPF program runs and the sections around them -*- C++ -*-===//
// What rt-bpf-preempt asks of a TU: which calls reach a BPF program run (the
// run APIs of kernel_api.def, effect BPF_RUN, and the TU's functions that
// reach one: "runners"), the preempt_disable()-style section a run is in,
// and whether that section also relies on preemption being off for a
// non-atomic per-CPU update (core/PerCpuWrites), in itself or in a TU
// function it calls.
#ifndef RTCHECK_CORE_BPFRUNS_H
#define RTCHECK_CORE_BPFRUNS_H

#include "core/Analysis.h"
#include "core/PerCpuWrites.h"
#include "llvm/ADT/DenseMap.h"
#include <optional>

namespace rtcheck {

/// How a call or a function reaches something: steps from it downwards.
struct BpfPath {
  std::vector<ChainStep> Steps;
  std::string What;                  ///< "bpf_prog_run()", "__this_cpu_inc()"
  const FunctionFacts *At = nullptr; ///< the function of the last step
};

class BpfRuns {
public:
  /// Chains through TU functions stop here, like the engine's sleep summaries.
  static constexpr size_t MaxDepth = 4;

  /// Finds the TU's runners to a fixpoint; its per-CPU writers are found, the
  /// same way, when a section first asks (most TUs run no BPF program).
  explicit BpfRuns(const TuFacts &TU);

  /// How call C of F reaches a BPF run: the API itself, or a runner of the TU.
  std::optional<BpfPath> runAt(const FunctionFacts &F, const SpelledCall &C) const;

  /// Why Section of F needs preemption off beyond the run: a per-CPU update
  /// in its extent, or in a TU function called while it is held.
  std::optional<BpfPath> perCpuUpdate(const FunctionFacts &F, const HeldContext &Section) const;

private:
  const TuFacts &TU;
  llvm::DenseMap<const FunctionFacts *, BpfPath> Runners;
  mutable bool WritersFound = false;
  mutable llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuWrite>> OwnWrites;
  mutable llvm::DenseMap<const FunctionFacts *, BpfPath> Writers; ///< own or in a callee

  void findRunners();
  void findPerCpuWriters() const;
  bool insideOwnSection(const FunctionFacts &F, clang::SourceLocation Loc) const;
};

/// The section a run in F is reported under: the outermost preempt_disable()-
/// style section held on every path, else one held on some paths only (a
/// flag-driven "if (mode == NO_PREEMPT) preempt_disable();"). OtherAtomic:
/// a raw lock, irq-off or hard-irq context is held too on every path
/// (rt-atomic-sleep's territory). rcu_read_lock_sched() is no section.
const HeldContext *preemptSection(const ContextState &S, bool &OtherAtomic);

/// The call at I of F runs inside Entry.
bool holdsAt(const FunctionFacts &F, size_t I, const HeldContext &Entry);

/// The call at I is a preempt_enable*() that ends Section: the innermost
/// preemption-off entry held before it.
bool endsSection(const FunctionFacts &F, size_t I, const HeldContext &Section);

/// Source extent of Section in F: from where it began to the last call made
/// while it is held (file locations). Statements are not in the dataflow,
/// calls are.
std::pair<clang::SourceLocation, clang::SourceLocation>
sectionExtent(const TuFacts &TU, const FunctionFacts &F, const HeldContext &Section);

/// Loc (a file location) is within Extent.
bool withinExtent(const TuFacts &TU, std::pair<clang::SourceLocation, clang::SourceLocation> Extent,
                  clang::SourceLocation Loc);

/// A migrate_disable() around the run at At that local_bh_disable() makes
/// redundant: both held on every path, and every call of the migrate section
/// (but the BH entry and the migrate_enable()) runs with BH off.
struct RedundantMigrate {
  const HeldContext *Migrate, *Bh;
};
std::optional<RedundantMigrate> redundantMigrate(const FunctionFacts &F, size_t At);

} // namespace rtcheck
#endif
