#include "core/BpfRuns.h"
#include "core/KernelApi.h"

using namespace clang;

namespace rtcheck {
namespace {

bool ownAtomic(const FunctionFacts &F, size_t I) {
  return I < F.StateBefore.size() && F.StateBefore[I].ownTrulyAtomic();
}

bool ownAtomicBesidesPreempt(const FunctionFacts &F, size_t I) {
  if (I >= F.StateBefore.size())
    return false;
  for (const HeldContext &H : F.StateBefore[I].Held)
    if (H.Must && !H.FromEntry && isTrulyAtomic(H.Kind) && H.Kind != ContextKind::PreemptOff)
      return true;
  return false;
}

std::optional<std::string> directRun(const SpelledCall &C) {
  if (C.Representative && hasEffect(C.ApiName, ApiEffect::BPF_RUN))
    return C.ApiName.str() + "()";
  return std::nullopt;
}

// P, reached from call C of F: one step more at the front.
BpfPath through(BpfPath P, const FunctionFacts &F, const SpelledCall &C,
                const FunctionFacts &Callee) {
  P.Steps.insert(P.Steps.begin(), {C.Site, F.Name, "calls " + Callee.Name + "()"});
  return P;
}

} // namespace

const HeldContext *preemptSection(const ContextState &S, bool &OtherAtomic) {
  const HeldContext *Must = nullptr, *May = nullptr;
  OtherAtomic = false;
  for (const HeldContext &H : S.Held) {
    if (!isTrulyAtomic(H.Kind))
      continue;
    if (H.Kind != ContextKind::PreemptOff || H.FromEntry) {
      OtherAtomic |= H.Must;
      continue;
    }
    // rcu_read_lock_sched() is an RCU read side, not a pinning device.
    StringRef Api = H.Origin.empty() ? StringRef(H.Api) : StringRef(H.Origin.front().Note);
    if (Api.startswith("rcu_read_lock_sched"))
      continue;
    const HeldContext *&Slot = H.Must ? Must : May;
    if (!Slot)
      Slot = &H;
  }
  return Must ? Must : May;
}

bool holdsAt(const FunctionFacts &F, size_t I, const HeldContext &Entry) {
  if (I >= F.StateBefore.size())
    return false;
  for (const HeldContext &H : F.StateBefore[I].Held)
    if (H.sameEntry(Entry))
      return true;
  return false;
}

bool endsSection(const FunctionFacts &F, size_t I, const HeldContext &Section) {
  const ApiEntry *A = lookupApi(F.calls()[I].ApiName);
  if (!F.calls()[I].Representative || !A || A->Effect != ApiEffect::PREEMPT_ON)
    return false;
  const HeldContext *Innermost = nullptr;
  for (const HeldContext &H : F.StateBefore[I].Held)
    if (H.Kind == ContextKind::PreemptOff)
      Innermost = &H;
  return Innermost && Innermost->sameEntry(Section);
}

std::pair<SourceLocation, SourceLocation>
sectionExtent(const TuFacts &TU, const FunctionFacts &F, const HeldContext &Section) {
  SourceLocation Begin = TU.SM.getFileLoc(Section.Begin), End;
  for (size_t I = 0; I < F.calls().size(); ++I)
    if (holdsAt(F, I, Section)) {
      SourceLocation L = TU.SM.getFileLoc(F.calls()[I].Site);
      if (End.isInvalid() || TU.SM.isBeforeInTranslationUnit(End, L))
        End = L;
    }
  return {Begin, End};
}

bool withinExtent(const TuFacts &TU, std::pair<SourceLocation, SourceLocation> Extent,
                  SourceLocation Loc) {
  auto [Begin, End] = Extent;
  if (Begin.isInvalid() || End.isInvalid() || !TU.SM.isWrittenInSameFile(Begin, Loc))
    return false;
  return !TU.SM.isBeforeInTranslationUnit(Loc, Begin) &&
         !TU.SM.isBeforeInTranslationUnit(End, Loc);
}

BpfRuns::BpfRuns(const TuFacts &TU) : TU(TU) { findRunners(); }

std::optional<BpfPath> BpfRuns::runAt(const FunctionFacts &F, const SpelledCall &C) const {
  if (auto Api = directRun(C))
    return BpfPath{{{C.Site, F.Name, "runs a BPF program: " + *Api}}, *Api, &F};
  for (const FunctionFacts *Callee : TU.callees(C)) {
    auto It = Runners.find(Callee);
    if (Callee == &F || It == Runners.end() || It->second.Steps.size() >= MaxDepth)
      continue;
    return through(It->second, F, C, *Callee);
  }
  return std::nullopt;
}

// Runners: functions whose calls reach a BPF run outside a truly atomic
// section of their own (inside one it is reported, or not ours), to a
// fixpoint. Each round adds a function, so it ends.
void BpfRuns::findRunners() {
  for (bool Changed = true; Changed;) {
    Changed = false;
    for (const FunctionFacts &F : TU.Functions) {
      if (Runners.count(&F))
        continue;
      for (size_t I = 0; I < F.calls().size(); ++I) {
        // A run under the function's own preempt_disable() still makes it
        // a runner: its callers' sections are reported too, so that one
        // "rtcheck fix" converts them all.
        if (ownAtomicBesidesPreempt(F, I))
          continue;
        if (std::optional<BpfPath> P = runAt(F, F.calls()[I])) {
          Runners[&F] = std::move(*P);
          Changed = true;
          break;
        }
      }
    }
  }
}

// Per-CPU writers: functions with a non-atomic per-CPU update outside a
// truly atomic section of their own, or calling one (bounded depth).
void BpfRuns::findPerCpuWriters() const {
  if (WritersFound)
    return;
  WritersFound = true;
  const LangOptions &LO = TU.Ctx.getLangOpts();
  for (const FunctionFacts &F : TU.Functions) {
    if (!F.InMainFile) // header inlines: no contexts known inside
      continue;
    OwnWrites[&F] = perCpuWrites(F.Decl, TU.SM, LO);
    for (const PerCpuWrite &W : OwnWrites[&F])
      if (!insideOwnSection(F, W.Loc)) {
        Writers[&F] = BpfPath{{{W.Loc, F.Name, W.What}}, W.What, &F};
        break;
      }
  }
  for (bool Changed = true; Changed;) {
    Changed = false;
    for (const FunctionFacts &F : TU.Functions) {
      if (Writers.count(&F))
        continue;
      for (size_t I = 0; I < F.calls().size() && !Writers.count(&F); ++I) {
        if (ownAtomic(F, I))
          continue;
        for (const FunctionFacts *Callee : TU.callees(F.calls()[I])) {
          auto It = Writers.find(Callee);
          if (Callee == &F || It == Writers.end() || It->second.Steps.size() >= MaxDepth)
            continue;
          Writers[&F] = through(It->second, F, F.calls()[I], *Callee);
          Changed = true;
          break;
        }
      }
    }
  }
}

// Inside a truly atomic section F enters itself: that section protects it.
bool BpfRuns::insideOwnSection(const FunctionFacts &F, SourceLocation Loc) const {
  std::vector<const HeldContext *> Sections;
  for (const ContextState &S : F.StateBefore)
    for (const HeldContext &H : S.Held)
      if (H.Must && !H.FromEntry && isTrulyAtomic(H.Kind) &&
          llvm::none_of(Sections, [&](const HeldContext *O) { return O->sameEntry(H); }))
        Sections.push_back(&H);
  return llvm::any_of(Sections, [&](const HeldContext *H) {
    return withinExtent(TU, sectionExtent(TU, F, *H), Loc);
  });
}

std::optional<BpfPath> BpfRuns::perCpuUpdate(const FunctionFacts &F,
                                             const HeldContext &Section) const {
  findPerCpuWriters();
  auto Extent = sectionExtent(TU, F, Section);
  if (auto Own = OwnWrites.find(&F); Own != OwnWrites.end())
    for (const PerCpuWrite &W : Own->second)
      if (withinExtent(TU, Extent, W.Loc))
        return BpfPath{{{W.Loc, F.Name, W.What + " in the same section"}}, W.What, &F};
  for (size_t I = 0; I < F.calls().size(); ++I) {
    if (!holdsAt(F, I, Section))
      continue;
    for (const FunctionFacts *Callee : TU.callees(F.calls()[I])) {
      auto It = Writers.find(Callee);
      if (Callee == &F || It == Writers.end())
        continue;
      return through(It->second, F, F.calls()[I], *Callee);
    }
  }
  return std::nullopt;
}

std::optional<RedundantMigrate> redundantMigrate(const FunctionFacts &F, size_t At) {
  const HeldContext *Migrate = nullptr, *Bh = nullptr;
  for (const HeldContext &H : F.StateBefore[At].Held) {
    if (H.Must && !H.FromEntry && H.Kind == ContextKind::MigrateOff && !Migrate)
      Migrate = &H;
    if (H.Must && !H.FromEntry && H.Kind == ContextKind::BhOff && !Bh)
      Bh = &H;
  }
  if (!Migrate || !Bh)
    return std::nullopt;
  for (size_t I = 0; I < F.calls().size(); ++I) {
    if (!holdsAt(F, I, *Migrate))
      continue;
    const ApiEntry *A = lookupApi(F.calls()[I].ApiName);
    if (A && (A->Effect == ApiEffect::BH_OFF || A->Effect == ApiEffect::MIGRATE_ON))
      continue;
    bool BhHeld = false;
    for (const HeldContext &H : F.StateBefore[I].Held)
      BhHeld |= H.Kind == ContextKind::BhOff && H.Must;
    if (!BhHeld)
      return std::nullopt;
  }
  return RedundantMigrate{Migrate, Bh};
}

} // namespace rtcheck
