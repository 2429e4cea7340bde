#include "emit/Emit.h"

namespace rtcheck {

void emitText(llvm::ArrayRef<rtcheck_finding> Findings, llvm::raw_ostream &OS) {
  for (const rtcheck_finding &F : Findings) {
    OS << F.where.file << ':' << F.where.line << ':' << F.where.column << ": "
       << rtcheck_severity_name(F.severity) << ": " << F.message << " [" << F.rule << "]\n";
    for (unsigned I = 0; I < F.n_context; ++I) {
      const rtcheck_location &L = F.context[I];
      OS << L.file << ':' << L.line << ':' << L.column << ": note: " << (L.note ? L.note : "")
         << '\n';
    }
    if (F.fix.kind != RTCHECK_FIX_NONE && F.fix.diff)
      OS << F.fix.diff;
  }
}

} // namespace rtcheck
