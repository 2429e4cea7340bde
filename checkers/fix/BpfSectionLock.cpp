#include "fix/BpfSectionLock.h"
#include "fix/BpfLockedData.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringExtras.h"

using namespace clang;

namespace rtcheck {
namespace {

// "name();" written at Name in the file (not in a macro's body): the
// characters of "name()" and the end of the ';'.
bool emptyCall(const SourceManager &SM, const LangOptions &LO, SourceLocation Name,
               StringRef Spelled, CharSourceRange &Call, SourceLocation &AfterSemi) {
  Name = SM.getFileLoc(Name);
  if (Lexer::getSourceText(CharSourceRange::getTokenRange(Name, Name), SM, LO) != Spelled)
    return false;
  auto L = Lexer::findNextToken(Name, SM, LO);
  auto R = L && L->is(tok::l_paren) ? Lexer::findNextToken(L->getLocation(), SM, LO) : L;
  auto Semi = R && R->is(tok::r_paren) ? Lexer::findNextToken(R->getLocation(), SM, LO) : R;
  if (!L || !L->is(tok::l_paren) || !Semi || !Semi->is(tok::semi))
    return false;
  Call = CharSourceRange::getCharRange(Name, R->getEndLoc());
  AfterSemi = Semi->getEndLoc();
  return true;
}

// The per-CPU struct variable the section updates: the one object of the
// accesses of At (in F itself: those in the section's extent).
const PerCpuAccess *updatedVariable(const TuFacts &TU, const FunctionFacts &F,
                                    const HeldContext &Section, const FunctionFacts &At,
                                    std::string &Why) {
  auto Extent = sectionExtent(TU, F, Section);
  const PerCpuAccess *Found = nullptr;
  for (const PerCpuAccess &A : At.accesses()) {
    bool In = &At != &F || withinExtent(TU, Extent, A.Site) ||
              llvm::any_of(A.Uses, [&](const PerCpuUse &U) { return withinExtent(TU, Extent, U.Loc); });
    if (!In || !A.Var)
      continue;
    if (Found && Found->Object != A.Object)
      return Why = "the section updates several per-CPU variables (" + Found->Object + ", " +
                   A.Object + ")",
             nullptr;
    if (!Found || (!Found->Local && A.Local))
      Found = &A;
  }
  const auto *RT = Found ? Found->Var->getType()->getAs<RecordType>() : nullptr;
  const RecordDecl *RD = RT ? RT->getDecl()->getDefinition() : nullptr;
  if (!Found)
    Why = "what " + At.Name + "() updates is not a DEFINE_PER_CPU() variable of the TU";
  else if (!RD || RD->getName().empty())
    Why = Found->Object + " is not a per-CPU struct: put it in one with a local_lock_t";
  return RD && !RD->getName().empty() ? Found : nullptr;
}

// BH is off around the section (a softirq function, or local_bh_disable()).
bool bhOff(const FunctionFacts &F, const HeldContext &Section) {
  auto It = F.Cfg.CallIndex.find(Section.Call);
  return It != F.Cfg.CallIndex.end() &&
         llvm::any_of(F.StateBefore[It->second].Held, [](const HeldContext &H) {
           return H.Must && (H.Kind == ContextKind::BhOff || H.Kind == ContextKind::Softirq);
         });
}

std::string squeezed(std::string S) {
  llvm::erase_if(S, [](char Ch) { return isspace(static_cast<unsigned char>(Ch)); });
  return S;
}

// The section's pointer to this CPU's instance, declared with it before the
// section and used only after it began: taken inside the lock instead, as
// upstream did with srh_state, so that it is the instance of the locked CPU.
std::string movePointer(const TuFacts &TU, const FunctionFacts &F, const HeldContext &Section,
                        StringRef Var, SourceLocation AfterLock, FixBuilder &Edits) {
  const SourceManager &SM = TU.SM;
  const LangOptions &LO = TU.Ctx.getLangOpts();
  SourceLocation Begin = SM.getFileLoc(Section.Begin);
  for (const PerCpuAccess &A : F.accesses()) {
    const VarDecl *L = A.Local;
    if (A.Object != Var || A.Kind != PerCpuAccessKind::Pointer || !L || !L->getInit() ||
        llvm::any_of(A.Uses, [&](const PerCpuUse &U) {
          return SM.isBeforeInTranslationUnit(U.Loc, Begin);
        }))
      continue;
    SourceLocation NameEnd = Lexer::getLocForEndOfToken(SM.getFileLoc(L->getLocation()), 0, SM, LO);
    SourceLocation InitEnd = Lexer::getLocForEndOfToken(
        SM.getExpansionRange(L->getInit()->getEndLoc()).getEnd(), 0, SM, LO);
    CharSourceRange Init = CharSourceRange::getCharRange(NameEnd, InitEnd);
    if (squeezed(Lexer::getSourceText(Init, SM, LO).str()) != squeezed("=" + A.Written) ||
        !SM.isBeforeInTranslationUnit(InitEnd, Begin))
      continue;
    std::string Name = L->getName().str();
    if (Edits.replaceChars(Init, "") &&
        Edits.replaceChars(CharSourceRange::getCharRange(AfterLock, AfterLock),
                           "\n" + lineIndent(SM, Begin) + Name + " = " + A.Written + ";"))
      return Name;
  }
  return "";
}

// The comment just above the section's start speaks of preemption.
bool staleComment(const SourceManager &SM, SourceLocation Begin) {
  auto [FID, Offset] = SM.getDecomposedLoc(SM.getFileLoc(Begin));
  StringRef Before = SM.getBufferData(FID).take_front(Offset);
  Before = Before.take_front(Before.rfind('\n') + 1).rtrim();
  if (!Before.endswith("*/"))
    return false;
  size_t Open = Before.rfind("/*");
  return Open != StringRef::npos && Before.drop_front(Open).contains("preempt");
}

} // namespace

BpfPreemptFix buildBpfSectionLock(const TuFacts &TU, const FunctionFacts &F,
                                  const HeldContext &Section, const BpfPath &Update,
                                  const FindingSink &Out, FixBuilder &Edits) {
  BpfPreemptFix Fix;
  auto None = [&](const std::string &Why) {
    Fix = BpfPreemptFix();
    Fix.Summary = "no automatic conversion (" + Why + "): protect the per-CPU data with a "
                  "local_lock_t (local_lock()/local_lock_nested_bh()) instead of "
                  "preempt_disable(), as upstream did for seg6_bpf_srh_states (see "
                  "docs/rules/rt-bpf-preempt.md)";
    return Fix;
  };
  if (!Section.Must)
    return None("preemption is disabled on some paths only");
  if (Section.FromEntry || !Section.Call || !Section.Origin.empty() ||
      Section.Api != "preempt_disable")
    return None("preemption is disabled by " + describe(Section) +
                ", not by a preempt_disable() of this function");
  std::string Why;
  const PerCpuAccess *A = Update.At ? updatedVariable(TU, F, Section, *Update.At, Why) : nullptr;
  if (!A)
    return None(Why);

  // The section: preempt_disable()/preempt_enable() -> the lock.
  const SourceManager &SM = TU.SM;
  const LangOptions &LO = TU.Ctx.getLangOpts();
  bool HasNested = TU.Ctx.Idents.get("local_lock_nested_bh").hasMacroDefinition();
  bool Nested = HasNested && bhOff(F, Section);
  std::string Lock = "(&" + A->Object + ".bh_lock)";
  CharSourceRange Call;
  SourceLocation AfterLock, Semi;
  if (!emptyCall(SM, LO, Section.Begin, "preempt_disable", Call, AfterLock) ||
      !Edits.replaceChars(Call, (Nested ? "local_lock_nested_bh" : "local_lock") + Lock))
    return None("the preempt_disable() is not a statement of its own");
  unsigned Exits = 0;
  for (size_t I = 0; I < F.calls().size(); ++I) {
    const SpelledCall &E = F.calls()[I];
    if (!endsSection(F, I, Section))
      continue;
    if (E.ApiName != "preempt_enable" || E.outermostName() != "preempt_enable")
      return None("the section ends with " + E.ApiName.str() + "()");
    if (!emptyCall(SM, LO, E.Site, "preempt_enable", Call, Semi) ||
        !Edits.replaceChars(Call, (Nested ? "local_unlock_nested_bh" : "local_unlock") + Lock))
      return None("a preempt_enable() that ends the section is not a statement of its own");
    ++Exits;
  }
  if (!Exits)
    return None("the section's end is not in this function");
  LockedData Data;
  Data.Done.push_back(
      Nested ? "local_lock_nested_bh()/local_unlock_nested_bh() around the section, which "
               "runs with BH disabled (on !PREEMPT_RT only a lockdep annotation)"
      : HasNested
          ? "local_lock()/local_unlock() around the section (not known to run with BH "
            "disabled; local_lock_nested_bh() if it always does): on !PREEMPT_RT it "
            "disables preemption as before"
          : "local_lock()/local_unlock() around the section, as this kernel has no "
            "local_lock_nested_bh() (Linux 6.11): on !PREEMPT_RT it disables preemption "
            "as before");
  std::string Moved = movePointer(TU, F, Section, A->Object, AfterLock, Edits);
  if (!Moved.empty())
    Data.Done.push_back(Moved + " taken inside the lock");

  OtherFileEdits Others;
  if (!buildLockedData(TU, F, Section, *A, Out, Edits, Others, Data, Why))
    return None(Why);
  if (staleComment(SM, Section.Begin))
    Data.Notes.push_back("the comment above the section still speaks of preemption: "
                         "reword it");
  Fix.Kind = RTCHECK_FIX_SUGGESTION;
  Fix.Summary = "protect " + A->Object + " with a local_lock_t instead of preempt_disable(), "
                "as upstream did " +
                (A->Object == "seg6_bpf_srh_states" ? "" : "for seg6_bpf_srh_states ") +
                "(Linux 6.11, d1542d4ae4df): on PREEMPT_RT the lock is a per-CPU "
                "spinlock_t and the run stays preemptible; " +
                llvm::join(Data.Done, "; ");
  if (!Data.Notes.empty())
    Fix.Summary += ". " + llvm::join(Data.Notes, "; ");
  if (!Others.empty()) {
    FileID Main = SM.getMainFileID();
    llvm::SmallString<256> Abs;
    if (auto Entry = SM.getFileEntryRefForID(Main))
      Abs = Entry->getName();
    SM.getFileManager().makeAbsolutePath(Abs);
    Fix.Diff = Others.diff(Out.relativePath(Abs), SM.getBufferData(Main), Edits.edits());
    Fix.Summary += ". A patch of " + std::to_string(Others.size() + !Edits.empty()) +
                   " files: review it and apply it with git apply (rtcheck fix writes only "
                   "the checked file)";
  }
  return Fix;
}

} // namespace rtcheck
