//===- PercpuBh.cpp - rt-percpu-bh ----------------------------------------===//
// Per-CPU data whose only serialisation is disabled BH: a use (this_cpu_ptr()
// and the pointer it gives, a __this_cpu_*() update, a pointer read with
// this_cpu_read()) inside a local_bh_disable()/spin_lock_bh()/
// rcu_read_lock_bh() section, in a function that runs in softirq context
// (NAPI poll, timer, tasklet, netfilter hook, BPF helper, an in_softirq()
// assertion), or in a function of the TU called there. On PREEMPT_RT such
// sections are preemptible and serialised only by the per-CPU BH lock, which
// upstream made optional (Linux 6.18): each resource needs its own
// local_lock_t taken with local_lock_nested_bh(). One finding per per-CPU
// object, with every BH-only use as a note.
// Docs: docs/rules/rt-percpu-bh.md
#include "core/Analysis.h"
#include "core/BhSerialisation.h"
#include "core/ContextEngine.h"
#include "core/KernelApi.h"
#include "core/PerCpuFreePoints.h"
#include "core/PerCpuPoints.h"
#include "fix/NestedBhLock.h"
#include "rules/PercpuBhSkippedLock.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"
#include <map>
#include <optional>

using namespace clang;

namespace rtcheck {
namespace {

const char *const RuleId = "rt-percpu-bh";
// Chains through TU functions stop here, like the engine's sleep summaries.
constexpr size_t MaxDepth = 3;

// A point reached with only BH disabled, and how.
struct BhSite {
  PerCpuPoint Point;
  std::string Object;       ///< what the finding is about: "softnet_data.process_queue"
  clang::SourceLocation Loc; ///< where it is reported
  std::vector<ChainStep> Chain; ///< from the BH entry to the point
  std::string Why;              ///< what disables BH
};

class PercpuBh : public Rule {
public:
  void check(const TuFacts &TU, FindingSink &Out) override {
    collect(TU);
    for (const FunctionFacts &F : TU.Functions) {
      if (!F.InMainFile)
        continue;
      for (const PerCpuPoint &P : Points[&F]) {
        const HeldContext *Bh;
        if (serialisation(*P.State, Bh) == Serialised::BhOnly && !locks(F, P.Object) &&
            !heldAtEveryUse(keyOf(P), *Bh) && !lockOfTheObject(P, *Bh))
          add(site(P, entryChain(F, *Bh), bhPhrase(*Bh)), *Bh);
      }
      for (size_t I = 0; I < F.calls().size(); ++I) {
        const HeldContext *Bh;
        if (serialisation(F.StateBefore[I], Bh) != Serialised::BhOnly)
          continue;
        for (const FunctionFacts *Callee : TU.callees(F.calls()[I]))
          for (const FreePoint &Free : Callee == &F ? NoPoints : FreePoints[Callee]) {
            if (locks(F, Free.Point.Object) || SelfLocked.count(keyOf(Free.Point)))
              continue;
            // A use behind a branch on the callee's parameter that this
            // call's arguments rule out ("case TWA_NMI_CURRENT:").
            ParamNeeds Unused;
            if (Free.Calls.empty() && Free.Point.Needs &&
                neededByCall(TU, F, F.calls()[I], *Callee, *Free.Point.Needs, Unused) ==
                    NeedsResult::Ruled)
              continue;
            BhSite S = site(Free.Point, entryChain(F, *Bh), bhPhrase(*Bh));
            S.Chain.push_back({F.calls()[I].Site, F.Name, "calls " + Callee->Name + "()"});
            S.Chain.insert(S.Chain.end(), Free.Calls.begin(), Free.Calls.end());
            add(std::move(S), *Bh);
          }
      }
    }
    for (auto &[Object, Sites] : Objects)
      if (mattersOnRt(Object, Sites) && !Serial.onlyThere(Object))
        report(TU, Out, Object, Sites);
    reportRtSkippedLocks(TU, Out, RuleId);
    exportFreePoints(TU, Out);
  }

  // Uses no context of this file serialises, of objects it does not report:
  // a caller in another TU may reach them with only BH disabled (the
  // sweep's cross-TU propagation, docs/sweep.md).
  void exportFreePoints(const TuFacts &TU, FindingSink &Out) const {
    for (const FunctionFacts &F : TU.Functions) {
      auto It = FreePoints.find(&F);
      if (!F.InMainFile || It == FreePoints.end())
        continue;
      for (const FreePoint &Free : It->second) {
        BhSite S = site(Free.Point, {}, "");
        if ((Objects.count(S.Object) && !Serial.onlyThere(S.Object)) ||
            SelfLocked.count(S.Object) || !mattersOnRt(S.Object, {S}))
          continue;
        ParamNeeds Needs;
        if (Free.Calls.empty() && S.Point.Needs)
          Needs = *S.Point.Needs;
        Out.exportUse({F.Name, S.Point.F->Name, S.Object, TU.SM.getFileLoc(S.Point.UseLoc),
                       pointPhrase(S), Free.Calls, &TU.SM, std::move(Needs)});
      }
    }
  }

private:
  llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuPoint>> Points;
  llvm::MapVector<std::string, std::vector<BhSite>, std::map<std::string, unsigned>> Objects;
  llvm::DenseMap<const FunctionFacts *, std::vector<FreePoint>> FreePoints;
  const std::vector<FreePoint> NoPoints;
  std::optional<LockedObjects> Locked;
  llvm::StringSet<> ReadObjects; ///< objects whose value the TU reads back
  SerialCallbackUses Serial; ///< objects only one timer's callbacks use
  /// Objects some use of which is under a lock of the object itself
  /// (spin_lock_bh(&ul->lock), ul = raw_cpu_ptr(&rt_uncached_list)): that lock
  /// serialises them, what is outside it hands the pointer on.
  llvm::StringSet<> SelfLocked;
  /// Per object, the spin_lock_bh() locks held at every point of the TU.
  std::map<std::string, std::vector<std::string>> CommonBhLocks;
  /// Header structs some of whose fields the file serialises otherwise (a
  /// lock, irqs off): their fields are separate resources (softnet_data's
  /// completion_queue under irq-off, process_queue under BH only).
  llvm::StringSet<> Containers;

  std::string keyOf(const PerCpuPoint &P) const {
    return Containers.count(P.Object) && !P.Field.empty() ? P.Object + "." + P.Field : P.Object;
  }

  BhSite site(const PerCpuPoint &P, std::vector<ChainStep> Chain, std::string Why) const {
    bool Field = Containers.count(P.Object) && !P.Field.empty();
    return {P, keyOf(P), Field ? P.UseLoc : P.Loc, std::move(Chain), std::move(Why)};
  }

  void collect(const TuFacts &TU) {
    Points.clear(), Objects.clear(), FreePoints.clear(), ReadObjects.clear(), SelfLocked.clear();
    Serial.clear();
    CommonBhLocks.clear();
    // The header inlines' points (dev_xmit_recursion_inc()) are their
    // callers' to serialise: free points only, and whether a counter's value
    // is read back (dev_xmit_recursion()).
    PerCpuPointMap All = perCpuPoints(TU);
    for (auto &[F, List] : All)
      if (F->InMainFile)
        Points[F] = List;
    Containers.clear();
    for (auto &[F, List] : Points)
      for (const PerCpuPoint &P : List) {
        const HeldContext *Bh;
        if (!P.Field.empty() && serialisation(*P.State, Bh) == Serialised::Protected)
          Containers.insert(P.Object);
      }
    for (auto &[F, List] : Points)
      for (const PerCpuPoint &P : List) {
        if (pointReadsValue(P))
          ReadObjects.insert(keyOf(P));
        if (llvm::any_of(P.State->Held, [&](const HeldContext &H) { return lockOfTheObject(P, H); }))
          SelfLocked.insert(keyOf(P));
        std::vector<std::string> Keys;
        for (const HeldContext &H : P.State->Held)
          if (H.Must && H.DisablesBh && !H.Key.empty())
            Keys.push_back(H.Key);
        auto [It, New] = CommonBhLocks.insert({keyOf(P), Keys});
        if (!New)
          llvm::erase_if(It->second, [&](const std::string &K) { return !llvm::is_contained(Keys, K); });
      }
    for (auto &[F, List] : All)
      if (!F->InMainFile)
        for (const PerCpuPoint &P : List)
          if (pointReadsValue(P))
            ReadObjects.insert(keyOf(P));
    Locked.emplace(TU);
    FreePoints = findFreePoints(TU, All, *Locked, MaxDepth);
  }

  // spin_lock_bh(&l) serialises an object when l is held at all its points.
  bool heldAtEveryUse(StringRef Object, const HeldContext &Bh) const {
    auto It = CommonBhLocks.find(Object.str());
    return Bh.DisablesBh && It != CommonBhLocks.end() && llvm::is_contained(It->second, Bh.Key);
  }

  bool locks(const FunctionFacts &F, StringRef Object) const {
    return Locked && Locked->locks(F, Object);
  }

  static std::vector<ChainStep> entryChain(const FunctionFacts &F, const HeldContext &Bh) {
    std::vector<ChainStep> Chain = Bh.Origin;
    Chain.push_back({Bh.Begin, Bh.FromEntry ? "" : F.Name, bhPhrase(Bh)});
    return Chain;
  }

  // One site per finding location: the use that says the most.
  void add(BhSite S, const HeldContext &Bh) {
    Serial.note(S.Object, Bh);
    std::vector<BhSite> &Sites = Objects[S.Object];
    auto It = llvm::find_if(Sites, [&](const BhSite &O) { return O.Loc == S.Loc; });
    if (It == Sites.end())
      Sites.push_back(std::move(S));
    else if (useWeight(S.Point.Use) > useWeight(It->Point.Use))
      *It = std::move(S);
  }

  // Blind statistics and peeks are not reported (pointMattersOnRt()).
  bool mattersOnRt(StringRef Object, const std::vector<BhSite> &Sites) const {
    bool ReadBack = ReadObjects.count(Object);
    return llvm::any_of(Sites, [&](const BhSite &S) { return pointMattersOnRt(S.Point, ReadBack); });
  }

  static std::string pointPhrase(const BhSite &S) { return rtcheck::pointPhrase(S.Point, S.Object); }

  void report(const TuFacts &TU, FindingSink &Out, StringRef Object, std::vector<BhSite> &Sites) {
    llvm::stable_sort(Sites, [&](const BhSite &A, const BhSite &B) {
      return TU.SM.isBeforeInTranslationUnit(A.Loc, B.Loc);
    });
    const BhSite &First = Sites.front();
    bool Counter = llvm::none_of(Sites, [](const BhSite &S) {
      return S.Point.Access->Kind == PerCpuAccessKind::Pointer ||
             S.Point.Access->Kind == PerCpuAccessKind::Read;
    });
    std::vector<ChainStep> Chain = First.Chain;
    Chain.push_back({First.Point.UseLoc, First.Point.F->Name, pointPhrase(First)});
    for (size_t I = 1; I < Sites.size(); ++I)
      Chain.push_back({Sites[I].Point.UseLoc, Sites[I].Point.F->Name,
                       "also with only BH disabled (" + Sites[I].Why + "): " + Sites[I].Point.What});
    std::string Msg = "per-CPU " + Object.str() + " is serialised only by disabled BH (" +
                      First.Why + "): on PREEMPT_RT BH-disabled code is preemptible and only "
                      "the per-CPU BH lock, optional since Linux 6.18, keeps another task on "
                      "this CPU from using " + Object.str() + " at the same time";
    Msg += Counter ? "; a per-CPU nesting or recursion counter: keep it per task on "
                     "PREEMPT_RT (as upstream did with current->net_xmit), or protect it "
                     "with a local_lock_t taken with local_lock_nested_bh()"
                   : "; protect it with a local_lock_t taken with local_lock_nested_bh()";
    if (Sites.size() > 1)
      Msg += " (" + std::to_string(Sites.size()) + " uses)";
    std::vector<NestedBhSite> FixSites;
    for (const BhSite &S : Sites)
      if (llvm::none_of(FixSites, [&](const NestedBhSite &O) { return O.Access == S.Point.Access; }))
        FixSites.push_back({S.Point.F, S.Point.Access});
    FixBuilder Edits(TU.SM, TU.Ctx.getLangOpts());
    std::string Summary;
    rtcheck_fix Fix{buildNestedBhLock(TU, FixSites, Edits, Summary), nullptr, nullptr};
    Fix.summary = Summary.c_str();
    Out.report(RuleId, RTCHECK_WARNING, TU.SM, First.Loc, First.Point.F->Name, Msg, Chain,
               Fix, Fix.kind == RTCHECK_FIX_NONE ? nullptr : &Edits);
  }
};

} // namespace

std::unique_ptr<Rule> createPercpuBh() { return std::make_unique<PercpuBh>(); }

} // namespace rtcheck
