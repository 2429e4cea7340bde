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
  uint64_t ContentHash;
  clang::tooling::Replacements Edits;
};

struct ApplyOptions {
  bool DryRun = false; ///< print the combined diff instead of writing
  bool Unsafe = false; ///< also apply suggestions
};

/// Applies the fixes file by file: edits of several findings are merged when
/// equal and the later one is dropped (and reported) when they overlap; a
/// file changed since it was analysed, or read-only, is refused. Each file is
/// written to a temporary file and renamed over the original, keeping its
/// permissions. Returns false if a file was refused.
bool applyFixes(const std::vector<PendingFix> &Fixes, const ApplyOptions &Opts,
                llvm::raw_ostream &DiffOut);

uint64_t contentHash(llvm::StringRef Code);

} // namespace rtcheck
#endif
