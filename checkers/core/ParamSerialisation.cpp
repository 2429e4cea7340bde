#include "core/ParamSerialisation.h"
#include "core/BhSerialisation.h"
#include "core/KernelApi.h"

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

// One use: Up are its ancestors, innermost first.
bool useSerialised(const TuFacts &TU, const FunctionFacts &G, size_t UseIndex, unsigned Depth) {
  const FunctionCfg::ParamUse &U = G.Cfg.ParamUses[UseIndex];
  const Expr *Value = U.Ref; // the pointer, or the field/address made from it
  for (const Stmt *P : U.Up) {
    if (const auto *M = dyn_cast<MemberExpr>(P); M && M->getBase()->IgnoreParenImpCasts() == Value) {
      Value = M;
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
      if (serialisingCall(G, *C))
        return true;
      unsigned Arg;
      if (const FunctionFacts *Callee = argumentOf(TU, *C, Value, Arg))
        return Callee != &G && Depth < MaxDepth && serialises(TU, *Callee, Arg, Depth + 1);
    }
    break;
  }
  // Anything else is judged by the context it runs in. A whole pointer that
  // goes elsewhere (stored, returned, another call) escapes.
  if (Value == U.Ref && !U.Up.empty() && !isa<MemberExpr>(U.Up[0]))
    return false;
  if (UseIndex >= G.ParamUseState.size() || !G.ParamUseReached[UseIndex])
    return UseIndex < G.ParamUseReached.size(); // not reached on RT: no use
  const HeldContext *Bh;
  return serialisation(G.ParamUseState[UseIndex], Bh) == Serialised::Protected;
}

bool serialises(const TuFacts &TU, const FunctionFacts &G, unsigned Index, unsigned Depth) {
  bool Any = false;
  for (size_t I = 0; I < G.Cfg.ParamUses.size(); ++I) {
    if (G.Cfg.ParamUses[I].Param != Index)
      continue;
    if (!useSerialised(TU, G, I, Depth))
      return false;
    Any = true;
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
