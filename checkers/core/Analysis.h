//===- Analysis.h - per-TU facts, the finding sink, the rule interface -*- C++ -*-===//
#ifndef RTCHECK_CORE_ANALYSIS_H
#define RTCHECK_CORE_ANALYSIS_H

#include "core/Context.h"
#include "fix/Apply.h"
#include "fix/Fix.h"
#include "core/FunctionWalk.h"
#include "rtcheck/finding.h"
#include "clang/AST/ASTContext.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Allocator.h"
#include "llvm/Support/StringSaver.h"
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rtcheck {

/// Contexts a function returns with, and contexts it ends that its caller
/// began (lock wrappers: htab_lock_bucket(), zram_slot_lock()).
struct FunctionEffect {
  std::vector<HeldContext> Acquired;
  std::vector<ContextKind> Released;
  bool operator==(const FunctionEffect &O) const;
};

/// An operation that sleeps on RT, reached from a function's entry while the
/// function itself is not truly atomic: its callers must not be.
struct SleepSite {
  clang::SourceLocation Loc;
  std::string Function; ///< where the operation is
  std::string Op;       ///< "kmalloc"
  std::string Why;      ///< "allocates memory: ..."
  std::vector<ChainStep> Path; ///< calls from the function down to Op
  /// Context facts known false on the way (a guard such as "if
  /// (irqs_disabled()) defer; else ..."): a caller that makes one true does
  /// not reach Op.
  unsigned Unless = 0;
  /// What must hold of the function's parameters for Op to be reached
  /// (ParamConditions): a caller whose arguments rule it out does not reach Op.
  ParamNeeds Needs;
  /// Reached only when a callee on the way drops the last reference
  /// ("refcount_dec_and_test"): the API, or empty (kernel_api.def LAST_REF).
  std::string LastRef;
};

/// What the engine knows of one function defined in the main file.
struct FunctionFacts {
  const clang::FunctionDecl *Decl = nullptr;
  std::string Name;
  /// Defined in the file being checked; the others are header inlines it
  /// calls, kept for what they do to the context and never reported.
  bool InMainFile = false;
  FunctionCfg Cfg;
  const std::vector<SpelledCall> &calls() const { return Cfg.Calls; }
  const std::vector<PerCpuAccess> &accesses() const { return Cfg.Accesses; }
  /// Filled by the context engine:
  std::vector<ContextState> StateBefore;  ///< per call, the context it runs in
  /// per per-CPU access (Cfg.Accesses), the context it runs in
  std::vector<ContextState> AccessStateBefore;
  /// per access, per use of its pointer (PerCpuAccess::Uses), the context
  std::vector<std::vector<ContextState>> UseStateBefore;
  std::vector<HeldContext> EntryContexts; ///< given by registrations (request_irq ...)
  FunctionEffect Effect;
  std::vector<SleepSite> MaySleep;
  /// Parameters the function calls (a function pointer it is given: the
  /// okfn of NF_HOOK()): a function passed there is called at the call site.
  llvm::SmallVector<unsigned, 2> CalledParams;
  /// Per access and per use: whether the dataflow reached it. One in a branch
  /// the CFG prunes ("if (IS_ENABLED(CONFIG_64BIT)) ... else") has no state.
  std::vector<bool> AccessReached;
  std::vector<std::vector<bool>> UseReached;
  /// Per reference to a pointer parameter (Cfg.ParamUses), the context it
  /// is evaluated in, and whether the dataflow reached it.
  std::vector<ContextState> ParamUseState;
  std::vector<bool> ParamUseReached;
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
  FunctionFacts *factsFor(const clang::FunctionDecl *FD) {
    return const_cast<FunctionFacts *>(static_cast<const TuFacts *>(this)->factsFor(FD));
  }
  /// Facts of the TU function a call calls directly, or null.
  const FunctionFacts *callee(const SpelledCall &C) const {
    return factsFor(calledFunction(*C.Call));
  }
  /// The function a call calls directly, also through a cast of the
  /// function ("((btf_f)____f)(...)" of BPF_CALL_x()).
  static const clang::FunctionDecl *calledFunction(const clang::CallExpr &Call);
  /// The TU functions a call may reach: its direct callee and the TU
  /// functions it is given for a parameter it calls, or for a call through
  /// an ops member ("ops->fn(x)") the functions this TU stores in that
  /// member, when there are at most MaxOpsTargets of them.
  llvm::SmallVector<const FunctionFacts *, 2> callees(const SpelledCall &C) const;
  static constexpr unsigned MaxOpsTargets = 2;
  /// Functions stored in each struct member by the TU (initializers, assignments).
  llvm::DenseMap<const clang::FieldDecl *, llvm::SmallVector<const FunctionFacts *, 2>> OpsTargets;
  /// Functions defined in other TUs that this TU registers (request_irq(...,
  /// fn), an ops initializer): the contexts they start in, by name, for the
  /// sweep to carry to the TU that defines them (docs/facts.md "registers").
  std::map<std::string, std::vector<HeldContext>> ExternalEntries;

private:
  llvm::DenseMap<const clang::FunctionDecl *, size_t> Index;
};

/// A per-CPU use that no context of its file serialises, of an object the
/// file does not report: the sweep reports it when a caller in another TU
/// reaches Function with only BH disabled (docs/facts.md "percpu_free").
struct ExportedPerCpuUse {
  std::string Function;         ///< whose callers decide
  std::string UseFunction;      ///< where the use is: Function or one it calls
  std::string Object;           ///< "dev_flush_list"
  clang::SourceLocation Loc;    ///< the use
  std::string Note;             ///< "uses this CPU's dev_flush_list: ..."
  std::vector<ChainStep> Calls; ///< from Function down to the use
  const clang::SourceManager *SM;
  /// What must hold of Function's parameters for the use to be reached (a
  /// use in Function itself: "case TWA_NMI_CURRENT:").
  ParamNeeds Needs = {};
};

/// Collects findings of all TUs; owns their strings.
class FindingSink {
public:
  explicit FindingSink(std::string Root) : Root(std::move(Root)), Saver(Alloc) {}
  /// Edits (optional) become the fix's diff and, for --fix, a PendingFix.
  void report(const char *Rule, rtcheck_severity Severity, const clang::SourceManager &SM,
              clang::SourceLocation Loc, llvm::StringRef Function, llvm::StringRef Message,
              llvm::ArrayRef<ChainStep> Chain, rtcheck_fix Fix,
              const FixBuilder *Edits = nullptr);
  const std::vector<PendingFix> &pendingFixes() const { return Fixes; }
  void exportUse(ExportedPerCpuUse U) { Exports.push_back(std::move(U)); }
  const std::vector<ExportedPerCpuUse> &exports() const { return Exports; }
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
  std::vector<PendingFix> Fixes;
  std::vector<ExportedPerCpuUse> Exports;
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
