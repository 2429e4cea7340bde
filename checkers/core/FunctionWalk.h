//===- FunctionWalk.h - the calls a function makes on an RT kernel -*- C++ -*-===//
// Builds the CFG of a function and visits the calls in the blocks an RT kernel
// can reach: branches on RT config are taken as RT takes them, other constant
// branches as the configured tree takes them, #if regions RT does not compile
// are skipped.
#ifndef RTCHECK_CORE_FUNCTIONWALK_H
#define RTCHECK_CORE_FUNCTIONWALK_H

#include "core/RtDeadRegions.h"
#include "core/SpelledCall.h"
#include "clang/AST/Decl.h"
#include <vector>

namespace rtcheck {

/// The calls of FD reachable on RT, in CFG order, one entry per CallExpr.
std::vector<SpelledCall> rtReachableCalls(const clang::FunctionDecl *FD, clang::ASTContext &Ctx,
                                          const RtDeadRegions &Dead);

} // namespace rtcheck
#endif
