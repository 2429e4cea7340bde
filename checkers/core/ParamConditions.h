//===- ParamConditions.h - what a call site needs of its function's parameters -*- C++ -*-===//
// Path sensitivity where it is cheap: a site behind "if (!timeout) return"
// is reached only with timeout != 0, and a caller that passes 0 does not
// reach it (pci_bus_wait_rrs()); "if (!head) might_sleep()" only with head ==
// NULL, which kfree_rcu(p, rcu) never passes (&p->rcu). A site's needs are
// literals on the function's parameters; a call's arguments say which ones
// its caller makes true or false, or hands on (a parameter passed through).
#ifndef RTCHECK_CORE_PARAMCONDITIONS_H
#define RTCHECK_CORE_PARAMCONDITIONS_H

#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/BitVector.h"
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rtcheck {

/// Parameter Param == Value (Eq) or != Value: what a site needs to be reached.
struct ParamNeed {
  unsigned Param = 0;
  bool Eq = true;
  int64_t Value = 0;
  /// What the function tests is Param & Mask ("notify &= ~TWA_FLAGS;" first).
  uint64_t Mask = ~uint64_t(0);
  bool operator==(const ParamNeed &O) const {
    return Param == O.Param && Eq == O.Eq && Value == O.Value && Mask == O.Mask;
  }
  std::string str() const; ///< "p3!=0", "p0==0", "p2&0xffffffffffff00ff==4"
  static std::optional<ParamNeed> parse(llvm::StringRef S);
};
using ParamNeeds = std::vector<ParamNeed>;

/// What a caller passes for one argument, as far as the needs care.
struct ArgValue {
  enum Kind { Unknown, Const, NonZero, Param, NotParam } K = Unknown;
  int64_t Value = 0; ///< Const
  unsigned Index = 0; ///< Param, NotParam: the caller's parameter
  std::string str() const; ///< "?", "0", "nz", "p2", "!p2"
};

/// A site is not reached at all (the call's arguments contradict a need).
enum class NeedsResult { Reached, Ruled };

/// The needs of a callee's site in the caller's terms, through the call's
/// arguments; Ruled when an argument contradicts one.
NeedsResult mapNeeds(llvm::ArrayRef<ParamNeed> Callee, llvm::ArrayRef<ArgValue> Args,
                     ParamNeeds &Out);

/// What a function does to its parameters: Changed (assigned, incremented,
/// address taken), except one whose one change is "p &= C" among the
/// straight-line statements the body starts with (task_work_add()'s "notify
/// &= ~TWA_FLAGS;"): the function tests p & C, its Mask. Built once per
/// function (FunctionCfg::Params).
struct ParamChanges {
  llvm::BitVector Changed;
  std::vector<uint64_t> Masks; ///< ~0 for a parameter not masked
  /// The parameter's value is what the caller passed, unchanged.
  bool asGiven(unsigned I) const {
    return I < Changed.size() && !Changed.test(I) && Masks[I] == ~uint64_t(0);
  }
};
ParamChanges paramChanges(const clang::FunctionDecl &FD, clang::ASTContext &Ctx);

/// The arguments of Call in Caller's terms (Params: Caller's).
std::vector<ArgValue> argValues(const clang::CallExpr &Call, const clang::FunctionDecl &Caller,
                                const ParamChanges &Params, clang::ASTContext &Ctx);

/// Per CFG block of FD (by id), what must hold of FD's parameters for an RT
/// kernel to reach it: literals on parameters the function never changes,
/// tested against constants on the way (if, ?:, &&, ||, switch).
std::vector<ParamNeeds> blockNeeds(const clang::FunctionDecl &FD, const clang::CFG &G,
                                   const llvm::BitVector &Reached, const ParamChanges &Params,
                                   clang::ASTContext &Ctx);

/// Adds a need unless it is there; at most MaxNeeds are kept (dropping one
/// only makes a site reachable from more callers).
void addNeed(ParamNeeds &Needs, const ParamNeed &N);
constexpr size_t MaxNeeds = 4;

} // namespace rtcheck
#endif
