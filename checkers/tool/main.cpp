//===- main.cpp - rtcheck-clang: analyse translation units for PREEMPT_RT ===//
// One process checks the TUs it is given (kbuild's CHECK calls it once per
// file) and prints one report for all of them.
#include "core/Analysis.h"
#include "core/ContextEngine.h"
#include "core/SpelledCall.h"
#include "emit/Emit.h"
#include "tool/CommandLine.h"
#include "clang/Basic/Diagnostic.h"
#include "clang/Frontend/CompilerInstance.h"
#include "clang/Frontend/FrontendAction.h"
#include "clang/Lex/Preprocessor.h"
#include "clang/Tooling/CompilationDatabase.h"
#include "clang/Tooling/JSONCompilationDatabase.h"
#include "clang/Tooling/Tooling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/VirtualFileSystem.h"
#include <algorithm>
#include <chrono>
#include <map>

using namespace clang;
using namespace rtcheck;

namespace {

enum ExitStatus { ExitOk = 0, ExitFindings = 1, ExitUsage = 2, ExitInput = 3, ExitInternal = 4 };

void error(const llvm::Twine &Msg) { llvm::errs() << "rtcheck: error: " << Msg << "\n"; }

// Keeps the first compile error of a TU for a one-line message; prints nothing.
class FirstErrorConsumer : public DiagnosticConsumer {
public:
  std::string First;
  void HandleDiagnostic(DiagnosticsEngine::Level Level, const Diagnostic &Info) override {
    DiagnosticConsumer::HandleDiagnostic(Level, Info);
    if (Level < DiagnosticsEngine::Error || !First.empty())
      return;
    llvm::SmallString<128> Msg;
    Info.FormatDiagnostic(Msg);
    if (Info.hasSourceManager() && Info.getLocation().isValid()) {
      PresumedLoc P = Info.getSourceManager().getPresumedLoc(Info.getLocation());
      if (P.isValid())
        First = (llvm::Twine(P.getFilename()) + ":" + llvm::Twine(P.getLine()) + ": ").str();
    }
    First += Msg.str();
  }
};

void dumpCalls(const TuFacts &TU) {
  for (const FunctionFacts &F : TU.Functions) {
    if (!F.InMainFile)
      continue;
    llvm::errs() << F.Name << ":\n";
    for (size_t I = 0; I < F.calls().size(); ++I) {
      const SpelledCall &C = F.calls()[I];
      llvm::errs() << "  " << TU.SM.getSpellingLineNumber(C.Site) << ":";
      for (const HeldContext &H : F.StateBefore[I].Held)
        llvm::errs() << " {" << describe(H) << (H.Must ? "" : "?") << "}";
      for (StringRef N : C.Names)
        llvm::errs() << " " << N;
      if (!C.ApiName.empty())
        llvm::errs() << " [api " << C.ApiName << "]";
      llvm::errs() << "\n";
    }
    for (size_t I = 0; I < F.accesses().size(); ++I) {
      const PerCpuAccess &A = F.accesses()[I];
      llvm::errs() << "  " << TU.SM.getSpellingLineNumber(A.Site) << ": per-CPU " << A.Object
                   << ":";
      for (const HeldContext &H : F.AccessStateBefore[I].Held)
        llvm::errs() << " {" << describe(H) << (H.Must ? "" : "?") << "}";
      llvm::errs() << " " << A.text() << "\n";
      for (size_t J = 0; J < A.Uses.size(); ++J) {
        llvm::errs() << "    " << TU.SM.getSpellingLineNumber(A.Uses[J].Loc) << ": use "
                     << A.Uses[J].Member << " kind " << (int)A.Uses[J].Kind << ":";
        for (const HeldContext &H : F.UseStateBefore[I][J].Held)
          llvm::errs() << " {" << describe(H) << (H.Must ? "" : "?") << "}";
        llvm::errs() << "\n";
      }
    }
  }
}

bool DumpCalls = false;
llvm::raw_fd_ostream *FactsOut = nullptr; // --facts: one JSON line per TU

class RtConsumer : public ASTConsumer {
public:
  RtConsumer(const RtDeadRegions &Dead, const std::vector<const RuleInfo *> &Rules,
             FindingSink &Sink)
      : Dead(Dead), Rules(Rules), Sink(Sink) {}
  void HandleTranslationUnit(ASTContext &Ctx) override {
    if (Ctx.getDiagnostics().hasErrorOccurred())
      return; // an AST with errors would give findings nobody can trust
    auto T0 = std::chrono::steady_clock::now();
    forgetMacroSteps();
    TuFacts Facts(Ctx, Dead);
    auto T1 = std::chrono::steady_clock::now();
    runContextEngine(Facts);
    auto T2 = std::chrono::steady_clock::now();
    if (DumpCalls)
      dumpCalls(Facts);
    for (const RuleInfo *R : Rules)
      R->Create()->check(Facts, Sink);
    if (FactsOut) {
      llvm::json::Object O = functionFacts(Facts, Sink);
      if (auto Entry = Ctx.getSourceManager().getFileEntryRefForID(
              Ctx.getSourceManager().getMainFileID())) {
        llvm::SmallString<256> Abs(Entry->getName());
        Ctx.getSourceManager().getFileManager().makeAbsolutePath(Abs);
        O["tu"] = Sink.relativePath(Abs);
      }
      *FactsOut << llvm::json::Value(std::move(O)) << '\n';
    }
    auto T3 = std::chrono::steady_clock::now();
    if (getenv("RTCHECK_TIMING")) {
      auto Ms = [](auto A, auto B) {
        return std::chrono::duration<double, std::milli>(B - A).count();
      };
      llvm::errs() << "rtcheck: facts " << Ms(T0, T1) << " ms, engine " << Ms(T1, T2)
                   << " ms, rules " << Ms(T2, T3) << " ms, functions " << Facts.Functions.size()
                   << "\n";
    }
  }

private:
  const RtDeadRegions &Dead;
  const std::vector<const RuleInfo *> &Rules;
  FindingSink &Sink;
};

class RtAction : public ASTFrontendAction {
public:
  RtAction(const std::vector<const RuleInfo *> &Rules, FindingSink &Sink)
      : Rules(Rules), Sink(Sink) {}
  std::unique_ptr<ASTConsumer> CreateASTConsumer(CompilerInstance &CI, StringRef) override {
    CI.getPreprocessor().addPPCallbacks(
        makeRtDeadRegionRecorder(Dead, CI.getSourceManager(), CI.getLangOpts()));
    return std::make_unique<RtConsumer>(Dead, Rules, Sink);
  }

private:
  RtDeadRegions Dead;
  const std::vector<const RuleInfo *> &Rules;
  FindingSink &Sink;
};

// The kernel source root: the closest parent holding include/linux/kconfig.h.
std::string findRoot(StringRef File) {
  llvm::SmallString<256> Dir(File);
  while (llvm::sys::path::has_parent_path(Dir)) {
    llvm::sys::path::remove_filename(Dir);
    llvm::SmallString<256> Probe(Dir);
    llvm::sys::path::append(Probe, "include", "linux", "kconfig.h");
    if (llvm::sys::fs::exists(Probe))
      return Dir.str().str();
  }
  return "";
}

std::string absolute(StringRef Path, StringRef Dir = "") {
  llvm::SmallString<256> P(Path);
  if (!Dir.empty() && !llvm::sys::path::is_absolute(P))
    P = (Dir + "/" + Path).str();
  llvm::sys::fs::make_absolute(P);
  llvm::sys::path::remove_dots(P, true);
  return P.str().str();
}

// Runs the rules on one TU into Sink, with File's text replaced by Patched
// when given. Returns why the TU could not be analysed, or "".
std::string analyse(const tooling::CompileCommand &Cmd, const std::vector<const RuleInfo *> &Rules,
                    FindingSink &Sink, const std::string *Patched = nullptr) {
  std::vector<std::string> Args = adjustCompilerArgs(Cmd.CommandLine);
  Args[0] = "clang-16";
  // -fno-caret-diagnostics also keeps clang from printing "N errors generated".
  Args.insert(Args.begin() + 1, {"-fsyntax-only", "-w", "-fno-caret-diagnostics",
                                 "-resource-dir=" RTCHECK_CLANG_RESOURCE_DIR});
  llvm::SmallString<256> Cwd;
  llvm::sys::fs::current_path(Cwd);
  if (llvm::sys::fs::set_current_path(Cmd.Directory))
    return Cmd.Directory + ": cannot enter the compile directory";
  FirstErrorConsumer Diags;
  // The patched text stands in for the file, over the real file system.
  llvm::IntrusiveRefCntPtr<llvm::vfs::OverlayFileSystem> FS(
      new llvm::vfs::OverlayFileSystem(llvm::vfs::getRealFileSystem()));
  if (Patched) {
    llvm::IntrusiveRefCntPtr<llvm::vfs::InMemoryFileSystem> Mem(new llvm::vfs::InMemoryFileSystem);
    Mem->addFile(absolute(Cmd.Filename, Cmd.Directory), 0, llvm::MemoryBuffer::getMemBufferCopy(*Patched));
    FS->pushOverlay(Mem);
  }
  FS->setCurrentWorkingDirectory(Cmd.Directory);
  llvm::IntrusiveRefCntPtr<FileManager> Files(new FileManager(FileSystemOptions(), FS));
  auto Action = std::make_unique<RtAction>(Rules, Sink);
  tooling::ToolInvocation Invocation(Args, std::move(Action), Files.get());
  Invocation.setDiagnosticConsumer(&Diags);
  bool Ok = Invocation.run();
  llvm::sys::fs::set_current_path(Cwd);
  if (!Ok || Diags.getNumErrors())
    return "does not compile: " +
           (Diags.First.empty() ? std::string("compiler invocation failed") : Diags.First);
  return "";
}

// --verify: why the patched text of F (only the edits of F.Fixes) fails,
// or "" if it compiles with every command given for the file (this tree's
// and --verify-db's) and the fixed findings are gone. Newest is the fix a
// remaining finding of its own rule and function is blamed on.
std::string verifyFailure(const FileFixes &F, const std::vector<tooling::CompileCommand> &Commands,
                          const std::vector<const RuleInfo *> &Rules, const std::string &Root,
                          const std::vector<rtcheck_finding> &Before, const PendingFix &Newest) {
  auto Patched = patchedText(F);
  if (!Patched)
    return llvm::toString(Patched.takeError());
  // Per (rule, function): how many findings may remain once the fixes are in.
  std::map<std::pair<std::string, std::string>, int> Allowed;
  for (const rtcheck_finding &B : Before)
    if (B.where.file == F.RelFile)
      ++Allowed[{B.rule, B.where.function}];
  for (const PendingFix *P : F.Fixes)
    --Allowed[{P->Rule, P->Function}];
  for (const tooling::CompileCommand &Cmd : Commands) {
    if (absolute(Cmd.Filename, Cmd.Directory) != F.File)
      continue;
    FindingSink Again(Root);
    std::string Err = analyse(Cmd, Rules, Again, &*Patched);
    if (!Err.empty()) {
      StringRef E(Err);
      if (E.consume_front("does not compile: "))
        return "does not compile on " + Cmd.Directory + ": " + E.str();
      return "with the flags of " + Cmd.Directory + ": " + Err;
    }
    std::map<std::pair<std::string, std::string>, int> After;
    for (const rtcheck_finding &Left : Again.sorted())
      if (++After[{Left.rule, Left.where.function}] > Allowed[{Left.rule, Left.where.function}]) {
        if (Left.rule == Newest.Rule && Left.where.function == Newest.Function)
          return "the finding is still there";
        return std::string("it leaves ") + Left.rule + " reported in " + Left.where.function + "()";
      }
  }
  return "";
}

// --verify, per fix: the fixes of F that pass. If all of them together fail,
// they are tried one by one in file order, each on top of the ones that passed
// before it (at most one re-analysis per fix more than the first one); each
// refused fix is a note. Refused counts them. False if the file itself cannot
// be verified (changed since it was analysed, unreadable): nothing of it is kept.
bool verifiedFixes(FileFixes &F, const std::vector<tooling::CompileCommand> &Commands,
                   const std::vector<const RuleInfo *> &Rules, const std::string &Root,
                   const std::vector<rtcheck_finding> &Before, unsigned &Refused) {
  if (auto Patched = patchedText(F); !Patched) {
    error(llvm::toString(Patched.takeError()));
    return false;
  }
  std::vector<const PendingFix *> Order = F.Fixes;
  auto Offset = [](const PendingFix *P) { return P->Edits.empty() ? 0u : P->Edits.begin()->getOffset(); };
  std::stable_sort(Order.begin(), Order.end(), [&](const PendingFix *A, const PendingFix *B) {
    return std::make_pair(A->Line, Offset(A)) < std::make_pair(B->Line, Offset(B));
  });
  std::string All = verifyFailure(F, Commands, Rules, Root, Before, *Order.back());
  if (All.empty())
    return true;
  FileFixes Kept = F;
  Kept.Edits = tooling::Replacements();
  Kept.Fixes.clear();
  for (size_t I = 0; I < Order.size(); ++I) {
    const PendingFix &P = *Order[I];
    FileFixes Candidate = Kept;
    std::string Why;
    for (const tooling::Replacement &R : P.Edits) {
      if (llvm::is_contained(Candidate.Edits, R))
        continue; // the same edit from a fix that passed
      if (llvm::Error E = Candidate.Edits.add(R)) {
        llvm::consumeError(std::move(E));
        Why = "its edits do not combine with the fixes before it";
        break;
      }
    }
    Candidate.Fixes.push_back(&P);
    if (Why.empty())
      // The last fix on top of all the others is the whole set, already tried.
      Why = Kept.Fixes.size() + 1 == Order.size()
                ? All
                : verifyFailure(Candidate, Commands, Rules, Root, Before, P);
    if (Why.empty()) {
      Kept = std::move(Candidate);
      continue;
    }
    ++Refused;
    llvm::errs() << "rtcheck: note: fix not applied: " << P.RelFile << ":" << P.Line << ": "
                 << P.Rule << ": " << Why << "\n";
  }
  F = std::move(Kept);
  return true;
}

} // namespace

int main(int Argc, char **Argv) {
  Options Opts;
  int Status = ExitOk;
  if (!parseOptions(Argc, Argv, Opts, Status))
    return Status;
  DumpCalls = Opts.DumpCalls;
  std::unique_ptr<llvm::raw_fd_ostream> FactsFile;
  if (!Opts.FactsFile.empty()) {
    std::error_code EC;
    FactsFile = std::make_unique<llvm::raw_fd_ostream>(Opts.FactsFile, EC);
    if (EC) {
      error(Opts.FactsFile + ": " + EC.message());
      return ExitInput;
    }
    FactsOut = FactsFile.get();
  }

  std::vector<const RuleInfo *> Rules;
  for (const RuleInfo &R : allRules())
    if (Opts.Rules.empty() || llvm::is_contained(Opts.Rules, R.Id))
      Rules.push_back(&R);

  // The translation units, each with its compiler command.
  std::vector<tooling::CompileCommand> Commands;
  llvm::SmallString<256> Cwd;
  llvm::sys::fs::current_path(Cwd);
  if (!Opts.BuildDir.empty()) {
    std::string Err;
    auto DB = tooling::JSONCompilationDatabase::loadFromDirectory(Opts.BuildDir, Err);
    if (!DB) {
      error(Opts.BuildDir + ": no usable compile_commands.json");
      return ExitInput;
    }
    for (const std::string &F : Opts.Files) {
      std::string Abs = absolute(F);
      auto Found = DB->getCompileCommands(Abs);
      if (Found.empty()) {
        error(F + ": not in " + Opts.BuildDir + "/compile_commands.json");
        Status = ExitInput;
        continue;
      }
      Commands.push_back(Found.front());
    }
  } else {
    std::vector<std::string> Line{"clang-16"};
    Line.insert(Line.end(), Opts.CompilerArgs.begin(), Opts.CompilerArgs.end());
    Commands.emplace_back(Cwd.str(), Opts.CompilerArgs.back(), Line, "");
  }

  std::string Root = Opts.Root;
  if (Root.empty())
    if (auto SrcTree = llvm::sys::Process::GetEnv("srctree"))
      Root = absolute(*SrcTree, Cwd);
  if (Root.empty() && !Commands.empty())
    Root = findRoot(absolute(Commands.front().Filename, Commands.front().Directory));
  FindingSink Sink(Root);
  for (tooling::CompileCommand &Cmd : Commands) {
    std::string File = absolute(Cmd.Filename, Cmd.Directory);
    if (!llvm::sys::fs::is_regular_file(File)) {
      error(Cmd.Filename + ": no such file");
      Status = ExitInput;
      continue;
    }
    std::string Err = analyse(Cmd, Rules, Sink);
    if (!Err.empty()) {
      error(Cmd.Filename + ": " + Err);
      Status = ExitInput;
    }
  }
  llvm::sys::fs::set_current_path(Cwd);

  std::vector<rtcheck_finding> Findings = Sink.sorted();

  // With --fix the report goes to stderr: stdout is for the diff.
  if (Opts.Fix != Options::FixMode::None && Opts.Output.empty())
    Opts.Output = "/dev/stderr";
  std::vector<std::pair<OutputFormat, std::string>> Outputs{{Opts.Format, Opts.Output}};
  Outputs.insert(Outputs.end(), Opts.AlsoOutputs.begin(), Opts.AlsoOutputs.end());
  for (const auto &[Format, Path] : Outputs) {
    std::error_code EC;
    std::unique_ptr<llvm::raw_fd_ostream> File;
    if (!Path.empty() && Path != "/dev/stderr") {
      File = std::make_unique<llvm::raw_fd_ostream>(Path, EC);
      if (EC) {
        error(Path + ": " + EC.message());
        return ExitInput;
      }
    }
    llvm::raw_ostream &OS = File ? *File : Path == "/dev/stderr" ? llvm::errs() : llvm::outs();
    switch (Format) {
    case OutputFormat::Text:
      emitText(Findings, OS);
      break;
    case OutputFormat::Json:
      emitJson(Findings, OS);
      break;
    case OutputFormat::Jsonl:
      emitJsonLines(Findings, OS);
      break;
    case OutputFormat::Sarif:
      emitSarif(Findings, Root, OS);
      break;
    }
  }
  if (Opts.Fix != Options::FixMode::None) {
    std::vector<FileFixes> Files = mergeFixes(Sink.pendingFixes(), Opts.Unsafe);
    if (Opts.Verify) {
      std::vector<tooling::CompileCommand> Checks = Commands;
      for (const std::string &Dir : Opts.VerifyDbs) {
        std::string Err;
        auto DB = tooling::JSONCompilationDatabase::loadFromDirectory(Dir, Err);
        if (!DB) {
          error(Dir + ": no usable compile_commands.json");
          return ExitInput;
        }
        for (const FileFixes &F : Files)
          for (tooling::CompileCommand &C : DB->getCompileCommands(F.File))
            Checks.push_back(std::move(C));
      }
      // A refused fix is an input error (exit 3), as a file that cannot be
      // fixed is; the fixes that passed are written all the same.
      std::vector<FileFixes> Passed;
      for (FileFixes &F : Files) {
        size_t Total = F.Fixes.size();
        unsigned Refused = 0;
        if (!verifiedFixes(F, Checks, Rules, Root, Findings, Refused)) {
          Status = std::max<int>(Status, ExitInput);
          continue;
        }
        if (Refused) {
          error(F.RelFile + ": " + llvm::Twine(Refused) + " of " + llvm::Twine(Total) +
                " fixes not applied: --verify refused them");
          Status = std::max<int>(Status, ExitInput);
        }
        if (!F.Fixes.empty())
          Passed.push_back(std::move(F));
      }
      Files = std::move(Passed);
    }
    if (!applyFixes(Files, Opts.Fix == Options::FixMode::DryRun, llvm::outs()))
      Status = std::max<int>(Status, ExitInput);
  }
  // Like -Werror, notes do not fail.
  if (Status == ExitOk && Opts.Werror &&
      llvm::any_of(Findings, [](const rtcheck_finding &F) { return F.severity != RTCHECK_NOTE; }))
    Status = ExitFindings;
  return Status;
}
