//===- EntryContexts.cpp - where the TU's functions are registered --------===//
// A function passed to request_irq(..., IRQF_NO_THREAD), IRQ_WORK_INIT_HARD(),
// stored in a hard hrtimer's .function or in an irq_chip member starts in a
// truly atomic context. The knowledge is include/rtcheck/entry_contexts.def.
// The same walk records which functions the TU stores in which struct
// members, so calls through "ops->member()" can be followed.
#include "core/ContextEngine.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringSet.h"

using namespace clang;

namespace rtcheck {
namespace {

struct Registration {
  StringRef Api;
  int CallbackArg, CondArg;
  StringRef CondTokens;
  ContextKind Kind;
  StringRef Why;
};
const Registration Registrations[] = {
#define RTCHECK_REGISTRATION(Api, CallbackArg, CondArg, Tokens, Context, Why) \
  {Api, CallbackArg, CondArg, Tokens, ContextKind::Context, Why},
#define RTCHECK_HRTIMER_INIT(Api, TimerArg, ModeArg)
#define RTCHECK_OPS_MEMBER(Struct, Member, Context, Why)
#define RTCHECK_ASSERTION(Api, Tokens, Context, Why)
#include "rtcheck/entry_contexts.def"
#undef RTCHECK_REGISTRATION
#undef RTCHECK_HRTIMER_INIT
#undef RTCHECK_OPS_MEMBER
#undef RTCHECK_ASSERTION
};

struct HrtimerInit {
  StringRef Api;
  int TimerArg, ModeArg;
};
const HrtimerInit HrtimerInits[] = {
#define RTCHECK_REGISTRATION(Api, CallbackArg, CondArg, Tokens, Context, Why)
#define RTCHECK_HRTIMER_INIT(Api, TimerArg, ModeArg) {Api, TimerArg, ModeArg},
#define RTCHECK_OPS_MEMBER(Struct, Member, Context, Why)
#define RTCHECK_ASSERTION(Api, Tokens, Context, Why)
#include "rtcheck/entry_contexts.def"
#undef RTCHECK_REGISTRATION
#undef RTCHECK_HRTIMER_INIT
#undef RTCHECK_OPS_MEMBER
#undef RTCHECK_ASSERTION
};

struct OpsMember {
  StringRef Struct, Member;
  ContextKind Kind;
  StringRef Why;
};
const OpsMember OpsMembers[] = {
#define RTCHECK_REGISTRATION(Api, CallbackArg, CondArg, Tokens, Context, Why)
#define RTCHECK_HRTIMER_INIT(Api, TimerArg, ModeArg)
#define RTCHECK_OPS_MEMBER(Struct, Member, Context, Why) {Struct, Member, ContextKind::Context, Why},
#define RTCHECK_ASSERTION(Api, Tokens, Context, Why)
#include "rtcheck/entry_contexts.def"
#undef RTCHECK_REGISTRATION
#undef RTCHECK_HRTIMER_INIT
#undef RTCHECK_OPS_MEMBER
#undef RTCHECK_ASSERTION
};

struct OpsUnless {
  StringRef Struct, Flag;
};
const OpsUnless OpsUnlesses[] = {
#define RTCHECK_REGISTRATION(Api, CallbackArg, CondArg, Tokens, Context, Why)
#define RTCHECK_HRTIMER_INIT(Api, TimerArg, ModeArg)
#define RTCHECK_OPS_MEMBER(Struct, Member, Context, Why)
#define RTCHECK_OPS_UNLESS(Struct, Flag) {Struct, Flag},
#define RTCHECK_ASSERTION(Api, Tokens, Context, Why)
#include "rtcheck/entry_contexts.def"
#undef RTCHECK_REGISTRATION
#undef RTCHECK_HRTIMER_INIT
#undef RTCHECK_OPS_MEMBER
#undef RTCHECK_ASSERTION
};

struct Assertion {
  StringRef Api, Tokens;
  ContextKind Kind;
  StringRef Why;
};
const Assertion Assertions[] = {
#define RTCHECK_REGISTRATION(Api, CallbackArg, CondArg, Tokens, Context, Why)
#define RTCHECK_HRTIMER_INIT(Api, TimerArg, ModeArg)
#define RTCHECK_OPS_MEMBER(Struct, Member, Context, Why)
#define RTCHECK_ASSERTION(Api, Tokens, Context, Why) {Api, Tokens, ContextKind::Context, Why},
#include "rtcheck/entry_contexts.def"
#undef RTCHECK_REGISTRATION
#undef RTCHECK_HRTIMER_INIT
#undef RTCHECK_OPS_MEMBER
#undef RTCHECK_ASSERTION
};

const StringRef SerialCallbacks[] = {
#define RTCHECK_REGISTRATION(Api, CallbackArg, CondArg, Tokens, Context, Why)
#define RTCHECK_HRTIMER_INIT(Api, TimerArg, ModeArg)
#define RTCHECK_OPS_MEMBER(Struct, Member, Context, Why)
#define RTCHECK_ASSERTION(Api, Tokens, Context, Why)
#define RTCHECK_SERIAL_CALLBACK(Api) Api,
#include "rtcheck/entry_contexts.def"
#undef RTCHECK_REGISTRATION
#undef RTCHECK_HRTIMER_INIT
#undef RTCHECK_OPS_MEMBER
#undef RTCHECK_ASSERTION
};

bool containsToken(StringRef Text, StringRef Tokens) {
  llvm::SmallVector<StringRef, 4> Parts;
  Tokens.split(Parts, '|');
  for (StringRef T : Parts)
    if (!T.empty() && Text.contains(T))
      return true;
  return false;
}

std::string normalizeObject(StringRef S) {
  std::string Out;
  for (char C : S)
    if (!isspace((unsigned char)C))
      Out += C;
  if (!Out.empty() && Out[0] == '&')
    Out.erase(0, 1);
  return Out;
}

class Finder : public RecursiveASTVisitor<Finder> {
public:
  Finder(TuFacts &TU) : TU(TU), SM(TU.SM), LO(TU.Ctx.getLangOpts()) {
    // Timers set up in a *_HARD mode, by the object as written.
    for (const FunctionFacts &F : TU.Functions)
      for (const SpelledCall &C : F.calls())
        for (const HrtimerInit &H : HrtimerInits)
          if (llvm::is_contained(C.Names, H.Api) &&
              spelledArgument(SM, C.Site, H.ModeArg).find("_HARD") != std::string::npos)
            HardTimers.insert(normalizeObject(spelledArgument(SM, C.Site, H.TimerArg)));
  }

  // Top-down, so no parent map of the whole TU is needed.
  bool VisitDeclRefExpr(DeclRefExpr *R) {
    // IRQ_WORK_INIT_HARD(fn), register_nmi_handler(..., fn, ...): macros.
    if (!R->getLocation().isMacroID())
      return true;
    Target T = target(R);
    if (!T)
      return true;
    for (StringRef Macro : enclosingMacroArgs(R->getLocation(), SM, LO))
      for (const Registration &Reg : Registrations)
        if (Reg.Api == Macro && Reg.CondArg < 0)
          give(T, Reg.Kind, Reg.Api.str() + "()", Reg.Why, where(R));
    return true;
  }

  bool VisitCallExpr(CallExpr *C) {
    for (unsigned I = 0; I < C->getNumArgs(); ++I)
      if (const DeclRefExpr *R = functionRef(C->getArg(I)))
        if (Target T = target(R))
          fromCall(*C, I, T, where(R));
    return true;
  }

  bool VisitBinaryOperator(BinaryOperator *B) {
    if (B->getOpcode() == BO_Assign)
      if (const DeclRefExpr *R = functionRef(B->getRHS()))
        if (Target T = target(R))
          fromAssignment(*B, T, where(R));
    return true;
  }

  bool VisitInitListExpr(InitListExpr *IL) {
    const InitListExpr *Sem = IL->isSemanticForm() ? IL : IL->getSemanticForm();
    const auto *RT = Sem ? Sem->getType()->getAs<RecordType>() : nullptr;
    if (!RT)
      return true;
    unsigned I = 0;
    bool Contexts = !flagSet(*RT->getDecl(), *Sem);
    for (const FieldDecl *Field : RT->getDecl()->fields()) {
      if (I >= Sem->getNumInits())
        break;
      if (const DeclRefExpr *R = functionRef(Sem->getInit(I++)))
        if (Target T = target(R)) {
          storedIn(Field, T);
          if (Contexts)
            fromMember(RT->getDecl()->getName(), Field->getName(), T, where(R));
        }
    }
    return true;
  }

  // ".might_sleep = true" in a bpf_func_proto (RTCHECK_OPS_UNLESS).
  bool flagSet(const RecordDecl &RD, const InitListExpr &Sem) const {
    for (const OpsUnless &U : OpsUnlesses) {
      if (RD.getName() != U.Struct)
        continue;
      unsigned I = 0;
      for (const FieldDecl *Field : RD.fields()) {
        if (I >= Sem.getNumInits())
          break;
        const Expr *Init = Sem.getInit(I++);
        if (Field->getName() != U.Flag || Init->isValueDependent())
          continue;
        Expr::EvalResult V;
        if (Init->EvaluateAsInt(V, TU.Ctx) && V.Val.getInt() != 0)
          return true;
      }
    }
    return false;
  }

private:
  TuFacts &TU;
  const SourceManager &SM;
  const LangOptions &LO;
  llvm::StringSet<> HardTimers;

  // A function the TU registers: one of its own, or one defined in another
  // TU, whose entry contexts the sweep carries there (TuFacts::ExternalEntries).
  struct Target {
    FunctionFacts *Facts = nullptr;
    std::vector<HeldContext> *Entries = nullptr;
    std::string Name;
    explicit operator bool() const { return Entries; }
  };

  Target target(const DeclRefExpr *R) {
    const auto *FD = dyn_cast<FunctionDecl>(R->getDecl());
    if (!FD)
      return {};
    if (FunctionFacts *F = TU.factsFor(FD))
      return F->InMainFile ? Target{F, &F->EntryContexts, F->Name} : Target{};
    if (FD->hasBody() || !FD->isExternallyVisible())
      return {};
    std::string Name = FD->getName().str();
    return {nullptr, &TU.ExternalEntries[Name], Name};
  }

  SourceLocation where(const DeclRefExpr *R) const { return SM.getExpansionLoc(R->getLocation()); }

  // "fn", "&fn", "(void *)fn" as an argument or initializer.
  static const DeclRefExpr *functionRef(const Expr *E) {
    while (E) {
      E = E->IgnoreParenCasts();
      if (const auto *U = dyn_cast<UnaryOperator>(E); U && U->getOpcode() == UO_AddrOf) {
        E = U->getSubExpr();
        continue;
      }
      const auto *R = dyn_cast<DeclRefExpr>(E);
      return R && isa<FunctionDecl>(R->getDecl()) ? R : nullptr;
    }
    return nullptr;
  }

public:
  // lockdep_assert_in_softirq(), WARN_ON_ONCE(!in_softirq()) ... as a
  // statement of the function's body: the function declares its context.
  void fromAssertions(FunctionFacts &F) {
    const auto *Body = dyn_cast_or_null<CompoundStmt>(F.Decl->getBody());
    if (!Body)
      return;
    std::string Squeezed;
    for (const Stmt *S : Body->body()) {
      if (!S->getBeginLoc().isMacroID())
        continue;
      SourceLocation Site;
      auto Names = spelledMacros(S->getBeginLoc(), SM, LO, Site);
      if (Names.empty())
        continue;
      for (const Assertion &A : Assertions) {
        if (Names.front() != A.Api)
          continue;
        Squeezed.clear();
        for (char C : spelledArgument(SM, Site, 0))
          if (!isspace((unsigned char)C))
            Squeezed += C;
        if (A.Tokens.empty() || containsToken(Squeezed, A.Tokens))
          give(F, A.Kind, A.Api.str() + "()", A.Why, Site, /*Assertion=*/true);
      }
    }
  }

private:
  void give(FunctionFacts &F, ContextKind Kind, const std::string &By, StringRef Why,
            SourceLocation Where, bool Assertion = false) {
    give(Target{&F, &F.EntryContexts, F.Name}, Kind, By, Why, Where, Assertion);
  }

  void give(const Target &F, ContextKind Kind, const std::string &By, StringRef Why,
            SourceLocation Where, bool Assertion = false) {
    for (const HeldContext &H : *F.Entries)
      if (H.Begin == Where)
        return;
    HeldContext H;
    H.Kind = Kind;
    H.Api = By;
    H.Begin = Where;
    H.FromEntry = true;
    H.Note = Assertion ? F.Name + "() " + Why.str() + " (" + By + ")"
                       : F.Name + "() runs as " + Why.str() + ", set up by " + By;
    F.Entries->push_back(std::move(H));
  }

  void fromCall(const CallExpr &C, int Index, const Target &Target, SourceLocation Where) {
    SpelledCall Sp = spellCall(&C, SM, LO);
    for (const Registration &Reg : Registrations) {
      if (Reg.CallbackArg != Index || !llvm::is_contained(Sp.Names, Reg.Api))
        continue;
      if (Reg.CondArg >= 0 &&
          !containsToken(spelledArgument(SM, Sp.Site, Reg.CondArg), Reg.CondTokens))
        continue;
      size_t Before = Target.Entries->size();
      give(Target, Reg.Kind, Reg.Api.str() + "()", Reg.Why, Where);
      if (Target.Entries->size() > Before && Reg.Kind == ContextKind::Softirq &&
          llvm::is_contained(SerialCallbacks, Reg.Api))
        Target.Entries->back().SerialCallback = true;
    }
  }

  void fromAssignment(const BinaryOperator &B, const Target &Target, SourceLocation Where) {
    const auto *M = dyn_cast<MemberExpr>(B.getLHS()->IgnoreParenImpCasts());
    if (!M)
      return;
    StringRef Member = M->getMemberDecl()->getName();
    if (Member == "function") { // timer.function = cb
      CharSourceRange R = Lexer::makeFileCharRange(
          CharSourceRange::getTokenRange(M->getBase()->getSourceRange()), SM, LO);
      if (R.isValid() && HardTimers.count(normalizeObject(Lexer::getSourceText(R, SM, LO))))
        give(Target, ContextKind::HardIrq, "a *_HARD hrtimer", "a hard hrtimer callback",
             Where);
    }
    if (const auto *Field = dyn_cast<FieldDecl>(M->getMemberDecl()))
      storedIn(Field, Target);
    if (const auto *RD = dyn_cast<RecordDecl>(M->getMemberDecl()->getDeclContext()))
      fromMember(RD->getName(), Member, Target, Where);
  }

  void storedIn(const FieldDecl *Field, const Target &Target) {
    if (!Target.Facts)
      return; // calls through the member reach nothing this TU can follow
    auto &Targets = TU.OpsTargets[Field->getCanonicalDecl()];
    if (!llvm::is_contained(Targets, Target.Facts))
      Targets.push_back(Target.Facts);
  }

  void fromMember(StringRef Struct, StringRef Member, const Target &Target,
                  SourceLocation Where) {
    for (const OpsMember &O : OpsMembers)
      if (O.Struct == Struct && O.Member == Member)
        give(Target, O.Kind, "struct " + Struct.str() + "." + Member.str(), O.Why, Where);
  }
};

} // namespace

void findEntryContexts(TuFacts &TU) {
  Finder F(TU);
  // Registrations are in the file's own code; headers are not walked.
  for (Decl *D : TU.Ctx.getTranslationUnitDecl()->decls())
    if (TU.SM.isInMainFile(TU.SM.getExpansionLoc(D->getBeginLoc())))
      F.TraverseDecl(D);
  for (FunctionFacts &Fn : TU.Functions)
    if (Fn.InMainFile)
      F.fromAssertions(Fn);
}

} // namespace rtcheck
