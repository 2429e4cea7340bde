//===- CommandLine.h - options and compiler-argument adjustment -*- C++ -*-===//
#ifndef RTCHECK_TOOL_COMMANDLINE_H
#define RTCHECK_TOOL_COMMANDLINE_H

#include <string>
#include <vector>

namespace rtcheck {

/// Jsonl: one finding object (design.md §4) per line, for tools that
/// concatenate the output of many TUs (the sweep).
enum class OutputFormat { Text, Json, Jsonl, Sarif };

struct Options {
  OutputFormat Format = OutputFormat::Text;
  std::string Output;            ///< file for the report; empty: stdout
  /// Further reports of the same run: (format, file); kbuild mode writes text
  /// for the user and JSON/SARIF for tools from one parse.
  std::vector<std::pair<OutputFormat, std::string>> AlsoOutputs;
  std::string Root;              ///< kernel source root; empty: found from the files
  std::vector<std::string> Rules; ///< enabled rule ids; empty: all
  bool Werror = false;
  bool DumpCalls = false;
  enum class FixMode { None, Apply, DryRun } Fix = FixMode::None;
  bool Unsafe = false;           ///< --fix also applies suggestions
  bool Verify = false;           ///< re-check patched files before writing them
  std::vector<std::string> VerifyDbs; ///< more compile databases to verify with
  std::string FactsFile;         ///< --facts: per-TU summaries (JSON lines, one per TU)        ///< debugging: print each function's RT-reachable calls
  std::string BuildDir;          ///< -p: directory with compile_commands.json
  std::vector<std::string> Files;        ///< with -p
  std::vector<std::string> CompilerArgs; ///< after --: kbuild's $(CHECKFLAGS) $(c_flags) file.c
};

/// Parses argv; on error prints one line and returns false with the exit status
/// in ExitCode (0 after --help/--version).
bool parseOptions(int Argc, char **Argv, Options &Opts, int &ExitCode);

/// Removes or maps the arguments clang does not take: sparse's CHECKFLAGS and
/// GCC-only flags of a GCC build (include/rtcheck/foreign_flags.def), and
/// anything that would make clang do more than parse.
std::vector<std::string> adjustCompilerArgs(const std::vector<std::string> &Args);

} // namespace rtcheck
#endif
