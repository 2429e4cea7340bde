//===- PerCpuFreePoints.cpp - per-CPU uses whose callers decide ----------===//
#include "core/PerCpuFreePoints.h"
#include "core/BhSerialisation.h"
#include "core/ContextEngine.h"
#include "core/KernelApi.h"

using namespace clang;

namespace rtcheck {

LockedObjects::LockedObjects(const TuFacts &TU) {
  for (const FunctionFacts &F : TU.Functions)
    for (const SpelledCall &C : F.calls()) {
      const ApiEntry *A = lookupApi(C.ApiName);
      if (!C.Representative || !A ||
          (A->Effect != ApiEffect::LOCAL_LOCK && A->Effect != ApiEffect::LOCK_HELD))
        continue;
      std::string Arg = spelledArgument(TU.SM, C.Site, A->Arg);
      std::string Object = perCpuObjectOf(Arg);
      // The pointer taken before or after: "srh_state->bh_lock".
      StringRef Root = StringRef(Arg).ltrim("&( ").take_while(
          [](char Ch) { return isalnum((unsigned char)Ch) || Ch == '_'; });
      for (const PerCpuAccess &Acc : F.accesses())
        if (Acc.Local && Root == Acc.Local->getName())
          Object = baseObject(Acc.Object).str();
      Locked[&F].insert(Object);
    }
}

bool LockedObjects::locks(const FunctionFacts &F, StringRef Object) const {
  auto It = Locked.find(&F);
  return It != Locked.end() && (It->second.count(Object) || It->second.count(baseObject(Object)));
}

llvm::DenseMap<const FunctionFacts *, std::vector<FreePoint>>
findFreePoints(const TuFacts &TU, const PerCpuPointMap &Points, const LockedObjects &Locked,
               size_t MaxDepth) {
  llvm::DenseMap<const FunctionFacts *, std::vector<FreePoint>> Free;
  for (auto &[F, List] : Points) {
    if (!F->EntryContexts.empty())
      continue;
    for (const PerCpuPoint &P : List) {
      const HeldContext *Bh;
      if (serialisation(*P.State, Bh) == Serialised::Nothing && !Locked.locks(*F, P.Object))
        Free[F].push_back({P, {}});
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
          for (const FreePoint &Inner : std::vector<FreePoint>(Free[Callee])) {
            std::vector<FreePoint> &Mine = Free[&F];
            if (Inner.Calls.size() + 1 > MaxDepth || Locked.locks(F, Inner.Point.Object) ||
                llvm::any_of(Mine, [&](const FreePoint &O) {
                  return O.Point.Loc == Inner.Point.Loc && O.Point.UseLoc == Inner.Point.UseLoc;
                }))
              continue;
            FreePoint P = Inner;
            P.Calls.insert(P.Calls.begin(),
                           {F.calls()[I].Site, F.Name, "calls " + Callee->Name + "()"});
            Mine.push_back(std::move(P));
            Changed = true;
          }
        }
      }
    }
    if (!Changed)
      break;
  }
  return Free;
}

} // namespace rtcheck
