#include "core/RtSkippedLock.h"
#include "core/ContextEngine.h"
#include "core/KernelApi.h"
#include "core/RtCondition.h"
#include "core/SpelledCall.h"
#include "clang/AST/Stmt.h"

using namespace clang;

namespace rtcheck {
namespace {

// The condition as written in the function, or empty.
StringRef conditionText(const Expr *Cond, const TuFacts &TU) {
  return spelledText(Cond, TU.SM, TU.Ctx.getLangOpts()).trim();
}

// "IS_ENABLED(CONFIG_RPS)": the option of a config test that RT does not
// decide, or empty.
std::string configOption(StringRef Text) {
  if (evaluateOnRt(Text).MentionsRt)
    return "";
  auto [Macro, Rest] = Text.split('(');
  Macro = Macro.trim();
  StringRef Option = Rest.trim();
  if (!hasEffect(Macro, ApiEffect::CONFIG_TEST) || !Option.consume_back(")"))
    return "";
  Option = Option.trim();
  bool Identifier = llvm::all_of(Option, [](char C) { return isalnum((unsigned char)C) || C == '_'; });
  return Identifier && Option.startswith("CONFIG_") ? Option.str() : "";
}

// The first call in S spelled as an API with one of Effects.
const SpelledCall *firstApiCall(const Stmt *S, const TuFacts &TU,
                                std::initializer_list<ApiEffect> Effects, SpelledCall &Out) {
  if (!S)
    return nullptr;
  if (const auto *Call = dyn_cast<CallExpr>(S)) {
    Out = spellCall(Call, TU.SM, TU.Ctx.getLangOpts());
    const ApiEntry *A = Out.ApiName.empty() ? nullptr : lookupApi(Out.ApiName);
    if (A && llvm::is_contained(Effects, A->Effect))
      return &Out;
  }
  for (const Stmt *Child : S->children())
    if (firstApiCall(Child, TU, Effects, Out))
      return &Out;
  return nullptr;
}

void findIn(const Stmt *S, const FunctionFacts &F, const TuFacts &TU,
            std::vector<RtSkippedLock> &Out) {
  if (!S)
    return;
  const auto *If = dyn_cast<IfStmt>(S);
  const auto *Else = If ? dyn_cast_or_null<IfStmt>(If->getElse()) : nullptr;
  if (If && Else && !Else->getElse() && If->getCond() && Else->getCond()) {
    std::string Option = configOption(conditionText(If->getCond(), TU));
    RtVerdict OnRt = evaluateOnRt(conditionText(Else->getCond(), TU));
    SpelledCall Lock, Atomic;
    bool Found = !Option.empty() && OnRt.MentionsRt && OnRt.Value == Truth::False;
    if (Found && firstApiCall(If->getThen(), TU,
                              {ApiEffect::RT_LOCK, ApiEffect::RAW_LOCK, ApiEffect::RT_UNLOCK,
                               ApiEffect::RAW_UNLOCK}, Lock) &&
        firstApiCall(Else->getThen(), TU,
                     {ApiEffect::IRQ_OFF, ApiEffect::IRQ_ON, ApiEffect::BH_OFF, ApiEffect::BH_ON,
                      ApiEffect::PREEMPT_OFF, ApiEffect::PREEMPT_ON},
                     Atomic)) {
      ApiEffect LockEffect = lookupApi(Lock.ApiName)->Effect;
      Out.push_back({&F, If, Else, Option, Lock.ApiName.str(), spelledArgument(TU.SM, Lock.Site, 0),
                     Atomic.ApiName.str(),
                     LockEffect == ApiEffect::RT_UNLOCK || LockEffect == ApiEffect::RAW_UNLOCK});
      return;
    }
  }
  for (const Stmt *Child : S->children())
    findIn(Child, F, TU, Out);
}

} // namespace

std::vector<RtSkippedLock> rtSkippedLocks(const TuFacts &TU) {
  std::vector<RtSkippedLock> Out;
  for (const FunctionFacts &F : TU.Functions)
    if (F.InMainFile)
      findIn(F.Decl->getBody(), F, TU, Out);
  return Out;
}

} // namespace rtcheck
