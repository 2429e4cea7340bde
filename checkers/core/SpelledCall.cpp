#include "core/SpelledCall.h"
#include "core/KernelApi.h"
#include "clang/AST/Decl.h"
#include "clang/Lex/Lexer.h"

using namespace clang;

namespace rtcheck {

SpelledCall spellCall(const CallExpr *Call, const SourceManager &SM, const LangOptions &LO) {
  SpelledCall S;
  S.Call = Call;
  S.Names = spelledMacros(Call->getCallee()->getBeginLoc(), SM, LO, S.Site);
  if (const FunctionDecl *FD = Call->getDirectCallee())
    if (const IdentifierInfo *II = FD->getIdentifier())
      S.Names.push_back(II->getName());
  for (StringRef N : S.Names) {
    const ApiEntry *A = lookupApi(N);
    if (A && A->Effect != ApiEffect::COND_TRANSPARENT && A->Effect != ApiEffect::CONFIG_TEST &&
        A->Effect != ApiEffect::RT_CONFIG_ON) {
      S.ApiName = N;
      break;
    }
  }
  return S;
}

llvm::SmallVector<StringRef, 4> spelledMacros(SourceLocation Loc, const SourceManager &SM,
                                              const LangOptions &LO, SourceLocation &Site) {
  // Walk from the token out to the file. A macro-argument step moves to
  // where the argument was written (no name: the caller wrote it); a body step
  // means the token was written inside that macro's definition.
  llvm::SmallVector<StringRef, 4> Inner; // innermost first
  while (Loc.isMacroID()) {
    if (SM.isMacroArgExpansion(Loc)) {
      Loc = SM.getImmediateSpellingLoc(Loc);
      continue;
    }
    StringRef Name = Lexer::getImmediateMacroName(Loc, SM, LO);
    if (!Name.empty())
      Inner.push_back(Name);
    Loc = SM.getImmediateExpansionRange(Loc).getBegin();
  }
  Site = Loc;
  return {Inner.rbegin(), Inner.rend()};
}

llvm::SmallVector<StringRef, 4> enclosingMacroArgs(SourceLocation Loc, const SourceManager &SM,
                                                   const LangOptions &LO) {
  llvm::SmallVector<StringRef, 4> Names;
  while (Loc.isMacroID() && SM.isMacroArgExpansion(Loc)) {
    SourceLocation Param = SM.getImmediateExpansionRange(Loc).getBegin();
    StringRef Name = Lexer::getImmediateMacroName(Param, SM, LO);
    if (!Name.empty())
      Names.push_back(Name);
    Loc = SM.getImmediateSpellingLoc(Loc);
  }
  return Names;
}

} // namespace rtcheck
