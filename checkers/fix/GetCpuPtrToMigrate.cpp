//===- GetCpuPtrToMigrate.cpp - locktypes.rst's get_cpu_ptr() conversion --===//
// get_cpu_ptr() disables preemption, so a spinlock_t (an rt_mutex on RT) may
// not be taken under it. migrate_disable() keeps the task on this CPU, so
// this_cpu_ptr() stays this CPU's instance, and leaves it preemptible: then
// the spinlock_t must be all that serialises the per-CPU data. On !RT
// migrate_disable() is preempt_disable(): nothing changes there.
#include "fix/GetCpuPtrToMigrate.h"
#include "core/ContextEngine.h"
#include "core/KernelApi.h"
#include "core/PerCpuWrites.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <functional>

using namespace clang;

namespace rtcheck {
namespace {

// A spinlock_t acquisition as the API table spells it (guard(spinlock*)
// through its class constructor).
bool acquiresSpinlock(StringRef Api) {
  return Api.startswith("spin_lock") || Api.startswith("spin_trylock") ||
         Api.startswith("class_spinlock");
}

// A spinlock_t held (not an rwlock_t or a local_lock_t).
bool isSpinlock(const HeldContext &H) {
  if (H.Kind != ContextKind::RtLock || H.LocalLock)
    return false;
  StringRef Api = H.Api;
  return Api.startswith("spin_lock") || Api.startswith("guard(spinlock") ||
         (Api == "scoped_guard" && StringRef(H.Key).startswith("spinlock"));
}

std::string squeezed(StringRef S) {
  std::string Out;
  for (char C : S)
    if (!isspace((unsigned char)C))
      Out += C;
  return Out;
}

std::string line(const SourceManager &SM, SourceLocation L) {
  return "line " + std::to_string(SM.getSpellingLineNumber(SM.getFileLoc(L)));
}

int heldIndex(const ContextState &S, const HeldContext &Section) {
  for (size_t I = 0; I < S.Held.size(); ++I)
    if (S.Held[I].sameEntry(Section))
      return I;
  return -1;
}

// A spinlock_t taken inside the section (entered after it) and held on
// every path here.
const HeldContext *sectionLock(const ContextState &S, int SectionIndex) {
  for (size_t I = SectionIndex + 1; I < S.Held.size(); ++I)
    if (S.Held[I].Must && isSpinlock(S.Held[I]))
      return &S.Held[I];
  return nullptr;
}

// Source extent of a context entered in F: from its entry to the last call
// made while it is held (statements are not in the dataflow, calls are).
struct Extent {
  SourceLocation Begin, End;
  bool contains(const SourceManager &SM, SourceLocation L) const {
    return Begin.isValid() && End.isValid() && SM.isWrittenInSameFile(Begin, L) &&
           !SM.isBeforeInTranslationUnit(L, Begin) && !SM.isBeforeInTranslationUnit(End, L);
  }
};
// The end of the scope of a guard()/scoped_guard() variable: its block, or
// the for statement scoped_guard() is.
SourceLocation scopeEnd(const FunctionFacts &F, const VarDecl *Guard, const SourceManager &SM) {
  struct Finder : RecursiveASTVisitor<Finder> {
    const VarDecl *Guard;
    const Stmt *Scope = nullptr;
    bool declares(const Stmt *S) const {
      const auto *DS = dyn_cast_or_null<DeclStmt>(S);
      return DS && llvm::is_contained(DS->decls(), Guard);
    }
    bool VisitCompoundStmt(CompoundStmt *B) {
      if (llvm::any_of(B->body(), [&](const Stmt *S) { return declares(S); }))
        Scope = B;
      return !Scope;
    }
    bool VisitForStmt(ForStmt *For) {
      if (declares(For->getInit()))
        Scope = For;
      return !Scope;
    }
  } Fn;
  Fn.Guard = Guard;
  Fn.TraverseStmt(F.Decl->getBody());
  return Fn.Scope ? SM.getExpansionRange(Fn.Scope->getEndLoc()).getEnd() : SourceLocation();
}

void extendTo(const SourceManager &SM, Extent &E, SourceLocation L) {
  if (L.isValid() && (E.End.isInvalid() || SM.isBeforeInTranslationUnit(E.End, L)))
    E.End = L;
}

Extent extentOf(const TuFacts &TU, const FunctionFacts &F, const HeldContext &H) {
  Extent E{TU.SM.getFileLoc(H.Begin), {}};
  for (size_t I = 0; I < F.calls().size(); ++I)
    if (heldIndex(F.StateBefore[I], H) >= 0)
      extendTo(TU.SM, E, TU.SM.getFileLoc(F.calls()[I].Site));
  return E;
}

// Extent of the lock the acquisition C takes: to the last call made while it
// is held, and for a guard() to the end of the variable's scope (a guard
// around statements only has no call holding it).
Extent lockExtent(const TuFacts &TU, const FunctionFacts &F, const SpelledCall &C) {
  Extent E{TU.SM.getFileLoc(C.Site), TU.SM.getFileLoc(C.Site)};
  for (size_t I = 0; I < F.calls().size(); ++I)
    for (const HeldContext &H : F.StateBefore[I].Held)
      if (H.Kind == ContextKind::RtLock && H.Call == C.Call)
        extendTo(TU.SM, E, TU.SM.getFileLoc(F.calls()[I].Site));
  if (const VarDecl *Guard = F.Cfg.GuardVars.lookup(C.Call))
    extendTo(TU.SM, E, scopeEnd(F, Guard, TU.SM));
  return E;
}

// A per-CPU update in a function of the file called in the section, or in
// what it calls (bounded like the engine's chains).
std::optional<std::string> perCpuUpdateBelow(const TuFacts &TU, const FunctionFacts &F,
                                             unsigned Depth,
                                             llvm::SmallPtrSetImpl<const FunctionFacts *> &Seen) {
  if (!F.InMainFile || Depth > 3 || !Seen.insert(&F).second)
    return std::nullopt;
  std::vector<PerCpuWrite> Writes = perCpuWrites(F.Decl, TU.SM, TU.Ctx.getLangOpts());
  if (!Writes.empty())
    return Writes.front().What + " in " + F.Name + "()";
  for (const SpelledCall &C : F.calls())
    for (const FunctionFacts *Callee : TU.callees(C))
      if (auto W = perCpuUpdateBelow(TU, *Callee, Depth + 1, Seen))
        return W;
  return std::nullopt;
}

// The statement the section begins with: "p = get_cpu_ptr(X);" or the
// declaration "T *p = get_cpu_ptr(X);" ("&get_cpu_var(v)" for get_cpu_var),
// directly in a block.
struct EntryStmt {
  const CompoundStmt *Block = nullptr;
  unsigned Index = 0;
  const VarDecl *Pointer = nullptr;
  const Expr *Value = nullptr; ///< get_cpu_ptr(X) or &get_cpu_var(v)
  bool Declaration = false;
};

EntryStmt findEntry(const FunctionFacts &F, const HeldContext &Section, bool CpuVar,
                    const SourceManager &SM) {
  auto IsEntry = [&](const Expr *E) {
    E = E->IgnoreParenImpCasts();
    if (CpuVar) {
      const auto *U = dyn_cast<UnaryOperator>(E);
      if (!U || U->getOpcode() != UO_AddrOf)
        return false;
      E = U->getSubExpr();
    }
    SourceLocation B = E->getBeginLoc(), End = E->getEndLoc();
    if (!B.isMacroID() || !End.isMacroID())
      return false;
    CharSourceRange R = SM.getExpansionRange(B);
    return R.getBegin() == Section.Begin && SM.getExpansionRange(End).getEnd() == R.getEnd();
  };
  struct Finder : RecursiveASTVisitor<Finder> {
    std::function<bool(const Expr *)> IsEntry;
    EntryStmt Found;
    bool VisitCompoundStmt(CompoundStmt *B) {
      unsigned I = 0;
      for (const Stmt *S : B->body()) {
        if (const auto *DS = dyn_cast<DeclStmt>(S); DS && DS->isSingleDecl()) {
          const auto *VD = dyn_cast<VarDecl>(DS->getSingleDecl());
          if (VD && VD->hasLocalStorage() && VD->getType()->isPointerType() && VD->getInit() &&
              IsEntry(VD->getInit()))
            Found = {B, I, VD, VD->getInit(), true};
        } else if (const auto *BO = dyn_cast<BinaryOperator>(S);
                   BO && BO->getOpcode() == BO_Assign && IsEntry(BO->getRHS())) {
          const auto *R = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts());
          const auto *VD = R ? dyn_cast<VarDecl>(R->getDecl()) : nullptr;
          if (VD && VD->hasLocalStorage())
            Found = {B, I, VD, BO->getRHS()->IgnoreParenImpCasts(), false};
        }
        ++I;
      }
      return !Found.Block;
    }
  } Fn;
  Fn.IsEntry = IsEntry;
  Fn.TraverseStmt(F.Decl->getBody());
  return Fn.Found;
}

// The whitespace that starts the line of Loc; First: Loc is its first token.
std::string indentOf(const SourceManager &SM, SourceLocation Loc, bool &First) {
  auto [FID, Offset] = SM.getDecomposedLoc(SM.getExpansionLoc(Loc));
  StringRef Buf = SM.getBufferData(FID);
  size_t Start = Buf.rfind('\n', Offset ? Offset - 1 : 0);
  Start = Start == StringRef::npos || Offset == 0 ? 0 : Start + 1;
  StringRef Before = Buf.slice(Start, Offset);
  StringRef Indent = Before.take_while([](char C) { return C == ' ' || C == '\t'; });
  First = Indent.size() == Before.size();
  return Indent.str();
}

} // namespace

bool buildGetCpuPtrToMigrate(const TuFacts &TU, const FunctionFacts &F, const HeldContext &Section,
                             FixBuilder &Edits, std::string &Why) {
  const SourceManager &SM = TU.SM;
  const LangOptions &LO = TU.Ctx.getLangOpts();
  bool CpuVar = Section.Api == "get_cpu_var";
  if (Section.FromEntry || !Section.Call || !Section.Origin.empty() ||
      (!CpuVar && Section.Api != "get_cpu_ptr"))
    return Why = "preemption is disabled by " + describe(Section) +
                 ", not by a get_cpu_ptr() of this function",
           false;
  std::string Get = Section.Api, Put = CpuVar ? "put_cpu_var" : "put_cpu_ptr";
  std::string Object = spelledArgument(SM, Section.Begin, 0);
  if (Object.empty())
    return Why = "the object of " + Get + "() is not written in this file", false;
  for (const HeldContext &H : F.Effect.Acquired)
    if (H.sameEntry(Section))
      return Why = F.Name + "() returns with the section open", false;

  // The section's calls: its exits, its spinlock_t, its sleeping operations.
  std::vector<const SpelledCall *> Exits;
  bool TakesSpinlock = false;
  for (size_t I = 0; I < F.calls().size(); ++I) {
    const ContextState &S = F.StateBefore[I];
    int Index = heldIndex(S, Section);
    if (Index < 0)
      continue;
    const SpelledCall &C = F.calls()[I];
    const ApiEntry *A = lookupApi(C.ApiName);
    if (C.Representative && A && A->Effect == ApiEffect::PREEMPT_ON) {
      const HeldContext *Innermost = nullptr;
      for (const HeldContext &H : S.Held)
        if (H.Kind == ContextKind::PreemptOff)
          Innermost = &H;
      if (!Innermost || !Innermost->sameEntry(Section))
        continue;
      if (C.ApiName != Put || C.outermostName() != Put)
        return Why =
                   "the section ends with " + C.outermostName().str() + "() at " + line(SM, C.Site),
               false;
      std::string Arg = spelledArgument(SM, C.Site, 0);
      if (squeezed(Arg) != squeezed(Object))
        return Why = Put + "(" + Arg + ") at " + line(SM, C.Site) + " ends a section begun with " +
                     Get + "(" + Object + ")",
               false;
      Exits.push_back(&C);
      continue;
    }
    for (const FunctionFacts *Callee : TU.callees(C))
      if (llvm::is_contained(Callee->Effect.Released, ContextKind::PreemptOff))
        return Why = "the section ends in " + Callee->Name + "() at " + line(SM, C.Site), false;
    const HeldContext *Atomic = S.trulyAtomic();
    if (!Atomic || !Atomic->sameEntry(Section))
      continue; // under a raw lock or irqs off inside: that context stays
    bool Locked = sectionLock(S, Index);
    if (auto Op = sleepOp(C)) {
      if (acquiresSpinlock(C.ApiName))
        TakesSpinlock = true;
      else if (!Locked)
        return Why = Op->Op + "() at " + line(SM, C.Site) +
                     " is not under a spinlock_t of the section: nothing but disabled "
                     "preemption serialises what it does there",
               false;
      continue;
    }
    for (const FunctionFacts *Callee : TU.callees(C))
      for (const SleepSite &Site : Callee->MaySleep)
        if (!Locked && !acquiresSpinlock(Site.Op))
          return Why = Callee->Name + "() at " + line(SM, C.Site) + " reaches " + Site.Op +
                       "() outside a spinlock_t of the section",
                 false;
  }
  if (Exits.empty())
    return Why = "the section's end is not in this function", false;
  if (!TakesSpinlock)
    return Why = "the section takes no spinlock_t (locktypes.rst's conversion is for "
                 "get_cpu_ptr() + spin_lock())",
           false;

  EntryStmt Entry = findEntry(F, Section, CpuVar, SM);
  if (!Entry.Block)
    return Why = Get + "() is not the value of a statement of its own (\"p = " + Get + "(" +
                 Object + ");\")",
           false;
  const VarDecl *P = Entry.Pointer;

  // Nothing in the section but its spinlock_t may rely on preemption.
  Extent Sec = extentOf(TU, F, Section);
  std::vector<Extent> LockExtents;
  for (size_t I = 0; I < F.calls().size(); ++I) {
    const SpelledCall &C = F.calls()[I];
    const ApiEntry *A = lookupApi(C.ApiName);
    if (heldIndex(F.StateBefore[I], Section) >= 0 && C.Representative && A &&
        (A->Effect == ApiEffect::RT_LOCK || A->Effect == ApiEffect::RT_LOCK_BH) &&
        acquiresSpinlock(C.ApiName))
      LockExtents.push_back(lockExtent(TU, F, C));
  }
  for (const PerCpuWrite &W : perCpuWrites(F.Decl, SM, LO)) {
    if (!Sec.contains(SM, W.Loc))
      continue;
    if (!W.Store)
      return Why = W.What + " at " + line(SM, W.Loc) +
                   " is a non-atomic per-CPU update: it relies on preemption being off "
                   "(migrate_disable() lets another task run on this CPU in between), "
                   "it needs a local_lock_t",
             false;
    if (llvm::none_of(LockExtents, [&](const Extent &E) { return E.contains(SM, W.Loc); }))
      return Why = W.What + " at " + line(SM, W.Loc) +
                   " is outside the spinlock_t: it relies on preemption being off",
             false;
  }
  for (size_t I = 0; I < F.calls().size(); ++I) {
    const ContextState &S = F.StateBefore[I];
    int Index = heldIndex(S, Section);
    const SpelledCall &C = F.calls()[I];
    if (Index < 0 || llvm::is_contained(Exits, &C))
      continue;
    if (!sectionLock(S, Index) && !acquiresSpinlock(C.ApiName))
      for (const Expr *Arg : C.Call->arguments())
        if (refersTo(Arg, P))
          return Why = P->getName().str() + " is handed to " + C.outermostName().str() + "() at " +
                       line(SM, C.Site) +
                       " outside the spinlock_t: what it does may rely on preemption being off",
                 false;
    for (const FunctionFacts *Callee : TU.callees(C)) {
      llvm::SmallPtrSet<const FunctionFacts *, 8> Seen;
      if (auto W = perCpuUpdateBelow(TU, *Callee, 1, Seen))
        return Why = "the section calls " + Callee->Name + "() at " + line(SM, C.Site) + ": " + *W +
                     " relies on preemption being off",
               false;
    }
  }

  // The edits: each exit becomes migrate_enable() ...
  for (const SpelledCall *C : Exits) {
    CharSourceRange R = SM.getExpansionRange(C->Call->getBeginLoc());
    if (R.getBegin() != C->Site)
      return Why = Put + "() at " + line(SM, C->Site) + " is written inside a macro", false;
    if (!Edits.replace(R.getAsRange(), "migrate_enable()"))
      return Why = Edits.Reason, false;
  }
  // ... and the entry migrate_disable() with this_cpu_ptr().
  std::string PtrArg = CpuVar ? "&" + Object : Object;
  SourceLocation ValueEnd = SM.getExpansionRange(Entry.Value->getEndLoc()).getEnd();
  const Stmt *Next = nullptr;
  if (Entry.Declaration) {
    // As locktypes.rst writes it: "struct foo *p;" stays with the
    // declarations, the assignment goes after them (kbuild warns on
    // declarations after statements). What they initialise then runs
    // before the section: only what has no effect and does not use p.
    for (unsigned I = Entry.Index + 1; !Next && I < Entry.Block->size(); ++I) {
      const Stmt *S = Entry.Block->body_begin()[I];
      const auto *DS = dyn_cast<DeclStmt>(S);
      if (!DS) {
        Next = S;
        break;
      }
      for (const Decl *D : DS->decls())
        if (const auto *VD = dyn_cast<VarDecl>(D); VD && VD->getInit())
          if (refersTo(VD->getInit(), P) || VD->getInit()->HasSideEffects(TU.Ctx, true))
            return Why = "the declaration of " + VD->getName().str() + " after " +
                         P->getName().str() + " would run before the section",
                   false;
    }
    if (!Next)
      return Why = "no statement follows the declarations", false;
    // "T *p = get_cpu_ptr(X)" -> "T *p": from the token before '=' on.
    SourceLocation Before = P->getLocation();
    std::string BeforeText = P->getName().str();
    if (Before.isMacroID())
      return Why = "the declaration of " + P->getName().str() + " is written through a macro",
             false;
    for (unsigned Guard = 0;; ++Guard) {
      std::optional<Token> T = Lexer::findNextToken(Before, SM, LO);
      if (!T || Guard > 16)
        return Why = "cannot find the initializer of " + P->getName().str(), false;
      if (T->is(tok::equal))
        break;
      Before = T->getLocation();
      BeforeText = Lexer::getSpelling(*T, SM, LO);
    }
    bool First = false;
    std::string Indent = indentOf(SM, Next->getBeginLoc(), First);
    std::string Sep = First ? "\n" + Indent : " ";
    if (!Edits.replace(SourceRange(Before, ValueEnd), BeforeText) ||
        !Edits.insertBefore(Next->getBeginLoc(), "migrate_disable();" + Sep + P->getName().str() +
                                                     " = this_cpu_ptr(" + PtrArg + ");" + Sep))
      return Why = Edits.Reason, false;
    return true;
  }
  const Stmt *Assign = Entry.Block->body_begin()[Entry.Index];
  bool First = false;
  std::string Indent = indentOf(SM, Assign->getBeginLoc(), First);
  if (!Edits.insertBefore(Assign->getBeginLoc(),
                          "migrate_disable();" + (First ? "\n" + Indent : " ")))
    return Why = Edits.Reason, false;
  bool Ok = CpuVar ? Edits.replace(SourceRange(SM.getFileLoc(Entry.Value->getBeginLoc()), ValueEnd),
                                   "this_cpu_ptr(" + PtrArg + ")")
                   : Edits.replace(SourceRange(Section.Begin, Section.Begin), "this_cpu_ptr");
  if (!Ok)
    return Why = Edits.Reason, false;
  return true;
}

} // namespace rtcheck
