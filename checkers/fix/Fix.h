//===- Fix.h - edits attached to findings, diffs, safe in-place writes -*- C++ -*-===//
// A rule builds its conversion with a FixBuilder: edits land where the code
// is spelled (a macro argument's text in the .c file), never inside a macro
// body of a header. The edits become a unified diff in the finding and, with
// --fix, are applied transactionally (fix/Apply.cpp).
#ifndef RTCHECK_FIX_FIX_H
#define RTCHECK_FIX_FIX_H

#include "rtcheck/finding.h"
#include "clang/Basic/SourceManager.h"
#include "clang/Tooling/Core/Replacement.h"
#include <string>

namespace rtcheck {

class FixBuilder {
public:
  FixBuilder(const clang::SourceManager &SM, const clang::LangOptions &LO) : SM(SM), LO(LO) {}

  /// Replaces the tokens of Range; false (and Reason) if they are not
  /// spelled in the file being checked.
  bool replace(clang::SourceRange Range, llvm::StringRef Text);
  bool insertBefore(clang::SourceLocation Loc, llvm::StringRef Text);
  /// Inserts after the token that starts at Loc.
  bool insertAfterToken(clang::SourceLocation Loc, llvm::StringRef Text);
  /// Replaces exactly the characters of Range (file locations: whole lines).
  bool replaceChars(clang::CharSourceRange Range, llvm::StringRef Text) {
    return add(Range, Text);
  }

  bool empty() const { return Edits.empty(); }
  const clang::tooling::Replacements &edits() const { return Edits; }
  /// Why the last refused edit was refused ("inside the macro X of a header").
  std::string Reason;

private:
  const clang::SourceManager &SM;
  const clang::LangOptions &LO;
  clang::tooling::Replacements Edits;
  bool add(clang::CharSourceRange Range, llvm::StringRef Text);
};

/// A unified diff (a/ b/ paths, 3 lines of context) of Edits on Code.
std::string unifiedDiff(llvm::StringRef RelPath, llvm::StringRef Code,
                        const clang::tooling::Replacements &Edits);

} // namespace rtcheck
#endif
