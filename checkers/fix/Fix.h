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
#include <map>
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

/// Edits of files besides the one being checked, for a suggestion whose
/// patch spans several files (a struct in a header of the TU, the users of
/// a variable in another TU): by byte offset in the file's text, keyed by
/// the path relative to the kernel root. Such a fix is a diff for a human
/// (git apply), not written by rtcheck fix, which edits the checked file.
class OtherFileEdits {
public:
  /// Replaces Length bytes at Offset of RelPath, whose whole text is Code.
  bool add(llvm::StringRef RelPath, llvm::StringRef Code, unsigned Offset, unsigned Length,
           llvm::StringRef Text);
  bool empty() const { return Files.empty(); }
  size_t size() const { return Files.size(); }
  /// One diff of these files and of the checked file's edits (Main on
  /// MainCode), file by file in path order as git shows a commit.
  std::string diff(llvm::StringRef MainRel, llvm::StringRef MainCode,
                   const clang::tooling::Replacements &Main) const;

private:
  struct File {
    std::string Code;
    clang::tooling::Replacements Edits;
  };
  std::map<std::string, File> Files;
};

} // namespace rtcheck
#endif
