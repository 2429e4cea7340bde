//===- BhSerialisation.h - what serialises per-CPU data on RT ---*- C++ -*-===//
// A use of per-CPU data (or a call made) in a context state is serialised by
// a lock or a truly atomic context, only by disabled BH (which PREEMPT_RT
// makes preemptible), or by nothing of its own: then its callers decide.
// Shared by rt-percpu-bh and the facts the sweep carries across TUs.
#ifndef RTCHECK_CORE_BHSERIALISATION_H
#define RTCHECK_CORE_BHSERIALISATION_H

#include "core/Context.h"
#include "llvm/ADT/StringMap.h"

namespace rtcheck {

enum class Serialised {
  Nothing,   ///< no context: a caller may give one
  BhOnly,    ///< only BH disabled: a finding
  Protected, ///< a lock, or truly atomic (another rule's concern)
};

/// What serialises state S; Bh is set to its first BH context.
inline Serialised serialisation(const ContextState &S, const HeldContext *&Bh) {
  Bh = nullptr;
  bool Protected = false;
  for (const HeldContext &H : S.Held) {
    if (!H.Must)
      continue;
    if (isTrulyAtomic(H.Kind) || H.Kind == ContextKind::SleepingLock ||
        (H.Kind == ContextKind::RtLock && !H.DisablesBh))
      Protected = true; // a lock, or preemption/irqs off
    else if (H.Kind == ContextKind::BhOff || H.Kind == ContextKind::Softirq ||
             (H.Kind == ContextKind::RtLock && H.DisablesBh))
      Bh = Bh ? Bh : &H;
  }
  if (Protected || S.Exclusive)
    return Serialised::Protected;
  return Bh ? Serialised::BhOnly : Serialised::Nothing;
}

/// "local_bh_disable() disables BH", or how the function is entered in softirq.
inline std::string bhPhrase(const HeldContext &H) {
  if (H.FromEntry)
    return H.Note;
  return describe(H) + (H.Kind == ContextKind::RtLock
                            ? " disables BH; its lock is not held at every use"
                            : " disables BH");
}

/// Per object, whether every BH-only use of it is in the callbacks of one
/// timer or soft hrtimer registration (HeldContext::SerialCallback): they never
/// run at the same time on a CPU, even on RT (the timer base's expiry lock),
/// so no other task on this CPU is to be kept out (mce_next_interval). A use
/// in any other BH section makes the object shared.
class SerialCallbackUses {
public:
  void note(llvm::StringRef Object, const HeldContext &Bh) {
    clang::SourceLocation Entry = Bh.FromEntry && Bh.SerialCallback && Bh.Must
                                      ? Bh.Begin : clang::SourceLocation();
    auto [It, New] = Only.insert({Object, Entry});
    if (!New && It->second != Entry)
      It->second = clang::SourceLocation();
  }
  bool onlyThere(llvm::StringRef Object) const {
    auto It = Only.find(Object);
    return It != Only.end() && It->second.isValid();
  }
  void clear() { Only.clear(); }

private:
  llvm::StringMap<clang::SourceLocation> Only;
};

} // namespace rtcheck
#endif
