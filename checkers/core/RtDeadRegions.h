//===- RtDeadRegions.h - #if regions an RT kernel does not compile -*- C++ -*-===//
// On a non-RT tree, "#ifndef CONFIG_PREEMPT_RT" code is compiled and shows up
// in the AST although RT never sees it. Preprocessor callbacks note such
// regions so the analysis can skip them.
#ifndef RTCHECK_CORE_RTDEADREGIONS_H
#define RTCHECK_CORE_RTDEADREGIONS_H

#include "clang/Basic/SourceManager.h"
#include "clang/Lex/PPCallbacks.h"
#include <vector>

namespace rtcheck {

class RtDeadRegions {
public:
  /// True if Loc (a file location) lies in a region RT does not compile.
  bool contains(clang::SourceLocation Loc, const clang::SourceManager &SM) const;
  void add(clang::FileID File, unsigned Begin, unsigned End) {
    Regions.push_back({File, Begin, End});
  }
  size_t size() const { return Regions.size(); }

private:
  struct Region {
    clang::FileID File;
    unsigned Begin, End;
  };
  std::vector<Region> Regions;
};

/// Preprocessor callbacks that fill an RtDeadRegions.
std::unique_ptr<clang::PPCallbacks> makeRtDeadRegionRecorder(RtDeadRegions &Out,
                                                             clang::SourceManager &SM,
                                                             const clang::LangOptions &LO);

} // namespace rtcheck
#endif
