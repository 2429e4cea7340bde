#include "core/RtDeadRegions.h"
#include "core/RtCondition.h"
#include "clang/Lex/Lexer.h"
#include "clang/Basic/IdentifierTable.h"
#include "clang/Lex/Token.h"

using namespace clang;

namespace rtcheck {

bool RtDeadRegions::contains(SourceLocation Loc, const SourceManager &SM) const {
  if (Regions.empty() || Loc.isInvalid())
    return false;
  auto [File, Offset] = SM.getDecomposedLoc(SM.getFileLoc(Loc));
  for (const Region &R : Regions)
    if (R.File == File && Offset >= R.Begin && Offset < R.End)
      return true;
  return false;
}

namespace {

class Recorder : public PPCallbacks {
public:
  Recorder(RtDeadRegions &Out, SourceManager &SM, const LangOptions &LO)
      : Out(Out), SM(SM), LO(LO) {}

  void If(SourceLocation Loc, SourceRange Cond, ConditionValueKind) override {
    open(Loc, evaluate(Cond));
  }
  void Ifdef(SourceLocation Loc, const Token &Name, const MacroDefinition &) override {
    open(Loc, evaluateOnRt(name(Name)));
  }
  void Ifndef(SourceLocation Loc, const Token &Name, const MacroDefinition &) override {
    RtVerdict V = evaluateOnRt(name(Name));
    V.Value = negateIfKnown(V.Value);
    open(Loc, V);
  }
  void Elif(SourceLocation Loc, SourceRange Cond, ConditionValueKind,
            SourceLocation) override {
    nextBranch(Loc, evaluate(Cond));
  }
  void Else(SourceLocation Loc, SourceLocation) override {
    RtVerdict V;
    if (!Stack.empty() && Stack.back().Decided)
      V.Value = Stack.back().AnyTrue ? Truth::False : Truth::True;
    nextBranch(Loc, V);
  }
  void Endif(SourceLocation Loc, SourceLocation) override {
    if (Stack.empty())
      return;
    closeBranch(Loc);
    Stack.pop_back();
  }

private:
  // One #if group: whether every branch so far was decided on RT, whether one
  // was true, and where the current branch began (if it is RT-dead).
  struct Group {
    bool Decided = true;
    bool AnyTrue = false;
    bool CurrentDead = false;
    SourceLocation CurrentBegin;
  };
  RtDeadRegions &Out;
  SourceManager &SM;
  const LangOptions &LO;
  std::vector<Group> Stack;

  static Truth negateIfKnown(Truth T) {
    return T == Truth::True ? Truth::False : T == Truth::False ? Truth::True : T;
  }
  static std::string name(const Token &T) {
    const IdentifierInfo *II = T.getIdentifierInfo();
    return II ? II->getName().str() : std::string();
  }
  RtVerdict evaluate(SourceRange Cond) {
    bool Invalid = false;
    StringRef Text = Lexer::getSourceText(CharSourceRange::getCharRange(Cond), SM, LO, &Invalid);
    return Invalid ? RtVerdict() : evaluateOnRt(Text);
  }
  void open(SourceLocation Loc, RtVerdict V) {
    Stack.emplace_back();
    start(Loc, V);
  }
  void nextBranch(SourceLocation Loc, RtVerdict V) {
    if (Stack.empty())
      return;
    closeBranch(Loc);
    // After a branch RT takes, every later branch is dead on RT.
    if (Stack.back().Decided && Stack.back().AnyTrue)
      V.Value = Truth::False, V.MentionsRt = true;
    start(Loc, V);
  }
  void start(SourceLocation Loc, RtVerdict V) {
    Group &G = Stack.back();
    bool Known = V.MentionsRt && V.Value != Truth::Unknown;
    G.Decided = G.Decided && Known;
    G.AnyTrue = G.AnyTrue || (Known && V.Value == Truth::True);
    G.CurrentDead = Known && V.Value == Truth::False;
    G.CurrentBegin = Loc;
  }
  void closeBranch(SourceLocation End) {
    Group &G = Stack.back();
    if (!G.CurrentDead)
      return;
    auto [File, Begin] = SM.getDecomposedLoc(SM.getFileLoc(G.CurrentBegin));
    auto [EndFile, EndOffset] = SM.getDecomposedLoc(SM.getFileLoc(End));
    if (File == EndFile && Begin < EndOffset)
      Out.add(File, Begin, EndOffset);
  }
};

} // namespace

std::unique_ptr<PPCallbacks> makeRtDeadRegionRecorder(RtDeadRegions &Out, SourceManager &SM,
                                                      const LangOptions &LO) {
  return std::make_unique<Recorder>(Out, SM, LO);
}

} // namespace rtcheck
