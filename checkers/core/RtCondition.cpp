#include "core/RtCondition.h"
#include "core/KernelApi.h"
#include "llvm/ADT/SmallVector.h"
#include <cctype>

namespace rtcheck {
namespace {

Truth negate(Truth T) {
  return T == Truth::True ? Truth::False : T == Truth::False ? Truth::True : Truth::Unknown;
}

// A recursive-descent reader over the condition's tokens:
//   or := and ('||' and)* ; and := unary ('&&' unary)* ;
//   unary := '!' unary | '(' or ')' | atom
// An atom is everything up to the next &&, || or closing parenthesis at its
// own depth; only a few atom shapes are understood, the rest is Unknown.
class Reader {
public:
  explicit Reader(llvm::StringRef Text) { tokenize(Text); }

  RtVerdict run() {
    RtVerdict V;
    V.Value = parseOr();
    if (Pos != Toks.size())
      V.Value = Truth::Unknown;
    V.MentionsRt = MentionsRt;
    return V;
  }

private:
  llvm::SmallVector<llvm::StringRef, 32> Toks;
  size_t Pos = 0;
  bool MentionsRt = false;

  void tokenize(llvm::StringRef T) {
    size_t I = 0;
    while (I < T.size()) {
      char C = T[I];
      if (isspace((unsigned char)C) || C == '\\') {
        ++I;
      } else if (isalnum((unsigned char)C) || C == '_') {
        size_t J = I;
        while (J < T.size() && (isalnum((unsigned char)T[J]) || T[J] == '_'))
          ++J;
        Toks.push_back(T.slice(I, J));
        I = J;
      } else if ((C == '&' || C == '|') && I + 1 < T.size() && T[I + 1] == C) {
        Toks.push_back(T.substr(I, 2));
        I += 2;
      } else if (C == '!' && I + 1 < T.size() && T[I + 1] == '=') {
        Toks.push_back(T.substr(I, 2));
        I += 2;
      } else {
        Toks.push_back(T.substr(I, 1));
        ++I;
      }
    }
  }

  llvm::StringRef peek(size_t Ahead = 0) const {
    return Pos + Ahead < Toks.size() ? Toks[Pos + Ahead] : llvm::StringRef();
  }

  Truth parseOr() {
    Truth L = parseAnd();
    while (peek() == "||") {
      ++Pos;
      Truth R = parseAnd();
      L = (L == Truth::True || R == Truth::True) ? Truth::True
          : (L == Truth::False && R == Truth::False) ? Truth::False
                                                     : Truth::Unknown;
    }
    return L;
  }

  Truth parseAnd() {
    Truth L = parseUnary();
    while (peek() == "&&") {
      ++Pos;
      Truth R = parseUnary();
      L = (L == Truth::False || R == Truth::False) ? Truth::False
          : (L == Truth::True && R == Truth::True) ? Truth::True
                                                   : Truth::Unknown;
    }
    return L;
  }

  Truth parseUnary() {
    if (peek() == "!") {
      ++Pos;
      return negate(parseUnary());
    }
    if (peek() == "(") {
      size_t Save = Pos;
      ++Pos;
      Truth T = parseOr();
      if (peek() == ")") {
        ++Pos;
        if (atAtomEnd())
          return T;
      }
      Pos = Save; // "(a) == b" and the like: an opaque atom
    }
    return parseAtom();
  }

  bool atAtomEnd() const {
    llvm::StringRef T = peek();
    return T.empty() || T == "&&" || T == "||" || T == ")" || T == ",";
  }

  // Skips to the end of the current atom; returns its token range.
  std::pair<size_t, size_t> skipAtom() {
    size_t Begin = Pos;
    int Depth = 0;
    while (Pos < Toks.size()) {
      llvm::StringRef T = Toks[Pos];
      if (Depth == 0 && (T == "&&" || T == "||" || T == ")" || T == ","))
        break;
      if (T == "(")
        ++Depth;
      else if (T == ")")
        --Depth;
      if (lookupApi(T) && lookupApi(T)->Effect == ApiEffect::RT_CONFIG_ON)
        MentionsRt = true;
      ++Pos;
    }
    return {Begin, Pos};
  }

  Truth parseAtom() {
    llvm::StringRef Name = peek();
    const ApiEntry *Api = lookupApi(Name);
    // NAME( arg , ... ) forms the table knows.
    if (Api && peek(1) == "(" &&
        (Api->Effect == ApiEffect::COND_TRANSPARENT || Api->Effect == ApiEffect::CONFIG_TEST)) {
      size_t Save = Pos;
      Pos += 2;
      Truth T = Truth::Unknown;
      if (Api->Effect == ApiEffect::COND_TRANSPARENT) {
        T = parseOr();
      } else {
        llvm::StringRef Opt = peek();
        const ApiEntry *OptApi = lookupApi(Opt);
        if (OptApi && OptApi->Effect == ApiEffect::RT_CONFIG_ON) {
          MentionsRt = true;
          T = Truth::True;
        }
        ++Pos;
      }
      // Remaining arguments (WARN's format) do not change the value.
      int Depth = 0;
      while (Pos < Toks.size() && !(Depth == 0 && peek() == ")")) {
        if (peek() == "(")
          ++Depth;
        else if (peek() == ")")
          --Depth;
        ++Pos;
      }
      if (peek() == ")") {
        ++Pos;
        if (atAtomEnd())
          return T;
      }
      Pos = Save;
    }
    // "defined CONFIG_X" and a bare CONFIG_X (#if / #ifdef).
    if (Name == "defined" && peek(1) != "(") {
      ++Pos;
      Name = peek();
    }
    if (Api || lookupApi(Name)) {
      const ApiEntry *A = lookupApi(Name);
      if (A && A->Effect == ApiEffect::RT_CONFIG_ON) {
        ++Pos;
        MentionsRt = true;
        if (atAtomEnd())
          return Truth::True;
      }
    }
    auto [Begin, End] = skipAtom();
    if (End == Begin + 1 && !Toks[Begin].empty() && isdigit((unsigned char)Toks[Begin][0]))
      return Toks[Begin].find_first_not_of("0xXuUlL") == llvm::StringRef::npos ? Truth::False
                                                                                : Truth::True;
    return Truth::Unknown;
  }
};

} // namespace

RtVerdict evaluateOnRt(llvm::StringRef ConditionText) { return Reader(ConditionText).run(); }

} // namespace rtcheck
