#include "core/ParamConditions.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Basic/Builtins.h"
#include "llvm/ADT/StringExtras.h"
#include <deque>

using namespace clang;

namespace rtcheck {

std::string ParamNeed::str() const {
  std::string Masked;
  if (Mask != ~uint64_t(0))
    Masked = "&0x" + llvm::utohexstr(Mask, /*LowerCase=*/true);
  return "p" + std::to_string(Param) + Masked + (Eq ? "==" : "!=") + std::to_string(Value);
}

std::optional<ParamNeed> ParamNeed::parse(llvm::StringRef S) {
  ParamNeed N;
  if (!S.consume_front("p"))
    return std::nullopt;
  size_t Op = S.find_first_of("=!&");
  if (Op == llvm::StringRef::npos || S.substr(0, Op).getAsInteger(10, N.Param))
    return std::nullopt;
  if (S[Op] == '&') {
    size_t End = S.find_first_of("=!", Op);
    if (End == llvm::StringRef::npos || S.slice(Op + 1, End).getAsInteger(0, N.Mask))
      return std::nullopt;
    Op = End;
  }
  llvm::StringRef Rest = S.substr(Op);
  N.Eq = Rest.consume_front("==");
  if (!N.Eq && !Rest.consume_front("!="))
    return std::nullopt;
  if (Rest.getAsInteger(10, N.Value))
    return std::nullopt;
  return N;
}

std::string ArgValue::str() const {
  switch (K) {
  case Const: return std::to_string(Value);
  case NonZero: return "nz";
  case Param: return "p" + std::to_string(Index);
  case NotParam: return "!p" + std::to_string(Index);
  case Unknown: break;
  }
  return "?";
}

void addNeed(ParamNeeds &Needs, const ParamNeed &N) {
  if (Needs.size() < MaxNeeds && llvm::find(Needs, N) == Needs.end())
    Needs.push_back(N);
}

NeedsResult mapNeeds(llvm::ArrayRef<ParamNeed> Callee, llvm::ArrayRef<ArgValue> Args,
                     ParamNeeds &Out) {
  for (const ParamNeed &N : Callee) {
    if (N.Param >= Args.size())
      continue; // not given: may hold
    const ArgValue &A = Args[N.Param];
    switch (A.K) {
    case ArgValue::Unknown:
      break;
    case ArgValue::Const:
      if (((uint64_t(A.Value) & N.Mask) == uint64_t(N.Value)) != N.Eq)
        return NeedsResult::Ruled;
      break;
    case ArgValue::NonZero: // &p->rcu: not NULL, value unknown
      if (N.Value == 0 && N.Eq && N.Mask == ~uint64_t(0))
        return NeedsResult::Ruled;
      break;
    case ArgValue::Param:
      addNeed(Out, {A.Index, N.Eq, N.Value, N.Mask});
      break;
    case ArgValue::NotParam: // !p is 1 when p == 0, else 0
      if (N.Mask != ~uint64_t(0))
        break;
      if (N.Value != 0 && N.Value != 1) {
        if (N.Eq)
          return NeedsResult::Ruled;
        break;
      }
      // "!p == 1" and "!p != 0" need p == 0; the others p != 0.
      addNeed(Out, {A.Index, (N.Value == 1) == N.Eq, 0});
      break;
    }
  }
  return NeedsResult::Reached;
}

namespace {

std::optional<int64_t> constantOf(const Expr *E, ASTContext &Ctx) {
  E = E->IgnoreParenCasts();
  if (E->isValueDependent() || E->isTypeDependent())
    return std::nullopt;
  if (E->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
    return 0;
  Expr::EvalResult R;
  if (E->getType()->isIntegralOrEnumerationType() && E->EvaluateAsInt(R, Ctx) &&
      R.Val.getInt().getMinSignedBits() <= 64)
    return R.Val.getInt().getSExtValue();
  return std::nullopt;
}

const ParmVarDecl *paramOf(const Expr *E) {
  const auto *R = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts());
  return R ? dyn_cast<ParmVarDecl>(R->getDecl()) : nullptr;
}

} // namespace

ParamChanges paramChanges(const FunctionDecl &FD, ASTContext &Ctx) {
  struct Finder : RecursiveASTVisitor<Finder> {
    llvm::BitVector Changed;
    std::vector<llvm::SmallVector<const Expr *, 1>> Changes;
    void mark(const Expr *E, const Expr *Change) {
      if (const ParmVarDecl *P = paramOf(E))
        if (P->getFunctionScopeIndex() < Changed.size()) {
          Changed.set(P->getFunctionScopeIndex());
          Changes[P->getFunctionScopeIndex()].push_back(Change);
        }
    }
    bool VisitBinaryOperator(BinaryOperator *B) {
      if (B->isAssignmentOp())
        mark(B->getLHS(), B);
      return true;
    }
    bool VisitUnaryOperator(UnaryOperator *U) {
      if (U->isIncrementDecrementOp() || U->getOpcode() == UO_AddrOf)
        mark(U->getSubExpr(), U);
      return true;
    }
  } F;
  F.Changed.resize(FD.getNumParams());
  F.Changes.resize(FD.getNumParams());
  ParamChanges Out;
  Out.Masks.assign(FD.getNumParams(), ~uint64_t(0));
  const auto *Body = dyn_cast_or_null<CompoundStmt>(FD.getBody());
  if (Body)
    F.TraverseStmt(const_cast<CompoundStmt *>(Body));
  Out.Changed = F.Changed;
  if (!Body)
    return Out;
  for (unsigned I = 0; I < FD.getNumParams(); ++I) {
    const auto *And = F.Changes[I].size() == 1
                          ? dyn_cast<CompoundAssignOperator>(F.Changes[I][0]) : nullptr;
    auto Mask = And && And->getOpcode() == BO_AndAssign ? constantOf(And->getRHS(), Ctx)
                                                        : std::nullopt;
    if (!Mask)
      continue;
    for (const Stmt *S : Body->body()) {
      if (S == And) {
        Out.Masks[I] = uint64_t(*Mask);
        Out.Changed.reset(I);
        break;
      }
      if (!isa<DeclStmt, Expr>(S))
        break; // a branch before the mask sees the whole value
    }
  }
  return Out;
}

namespace {

// What is assumed of one parameter while walking the CFG.
struct Assumption {
  const ParmVarDecl *P;
  bool Eq;
  int64_t V;
};

enum class Tri { False, True, Unknown };

Tri notOf(Tri T) {
  return T == Tri::Unknown ? T : T == Tri::True ? Tri::False : Tri::True;
}

Tri evaluate(const Expr *E, const Assumption &A, ASTContext &Ctx) {
  E = E->IgnoreParenCasts();
  if (auto C = constantOf(E, Ctx))
    return *C ? Tri::True : Tri::False;
  if (const auto *Call = dyn_cast<CallExpr>(E)) // likely(), unlikely()
    if (Call->getBuiltinCallee() == Builtin::BI__builtin_expect && Call->getNumArgs() == 2)
      return evaluate(Call->getArg(0), A, Ctx);
  if (const auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_LNot)
    return notOf(evaluate(U->getSubExpr(), A, Ctx));
  if (const auto *B = dyn_cast<BinaryOperator>(E)) {
    if (B->isLogicalOp()) {
      Tri L = evaluate(B->getLHS(), A, Ctx), R = evaluate(B->getRHS(), A, Ctx);
      bool And = B->getOpcode() == BO_LAnd;
      Tri Short = And ? Tri::False : Tri::True;
      if (L == Short || R == Short)
        return Short;
      return L == notOf(Short) && R == notOf(Short) ? notOf(Short) : Tri::Unknown;
    }
    if (B->isEqualityOp()) {
      const Expr *Side = B->getLHS(), *Other = B->getRHS();
      if (paramOf(Other) == A.P)
        std::swap(Side, Other);
      auto C = constantOf(Other, Ctx);
      if (paramOf(Side) != A.P || !C)
        return Tri::Unknown;
      Tri Equal = A.Eq ? (A.V == *C ? Tri::True : Tri::False)
                       : (A.V == *C ? Tri::False : Tri::Unknown);
      return B->getOpcode() == BO_EQ ? Equal : notOf(Equal);
    }
    return Tri::Unknown;
  }
  if (paramOf(E) == A.P) // if (p)
    return A.Eq ? (A.V ? Tri::True : Tri::False) : (A.V == 0 ? Tri::True : Tri::Unknown);
  return Tri::Unknown;
}

// p == V and p != V, as literals to test; a few per function.
constexpr size_t MaxLiterals = 16;
void addLiterals(ParamNeeds &Out, unsigned Param, int64_t V) {
  for (bool Eq : {true, false})
    if (Out.size() < MaxLiterals && llvm::find(Out, ParamNeed{Param, Eq, V}) == Out.end())
      Out.push_back({Param, Eq, V});
}

// The literals worth testing: parameters compared with constants in the
// branches of the function.
void collectLiterals(const Expr *E, const llvm::BitVector &Changed, ASTContext &Ctx,
                     ParamNeeds &Out) {
  E = E->IgnoreParenCasts();
  auto Stable = [&](const ParmVarDecl *P) {
    return P && P->getFunctionScopeIndex() < Changed.size() &&
           !Changed.test(P->getFunctionScopeIndex());
  };
  if (const auto *Call = dyn_cast<CallExpr>(E)) {
    if (Call->getBuiltinCallee() == Builtin::BI__builtin_expect && Call->getNumArgs() == 2)
      collectLiterals(Call->getArg(0), Changed, Ctx, Out);
    return;
  }
  if (const auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_LNot)
    return collectLiterals(U->getSubExpr(), Changed, Ctx, Out);
  if (const auto *B = dyn_cast<BinaryOperator>(E)) {
    if (B->isLogicalOp()) {
      collectLiterals(B->getLHS(), Changed, Ctx, Out);
      collectLiterals(B->getRHS(), Changed, Ctx, Out);
    } else if (B->isEqualityOp()) {
      const Expr *Side = B->getLHS(), *Other = B->getRHS();
      if (paramOf(Other))
        std::swap(Side, Other);
      auto C = constantOf(Other, Ctx);
      if (const ParmVarDecl *P = paramOf(Side); Stable(P) && C)
        addLiterals(Out, P->getFunctionScopeIndex(), *C);
    }
    return;
  }
  if (const ParmVarDecl *P = paramOf(E); Stable(P))
    addLiterals(Out, P->getFunctionScopeIndex(), 0);
}

// The blocks an RT kernel reaches from the entry while A holds.
llvm::BitVector reachedUnder(const CFG &G, const llvm::BitVector &Reached, const Assumption &A,
                             ASTContext &Ctx) {
  llvm::BitVector Seen(G.getNumBlockIDs());
  std::deque<const CFGBlock *> Work{&G.getEntry()};
  Seen.set(G.getEntry().getBlockID());
  auto Visit = [&](const CFGBlock *S) {
    if (S && Reached.test(S->getBlockID()) && !Seen.test(S->getBlockID())) {
      Seen.set(S->getBlockID());
      Work.push_back(S);
    }
  };
  while (!Work.empty()) {
    const CFGBlock *B = Work.front();
    Work.pop_front();
    const Stmt *Term = B->getTerminatorStmt();
    if (const auto *Switch = dyn_cast_or_null<SwitchStmt>(Term);
        Switch && paramOf(Switch->getCond()) == A.P) {
      bool Matched = false;
      for (const CFGBlock *S : B->succs()) {
        const auto *Case = S ? dyn_cast_or_null<CaseStmt>(S->getLabel()) : nullptr;
        auto V = Case && !Case->getRHS() ? constantOf(Case->getLHS(), Ctx) : std::nullopt;
        if (!V)
          continue;
        // p == V: only case V; p != V: every case but V.
        if (A.Eq ? *V == A.V : *V != A.V) {
          Visit(S);
          Matched |= A.Eq;
        }
      }
      for (const CFGBlock *S : B->succs())
        if (S && (!S->getLabel() || isa<DefaultStmt>(S->getLabel())) && (!Matched || !A.Eq))
          Visit(S);
      continue;
    }
    const Stmt *Cond = B->succ_size() == 2 ? B->getTerminatorCondition() : nullptr;
    Tri T = Cond && isa<Expr>(Cond) ? evaluate(cast<Expr>(Cond), A, Ctx) : Tri::Unknown;
    unsigned I = 0;
    for (const CFGBlock *S : B->succs()) {
      if (T == Tri::Unknown || (T == Tri::True) == (I == 0))
        Visit(S);
      ++I;
    }
  }
  return Seen;
}

} // namespace

std::vector<ArgValue> argValues(const CallExpr &Call, const FunctionDecl &Caller,
                                const ParamChanges &Params, ASTContext &Ctx) {
  std::vector<ArgValue> Out;
  for (const Expr *Arg : Call.arguments()) {
    ArgValue V;
    const Expr *E = Arg->IgnoreParenCasts();
    const auto *U = dyn_cast<UnaryOperator>(E);
    if (auto C = constantOf(E, Ctx)) {
      V.K = ArgValue::Const;
      V.Value = *C;
    } else if ((U && U->getOpcode() == UO_AddrOf) || isa<StringLiteral>(E)) {
      V.K = ArgValue::NonZero;
    } else if (const ParmVarDecl *P = paramOf(U && U->getOpcode() == UO_LNot
                                                   ? U->getSubExpr() : E);
               P && P->getDeclContext() == &Caller) {
      unsigned I = P->getFunctionScopeIndex();
      if (Params.asGiven(I)) {
        V.K = U && U->getOpcode() == UO_LNot ? ArgValue::NotParam : ArgValue::Param;
        V.Index = I;
      }
    }
    Out.push_back(V);
  }
  return Out;
}

std::vector<ParamNeeds> blockNeeds(const FunctionDecl &FD, const CFG &G,
                                   const llvm::BitVector &Reached, const ParamChanges &Params,
                                   ASTContext &Ctx) {
  std::vector<ParamNeeds> Out(G.getNumBlockIDs());
  if (FD.getNumParams() == 0)
    return Out;
  const llvm::BitVector &Changed = Params.Changed;
  const std::vector<uint64_t> &Masks = Params.Masks;
  if (Changed.all())
    return Out;
  ParamNeeds Literals;
  for (const CFGBlock *B : G) {
    if (!Reached.test(B->getBlockID()))
      continue;
    const Stmt *Term = B->getTerminatorStmt();
    if (const auto *Switch = dyn_cast_or_null<SwitchStmt>(Term)) {
      const ParmVarDecl *P = paramOf(Switch->getCond());
      if (!P || P->getFunctionScopeIndex() >= Changed.size() ||
          Changed.test(P->getFunctionScopeIndex()))
        continue;
      for (const CFGBlock *S : B->succs())
        if (const auto *Case = S ? dyn_cast_or_null<CaseStmt>(S->getLabel()) : nullptr)
          if (auto V = Case->getRHS() ? std::nullopt : constantOf(Case->getLHS(), Ctx))
            addLiterals(Literals, P->getFunctionScopeIndex(), *V);
      continue;
    }
    if (const auto *Cond = dyn_cast_or_null<Expr>(B->succ_size() == 2 ? B->getTerminatorCondition()
                                                                       : nullptr))
      collectLiterals(Cond, Changed, Ctx, Literals);
  }
  // "p == 4" says more than "p != 0, p != 1 ...": first, as needs are few.
  std::stable_partition(Literals.begin(), Literals.end(), [](const ParamNeed &L) { return L.Eq; });
  for (ParamNeed L : Literals) {
    // Where can the function go when L is false?
    Assumption NotL{FD.getParamDecl(L.Param), !L.Eq, L.Value};
    llvm::BitVector Under = reachedUnder(G, Reached, NotL, Ctx);
    L.Mask = Masks[L.Param]; // what the function tests is p & mask
    for (const CFGBlock *B : G)
      if (Reached.test(B->getBlockID()) && !Under.test(B->getBlockID()))
        addNeed(Out[B->getBlockID()], L);
  }
  return Out;
}

} // namespace rtcheck
