#include "fix/PreemptToMigrate.h"
#include "core/KernelApi.h"

using namespace clang;

namespace rtcheck {

bool buildPreemptToMigrate(const FunctionFacts &F, const HeldContext &Section, FixBuilder &Edits,
                           std::string &Why) {
  if (Section.FromEntry || !Section.Call || !Section.Origin.empty() ||
      Section.Api != "preempt_disable")
    return Why = "preemption is disabled by " + describe(Section) +
                 ", not by a preempt_disable() of this function",
           false;
  // In a BH-off section the CPU is already pinned (on RT by the per-CPU
  // softirq lock): the preempt_disable() should go, not become another pin.
  if (auto It = F.Cfg.CallIndex.find(Section.Call); It != F.Cfg.CallIndex.end())
    for (const HeldContext &H : F.StateBefore[It->second].Held)
      if (H.Must && H.Kind == ContextKind::BhOff)
        return Why = "BH is already disabled around it (" + describe(H) +
                     "): drop the preempt_disable()/preempt_enable() pair instead",
               false;
  unsigned Exits = 0;
  for (size_t I = 0; I < F.calls().size(); ++I) {
    const SpelledCall &C = F.calls()[I];
    const ApiEntry *A = lookupApi(C.ApiName);
    if (!C.Representative || !A || A->Effect != ApiEffect::PREEMPT_ON)
      continue;
    // An exit of this section: the innermost preemption-off entry it ends.
    const HeldContext *Innermost = nullptr;
    for (const HeldContext &H : F.StateBefore[I].Held)
      if (H.Kind == ContextKind::PreemptOff)
        Innermost = &H;
    if (!Innermost || !Innermost->sameEntry(Section))
      continue;
    if (C.ApiName != "preempt_enable" || C.outermostName() != "preempt_enable")
      return Why = "the section ends with " + C.ApiName.str() + "()", false;
    if (!Edits.replace(SourceRange(C.Site, C.Site), "migrate_enable"))
      return Why = Edits.Reason, false;
    ++Exits;
  }
  if (!Exits)
    return Why = "the section's end is not in this function", false;
  if (!Edits.replace(SourceRange(Section.Begin, Section.Begin), "migrate_disable"))
    return Why = Edits.Reason, false;
  return true;
}

} // namespace rtcheck
