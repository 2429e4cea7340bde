//===- BpfTreeUses.h - a per-CPU variable in the other files of the tree -*- C++ -*-===//
// A BPF section's per-CPU data may be defined or used by files of other TUs
// (seg6_bpf_srh_states in 6.1: its struct in include/net/seg6_local.h, the
// bpf_lwt_seg6_*() helpers that the program calls in net/core/filter.c). No
// cross-TU index exists, so the .c files of a few directories are searched
// as text, with a bound on files and bytes; what the search finds is only
// what kernel style makes recognisable (see searchTree()).
#ifndef RTCHECK_CORE_BPFTREEUSES_H
#define RTCHECK_CORE_BPFTREEUSES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include <string>
#include <vector>

namespace rtcheck {

/// A function of another file that takes this CPU's instance of the
/// variable: "struct s *p =\n\t\tthis_cpu_ptr(&v);" among the declarations
/// that open its body.
struct TreeUse {
  std::string Function;  ///< "bpf_lwt_seg6_action" (of BPF_CALL_4(bpf_lwt_seg6_action, ...))
  unsigned Line = 0;     ///< of the use
  std::string Local;     ///< "p", or empty: not taken into a declared local
  /// Offset of the line of the body's first statement, after the blank line
  /// that ends its declarations; npos when the body has no such shape.
  size_t FirstStatement = std::string::npos;
  /// The body takes a lock, disables preemption or names bh_lock already.
  bool OwnSection = false;
};

struct TreeFile {
  std::string Rel; ///< relative to the kernel root
  std::string Code;
  std::vector<TreeUse> Uses;
  /// "DEFINE_PER_CPU(type, v)": where its text ends, npos if not here.
  size_t DefineEnd = std::string::npos;
};

struct TreeSearch {
  std::vector<std::string> Dirs; ///< searched, relative to the root
  std::vector<TreeFile> Files;   ///< the ones that name the variable
  unsigned Scanned = 0;          ///< .c files read
  bool Truncated = false;        ///< stopped at MaxFiles or MaxBytes
  static constexpr unsigned MaxFiles = 8000;
  static constexpr uint64_t MaxBytes = 128ull << 20;
};

/// The directories where files of other TUs using a variable declared in
/// Header (relative to the root) are looked for: the top-level directory the
/// header names ("include/net/x.h" -> "net") and the checked file's own
/// top-level directory (MainRel "net/ipv6/seg6_local.c" -> "net"), those
/// that exist under Root.
std::vector<std::string> searchDirs(llvm::StringRef Root, llvm::StringRef Header,
                                    llvm::StringRef MainRel);

/// The .c files under Root/Dirs, but SkipRel, that name Var, with its uses
/// and its definition. Bounded: at most MaxFiles files and MaxBytes read.
TreeSearch searchTree(llvm::StringRef Root, llvm::ArrayRef<std::string> Dirs,
                      llvm::StringRef Var, llvm::StringRef SkipRel);

} // namespace rtcheck
#endif
