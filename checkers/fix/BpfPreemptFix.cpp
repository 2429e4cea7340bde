#include "fix/BpfPreemptFix.h"
#include "fix/BpfSectionLock.h"
#include "fix/PreemptToMigrate.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"
#include <optional>

// What the conversion changes outside RT, for every summary.
#define NOTE                                                                           \
  "migrate_disable() pins the task without disabling preemption on PREEMPT_RT and, "   \
  "since Linux 5.11, on every SMP kernel: the run becomes preemptible there too"

using namespace clang;

namespace rtcheck {
namespace {

struct Code {
  const SourceManager &SM;
  const LangOptions &LO;

  // The file range of S, invalid unless all of it is written in the file.
  CharSourceRange range(const Stmt *S) const {
    CharSourceRange R =
        Lexer::makeFileCharRange(CharSourceRange::getTokenRange(S->getSourceRange()), SM, LO);
    return R.isValid() && SM.isInMainFile(R.getBegin()) ? R : CharSourceRange();
  }
  SourceLocation begin(const Stmt *S) const { return range(S).getBegin(); }
  // The text of S without white space: "preempt_disable()".
  std::string squeezed(const Stmt *S) const {
    CharSourceRange R = range(S);
    std::string Out;
    if (R.isValid())
      for (char C : Lexer::getSourceText(R, SM, LO))
        if (!isspace(static_cast<unsigned char>(C)))
          Out += C;
    return Out;
  }
  // The line of a statement "S;" alone on it, newline included.
  CharSourceRange ownLine(const Stmt *S) const {
    CharSourceRange R = range(S);
    if (R.isInvalid())
      return {};
    auto [FID, B] = SM.getDecomposedLoc(R.getBegin());
    StringRef Buf = SM.getBufferData(FID);
    size_t Start = B, End = SM.getFileOffset(R.getEnd());
    auto Blank = [&](size_t I) { return Buf[I] == ' ' || Buf[I] == '\t'; };
    while (Start > 0 && Blank(Start - 1))
      --Start;
    while (End < Buf.size() && Blank(End))
      ++End;
    if ((Start > 0 && Buf[Start - 1] != '\n') || End >= Buf.size() || Buf[End] != ';')
      return {};
    for (++End; End < Buf.size() && Blank(End);)
      ++End;
    if (End < Buf.size() && Buf[End++] != '\n')
      return {};
    SourceLocation File = SM.getLocForStartOfFile(FID);
    return CharSourceRange::getCharRange(File.getLocWithOffset(Start), File.getLocWithOffset(End));
  }
};

struct Statements : RecursiveASTVisitor<Statements> {
  std::vector<const CompoundStmt *> Blocks;
  std::vector<const IfStmt *> Ifs;
  bool VisitCompoundStmt(CompoundStmt *S) { return Blocks.push_back(S), true; }
  bool VisitIfStmt(IfStmt *S) { return Ifs.push_back(S), true; }
};

// "preempt_disable(); x = bpf_prog_run(p, ctx); preempt_enable();", three
// statements of one block, each alone on its line (no comment is lost).
bool buildPinOnCpu(const FunctionFacts &F, const HeldContext &Section, const Statements &Body,
                   const Code &Text, FixBuilder &Edits) {
  SourceLocation Begin = Text.SM.getFileLoc(Section.Begin);
  for (const CompoundStmt *Block : Body.Blocks) {
    auto S = Block->body_begin();
    for (size_t I = 0; I + 2 < Block->size(); ++I) {
      if (Text.begin(S[I]) != Begin || Text.squeezed(S[I]) != "preempt_disable()" ||
          Text.squeezed(S[I + 2]) != "preempt_enable()")
        continue;
      const auto *Assign = dyn_cast<BinaryOperator>(S[I + 1]);
      const auto *Run = Assign && Assign->getOpcode() == BO_Assign
                            ? dyn_cast<CallExpr>(Assign->getRHS()->IgnoreParenImpCasts())
                            : nullptr;
      const FunctionDecl *Callee = Run ? Run->getDirectCallee() : nullptr;
      if (!Callee || Callee->getName() != "bpf_prog_run" || Run->getNumArgs() != 2)
        return false;
      std::string Spelled = Text.squeezed(Run);
      if (!StringRef(Spelled).startswith("bpf_prog_run(") &&
          !StringRef(Spelled).startswith("BPF_PROG_RUN("))
        return false;
      SourceLocation End = Text.begin(S[I + 2]);
      bool Exit = false;
      for (size_t C = 0; C < F.calls().size(); ++C)
        Exit |= F.calls()[C].Site == End && endsSection(F, C, Section);
      CharSourceRange Enter = Text.ownLine(S[I]), Leave = Text.ownLine(S[I + 2]);
      SourceLocation Name = Text.begin(Run);
      return Exit && Enter.isValid() && Leave.isValid() && Edits.replaceChars(Enter, "") &&
             Edits.replace(SourceRange(Name, Name), "bpf_prog_run_pin_on_cpu") &&
             Edits.replaceChars(Leave, "");
    }
  }
  return false;
}

// "if (c) preempt_X(); else migrate_X();" (or the other way round).
struct ModeIf {
  const IfStmt *If;
  std::string Cond;
  bool PreemptInThen;
  const Stmt *Preempt, *Migrate;
};

const Stmt *single(const Stmt *S) {
  if (const auto *C = dyn_cast_or_null<CompoundStmt>(S))
    return C->size() == 1 ? C->body_front() : nullptr;
  return S;
}

std::optional<ModeIf> modeIf(const IfStmt *If, StringRef Op, const Code &Text) {
  if (!If->getElse() || If->getInit() || If->getConditionVariable())
    return std::nullopt;
  const Stmt *Then = single(If->getThen()), *Else = single(If->getElse());
  if (!Then || !Else)
    return std::nullopt;
  std::string P = ("preempt_" + Op + "()").str(), M = ("migrate_" + Op + "()").str();
  std::string T = Text.squeezed(Then), E = Text.squeezed(Else), Cond = Text.squeezed(If->getCond());
  if (Cond.empty() || !Text.range(If).isValid())
    return std::nullopt;
  if (T == P && E == M)
    return ModeIf{If, Cond, true, Then, Else};
  if (T == M && E == P)
    return ModeIf{If, Cond, false, Else, Then};
  return std::nullopt;
}

// Each if/else becomes its migrate_*() branch.
bool replaceByMigrate(const ModeIf &M, const Code &Text, FixBuilder &Edits) {
  std::string Repl = Text.squeezed(M.Migrate) + (isa<CompoundStmt>(M.If->getElse()) ? ";" : "");
  return Edits.replaceChars(Text.range(M.If), Repl);
}

// A mode chosen by a flag: entered and left by if/else on the same condition.
bool buildModeToMigrate(const FunctionFacts &F, const HeldContext &Section, const Statements &Body,
                        const Code &Text, FixBuilder &Edits, std::string &Why) {
  Why = "preemption is not disabled by \"if (c) preempt_disable(); else migrate_disable();\" "
        "in this function";
  if (Section.FromEntry || !Section.Origin.empty() || Section.Api != "preempt_disable")
    return false;
  std::optional<ModeIf> Enter;
  for (const IfStmt *If : Body.Ifs)
    if (auto M = modeIf(If, "disable", Text))
      if (Text.begin(M->Preempt) == Text.SM.getFileLoc(Section.Begin))
        Enter = M;
  if (!Enter)
    return false;
  unsigned Exits = 0;
  for (size_t I = 0; I < F.calls().size(); ++I) {
    if (!endsSection(F, I, Section))
      continue;
    std::optional<ModeIf> Exit;
    for (const IfStmt *If : Body.Ifs)
      if (auto M = modeIf(If, "enable", Text))
        if (Text.begin(M->Preempt) == F.calls()[I].Site && M->Cond == Enter->Cond &&
            M->PreemptInThen == Enter->PreemptInThen)
          Exit = M;
    if (!Exit)
      return Why = "the section ends with " + F.calls()[I].ApiName.str() +
                   "() outside an if/else on the same condition",
             false;
    if (!replaceByMigrate(*Exit, Text, Edits))
      return Why = Edits.Reason, false;
    ++Exits;
  }
  if (!Exits)
    return Why = "the section's end is not in this function", false;
  if (!replaceByMigrate(*Enter, Text, Edits))
    return Why = Edits.Reason, false;
  return true;
}

} // namespace

BpfPreemptFix buildBpfPreemptFix(const TuFacts &TU, const FunctionFacts &F,
                                 const HeldContext &Section, const BpfPath *Update,
                                 const FindingSink &Out, FixBuilder &Edits) {
  BpfPreemptFix Fix;
  if (Update)
    return buildBpfSectionLock(TU, F, Section, *Update, Out, Edits);
  Code Text{TU.SM, TU.Ctx.getLangOpts()};
  Statements Body;
  if (F.Decl && F.Decl->getBody())
    Body.TraverseStmt(F.Decl->getBody());
  std::string Why;
  if (!Section.Must) {
    if (buildModeToMigrate(F, Section, Body, Text, Edits, Why)) {
      Fix.Kind = RTCHECK_FIX_SUGGESTION;
      Fix.Summary = "remove the non-preemptible mode: each if/else on the mode becomes its "
                    "migrate_disable()/migrate_enable() branch, so that every mode only "
                    "disables migration around the run (review what else the mode selects)";
    } else {
      Fix.Summary = "no automatic conversion (" + Why + "): remove the non-preemptible mode, "
                    "migrate_disable()/migrate_enable() on every path "
                    "(see docs/rules/rt-bpf-preempt.md)";
    }
    return Fix;
  }
  FixBuilder Check(TU.SM, TU.Ctx.getLangOpts()); // the section is convertible at all
  if (!buildPreemptToMigrate(F, Section, Check, Why)) {
    Fix.Summary = "no automatic conversion (" + Why + "): use migrate_disable()/"
                  "migrate_enable() around the run, or bpf_prog_run_pin_on_cpu() "
                  "(see docs/rules/rt-bpf-preempt.md)";
    return Fix;
  }
  Fix.Kind = RTCHECK_FIX_AUTO;
  if (buildPinOnCpu(F, Section, Body, Text, Edits)) {
    Fix.Summary = "replace preempt_disable(); ret = bpf_prog_run(prog, ctx); "
                  "preempt_enable(); with ret = bpf_prog_run_pin_on_cpu(prog, ctx), which "
                  "runs the program under migrate_disable(): the program still runs on one "
                  "CPU; " NOTE;
    return Fix;
  }
  buildPreemptToMigrate(F, Section, Edits, Why);
  Fix.Summary = "replace preempt_disable()/preempt_enable() around the run with "
                "migrate_disable()/migrate_enable(): the program still runs on one CPU; " NOTE;
  return Fix;
}

} // namespace rtcheck
