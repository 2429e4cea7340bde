//===- SpelledCall.h - the API name a call is spelled with ------*- C++ -*-===//
// Kernel APIs are macros on one config and inlines on another (kmalloc wraps
// alloc_hooks, up_read_non_owner is up_read without DEBUG_LOCK_ALLOC), so a
// call is recognised by what the programmer wrote: the macros it was expanded
// from, outermost first, then the callee.
#ifndef RTCHECK_CORE_SPELLEDCALL_H
#define RTCHECK_CORE_SPELLEDCALL_H

#include "clang/AST/Expr.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/SmallVector.h"

namespace rtcheck {

struct SpelledCall {
  const clang::CallExpr *Call = nullptr;
  /// File location of the spelled call: the outermost macro name, or the
  /// callee token when no macro is involved.
  clang::SourceLocation Site;
  /// Macro names from the outermost to the innermost, then the callee name.
  llvm::SmallVector<llvm::StringRef, 4> Names;
  /// The outermost name the kernel API table knows as an operation, or empty.
  llvm::StringRef ApiName;
  /// One macro expansion (kmalloc, local_irq_save) can hold several calls:
  /// its effect belongs to one of them, the first in expansion order.
  bool Representative = true;

  llvm::StringRef outermostName() const {
    return Names.empty() ? llvm::StringRef() : Names.front();
  }
};

SpelledCall spellCall(const clang::CallExpr *Call, const clang::SourceManager &SM,
                      const clang::LangOptions &LO);

/// The macros a token at Loc was expanded from, outermost first, and in Site
/// the file location where the outermost one is written (spellCall's walk,
/// for statements that are not calls: __this_cpu_inc() has none).
llvm::SmallVector<llvm::StringRef, 4> spelledMacros(clang::SourceLocation Loc,
                                                    const clang::SourceManager &SM,
                                                    const clang::LangOptions &LO,
                                                    clang::SourceLocation &Site);

/// The text of E as written in the file, or empty when it is not written
/// whole there (inside a macro's own body, like WARN_ON's internals).
llvm::StringRef spelledText(const clang::Expr *E, const clang::SourceManager &SM,
                            const clang::LangOptions &LO);

/// spelledMacros() memoises its steps for one TU's SourceManager; a new TU
/// (which may get the old one's address) starts with this.
void forgetMacroSteps();

/// Names of the macros whose arguments carry the token at Loc, innermost
/// first: "fn" in IRQ_WORK_INIT_HARD(fn), "&t->lock" in lockdep_is_held().
llvm::SmallVector<llvm::StringRef, 4> enclosingMacroArgs(clang::SourceLocation Loc,
                                                         const clang::SourceManager &SM,
                                                         const clang::LangOptions &LO);

} // namespace rtcheck
#endif
