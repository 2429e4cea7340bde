//===- EntryContexts.cpp - functions that start truly atomic ---------------===//
// A function passed to request_irq(..., IRQF_NO_THREAD), IRQ_WORK_INIT_HARD(),
// stored in a hard hrtimer's .function or in an irq_chip member starts in a
// truly atomic context. The knowledge is include/rtcheck/entry_contexts.def.
#include "core/ContextEngine.h"
#include "clang/AST/ParentMapContext.h"
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
#include "rtcheck/entry_contexts.def"
#undef RTCHECK_REGISTRATION
#undef RTCHECK_HRTIMER_INIT
#undef RTCHECK_OPS_MEMBER
};

struct HrtimerInit {
  StringRef Api;
  int TimerArg, ModeArg;
};
const HrtimerInit HrtimerInits[] = {
#define RTCHECK_REGISTRATION(Api, CallbackArg, CondArg, Tokens, Context, Why)
#define RTCHECK_HRTIMER_INIT(Api, TimerArg, ModeArg) {Api, TimerArg, ModeArg},
#define RTCHECK_OPS_MEMBER(Struct, Member, Context, Why)
#include "rtcheck/entry_contexts.def"
#undef RTCHECK_REGISTRATION
#undef RTCHECK_HRTIMER_INIT
#undef RTCHECK_OPS_MEMBER
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
#include "rtcheck/entry_contexts.def"
#undef RTCHECK_REGISTRATION
#undef RTCHECK_HRTIMER_INIT
#undef RTCHECK_OPS_MEMBER
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

// Names of the macros whose arguments carry the token at Loc, innermost first.
llvm::SmallVector<StringRef, 4> enclosingMacroArgs(SourceLocation Loc, const SourceManager &SM,
                                                   const LangOptions &LO) {
  llvm::SmallVector<StringRef, 4> Names;
  while (Loc.isMacroID() && SM.isMacroArgExpansion(Loc)) {
    SourceLocation Param = SM.getImmediateExpansionRange(Loc).getBegin();
    StringRef Name = Lexer::getImmediateMacroName(Param, SM, LO);
    if (!Name.empty())
      Names.push_back(Name);
    Loc = SM.getImmediateSpellingLoc(Loc);
  }
  return Names;
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

  bool VisitDeclRefExpr(DeclRefExpr *R) {
    const auto *FD = dyn_cast<FunctionDecl>(R->getDecl());
    FunctionFacts *Target = FD ? TU.factsFor(FD) : nullptr;
    if (!Target || !SM.isInMainFile(SM.getExpansionLoc(R->getLocation())))
      return true;
    SourceLocation Where = SM.getExpansionLoc(R->getLocation());
    // IRQ_WORK_INIT_HARD(fn), register_nmi_handler(..., fn, ...): macros.
    for (StringRef Macro : enclosingMacroArgs(R->getLocation(), SM, LO))
      for (const Registration &Reg : Registrations)
        if (Reg.Api == Macro && Reg.CondArg < 0)
          give(*Target, Reg.Kind, Reg.Api.str() + "()", Reg.Why, Where);
    inspectParents(*R, *Target, Where);
    return true;
  }

private:
  TuFacts &TU;
  const SourceManager &SM;
  const LangOptions &LO;
  llvm::StringSet<> HardTimers;

  void give(FunctionFacts &F, ContextKind Kind, const std::string &By, StringRef Why,
            SourceLocation Where) {
    for (const HeldContext &H : F.EntryContexts)
      if (H.Begin == Where)
        return;
    HeldContext H;
    H.Kind = Kind;
    H.Api = By;
    H.Begin = Where;
    H.FromEntry = true;
    H.Note = F.Name + "() runs as " + Why.str() + ", set up by " + By;
    F.EntryContexts.push_back(std::move(H));
  }

  void inspectParents(const Expr &Ref, FunctionFacts &Target, SourceLocation Where) {
    const Expr *Child = &Ref;
    DynTypedNodeList Parents = TU.Ctx.getParents(Ref);
    while (!Parents.empty()) {
      const DynTypedNode &P = Parents[0];
      if (const auto *E = P.get<Expr>();
          E && (isa<ImplicitCastExpr>(E) || isa<ParenExpr>(E) || isa<CStyleCastExpr>(E) ||
                (isa<UnaryOperator>(E) && cast<UnaryOperator>(E)->getOpcode() == UO_AddrOf))) {
        Child = E;
        Parents = TU.Ctx.getParents(*E);
        continue;
      }
      if (const auto *C = P.get<CallExpr>())
        return fromCall(*C, Child, Target, Where);
      if (const auto *B = P.get<BinaryOperator>(); B && B->getOpcode() == BO_Assign)
        return fromAssignment(*B, Target, Where);
      if (const auto *IL = P.get<InitListExpr>())
        return fromInitializer(*IL, Child, Target, Where);
      if (const auto *D = P.get<DesignatedInitExpr>()) { // .irq_mask = fn
        const DesignatedInitExpr::Designator *Last = D->getDesignator(D->size() - 1);
        if (Last && Last->isFieldDesignator())
          if (const FieldDecl *Field = Last->getField())
            fromMember(Field->getParent()->getName(), Field->getName(), Target, Where);
        return;
      }
      return;
    }
  }

  void fromCall(const CallExpr &C, const Expr *Arg, FunctionFacts &Target, SourceLocation Where) {
    int Index = -1;
    for (unsigned I = 0; I < C.getNumArgs(); ++I)
      if (C.getArg(I) == Arg)
        Index = I;
    if (Index < 0)
      return;
    SpelledCall Sp = spellCall(&C, SM, LO);
    for (const Registration &Reg : Registrations) {
      if (Reg.CallbackArg != Index || !llvm::is_contained(Sp.Names, Reg.Api))
        continue;
      if (Reg.CondArg >= 0 &&
          !containsToken(spelledArgument(SM, Sp.Site, Reg.CondArg), Reg.CondTokens))
        continue;
      give(Target, Reg.Kind, Reg.Api.str() + "()", Reg.Why, Where);
    }
  }

  void fromAssignment(const BinaryOperator &B, FunctionFacts &Target, SourceLocation Where) {
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
    if (const auto *RD = dyn_cast<RecordDecl>(M->getMemberDecl()->getDeclContext()))
      fromMember(RD->getName(), Member, Target, Where);
  }

  void fromInitializer(const InitListExpr &IL, const Expr *Init, FunctionFacts &Target,
                       SourceLocation Where) {
    const auto *RT = IL.getType()->getAs<RecordType>();
    if (!RT)
      return;
    const RecordDecl *RD = RT->getDecl();
    unsigned I = 0;
    for (const FieldDecl *FDecl : RD->fields()) {
      if (I < IL.getNumInits() && IL.getInit(I) == Init)
        return fromMember(RD->getName(), FDecl->getName(), Target, Where);
      ++I;
    }
  }

  void fromMember(StringRef Struct, StringRef Member, FunctionFacts &Target,
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
}

} // namespace rtcheck
