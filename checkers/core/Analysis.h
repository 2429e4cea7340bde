//===- Analysis.h - per-TU facts, the finding sink, the rule interface -*- C++ -*-===//
#ifndef RTCHECK_CORE_ANALYSIS_H
#define RTCHECK_CORE_ANALYSIS_H

#include "core/FunctionWalk.h"
#include "rtcheck/finding.h"
#include "clang/AST/ASTContext.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/StringSaver.h"
#include <memory>
#include <string>
#include <vector>

namespace rtcheck {

/// What the engine knows of one function defined in the main file.
struct FunctionFacts {
  const clang::FunctionDecl *Decl;
  std::string Name;
  std::vector<SpelledCall> Calls; ///< calls reachable on RT
};

/// Facts of one translation unit, computed once and shared by every rule.
class TuFacts {
public:
  TuFacts(clang::ASTContext &Ctx, const RtDeadRegions &Dead);
  clang::ASTContext &Ctx;
  const clang::SourceManager &SM;
  std::vector<FunctionFacts> Functions;
  /// Facts of a function defined in this TU, or null.
  const FunctionFacts *factsFor(const clang::FunctionDecl *FD) const;

private:
  llvm::DenseMap<const clang::FunctionDecl *, size_t> Index;
};

/// A step of a finding's chain, in source terms.
struct ChainStep {
  clang::SourceLocation Loc;
  std::string Function;
  std::string Note;
};

/// Collects findings of all TUs; owns their strings.
class FindingSink {
public:
  explicit FindingSink(std::string Root) : Root(std::move(Root)), Saver(Alloc) {}
  void report(const char *Rule, rtcheck_severity Severity, const clang::SourceManager &SM,
              clang::SourceLocation Loc, llvm::StringRef Function, llvm::StringRef Message,
              llvm::ArrayRef<ChainStep> Chain, rtcheck_fix Fix);
  /// Sorted by file, line, column, rule; duplicates removed.
  std::vector<rtcheck_finding> sorted() const;
  /// A path relative to the kernel source root when inside it.
  std::string relativePath(llvm::StringRef Path) const;
  const std::string &root() const { return Root; }

private:
  rtcheck_location location(const clang::SourceManager &SM, clang::SourceLocation Loc,
                            llvm::StringRef Function, llvm::StringRef Note);
  std::string Root;
  llvm::BumpPtrAllocator Alloc;
  llvm::StringSaver Saver;
  std::vector<rtcheck_finding> Findings;
};

/// One rule: a pure function of the TU's facts (style.md: rules stay thin).
class Rule {
public:
  virtual ~Rule() = default;
  virtual void check(const TuFacts &TU, FindingSink &Out) = 0;
};

struct RuleInfo {
  const char *Id;
  rtcheck_severity Severity;
  const char *Title;
  std::unique_ptr<Rule> (*Create)();
};

/// The catalogue of include/rtcheck/rules.def.
llvm::ArrayRef<RuleInfo> allRules();

/// The name of the function a location is in, for messages.
std::string functionName(const clang::FunctionDecl *FD);

} // namespace rtcheck
#endif
