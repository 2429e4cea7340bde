//===- RwsemNonOwner.cpp - rt-rwsem-non-owner -----------------------------===//
// down_read_non_owner()/up_read_non_owner() and their wrappers let one task
// release a read lock another task took. On PREEMPT_RT an rw_semaphore is
// rt_mutex based: priority inheritance boosts the owner, and a lock held on
// behalf of another task has no owner to boost (tglx 2020, the BPF stackmap
// fix; locktypes.rst: the interface itself works on every config).
// Reports each RT-reachable call of the API, and of thin functions of the TU
// that forward their argument to it (wrappers, to a fixpoint).
// Docs: docs/rules/rt-rwsem-non-owner.md
#include "core/Analysis.h"
#include "core/KernelApi.h"
#include "fix/ForceRtFallback.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/DenseMap.h"

using namespace clang;

namespace rtcheck {
namespace {

const char *const RuleId = "rt-rwsem-non-owner";

// Does E use one of FD's parameters?
bool usesParameter(const Expr *E, const FunctionDecl *FD) {
  struct Finder : RecursiveASTVisitor<Finder> {
    const FunctionDecl *FD;
    bool Found = false;
    bool VisitDeclRefExpr(DeclRefExpr *R) {
      if (const auto *P = dyn_cast<ParmVarDecl>(R->getDecl()))
        Found |= P->getDeclContext() == FD;
      return !Found;
    }
  } F;
  F.FD = FD;
  F.TraverseStmt(const_cast<Expr *>(E));
  return F.Found;
}

// A wrapper is a thin function around the call (mmap_read_unlock_non_owner
// style: a trace point and the call). A large function that happens to take
// its caller's lock is reported inside, not at every caller.
constexpr unsigned MaxWrapperStatements = 3;

bool isThin(const FunctionDecl *FD) {
  const auto *Body = dyn_cast_or_null<CompoundStmt>(FD->getBody());
  return Body && Body->size() <= MaxWrapperStatements;
}

bool forwardsParameter(const SpelledCall &C, const FunctionDecl *FD) {
  for (const Expr *A : C.Call->arguments())
    if (usesParameter(A, FD))
      return true;
  return false;
}

bool isAcquisition(StringRef Api) { return Api.startswith("down_") || Api.contains("trylock"); }

// How a call reaches the non-owner API: directly, or through a wrapper.
struct Wrapper {
  const FunctionFacts *Fn;
  const SpelledCall *Forward; ///< the call in Fn that forwards its argument
  std::string Api;            ///< the non-owner API at the end of the chain
};

class RwsemNonOwner : public Rule {
public:
  void check(const TuFacts &TU, FindingSink &Out) override {
    llvm::DenseMap<const FunctionDecl *, Wrapper> Wrappers;
    auto Target = [&](const SpelledCall &C) -> std::string {
      if (hasEffect(C.ApiName, ApiEffect::RWSEM_NON_OWNER))
        return C.ApiName.str();
      const FunctionDecl *Callee = C.Call->getDirectCallee();
      auto It = Callee ? Wrappers.find(Callee->getCanonicalDecl()) : Wrappers.end();
      return It == Wrappers.end() ? std::string() : It->second.Api;
    };
    // A function that passes one of its parameters to the API (or to a
    // wrapper) is a wrapper itself. Each round adds at least one function.
    for (bool Changed = true; Changed;) {
      Changed = false;
      for (const FunctionFacts &F : TU.Functions) {
        const FunctionDecl *Key = F.Decl->getCanonicalDecl();
        if (!F.InMainFile || Wrappers.count(Key) || !isThin(F.Decl))
          continue;
        for (const SpelledCall &C : F.calls()) {
          std::string Api = Target(C);
          if (!Api.empty() && forwardsParameter(C, F.Decl)) {
            Wrappers[Key] = {&F, &C, Api};
            Changed = true;
            break;
          }
        }
      }
    }

    for (const FunctionFacts &F : TU.Functions)
      for (size_t I = 0; I < F.calls().size(); ++I) {
        const SpelledCall &C = F.calls()[I];
        std::string Api = Target(C);
        if (Api.empty() || !F.InMainFile)
          continue;
        std::string Spelled = C.ApiName.empty() ? C.outermostName().str() : C.ApiName.str();
        std::vector<ChainStep> Chain;
        std::string Msg = Spelled + "()";
        if (Spelled != Api) {
          Msg += " forwards to " + Api + "(), which";
          // Walk down the wrappers to the API call.
          const FunctionDecl *Callee = C.Call->getDirectCallee();
          for (int Depth = 0; Callee && Depth < 16; ++Depth) {
            auto It = Wrappers.find(Callee->getCanonicalDecl());
            if (It == Wrappers.end())
              break;
            const Wrapper &W = It->second;
            Chain.push_back({W.Forward->Site, W.Fn->Name,
                             W.Fn->Name + "() passes its argument to " +
                                 W.Forward->outermostName().str() + "() here"});
            Callee = W.Forward->Call->getDirectCallee();
          }
        }
        Msg += " takes or releases an rw_semaphore on behalf of another task: on "
               "PREEMPT_RT rw_semaphores are rt_mutex based, and a read lock that no "
               "task owns escapes priority inheritance";
        // In sleepable context the interface works on RT (locktypes.rst): a
        // note. RT forbids it in truly atomic context or an irq_work, where
        // not even the trylock is allowed (kernel/bpf/mmap_unlock_work.h).
        rtcheck_severity Severity = RTCHECK_NOTE;
        const ContextState &State = F.StateBefore[I];
        const HeldContext *Hostile = State.trulyAtomic();
        for (const HeldContext &H : State.Held)
          if (!Hostile && H.Must && H.Kind == ContextKind::IrqWork)
            Hostile = &H;
        if (Hostile) {
          Severity = RTCHECK_ERROR;
          Msg += "; here it runs " +
                 (Hostile->FromEntry ? "as " + Hostile->Note
                                     : "in truly atomic context (" + describe(*Hostile) + ")") +
                 ", where PREEMPT_RT does not allow rw_semaphore operations at all";
          Chain.insert(Chain.begin(), {Hostile->Begin, Hostile->FromEntry ? "" : F.Name,
                                       Hostile->FromEntry ? Hostile->Note
                                                          : describe(*Hostile) +
                                                                " enters truly atomic context"});
        }
        rtcheck_fix Fix{RTCHECK_FIX_NONE,
                        "no automatic conversion: make RT take a path where the owner "
                        "releases the lock (see docs/rules/rt-rwsem-non-owner.md)",
                        nullptr};
        FixBuilder Edits(TU.SM, TU.Ctx.getLangOpts());
        std::string Reason;
        // Forcing a fallback is safe where the lock is taken: RT then never
        // takes it for another task. Skipping a release would leak it.
        if (Spelled == Api && isAcquisition(Api)) {
          const IfStmt *If = fallbackBranch(F, C, [&](const Stmt *S) {
            return containsCallOf(S, F, ApiEffect::RWSEM_NON_OWNER);
          });
          if (If && forceFallbackOnRt(If, Edits)) {
            Fix.kind = RTCHECK_FIX_AUTO;
            Fix.summary = "make PREEMPT_RT take the existing fallback branch "
                          "(IS_ENABLED(CONFIG_PREEMPT_RT) || ...), as upstream did for the "
                          "BPF stack map";
          } else if (If) {
            Reason = "no automatic conversion: " + Edits.Reason;
            Fix.summary = Reason.c_str();
          }
        }
        Out.report(RuleId, Severity, TU.SM, C.Site, F.Name, Msg, Chain, Fix, &Edits);
      }
  }
};

} // namespace

std::unique_ptr<Rule> createRwsemNonOwner() { return std::make_unique<RwsemNonOwner>(); }

} // namespace rtcheck
