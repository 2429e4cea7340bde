#include "core/FunctionWalk.h"
#include "core/RtCondition.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Analysis/CFG.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/BitVector.h"

using namespace clang;

namespace rtcheck {
namespace {

// Which successors of a two-way branch RT takes: {true edge, false edge}.
std::pair<bool, bool> rtEdges(const Expr *Cond, ASTContext &Ctx) {
  const SourceManager &SM = Ctx.getSourceManager();
  // Only a condition written whole in the function (not inside a macro's own
  // body, like WARN_ON's internals) can be read as text.
  CharSourceRange Range = Lexer::makeFileCharRange(
      CharSourceRange::getTokenRange(Cond->getSourceRange()), SM, Ctx.getLangOpts());
  if (Range.isValid()) {
    bool Invalid = false;
    StringRef Text = Lexer::getSourceText(Range, SM, Ctx.getLangOpts(), &Invalid);
    if (!Invalid) {
      RtVerdict V = evaluateOnRt(Text);
      if (V.MentionsRt) {
        if (V.Value == Truth::Unknown)
          return {true, true}; // never trust the configured tree's value
        return {V.Value == Truth::True, V.Value == Truth::False};
      }
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

} // namespace

std::vector<SpelledCall> rtReachableCalls(const FunctionDecl *FD, ASTContext &Ctx,
                                          const RtDeadRegions &Dead) {
  std::vector<SpelledCall> Out;
  const SourceManager &SM = Ctx.getSourceManager();
  const LangOptions &LO = Ctx.getLangOpts();
  auto Add = [&](const CallExpr *C) {
    SpelledCall S = spellCall(C, SM, LO);
    if (!Dead.contains(S.Site, SM))
      Out.push_back(std::move(S));
  };

  CFG::BuildOptions Opts;
  Opts.setAllAlwaysAdd();
  Opts.PruneTriviallyFalseEdges = false; // rtEdges decides, with RT meaning
  std::unique_ptr<CFG> G = CFG::buildCFG(FD, FD->getBody(), &Ctx, Opts);
  if (!G) { // no CFG (rare GNU extensions): every call counts as reachable
    CallCollector V;
    V.TraverseStmt(FD->getBody());
    for (const CallExpr *C : V.Calls)
      Add(C);
    return Out;
  }

  llvm::BitVector Reached(G->getNumBlockIDs());
  std::vector<const CFGBlock *> Work{&G->getEntry()};
  Reached.set(G->getEntry().getBlockID());
  while (!Work.empty()) {
    const CFGBlock *B = Work.back();
    Work.pop_back();
    std::pair<bool, bool> Edges{true, true};
    if (B->succ_size() == 2)
      if (const auto *Cond = dyn_cast_or_null<Expr>(B->getTerminatorCondition()))
        Edges = rtEdges(Cond, Ctx);
    unsigned I = 0;
    for (const CFGBlock::AdjacentBlock &Succ : B->succs()) {
      bool Take = B->succ_size() != 2 || (I == 0 ? Edges.first : Edges.second);
      ++I;
      // Pruned edges (none, as built) keep their target as "possibly unreachable".
      const CFGBlock *S = Succ.getReachableBlock();
      if (!S)
        S = Succ.getPossiblyUnreachableBlock();
      if (!Take || !S || Reached.test(S->getBlockID()))
        continue;
      Reached.set(S->getBlockID());
      Work.push_back(S);
    }
  }

  for (const CFGBlock *B : *G) {
    if (!Reached.test(B->getBlockID()))
      continue;
    for (const CFGElement &E : *B)
      if (auto S = E.getAs<CFGStmt>())
        if (const auto *C = dyn_cast<CallExpr>(S->getStmt()))
          Add(C);
  }
  return Out;
}

} // namespace rtcheck
