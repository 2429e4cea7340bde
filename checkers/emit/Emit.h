//===- Emit.h - output formats ----------------------------------*- C++ -*-===//
#ifndef RTCHECK_EMIT_EMIT_H
#define RTCHECK_EMIT_EMIT_H

#include "rtcheck/finding.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

namespace rtcheck {

/// GCC style: "file:line:col: warning: message [rule]" and one note per step.
void emitText(llvm::ArrayRef<rtcheck_finding> Findings, llvm::raw_ostream &OS);
/// The JSON contract of design.md §4.
void emitJson(llvm::ArrayRef<rtcheck_finding> Findings, llvm::raw_ostream &OS);
/// The same finding objects, one per line, without the envelope.
void emitJsonLines(llvm::ArrayRef<rtcheck_finding> Findings, llvm::raw_ostream &OS);
/// SARIF 2.1.0; Root is the kernel source root the relative paths start from.
void emitSarif(llvm::ArrayRef<rtcheck_finding> Findings, llvm::StringRef Root,
               llvm::raw_ostream &OS);

class TuFacts;
class FindingSink;
/// Per-TU function summaries (docs/facts.md), for the sweep's cross-TU pass.
llvm::json::Object functionFacts(const TuFacts &TU, const FindingSink &Paths);

/// A location as the JSON contract spells it.
llvm::json::Object locationToJson(const rtcheck_location &L);

} // namespace rtcheck
#endif
