#include "emit/Emit.h"
#include "llvm/Support/FormatVariadic.h"

namespace rtcheck {

llvm::json::Object locationToJson(const rtcheck_location &L) {
  llvm::json::Object O{{"file", L.file}, {"line", L.line}, {"column", L.column},
                       {"function", L.function ? L.function : ""}};
  if (L.note)
    O["note"] = L.note;
  return O;
}

static llvm::json::Object findingToJson(const rtcheck_finding &F) {
  llvm::json::Object O = locationToJson(F.where);
  O["rule"] = F.rule;
  O["severity"] = rtcheck_severity_name(F.severity);
  O["message"] = F.message;
  llvm::json::Array Context;
  for (unsigned I = 0; I < F.n_context; ++I)
    Context.push_back(locationToJson(F.context[I]));
  O["context"] = std::move(Context);
  llvm::json::Object Fix{{"kind", rtcheck_fix_kind_name(F.fix.kind)},
                         {"summary", F.fix.summary ? F.fix.summary : ""}};
  if (F.fix.diff)
    Fix["diff"] = F.fix.diff;
  O["fix"] = std::move(Fix);
  return O;
}

void emitJsonLines(llvm::ArrayRef<rtcheck_finding> Findings, llvm::raw_ostream &OS) {
  for (const rtcheck_finding &F : Findings)
    OS << llvm::json::Value(findingToJson(F)) << '\n';
}

void emitJson(llvm::ArrayRef<rtcheck_finding> Findings, llvm::raw_ostream &OS) {
  llvm::json::Array List;
  for (const rtcheck_finding &F : Findings)
    List.push_back(findingToJson(F));
  llvm::json::Object Doc{{"tool", "rtcheck"}, {"version", RTCHECK_VERSION},
                         {"findings", std::move(List)}};
  OS << llvm::formatv("{0:2}", llvm::json::Value(std::move(Doc))) << '\n';
}

} // namespace rtcheck
