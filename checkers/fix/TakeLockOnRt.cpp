#include "fix/TakeLockOnRt.h"
#include "clang/AST/Stmt.h"

using namespace clang;

namespace rtcheck {

bool takeLockOnRt(const RtSkippedLock &S, FixBuilder &Fix) {
  return Fix.insertBefore(S.LockIf->getRParenLoc(), " || IS_ENABLED(CONFIG_PREEMPT_RT)") &&
         Fix.replace(SourceRange(S.LockIf->getElseLoc(), S.AtomicIf->getRParenLoc()), "else");
}

} // namespace rtcheck
