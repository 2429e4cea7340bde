//===- AtomicSleep.cpp - rt-atomic-sleep ----------------------------------===//
// Something that sleeps on PREEMPT_RT (any allocation, spinlock_t/rwlock_t/
// local_lock_t, mutexes, waits ...) reached in truly atomic context: under a
// raw spinlock, with preemption or interrupts disabled, in hard-irq or NMI
// context. Reported at the sleeping call, with the chain from where the
// atomic section began (possibly in a caller, or the registration that makes
// a function a hard-irq handler). The context engine does the work.
// Docs: docs/rules/rt-atomic-sleep.md
#include "core/Analysis.h"
#include "core/ContextEngine.h"
#include "fix/GetCpuPtrToMigrate.h"
#include "fix/RawToSpinlock.h"
#include "llvm/ADT/DenseSet.h"

using namespace clang;

namespace rtcheck {
namespace {

const char *const RuleId = "rt-atomic-sleep";

std::string contextPhrase(const HeldContext &H) {
  switch (H.Kind) {
  case ContextKind::RawLock:
    return "under " + describe(H);
  case ContextKind::PreemptOff:
    return "with preemption disabled by " + describe(H);
  case ContextKind::IrqOff:
    return "with interrupts disabled by " + describe(H);
  case ContextKind::HardIrq:
  case ContextKind::Nmi:
    return "in " + std::string(H.Kind == ContextKind::Nmi ? "NMI" : "hard-irq") +
           " context: " + H.Note;
  default:
    return describe(H);
  }
}

class AtomicSleep : public Rule {
public:
  void check(const TuFacts &TU, FindingSink &Out) override {
    llvm::DenseSet<unsigned> Reported; // one finding per sleeping call
    for (const FunctionFacts &F : TU.Functions) {
      // panic(), an oops ...: the system is going down (dying_contexts.def);
      // __init: the scheduler does not run yet.
      if (!F.InMainFile || dyingContextOf(TU, F) || isBootCode(*F.Decl))
        continue;
      for (size_t I = 0; I < F.calls().size(); ++I) {
        const ContextState &State = F.StateBefore[I];
        const HeldContext *Atomic = State.trulyAtomic();
        // A guard on the way says this context does not get here.
        unsigned Facts = contextFacts(State);
        if (!Atomic || (Facts & State.Excluded))
          continue;
        const SpelledCall &C = F.calls()[I];
        std::vector<ChainStep> Chain = Atomic->Origin;
        Chain.push_back({Atomic->Begin, Atomic->FromEntry ? "" : F.Name,
                         Atomic->FromEntry ? Atomic->Note
                                           : describe(*Atomic) + " enters truly atomic context"});
        if (auto Op = sleepOp(C)) {
          if (Reported.insert(C.Site.getRawEncoding()).second)
            report(TU, Out, F, C.Site, F.Name, Op->Op, Op->Why, *Atomic, Chain);
          continue;
        }
        for (const FunctionFacts *Callee : TU.callees(C))
          for (const SleepSite &S : Callee->MaySleep) {
            ParamNeeds Unused;
            if ((Facts & S.Unless) ||
                neededByCall(TU, F, C, *Callee, S.Needs, Unused) == NeedsResult::Ruled ||
                !Reported.insert(S.Loc.getRawEncoding()).second)
              continue;
            std::vector<ChainStep> Full = Chain;
            Full.push_back({C.Site, F.Name, "calls " + Callee->Name + "()"});
            Full.insert(Full.end(), S.Path.begin(), S.Path.end());
            report(TU, Out, F, S.Loc, S.Function, S.Op, S.Why, *Atomic, Full, S.LastRef);
          }
      }
    }
  }

private:
  // Section is the function that entered Atomic; Function is where the
  // sleeping operation is (Section or a function it calls).
  void report(const TuFacts &TU, FindingSink &Out, const FunctionFacts &Section,
              SourceLocation Loc, StringRef Function, StringRef Op, StringRef Why,
              const HeldContext &Atomic, const std::vector<ChainStep> &Chain,
              StringRef LastRef = "") {
    std::string Msg = Op.str() + "() " + Why.str() + ": called in truly atomic context on "
                      "PREEMPT_RT, " + contextPhrase(Atomic);
    // A callee's put that frees only when its reference was the last: that
    // a caller holding a lock never drops the last one is a runtime invariant
    // rtcheck cannot check, so a note to review, not a warning.
    if (!LastRef.empty())
      Msg += "; reached only when " + LastRef.str() + "() in a callee drops the last "
             "reference, which a caller that holds this context while it puts its reference "
             "usually rules out (review whether it can be the last here)";
    // Never applied by default: raw locks are raw for a reason.
    FixBuilder Edits(TU.SM, TU.Ctx.getLangOpts());
    std::string Evidence, Summary;
    rtcheck_fix Fix{RTCHECK_FIX_NONE, nullptr, nullptr};
    bool GetCpuPtr = Atomic.Kind == ContextKind::PreemptOff &&
                     (Atomic.Api == "get_cpu_ptr" || Atomic.Api == "get_cpu_var");
    if (Atomic.Kind == ContextKind::RawLock && Atomic.Call &&
        buildRawToSpinlock(TU, *Atomic.Call, Edits, Evidence)) {
      Fix.kind = RTCHECK_FIX_SUGGESTION;
      Summary = "make the lock a spinlock_t: " + Evidence +
                " (as upstream did for the BPF LPM trie, 66150d0dde03). Review: users in "
                "other files, e.g. tracing BPF programs, may still need a raw lock; then "
                "move the operation out of the section or preallocate instead";
    } else if (GetCpuPtr && buildGetCpuPtrToMigrate(TU, Section, Atomic, Edits, Evidence)) {
      std::string Put = Atomic.Api == "get_cpu_var" ? "put_cpu_var" : "put_cpu_ptr";
      Fix.kind = RTCHECK_FIX_SUGGESTION;
      Summary = "replace " + Atomic.Api + "()/" + Put + "() with migrate_disable() + "
                "this_cpu_ptr()/migrate_enable() (Documentation/locking/locktypes.rst, "
                "\"spinlock_t and PREEMPT_RT\"): the task stays on this CPU, so the "
                "pointer stays this CPU's, and the spinlock_t may sleep (on !PREEMPT_RT too, "
                "migrate_disable() leaves preemption on since Linux 5.11). Review: the section "
                "becomes preemptible, so its spinlock_t must be all that serialises this "
                "CPU's data (rtcheck saw no per-CPU update, and no store through the "
                "pointer or call given it outside the lock)";
    } else {
      Summary = "no automatic conversion: move " + Op.str() +
                "() out of the atomic section or preallocate";
      if (GetCpuPtr)
        Summary += "; replacing " + Atomic.Api + "() with migrate_disable() + "
                   "this_cpu_ptr() (Documentation/locking/locktypes.rst) does not apply "
                   "as is: " + Evidence;
      else if (!Evidence.empty())
        Summary += "; the lock stays raw: " + Evidence;
    }
    Fix.summary = Summary.c_str();
    Out.report(RuleId, LastRef.empty() ? RTCHECK_WARNING : RTCHECK_NOTE, TU.SM, Loc, Function,
               Msg, Chain, Fix, &Edits);
  }
};

} // namespace

std::unique_ptr<Rule> createAtomicSleep() { return std::make_unique<AtomicSleep>(); }

} // namespace rtcheck
