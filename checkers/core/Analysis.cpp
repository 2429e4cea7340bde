#include "core/Analysis.h"
#include "clang/Lex/Lexer.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "llvm/Support/Path.h"
#include <algorithm>
#include <tuple>

using namespace clang;

namespace rtcheck {

#define RTCHECK_RULE(Class, Id, Severity, Title) std::unique_ptr<Rule> create##Class();
#include "rtcheck/rules.def"
#undef RTCHECK_RULE

llvm::ArrayRef<RuleInfo> allRules() {
  static const RuleInfo Rules[] = {
#define RTCHECK_RULE(Class, Id, Severity, Title) {Id, Severity, Title, create##Class},
#include "rtcheck/rules.def"
#undef RTCHECK_RULE
  };
  return Rules;
}

std::string functionName(const FunctionDecl *FD) {
  return FD ? FD->getNameAsString() : std::string();
}

// Whether FD's text may spell a per-CPU accessor (this_cpu_ptr, __this_cpu_inc,
// per_cpu ...: all have "_cpu"): looking for them in every header inline a
// file calls costs a tenth of skbuff.c's parse; a text scan is cheap.
static bool mayAccessPerCpu(const FunctionDecl *FD, const SourceManager &SM,
                            const LangOptions &LO) {
  SourceRange R = FD->getSourceRange();
  if (R.getBegin().isMacroID() || R.getEnd().isMacroID())
    return true; // defined by a macro: look properly
  bool Invalid = false;
  StringRef Text =
      Lexer::getSourceText(CharSourceRange::getTokenRange(R), SM, LO, &Invalid);
  return Invalid || Text.contains("_cpu");
}

TuFacts::TuFacts(ASTContext &Ctx, const RtDeadRegions &Dead)
    : Ctx(Ctx), SM(Ctx.getSourceManager()) {
  auto Add = [&](const FunctionDecl *FD, bool InMainFile) {
    Index[FD->getCanonicalDecl()] = Functions.size();
    // Header inlines too get their per-CPU accesses: dev_xmit_recursion_inc()
    // updates softnet_data for whichever caller runs it (rt-percpu-bh).
    bool Accesses = InMainFile || mayAccessPerCpu(FD, SM, Ctx.getLangOpts());
    FunctionFacts &F = Functions.emplace_back();
    F.Decl = FD;
    F.Name = functionName(FD);
    F.InMainFile = InMainFile;
    F.Cfg = buildRtCfg(FD, Ctx, Dead, Accesses);
  };
  // The file's own functions. BPF_CALL_x() and friends define functions
  // through macros: what counts is where the definition was expanded.
  for (const Decl *D : Ctx.getTranslationUnitDecl()->decls()) {
    const auto *FD = dyn_cast<FunctionDecl>(D);
    if (!FD || !FD->doesThisDeclarationHaveABody())
      continue;
    SourceLocation Where = SM.getExpansionLoc(FD->getLocation());
    if (SM.isInMainFile(Where) && !Dead.contains(Where, SM))
      Add(FD, true);
  }
  // Header inlines they call (task_rq_unlock(), spin_lock_irqsave() wrappers
  // of a subsystem): for what they do to the context and the per-CPU data
  // their callers reach, never reported in their own right.
  constexpr unsigned SupportDepth = 2;
  size_t Begin = 0;
  for (unsigned Depth = 0; Depth < SupportDepth; ++Depth) {
    size_t End = Functions.size();
    for (size_t I = Begin; I < End; ++I)
      for (const SpelledCall &C : Functions[I].calls()) {
        const FunctionDecl *Callee = C.Call->getDirectCallee();
        const FunctionDecl *Def = Callee ? Callee->getDefinition() : nullptr;
        if (Def && Def->hasBody() && C.ApiName.empty() && !Index.count(Def->getCanonicalDecl()))
          Add(Def, false);
      }
    Begin = End;
  }
  for (FunctionFacts &F : Functions)
    for (const SpelledCall &C : F.calls())
      if (const auto *R = dyn_cast<DeclRefExpr>(C.Call->getCallee()->IgnoreParenImpCasts()))
        if (const auto *P = dyn_cast<ParmVarDecl>(R->getDecl()))
          if (!llvm::is_contained(F.CalledParams, P->getFunctionScopeIndex()))
            F.CalledParams.push_back(P->getFunctionScopeIndex());
}

// "fn", "&fn" as an argument.
static const FunctionDecl *functionArgument(const Expr *E) {
  E = E->IgnoreParenCasts();
  if (const auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_AddrOf)
    E = U->getSubExpr()->IgnoreParenCasts();
  const auto *R = dyn_cast<DeclRefExpr>(E);
  return R ? dyn_cast<FunctionDecl>(R->getDecl()) : nullptr;
}

llvm::SmallVector<const FunctionFacts *, 2> TuFacts::callees(const SpelledCall &C) const {
  if (const FunctionFacts *F = callee(C)) {
    llvm::SmallVector<const FunctionFacts *, 2> Out{F};
    for (unsigned I : F->CalledParams)
      if (I < C.Call->getNumArgs())
        if (const FunctionFacts *Cb = factsFor(functionArgument(C.Call->getArg(I))))
          if (!llvm::is_contained(Out, Cb))
            Out.push_back(Cb);
    return Out;
  }
  const auto *M = dyn_cast<MemberExpr>(C.Call->getCallee()->IgnoreParenImpCasts());
  const auto *Field = M ? dyn_cast<FieldDecl>(M->getMemberDecl()) : nullptr;
  auto It = Field ? OpsTargets.find(Field->getCanonicalDecl()) : OpsTargets.end();
  if (It == OpsTargets.end() || It->second.size() > MaxOpsTargets)
    return {};
  return It->second;
}

bool FunctionEffect::operator==(const FunctionEffect &O) const {
  if (Released != O.Released || Acquired.size() != O.Acquired.size())
    return false;
  for (size_t I = 0; I < Acquired.size(); ++I)
    if (!Acquired[I].sameEntry(O.Acquired[I]))
      return false;
  return true;
}

const FunctionDecl *TuFacts::calledFunction(const CallExpr &Call) {
  if (const FunctionDecl *FD = Call.getDirectCallee())
    return FD;
  const auto *R = dyn_cast<DeclRefExpr>(Call.getCallee()->IgnoreParenCasts());
  return R ? dyn_cast<FunctionDecl>(R->getDecl()) : nullptr;
}

const FunctionFacts *TuFacts::factsFor(const FunctionDecl *FD) const {
  if (!FD)
    return nullptr;
  auto It = Index.find(FD->getCanonicalDecl());
  return It == Index.end() ? nullptr : &Functions[It->second];
}

std::string FindingSink::relativePath(StringRef Path) const {
  llvm::SmallString<256> Abs(Path);
  llvm::sys::path::remove_dots(Abs, /*remove_dot_dot=*/true);
  StringRef P = Abs;
  if (!Root.empty() && P.startswith(Root) && P.size() > Root.size() && P[Root.size()] == '/')
    return P.substr(Root.size() + 1).str();
  return P.str();
}

rtcheck_location FindingSink::location(const SourceManager &SM, SourceLocation Loc,
                                       StringRef Function, StringRef Note) {
  rtcheck_location L{};
  SourceLocation F = SM.getFileLoc(Loc);
  StringRef Name;
  if (auto Entry = SM.getFileEntryRefForID(SM.getFileID(F)))
    Name = Entry->getName();
  llvm::SmallString<256> Abs(Name);
  SM.getFileManager().makeAbsolutePath(Abs);
  L.file = Saver.save(relativePath(Abs)).data();
  L.line = SM.getSpellingLineNumber(F);
  L.column = SM.getSpellingColumnNumber(F);
  L.function = Saver.save(Function).data();
  L.note = Note.empty() ? nullptr : Saver.save(Note).data();
  return L;
}

namespace {
// Walks a text forward, keeping the 1-based line and column and the offset of
// the current byte in UTF-16 code units (SARIF's default character unit): a
// UTF-8 continuation byte adds nothing, a 4-byte sequence (outside the BMP)
// two units.
struct TextCursor {
  StringRef Text;
  size_t Byte = 0;
  unsigned Line = 1, Column = 1, Char = 0;
  explicit TextCursor(StringRef Text) : Text(Text) {}
  void advanceTo(size_t Offset) {
    for (; Byte < Offset && Byte < Text.size(); ++Byte) {
      unsigned char C = Text[Byte];
      if (C == '\n') {
        ++Line, ++Char, Column = 1;
        continue;
      }
      unsigned Units = (C & 0xC0) == 0x80 ? 0 : C >= 0xF0 ? 2 : 1;
      Char += Units;
      Column += Units;
    }
  }
};
} // namespace

void FindingSink::report(const char *Rule, rtcheck_severity Severity, const SourceManager &SM,
                         SourceLocation Loc, StringRef Function, StringRef Message,
                         llvm::ArrayRef<ChainStep> Chain, rtcheck_fix Fix,
                         const FixBuilder *Edits) {
  rtcheck_finding F{};
  F.rule = Rule;
  F.severity = Severity;
  F.where = location(SM, Loc, Function, "");
  F.message = Saver.save(Message).data();
  auto *Steps = Alloc.Allocate<rtcheck_location>(Chain.size());
  for (size_t I = 0; I < Chain.size(); ++I)
    Steps[I] = location(SM, Chain[I].Loc, Chain[I].Function, Chain[I].Note);
  F.context = Steps;
  F.n_context = Chain.size();
  F.fix = Fix;
  if (Fix.summary)
    F.fix.summary = Saver.save(Fix.summary).data();
  if (Fix.diff)
    F.fix.diff = Saver.save(Fix.diff).data();
  if (Edits && !Edits->empty() && Fix.kind != RTCHECK_FIX_NONE) {
    // Fixes edit the file being checked only (FixBuilder refuses the rest).
    FileID Main = SM.getMainFileID();
    StringRef Code = SM.getBufferData(Main);
    llvm::SmallString<256> Abs;
    if (auto Entry = SM.getFileEntryRefForID(Main))
      Abs = Entry->getName();
    SM.getFileManager().makeAbsolutePath(Abs);
    std::string Rel = relativePath(Abs);
    F.fix.diff = Saver.save(unifiedDiff(Rel, Code, Edits->edits())).data();
    F.fix_file = Saver.save(Rel).data();
    auto *Out = Alloc.Allocate<rtcheck_edit>(Edits->edits().size());
    TextCursor Cursor(Code);
    for (const tooling::Replacement &R : Edits->edits()) { // in offset order
      rtcheck_edit &E = Out[F.n_fix_edits++];
      E = rtcheck_edit{};
      E.offset = R.getOffset();
      E.length = R.getLength();
      Cursor.advanceTo(R.getOffset());
      E.char_offset = Cursor.Char;
      E.start_line = Cursor.Line;
      E.start_column = Cursor.Column;
      Cursor.advanceTo(R.getOffset() + R.getLength());
      E.char_length = Cursor.Char - E.char_offset;
      E.end_line = Cursor.Line;
      E.end_column = Cursor.Column;
      E.text = Saver.save(R.getReplacementText()).data();
    }
    F.fix_edits = Out;
    Fixes.push_back({Rule, Fix.kind, Abs.str().str(), Rel, F.where.line, Function.str(),
                     contentHash(Code), Edits->edits()});
  }
  Findings.push_back(F);
}

std::vector<rtcheck_finding> FindingSink::sorted() const {
  auto Key = [](const rtcheck_finding &F) {
    return std::make_tuple(StringRef(F.where.file), F.where.line, F.where.column,
                           StringRef(F.rule), StringRef(F.message));
  };
  std::vector<rtcheck_finding> Out = Findings;
  std::stable_sort(Out.begin(), Out.end(),
                   [&](const auto &A, const auto &B) { return Key(A) < Key(B); });
  Out.erase(std::unique(Out.begin(), Out.end(),
                        [&](const auto &A, const auto &B) { return Key(A) == Key(B); }),
            Out.end());
  return Out;
}

} // namespace rtcheck
