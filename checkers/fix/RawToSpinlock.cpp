//===- RawToSpinlock.cpp - the BPF LPM trie conversion (Linux 5.7) --------===//
// tglx 2020 (66150d0dde03): a raw lock that no truly atomic user needs
// becomes a spinlock_t, so the allocations under it are fine on RT. Only a
// suggestion: the file cannot see callers elsewhere (tracing BPF programs
// took the LPM trie's lock in NMI context, and upstream went back to a raw
// lock with bpf_mem_alloc in 2024).
#include "fix/RawToSpinlock.h"
#include "core/KernelApi.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

using namespace clang;

namespace rtcheck {
namespace {

bool isRawSpinlockType(QualType T) {
  T = T.getUnqualifiedType();
  if (const auto *TT = T->getAs<TypedefType>())
    if (TT->getDecl()->getName() == "raw_spinlock_t")
      return true;
  const auto *RT = T->getAs<RecordType>();
  return RT && RT->getDecl()->getName() == "raw_spinlock";
}

// The raw lock declaration a call operates on: the first raw_spinlock_t
// member or variable its arguments name.
const ValueDecl *lockOf(const CallExpr &C) {
  struct Finder : RecursiveASTVisitor<Finder> {
    const ValueDecl *Found = nullptr;
    bool VisitMemberExpr(MemberExpr *M) {
      if (!Found && isRawSpinlockType(M->getMemberDecl()->getType()))
        Found = M->getMemberDecl();
      return !Found;
    }
    bool VisitDeclRefExpr(DeclRefExpr *R) {
      if (!Found && isa<VarDecl>(R->getDecl()) && isRawSpinlockType(R->getDecl()->getType()))
        Found = R->getDecl();
      return !Found;
    }
  } F;
  for (const Expr *A : C.arguments())
    F.TraverseStmt(const_cast<Expr *>(A));
  return F.Found;
}

// References to D inside S, but for lockdep's assertions, which work on
// either lock type.
unsigned countRefs(const TuFacts &TU, const Stmt *S, const ValueDecl *D) {
  struct Counter : RecursiveASTVisitor<Counter> {
    const TuFacts &TU;
    const ValueDecl *D;
    unsigned N = 0;
    Counter(const TuFacts &TU, const ValueDecl *D) : TU(TU), D(D) {}
    void count(SourceLocation L) {
      for (StringRef M : enclosingMacroArgs(L, TU.SM, TU.Ctx.getLangOpts()))
        if (M.startswith("lockdep_is_held") || M.startswith("lockdep_assert"))
          return;
      ++N;
    }
    bool VisitMemberExpr(MemberExpr *M) {
      if (M->getMemberDecl() == D)
        count(M->getBeginLoc());
      return true;
    }
    bool VisitDeclRefExpr(DeclRefExpr *R) {
      if (R->getDecl() == D)
        count(R->getBeginLoc());
      return true;
    }
  } C(TU, D);
  C.TraverseStmt(const_cast<Stmt *>(S));
  return C.N;
}

// A file-scope initializer sets the field (__RAW_SPIN_LOCK_UNLOCKED()).
bool initializedStatically(const TuFacts &TU, const FieldDecl *Field) {
  struct Finder : RecursiveASTVisitor<Finder> {
    const FieldDecl *Field;
    bool Found = false;
    bool VisitInitListExpr(InitListExpr *IL) {
      const InitListExpr *Sem = IL->isSemanticForm() ? IL : IL->getSemanticForm();
      const auto *RT = Sem ? Sem->getType()->getAs<RecordType>() : nullptr;
      if (RT && RT->getDecl() == Field->getParent() && Field->getFieldIndex() < Sem->getNumInits())
        Found |= !isa<ImplicitValueInitExpr>(Sem->getInit(Field->getFieldIndex()));
      return !Found;
    }
  } F;
  F.Field = Field;
  for (Decl *D : TU.Ctx.getTranslationUnitDecl()->decls())
    if (isa<VarDecl>(D) && TU.SM.isInMainFile(TU.SM.getExpansionLoc(D->getLocation())))
      F.TraverseDecl(D);
  return F.Found;
}

std::string at(const TuFacts &TU, SourceLocation L) {
  PresumedLoc P = TU.SM.getPresumedLoc(TU.SM.getFileLoc(L));
  return P.isValid() ? llvm::sys::path::filename(P.getFilename()).str() + ":" +
                           std::to_string(P.getLine())
                     : std::string("?");
}

} // namespace

bool buildRawToSpinlock(const TuFacts &TU, const CallExpr &Acquire, FixBuilder &Edits,
                        std::string &Why) {
  const SourceManager &SM = TU.SM;
  const LangOptions &LO = TU.Ctx.getLangOpts();
  const ValueDecl *Lock = lockOf(Acquire);
  if (!Lock)
    return Why = "the raw lock is not a named variable or member", false;
  // Private to the file: a member of a struct defined here, or a static.
  const Decl *Owner = isa<FieldDecl>(Lock) ? cast<Decl>(cast<FieldDecl>(Lock)->getParent())
                                           : cast<Decl>(Lock);
  if (!SM.isInMainFile(SM.getExpansionLoc(Owner->getLocation())) ||
      (isa<VarDecl>(Lock) && Lock->isExternallyVisible()))
    return Why = Lock->getNameAsString() + " is visible to other files", false;

  if (const auto *Field = dyn_cast<FieldDecl>(Lock); Field && initializedStatically(TU, Field))
    return Why = Lock->getNameAsString() + " has a static initializer", false;
  unsigned Converted = 0, Total = 0;
  llvm::DenseSet<unsigned> Renamed;
  std::vector<std::string> Acquisitions;
  for (const FunctionFacts &F : TU.Functions) {
    if (!F.InMainFile)
      continue;
    Total += countRefs(TU, F.Decl->getBody(), Lock);
    for (size_t I = 0; I < F.calls().size(); ++I) {
      const SpelledCall &C = F.calls()[I];
      if (!C.Representative || lockOf(*C.Call) != Lock)
        continue;
      StringRef Name = C.Names.empty() ? "" : C.Names.front();
      const ApiEntry *A = lookupApi(C.ApiName);
      bool IsOp = A && (A->Effect == ApiEffect::RAW_LOCK || A->Effect == ApiEffect::RAW_UNLOCK ||
                        A->Effect == ApiEffect::RAW_TRYLOCK);
      if (IsOp && (A->Effect == ApiEffect::RAW_LOCK || A->Effect == ApiEffect::RAW_TRYLOCK)) {
        // Every acquisition must be in a context that is not truly atomic.
        const ContextState &S = F.StateBefore[I];
        for (const HeldContext &H : S.Held)
          if (isTrulyAtomic(H.Kind) && H.Call != C.Call)
            return Why = "it is taken in truly atomic context at " + at(TU, C.Site) + " (" +
                         describe(H) + ")",
                   false;
        if (!F.EntryContexts.empty())
          return Why = "it is taken in " + F.Name + "(), which runs atomic", false;
        Acquisitions.push_back(F.Name + "()");
      }
      StringRef NewName;
      if (IsOp && C.ApiName == Name && Name.consume_front("raw_spin_"))
        NewName = Name; // raw_spin_lock_irqsave -> spin_lock_irqsave
      else if (Name == "raw_spin_lock_init")
        NewName = "lock_init";
      else if (IsOp)
        return Why = "it is used through " + C.outermostName().str() + "() at " +
                     at(TU, C.Site),
               false;
      else
        continue;
      Converted += countRefs(TU, C.Call, Lock);
      if (!Renamed.insert(C.Site.getRawEncoding()).second)
        continue; // another call of the same macro expansion
      if (!Edits.replace(SourceRange(C.Site, C.Site), ("spin_" + NewName).str()))
        return Why = Edits.Reason, false;
    }
  }
  if (Converted != Total)
    return Why = Lock->getNameAsString() + " is used other than by raw_spin_* calls", false;
  // Callers in this file that call the acquiring functions in atomic context.
  for (const FunctionFacts &G : TU.Functions)
    for (size_t I = 0; G.InMainFile && I < G.calls().size(); ++I)
      for (const FunctionFacts *Callee : TU.callees(G.calls()[I]))
        if (G.StateBefore[I].trulyAtomic() &&
            llvm::is_contained(Acquisitions, Callee->Name + "()"))
          return Why = Callee->Name + "() is called in truly atomic context at " +
                       at(TU, G.calls()[I].Site),
                 false;
  // The declaration: "raw_spinlock_t lock;" or DEFINE_RAW_SPINLOCK(lock).
  const auto *DD = cast<DeclaratorDecl>(Lock);
  SourceLocation TypeLoc = DD->getTypeSourceInfo()->getTypeLoc().getBeginLoc();
  if (TypeLoc.isMacroID()) {
    SourceLocation Macro = SM.getExpansionLoc(TypeLoc);
    StringRef Name = Lexer::getImmediateMacroName(TypeLoc, SM, LO);
    if (Name != "DEFINE_RAW_SPINLOCK" || !Edits.replace(SourceRange(Macro, Macro), "DEFINE_SPINLOCK"))
      return Why = "its declaration is written through a macro", false;
  } else if (!Edits.replace(SourceRange(TypeLoc, TypeLoc), "spinlock_t")) {
    return Why = Edits.Reason, false;
  }
  Why = "every acquisition of " + Lock->getNameAsString() + " in this file (" +
        llvm::join(Acquisitions, ", ") + ") is in a context that is not truly atomic";
  return true;
}

} // namespace rtcheck
