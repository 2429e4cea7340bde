#include "core/PerCpuPoints.h"
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

std::vector<PerCpuPoint> pointsOf(const TuFacts &TU, const FunctionFacts &F,
                                  const llvm::DenseSet<const VarDecl *> &Containers) {
  std::vector<PerCpuPoint> Points;
  for (size_t I = 0; I < F.accesses().size(); ++I) {
    const PerCpuAccess &A = F.accesses()[I];
    bool ThroughPointer = A.Kind == PerCpuAccessKind::Pointer || A.Kind == PerCpuAccessKind::Read;
    if (!ThroughPointer || !A.Local || A.Uses.empty()) {
      Points.push_back({&F, &A, A.Site, A.Site, A.Object, A.SharedStruct ? A.Field : "",
                        A.text(), &F.AccessStateBefore[I]});
      continue;
    }
    std::string Local = A.Local->getName().str();
    for (size_t J = 0; J < A.Uses.size(); ++J) {
      const PerCpuUse &U = A.Uses[J];
      const FunctionFacts *Callee =
          U.ArgOf ? TU.factsFor(TuFacts::calledFunction(*U.ArgOf)) : nullptr;
      if (Callee && Callee->InMainFile)
        continue;
      // The whole of a container handed to a function: which fields it
      // touches, and under which lock, is that function's business.
      if (U.Kind == PerCpuUseKind::Whole && U.ArgOf && Containers.count(A.Var))
        continue;
      std::string Used = U.Member.empty() ? Local : Local + "->" + U.Member;
      Points.push_back({&F, &A, A.Site, U.Loc, A.Object, A.SharedStruct ? U.Member : "",
                        Used + " (" + Local + " = " + A.text() + ")", &F.UseStateBefore[I][J],
                        U.Kind});
    }
  }
  return Points;
}

} // namespace

llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuPoint>> perCpuPoints(const TuFacts &TU) {
  llvm::DenseSet<const VarDecl *> Containers = containers(TU);
  llvm::DenseMap<const FunctionFacts *, std::vector<PerCpuPoint>> Out;
  for (const FunctionFacts &F : TU.Functions)
    if (F.InMainFile)
      Out[&F] = pointsOf(TU, F, Containers);
  return Out;
}

} // namespace rtcheck
