#include "core/Analysis.h"
#include "emit/Emit.h"
#include "llvm/Support/FormatVariadic.h"

namespace rtcheck {

static const char *sarifLevel(rtcheck_severity S) {
  return S == RTCHECK_ERROR ? "error" : S == RTCHECK_WARNING ? "warning" : "note";
}

// A path of the tree relative to SRCROOT; one outside it (an external module) as a file URI.
static llvm::json::Object artifact(llvm::StringRef File) {
  if (File.startswith("/"))
    return llvm::json::Object{{"uri", "file://" + File.str()}};
  return llvm::json::Object{{"uri", File}, {"uriBaseId", "SRCROOT"}};
}

static llvm::json::Object sarifLocation(const rtcheck_location &L, bool WithMessage) {
  llvm::json::Object Phys{
      {"artifactLocation", artifact(L.file)},
      {"region", llvm::json::Object{{"startLine", L.line}, {"startColumn", L.column}}}};
  llvm::json::Object Loc{{"physicalLocation", std::move(Phys)}};
  if (L.function && *L.function)
    Loc["logicalLocations"] =
        llvm::json::Array{llvm::json::Object{{"name", L.function}, {"kind", "function"}}};
  if (WithMessage && L.note)
    Loc["message"] = llvm::json::Object{{"text", L.note}};
  return Loc;
}

// SARIF fix objects: the same edits as the diff in properties.fixDiff.
static llvm::json::Array sarifFixes(const rtcheck_finding &F) {
  llvm::json::Array Replacements;
  for (unsigned I = 0; I < F.n_fix_edits; ++I) {
    const rtcheck_edit &E = F.fix_edits[I];
    llvm::json::Object R{{"deletedRegion", llvm::json::Object{{"startLine", E.start_line},
                                                              {"startColumn", E.start_column},
                                                              {"endLine", E.end_line},
                                                              {"endColumn", E.end_column},
                                                              {"charOffset", E.char_offset},
                                                              {"charLength", E.char_length}}}};
    if (E.text && *E.text) // no insertedContent: a deletion
      R["insertedContent"] = llvm::json::Object{{"text", E.text}};
    Replacements.push_back(std::move(R));
  }
  llvm::json::Object Change{
      {"artifactLocation", artifact(F.fix_file)},
      {"replacements", std::move(Replacements)}};
  return llvm::json::Array{llvm::json::Object{
      {"description", llvm::json::Object{{"text", F.fix.summary ? F.fix.summary : ""}}},
      {"artifactChanges", llvm::json::Array{std::move(Change)}}}};
}

void emitSarif(llvm::ArrayRef<rtcheck_finding> Findings, llvm::StringRef Root,
               llvm::raw_ostream &OS) {
  llvm::json::Array Rules;
  llvm::StringMap<unsigned> RuleIndex;
  for (const RuleInfo &R : allRules()) {
    RuleIndex[R.Id] = Rules.size();
    Rules.push_back(llvm::json::Object{
        {"id", R.Id},
        {"shortDescription", llvm::json::Object{{"text", R.Title}}},
        {"defaultConfiguration", llvm::json::Object{{"level", sarifLevel(R.Severity)}}}});
  }
  llvm::json::Array Results;
  for (const rtcheck_finding &F : Findings) {
    llvm::json::Object Res{{"ruleId", F.rule},
                           {"level", sarifLevel(F.severity)},
                           {"message", llvm::json::Object{{"text", F.message}}},
                           {"locations", llvm::json::Array{sarifLocation(F.where, false)}}};
    auto It = RuleIndex.find(F.rule);
    if (It != RuleIndex.end())
      Res["ruleIndex"] = It->second;
    if (F.n_context) {
      llvm::json::Array Steps;
      for (unsigned I = 0; I < F.n_context; ++I)
        Steps.push_back(llvm::json::Object{{"location", sarifLocation(F.context[I], true)}});
      Steps.push_back(llvm::json::Object{{"location", sarifLocation(F.where, false)}});
      Res["codeFlows"] = llvm::json::Array{llvm::json::Object{
          {"threadFlows", llvm::json::Array{llvm::json::Object{{"locations", std::move(Steps)}}}}}};
    }
    if (F.fix.kind != RTCHECK_FIX_NONE && F.fix.summary)
      Res["properties"] = llvm::json::Object{{"fixKind", rtcheck_fix_kind_name(F.fix.kind)},
                                             {"fixSummary", F.fix.summary},
                                             {"fixDiff", F.fix.diff ? F.fix.diff : ""}};
    if (F.fix.kind != RTCHECK_FIX_NONE && F.n_fix_edits && F.fix_file)
      Res["fixes"] = sarifFixes(F);
    Results.push_back(std::move(Res));
  }
  std::string RootUri = "file://" + Root.str() + (Root.endswith("/") ? "" : "/");
  llvm::json::Object Run{
      {"tool", llvm::json::Object{{"driver",
                                   llvm::json::Object{{"name", "rtcheck"},
                                                      {"version", RTCHECK_VERSION},
                                                      {"rules", std::move(Rules)}}}}},
      {"originalUriBaseIds",
       llvm::json::Object{{"SRCROOT", llvm::json::Object{{"uri", RootUri}}}}},
      {"results", std::move(Results)}};
  llvm::json::Object Doc{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                         {"version", "2.1.0"},
                         {"runs", llvm::json::Array{std::move(Run)}}};
  OS << llvm::formatv("{0:2}", llvm::json::Value(std::move(Doc))) << '\n';
}

} // namespace rtcheck
