#include "rules/PercpuBhSkippedLock.h"
#include "core/RtSkippedLock.h"
#include "fix/TakeLockOnRt.h"
#include "llvm/ADT/MapVector.h"
#include <map>

using namespace clang;

namespace rtcheck {
namespace {

std::string without(const RtSkippedLock &S) {
  return (S.Releases ? "releases the lock (" : "takes the lock (") + S.LockCall + "(" + S.LockArg +
         ")) only with " + S.Option;
}

// "&sd->input_pkt_queue.lock" -> "sd->input_pkt_queue.lock"
std::string lockName(const RtSkippedLock &S) {
  return StringRef(S.LockArg).ltrim("& ").str();
}

std::string skipped(const RtSkippedLock &S) {
  return S.AtomicCall + "() is skipped on PREEMPT_RT";
}

} // namespace

void reportRtSkippedLocks(const TuFacts &TU, FindingSink &Out, const char *RuleId) {
  // The lock and unlock wrappers of one lock are one finding, and one fix:
  // converting one without the other would unbalance them.
  llvm::MapVector<std::string, std::vector<RtSkippedLock>, std::map<std::string, unsigned>> Groups;
  for (RtSkippedLock &S : rtSkippedLocks(TU))
    Groups[S.Option + " " + S.LockArg].push_back(std::move(S));
  for (auto &[Key, Sites] : Groups) {
    const RtSkippedLock &First = Sites.front();
    std::vector<ChainStep> Chain;
    for (const RtSkippedLock &S : Sites) {
      bool Also = &S != &First;
      Chain.push_back({S.LockIf->getIfLoc(), S.F->Name,
                       (Also ? "also " + S.F->Name + "(): " : "") + without(S)});
      Chain.push_back({S.AtomicIf->getIfLoc(), S.F->Name, skipped(S)});
    }
    std::string Msg = "on PREEMPT_RT without " + First.Option + ", " + First.F->Name +
                      "() serialises nothing: it " + without(First) + " and " + skipped(First) +
                      ", so what " + lockName(First) + " guards is serialised only by disabled "
                      "BH, which on PREEMPT_RT is preemptible and, since Linux 6.18, optional; take "
                      "the lock on PREEMPT_RT too (IS_ENABLED(" + First.Option +
                      ") || IS_ENABLED(CONFIG_PREEMPT_RT))";
    if (Sites.size() > 1)
      Msg += " (" + std::to_string(Sites.size()) + " wrappers)";
    bool Takes = llvm::any_of(Sites, [](const RtSkippedLock &S) { return !S.Releases; });
    bool Releases = llvm::any_of(Sites, [](const RtSkippedLock &S) { return S.Releases; });
    FixBuilder Edits(TU.SM, TU.Ctx.getLangOpts());
    rtcheck_fix Fix{RTCHECK_FIX_NONE, nullptr, nullptr};
    std::string Reason;
    if (!Takes || !Releases) {
      Fix.summary = "no automatic conversion: the file has no matching wrapper that "
                    "releases (or takes) the lock; converting one side alone would unbalance it";
    } else if (llvm::all_of(Sites, [&](const RtSkippedLock &S) { return takeLockOnRt(S, Edits); })) {
      Fix.kind = RTCHECK_FIX_AUTO;
      Fix.summary = "take the lock on PREEMPT_RT too, in every wrapper of it "
                    "(|| IS_ENABLED(CONFIG_PREEMPT_RT); the else-branch loses its RT test), "
                    "as upstream's backlog_lock_irq_save() does";
    } else {
      Reason = "no automatic conversion: " + Edits.Reason;
      Fix.summary = Reason.c_str();
    }
    Out.report(RuleId, RTCHECK_WARNING, TU.SM, First.LockIf->getIfLoc(), First.F->Name, Msg, Chain,
               Fix, Fix.kind == RTCHECK_FIX_NONE ? nullptr : &Edits);
  }
}

} // namespace rtcheck
