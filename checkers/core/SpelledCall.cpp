#include "core/SpelledCall.h"
#include "core/KernelApi.h"
#include "clang/AST/Decl.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseMap.h"

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

namespace {

// One step of spelledMacros()'s walk from a macro location: past the
// macro-argument steps, then out of one macro body (Name; Next is where that
// macro was expanded), or to the file (Name empty, Next the file location).
struct MacroStep {
  StringRef Name;
  SourceLocation Next;
};

// Every statement of a kernel function asks this walk, most of them from
// deep inside the same few expansions (this_cpu_read(), spin_lock()), and
// each SourceManager query behind it is a binary search for the FileID. The
// steps are memoised per location for the SourceManager of the TU.
class MacroStepCache {
public:
  MacroStep step(SourceLocation Loc, const SourceManager &SM, const LangOptions &LO) {
    if (&SM != For) {
      Steps.clear();
      For = &SM;
    }
    auto [It, New] = Steps.try_emplace(Loc.getRawEncoding());
    if (New) {
      while (Loc.isMacroID() && SM.isMacroArgExpansion(Loc))
        Loc = SM.getImmediateSpellingLoc(Loc);
      if (Loc.isMacroID())
        It->second = {Lexer::getImmediateMacroName(Loc, SM, LO),
                      SM.getImmediateExpansionRange(Loc).getBegin()};
      else
        It->second = {StringRef(), Loc};
    }
    return It->second;
  }

  void clear() {
    Steps.clear();
    For = nullptr;
  }

private:
  const SourceManager *For = nullptr;
  llvm::DenseMap<unsigned, MacroStep> Steps;
};

MacroStepCache StepCache;

} // namespace

void forgetMacroSteps() { StepCache.clear(); }

StringRef spelledText(const Expr *E, const SourceManager &SM, const LangOptions &LO) {
  CharSourceRange Range =
      Lexer::makeFileCharRange(CharSourceRange::getTokenRange(E->getSourceRange()), SM, LO);
  bool Invalid = false;
  StringRef Text = Range.isValid() ? Lexer::getSourceText(Range, SM, LO, &Invalid) : "";
  return Invalid ? "" : Text;
}

llvm::SmallVector<StringRef, 4> spelledMacros(SourceLocation Loc, const SourceManager &SM,
                                              const LangOptions &LO, SourceLocation &Site) {
  // Walk from the token out to the file. A macro-argument step moves to
  // where the argument was written (no name: the caller wrote it); a body step
  // means the token was written inside that macro's definition.
  llvm::SmallVector<StringRef, 4> Inner; // innermost first
  while (Loc.isMacroID()) {
    MacroStep S = StepCache.step(Loc, SM, LO);
    if (!S.Name.empty())
      Inner.push_back(S.Name);
    Loc = S.Next;
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
