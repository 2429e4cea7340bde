#include "fix/BpfLockedData.h"
#include "core/BpfTreeUses.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

using namespace clang;

namespace rtcheck {
namespace {

const char *const Member = "\n\tlocal_lock_t bh_lock;";
const char *const InitLock = "\n\t.bh_lock\t= INIT_LOCAL_LOCK(bh_lock),";

struct Code {
  const SourceManager &SM;
  const LangOptions &LO;
  const FindingSink &Out;

  // The path of FID relative to the kernel root (absolute outside it).
  std::string rel(FileID FID) const {
    llvm::SmallString<256> Abs;
    if (auto Entry = SM.getFileEntryRefForID(FID))
      Abs = Entry->getName();
    SM.getFileManager().makeAbsolutePath(Abs);
    return Out.relativePath(Abs);
  }
  // Inserts Text at Loc, in the checked file or in a header of the kernel tree.
  bool insert(SourceLocation Loc, StringRef Text, FixBuilder &Edits, OtherFileEdits &Others,
              std::string *File = nullptr) const {
    Loc = SM.getFileLoc(Loc);
    auto [FID, Offset] = SM.getDecomposedLoc(Loc);
    std::string Rel = rel(FID);
    if (File)
      *File = Rel;
    if (SM.isInMainFile(Loc))
      return Edits.replaceChars(CharSourceRange::getCharRange(Loc, Loc), Text);
    return !llvm::sys::path::is_absolute(Rel) &&
           Others.add(Rel, SM.getBufferData(FID), Offset, 0, Text);
  }
  SourceLocation afterToken(SourceLocation Loc) const {
    return Lexer::getLocForEndOfToken(SM.getExpansionRange(Loc).getEnd(), 0, SM, LO);
  }
};

// The TU functions called while the section is held, to MaxDepth calls.
llvm::SmallPtrSet<const FunctionFacts *, 8>
calledInSection(const TuFacts &TU, const FunctionFacts &F, const HeldContext &Section) {
  llvm::SmallPtrSet<const FunctionFacts *, 8> Seen;
  std::vector<const FunctionFacts *> Level;
  for (size_t I = 0; I < F.calls().size(); ++I)
    if (holdsAt(F, I, Section))
      for (const FunctionFacts *C : TU.callees(F.calls()[I]))
        if (C != &F && Seen.insert(C).second)
          Level.push_back(C);
  for (size_t Depth = 1; Depth < BpfRuns::MaxDepth && !Level.empty(); ++Depth) {
    std::vector<const FunctionFacts *> Next;
    for (const FunctionFacts *G : Level)
      for (const SpelledCall &Call : G->calls())
        for (const FunctionFacts *C : TU.callees(Call))
          if (C != &F && Seen.insert(C).second)
            Next.push_back(C);
    Level = std::move(Next);
  }
  return Seen;
}

// lockdep_assert_held() before the first statement of G, when its use A of
// the variable is among the declarations that open the body.
bool assertHeld(const Code &C, const FunctionFacts &G, const PerCpuAccess &A, FixBuilder &Edits) {
  const auto *Body = dyn_cast_or_null<CompoundStmt>(G.Decl->getBody());
  const Stmt *First = nullptr;
  for (const Stmt *S : Body ? Body->body() : llvm::ArrayRef<Stmt *>())
    if (!isa<DeclStmt>(S)) {
      First = S;
      break;
    }
  if (!First || !C.SM.isBeforeInTranslationUnit(A.Site, C.SM.getFileLoc(First->getBeginLoc())))
    return false;
  std::string Held = A.Local ? "&" + A.Local->getName().str() + "->bh_lock"
                             : "this_cpu_ptr(&" + A.Object + ".bh_lock)";
  return Edits.insertBefore(First->getBeginLoc(), "lockdep_assert_held(" + Held + ");\n" +
                                                      lineIndent(C.SM, First->getBeginLoc()));
}

// G's uses of the variable all run in a section of G's own (preemption or
// irqs off, a local_lock): G has its own finding, if any.
bool ownSection(const FunctionFacts &G, StringRef Object) {
  auto Guarded = [](const std::vector<ContextState> &States, size_t I) {
    return I < States.size() && llvm::any_of(States[I].Held, [](const HeldContext &H) {
             return H.Must && !H.FromEntry && (isTrulyAtomic(H.Kind) || H.LocalLock);
           });
  };
  for (size_t I = 0; I < G.accesses().size(); ++I) {
    const PerCpuAccess &A = G.accesses()[I];
    if (A.Object != Object)
      continue;
    if (A.Uses.empty() && !Guarded(G.AccessStateBefore, I))
      return false;
    for (size_t J = 0; J < A.Uses.size(); ++J)
      if (I >= G.UseStateBefore.size() || !Guarded(G.UseStateBefore[I], J))
        return false;
  }
  return true;
}

bool namesBhLock(const Code &C, const FunctionFacts &G) {
  CharSourceRange R = C.SM.getExpansionRange(G.Decl->getBody()->getSourceRange());
  return Lexer::getSourceText(R, C.SM, C.LO).contains("bh_lock");
}

// INIT_LOCAL_LOCK() in "DEFINE_PER_CPU(t, v)" (and "... = { .x = ...").
bool initInText(StringRef Rel, StringRef Text, size_t DefineEnd, OtherFileEdits &Others) {
  StringRef Rest = Text.drop_front(DefineEnd).ltrim();
  if (Rest.startswith(";"))
    return Others.add(Rel, Text, DefineEnd, 0, std::string(" = {") + InitLock + "\n}");
  if (!Rest.consume_front("=") || !Rest.ltrim().startswith("{"))
    return false;
  return Others.add(Rel, Text, Text.find('{', DefineEnd) + 1, 0, InitLock);
}

bool initInTu(const Code &C, const VarDecl *Def, FixBuilder &Edits, OtherFileEdits &Others,
              std::string &File) {
  if (!Def->hasInit())
    return C.insert(C.afterToken(Def->getEndLoc()), std::string(" = {") + InitLock + "\n}",
                    Edits, Others, &File);
  const auto *IL = dyn_cast<InitListExpr>(Def->getInit()->IgnoreImplicit());
  if (IL && !IL->isSyntacticForm())
    IL = IL->getSyntacticForm();
  return IL && IL->getNumInits() && isa<DesignatedInitExpr>(IL->getInit(0)) &&
         C.insert(C.afterToken(IL->getLBraceLoc()), InitLock, Edits, Others, &File);
}

} // namespace

std::string lineIndent(const SourceManager &SM, SourceLocation Loc) {
  auto [FID, Offset] = SM.getDecomposedLoc(SM.getFileLoc(Loc));
  StringRef Buf = SM.getBufferData(FID);
  size_t Start = Buf.rfind('\n', Offset ? Offset - 1 : 0);
  Start = Start == StringRef::npos ? 0 : Start + 1;
  return Buf.slice(Start, Offset).take_while([](char C) { return C == ' ' || C == '\t'; }).str();
}

bool buildLockedData(const TuFacts &TU, const FunctionFacts &F, const HeldContext &Section,
                     const PerCpuAccess &A, const FindingSink &Out, FixBuilder &Edits,
                     OtherFileEdits &Others, LockedData &Result, std::string &Why) {
  Code C{TU.SM, TU.Ctx.getLangOpts(), Out};
  const VarDecl *Var = A.Var;
  const RecordDecl *RD = Var->getType()->getAs<RecordType>()->getDecl()->getDefinition();
  bool HasLock = llvm::any_of(RD->fields(), [](const FieldDecl *FD) {
    return FD->getName() == "bh_lock";
  });
  std::string Struct = "struct " + RD->getName().str(), File;
  const VarDecl *Def = Var->getDefinition();
  if (!Def)
    Def = const_cast<VarDecl *>(Var)->getActingDefinition();
  if (!HasLock) {
    if (RD->getBraceRange().getBegin().isMacroID())
      return Why = Struct + " is defined by a macro", false;
    if (!C.insert(C.afterToken(RD->getBraceRange().getBegin()), Member, Edits, Others, &File))
      return Why = Struct + " is not in a file of the kernel tree", false;
    Result.Done.push_back("a local_lock_t bh_lock member in " + Struct + " (" + File + ")");
    if (Def && !initInTu(C, Def, Edits, Others, File))
      return Why = "the initializer of " + A.Object + " is not designated", false;
    if (Def)
      Result.Done.push_back("INIT_LOCAL_LOCK() in its DEFINE_PER_CPU() (" + File + ")");
  }

  // Its users in this TU: those that run inside the section assert the lock.
  auto Inside = calledInSection(TU, F, Section);
  std::vector<std::string> Asserted, Outside;
  for (const FunctionFacts &G : TU.Functions) {
    const PerCpuAccess *Use = nullptr;
    for (const PerCpuAccess &U : G.accesses())
      if (U.Object == A.Object && (!Use || (!Use->Local && U.Local)))
        Use = &U;
    if (&G == &F || !Use || !G.InMainFile || namesBhLock(C, G))
      continue;
    if (Inside.count(&G) && assertHeld(C, G, *Use, Edits))
      Asserted.push_back(G.Name + "()");
    else if (!ownSection(G, A.Object))
      Outside.push_back(G.Name + "()");
  }
  if (!Asserted.empty())
    Result.Done.push_back("lockdep_assert_held() in " + llvm::join(Asserted, ", ") +
                          ", called inside the section");

  // Its definition and users in other files, if they may have any.
  if (!HasLock && Var->isExternallyVisible()) {
    std::string Header;
    for (const VarDecl *D : Var->redecls())
      if (!TU.SM.isInMainFile(TU.SM.getExpansionLoc(D->getLocation())))
        Header = C.rel(TU.SM.getFileID(TU.SM.getExpansionLoc(D->getLocation())));
    std::string MainRel = C.rel(TU.SM.getMainFileID());
    std::vector<std::string> Dirs = searchDirs(Out.root(), Header, MainRel);
    TreeSearch Found = searchTree(Out.root(), Dirs, A.Object, MainRel);
    bool DefineFound = Def;
    for (const TreeFile &T : Found.Files) {
      if (T.DefineEnd != std::string::npos && !Def) {
        if (!initInText(T.Rel, T.Code, T.DefineEnd, Others))
          return Why = "the DEFINE_PER_CPU() of " + A.Object + " in " + T.Rel +
                       " has an initializer that is not designated", false;
        Result.Done.push_back("INIT_LOCAL_LOCK() in its DEFINE_PER_CPU() (" + T.Rel + ")");
        DefineFound = true;
      }
      std::vector<std::string> Helpers;
      for (const TreeUse &U : T.Uses) {
        if (!U.Local.empty() && U.FirstStatement != std::string::npos && !U.OwnSection &&
            Others.add(T.Rel, T.Code, U.FirstStatement, 0,
                       "\tlockdep_assert_held(&" + U.Local + "->bh_lock);\n"))
          Helpers.push_back(U.Function + "()");
        else
          Outside.push_back(U.Function + "() (" + T.Rel + ":" + std::to_string(U.Line) + ")");
      }
      if (!Helpers.empty())
        Result.Done.push_back("lockdep_assert_held() in " + T.Rel + ": " +
                              llvm::join(Helpers, ", ") + " (taken to be the BPF program's "
                              "helpers, which run inside the section)");
    }
    if (Dirs.empty())
      Result.Notes.push_back("no directory of the tree to search for other files that use " +
                             A.Object);
    else
      Result.Notes.push_back("other files: searched " + llvm::join(Dirs, "/, ") + "/ (" +
                             std::to_string(Found.Scanned) +
                             (Found.Scanned == 1 ? " .c file" : " .c files") +
                             (Found.Truncated ? ", stopped at the limit" : "") + ")");
    if (!DefineFound)
      Result.Notes.push_back("the DEFINE_PER_CPU() of " + A.Object + " was not found: give "
                             "it \"= { .bh_lock = INIT_LOCAL_LOCK(bh_lock), }\"");
  }
  if (!Outside.empty())
    Result.Notes.push_back("check the other uses of " + A.Object + ", which need the lock "
                           "too unless they run inside the section: " +
                           llvm::join(Outside, ", "));
  return true;
}

} // namespace rtcheck
