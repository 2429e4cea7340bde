#include "core/ParamSerialisation.h"
#include "core/BhSerialisation.h"
#include "core/KernelApi.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace clang;

namespace rtcheck {
namespace {

// Handing a pointer on stops here, like the engine's other chains.
constexpr unsigned MaxDepth = 3;

bool serialisedApi(ApiEffect E) {
  switch (E) {
  case ApiEffect::LOCKLESS: case ApiEffect::STATS: case ApiEffect::PEEK:
  case ApiEffect::RAW_LOCK: case ApiEffect::RAW_UNLOCK: case ApiEffect::RAW_TRYLOCK:
  case ApiEffect::RT_LOCK: case ApiEffect::RT_LOCK_BH: case ApiEffect::LOCAL_LOCK:
  case ApiEffect::RT_UNLOCK: case ApiEffect::RT_UNLOCK_BH: case ApiEffect::RT_TRYLOCK:
  case ApiEffect::LOCK_HELD:
    return true;
  default:
    return false;
  }
}

bool serialises(const TuFacts &TU, const FunctionFacts &G, unsigned Index, unsigned Depth);

// A field of the data read as a value that is not a pointer (a flag, a
// count, a state word): a read races only with a writer, and the writers are
// judged where they write. Q is the ancestor above the field.
// READ_ONCE(p->x) is *(const volatile typeof(p->x) *)&p->x.
bool scalarRead(const Expr *Field, const Stmt *Q, const Stmt *Q2, const Stmt *Q3) {
  auto IsField = [&](const Expr *E) { return E && E->IgnoreParenImpCasts() == Field; };
  // c->caps[1]: an element of an array field, read like a field.
  if (const auto *Index = dyn_cast_or_null<ArraySubscriptExpr>(Q);
      Index && Field->getType()->isArrayType() && IsField(Index->getBase()))
    return scalarRead(Index, Q2, Q3, nullptr);
  if (Field->getType()->isPointerType() || Field->getType()->isRecordType() ||
      Field->getType()->isArrayType())
    return false;
  if (!Q)
    return false;
  if (const auto *U = dyn_cast<UnaryOperator>(Q)) {
    if (U->getOpcode() != UO_AddrOf)
      return !U->isIncrementDecrementOp();
    const auto *Cast = dyn_cast_or_null<CStyleCastExpr>(Q2);
    const auto *Deref = dyn_cast_or_null<UnaryOperator>(Q3);
    return Cast && Cast->getType()->isPointerType() &&
           Cast->getType()->getPointeeType().isConstQualified() && Deref &&
           Deref->getOpcode() == UO_Deref;
  }
  if (const auto *B = dyn_cast<BinaryOperator>(Q))
    return !(B->isAssignmentOp() && IsField(B->getLHS()));
  if (const auto *A = dyn_cast<ArraySubscriptExpr>(Q))
    return !IsField(A->getBase());
  return isa<IfStmt, WhileStmt, DoStmt, ForStmt, ReturnStmt, DeclStmt, ConditionalOperator,
             SwitchStmt>(Q);
}

// The use runs under a lock or with interrupts or preemption off.
bool protectedUse(const FunctionFacts &G, size_t UseIndex) {
  const HeldContext *Bh;
  return UseIndex < G.ParamUseState.size() && G.ParamUseReached[UseIndex] &&
         serialisation(G.ParamUseState[UseIndex], Bh) == Serialised::Protected;
}

// One use: Up are its ancestors, innermost first.
bool useSerialised(const TuFacts &TU, const FunctionFacts &G, size_t UseIndex, unsigned Depth) {
  const FunctionCfg::ParamUse &U = G.Cfg.ParamUses[UseIndex];
  const Expr *Value = U.Ref; // the pointer, or the field/address made from it
  for (size_t I = 0; I < U.Up.size(); ++I) {
    const Stmt *P = U.Up[I];
    if (const auto *M = dyn_cast<MemberExpr>(P); M && M->getBase()->IgnoreParenImpCasts() == Value) {
      Value = M;
      continue;
    }
    if (isa<MemberExpr>(Value) &&
        scalarRead(Value, P, I + 1 < U.Up.size() ? U.Up[I + 1] : nullptr,
                   I + 2 < U.Up.size() ? U.Up[I + 2] : nullptr))
      return true;
    // test_bit(nr, (unsigned long *)c->x86_capability): the same data.
    if (const auto *Cast = dyn_cast<CStyleCastExpr>(P);
        Cast && Cast->getType()->isPointerType() && Value != U.Ref) {
      Value = Cast;
      continue;
    }
    if (const auto *Op = dyn_cast<UnaryOperator>(P)) {
      if (Op->getOpcode() == UO_AddrOf) {
        Value = Op;
        continue;
      }
      if (Op->getOpcode() == UO_LNot && Value == U.Ref)
        return true; // if (!p): a test of the pointer itself
    }
    if (const auto *B = dyn_cast<BinaryOperator>(P); B && B->isEqualityOp() && Value == U.Ref)
      return true;
    if (const auto *C = dyn_cast<CallExpr>(P)) {
      if (serialisingCall(G, *C) || protectedUse(G, UseIndex))
        return true; // list_splice_init(&q->head, to) with irqs off
      unsigned Arg;
      if (const FunctionFacts *Callee = argumentOf(TU, *C, Value, Arg))
        return Callee != &G && Depth < MaxDepth && serialises(TU, *Callee, Arg, Depth + 1);
    }
    break;
  }
  // "*(struct bpf_mem_cache **)obj = c": the pointer, not the data, stored
  // in another object; what goes through it later is judged there.
  if (Value == U.Ref && !U.Up.empty() && storesIntoObject(U.Up[0], U.Ref))
    return true;
  // Anything else is judged by the context it runs in. A whole pointer that
  // goes elsewhere (a local, returned, another call) escapes.
  if (Value == U.Ref && !U.Up.empty() && !isa<MemberExpr>(U.Up[0]))
    return false;
  if (UseIndex < G.ParamUseReached.size() && !G.ParamUseReached[UseIndex])
    return true; // not reached on RT: no use
  return protectedUse(G, UseIndex);
}

// "c->tgt = hint": one plain store of a word (a pointer, a count, a flag)
// whose value does not come from the data. A task cannot be preempted in
// the middle of it, so it opens no window of its own; the field it names.
const FieldDecl *blindStore(const FunctionFacts &G, const FunctionCfg::ParamUse &U) {
  const auto *M = U.Up.size() > 1 ? dyn_cast<MemberExpr>(U.Up[0]) : nullptr;
  const auto *B = M ? dyn_cast<BinaryOperator>(U.Up[1]) : nullptr;
  if (!M || !B || B->getOpcode() != BO_Assign || B->getLHS()->IgnoreParenImpCasts() != M ||
      M->getBase()->IgnoreParenImpCasts() != U.Ref)
    return nullptr;
  QualType T = M->getType();
  if (!T->isScalarType() || refersTo(B->getRHS(), G.Decl->getParamDecl(U.Param)))
    return nullptr;
  return dyn_cast<FieldDecl>(M->getMemberDecl());
}

bool serialises(const TuFacts &TU, const FunctionFacts &G, unsigned Index, unsigned Depth) {
  bool Any = false;
  llvm::SmallPtrSet<const FieldDecl *, 2> Stored;
  for (size_t I = 0; I < G.Cfg.ParamUses.size(); ++I) {
    const FunctionCfg::ParamUse &U = G.Cfg.ParamUses[I];
    if (U.Param != Index)
      continue;
    Any = true;
    if (useSerialised(TU, G, I, Depth))
      continue;
    // One such store per field: two (a flag set, then cleared) are a window.
    const FieldDecl *Field = blindStore(G, U);
    if (!Field || !Stored.insert(Field).second)
      return false;
  }
  // Nor is the field read back outside a serialised section.
  for (size_t I = 0; I < G.Cfg.ParamUses.size() && !Stored.empty(); ++I) {
    const FunctionCfg::ParamUse &U = G.Cfg.ParamUses[I];
    const auto *M = U.Param == Index && !U.Up.empty() ? dyn_cast<MemberExpr>(U.Up[0]) : nullptr;
    if (M && Stored.count(dyn_cast<FieldDecl>(M->getMemberDecl())) && !blindStore(G, U) &&
        !protectedUse(G, I))
      return false;
  }
  return Any;
}

} // namespace

bool serialisingCall(const FunctionFacts &F, const CallExpr &C) {
  auto It = F.Cfg.CallIndex.find(&C);
  const ApiEntry *A =
      It == F.Cfg.CallIndex.end() ? nullptr : lookupApi(F.calls()[It->second].ApiName);
  return A && serialisedApi(A->Effect);
}

const FunctionFacts *argumentOf(const TuFacts &TU, const CallExpr &Call, const Expr *E,
                                unsigned &ArgIndex) {
  const FunctionFacts *Callee = TU.factsFor(TuFacts::calledFunction(Call));
  if (!Callee)
    return nullptr;
  for (unsigned I = 0; I < Call.getNumArgs(); ++I)
    if (Call.getArg(I)->IgnoreParenImpCasts() == E->IgnoreParenImpCasts()) {
      ArgIndex = I;
      return Callee;
    }
  return nullptr;
}

bool serialisesParam(const TuFacts &TU, const FunctionFacts &G, unsigned Index) {
  return serialises(TU, G, Index, 0);
}

} // namespace rtcheck
