#include "core/PerCpuWrites.h"
#include "core/KernelApi.h"
#include "core/SpelledCall.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

using namespace clang;

namespace rtcheck {
namespace {

// Macros giving a pointer to (or the lvalue of) this CPU's instance.
bool isThisCpuPointer(StringRef Name) {
  return Name == "this_cpu_ptr" || Name == "raw_cpu_ptr" || Name == "get_cpu_ptr" ||
         Name == "get_cpu_var" || Name == "__get_cpu_var";
}

// The per-CPU operation a statement was written as: the outermost name the
// API table knows, unless a this_cpu_*() single-instruction op encloses it.
std::string perCpuRmw(const Stmt *S, const SourceManager &SM, const LangOptions &LO,
                      SourceLocation &Site) {
  if (!S->getBeginLoc().isMacroID())
    return "";
  for (StringRef N : spelledMacros(S->getBeginLoc(), SM, LO, Site)) {
    if (N.startswith("this_cpu_"))
      return "";
    if (const ApiEntry *A = lookupApi(N))
      return A->Effect == ApiEffect::PERCPU_RMW || A->Effect == ApiEffect::PERCPU_COUNT ? N.str()
                                                                                       : "";
  }
  return "";
}

// Is E this CPU's instance, spelled this_cpu_ptr(&v), get_cpu_ptr(&v),
// get_cpu_var(v) ...? The internals of __this_cpu_*() and this_cpu_*() do
// not count: the first are found as operations, the second are atomic.
bool thisCpuInstance(const Expr *E, const SourceManager &SM, const LangOptions &LO) {
  SourceLocation Site;
  for (StringRef N : spelledMacros(E->getBeginLoc(), SM, LO, Site)) {
    if (isThisCpuPointer(N))
      return true;
    if (N.startswith("this_cpu_") || lookupApi(N))
      return false;
  }
  return false;
}

// The whole of E is one macro invocation: "this_cpu_ptr(&v)", not
// "this_cpu_ptr(&v)->next".
bool wholeMacro(const Expr *E, const SourceManager &SM) {
  SourceLocation B = E->getBeginLoc(), End = E->getEndLoc();
  return B.isMacroID() && End.isMacroID() &&
         SM.getExpansionRange(B).getEnd() == SM.getExpansionRange(End).getEnd();
}

bool thisCpuPointer(const Expr *E, const SourceManager &SM, const LangOptions &LO) {
  E = E->IgnoreParenImpCasts();
  if (!E->getType()->isPointerType())
    return false;
  // &get_cpu_var(v): the lvalue's address.
  if (const auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_AddrOf)
    E = U->getSubExpr();
  return wholeMacro(E, SM) && thisCpuInstance(E, SM, LO);
}

class PerCpuWriteFinder : public RecursiveASTVisitor<PerCpuWriteFinder> {
public:
  PerCpuWriteFinder(const SourceManager &SM, const LangOptions &LO) : SM(SM), LO(LO) {}
  std::vector<PerCpuWrite> Writes;

  bool VisitStmt(Stmt *S) {
    SourceLocation Site;
    std::string Op = perCpuRmw(S, SM, LO, Site);
    if (!Op.empty() && Seen.insert(Site.getRawEncoding()).second)
      Writes.push_back({Site, Op + "()", false});
    return true;
  }
  bool VisitVarDecl(VarDecl *VD) {
    if (const Expr *Init = VD->getInit())
      if (thisCpuPointer(Init, SM, LO))
        Pointers[VD] = text(Init);
    return true;
  }
  bool VisitBinaryOperator(BinaryOperator *B) {
    if (!B->isAssignmentOp())
      return true;
    const auto *R = dyn_cast<DeclRefExpr>(B->getLHS()->IgnoreParenImpCasts());
    if (R && thisCpuPointer(B->getRHS(), SM, LO)) {
      if (const auto *VD = dyn_cast<VarDecl>(R->getDecl()))
        Pointers[VD] = text(B->getRHS());
      return true;
    }
    store(B->getLHS(), B->getOperatorLoc());
    return true;
  }
  bool VisitUnaryOperator(UnaryOperator *U) {
    if (U->isIncrementDecrementOp())
      store(U->getSubExpr(), U->getOperatorLoc());
    return true;
  }

private:
  const SourceManager &SM;
  const LangOptions &LO;
  llvm::DenseSet<unsigned> Seen;
  llvm::DenseMap<const VarDecl *, std::string> Pointers; ///< and how they were taken

  std::string text(const Expr *E) const {
    return Lexer::getSourceText(SM.getExpansionRange(E->getSourceRange()), SM, LO).str();
  }

  // A store to an lvalue through this CPU's instance: p->f, p[i], *p of a
  // per-CPU pointer p, or this_cpu_ptr(&v)->f written in place. Pointers are
  // known from their initialisation or assignment before (source order, as
  // the visitor goes).
  void store(const Expr *LHS, SourceLocation Op) {
    // Stores inside the per-CPU accessors themselves (arch_raw_cpu_ptr()'s
    // "tcp_ptr__ += ...") or other known APIs are not the caller's.
    SourceLocation Spelled;
    for (StringRef N : spelledMacros(Op, SM, LO, Spelled))
      if (isThisCpuPointer(N) || lookupApi(N) || N.contains("cpu_"))
        return;
    bool Deref = false;
    std::string Origin;
    for (const Expr *E = LHS->IgnoreParenImpCasts();; E = E->IgnoreParenImpCasts()) {
      if (thisCpuInstance(E, SM, LO)) {
        Deref = true;
        break;
      }
      if (const auto *M = dyn_cast<MemberExpr>(E)) {
        Deref |= M->isArrow();
        E = M->getBase();
      } else if (const auto *A = dyn_cast<ArraySubscriptExpr>(E)) {
        Deref = true;
        E = A->getBase();
      } else if (const auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_Deref) {
        Deref = true;
        E = U->getSubExpr();
      } else if (const auto *R = dyn_cast<DeclRefExpr>(E)) {
        const auto *VD = dyn_cast<VarDecl>(R->getDecl());
        auto It = VD ? Pointers.find(VD) : Pointers.end();
        if (!Deref || It == Pointers.end())
          return;
        Origin = " (" + VD->getName().str() + " = " + It->second + ")";
        break;
      } else {
        return;
      }
      if (!E)
        return;
    }
    SourceLocation Site = SM.getExpansionLoc(Op);
    if (!Seen.insert(Site.getRawEncoding()).second)
      return;
    std::string Text = text(LHS);
    Writes.push_back({Site, "a store to " + (Text.empty() ? "per-CPU data" : Text) + Origin, true});
  }
};

} // namespace

std::vector<PerCpuWrite> perCpuWrites(const FunctionDecl *FD, const SourceManager &SM,
                                      const LangOptions &LO) {
  PerCpuWriteFinder Finder(SM, LO);
  Finder.TraverseStmt(FD->getBody());
  return std::move(Finder.Writes);
}

} // namespace rtcheck
