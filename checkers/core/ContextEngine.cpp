#include "core/ContextEngine.h"
#include "core/KernelApi.h"
#include "rtcheck/context_facts.h"
#include "clang/AST/Attr.h"
#include "clang/AST/Expr.h"
#include "clang/Basic/Builtins.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <algorithm>

using namespace clang;

namespace rtcheck {

unsigned contextFacts(const ContextState &S) {
  unsigned Facts = 0;
  for (const HeldContext &H : S.Held) {
    if (!H.Must)
      continue;
    switch (H.Kind) {
    case ContextKind::RawLock:
      Facts |= CONTEXT_FACT_PREEMPT_COUNT | (H.IrqsOff ? CONTEXT_FACT_IRQS_OFF : 0);
      break;
    case ContextKind::PreemptOff:
      Facts |= CONTEXT_FACT_PREEMPT_COUNT;
      break;
    case ContextKind::IrqOff:
      Facts |= CONTEXT_FACT_IRQS_OFF;
      break;
    case ContextKind::Nmi:
      Facts |= CONTEXT_FACT_NMI;
      [[fallthrough]];
    case ContextKind::HardIrq:
      Facts |= CONTEXT_FACT_HARDIRQ | CONTEXT_FACT_IRQS_OFF | CONTEXT_FACT_PREEMPT_COUNT;
      break;
    default:
      break;
    }
  }
  return Facts;
}

std::string describe(const HeldContext &H) {
  if (H.FromEntry)
    return H.Note;
  std::string S = H.Api + "(" + H.Key + ")";
  return S;
}

//===--- Reading the call as written ---------------------------------------===//

// Splits "name(a, b(c, d), e)" at top-level commas of each parenthesised
// group: {{a, b(c, d), e}}, and "guard(x)(y)" into {{x}, {y}}.
static std::vector<std::vector<std::string>> argumentGroups(StringRef Text) {
  std::vector<std::vector<std::string>> Groups;
  size_t I = Text.find('(');
  while (I != StringRef::npos && I < Text.size() && Text[I] == '(') {
    std::vector<std::string> Args;
    std::string Cur;
    int Depth = 0;
    size_t J = I + 1;
    for (; J < Text.size(); ++J) {
      char C = Text[J];
      if (C == '(' || C == '[' || C == '{')
        ++Depth;
      else if ((C == ')' || C == ']' || C == '}') && Depth > 0)
        --Depth;
      else if (C == ')' && Depth == 0)
        break;
      if (C == ',' && Depth == 0) {
        Args.push_back(StringRef(Cur).trim().str());
        Cur.clear();
        continue;
      }
      Cur += C;
    }
    Args.push_back(StringRef(Cur).trim().str());
    Groups.push_back(std::move(Args));
    I = J + 1;
    while (I < Text.size() && (Text[I] == ' ' || Text[I] == '\t'))
      ++I;
  }
  return Groups;
}

std::string spelledArgument(const SourceManager &SM, SourceLocation Site, int Index) {
  if (Index < 0 || Site.isInvalid() || !Site.isFileID())
    return "";
  bool Invalid = false;
  StringRef Buf = SM.getBufferData(SM.getFileID(Site), &Invalid);
  if (Invalid)
    return "";
  StringRef Text = Buf.substr(SM.getFileOffset(Site), 512);
  StringRef Name = Text.take_while([](char C) { return isalnum((unsigned char)C) || C == '_'; });
  auto Groups = argumentGroups(Text);
  if (Groups.empty())
    return "";
  // guard(raw_spinlock)(&l) names the lock in its second group,
  // scoped_guard(raw_spinlock, &l) as its second argument.
  if (Name == "guard" && Groups.size() > 1)
    return Groups[1].empty() ? "" : Groups[1][0];
  if (Name == "scoped_guard" || Name == "scoped_cond_guard")
    return Groups[0].size() > 1 ? Groups[0][1] : "";
  return (size_t)Index < Groups[0].size() ? Groups[0][Index] : "";
}

std::optional<SleepOp> sleepOp(const SpelledCall &C) {
  const ApiEntry *A = lookupApi(C.ApiName);
  if (!A || !C.Representative)
    return std::nullopt;
  std::string Op = C.ApiName.str();
  switch (A->Effect) {
  case ApiEffect::ALLOCATES:
    return SleepOp{Op, "allocates memory (the allocator takes sleeping locks on "
                       "PREEMPT_RT, whatever the GFP flags)"};
  case ApiEffect::FREES:
    return SleepOp{Op, "frees memory (the allocator takes sleeping locks on PREEMPT_RT)"};
  case ApiEffect::RT_LOCK:
  case ApiEffect::RT_LOCK_BH:
  case ApiEffect::LOCAL_LOCK:
  case ApiEffect::RT_TRYLOCK:
    return SleepOp{Op, A->Why.str() + ", which sleeps on PREEMPT_RT"};
  case ApiEffect::BH_OFF:
    return SleepOp{Op, A->Why.str()};
  case ApiEffect::SLEEPING_LOCK:
  case ApiEffect::SLEEPS:
  case ApiEffect::SLEEPS_ON_RT:
    return SleepOp{Op, A->Why.str()};
  default:
    return std::nullopt;
  }
}

//===--- The dataflow ------------------------------------------------------===//

namespace {

std::optional<ContextKind> enters(ApiEffect E) {
  switch (E) {
  case ApiEffect::RAW_LOCK: return ContextKind::RawLock;
  case ApiEffect::PREEMPT_OFF: return ContextKind::PreemptOff;
  case ApiEffect::IRQ_OFF: return ContextKind::IrqOff;
  case ApiEffect::BH_OFF: return ContextKind::BhOff;
  case ApiEffect::MIGRATE_OFF: return ContextKind::MigrateOff;
  case ApiEffect::RT_LOCK: return ContextKind::RtLock;
  case ApiEffect::RT_LOCK_BH: return ContextKind::RtLock;
  case ApiEffect::LOCAL_LOCK: return ContextKind::RtLock;
  case ApiEffect::SLEEPING_LOCK: return ContextKind::SleepingLock;
  default: return std::nullopt;
  }
}

std::optional<ContextKind> leaves(ApiEffect E) {
  switch (E) {
  case ApiEffect::RAW_UNLOCK: return ContextKind::RawLock;
  case ApiEffect::PREEMPT_ON: return ContextKind::PreemptOff;
  case ApiEffect::IRQ_ON: return ContextKind::IrqOff;
  case ApiEffect::BH_ON: return ContextKind::BhOff;
  case ApiEffect::MIGRATE_ON: return ContextKind::MigrateOff;
  case ApiEffect::RT_UNLOCK: return ContextKind::RtLock;
  case ApiEffect::RT_UNLOCK_BH: return ContextKind::RtLock;
  case ApiEffect::SLEEPING_UNLOCK: return ContextKind::SleepingLock;
  default: return std::nullopt;
  }
}

std::optional<ContextKind> trylockKind(ApiEffect E) {
  if (E == ApiEffect::RAW_TRYLOCK)
    return ContextKind::RawLock;
  if (E == ApiEffect::RT_TRYLOCK)
    return ContextKind::RtLock;
  return std::nullopt;
}

// The innermost context of Kind, preferring the same lock; null if none is
// held (the function releases what its caller took: ReleasedInherited).
HeldContext *innermost(ContextState &S, ContextKind Kind, StringRef Key) {
  HeldContext *Match = nullptr;
  for (auto It = S.Held.rbegin(); It != S.Held.rend(); ++It)
    if (It->Kind == Kind && !It->FromEntry) {
      if (It->Key == Key)
        return &*It;
      if (!Match)
        Match = &*It;
    }
  if (!Match) {
    S.ReleasedInherited = true;
    S.DroppedInherited |= kindBit(Kind);
  }
  return Match;
}

void erase(ContextState &S, const HeldContext *H) { S.Held.erase(S.Held.begin() + (H - S.Held.data())); }

// Removes the innermost context of Kind; false if none is held.
bool release(ContextState &S, ContextKind Kind, StringRef Key) {
  HeldContext *H = innermost(S, Kind, Key);
  if (H)
    erase(S, H);
  return H;
}

void noteReleased(FunctionEffect &Effect, ContextKind K) {
  if (!llvm::is_contained(Effect.Released, K))
    Effect.Released.push_back(K);
}

// spin_unlock_bh() enables BH again however it was disabled: with the lock
// (spin_lock_bh()), or before it (netif_addr_lock_bh(): local_bh_disable();
// spin_lock_nested()).
void releaseBhLock(ContextState &S, StringRef Key, FunctionEffect &Effect) {
  HeldContext *Lock = innermost(S, ContextKind::RtLock, Key);
  bool WithBh = Lock && Lock->DisablesBh;
  if (Lock)
    erase(S, Lock);
  else
    noteReleased(Effect, ContextKind::RtLock);
  if (!WithBh && !release(S, ContextKind::BhOff, ""))
    noteReleased(Effect, ContextKind::BhOff);
}

// A raw unlock. One that restores interrupts (raw_spin_unlock_irqrestore())
// also ends an irqs-off context entered apart from the lock (local_irq_save();
// raw_spin_lock()); one that does not (raw_spin_unlock()) leaves the
// interrupts of an irqsave lock off until local_irq_restore().
void releaseRawLock(ContextState &S, StringRef Key, bool RestoresIrqs, FunctionEffect &Effect) {
  HeldContext *Lock = innermost(S, ContextKind::RawLock, Key);
  if (!Lock)
    noteReleased(Effect, ContextKind::RawLock);
  if (Lock && Lock->IrqsOff && !RestoresIrqs) {
    Lock->Kind = ContextKind::IrqOff;
    Lock->IrqsOff = false;
    return;
  }
  bool IrqsWithLock = Lock && Lock->IrqsOff;
  if (Lock)
    erase(S, Lock);
  if (RestoresIrqs && !IrqsWithLock && !release(S, ContextKind::IrqOff, ""))
    noteReleased(Effect, ContextKind::IrqOff);
}

// The object a lock is spelled from: "sdp" for "&sdp->lock" and for "sdp".
StringRef lockRoot(StringRef Key) {
  Key = Key.ltrim("&( ");
  return Key.take_while([](char C) { return isalnum((unsigned char)C) || C == '_'; });
}

// Merge at a join point: an entry held on both paths stays; two different
// entries of the same kind and lock (raw_spin_lock_irqsave() on one branch,
// raw_spin_lock() on the other) mean the context is held either way, and so
// do two locks of the same kind and object spelled apart (a trylock wrapper
// given the object, "if (my_trylock_irqsave(d)) return;", and
// spin_lock_irqsave(&d->lock) after it); what is held on only some paths
// becomes "may".
void join(ContextState &Into, const ContextState &From) {
  Into.ReleasedInherited = Into.ReleasedInherited || From.ReleasedInherited;
  Into.DroppedInherited |= From.DroppedInherited;
  Into.Excluded &= From.Excluded;
  Into.Exclusive = Into.Exclusive && From.Exclusive;
  std::vector<bool> Used(From.Held.size());
  auto Pair = [&](HeldContext &H, auto Matches) {
    for (size_t I = 0; I < From.Held.size(); ++I)
      if (!Used[I] && Matches(From.Held[I])) {
        Used[I] = true;
        H.Must = H.Must && From.Held[I].Must;
        return true;
      }
    return false;
  };
  std::vector<bool> Paired(Into.Held.size());
  for (size_t I = 0; I < Into.Held.size(); ++I)
    Paired[I] = Pair(Into.Held[I], [&](const HeldContext &O) { return O.sameEntry(Into.Held[I]); });
  for (size_t I = 0; I < Into.Held.size(); ++I) {
    HeldContext &H = Into.Held[I];
    if (!Paired[I] && !Pair(H, [&](const HeldContext &O) {
          return O.Kind == H.Kind && O.FromEntry == H.FromEntry &&
                 (O.Key == H.Key || O.Key.empty() || H.Key.empty());
        }) && !Pair(H, [&](const HeldContext &O) {
          return O.Kind == H.Kind && O.FromEntry == H.FromEntry && isLock(H.Kind) &&
                 lockRoot(O.Key) == lockRoot(H.Key) && !lockRoot(H.Key).empty();
        }))
      H.Must = false;
  }
  // A second copy of an entry Into holds already is the same call site taken
  // again round a loop whose release is conditional ("if (c) migrate_disable();
  // ... if (c) migrate_enable();"): one "may" copy says it, and keeping every
  // copy would grow the state each time round and never reach the fixpoint.
  for (size_t I = 0; I < From.Held.size(); ++I)
    if (!Used[I] && std::none_of(Into.Held.begin(), Into.Held.end(), [&](const HeldContext &H) {
          return H.sameEntry(From.Held[I]);
        })) {
      Into.Held.push_back(From.Held[I]);
      Into.Held.back().Must = false;
    }
}

bool sameState(const ContextState &A, const ContextState &B) {
  if (A.Held.size() != B.Held.size() || A.ReleasedInherited != B.ReleasedInherited ||
      A.DroppedInherited != B.DroppedInherited || A.Excluded != B.Excluded ||
      A.Exclusive != B.Exclusive)
    return false;
  for (size_t I = 0; I < A.Held.size(); ++I)
    if (!A.Held[I].sameEntry(B.Held[I]) || A.Held[I].Must != B.Held[I].Must)
      return false;
  return true;
}

// The value a statement expression ends with, through a variable it sets
// in its own body: "({ x = f(); ...; x; })" is f()'s value.
const Expr *valueOfStmtExpr(const StmtExpr &SE) {
  const CompoundStmt *Body = SE.getSubStmt();
  const auto *Last = Body->body_empty() ? nullptr : dyn_cast<Expr>(Body->body_back());
  const auto *Ref = Last ? dyn_cast<DeclRefExpr>(Last->IgnoreParenImpCasts()) : nullptr;
  if (!Ref)
    return Last;
  for (auto It = Body->body_rbegin(); It != Body->body_rend(); ++It) {
    if (const auto *B = dyn_cast<BinaryOperator>(*It); B && B->getOpcode() == BO_Assign)
      if (const auto *L = dyn_cast<DeclRefExpr>(B->getLHS()->IgnoreParenImpCasts());
          L && L->getDecl() == Ref->getDecl())
        return B->getRHS();
    if (const auto *DS = dyn_cast<DeclStmt>(*It))
      for (const Decl *D : DS->decls())
        if (D == Ref->getDecl())
          return cast<VarDecl>(D)->getInit();
  }
  return nullptr;
}

// The trylock whose success a branch tests, and on which edge it succeeds.
const CallExpr *testedTrylock(const CFGBlock &B, const FunctionCfg &Cfg, bool &OnFalseEdge) {
  const auto *E = dyn_cast_or_null<Expr>(B.getTerminatorCondition());
  OnFalseEdge = false;
  while (E) {
    E = E->IgnoreParenImpCasts();
    if (const auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_LNot) {
      OnFalseEdge = !OnFalseEdge;
      E = U->getSubExpr();
      continue;
    }
    if (const auto *C = dyn_cast<CallExpr>(E)) {
      // likely()/unlikely() are __builtin_expect(!!(x), 1)
      if (C->getBuiltinCallee() == Builtin::BI__builtin_expect && C->getNumArgs() > 0) {
        E = C->getArg(0);
        continue;
      }
      auto It = Cfg.CallIndex.find(C);
      if (It == Cfg.CallIndex.end())
        return nullptr;
      const ApiEntry *A = lookupApi(Cfg.Calls[It->second].ApiName);
      return A && trylockKind(A->Effect) ? C : nullptr;
    }
    // ({ bool ___locked = spin_trylock_irqsave(...); ...; ___locked; }):
    // spin_trylock_irqsave_rcu_node() of kernel/rcu/rcu.h, and RT's
    // spin_trylock_irqsave() ({ ...; __locked = spin_trylock(lock); __locked; }).
    if (const auto *SE = dyn_cast<StmtExpr>(E)) {
      E = valueOfStmtExpr(*SE);
      continue;
    }
    // RT's raw_spin_trylock_irqsave(): "raw_spin_trylock(l) ? 1 :
    // ({ local_irq_restore(flags); 0; })".
    if (const auto *CO = dyn_cast<ConditionalOperator>(E)) {
      auto Literal = [](const Expr *X) -> std::optional<uint64_t> {
        if (const auto *SE = dyn_cast_or_null<StmtExpr>(X ? X->IgnoreParenImpCasts() : nullptr))
          X = valueOfStmtExpr(*SE);
        const auto *L = X ? dyn_cast<IntegerLiteral>(X->IgnoreParenImpCasts()) : nullptr;
        return L ? std::optional<uint64_t>(L->getValue().getZExtValue()) : std::nullopt;
      };
      auto T = Literal(CO->getTrueExpr()), F = Literal(CO->getFalseExpr());
      if (!T || !F || !*T == !*F)
        return nullptr;
      OnFalseEdge ^= !*T;
      E = CO->getCond();
      continue;
    }
    return nullptr;
  }
  return nullptr;
}

class FunctionDataflow {
public:
  FunctionDataflow(TuFacts &TU, FunctionFacts &F) : TU(TU), F(F), SM(TU.SM) {}

  /// Runs to a fixpoint from Entry; fills StateBefore when Record is set.
  /// Returns the function's effect (what it returns holding or released).
  FunctionEffect run(const ContextState &Entry, bool Record) {
    FunctionEffect Effect;
    if (Record) {
      F.StateBefore.assign(F.calls().size(), ContextState());
      F.AccessStateBefore.assign(F.accesses().size(), Entry);
      F.UseStateBefore.assign(F.accesses().size(), {});
      for (size_t I = 0; I < F.accesses().size(); ++I)
        F.UseStateBefore[I].assign(F.accesses()[I].Uses.size(), Entry);
      F.ParamUseState.assign(F.Cfg.ParamUses.size(), Entry);
      F.ParamUseReached.assign(F.Cfg.ParamUses.size(), false);
      bool NoCfg = !F.Cfg.Graph; // then everything runs in the entry context
      F.AccessReached.assign(F.accesses().size(), NoCfg);
      F.UseReached.assign(F.accesses().size(), {});
      for (size_t I = 0; I < F.accesses().size(); ++I)
        F.UseReached[I].assign(F.accesses()[I].Uses.size(), NoCfg);
    }
    if (!F.Cfg.Graph) { // no CFG: every call runs in the entry context
      if (Record)
        for (ContextState &S : F.StateBefore)
          S = Entry;
      return Effect;
    }
    const CFG &G = *F.Cfg.Graph;
    std::vector<std::optional<ContextState>> In(G.getNumBlockIDs());
    In[G.getEntry().getBlockID()] = Entry;
    std::vector<const CFGBlock *> Work{&G.getEntry()};
    unsigned Budget = 64 * G.getNumBlockIDs() + 64; // never loop forever
    std::optional<ContextState> AtExit;
    while (!Work.empty() && Budget--) {
      const CFGBlock *B = Work.back();
      Work.pop_back();
      ContextState S = *In[B->getBlockID()];
      transfer(*B, S, Effect, Record);
      if (B == &G.getExit()) {
        AtExit = S;
        continue;
      }
      bool OnFalseEdge = false;
      const CallExpr *Try = testedTrylock(*B, F.Cfg, OnFalseEdge);
      unsigned I = 0;
      for (const CFGBlock::AdjacentBlock &Succ : B->succs()) {
        unsigned Index = I++;
        const CFGBlock *T = Succ.getReachableBlock();
        if (!T)
          T = Succ.getPossiblyUnreachableBlock();
        if (!T || !F.Cfg.takesEdge(*B, Index))
          continue;
        ContextState Out = S;
        Out.Excluded |= F.Cfg.excludedOn(*B, Index);
        Out.Exclusive |= F.Cfg.exclusiveOn(*B, Index);
        if (Try && Index == (OnFalseEdge ? 1u : 0u))
          enter(Out, *Try, *trylockKind(apiOf(*Try)->Effect), nullptr);
        std::optional<ContextState> &Dest = In[T->getBlockID()];
        if (!Dest) {
          Dest = std::move(Out);
        } else {
          ContextState Merged = *Dest;
          join(Merged, Out);
          if (sameState(Merged, *Dest))
            continue;
          Dest = std::move(Merged);
        }
        Work.push_back(T);
      }
    }
    if (AtExit) {
      for (const HeldContext &H : AtExit->Held)
        if (H.Must && !H.FromEntry && !H.Guard && !H.Retaken)
          Effect.Acquired.push_back(H);
      // What it dropped and took again on every path is its caller's still.
      llvm::erase_if(Effect.Released, [&](ContextKind K) {
        return !(AtExit->DroppedInherited & kindBit(K));
      });
    }
    return Effect;
  }

private:
  TuFacts &TU;
  FunctionFacts &F;
  const SourceManager &SM;

  const ApiEntry *apiOf(const CallExpr &C) const {
    return lookupApi(F.calls()[F.Cfg.CallIndex.lookup(&C)].ApiName);
  }

  // H takes again what the function dropped of its caller's.
  static void retake(ContextState &S, HeldContext &H) {
    unsigned Bits = kindBit(H.Kind) | (H.IrqsOff ? kindBit(ContextKind::IrqOff) : 0);
    if (S.DroppedInherited & kindBit(H.Kind)) {
      H.Retaken = true;
      S.DroppedInherited &= ~Bits;
    }
  }

  void enter(ContextState &S, const CallExpr &C, ContextKind Kind, const ApiEntry *A) {
    unsigned Index = F.Cfg.CallIndex.lookup(&C);
    const SpelledCall &Sp = F.calls()[Index];
    HeldContext H;
    H.Kind = Kind;
    H.Api = Sp.ApiName.str();
    // guard(raw_spinlock)(&l) calls class_raw_spinlock_constructor(): say
    // what was written.
    H.Begin = Sp.Site;
    const ApiEntry *Entry = A ? A : lookupApi(Sp.ApiName);
    H.Key = Entry ? spelledArgument(SM, Sp.Site, Entry->Arg) : "";
    StringRef Class = Sp.ApiName;
    if (!Sp.Names.empty() && Class.consume_front("class_") && Class.consume_back("_constructor")) {
      if (Sp.Names[0] == "guard") { // guard(raw_spinlock)(&l)
        H.Api = ("guard(" + Class + ")").str();
      } else if (Sp.Names[0] == "scoped_guard") { // scoped_guard(raw_spinlock, &l)
        H.Api = "scoped_guard";
        H.Key = H.Key.empty() ? Class.str() : (Class + ", " + H.Key).str();
      }
    }
    H.Guard = F.Cfg.GuardVars.lookup(&C);
    H.Call = &C;
    H.DisablesBh = Entry && Entry->Effect == ApiEffect::RT_LOCK_BH;
    H.LocalLock = Entry && Entry->Effect == ApiEffect::LOCAL_LOCK;
    H.IrqsOff = Kind == ContextKind::RawLock && Entry && Entry->IrqsToo;
    retake(S, H);
    S.Held.push_back(std::move(H));
  }

  void applyCall(ContextState &S, const SpelledCall &C, FunctionEffect &Effect) {
    if (const ApiEntry *A = lookupApi(C.ApiName)) {
      if (!C.Representative)
        return;
      if (auto K = enters(A->Effect))
        enter(S, *C.Call, *K, A);
      else if (A->Effect == ApiEffect::RAW_UNLOCK)
        releaseRawLock(S, spelledArgument(SM, C.Site, A->Arg), A->IrqsToo, Effect);
      else if (A->Effect == ApiEffect::RT_UNLOCK_BH)
        releaseBhLock(S, spelledArgument(SM, C.Site, A->Arg), Effect);
      else if (auto K = leaves(A->Effect))
        if (!release(S, *K, spelledArgument(SM, C.Site, A->Arg)))
          noteReleased(Effect, *K);
      return;
    }
    const FunctionFacts *Callee = TU.callee(C);
    if (!Callee || Callee == &F)
      return;
    // A wrapper that ends a raw lock and the interrupts of its caller
    // (krc_this_cpu_unlock()) is a raw_spin_unlock_irqrestore().
    const auto &Released = Callee->Effect.Released;
    bool RawAndIrqs = llvm::is_contained(Released, ContextKind::RawLock) &&
                      llvm::is_contained(Released, ContextKind::IrqOff);
    for (ContextKind K : Released)
      if (K == ContextKind::RawLock)
        releaseRawLock(S, "", RawAndIrqs, Effect);
      else if (!(RawAndIrqs && K == ContextKind::IrqOff) && !release(S, K, ""))
        noteReleased(Effect, K);
    for (const HeldContext &Inner : Callee->Effect.Acquired) {
      HeldContext H = Inner;
      H.Origin.insert(H.Origin.begin(),
                      {Inner.Begin, Callee->Name, describe(Inner) + " in " + Callee->Name +
                                                      "(), which returns holding it"});
      H.Begin = C.Site;
      H.Api = Callee->Name;
      H.Must = true;
      H.Call = nullptr; // entered inside the callee
      retake(S, H);
      S.Held.push_back(std::move(H));
    }
  }

  void transfer(const CFGBlock &B, ContextState &S, FunctionEffect &Effect, bool Record) {
    for (const CFGElement &E : B) {
      if (auto L = E.getAs<CFGLifetimeEnds>()) {
        const VarDecl *VD = L->getVarDecl();
        llvm::erase_if(S.Held, [&](const HeldContext &H) { return H.Guard == VD; });
        continue;
      }
      auto St = E.getAs<CFGStmt>();
      if (!St)
        continue;
      if (Record && (!F.Cfg.AccessAt.empty() || !F.Cfg.ParamUseAt.empty())) {
        auto A = F.Cfg.AccessAt.find(St->getStmt());
        if (A != F.Cfg.AccessAt.end()) {
          F.AccessStateBefore[A->second] = S;
          F.AccessReached[A->second] = true;
        }
        auto P = F.Cfg.ParamUseAt.find(St->getStmt());
        if (P != F.Cfg.ParamUseAt.end()) {
          F.ParamUseState[P->second] = S;
          F.ParamUseReached[P->second] = true;
        }
        auto U = F.Cfg.UseAt.find(St->getStmt());
        if (U != F.Cfg.UseAt.end())
          for (auto [I, J] : U->second) {
            F.UseStateBefore[I][J] = S;
            F.UseReached[I][J] = true;
          }
      }
      const auto *C = dyn_cast<CallExpr>(St->getStmt());
      if (!C)
        continue;
      auto It = F.Cfg.CallIndex.find(C);
      if (It == F.Cfg.CallIndex.end())
        continue;
      if (Record)
        F.StateBefore[It->second] = S;
      const SpelledCall &Sp = F.calls()[It->second];
      const ApiEntry *A = lookupApi(Sp.ApiName);
      if (A && trylockKind(A->Effect))
        continue; // entered on the success edge only
      applyCall(S, Sp, Effect);
    }
  }
};

// Sleep sites of F: operations reached while F itself is not truly atomic,
// directly or through a TU callee. Bounded: a few sites per function.
constexpr size_t MaxSleepSites = 4;
// Deep chains are mostly paths the code never takes (a refcount that cannot
// drop to zero there): three calls deep is where they stop paying off.
constexpr size_t MaxChainDepth = 3;

std::vector<SleepSite> sleepSites(const TuFacts &TU, const FunctionFacts &F) {
  std::vector<SleepSite> Out;
  if (dyingContextOf(TU, F))
    return Out; // panic(): what sleeps below does not reach its callers
  for (size_t I = 0; I < F.calls().size() && Out.size() < MaxSleepSites; ++I) {
    const SpelledCall &C = F.calls()[I];
    if (F.StateBefore[I].ownTrulyAtomic())
      continue; // reported inside F
    if (F.StateBefore[I].ReleasedInherited)
      continue; // the caller's context has ended here
    unsigned Unless = F.StateBefore[I].Excluded;
    const ParamNeeds &Needs = F.Cfg.CallNeeds[I];
    if (auto Op = sleepOp(C)) {
      Out.push_back({C.Site, F.Name, Op->Op, Op->Why, {}, Unless, Needs,
                     F.Cfg.CallLastRef[I].str()});
      continue;
    }
    for (const FunctionFacts *Callee : TU.callees(C)) {
      if (Callee == &F)
        continue;
      for (const SleepSite &Inner : Callee->MaySleep) {
        if (Inner.Path.size() >= MaxChainDepth || Out.size() >= MaxSleepSites)
          break;
        ParamNeeds Mapped = Needs;
        if (neededByCall(TU, F, C, *Callee, Inner.Needs, Mapped) == NeedsResult::Ruled)
          continue; // the call's arguments rule the site out
        SleepSite S = Inner;
        S.Unless |= Unless;
        S.Needs = std::move(Mapped);
        if (S.LastRef.empty())
          S.LastRef = F.Cfg.CallLastRef[I].str();
        S.Path.insert(S.Path.begin(), {C.Site, F.Name, "calls " + Callee->Name + "()"});
        Out.push_back(std::move(S));
      }
    }
  }
  return Out;
}

bool sameSites(const std::vector<SleepSite> &A, const std::vector<SleepSite> &B) {
  if (A.size() != B.size())
    return false;
  for (size_t I = 0; I < A.size(); ++I)
    if (A[I].Loc != B[I].Loc || A[I].Path.size() != B[I].Path.size() ||
        A[I].Unless != B[I].Unless || A[I].Needs != B[I].Needs || A[I].LastRef != B[I].LastRef)
      return false;
  return true;
}

} // namespace

NeedsResult neededByCall(const TuFacts &TU, const FunctionFacts &Caller, const SpelledCall &C,
                         const FunctionFacts &Callee, llvm::ArrayRef<ParamNeed> Needs,
                         ParamNeeds &Out) {
  // Only a direct call gives the callee's parameters in order (not a
  // function handed to a parameter the callee calls).
  const FunctionDecl *Direct = TuFacts::calledFunction(*C.Call);
  if (Needs.empty() || !Direct ||
      Direct->getCanonicalDecl() != Callee.Decl->getCanonicalDecl())
    return NeedsResult::Reached;
  return mapNeeds(Needs, argValues(*C.Call, *Caller.Decl, Caller.Cfg.Params, TU.Ctx), Out);
}

bool isBootCode(const FunctionDecl &FD) {
  const auto *Section = FD.getAttr<SectionAttr>();
  return Section && Section->getName().startswith(".init.");
}

const char *dyingContextOf(const TuFacts &TU, const FunctionFacts &F) {
  SourceLocation Where = TU.SM.getExpansionLoc(F.Decl->getLocation());
  return dyingContext(F.Name, TU.SM.getFilename(Where));
}

void runContextEngine(TuFacts &TU) {
  // 1. What each function returns holding: lock wrappers, to a fixpoint.
  constexpr int MaxRounds = 4;
  for (int Round = 0; Round < MaxRounds; ++Round) {
    bool Changed = false;
    for (FunctionFacts &F : TU.Functions) {
      FunctionEffect E = FunctionDataflow(TU, F).run(ContextState(), false);
      if (!(E == F.Effect)) {
        F.Effect = std::move(E);
        Changed = true;
      }
    }
    if (!Changed)
      break;
  }
  // 2. The context of every call, from the function's entry contexts.
  // Header inlines with per-CPU accesses run from their own entry, holding
  // nothing: what serialises a point of theirs is their callers' context
  // (PerCpuFreePoints); the others need no states.
  findEntryContexts(TU);
  for (FunctionFacts &F : TU.Functions) {
    if (!F.InMainFile && F.accesses().empty())
      continue;
    ContextState Entry;
    if (F.InMainFile)
      Entry.Held = F.EntryContexts;
    FunctionDataflow(TU, F).run(Entry, true);
  }
  // 3. What may sleep below each function, to a fixpoint (bounded depth).
  for (size_t Round = 0; Round <= MaxChainDepth; ++Round) {
    bool Changed = false;
    for (FunctionFacts &F : TU.Functions) {
      if (!F.InMainFile)
        continue;
      std::vector<SleepSite> Sites = sleepSites(TU, F);
      if (!sameSites(Sites, F.MaySleep)) {
        F.MaySleep = std::move(Sites);
        Changed = true;
      }
    }
    if (!Changed)
      break;
  }
}

} // namespace rtcheck
