//===- BpfPreempt.cpp - rt-bpf-preempt ------------------------------------===//
// A BPF program run (bpf_prog_run*(), BPF_PROG_RUN*(), trace_call_bpf() ...,
// or a function of the TU that reaches one) with preemption disabled by
// preempt_disable(), get_cpu*() or guard(preempt). A program only needs to
// finish on the CPU it started on (tglx 2020): migrate_disable() is enough,
// unless the section also does non-atomic per-CPU read-modify-write, which
// needs a local_lock on RT. Raw-lock and irq-off sections are left to
// rt-atomic-sleep. Also notes a migrate_disable() made redundant by a
// local_bh_disable() around the same run (lwt_bpf, upstream 3414adbd6a6a).
// The analysis is core/BpfRuns, the fix fix/BpfPreemptFix.
// Docs: docs/rules/rt-bpf-preempt.md
#include "core/BpfRuns.h"
#include "fix/BpfPreemptFix.h"
#include "llvm/ADT/DenseSet.h"

using namespace clang;

namespace rtcheck {
namespace {

const char *const RuleId = "rt-bpf-preempt";

std::vector<ChainStep> sectionChain(const FunctionFacts &F, const HeldContext &H,
                                    StringRef Note) {
  std::vector<ChainStep> Chain = H.Origin;
  Chain.push_back({H.Begin, F.Name, describe(H) + " " + Note.str()});
  return Chain;
}

class BpfPreempt : public Rule {
public:
  void check(const TuFacts &TU, FindingSink &Out) override {
    BpfRuns Runs(TU);
    llvm::DenseSet<unsigned> Reported;
    for (const FunctionFacts &F : TU.Functions)
      for (size_t I = 0; F.InMainFile && I < F.calls().size(); ++I) {
        const SpelledCall &C = F.calls()[I];
        std::optional<BpfPath> Run = Runs.runAt(F, C);
        if (!Run || !Reported.insert(C.Site.getRawEncoding()).second)
          continue;
        if (runnerAlsoHardIrq(TU, C))
          continue;
        bool OtherAtomic = false;
        if (const HeldContext *Section = preemptSection(F.StateBefore[I], OtherAtomic)) {
          if (!OtherAtomic)
            reportPreemptOff(TU, Out, F, C, *Run, *Section, Runs.perCpuUpdate(F, *Section));
        } else if (!OtherAtomic) {
          if (std::optional<RedundantMigrate> R = redundantMigrate(F, I))
            reportRedundantMigrate(TU, Out, F, C, *Run, *R);
        }
      }
  }

private:
  // The runner called here is also an IPI or hard-irq callback of the file
  // (bpf_prog_test_run_raw_tp(): the runner called under get_cpu() on this
  // CPU, or through smp_call_function_single() on another): the program is
  // meant to run non-preemptible, and the section only gives the direct call
  // the context the callback has anyway.
  static bool runnerAlsoHardIrq(const TuFacts &TU, const SpelledCall &C) {
    return llvm::any_of(TU.callees(C), [](const FunctionFacts *Callee) {
      return llvm::any_of(Callee->EntryContexts, [](const HeldContext &H) {
        return H.Kind == ContextKind::HardIrq || H.Kind == ContextKind::Nmi;
      });
    });
  }

  void reportPreemptOff(const TuFacts &TU, FindingSink &Out, const FunctionFacts &F,
                        const SpelledCall &C, const BpfPath &Run, const HeldContext &Section,
                        const std::optional<BpfPath> &Update) {
    std::vector<ChainStep> Chain = sectionChain(
        F, Section, Section.Must ? "disables preemption" : "disables preemption on some paths");
    Chain.insert(Chain.end(), Run.Steps.begin(), Run.Steps.end());
    std::string Spelled = C.ApiName.empty() ? C.outermostName().str() + "()" : Run.What;
    std::string Msg = Spelled + " runs a BPF program";
    if (Spelled != Run.What)
      Msg += " (" + Run.What + ")";
    Msg += " with preemption disabled by " + describe(Section);
    if (!Section.Must)
      Msg += " on some paths (a non-preemptible mode chosen by a condition)";
    Msg += ": on PREEMPT_RT the whole run is then a non-preemptible section, although a "
           "program only needs to stay on this CPU";
    if (Update) {
      Msg += "; this section also relies on preemption being off for " + Update->What +
             ", a non-atomic per-CPU update: migrate_disable() is not enough (another task "
             "can run on this CPU in between), the per-CPU data needs a local_lock_t "
             "(local_lock_nested_bh() in softirq context)";
      Chain.insert(Chain.end(), Update->Steps.begin(), Update->Steps.end());
    } else if (!Section.Must) {
      Msg += ": disable migration in every mode (migrate_disable()/migrate_enable())";
    } else {
      Msg += ": use migrate_disable()/migrate_enable() or bpf_prog_run_pin_on_cpu()";
    }
    FixBuilder Edits(TU.SM, TU.Ctx.getLangOpts());
    BpfPreemptFix Conversion =
        buildBpfPreemptFix(TU, F, Section, Update ? &*Update : nullptr, Out, Edits);
    // A patch spanning several files is the finding's diff, not the edits
    // of the checked file that rtcheck fix applies.
    bool Multi = !Conversion.Diff.empty();
    rtcheck_fix Fix{Conversion.Kind, Conversion.Summary.c_str(),
                    Multi ? Conversion.Diff.c_str() : nullptr};
    Out.report(RuleId, Section.Must ? RTCHECK_WARNING : RTCHECK_NOTE, TU.SM, C.Site, F.Name,
               Msg, Chain, Fix, Multi ? nullptr : &Edits);
  }

  // migrate_disable() around a run that local_bh_disable() already keeps on
  // its CPU (on RT through the per-CPU softirq lock): redundant, not wrong.
  void reportRedundantMigrate(const TuFacts &TU, FindingSink &Out, const FunctionFacts &F,
                              const SpelledCall &C, const BpfPath &Run,
                              const RedundantMigrate &R) {
    std::vector<ChainStep> Chain = sectionChain(F, *R.Migrate, "disables migration");
    std::vector<ChainStep> BhChain = sectionChain(F, *R.Bh, "disables BH");
    Chain.insert(Chain.end(), BhChain.begin(), BhChain.end());
    Chain.insert(Chain.end(), Run.Steps.begin(), Run.Steps.end());
    std::string Msg =
        Run.What + " runs a BPF program under both " + describe(*R.Migrate) + " and " +
        describe(*R.Bh) + ": the migrate_disable() is redundant, a BH-disabled section "
        "already stays on its CPU (on PREEMPT_RT local_bh_disable() takes a per-CPU lock "
        "that disables migration)";
    rtcheck_fix Fix{RTCHECK_FIX_NONE,
                    "no automatic conversion yet: drop the migrate_disable()/"
                    "migrate_enable() pair around the BH-disabled section "
                    "(see docs/rules/rt-bpf-preempt.md)",
                    nullptr};
    Out.report(RuleId, RTCHECK_NOTE, TU.SM, C.Site, F.Name, Msg, Chain, Fix);
  }
};

} // namespace

std::unique_ptr<Rule> createBpfPreempt() { return std::make_unique<BpfPreempt>(); }

} // namespace rtcheck
