//===- Apply.h - applying fixes in place, safely ----------------*- C++ -*-===//
#ifndef RTCHECK_FIX_APPLY_H
#define RTCHECK_FIX_APPLY_H

#include "rtcheck/finding.h"
#include "clang/Tooling/Core/Replacement.h"
#include "llvm/Support/raw_ostream.h"
#include <string>
#include <vector>

namespace rtcheck {

/// The edits of one finding, with what the file looked like when analysed.
struct PendingFix {
  std::string Rule;
  rtcheck_fix_kind Kind;
  std::string File;    ///< absolute path
  std::string RelFile; ///< relative to the kernel source root, for diffs
  unsigned Line;       ///< of the finding, for messages
  std::string Function; ///< of the finding, to recognise it after the fix
  uint64_t ContentHash;
  clang::tooling::Replacements Edits;
};

/// The fixes to apply to one file, merged: equal edits of several findings
/// once, a fix that overlaps an earlier one dropped (and reported).
struct FileFixes {
  std::string File, RelFile;
  uint64_t ContentHash;
  clang::tooling::Replacements Edits;
  std::vector<const PendingFix *> Fixes;
};
std::vector<FileFixes> mergeFixes(const std::vector<PendingFix> &Fixes, bool Unsafe);

/// The file's text with the fixes applied, or an error message.
llvm::Expected<std::string> patchedText(const FileFixes &F);

/// Applies merged fixes: a file changed since it was analysed, or read-only,
/// is refused. Each file is written to a temporary file and renamed over the
/// original, keeping its permissions. Returns false if a file was refused.
bool applyFixes(const std::vector<FileFixes> &Files, bool DryRun, llvm::raw_ostream &DiffOut);

uint64_t contentHash(llvm::StringRef Code);

} // namespace rtcheck
#endif
