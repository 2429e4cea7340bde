//===- FunctionWalk.h - a function's CFG as an RT kernel runs it -*- C++ -*-===//
// Builds the CFG of a function and decides which blocks and edges an RT kernel
// can take: branches on RT config are taken as RT takes them, other constant
// branches as the configured tree takes them, #if regions RT does not compile
// are skipped.
#ifndef RTCHECK_CORE_FUNCTIONWALK_H
#define RTCHECK_CORE_FUNCTIONWALK_H

#include "core/ParamConditions.h"
#include "core/PerCpuAccess.h"
#include "core/RtDeadRegions.h"
#include "core/SpelledCall.h"
#include "clang/AST/Decl.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"
#include <memory>
#include <vector>

namespace rtcheck {

struct FunctionCfg {
  std::unique_ptr<clang::CFG> Graph; ///< null when no CFG could be built
  llvm::BitVector Reached;           ///< blocks an RT kernel can reach
  /// Per block id, for two-way branches: may RT take the {true, false} edge.
  std::vector<std::pair<bool, bool>> Edges;
  /// The calls in reached blocks (or in the whole body without a CFG), one
  /// per CallExpr, in block order.
  std::vector<SpelledCall> Calls;
  llvm::DenseMap<const clang::CallExpr *, unsigned> CallIndex;
  /// guard()/scoped_guard() variables by the constructor call that
  /// initialises them: the context ends with the variable's lifetime.
  llvm::DenseMap<const clang::CallExpr *, const clang::VarDecl *> GuardVars;
  /// The per-CPU accesses an RT kernel can reach (functions of the main file
  /// only), and the CFG statement each is evaluated at: its context is the
  /// state before that statement.
  std::vector<PerCpuAccess> Accesses;
  llvm::DenseMap<const clang::Stmt *, unsigned> AccessAt;
  /// The uses of each access's pointer (Accesses[I].Uses[J]) by the
  /// reference they are evaluated at: {I, J}.
  llvm::DenseMap<const clang::Stmt *, llvm::SmallVector<std::pair<unsigned, unsigned>, 1>> UseAt;

  /// The references to the function's pointer parameters an RT kernel
  /// reaches, with a few of their ancestors (innermost first, through casts
  /// and parens): what the function does with a pointer its caller gives,
  /// for ParamSerialisation. ParamUseAt: the reference's index here.
  struct ParamUse {
    const clang::DeclRefExpr *Ref;
    unsigned Param;
    llvm::SmallVector<const clang::Stmt *, 4> Up;
  };
  std::vector<ParamUse> ParamUses;
  llvm::DenseMap<const clang::Stmt *, unsigned> ParamUseAt;

  /// Per call (Calls), what must hold of the function's parameters for the
  /// call to be reached (ParamConditions: "if (!timeout) return;").
  std::vector<ParamNeeds> CallNeeds;
  /// What the function does to its parameters (ParamConditions).
  ParamChanges Params;
  /// Per call (Calls): the reference-count API ("refcount_dec_and_test")
  /// whose last-reference branch every path to the call takes, or empty.
  std::vector<llvm::StringRef> CallLastRef;
  /// The same per per-CPU access (Accesses) and per use of its pointer.
  std::vector<ParamNeeds> AccessNeeds;
  std::vector<std::vector<ParamNeeds>> UseNeeds;

  /// Per block id, for two-way branches on a context test (irqs_disabled(),
  /// in_nmi(): context_tests.def): the context facts known false on the
  /// {true, false} edge.
  std::vector<std::pair<unsigned, unsigned>> Excludes;
  /// Per block id: on which edge an exact context test says the code runs
  /// truly atomic (1: true edge, 2: false edge, 0: neither).
  std::vector<unsigned> ExclusiveEdges;
  bool exclusiveOn(const clang::CFGBlock &From, unsigned SuccIndex) const {
    return From.succ_size() == 2 && !ExclusiveEdges.empty() &&
           ExclusiveEdges[From.getBlockID()] == SuccIndex + 1;
  }
  unsigned excludedOn(const clang::CFGBlock &From, unsigned SuccIndex) const {
    if (From.succ_size() != 2 || Excludes.empty())
      return 0;
    auto E = Excludes[From.getBlockID()];
    return SuccIndex == 0 ? E.first : E.second;
  }

  bool takesEdge(const clang::CFGBlock &From, unsigned SuccIndex) const {
    if (From.succ_size() != 2)
      return true;
    auto E = Edges[From.getBlockID()];
    return SuccIndex == 0 ? E.first : E.second;
  }
};

FunctionCfg buildRtCfg(const clang::FunctionDecl *FD, clang::ASTContext &Ctx,
                       const RtDeadRegions &Dead, bool WithAccesses);

} // namespace rtcheck
#endif
