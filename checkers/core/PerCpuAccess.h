//===- PerCpuAccess.h - where a function uses this CPU's data ----*- C++ -*-===//
// The per-CPU accesses whose serialisation rt-percpu-bh asks about: a pointer
// to this CPU's instance (this_cpu_ptr(), raw_cpu_ptr(), per_cpu_ptr(x,
// smp_processor_id())), a non-atomic __this_cpu_*()/raw_cpu_*() update, or a
// pointer read from a per-CPU slot (this_cpu_read(ipv4_tcp_sk)). Single
// instruction this_cpu_*() operations on scalars are atomic against
// preemption and are not accesses. Recognised by the macro spelled in the
// function (kernel_api.def effects PERCPU_*), whatever the tree expands it to.
#ifndef RTCHECK_CORE_PERCPUACCESS_H
#define RTCHECK_CORE_PERCPUACCESS_H

#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/Basic/SourceManager.h"
#include <string>
#include <vector>

namespace rtcheck {

enum class PerCpuAccessKind {
  Pointer, ///< this_cpu_ptr(&v): this CPU's instance, then used
  Update,  ///< __this_cpu_inc(v): a non-atomic read-modify-write or store
  Read,    ///< this_cpu_read(v) of a pointer: the object it points to
  /// __this_cpu_read(v) of a scalar: alone no problem, but it makes the
  /// updates of v a counter whose value matters (a recursion limit).
  ValueRead,
};

/// How a use of the pointer touches the data.
enum class PerCpuUseKind {
  Whole,   ///< the pointer itself goes somewhere (an argument, a return)
  Read,    ///< a field is read: "if (sd->completion_queue)"
  Write,   ///< a field is assigned
  Count,   ///< a field is incremented or added to: "sd->time_squeeze++"
  Address, ///< a field's address is taken or it is indexed: "&sd->process_queue"
};

/// A use of the local an access's pointer is stored in: "sd->process_queue".
struct PerCpuUse {
  const clang::DeclRefExpr *Ref;
  clang::SourceLocation Loc; ///< file location
  std::string Member;        ///< "process_queue" for sd->process_queue, or empty
  /// The call the pointer itself is an argument of ("flush(sd)"), or null.
  const clang::CallExpr *ArgOf = nullptr;
  PerCpuUseKind Kind = PerCpuUseKind::Whole;
};

struct PerCpuAccess {
  clang::SourceLocation Site; ///< where the accessor is written (file location)
  PerCpuAccessKind Kind;
  std::string Api;     ///< "this_cpu_ptr"
  std::string Spelled; ///< its object argument as written: "&napi_alloc_cache.page"
  std::string Written; ///< the whole access: "per_cpu_ptr(&v, smp_processor_id())"
  /// The per-CPU variable ("napi_alloc_cache") or, for a __percpu struct
  /// member, "->member".
  std::string Object;
  /// The DEFINE_PER_CPU variable, when the object is one of the TU.
  const clang::VarDecl *Var = nullptr;
  /// The local the pointer or value is stored in ("nc = this_cpu_ptr(...)").
  const clang::VarDecl *Local = nullptr;
  /// The outermost statement of the accessor's expansion.
  const clang::Stmt *Root = nullptr;
  /// For updates: the result is used (__this_cpu_inc_return(v) > limit).
  bool ValueUsed = false;
  /// For updates: a counter (__this_cpu_inc/add/dec/sub()), not a store.
  bool Counter = false;
  /// The variable is a struct of a header (softnet_data), whose fields may
  /// be separate resources ("softnet_data.process_queue").
  bool SharedStruct = false;
  /// The field the accessor names: "xmit" of __this_cpu_inc(softnet_data.xmit.recursion).
  std::string Field;
  /// Uses of Local after the access (only those an RT kernel reaches, once
  /// the function's CFG is built).
  std::vector<PerCpuUse> Uses;
  const std::string &text() const { return Written; }
};

/// The per-CPU accesses of a function body, in source order.
std::vector<PerCpuAccess> findPerCpuAccesses(const clang::FunctionDecl *FD,
                                             clang::ASTContext &Ctx);

/// The object a per-CPU accessor's argument names: "&napi_alloc_cache.page"
/// -> "napi_alloc_cache", "pool->cache" -> "->cache".
std::string perCpuObjectOf(llvm::StringRef Spelled);

/// A variable defined with DEFINE_PER_CPU*() (in the .data..percpu section).
bool isPerCpuVariable(const clang::VarDecl *VD);

/// S assigns Value (through parens and implicit casts) to another object, a
/// field or through a pointer: "timer->base = Value", "*slot = Value". What
/// goes through that object later is judged where it does.
bool storesIntoObject(const clang::Stmt *S, const clang::Expr *Value);

/// Whether S refers to VD anywhere.
bool refersTo(const clang::Stmt *S, const clang::VarDecl *VD);

} // namespace rtcheck
#endif
