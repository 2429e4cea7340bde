//===- PercpuBh.cpp - rt-percpu-bh ----------------------------------------===//
// Per-CPU data whose only serialisation is disabled BH: an access (this_cpu_ptr(),
// a __this_cpu_*() update, a pointer read with this_cpu_read()) inside a
// local_bh_disable()/spin_lock_bh()/rcu_read_lock_bh() section, in a function
// that runs in softirq context (NAPI poll, timer, tasklet, a netfilter hook,
// an ndo_start_xmit(), an in_softirq() assertion), or in a function of the TU
// called there. On PREEMPT_RT such sections are preemptible and serialised
// only by the per-CPU BH lock, which upstream made optional (Linux 6.18): each
// resource needs its own local_lock_t taken with local_lock_nested_bh().
// One finding per per-CPU object, with every BH-only access as a note.
// Docs: docs/rules/rt-percpu-bh.md
#include "core/Analysis.h"
#include "core/ContextEngine.h"
#include "core/KernelApi.h"
#include "fix/NestedBhLock.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"
#include <map>
#include <set>

using namespace clang;

namespace rtcheck {
namespace {

const char *const RuleId = "rt-percpu-bh";
// Chains through TU functions stop here, like the engine's sleep summaries.
constexpr size_t MaxDepth = 3;

enum class Serialised {
  Nothing,   ///< no context: a caller may give one
  BhOnly,    ///< only BH disabled: a finding
  Protected, ///< a lock, or truly atomic (another rule's concern)
};

// What serialises an access or call made in state S; Bh is the BH context.
Serialised serialisation(const ContextState &S, const HeldContext *&Bh) {
  Bh = nullptr;
  bool Protected = false;
  for (const HeldContext &H : S.Held) {
    if (!H.Must)
      continue;
    if (isTrulyAtomic(H.Kind) || H.Kind == ContextKind::SleepingLock ||
        (H.Kind == ContextKind::RtLock && !H.DisablesBh))
      Protected = true; // a lock, or preemption/irqs off
    else if (H.Kind == ContextKind::BhOff || H.Kind == ContextKind::Softirq ||
             (H.Kind == ContextKind::RtLock && H.DisablesBh))
      Bh = Bh ? Bh : &H;
  }
  if (Protected)
    return Serialised::Protected;
  return Bh ? Serialised::BhOnly : Serialised::Nothing;
}

std::string bhPhrase(const HeldContext &H) {
  if (H.FromEntry)
    return H.Note;
  return describe(H) + (H.Kind == ContextKind::RtLock
                            ? " disables BH; its lock is not held at every use"
                            : " disables BH");
}

// One access of an object, reached with only BH disabled.
struct BhSite {
  const FunctionFacts *F;
  const PerCpuAccess *Access;
  std::vector<ChainStep> Chain; ///< from the BH entry to the access
  std::string Why;              ///< what disables BH
};

// An access with no serialisation of its own, and the calls down to it.
struct FreeAccess {
  const FunctionFacts *F;
  const PerCpuAccess *Access;
  std::vector<ChainStep> Calls;
};

class PercpuBh : public Rule {
public:
  void check(const TuFacts &TU, FindingSink &Out) override {
    Objects.clear();
    ReadObjects.clear();
    for (const FunctionFacts &F : TU.Functions)
      for (const PerCpuAccess &A : F.accesses())
        if (A.Kind == PerCpuAccessKind::ValueRead)
          ReadObjects.insert(A.Object);
    findLockedObjects(TU);
    findCommonBhLocks(TU);
    findFreeAccesses(TU);
    for (const FunctionFacts &F : TU.Functions) {
      if (!F.InMainFile)
        continue;
      for (size_t I = 0; I < F.accesses().size(); ++I) {
        const HeldContext *Bh;
        const PerCpuAccess &A = F.accesses()[I];
        if (serialisation(F.AccessStateBefore[I], Bh) == Serialised::BhOnly && !locks(F, A) &&
            !heldAtEveryUse(A, *Bh))
          add(A, {&F, &A, entryChain(F, *Bh), bhPhrase(*Bh)});
      }
      for (size_t I = 0; I < F.calls().size(); ++I) {
        const HeldContext *Bh;
        if (serialisation(F.StateBefore[I], Bh) != Serialised::BhOnly)
          continue;
        for (const FunctionFacts *Callee : TU.callees(F.calls()[I]))
          for (const FreeAccess &Free : FreeAccesses[Callee]) {
            if (Callee == &F || locks(F, *Free.Access))
              continue;
            BhSite S{Free.F, Free.Access, entryChain(F, *Bh), bhPhrase(*Bh)};
            S.Chain.push_back({F.calls()[I].Site, F.Name, "calls " + Callee->Name + "()"});
            S.Chain.insert(S.Chain.end(), Free.Calls.begin(), Free.Calls.end());
            add(*Free.Access, std::move(S));
          }
      }
    }
    for (auto &[Object, Sites] : Objects)
      if (mattersOnRt(Object, Sites))
        report(TU, Out, Object, Sites);
  }

private:
  llvm::MapVector<std::string, std::vector<BhSite>, std::map<std::string, unsigned>> Objects;
  llvm::DenseMap<const FunctionFacts *, std::vector<FreeAccess>> FreeAccesses;
  llvm::DenseMap<const FunctionFacts *, llvm::StringSet<>> Locked;
  llvm::StringSet<> ReadObjects; ///< objects whose value the TU reads

  // Blind updates of a statistics counter (__this_cpu_inc(stats) whose
  // value nothing here reads) lose at worst a count: not reported, nor are
  // plain value reads alone. A pointer to the data, a pointer read from it,
  // or a counter whose value is read back (a recursion limit) are.
  bool mattersOnRt(StringRef Object, const std::vector<BhSite> &Sites) const {
    for (const BhSite &S : Sites)
      switch (S.Access->Kind) {
      case PerCpuAccessKind::Pointer:
      case PerCpuAccessKind::Read:
        return true;
      case PerCpuAccessKind::Update:
        if (S.Access->ValueUsed || ReadObjects.count(Object))
          return true;
        break;
      case PerCpuAccessKind::ValueRead:
        break;
      }
    return false;
  }
  /// Per object, the spin_lock_bh() locks held at every access of the TU.
  std::map<std::string, std::vector<std::string>> CommonBhLocks;

  void findCommonBhLocks(const TuFacts &TU) {
    CommonBhLocks.clear();
    std::set<std::string> Seen;
    for (const FunctionFacts &F : TU.Functions)
      for (size_t I = 0; F.InMainFile && I < F.accesses().size(); ++I) {
        std::vector<std::string> Keys;
        for (const HeldContext &H : F.AccessStateBefore[I].Held)
          if (H.Must && H.DisablesBh && !H.Key.empty())
            Keys.push_back(H.Key);
        const std::string &Object = F.accesses()[I].Object;
        std::vector<std::string> &Common = CommonBhLocks[Object];
        if (Seen.insert(Object).second)
          Common = Keys;
        else
          llvm::erase_if(Common, [&](const std::string &K) { return !llvm::is_contained(Keys, K); });
      }
  }

  // spin_lock_bh(&l) serialises an object when l is held at all its uses.
  bool heldAtEveryUse(const PerCpuAccess &A, const HeldContext &Bh) const {
    auto It = CommonBhLocks.find(A.Object);
    return Bh.DisablesBh && It != CommonBhLocks.end() && llvm::is_contained(It->second, Bh.Key);
  }

  static std::vector<ChainStep> entryChain(const FunctionFacts &F, const HeldContext &Bh) {
    std::vector<ChainStep> Chain = Bh.Origin;
    Chain.push_back({Bh.Begin, Bh.FromEntry ? "" : F.Name, bhPhrase(Bh)});
    return Chain;
  }

  void add(const PerCpuAccess &A, BhSite S) {
    std::vector<BhSite> &Sites = Objects[A.Object];
    for (const BhSite &O : Sites)
      if (O.Access->Site == A.Site)
        return;
    Sites.push_back(std::move(S));
  }

  // Objects whose local_lock_t a function takes ("local_lock_nested_bh(
  // &napi_alloc_cache.bh_lock)"): their accesses there are serialised by it,
  // whether the pointer was taken before the lock or after.
  void findLockedObjects(const TuFacts &TU) {
    Locked.clear();
    for (const FunctionFacts &F : TU.Functions)
      for (const SpelledCall &C : F.calls())
        if (hasEffect(C.ApiName, ApiEffect::LOCAL_LOCK))
          Locked[&F].insert(perCpuObjectOf(spelledArgument(TU.SM, C.Site, 0)));
  }

  bool locks(const FunctionFacts &F, const PerCpuAccess &A) const {
    auto It = Locked.find(&F);
    return It != Locked.end() && It->second.count(A.Object);
  }

  // Accesses made without any serialisation in a function that has no entry
  // context: its callers decide. Through calls made in no context, to a
  // bounded depth.
  void findFreeAccesses(const TuFacts &TU) {
    FreeAccesses.clear();
    for (const FunctionFacts &F : TU.Functions) {
      if (!F.InMainFile || !F.EntryContexts.empty())
        continue;
      for (size_t I = 0; I < F.accesses().size(); ++I) {
        const HeldContext *Bh;
        if (serialisation(F.AccessStateBefore[I], Bh) == Serialised::Nothing &&
            !locks(F, F.accesses()[I]))
          FreeAccesses[&F].push_back({&F, &F.accesses()[I], {}});
      }
    }
    for (size_t Round = 0; Round < MaxDepth; ++Round) {
      bool Changed = false;
      for (const FunctionFacts &F : TU.Functions) {
        if (!F.InMainFile || !F.EntryContexts.empty())
          continue;
        for (size_t I = 0; I < F.calls().size(); ++I) {
          const HeldContext *Bh;
          if (serialisation(F.StateBefore[I], Bh) != Serialised::Nothing ||
              F.StateBefore[I].ReleasedInherited)
            continue;
          for (const FunctionFacts *Callee : TU.callees(F.calls()[I])) {
            if (Callee == &F)
              continue;
            for (const FreeAccess &Inner : std::vector<FreeAccess>(FreeAccesses[Callee])) {
              std::vector<FreeAccess> &Mine = FreeAccesses[&F];
              if (Inner.Calls.size() + 1 > MaxDepth || locks(F, *Inner.Access) ||
                  llvm::any_of(Mine, [&](const FreeAccess &O) { return O.Access == Inner.Access; }))
                continue;
              FreeAccess A = Inner;
              A.Calls.insert(A.Calls.begin(), {F.calls()[I].Site, F.Name,
                                               "calls " + Callee->Name + "()"});
              Mine.push_back(std::move(A));
              Changed = true;
            }
          }
        }
      }
      if (!Changed)
        break;
    }
  }

  static std::string accessPhrase(const PerCpuAccess &A) {
    switch (A.Kind) {
    case PerCpuAccessKind::Pointer:
      return "takes this CPU's " + A.Object + ": " + A.text();
    case PerCpuAccessKind::Update:
      return "updates this CPU's " + A.Object + " non-atomically: " + A.text();
    case PerCpuAccessKind::Read:
      return "uses the object this CPU's " + A.Object + " points to: " + A.text();
    case PerCpuAccessKind::ValueRead:
      return "reads this CPU's " + A.Object + ": " + A.text();
    }
    return A.text();
  }

  void report(const TuFacts &TU, FindingSink &Out, StringRef Object,
              std::vector<BhSite> &Sites) {
    llvm::stable_sort(Sites, [&](const BhSite &A, const BhSite &B) {
      return TU.SM.isBeforeInTranslationUnit(A.Access->Site, B.Access->Site);
    });
    const BhSite &First = Sites.front();
    bool Counter = llvm::none_of(Sites, [](const BhSite &S) {
      return S.Access->Kind == PerCpuAccessKind::Pointer || S.Access->Kind == PerCpuAccessKind::Read;
    });
    std::vector<ChainStep> Chain = First.Chain;
    Chain.push_back({First.Access->Site, First.F->Name, accessPhrase(*First.Access)});
    for (size_t I = 1; I < Sites.size(); ++I)
      Chain.push_back({Sites[I].Access->Site, Sites[I].F->Name,
                       "also with only BH disabled (" + Sites[I].Why +
                           "): " + Sites[I].Access->text()});
    std::string Msg =
        "per-CPU " + Object.str() + " is serialised only by disabled BH (" +
        First.Why + "): on PREEMPT_RT BH-disabled code is preemptible and "
        "only the per-CPU BH lock, optional since Linux 6.18, keeps another task on this "
        "CPU from using " + Object.str() + " at the same time";
    Msg += Counter ? "; a per-CPU nesting or recursion counter: keep it per task on "
                     "PREEMPT_RT (as upstream did with current->net_xmit), or protect it "
                     "with a local_lock_t taken with local_lock_nested_bh()"
                   : "; protect it with a local_lock_t taken with local_lock_nested_bh()";
    if (Sites.size() > 1)
      Msg += " (" + std::to_string(Sites.size()) + " accesses)";
    std::vector<NestedBhSite> FixSites;
    for (const BhSite &S : Sites)
      FixSites.push_back({S.F, S.Access});
    FixBuilder Edits(TU.SM, TU.Ctx.getLangOpts());
    std::string Summary;
    rtcheck_fix Fix{buildNestedBhLock(TU, FixSites, Edits, Summary), nullptr, nullptr};
    Fix.summary = Summary.c_str();
    Out.report(RuleId, RTCHECK_WARNING, TU.SM, First.Access->Site, First.F->Name, Msg, Chain,
               Fix, Fix.kind == RTCHECK_FIX_NONE ? nullptr : &Edits);
  }

};

} // namespace

std::unique_ptr<Rule> createPercpuBh() { return std::make_unique<PercpuBh>(); }

} // namespace rtcheck
