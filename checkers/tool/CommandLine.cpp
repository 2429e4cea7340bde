#include "tool/CommandLine.h"
#include "core/Analysis.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

namespace rtcheck {

static const char Usage[] =
    "usage: rtcheck-clang [options] -p BUILD_DIR FILE.c...\n"
    "       rtcheck-clang [options] -- [CHECKFLAGS] [compiler flags] FILE.c\n"
    "options:\n"
    "  --format=text|json|jsonl|sarif  report format (default text)\n"
    "  --output=FILE             write the report to FILE instead of stdout\n"
    "  --also=FORMAT:FILE        also write the report in FORMAT to FILE (repeatable)\n"
    "  --root=DIR                kernel source root (default: $srctree, or found from the file)\n"
    "  --rules=ID[,ID...]        run only these rules\n"
    "  --werror                  exit 1 when there are findings\n"
    "  --fix                     apply the safe fixes in place (report on stderr)\n"
    "  --fix-dry-run             print the fixes as one unified diff instead\n"
    "  --unsafe                  with --fix: also apply suggestions\n"
    "  --verify                  with --fix: a patched file must compile and lose the\n"
    "                            fixed findings, or it is not written\n"
    "  --verify-db=DIR           also compile it with DIR/compile_commands.json (repeatable)\n"
    "  --facts=FILE              write per-TU function summaries (docs/facts.md)\n"
    "  --dump-calls              print each function's calls reachable on RT (debugging)\n";

static bool parseFormat(llvm::StringRef Name, OutputFormat &F) {
  if (Name == "text")
    F = OutputFormat::Text;
  else if (Name == "json")
    F = OutputFormat::Json;
  else if (Name == "jsonl")
    F = OutputFormat::Jsonl;
  else if (Name == "sarif")
    F = OutputFormat::Sarif;
  else
    return false;
  return true;
}

static bool fail(const std::string &Msg, int &ExitCode) {
  llvm::errs() << "rtcheck: error: " << Msg << "\n";
  ExitCode = 2;
  return false;
}

bool parseOptions(int Argc, char **Argv, Options &Opts, int &ExitCode) {
  for (int I = 1; I < Argc; ++I) {
    llvm::StringRef A = Argv[I];
    if (A == "--") {
      for (++I; I < Argc; ++I)
        Opts.CompilerArgs.push_back(Argv[I]);
      break;
    }
    if (A == "--help" || A == "-h") {
      llvm::outs() << Usage;
      ExitCode = 0;
      return false;
    }
    if (A == "--version") {
      llvm::outs() << "rtcheck " RTCHECK_VERSION "\n";
      ExitCode = 0;
      return false;
    }
    if (A.consume_front("--format=")) {
      if (!parseFormat(A, Opts.Format))
        return fail("unknown format '" + A.str() + "' (text, json, jsonl, sarif)", ExitCode);
    } else if (A.consume_front("--also=")) {
      auto [Format, File] = A.split(':');
      OutputFormat F;
      if (!parseFormat(Format, F) || File.empty())
        return fail("--also takes FORMAT:FILE (text, json, jsonl, sarif)", ExitCode);
      Opts.AlsoOutputs.push_back({F, File.str()});
    } else if (A.consume_front("--output=")) {
      Opts.Output = A.str();
    } else if (A.consume_front("--root=")) {
      Opts.Root = A.str();
    } else if (A.consume_front("--rules=")) {
      llvm::SmallVector<llvm::StringRef, 4> Ids;
      A.split(Ids, ',', -1, false);
      for (llvm::StringRef Id : Ids) {
        bool Known = false;
        for (const RuleInfo &R : allRules())
          Known |= Id == R.Id;
        if (!Known)
          return fail("unknown rule '" + Id.str() + "'", ExitCode);
        Opts.Rules.push_back(Id.str());
      }
    } else if (A.consume_front("--facts=")) {
      Opts.FactsFile = A.str();
    } else if (A == "--fix") {
      Opts.Fix = Options::FixMode::Apply;
    } else if (A == "--fix-dry-run") {
      Opts.Fix = Options::FixMode::DryRun;
    } else if (A == "--verify") {
      Opts.Verify = true;
    } else if (A.consume_front("--verify-db=")) {
      Opts.Verify = true;
      Opts.VerifyDbs.push_back(A.str());
    } else if (A == "--unsafe") {
      Opts.Unsafe = true;
    } else if (A == "--dump-calls") {
      Opts.DumpCalls = true;
    } else if (A == "--werror") {
      Opts.Werror = true;
    } else if (A == "-p") {
      if (++I == Argc)
        return fail("-p needs a build directory", ExitCode);
      Opts.BuildDir = Argv[I];
    } else if (A.startswith("-")) {
      return fail("unknown option '" + A.str() + "' (see --help)", ExitCode);
    } else {
      Opts.Files.push_back(A.str());
    }
  }
  if (Opts.BuildDir.empty() == Opts.CompilerArgs.empty())
    return fail("give either -p BUILD_DIR FILE... or -- FLAGS FILE.c (see --help)", ExitCode);
  if (!Opts.BuildDir.empty() && Opts.Files.empty())
    return fail("no input files", ExitCode);
  if (!Opts.CompilerArgs.empty() && !Opts.Files.empty())
    return fail("files go after --, with their flags", ExitCode);
  if (!Opts.CompilerArgs.empty() && !llvm::StringRef(Opts.CompilerArgs.back()).endswith(".c"))
    return fail("the last argument after -- must be the C file", ExitCode);
  return true;
}

namespace {
enum class FlagAction { DROP, DROP_PREFIX, DROP_PAIR, MAP, MAP_PREFIX };
struct ForeignFlag {
  FlagAction Action;
  llvm::StringRef Spelling, Replacement;
};
const ForeignFlag ForeignFlags[] = {
#define RTCHECK_FOREIGN_FLAG(Action, Spelling, Replacement) \
  {FlagAction::Action, Spelling, Replacement},
#include "rtcheck/foreign_flags.def"
#undef RTCHECK_FOREIGN_FLAG
};
} // namespace

std::vector<std::string> adjustCompilerArgs(const std::vector<std::string> &Args) {
  std::vector<std::string> Out;
  for (size_t I = 0; I < Args.size(); ++I) {
    llvm::StringRef A = Args[I];
    bool Dropped = false;
    std::string Mapped = A.str();
    for (const ForeignFlag &F : ForeignFlags) {
      switch (F.Action) {
      case FlagAction::DROP:
        Dropped = A == F.Spelling;
        break;
      case FlagAction::DROP_PREFIX:
        Dropped = A.startswith(F.Spelling);
        break;
      case FlagAction::DROP_PAIR:
        if (A == F.Spelling)
          Dropped = true, ++I;
        break;
      case FlagAction::MAP:
        if (A == F.Spelling)
          Mapped = F.Replacement.str();
        break;
      case FlagAction::MAP_PREFIX:
        if (A.startswith(F.Spelling))
          Mapped = F.Replacement.str() + A.substr(F.Spelling.size()).str();
        break;
      }
      if (Dropped || Mapped != A)
        break;
    }
    // Only parse: no preprocessing-only, object or dependency output.
    if (A == "-E" || A == "-c" || A == "-S" || A.startswith("-Wp,-M") || A == "-MD" ||
        A == "-MMD")
      Dropped = true;
    else if (A == "-o" || A == "-MF" || A == "-MT" || A == "-MQ")
      Dropped = true, ++I;
    if (!Dropped)
      Out.push_back(Mapped);
  }
  return Out;
}

} // namespace rtcheck
