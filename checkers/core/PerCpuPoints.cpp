#include "core/PerCpuPoints.h"
#include "core/ParamSerialisation.h"
#include "llvm/ADT/DenseSet.h"

using namespace clang;

namespace rtcheck {

namespace {

// Header structs the file uses field by field: "softnet_data.xmit.recursion",
// "sd->process_queue".
llvm::DenseSet<const VarDecl *> containers(const TuFacts &TU) {
  llvm::DenseSet<const VarDecl *> Out;
  for (const FunctionFacts &F : TU.Functions)
    for (const PerCpuAccess &A : F.accesses())
      if (A.SharedStruct && A.Var &&
          (!A.Field.empty() ||
           llvm::any_of(A.Uses, [](const PerCpuUse &U) { return !U.Member.empty(); })))
        Out.insert(A.Var);
  return Out;
}

// E is Root, or a pointer into the object Root points to:
// "this_cpu_ptr(ma->caches)->cache + idx", "&this_cpu_ptr(p)->q".
bool partOf(const Expr *E, const Expr *Root) {
  E = E->IgnoreParenCasts();
  if (E == Root)
    return true;
  if (const auto *B = dyn_cast<BinaryOperator>(E);
      B && B->isAdditiveOp() && B->getType()->isPointerType())
    return partOf(B->getLHS()->getType()->isPointerType() ? B->getLHS() : B->getRHS(), Root);
  if (const auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_AddrOf) {
    const Expr *Part = U->getSubExpr()->IgnoreParenImpCasts();
    if (const auto *Index = dyn_cast<ArraySubscriptExpr>(Part))
      return partOf(Index->getBase(), Root);
    if (const auto *M = dyn_cast<MemberExpr>(Part))
      return M->isArrow() && M->getBase()->IgnoreParenCasts() == Root;
    return false;
  }
  // ->cache of array type decays to a pointer to its first element.
  if (const auto *M = dyn_cast<MemberExpr>(E); M && M->isArrow() && M->getType()->isArrayType())
    return M->getBase()->IgnoreParenCasts() == Root;
  return false;
}

// this_cpu_ptr(p->cpu_bstats) handed straight to a header inline that
// serialises what it is given itself (bstats_update(): u64_stats only), or
// to a statistics or lockless API, or to a function of the file that does
// (tasklet_action_common(): irqs off around every use).
bool handedToSerialiser(const TuFacts &TU, const FunctionFacts &F, const PerCpuAccess &A) {
  const auto *Root = dyn_cast_or_null<Expr>(A.Root);
  if (!Root)
    return false;
  for (const SpelledCall &C : F.calls()) {
    const Expr *Given = nullptr;
    for (const Expr *E : C.Call->arguments())
      if (partOf(E, Root->IgnoreParenImpCasts()))
        Given = E;
    if (!Given)
      continue;
    unsigned Arg;
    if (serialisingCall(F, *C.Call)) // u64_stats_inc(this_cpu_ptr(&packets))
      return true;
    if (const FunctionFacts *Callee = argumentOf(TU, *C.Call, Given, Arg))
      return serialisesParam(TU, *Callee, Arg);
    return false;
  }
  return false;
}

std::vector<PerCpuPoint> pointsOf(const TuFacts &TU, const FunctionFacts &F,
                                  const llvm::DenseSet<const VarDecl *> &Containers) {
  std::vector<PerCpuPoint> Points;
  for (size_t I = 0; I < F.accesses().size(); ++I) {
    const PerCpuAccess &A = F.accesses()[I];
    // this_cpu_ptr(p) of a parameter handed on whole (the BPF helper
    // bpf_this_cpu_ptr() returns it): which data it is, and how it is used,
    // only the caller knows.
    bool HandedOn = llvm::all_of(A.Uses, [](const PerCpuUse &U) {
      return U.Kind == PerCpuUseKind::Whole && U.Member.empty();
    });
    if (A.Kind == PerCpuAccessKind::Pointer && HandedOn &&
        llvm::any_of(F.Decl->parameters(),
                     [&](const ParmVarDecl *P) { return P->getName() == A.Object; }))
      continue;
    bool ThroughPointer = A.Kind == PerCpuAccessKind::Pointer || A.Kind == PerCpuAccessKind::Read;
    if (I < F.AccessReached.size() && !F.AccessReached[I])
      continue; // in a branch the CFG prunes: no context to judge

    if (A.Kind == PerCpuAccessKind::Pointer && (!A.Local || A.Uses.empty()) &&
        handedToSerialiser(TU, F, A))
      continue;
    if (!ThroughPointer || !A.Local || A.Uses.empty()) {
      Points.push_back({&F, &A, A.Site, A.Site, A.Object, A.SharedStruct ? A.Field : "",
                        A.text(), &F.AccessStateBefore[I], PerCpuUseKind::Whole,
                        I < F.Cfg.AccessNeeds.size() ? &F.Cfg.AccessNeeds[I] : nullptr});
      continue;
    }
    std::string Local = A.Local->getName().str();
    for (size_t J = 0; J < A.Uses.size(); ++J) {
      const PerCpuUse &U = A.Uses[J];
      const FunctionFacts *Callee =
          U.ArgOf ? TU.factsFor(TuFacts::calledFunction(*U.ArgOf)) : nullptr;
      if ((Callee && Callee->InMainFile) || (I < F.UseReached.size() && !F.UseReached[I][J]))
        continue;
      // A header inline that serialises what it is given (bstats_update():
      // u64_stats only) takes it off the caller's hands.
      // So does a statistics or lockless API (u64_stats_update_begin(syncp)).
      unsigned Arg;
      const FunctionFacts *To = U.ArgOf ? argumentOf(TU, *U.ArgOf, U.Ref, Arg) : nullptr;
      if (U.Kind == PerCpuUseKind::Whole && U.ArgOf &&
          (serialisingCall(F, *U.ArgOf) || (To && serialisesParam(TU, *To, Arg))))
        continue;
      // The whole of a container handed to a function: which fields it
      // touches, and under which lock, is that function's business.
      if (U.Kind == PerCpuUseKind::Whole && U.ArgOf && Containers.count(A.Var))
        continue;
      std::string Used = U.Member.empty() ? Local : Local + "->" + U.Member;
      Points.push_back({&F, &A, A.Site, U.Loc, A.Object, A.SharedStruct ? U.Member : "",
                        Used + " (" + Local + " = " + A.text() + ")", &F.UseStateBefore[I][J],
                        U.Kind,
                        I < F.Cfg.UseNeeds.size() && J < F.Cfg.UseNeeds[I].size()
                            ? &F.Cfg.UseNeeds[I][J]
                            : nullptr});
    }
  }
  return Points;
}

} // namespace

llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuPoint>>
perCpuPoints(const TuFacts &TU) {
  llvm::DenseSet<const VarDecl *> Containers = containers(TU);
  llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuPoint>> Out;
  for (const FunctionFacts &F : TU.Functions) {
    if (F.accesses().empty())
      continue;
    std::vector<PerCpuPoint> List = pointsOf(TU, F, Containers);
    // A header inline's own updates and field uses count; a pointer it hands
    // on (qdisc_bstats_cpu_update() to bstats_update()) is beyond what it says.
    if (!F.InMainFile)
      llvm::erase_if(List, [](const PerCpuPoint &P) {
        return P.Use == PerCpuUseKind::Whole && (P.Access->Kind == PerCpuAccessKind::Pointer ||
                                                 P.Access->Kind == PerCpuAccessKind::Read);
      });
    Out[&F] = std::move(List);
  }
  return Out;
}

int useWeight(PerCpuUseKind K) {
  switch (K) {
  case PerCpuUseKind::Read: return 0;
  case PerCpuUseKind::Count: return 1;
  case PerCpuUseKind::Whole: return 2;
  case PerCpuUseKind::Write:
  case PerCpuUseKind::Address: return 3;
  }
  return 0;
}

bool pointMattersOnRt(const PerCpuPoint &P, bool ReadBack) {
  const PerCpuAccess &A = *P.Access;
  switch (A.Kind) {
  case PerCpuAccessKind::Pointer:
    return P.Use != PerCpuUseKind::Read && (P.Use != PerCpuUseKind::Count || ReadBack);
  case PerCpuAccessKind::Read: // the object a per-CPU slot points to: changed
    // through it; handing the pointer on (a refcounted route cached per CPU) is not.
    return P.Use == PerCpuUseKind::Write || P.Use == PerCpuUseKind::Address ||
           (P.Use == PerCpuUseKind::Count && ReadBack);
  case PerCpuAccessKind::Update: // __this_cpu_write(flag, 1) is state, not a count
    return A.ValueUsed || ReadBack || !A.Counter;
  case PerCpuAccessKind::ValueRead:
    return false;
  }
  return false;
}

bool pointReadsValue(const PerCpuPoint &P) {
  return P.Access->Kind == PerCpuAccessKind::ValueRead || P.Use == PerCpuUseKind::Read;
}

bool lockOfTheObject(const PerCpuPoint &P, const HeldContext &Bh) {
  if (!Bh.DisablesBh || !P.Access->Local)
    return false;
  StringRef Root = StringRef(Bh.Key).ltrim("&( ").take_while(
      [](char C) { return isalnum((unsigned char)C) || C == '_'; });
  return Root == P.Access->Local->getName();
}

std::string pointPhrase(const PerCpuPoint &P, const std::string &Object) {
  switch (P.Access->Kind) {
  case PerCpuAccessKind::Pointer:
    return "uses this CPU's " + Object + ": " + P.What;
  case PerCpuAccessKind::Update:
    return "updates this CPU's " + Object + " non-atomically: " + P.What;
  case PerCpuAccessKind::Read:
    return "uses the object this CPU's " + Object + " points to: " + P.What;
  case PerCpuAccessKind::ValueRead:
    return "reads this CPU's " + Object + ": " + P.What;
  }
  return P.What;
}

} // namespace rtcheck
