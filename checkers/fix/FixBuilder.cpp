#include "fix/Fix.h"
#include "clang/Lex/Lexer.h"
#include <algorithm>

using namespace clang;

namespace rtcheck {

bool FixBuilder::add(CharSourceRange Range, StringRef Text) {
  if (Range.isInvalid() || !SM.isInMainFile(Range.getBegin())) {
    Reason = "the code to change is inside a macro's body (editing it would change every "
             "use of the macro, or a header)";
    return false;
  }
  tooling::Replacement R(SM, Range, Text, LO);
  if (llvm::Error E = Edits.add(R)) {
    llvm::consumeError(std::move(E));
    Reason = "two edits of this fix overlap";
    return false;
  }
  return true;
}

bool FixBuilder::replace(SourceRange Range, StringRef Text) {
  CharSourceRange File = Lexer::makeFileCharRange(CharSourceRange::getTokenRange(Range), SM, LO);
  if (File.isInvalid()) {
    // Inside one macro argument: the text as the programmer wrote it.
    SourceLocation B = SM.getSpellingLoc(Range.getBegin()), E = SM.getSpellingLoc(Range.getEnd());
    if (SM.getFileID(B) == SM.getFileID(E) && !SM.isBeforeInTranslationUnit(E, B))
      File = CharSourceRange::getTokenRange(B, E);
  }
  return add(File, Text);
}

bool FixBuilder::insertBefore(SourceLocation Loc, StringRef Text) {
  // In a macro argument: where it is written; at the start of a macro
  // expansion: before the macro name; anywhere else in a macro: refused.
  SourceLocation At = Loc;
  if (Loc.isMacroID()) {
    SourceLocation MacroBegin;
    if (SM.isMacroArgExpansion(Loc))
      At = SM.getSpellingLoc(Loc);
    else if (Lexer::isAtStartOfMacroExpansion(Loc, SM, LO, &MacroBegin))
      At = SM.getFileLoc(MacroBegin);
    else
      At = SourceLocation();
  }
  return add(CharSourceRange::getCharRange(At, At), Text);
}

bool FixBuilder::insertAfterToken(SourceLocation Loc, StringRef Text) {
  CharSourceRange File = Lexer::makeFileCharRange(CharSourceRange::getTokenRange(Loc, Loc), SM, LO);
  if (File.isInvalid() && Loc.isMacroID() && SM.isMacroArgExpansion(Loc))
    File = CharSourceRange::getTokenRange(SM.getSpellingLoc(Loc), SM.getSpellingLoc(Loc));
  if (File.isValid() && File.isTokenRange())
    File = CharSourceRange::getCharRange(
        File.getBegin(), Lexer::getLocForEndOfToken(File.getEnd(), 0, SM, LO));
  SourceLocation End = File.isValid() ? File.getEnd() : SourceLocation();
  return add(CharSourceRange::getCharRange(End, End), Text);
}

namespace {
struct LineIndex {
  std::vector<size_t> Starts; // offset of each line's first byte
  explicit LineIndex(StringRef Code) {
    Starts.push_back(0);
    for (size_t I = 0; I < Code.size(); ++I)
      if (Code[I] == '\n' && I + 1 < Code.size())
        Starts.push_back(I + 1);
  }
  unsigned lineOf(size_t Offset) const { // 0-based
    return std::upper_bound(Starts.begin(), Starts.end(), Offset) - Starts.begin() - 1;
  }
  size_t end(unsigned Line, StringRef Code) const {
    return Line + 1 < Starts.size() ? Starts[Line + 1] : Code.size();
  }
};

void appendLines(std::string &Out, char Prefix, StringRef Text) {
  while (!Text.empty()) {
    auto [Line, Rest] = Text.split('\n');
    Out += Prefix;
    Out += Line.str();
    Out += '\n';
    if (Rest.empty() && !Text.endswith("\n"))
      Out += "\\ No newline at end of file\n";
    Text = Rest;
  }
}
// Lines with their newline.
std::vector<StringRef> splitLines(StringRef Text) {
  std::vector<StringRef> Out;
  while (!Text.empty()) {
    size_t N = Text.find('\n');
    size_t Len = N == StringRef::npos ? Text.size() : N + 1;
    Out.push_back(Text.take_front(Len));
    Text = Text.drop_front(Len);
  }
  return Out;
}

// Old lines replaced by New, with the lines both share at the start and at
// the end kept as context (an insertion shows as '+' lines only).
void appendChange(std::string &Out, StringRef Old, StringRef New) {
  std::vector<StringRef> O = splitLines(Old), N = splitLines(New);
  size_t Pre = 0, Post = 0;
  while (Pre < O.size() && Pre < N.size() && O[Pre] == N[Pre] && O[Pre].endswith("\n"))
    ++Pre;
  while (Post < O.size() - Pre && Post < N.size() - Pre &&
         O[O.size() - 1 - Post] == N[N.size() - 1 - Post])
    ++Post;
  for (size_t I = 0; I < Pre; ++I)
    appendLines(Out, ' ', O[I]);
  for (size_t I = Pre; I < O.size() - Post; ++I)
    appendLines(Out, '-', O[I]);
  for (size_t I = Pre; I < N.size() - Post; ++I)
    appendLines(Out, '+', N[I]);
  for (size_t I = O.size() - Post; I < O.size(); ++I)
    appendLines(Out, ' ', O[I]);
}
} // namespace

std::string unifiedDiff(StringRef RelPath, StringRef Code, const tooling::Replacements &Edits) {
  if (Edits.empty())
    return "";
  constexpr unsigned Context = 3;
  LineIndex Lines(Code);
  unsigned NumLines = Lines.Starts.size();
  // Clusters of edits whose changed lines are close enough to share a hunk.
  struct Cluster {
    unsigned First, Last; // changed lines, 0-based, inclusive
    std::vector<tooling::Replacement> Edits;
  };
  std::vector<Cluster> Clusters;
  for (const tooling::Replacement &R : Edits) {
    unsigned First = Lines.lineOf(R.getOffset());
    unsigned Last = Lines.lineOf(R.getOffset() + (R.getLength() ? R.getLength() - 1 : 0));
    if (!Clusters.empty() && First <= Clusters.back().Last + 2 * Context + 1) {
      Clusters.back().Last = std::max(Clusters.back().Last, Last);
      Clusters.back().Edits.push_back(R);
    } else {
      Clusters.push_back({First, Last, {R}});
    }
  }
  std::string Out = "--- a/" + RelPath.str() + "\n+++ b/" + RelPath.str() + "\n";
  long Delta = 0; // new line numbers minus old ones, before the hunk
  for (const Cluster &C : Clusters) {
    // Runs of consecutive lines that an edit touches; the lines between
    // runs are context.
    std::string Body;
    unsigned OldCount = 0, NewCount = 0;
    size_t Next = 0; // next edit of the cluster
    for (unsigned L = C.First; L <= C.Last;) {
      size_t Begin = Lines.Starts[L], End = Lines.end(L, Code);
      if (Next >= C.Edits.size() || C.Edits[Next].getOffset() >= End) {
        appendLines(Body, ' ', Code.substr(Begin, End - Begin));
        ++OldCount, ++NewCount, ++L;
        continue;
      }
      unsigned RunLast = L;
      size_t First = Next;
      while (Next < C.Edits.size() && C.Edits[Next].getOffset() < Lines.end(RunLast, Code)) {
        const tooling::Replacement &R = C.Edits[Next++];
        RunLast = std::max(RunLast, Lines.lineOf(R.getOffset() + (R.getLength() ? R.getLength() - 1 : 0)));
      }
      size_t RunEnd = Lines.end(RunLast, Code);
      std::string New = Code.substr(Begin, RunEnd - Begin).str();
      for (size_t I = Next; I-- > First;) // back to front
        New.replace(C.Edits[I].getOffset() - Begin, C.Edits[I].getLength(),
                    C.Edits[I].getReplacementText().str());
      appendChange(Body, Code.substr(Begin, RunEnd - Begin), New);
      OldCount += RunLast - L + 1;
      NewCount += StringRef(New).count('\n') + (!New.empty() && New.back() != '\n');
      L = RunLast + 1;
    }
    unsigned Before = std::min(C.First, Context);
    unsigned After = std::min(NumLines - 1 - C.Last, Context);
    unsigned Start = C.First - Before;
    size_t CoreBegin = Lines.Starts[C.First], CoreEnd = Lines.end(C.Last, Code);
    Out += "@@ -" + std::to_string(Start + 1) + "," + std::to_string(OldCount + Before + After) +
           " +" + std::to_string(Start + 1 + Delta) + "," +
           std::to_string(NewCount + Before + After) + " @@\n";
    appendLines(Out, ' ', Code.substr(Lines.Starts[Start], CoreBegin - Lines.Starts[Start]));
    Out += Body;
    appendLines(Out, ' ', Code.substr(CoreEnd, Lines.end(C.Last + After, Code) - CoreEnd));
    Delta += (long)NewCount - (long)OldCount;
  }
  return Out;
}

bool OtherFileEdits::add(StringRef RelPath, StringRef Code, unsigned Offset, unsigned Length,
                         StringRef Text) {
  if (Offset + Length > Code.size())
    return false;
  File &F = Files[RelPath.str()];
  if (F.Code.empty())
    F.Code = Code.str();
  if (llvm::Error E = F.Edits.add(tooling::Replacement(RelPath, Offset, Length, Text))) {
    llvm::consumeError(std::move(E));
    return false;
  }
  return true;
}

std::string OtherFileEdits::diff(StringRef MainRel, StringRef MainCode,
                                 const tooling::Replacements &Main) const {
  std::map<std::string, std::string> ByPath;
  for (const auto &[Rel, F] : Files)
    ByPath[Rel] = unifiedDiff(Rel, F.Code, F.Edits);
  if (!Main.empty())
    ByPath[MainRel.str()] = unifiedDiff(MainRel, MainCode, Main);
  std::string Out;
  for (const auto &[Rel, D] : ByPath)
    Out += D;
  return Out;
}

} // namespace rtcheck
