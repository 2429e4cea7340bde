//===- Facts.cpp - per-TU function summaries for the sweep ----------------===//
// What the sweep needs to carry contexts across files (design.md §1): per
// function, how it is entered, what it returns holding, what may sleep below
// it, and the calls it makes to functions defined elsewhere with the context
// each runs in. Format: docs/facts.md.
#include "emit/Emit.h"
#include "core/BhSerialisation.h"
#include "core/ContextEngine.h"
#include "rtcheck/context_facts.h"
#include "clang/AST/Attr.h"

namespace rtcheck {

// Context facts (rtcheck/context_facts.h) by name, for "unless" and "atomic_facts".
static llvm::json::Array factNames(unsigned Facts) {
  llvm::json::Array Names;
  for (unsigned I = 0; I < CONTEXT_FACT_COUNT; ++I)
    if (Facts & (1u << I))
      Names.push_back(rtcheck_context_fact_names[I]);
  return Names;
}

static const char *kindName(ContextKind K) {
  switch (K) {
  case ContextKind::RawLock: return "raw_lock";
  case ContextKind::PreemptOff: return "preempt_off";
  case ContextKind::IrqOff: return "irq_off";
  case ContextKind::HardIrq: return "hardirq";
  case ContextKind::Nmi: return "nmi";
  case ContextKind::BhOff: return "bh_off";
  case ContextKind::MigrateOff: return "migrate_off";
  case ContextKind::RtLock: return "rt_lock";
  case ContextKind::SleepingLock: return "sleeping_lock";
  case ContextKind::IrqWork: return "irq_work";
  case ContextKind::Softirq: return "softirq";
  }
  return "unknown";
}

static llvm::json::Object where(const TuFacts &TU, const FindingSink &Paths,
                                clang::SourceLocation Loc) {
  clang::SourceLocation F = TU.SM.getFileLoc(Loc);
  llvm::StringRef Name;
  if (auto Entry = TU.SM.getFileEntryRefForID(TU.SM.getFileID(F)))
    Name = Entry->getName();
  llvm::SmallString<256> Abs(Name);
  TU.SM.getFileManager().makeAbsolutePath(Abs);
  return llvm::json::Object{{"file", Paths.relativePath(Abs)},
                            {"line", TU.SM.getSpellingLineNumber(F)}};
}

static llvm::json::Array needStrings(const ParamNeeds &Needs) {
  llvm::json::Array Out;
  for (const ParamNeed &N : Needs)
    Out.push_back(N.str());
  return Out;
}

llvm::json::Object functionFacts(const TuFacts &TU, const FindingSink &Paths) {
  llvm::json::Array Functions;
  for (const FunctionFacts &F : TU.Functions) {
    if (!F.InMainFile)
      continue;
    llvm::json::Object O = where(TU, Paths, F.Decl->getLocation());
    O["name"] = F.Name;
    O["static"] = !F.Decl->isExternallyVisible();
    if (isBootCode(*F.Decl))
      O["init"] = true;
    llvm::json::Array Entry, Holding, Releases, Sleeps, Calls;
    for (const HeldContext &H : F.EntryContexts)
      Entry.push_back(llvm::json::Object{{"kind", kindName(H.Kind)}, {"note", H.Note}});
    for (const HeldContext &H : F.Effect.Acquired)
      Holding.push_back(kindName(H.Kind));
    for (ContextKind K : F.Effect.Released)
      Releases.push_back(kindName(K));
    for (const SleepSite &S : F.MaySleep) {
      llvm::json::Object Site = where(TU, Paths, S.Loc);
      Site["function"] = S.Function;
      Site["op"] = S.Op;
      Site["why"] = S.Why;
      Site["depth"] = S.Path.size();
      if (S.Unless)
        Site["unless"] = factNames(S.Unless);
      if (!S.Needs.empty())
        Site["needs"] = needStrings(S.Needs);
      if (!S.LastRef.empty())
        Site["last_ref"] = S.LastRef;
      Sleeps.push_back(std::move(Site));
    }
    for (size_t I = 0; I < F.calls().size(); ++I) {
      const SpelledCall &C = F.calls()[I];
      const ContextState &S = F.StateBefore[I];
      auto Edge = [&](llvm::StringRef Callee, bool Local, bool Direct) {
        llvm::json::Object Call = where(TU, Paths, C.Site);
        Call["callee"] = Callee;
        if (Local)
          Call["local"] = true;
        // What the call needs of F's parameters, and what it passes: the
        // sweep maps the callee's sites' needs through them.
        if (!F.Cfg.CallNeeds[I].empty())
          Call["needs"] = needStrings(F.Cfg.CallNeeds[I]);
        // Made only when F dropped the last reference: what sleeps below
        // needs that too.
        if (!F.Cfg.CallLastRef[I].empty())
          Call["last_ref"] = F.Cfg.CallLastRef[I].str();
        if (Direct) {
          std::vector<ArgValue> Args = argValues(*C.Call, *F.Decl, F.Cfg.Params, TU.Ctx);
          if (llvm::any_of(Args, [](const ArgValue &A) { return A.K != ArgValue::Unknown; })) {
            llvm::json::Array Values;
            for (const ArgValue &A : Args)
              Values.push_back(A.str());
            Call["args"] = std::move(Values);
          }
        }
        // After unlocking what the caller held (__fixup_pi_state_owner()'s
        // fault-in): what sleeps below is not under the caller's context.
        if (S.ReleasedInherited)
          Call["released"] = true;
        if (const HeldContext *A = S.trulyAtomic()) {
          Call["atomic"] = describe(*A);
          // Where it began, as the chain's first step says it.
          llvm::json::Object Begin = where(TU, Paths, A->Begin);
          Begin["note"] = A->FromEntry ? A->Note : describe(*A) + " enters truly atomic context";
          Call["atomic_at"] = std::move(Begin);
          Call["atomic_facts"] = factNames(contextFacts(S));
        }
        // For rt-percpu-bh across TUs: does the call run with only BH off,
        // or does something here already serialise what it does?
        const HeldContext *Bh;
        Serialised How = serialisation(S, Bh);
        if (How == Serialised::BhOnly) {
          llvm::json::Object At = where(TU, Paths, Bh->Begin);
          At["note"] = bhPhrase(*Bh);
          Call["bh"] = std::move(At);
        } else if (How == Serialised::Protected || S.ReleasedInherited) {
          Call["serialised"] = true;
        }
        if (S.Excluded)
          Call["unless"] = factNames(S.Excluded);
        llvm::json::Array Held;
        for (const HeldContext &H : S.Held)
          if (H.Must)
            Held.push_back(kindName(H.Kind));
        Call["held"] = std::move(Held);
        Calls.push_back(std::move(Call));
      };
      const clang::FunctionDecl *Callee = TuFacts::calledFunction(*C.Call);
      if (!C.ApiName.empty())
        continue;
      // Calls to the file's own functions: the sweep carries what it learns
      // of other TUs up through them.
      for (const FunctionFacts *Own : TU.callees(C))
        if (Own->InMainFile)
          Edge(Own->Name, true,
               Callee && Callee->getCanonicalDecl() == Own->Decl->getCanonicalDecl());
      // Calls the TU cannot follow itself: functions defined elsewhere.
      if (Callee && !TU.factsFor(Callee) && !Callee->isInlined() && !Callee->getBuiltinID())
        Edge(Callee->getName(), false, true);
    }
    llvm::json::Array Free;
    for (const ExportedPerCpuUse &U : Paths.exports()) {
      if (U.Function != F.Name)
        continue;
      llvm::json::Object Use = where(TU, Paths, U.Loc);
      Use["object"] = U.Object;
      Use["function"] = U.UseFunction;
      Use["note"] = U.Note;
      llvm::json::Array Steps;
      for (const ChainStep &C : U.Calls) {
        llvm::json::Object Step = where(TU, Paths, C.Loc);
        Step["function"] = C.Function;
        Step["note"] = C.Note;
        Steps.push_back(std::move(Step));
      }
      Use["calls"] = std::move(Steps);
      if (!U.Needs.empty())
        Use["needs"] = needStrings(U.Needs);
      Free.push_back(std::move(Use));
    }
    if (!Free.empty())
      O["percpu_free"] = std::move(Free);
    O["entry"] = std::move(Entry);
    O["returns_holding"] = std::move(Holding);
    O["releases"] = std::move(Releases);
    O["may_sleep"] = std::move(Sleeps);
    O["calls"] = std::move(Calls);
    Functions.push_back(std::move(O));
  }
  // Functions of other TUs this one registers, with the context they start in.
  llvm::json::Array Registers;
  for (const auto &[Name, Entries] : TU.ExternalEntries)
    for (const HeldContext &H : Entries) {
      llvm::json::Object R = where(TU, Paths, H.Begin);
      R["function"] = Name;
      R["kind"] = kindName(H.Kind);
      R["note"] = H.Note;
      Registers.push_back(std::move(R));
    }
  // Every file the TU read: what the sweep's incremental run re-hashes.
  llvm::json::Array Includes;
  for (auto It = TU.SM.fileinfo_begin(); It != TU.SM.fileinfo_end(); ++It) {
    llvm::SmallString<256> Abs(It->first->getName());
    TU.SM.getFileManager().makeAbsolutePath(Abs);
    Includes.push_back(Paths.relativePath(Abs));
  }
  return llvm::json::Object{{"functions", std::move(Functions)},
                            {"registers", std::move(Registers)},
                            {"includes", std::move(Includes)}};
}

} // namespace rtcheck
