#include "core/BpfTreeUses.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <algorithm>
#include <cctype>

namespace rtcheck {
namespace {

using llvm::StringRef;
constexpr size_t npos = std::string::npos;

bool identChar(char C) { return isalnum(static_cast<unsigned char>(C)) || C == '_'; }

// The identifier that ends just before Pos (spaces skipped), and where it starts.
StringRef identBefore(StringRef Code, size_t Pos, size_t &Start) {
  size_t E = Pos;
  while (E > 0 && isspace(static_cast<unsigned char>(Code[E - 1])))
    --E;
  size_t B = E;
  while (B > 0 && identChar(Code[B - 1]))
    --B;
  Start = B;
  return Code.slice(B, E);
}

// Skips spaces backwards from Pos; the offset of the character before them.
size_t before(StringRef Code, size_t Pos) {
  while (Pos > 0 && isspace(static_cast<unsigned char>(Code[Pos - 1])))
    --Pos;
  return Pos ? Pos - 1 : npos;
}

// The "{" line that opens the function around Pos (kernel style: alone on
// its line in column 0, and no column-0 "}" in between), or npos.
size_t functionBrace(StringRef Code, size_t Pos) {
  size_t Brace = Code.take_front(Pos).rfind("\n{\n");
  if (Brace == npos || Code.slice(Brace + 2, Pos).contains("\n}"))
    return npos;
  return Brace + 1;
}

// "BPF_CALL_4(bpf_lwt_seg6_action, ..." -> bpf_lwt_seg6_action; "static
// void f(struct x *a)" -> f. The header starts at the last line before the
// brace that begins in column 0.
std::string functionName(StringRef Code, size_t Brace) {
  size_t Start = Brace ? Code.rfind('\n', Brace - 1) : npos;
  while (Start != npos && Start > 0) {
    size_t Prev = Code.rfind('\n', Start - 1);
    size_t LineStart = Prev == npos ? 0 : Prev + 1;
    Start = LineStart;
    if (!isspace(static_cast<unsigned char>(Code[LineStart])))
      break;
    Start = LineStart ? LineStart - 1 : 0;
  }
  StringRef Header = Code.slice(Start == npos ? 0 : Start, Brace);
  size_t Paren = Header.find('(');
  if (Paren == npos)
    return "";
  if (Header.startswith("BPF_CALL_"))
    return Header.drop_front(Paren + 1).take_while(identChar).str();
  size_t B;
  return identBefore(Header, Paren, B).str();
}

// The function body's first statement: the line after the blank line that
// ends the declarations opening the body, if Use is among them.
size_t firstStatement(StringRef Code, size_t Brace, size_t Use) {
  size_t Blank = Code.find("\n\n", Brace);
  if (Blank == npos || Blank < Use || Code.slice(Brace + 1, Blank).contains("\n}"))
    return npos;
  size_t Line = Blank + 2;
  if (Line + 1 >= Code.size() || Code[Line] != '\t' || isspace(static_cast<unsigned char>(Code[Line + 1])))
    return npos;
  return Line;
}

TreeFile scanFile(std::string Rel, std::string Code, StringRef Var) {
  TreeFile Out{std::move(Rel), std::move(Code), {}, npos};
  StringRef Text = Out.Code;
  std::vector<size_t> Braces;
  for (size_t At = Text.find(Var); At != npos; At = Text.find(Var, At + Var.size())) {
    size_t End = At + Var.size();
    if ((At && identChar(Text[At - 1])) || (End < Text.size() && identChar(Text[End])))
      continue;
    size_t Open = before(Text, At), MacroStart;
    if (Open != npos && Text[Open] == '&')
      Open = before(Text, Open);
    if (Open == npos || (Text[Open] != '(' && Text[Open] != ','))
      continue;
    if (Text[Open] == ',') // DEFINE_PER_CPU(type, v)
      Open = Text.rfind('(', Open);
    StringRef Macro = identBefore(Text, Open == npos ? 0 : Open, MacroStart);
    if (Macro.startswith("DEFINE_PER_CPU")) {
      size_t Close = Text.find(')', End);
      if (Close != npos && Text.slice(End, Close).trim().empty())
        Out.DefineEnd = Close + 1;
      continue;
    }
    if (!(Macro == "this_cpu_ptr" || Macro == "raw_cpu_ptr" || Macro == "get_cpu_ptr" ||
          Macro.startswith("this_cpu_") || Macro.startswith("__this_cpu_") ||
          Macro.startswith("raw_cpu_")))
      continue;
    size_t Brace = functionBrace(Text, At);
    if (Brace == npos || llvm::is_contained(Braces, Brace))
      continue;
    Braces.push_back(Brace);
    TreeUse U;
    U.Function = functionName(Text, Brace);
    U.Line = 1 + std::count(Text.begin(), Text.begin() + At, '\n');
    size_t BodyEnd = Text.find("\n}", Brace);
    StringRef Body = Text.slice(Brace, BodyEnd);
    for (StringRef Own : {"preempt_disable", "get_cpu", "local_lock", "bh_lock",
                          "local_bh_disable", "local_irq_"})
      U.OwnSection |= Body.contains(Own);
    // "struct s *p =\n\t\tthis_cpu_ptr(&v);"
    size_t Eq = before(Text, MacroStart), NameStart;
    if (Macro == "this_cpu_ptr" && Eq != npos && Text[Eq] == '=') {
      StringRef Name = identBefore(Text, Eq, NameStart);
      size_t Star = before(Text, NameStart);
      if (!Name.empty() && Star != npos && Text[Star] == '*') {
        U.Local = Name.str();
        U.FirstStatement = firstStatement(Text, Brace, At);
      }
    }
    Out.Uses.push_back(std::move(U));
  }
  return Out;
}

} // namespace

std::vector<std::string> searchDirs(StringRef Root, StringRef Header, StringRef MainRel) {
  std::vector<std::string> Dirs;
  auto Add = [&](StringRef Dir) {
    if (!Dir.empty() && !llvm::is_contained(Dirs, Dir.str()) &&
        llvm::sys::fs::is_directory(Root + "/" + Dir))
      Dirs.push_back(Dir.str());
  };
  if (Header.consume_front("include/") && Header.contains('/'))
    Add(Header.split('/').first);
  if (MainRel.contains('/') && !llvm::sys::path::is_absolute(MainRel))
    Add(MainRel.split('/').first);
  return Dirs;
}

TreeSearch searchTree(StringRef Root, llvm::ArrayRef<std::string> Dirs, StringRef Var,
                      StringRef SkipRel) {
  TreeSearch Out;
  Out.Dirs = Dirs;
  uint64_t Bytes = 0;
  std::vector<std::string> Names;
  for (const std::string &Dir : Dirs) {
    std::error_code EC;
    for (llvm::sys::fs::recursive_directory_iterator It(Root + "/" + Dir, EC), E;
         It != E && !EC; It.increment(EC)) {
      StringRef Path = It->path();
      if (!Path.endswith(".c") || It->type() != llvm::sys::fs::file_type::regular_file)
        continue;
      if (Out.Scanned >= TreeSearch::MaxFiles || Bytes >= TreeSearch::MaxBytes) {
        Out.Truncated = true;
        break;
      }
      auto Buf = llvm::MemoryBuffer::getFile(Path);
      if (!Buf)
        continue;
      ++Out.Scanned;
      Bytes += (*Buf)->getBufferSize();
      std::string Rel = Path.drop_front(Root.size() + 1).str();
      if (Rel != SkipRel && (*Buf)->getBuffer().contains(Var))
        Out.Files.push_back(scanFile(Rel, (*Buf)->getBuffer().str(), Var));
    }
  }
  std::sort(Out.Files.begin(), Out.Files.end(),
            [](const TreeFile &A, const TreeFile &B) { return A.Rel < B.Rel; });
  return Out;
}

} // namespace rtcheck
