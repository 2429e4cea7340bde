//===- BpfPreempt.cpp - rt-bpf-preempt ------------------------------------===//
// A BPF program run (bpf_prog_run*(), BPF_PROG_RUN*(), trace_call_bpf() ...,
// or a function of the TU that reaches one) with preemption disabled by
// preempt_disable(), get_cpu*() or guard(preempt). A program only needs to
// finish on the CPU it started on (tglx 2020): migrate_disable() is enough,
// unless the section also does non-atomic per-CPU read-modify-write, which
// needs a local_lock on RT. Raw-lock and irq-off sections are left to
// rt-atomic-sleep. Also notes a migrate_disable() made redundant by a
// local_bh_disable() around the same run (lwt_bpf, upstream 3414adbd6a6a).
// Docs: docs/rules/rt-bpf-preempt.md
#include "core/Analysis.h"
#include "core/KernelApi.h"
#include "core/PerCpuWrites.h"
#include "fix/BpfPreemptFix.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

using namespace clang;

namespace rtcheck {
namespace {

const char *const RuleId = "rt-bpf-preempt";

// Chains through TU functions stop here, like the engine's sleep summaries.
constexpr size_t MaxDepth = 4;

// How a call or a function reaches something: steps from it downwards.
struct Path {
  std::vector<ChainStep> Steps;
  std::string What; ///< "bpf_prog_run()", "__this_cpu_inc(x)"
};

// The section a run in F is reported under: the outermost preempt_disable()-
// style section held on every path, else one held on some paths only (a
// flag-driven "if (mode == NO_PREEMPT) preempt_disable();"). None when a raw
// lock, irq-off or hard-irq context is held too: rt-atomic-sleep's territory.
const HeldContext *preemptSection(const ContextState &S, bool &OtherAtomic) {
  const HeldContext *Must = nullptr, *May = nullptr;
  OtherAtomic = false;
  for (const HeldContext &H : S.Held) {
    if (!isTrulyAtomic(H.Kind))
      continue;
    if (H.Kind != ContextKind::PreemptOff || H.FromEntry) {
      OtherAtomic |= H.Must;
      continue;
    }
    // rcu_read_lock_sched() is an RCU read side, not a pinning device.
    StringRef Api = H.Origin.empty() ? StringRef(H.Api) : StringRef(H.Origin.front().Note);
    if (Api.startswith("rcu_read_lock_sched"))
      continue;
    const HeldContext *&Slot = H.Must ? Must : May;
    if (!Slot)
      Slot = &H;
  }
  return Must ? Must : May;
}

bool ownAtomic(const FunctionFacts &F, size_t I) {
  return I < F.StateBefore.size() && F.StateBefore[I].ownTrulyAtomic();
}

bool ownAtomicBesidesPreempt(const FunctionFacts &F, size_t I) {
  if (I >= F.StateBefore.size())
    return false;
  for (const HeldContext &H : F.StateBefore[I].Held)
    if (H.Must && !H.FromEntry && isTrulyAtomic(H.Kind) && H.Kind != ContextKind::PreemptOff)
      return true;
  return false;
}

bool holds(const FunctionFacts &F, size_t I, const HeldContext &Entry) {
  if (I >= F.StateBefore.size())
    return false;
  for (const HeldContext &H : F.StateBefore[I].Held)
    if (H.sameEntry(Entry))
      return true;
  return false;
}

class BpfPreempt : public Rule {
public:
  void check(const TuFacts &TU, FindingSink &Out) override {
    findRunners(TU);
    findPerCpuWriters(TU);
    llvm::DenseSet<unsigned> Reported;
    for (const FunctionFacts &F : TU.Functions)
      for (size_t I = 0; F.InMainFile && I < F.calls().size(); ++I) {
        const SpelledCall &C = F.calls()[I];
        std::optional<Path> Run = runAt(TU, F, C);
        if (!Run || !Reported.insert(C.Site.getRawEncoding()).second)
          continue;
        bool OtherAtomic = false;
        if (const HeldContext *Section = preemptSection(F.StateBefore[I], OtherAtomic)) {
          if (!OtherAtomic)
            reportPreemptOff(TU, Out, F, C, *Run, *Section);
        } else if (!OtherAtomic) {
          reportRedundantMigrate(TU, Out, F, I, *Run);
        }
      }
  }

private:
  llvm::DenseMap<const FunctionFacts *, Path> Runners;
  llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuWrite>> OwnWrites;
  llvm::DenseMap<const FunctionFacts *, Path> Writers; ///< own or in a callee

  static std::optional<std::string> directRun(const SpelledCall &C) {
    if (C.Representative && hasEffect(C.ApiName, ApiEffect::BPF_RUN))
      return C.ApiName.str() + "()";
    return std::nullopt;
  }

  // How call C of F reaches a BPF run: the API itself, or a runner of the TU.
  std::optional<Path> runAt(const TuFacts &TU, const FunctionFacts &F, const SpelledCall &C) {
    if (auto Api = directRun(C))
      return Path{{{C.Site, F.Name, "runs a BPF program: " + *Api}}, *Api};
    for (const FunctionFacts *Callee : TU.callees(C)) {
      auto It = Runners.find(Callee);
      if (Callee == &F || It == Runners.end() || It->second.Steps.size() >= MaxDepth)
        continue;
      Path P = It->second;
      P.Steps.insert(P.Steps.begin(), {C.Site, F.Name, "calls " + Callee->Name + "()"});
      return P;
    }
    return std::nullopt;
  }

  // Runners: functions whose calls reach a BPF run outside a truly atomic
  // section of their own (inside one it is reported, or not ours), to a
  // fixpoint. Each round adds a function, so it ends.
  void findRunners(const TuFacts &TU) {
    Runners.clear();
    for (bool Changed = true; Changed;) {
      Changed = false;
      for (const FunctionFacts &F : TU.Functions) {
        if (Runners.count(&F))
          continue;
        for (size_t I = 0; I < F.calls().size(); ++I) {
          // A run under the function's own preempt_disable() still makes it
          // a runner: its callers' sections are reported too, so that one
          // "rtcheck fix" converts them all.
          if (ownAtomicBesidesPreempt(F, I))
            continue;
          if (std::optional<Path> P = runAt(TU, F, F.calls()[I])) {
            Runners[&F] = std::move(*P);
            Changed = true;
            break;
          }
        }
      }
    }
  }

  // Per-CPU writers: functions with a non-atomic per-CPU update outside a
  // truly atomic section of their own, or calling one (bounded depth).
  void findPerCpuWriters(const TuFacts &TU) {
    OwnWrites.clear();
    Writers.clear();
    const LangOptions &LO = TU.Ctx.getLangOpts();
    for (const FunctionFacts &F : TU.Functions) {
      if (!F.InMainFile) // header inlines: no contexts known inside
        continue;
      OwnWrites[&F] = perCpuWrites(F.Decl, TU.SM, LO);
      for (const PerCpuWrite &W : OwnWrites[&F])
        if (!insideOwnSection(TU, F, W.Loc)) {
          Writers[&F] = Path{{{W.Loc, F.Name, W.What}}, W.What};
          break;
        }
    }
    for (bool Changed = true; Changed;) {
      Changed = false;
      for (const FunctionFacts &F : TU.Functions) {
        if (Writers.count(&F))
          continue;
        for (size_t I = 0; I < F.calls().size() && !Writers.count(&F); ++I) {
          if (ownAtomic(F, I))
            continue;
          for (const FunctionFacts *Callee : TU.callees(F.calls()[I])) {
            auto It = Writers.find(Callee);
            if (Callee == &F || It == Writers.end() || It->second.Steps.size() >= MaxDepth)
              continue;
            Path P = It->second;
            P.Steps.insert(P.Steps.begin(),
                           {F.calls()[I].Site, F.Name, "calls " + Callee->Name + "()"});
            Writers[&F] = std::move(P);
            Changed = true;
            break;
          }
        }
      }
    }
  }

  // Source extent of a section in F: from where it began to the last call
  // made while it is held. Statements are not in the dataflow, calls are.
  static std::pair<SourceLocation, SourceLocation>
  sectionExtent(const TuFacts &TU, const FunctionFacts &F, const HeldContext &Section) {
    SourceLocation Begin = TU.SM.getFileLoc(Section.Begin), End;
    for (size_t I = 0; I < F.calls().size(); ++I)
      if (holds(F, I, Section)) {
        SourceLocation L = TU.SM.getFileLoc(F.calls()[I].Site);
        if (End.isInvalid() || TU.SM.isBeforeInTranslationUnit(End, L))
          End = L;
      }
    return {Begin, End};
  }

  static bool within(const TuFacts &TU, std::pair<SourceLocation, SourceLocation> Extent,
                     SourceLocation Loc) {
    auto [Begin, End] = Extent;
    if (Begin.isInvalid() || End.isInvalid() || !TU.SM.isWrittenInSameFile(Begin, Loc))
      return false;
    return !TU.SM.isBeforeInTranslationUnit(Loc, Begin) &&
           !TU.SM.isBeforeInTranslationUnit(End, Loc);
  }

  // Inside a truly atomic section F enters itself: that section protects it.
  static bool insideOwnSection(const TuFacts &TU, const FunctionFacts &F, SourceLocation Loc) {
    std::vector<const HeldContext *> Sections;
    for (const ContextState &S : F.StateBefore)
      for (const HeldContext &H : S.Held)
        if (H.Must && !H.FromEntry && isTrulyAtomic(H.Kind) &&
            llvm::none_of(Sections, [&](const HeldContext *O) { return O->sameEntry(H); }))
          Sections.push_back(&H);
    return llvm::any_of(Sections, [&](const HeldContext *H) {
      return within(TU, sectionExtent(TU, F, *H), Loc);
    });
  }

  // Why the section needs preemption off beyond the run: a per-CPU update in
  // the section, or in a function called in it.
  std::optional<Path> perCpuUpdate(const TuFacts &TU, const FunctionFacts &F,
                                   const HeldContext &Section) {
    auto Extent = sectionExtent(TU, F, Section);
    for (const PerCpuWrite &W : OwnWrites[&F])
      if (within(TU, Extent, W.Loc))
        return Path{{{W.Loc, F.Name, W.What + " in the same section"}}, W.What};
    for (size_t I = 0; I < F.calls().size(); ++I) {
      if (!holds(F, I, Section))
        continue;
      for (const FunctionFacts *Callee : TU.callees(F.calls()[I])) {
        auto It = Writers.find(Callee);
        if (Callee == &F || It == Writers.end())
          continue;
        Path P = It->second;
        P.Steps.insert(P.Steps.begin(),
                       {F.calls()[I].Site, F.Name, "calls " + Callee->Name + "()"});
        return P;
      }
    }
    return std::nullopt;
  }

  static std::vector<ChainStep> sectionChain(const FunctionFacts &F, const HeldContext &H,
                                             StringRef Note) {
    std::vector<ChainStep> Chain = H.Origin;
    Chain.push_back({H.Begin, F.Name, describe(H) + " " + Note.str()});
    return Chain;
  }

  void reportPreemptOff(const TuFacts &TU, FindingSink &Out, const FunctionFacts &F,
                        const SpelledCall &C, const Path &Run, const HeldContext &Section) {
    std::vector<ChainStep> Chain = sectionChain(
        F, Section, Section.Must ? "disables preemption" : "disables preemption on some paths");
    std::optional<Path> Update = perCpuUpdate(TU, F, Section);
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
    BpfPreemptFix Conversion = buildBpfPreemptFix(TU, F, Section, Update.has_value(), Edits);
    rtcheck_fix Fix{Conversion.Kind, Conversion.Summary.c_str(), nullptr};
    Out.report(RuleId, Section.Must ? RTCHECK_WARNING : RTCHECK_NOTE, TU.SM, C.Site, F.Name,
               Msg, Chain, Fix, &Edits);
  }

  // migrate_disable() around a run that local_bh_disable() already keeps on
  // its CPU (on RT through the per-CPU softirq lock): redundant, not wrong.
  void reportRedundantMigrate(const TuFacts &TU, FindingSink &Out, const FunctionFacts &F,
                              size_t At, const Path &Run) {
    const ContextState &S = F.StateBefore[At];
    const HeldContext *Migrate = nullptr, *Bh = nullptr;
    for (const HeldContext &H : S.Held) {
      if (H.Must && !H.FromEntry && H.Kind == ContextKind::MigrateOff && !Migrate)
        Migrate = &H;
      if (H.Must && !H.FromEntry && H.Kind == ContextKind::BhOff && !Bh)
        Bh = &H;
    }
    if (!Migrate || !Bh)
      return;
    // Every call of the migrate_disable() section runs with BH off, apart
    // from the BH entry and the migrate_enable() that close it.
    for (size_t I = 0; I < F.calls().size(); ++I) {
      if (!holds(F, I, *Migrate))
        continue;
      const ApiEntry *A = lookupApi(F.calls()[I].ApiName);
      if (A && (A->Effect == ApiEffect::BH_OFF || A->Effect == ApiEffect::MIGRATE_ON))
        continue;
      bool BhHeld = false;
      for (const HeldContext &H : F.StateBefore[I].Held)
        BhHeld |= H.Kind == ContextKind::BhOff && H.Must;
      if (!BhHeld)
        return;
    }
    const SpelledCall &C = F.calls()[At];
    std::vector<ChainStep> Chain = sectionChain(F, *Migrate, "disables migration");
    std::vector<ChainStep> BhChain = sectionChain(F, *Bh, "disables BH");
    Chain.insert(Chain.end(), BhChain.begin(), BhChain.end());
    Chain.insert(Chain.end(), Run.Steps.begin(), Run.Steps.end());
    std::string Msg =
        Run.What + " runs a BPF program under both " + describe(*Migrate) + " and " +
        describe(*Bh) + ": the migrate_disable() is redundant, a BH-disabled section "
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
