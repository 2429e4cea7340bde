#include "fix/ForceRtFallback.h"
#include "clang/AST/Stmt.h"

using namespace clang;

namespace rtcheck {
namespace {

// The statements from Body down to Target, outermost first (empty if absent).
bool pathTo(const Stmt *S, const Stmt *Target, std::vector<const Stmt *> &Path) {
  if (!S)
    return false;
  Path.push_back(S);
  if (S == Target)
    return true;
  for (const Stmt *Child : S->children())
    if (pathTo(Child, Target, Path))
      return true;
  Path.pop_back();
  return false;
}

} // namespace

bool containsCallOf(const Stmt *S, const FunctionFacts &F, ApiEffect Effect) {
  for (const SpelledCall &C : F.calls())
    if (hasEffect(C.ApiName, Effect)) {
      std::vector<const Stmt *> P;
      if (pathTo(S, C.Call, P))
        return true;
    }
  return false;
}

// "do { if (c) return; } while (0)" as a bail-out macro expands.
static const IfStmt *bailOut(const Stmt *S) {
  if (const auto *Do = dyn_cast<DoStmt>(S)) {
    const auto *Body = dyn_cast<CompoundStmt>(Do->getBody());
    S = Body && Body->size() == 1 ? Body->body_front() : nullptr;
  }
  return dyn_cast_or_null<IfStmt>(S);
}

static bool endsEarly(const Stmt *S) {
  if (const auto *CS = dyn_cast_or_null<CompoundStmt>(S))
    S = CS->body_empty() ? nullptr : CS->body_back();
  return S && (isa<ReturnStmt>(S) || isa<GotoStmt>(S));
}

// The branch that already chooses a fallback over the non-owner path:
// "if (C) { fallback; return; } ... down_read_non_owner()" or
// "if (C) owner path; else ... non-owner path". RT is made to take it, as
// upstream did for the BPF stack map (tglx 2020: "this just forces the IP
// fallback path").
const IfStmt *fallbackBranch(const FunctionFacts &F, const SpelledCall &C,
                            llvm::function_ref<bool(const Stmt *)> ReachesPath) {
  std::vector<const Stmt *> Path;
  if (!pathTo(F.Decl->getBody(), C.Call, Path))
    return nullptr;
  for (size_t I = Path.size() - 1; I > 0; --I) {
    const Stmt *Parent = Path[I - 1], *Child = Path[I];
    if (const auto *If = dyn_cast<IfStmt>(Parent); If && If->getElse() == Child &&
                                                    !ReachesPath(If->getThen()))
      return If;
    if (const auto *CS = dyn_cast<CompoundStmt>(Parent)) {
      const Stmt *Prev = nullptr;
      for (const Stmt *S : CS->body()) {
        if (S == Child)
          break;
        if (const IfStmt *If = bailOut(S);
            If && !If->getElse() && endsEarly(If->getThen()) && !ReachesPath(If))
          Prev = If;
      }
      if (Prev)
        return cast<IfStmt>(Prev);
    }
  }
  return nullptr;
}

// Adds "IS_ENABLED(CONFIG_PREEMPT_RT) || " in front of the branch condition.
bool forceFallbackOnRt(const IfStmt *If, FixBuilder &Fix) {
  const Expr *Cond = If->getCond();
  const Expr *Top = Cond->IgnoreImplicit();
  bool Paren = isa<ConditionalOperator>(Top) ||
               (isa<BinaryOperator>(Top) && (cast<BinaryOperator>(Top)->isAssignmentOp() ||
                                             cast<BinaryOperator>(Top)->isCommaOp()));
  if (!Fix.insertBefore(Cond->getBeginLoc(),
                        Paren ? "IS_ENABLED(CONFIG_PREEMPT_RT) || (" : "IS_ENABLED(CONFIG_PREEMPT_RT) || "))
    return false;
  return !Paren || Fix.insertAfterToken(Cond->getEndLoc(), ")");
}

} // namespace rtcheck
