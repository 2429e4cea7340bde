#include "fix/NestedBhLock.h"
#include "core/KernelApi.h"
#include "clang/AST/ParentMap.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <map>

using namespace clang;

namespace rtcheck {
namespace {

// A run of statements of one block that uses the per-CPU data.
struct Region {
  const CompoundStmt *Block;
  unsigned Begin, End; ///< child indexes, inclusive
  bool Exits;          ///< a return/goto/break leaves the block from inside
};

// Return, goto, and break/continue that are not inside a loop or switch
// of their own within S: they would leave the region with the lock held.
bool leavesBlock(const Stmt *S) {
  struct Finder : RecursiveASTVisitor<Finder> {
    bool Found = false;
    unsigned Nested = 0;
    bool TraverseStmt(Stmt *S) {
      if (!S || Found)
        return true;
      bool Loop = isa<ForStmt, WhileStmt, DoStmt, SwitchStmt>(S);
      Nested += Loop;
      RecursiveASTVisitor::TraverseStmt(S);
      Nested -= Loop;
      return true;
    }
    bool VisitStmt(Stmt *S) {
      if (isa<ReturnStmt, GotoStmt, IndirectGotoStmt>(S) ||
          (!Nested && isa<BreakStmt, ContinueStmt>(S)))
        Found = true;
      return true;
    }
    bool TraverseStmtExpr(StmtExpr *) { return true; } // macro internals
  } F;
  F.TraverseStmt(const_cast<Stmt *>(S));
  return F.Found;
}

// The child of Block that contains S, or null.
const Stmt *childOf(const ParentMap &PM, const Stmt *S, const CompoundStmt *&Block) {
  for (const Stmt *P = PM.getParent(S); P; S = P, P = PM.getParent(P))
    if (const auto *CS = dyn_cast<CompoundStmt>(P)) {
      Block = CS;
      return S;
    }
  return nullptr;
}

unsigned indexIn(const CompoundStmt *Block, const Stmt *Child) {
  unsigned I = 0;
  for (const Stmt *S : Block->body()) {
    if (S == Child)
      return I;
    ++I;
  }
  return I;
}

std::string indentOf(const SourceManager &SM, SourceLocation Loc) {
  auto [File, Offset] = SM.getDecomposedLoc(SM.getExpansionLoc(Loc));
  StringRef Buf = SM.getBufferData(File);
  size_t LineStart = Buf.rfind('\n', Offset ? Offset - 1 : 0);
  LineStart = LineStart == StringRef::npos ? 0 : LineStart + 1;
  return Buf.substr(LineStart, Offset - LineStart).take_while([](char C) {
    return C == ' ' || C == '\t';
  }).str();
}

// Where a statement's text ends: after its ';', or after its '}'.
SourceLocation afterStatement(const Stmt *S, const SourceManager &SM, const LangOptions &LO) {
  SourceLocation End = SM.getExpansionRange(S->getEndLoc()).getEnd();
  SourceLocation Semi = Lexer::findLocationAfterToken(End, tok::semi, SM, LO, false);
  SourceLocation After = Semi.isValid() ? Semi : Lexer::getLocForEndOfToken(End, 0, SM, LO);
  // A comment that ends the statement's line belongs to it.
  auto [File, Offset] = SM.getDecomposedLoc(After);
  StringRef Rest = SM.getBufferData(File).substr(Offset);
  StringRef Line = Rest.take_until([](char C) { return C == '\n'; });
  StringRef Trail = Line.ltrim(" \t");
  bool Comment = false;
  while (Trail.starts_with("/*") && Trail.find("*/") != StringRef::npos) {
    Trail = Trail.drop_front(Trail.find("*/") + 2).ltrim(" \t");
    Comment = true;
  }
  Comment = Trail.starts_with("//") || (Comment && Trail.empty());
  return Comment ? After.getLocWithOffset(Line.rtrim(" \t").size()) : After;
}

// The region of one BH-only access: from the access (or the first use of
// the pointer it gives) to the pointer's last use, in the access's block.
bool regionOf(const NestedBhSite &Site, Region &R, std::string &Why) {
  const Stmt *Body = Site.F->Decl->getBody();
  ParentMap PM(const_cast<Stmt *>(Body));
  const CompoundStmt *Block = nullptr;
  const Stmt *AccessChild = childOf(PM, Site.Access->Root, Block);
  if (!AccessChild)
    return Why = "the access is not a statement of a block", false;
  bool InDecl = false;
  if (const auto *DS = dyn_cast<DeclStmt>(AccessChild))
    InDecl = Site.Access->Local && llvm::is_contained(DS->decls(), Site.Access->Local);
  unsigned First = InDecl ? ~0u : indexIn(Block, AccessChild);
  unsigned Last = InDecl ? 0 : First;
  bool Used = !InDecl;
  if (const VarDecl *Local = Site.Access->Local) {
    for (const PerCpuUse &Use : Site.Access->Uses) {
      const CompoundStmt *UseBlock = nullptr;
      const Stmt *Child = childOf(PM, Use.Ref, UseBlock);
      // A use in a nested block counts as its enclosing statement of Block.
      while (Child && UseBlock != Block)
        Child = childOf(PM, UseBlock, UseBlock);
      if (!Child)
        return Why = Local->getName().str() + " is used outside the block it is taken in", false;
      unsigned I = indexIn(Block, Child);
      First = std::min(First, I);
      Last = std::max(Last, I);
      Used = true;
    }
  }
  if (!Used)
    return Why = "the pointer is never used", false;
  R = {Block, First, Last, false};
  for (unsigned I = First; I <= Last; ++I)
    R.Exits |= leavesBlock(Block->body_begin()[I]);
  return true;
}

// A BH section that ends inside [Begin, End) of F: the lock would outlive it.
bool bhEndsWithin(const TuFacts &TU, const FunctionFacts &F, SourceLocation Begin,
                  SourceLocation End) {
  for (const SpelledCall &C : F.calls()) {
    const ApiEntry *A = lookupApi(C.ApiName);
    if (!A || (A->Effect != ApiEffect::BH_ON && A->Effect != ApiEffect::RT_UNLOCK_BH))
      continue;
    SourceLocation L = TU.SM.getFileLoc(C.Site);
    if (!TU.SM.isBeforeInTranslationUnit(L, Begin) && TU.SM.isBeforeInTranslationUnit(L, End))
      return true;
  }
  return false;
}

// A call through a function pointer in S, or in a function of the TU that S
// calls (a few levels down): a callback run under the new lock could take it
// again or sleep in ways the file does not show (tasklet callbacks).
const CallExpr *indirectCallIn(const Stmt *S, unsigned Depth,
                               llvm::SmallPtrSetImpl<const FunctionDecl *> &Seen) {
  struct Finder : RecursiveASTVisitor<Finder> {
    unsigned Depth;
    llvm::SmallPtrSetImpl<const FunctionDecl *> &Seen;
    const CallExpr *Found = nullptr;
    Finder(unsigned D, llvm::SmallPtrSetImpl<const FunctionDecl *> &S) : Depth(D), Seen(S) {}
    bool VisitCallExpr(CallExpr *C) {
      const FunctionDecl *FD = C->getDirectCallee();
      if (!FD) {
        if (!C->getCallee()->getType()->isSpecificBuiltinType(BuiltinType::BuiltinFn))
          Found = C;
        return !Found;
      }
      const FunctionDecl *Def = FD->getDefinition();
      if (Def && Depth && Def->hasBody() && Seen.insert(Def).second)
        Found = indirectCallIn(Def->getBody(), Depth - 1, Seen);
      return !Found;
    }
  } F(Depth, Seen);
  F.TraverseStmt(const_cast<Stmt *>(S));
  return F.Found;
}

} // namespace

rtcheck_fix_kind buildNestedBhLock(const TuFacts &TU, llvm::ArrayRef<NestedBhSite> Sites,
                                   FixBuilder &Edits, std::string &Summary) {
  const SourceManager &SM = TU.SM;
  const LangOptions &LO = TU.Ctx.getLangOpts();
  const PerCpuAccess &A0 = *Sites.front().Access;
  auto None = [&](std::string Why) {
    Summary = "no automatic conversion: " + Why;
    return RTCHECK_FIX_NONE;
  };
  std::string Sketch = "give " + A0.Object + " a local_lock_t (in a struct with the data: "
                       "struct { local_lock_t bh_lock; ... }, INIT_LOCAL_LOCK(bh_lock)) and "
                       "take it with local_lock_nested_bh() around each use";
  for (const NestedBhSite &S : Sites)
    if (S.Access->Kind != PerCpuAccessKind::Pointer)
      return None("a per-CPU counter or pointer slot: keep it per task on PREEMPT_RT, or " +
                  Sketch);
  // "static DEFINE_PER_CPU(struct x, v);" is a tentative definition.
  const VarDecl *Var = A0.Var ? A0.Var->getDefinition() : nullptr;
  if (!Var && A0.Var)
    Var = const_cast<VarDecl *>(A0.Var)->getActingDefinition();
  if (!Var || !SM.isInMainFile(SM.getExpansionLoc(Var->getLocation())))
    return None(A0.Object + " is not a per-CPU variable defined in this file: " + Sketch);
  const auto *RT = Var->getType()->getAs<RecordType>();
  const RecordDecl *RD = RT ? RT->getDecl()->getDefinition() : nullptr;
  if (!RD || RD->getName().empty() || !SM.isInMainFile(SM.getExpansionLoc(RD->getLocation())))
    return None(A0.Object + " is not a struct defined in this file: " + Sketch);
  if (!TU.Ctx.Idents.get("local_lock_nested_bh").hasMacroDefinition())
    return None("this kernel has no local_lock_nested_bh() (Linux 6.11 and later): " + Sketch);
  for (const FieldDecl *Field : RD->fields())
    if (Field->getName() == "bh_lock")
      return None("struct " + RD->getName().str() + " already has a bh_lock: take it with "
                  "local_lock_nested_bh() around each use");

  // The lock: a member of the struct, initialised in DEFINE_PER_CPU().
  bool Ok = Edits.insertAfterToken(RD->getBraceRange().getBegin(), "\n\tlocal_lock_t bh_lock;");
  if (!Var->hasInit()) {
    SourceLocation DefEnd = SM.getExpansionRange(Var->getEndLoc()).getEnd();
    Ok = Ok && Edits.insertAfterToken(DefEnd, " = {\n\t.bh_lock = INIT_LOCAL_LOCK(bh_lock),\n}");
  } else {
    const auto *IL = dyn_cast<InitListExpr>(Var->getInit()->IgnoreImplicit());
    if (IL && !IL->isSyntacticForm())
      IL = IL->getSyntacticForm();
    if (!IL || IL->getNumInits() == 0 || !isa<DesignatedInitExpr>(IL->getInit(0)))
      return None("the initializer of " + A0.Object + " is not designated: " + Sketch);
    Ok = Ok && Edits.insertAfterToken(IL->getLBraceLoc(),
                                      "\n\t.bh_lock = INIT_LOCAL_LOCK(bh_lock),");
  }
  if (!Ok)
    return None(Edits.Reason);

  // The regions, merged per block.
  std::map<std::pair<const FunctionFacts *, const CompoundStmt *>, Region> Blocks;
  for (const NestedBhSite &S : Sites) {
    Region R;
    std::string Why;
    if (!regionOf(S, R, Why))
      return None(Why + " (in " + S.F->Name + "())");
    auto [It, New] = Blocks.insert({{S.F, R.Block}, R});
    if (!New) { // one lock section per block, over all its uses
      It->second.Begin = std::min(It->second.Begin, R.Begin);
      It->second.End = std::max(It->second.End, R.End);
      It->second.Exits |= R.Exits;
    }
  }
  std::string Lock = "&" + Var->getName().str() + ".bh_lock";
  bool NewGuard = false;
  std::string Callback; // a region that runs code the file does not show
  for (auto &[Key, R] : Blocks) {
    const FunctionFacts &F = *Key.first;
    const Stmt *First = R.Block->body_begin()[R.Begin];
    const Stmt *Last = R.Block->body_begin()[R.End];
    for (unsigned I = R.Begin; I <= R.End && Callback.empty(); ++I) {
      llvm::SmallPtrSet<const FunctionDecl *, 8> Seen;
      if (indirectCallIn(R.Block->body_begin()[I], 3, Seen))
        Callback = F.Name;
    }
    std::string Indent = indentOf(SM, First->getBeginLoc());
    SourceLocation Begin = SM.getExpansionLoc(First->getBeginLoc());
    if (R.Exits) { // scope-based: the lock ends with the block
      if (bhEndsWithin(TU, F, Begin, SM.getExpansionLoc(R.Block->getRBracLoc())))
        return None("BH is enabled again inside " + F.Name + "() before the block ends");
      NewGuard |= F.Cfg.GuardVars.empty();
      Ok = Edits.insertBefore(First->getBeginLoc(),
                              "guard(local_lock_nested_bh)(" + Lock + ");\n" + Indent);
    } else {
      SourceLocation End = afterStatement(Last, SM, LO);
      if (bhEndsWithin(TU, F, Begin, End))
        return None("BH is enabled again inside the use of " + A0.Object + " in " + F.Name +
                    "()");
      Ok = Edits.insertBefore(First->getBeginLoc(),
                              "local_lock_nested_bh(" + Lock + ");\n" + Indent) &&
           Edits.insertBefore(End, "\n" + Indent + "local_unlock_nested_bh(" + Lock + ");");
    }
    if (!Ok)
      return None(Edits.Reason);
  }
  bool Private = !Var->isExternallyVisible();
  Summary = "give struct " + RD->getName().str() + " a local_lock_t bh_lock (INIT_LOCAL_LOCK) "
            "and take it with local_lock_nested_bh() around each BH-only use of " + A0.Object +
            ", as upstream did for napi_alloc_cache: on !PREEMPT_RT local_lock_nested_bh() is "
            "only a lockdep annotation, no functional change";
  if (!Private)
    Summary += "; a suggestion: " + A0.Object + " is visible to other files, whose uses need "
               "the lock too";
  else if (NewGuard)
    Summary += "; a suggestion: a use ends in a return, so the lock is a guard() in a "
               "function that used none";
  else if (!Callback.empty())
    Summary += "; a suggestion: in " + Callback + "() the lock would be held across a call "
               "through a function pointer, which may take it again or sleep";
  return Private && !NewGuard && Callback.empty() ? RTCHECK_FIX_AUTO : RTCHECK_FIX_SUGGESTION;
}

} // namespace rtcheck
