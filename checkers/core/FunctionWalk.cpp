#include "core/FunctionWalk.h"
#include "rtcheck/context_facts.h"
#include "core/RtCondition.h"
#include "core/KernelApi.h"
#include "clang/Basic/Builtins.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/ParentMap.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"
#include <map>
#include <optional>

using namespace clang;

namespace rtcheck {
namespace {

// Which successors of a two-way branch RT takes: {true edge, false edge}.
std::pair<bool, bool> rtEdges(const Expr *Cond, ASTContext &Ctx) {
  // Only a condition written whole in the function can be read as text.
  StringRef Text = spelledText(Cond, Ctx.getSourceManager(), Ctx.getLangOpts());
  if (!Text.empty()) {
    RtVerdict V = evaluateOnRt(Text);
    if (V.MentionsRt) {
      if (V.Value == Truth::Unknown)
        return {true, true}; // never trust the configured tree's value
      return {V.Value == Truth::True, V.Value == Truth::False};
    }
  }
  bool Value;
  if (!Cond->isValueDependent() && Cond->EvaluateAsBooleanCondition(Value, Ctx))
    return {Value, !Value};
  return {true, true};
}

class CallCollector : public RecursiveASTVisitor<CallCollector> {
public:
  std::vector<const CallExpr *> Calls;
  bool VisitCallExpr(CallExpr *C) {
    Calls.push_back(C);
    return true;
  }
};

// Marks, among the calls one spelled API expands to, the first in expansion
// order as the one that carries the API's effect.
void pickRepresentatives(std::vector<SpelledCall> &Calls, const SourceManager &SM) {
  std::map<std::pair<unsigned, StringRef>, size_t> First;
  for (size_t I = 0; I < Calls.size(); ++I) {
    SpelledCall &C = Calls[I];
    if (C.ApiName.empty())
      continue;
    auto [It, New] = First.insert({{C.Site.getRawEncoding(), C.ApiName}, I});
    if (New)
      continue;
    SpelledCall &Prev = Calls[It->second];
    if (SM.isBeforeInTranslationUnit(C.Call->getBeginLoc(), Prev.Call->getBeginLoc())) {
      Prev.Representative = false;
      It->second = I;
    } else {
      C.Representative = false;
    }
  }
}

bool hasCleanupVariable(const FunctionDecl *FD) {
  struct Finder : RecursiveASTVisitor<Finder> {
    bool Found = false;
    bool VisitVarDecl(VarDecl *VD) {
      Found |= VD->hasAttr<CleanupAttr>();
      return !Found;
    }
  } F;
  F.TraverseStmt(FD->getBody());
  return F.Found;
}

// One wrapper of a condition taken off: "likely(x)", "unlikely(x)", "(x)";
// the text itself when it has none.
StringRef unwrapOnce(StringRef Text) {
  StringRef Inner = Text;
  if ((Inner.consume_front("likely") || Inner.consume_front("unlikely")) &&
      Inner.ltrim().startswith("(") && Inner.endswith(")"))
    return Inner.ltrim().drop_front().drop_back().trim();
  if (Text.startswith("(") && Text.endswith(")"))
    return Text.drop_front().drop_back().trim();
  return Text;
}

// Every such wrapper taken off.
StringRef unwrapped(StringRef Text) {
  for (Text = Text.trim();;) {
    StringRef Inner = unwrapOnce(Text);
    if (Inner == Text)
      return Text;
    Text = Inner;
  }
}

// A branch on winning a per-CPU nesting claim: "if (likely(local_inc_return(
// &local->nesting) == 1))" (gen_cookie_next()): only the first level uses the
// data, a nested or preempting user takes the other way. The edge (1: true,
// 2: false) where the code has this CPU's data to itself, or 0.
unsigned claimTestEdge(StringRef Text) {
  static const StringRef Claims[] = {"local_inc_return", "this_cpu_inc_return",
                                     "atomic_inc_return", "atomic_long_inc_return"};
  Text = unwrapped(Text);
  bool Equal = true;
  size_t Op = Text.rfind("==");
  if (Op == StringRef::npos) {
    Op = Text.rfind("!=");
    Equal = false;
  }
  if (Op == StringRef::npos || Text.substr(Op + 2).trim() != "1")
    return 0;
  StringRef Call = Text.substr(0, Op).trim();
  for (StringRef Claim : Claims)
    if (Call.startswith(Claim) && Call.drop_front(Claim.size()).ltrim().startswith("(") &&
        Call.endswith(")"))
      return Equal ? 1 : 2;
  return 0;
}

// A branch on a context test ("in_irq()", "!preemptible()", "unlikely(in_nmi())",
// "preempt_count() != 0"): the facts known false on its {true, false} edges
// (context_tests.def), and on which edge an exact test says the code runs
// truly atomic (Exclusive: 1 the true edge, 2 the false edge).
std::pair<unsigned, unsigned> contextTestEdges(StringRef Text, unsigned &Exclusive) {
  struct Test {
    StringRef Name;
    bool TrueWhen;
    unsigned Facts;
    bool Exact;
  };
  static const Test Tests[] = {
#define RTCHECK_CONTEXT_TEST(Name, TrueWhen, Facts, Exact) {Name, TrueWhen != 0, Facts, Exact != 0},
#include "rtcheck/context_tests.def"
#undef RTCHECK_CONTEXT_TEST
  };
  Exclusive = 0;
  bool Negated = false;
  for (Text = unwrapped(Text); Text.consume_front("!");)
    Negated = !Negated, Text = unwrapped(Text);
  StringRef Name = Text.take_while([](char C) { return isalnum((unsigned char)C) || C == '_'; });
  StringRef Rest = Text.drop_front(Name.size()).trim();
  if (!Rest.consume_front("()"))
    return {0, 0};
  Rest = Rest.trim();
  if (Rest == "== 0" || Rest == "==0")
    Negated = !Negated;
  else if (!Rest.empty() && Rest != "!= 0" && Rest != "!=0")
    return {0, 0};
  for (const Test &T : Tests)
    if (T.Name == Name) {
      // Where the test reads TrueWhen's opposite, none of its facts holds.
      bool FalseOnTrueEdge = T.TrueWhen == Negated;
      if (T.Exact)
        Exclusive = FalseOnTrueEdge ? 2 : 1;
      return FalseOnTrueEdge ? std::make_pair(T.Facts, 0u) : std::make_pair(0u, T.Facts);
    }
  return {0, 0};
}

// The references to FD's pointer parameters, with their ancestors (innermost
// first, through casts and parens), placed at the CFG statement that
// evaluates them. The CFG has every subexpression as an element; the
// ancestors come from a ParentMap rather than a visitor that overrides
// TraverseStmt (which would give up Clang's data recursion).
void placeParamUses(const FunctionDecl *FD, FunctionCfg &F) {
  if (!F.Graph || llvm::none_of(FD->parameters(), [](const ParmVarDecl *P) {
        return P->getType()->isPointerType();
      }))
    return;
  std::optional<ParentMap> Parents;
  for (const CFGBlock *B : *F.Graph) {
    if (!F.Reached.test(B->getBlockID()))
      continue;
    for (const CFGElement &E : *B) {
      auto S = E.getAs<CFGStmt>();
      const auto *R = S ? dyn_cast<DeclRefExpr>(S->getStmt()) : nullptr;
      const auto *P = R ? dyn_cast<ParmVarDecl>(R->getDecl()) : nullptr;
      if (!P || P->getDeclContext() != FD || !P->getType()->isPointerType() ||
          F.ParamUseAt.count(R))
        continue;
      if (!Parents)
        Parents.emplace(FD->getBody());
      FunctionCfg::ParamUse U{R, P->getFunctionScopeIndex(), {}};
      for (const Stmt *Up = Parents->getParent(R); Up && U.Up.size() < 4;
           Up = Parents->getParent(Up))
        if (!isa<ImplicitCastExpr, ParenExpr>(Up))
          U.Up.push_back(Up);
      F.ParamUseAt[R] = F.ParamUses.size();
      F.ParamUses.push_back(std::move(U));
    }
  }
}

// What each call, per-CPU access and use needs of the function's
// parameters, from its block.
void placeNeeds(const FunctionDecl *FD, ASTContext &Ctx, FunctionCfg &F) {
  F.CallNeeds.assign(F.Calls.size(), {});
  F.AccessNeeds.assign(F.Accesses.size(), {});
  F.UseNeeds.assign(F.Accesses.size(), {});
  for (size_t I = 0; I < F.Accesses.size(); ++I)
    F.UseNeeds[I].assign(F.Accesses[I].Uses.size(), {});
  F.Params = paramChanges(*FD, Ctx);
  if (!F.Graph || FD->getNumParams() == 0)
    return;
  std::vector<ParamNeeds> Blocks = blockNeeds(*FD, *F.Graph, F.Reached, F.Params, Ctx);
  for (const CFGBlock *B : *F.Graph) {
    const ParamNeeds &Needs = Blocks[B->getBlockID()];
    if (Needs.empty())
      continue;
    for (const CFGElement &E : *B) {
      auto S = E.getAs<CFGStmt>();
      if (!S)
        continue;
      if (const auto *C = dyn_cast<CallExpr>(S->getStmt())) {
        auto It = F.CallIndex.find(C);
        if (It != F.CallIndex.end())
          F.CallNeeds[It->second] = Needs;
      }
      if (auto It = F.AccessAt.find(S->getStmt()); It != F.AccessAt.end())
        F.AccessNeeds[It->second] = Needs;
      if (auto It = F.UseAt.find(S->getStmt()); It != F.UseAt.end())
        for (auto [I, J] : It->second)
          F.UseNeeds[I][J] = Needs;
    }
  }
}

// The LAST_REF API (kernel_api.def) a branch condition tests, and whether
// its true edge is the last reference's: "if (!refcount_dec_and_test(&r))
// return;" leaves by the true edge, "if (likely(atomic_dec_and_test(&c)))".
const ApiEntry *lastRefTest(const Expr *E, bool &OnTrueEdge) {
  OnTrueEdge = true;
  for (;;) {
    E = E->IgnoreParenImpCasts();
    if (const auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_LNot) {
      OnTrueEdge = !OnTrueEdge;
      E = U->getSubExpr();
      continue;
    }
    const auto *C = dyn_cast<CallExpr>(E);
    if (!C)
      return nullptr;
    if (C->getBuiltinCallee() == Builtin::BI__builtin_expect && C->getNumArgs() == 2) {
      E = C->getArg(0);
      continue;
    }
    const FunctionDecl *FD = C->getDirectCallee();
    const ApiEntry *A = FD && FD->getIdentifier() ? lookupApi(FD->getName()) : nullptr;
    return A && A->Effect == ApiEffect::LAST_REF ? A : nullptr;
  }
}

// The calls an RT kernel reaches only through the last-reference edge of a
// reference-count test: "if (!refcount_dec_and_test(&p->ref)) return;
// kfree(p);" frees only when this put was the last.
void placeLastRef(FunctionCfg &F) {
  F.CallLastRef.assign(F.Calls.size(), {});
  if (!F.Graph)
    return;
  const CFG &G = *F.Graph;
  llvm::DenseMap<unsigned, std::pair<unsigned, StringRef>> LastEdge; // block -> succ, API
  for (const CFGBlock *B : G) {
    const auto *Cond = B->succ_size() == 2 && F.Reached.test(B->getBlockID())
                           ? dyn_cast_or_null<Expr>(B->getTerminatorCondition())
                           : nullptr;
    bool OnTrue;
    if (const ApiEntry *A = Cond ? lastRefTest(Cond, OnTrue) : nullptr)
      LastEdge[B->getBlockID()] = {OnTrue ? 0u : 1u, A->Name};
  }
  if (LastEdge.empty())
    return;
  llvm::BitVector Seen(G.getNumBlockIDs());
  std::vector<const CFGBlock *> Work{&G.getEntry()};
  Seen.set(G.getEntry().getBlockID());
  while (!Work.empty()) {
    const CFGBlock *B = Work.back();
    Work.pop_back();
    auto Cut = LastEdge.find(B->getBlockID());
    unsigned I = 0;
    for (const CFGBlock::AdjacentBlock &Succ : B->succs()) {
      unsigned Index = I++;
      const CFGBlock *S = Succ.getReachableBlock();
      if (!S || !F.takesEdge(*B, Index) || Seen.test(S->getBlockID()) ||
          (Cut != LastEdge.end() && Cut->second.first == Index))
        continue;
      Seen.set(S->getBlockID());
      Work.push_back(S);
    }
  }
  // (A function with several such tests names one of them.)
  StringRef Api = LastEdge.begin()->second.second;
  for (const CFGBlock *B : G) {
    if (!F.Reached.test(B->getBlockID()) || Seen.test(B->getBlockID()))
      continue;
    for (const CFGElement &E : *B)
      if (auto S = E.getAs<CFGStmt>())
        if (const auto *C = dyn_cast<CallExpr>(S->getStmt()))
          if (auto It = F.CallIndex.find(C); It != F.CallIndex.end())
            F.CallLastRef[It->second] = Api;
  }
}

} // namespace

FunctionCfg buildRtCfg(const FunctionDecl *FD, ASTContext &Ctx, const RtDeadRegions &Dead,
                       bool WithAccesses) {
  FunctionCfg F;
  const SourceManager &SM = Ctx.getSourceManager();
  const LangOptions &LO = Ctx.getLangOpts();
  auto Add = [&](const CallExpr *C) {
    SpelledCall S = spellCall(C, SM, LO);
    if (Dead.contains(S.Site, SM))
      return;
    F.CallIndex[C] = F.Calls.size();
    F.Calls.push_back(std::move(S));
  };

  CFG::BuildOptions Opts;
  Opts.setAllAlwaysAdd();
  Opts.PruneTriviallyFalseEdges = false; // rtEdges decides, with RT meaning
  // guard() variables end their context where their lifetime ends. Clang 16
  // crashes building lifetime ends for some functions (goto across
  // declarations): only functions with cleanup variables get them.
  Opts.AddLifetime = hasCleanupVariable(FD);
  F.Graph = CFG::buildCFG(FD, FD->getBody(), &Ctx, Opts);
  if (!F.Graph) { // no CFG (rare GNU extensions): every call counts as reachable
    CallCollector V;
    V.TraverseStmt(FD->getBody());
    for (const CallExpr *C : V.Calls)
      Add(C);
    placeNeeds(FD, Ctx, F);
    pickRepresentatives(F.Calls, SM);
    return F;
  }

  const CFG &G = *F.Graph;
  F.Reached.resize(G.getNumBlockIDs());
  F.Edges.assign(G.getNumBlockIDs(), {true, true});
  F.Excludes.assign(G.getNumBlockIDs(), {0, 0});
  F.ExclusiveEdges.assign(G.getNumBlockIDs(), 0);
  for (const CFGBlock *B : G)
    if (B->succ_size() == 2) {
      if (const auto *Cond = dyn_cast_or_null<Expr>(B->getTerminatorCondition()))
        F.Edges[B->getBlockID()] = rtEdges(Cond, Ctx);
      // "a || b" branches twice: the last condition is the one tested here.
      if (const Expr *Last = B->getLastCondition()) {
        StringRef Text = spelledText(Last, SM, Ctx.getLangOpts());
        F.Excludes[B->getBlockID()] = contextTestEdges(Text, F.ExclusiveEdges[B->getBlockID()]);
        if (unsigned Claim = claimTestEdge(Text))
          F.ExclusiveEdges[B->getBlockID()] = Claim;
      }
    }

  std::vector<const CFGBlock *> Work{&G.getEntry()};
  F.Reached.set(G.getEntry().getBlockID());
  while (!Work.empty()) {
    const CFGBlock *B = Work.back();
    Work.pop_back();
    unsigned I = 0;
    for (const CFGBlock::AdjacentBlock &Succ : B->succs()) {
      bool Take = F.takesEdge(*B, I++);
      // Pruned edges (none, as built) keep their target as "possibly unreachable".
      const CFGBlock *S = Succ.getReachableBlock();
      if (!S)
        S = Succ.getPossiblyUnreachableBlock();
      if (!Take || !S || F.Reached.test(S->getBlockID()))
        continue;
      F.Reached.set(S->getBlockID());
      Work.push_back(S);
    }
  }

  // Each access is placed at the first CFG statement of its expansion.
  std::vector<PerCpuAccess> Accesses;
  llvm::DenseMap<unsigned, unsigned> AccessBySite;
  if (WithAccesses)
    for (PerCpuAccess &A : findPerCpuAccesses(FD, Ctx))
      if (!Dead.contains(A.Site, SM)) {
        AccessBySite[A.Site.getRawEncoding()] = Accesses.size();
        Accesses.push_back(std::move(A));
      }
  llvm::DenseMap<unsigned, unsigned> Placed; // access -> index in F.Accesses

  for (const CFGBlock *B : G) {
    if (!F.Reached.test(B->getBlockID()))
      continue;
    for (const CFGElement &E : *B) {
      auto S = E.getAs<CFGStmt>();
      if (!S)
        continue;
      if (!AccessBySite.empty() && S->getStmt()->getBeginLoc().isMacroID()) {
        SourceLocation Site;
        spelledMacros(S->getStmt()->getBeginLoc(), SM, LO, Site);
        auto It = AccessBySite.find(Site.getRawEncoding());
        if (It != AccessBySite.end() && !Placed.count(It->second)) {
          Placed[It->second] = F.Accesses.size();
          F.AccessAt[S->getStmt()] = F.Accesses.size();
          F.Accesses.push_back(Accesses[It->second]);
        }
      }
      if (const auto *C = dyn_cast<CallExpr>(S->getStmt()))
        Add(C);
      else if (const auto *DS = dyn_cast<DeclStmt>(S->getStmt()))
        for (const Decl *D : DS->decls())
          if (const auto *VD = dyn_cast<VarDecl>(D); VD && VD->hasAttr<CleanupAttr>())
            if (const auto *C = dyn_cast_or_null<CallExpr>(
                    VD->getInit() ? VD->getInit()->IgnoreParenImpCasts() : nullptr))
              F.GuardVars[C] = VD;
    }
  }
  // Then the uses of the placed accesses' pointers, by their reference.
  llvm::DenseMap<const Stmt *, llvm::SmallVector<std::pair<unsigned, unsigned>, 1>> UseRefs;
  for (auto [Orig, Index] : Placed) {
    F.Accesses[Index].Uses.clear();
    for (unsigned J = 0; J < Accesses[Orig].Uses.size(); ++J)
      UseRefs[Accesses[Orig].Uses[J].Ref].push_back({Index, J});
  }
  if (!UseRefs.empty())
    for (const CFGBlock *B : G) {
      if (!F.Reached.test(B->getBlockID()))
        continue;
      for (const CFGElement &E : *B) {
        auto S = E.getAs<CFGStmt>();
        auto It = S ? UseRefs.find(S->getStmt()) : UseRefs.end();
        if (It == UseRefs.end())
          continue;
        for (auto [Index, J] : It->second) {
          auto Orig = llvm::find_if(Placed, [&](auto P) { return P.second == Index; });
          F.UseAt[S->getStmt()].push_back({Index, (unsigned)F.Accesses[Index].Uses.size()});
          F.Accesses[Index].Uses.push_back(Accesses[Orig->first].Uses[J]);
        }
        UseRefs.erase(It);
      }
    }
  placeParamUses(FD, F);
  placeNeeds(FD, Ctx, F);
  placeLastRef(F);
  pickRepresentatives(F.Calls, SM);
  return F;
}

} // namespace rtcheck
