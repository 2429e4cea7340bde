#include "fix/Apply.h"
#include "fix/Fix.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"
#include <cstdlib>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace rtcheck {

uint64_t contentHash(llvm::StringRef Code) { return llvm::xxHash64(Code); }

static void say(const llvm::Twine &Level, const llvm::Twine &Msg) {
  llvm::errs() << "rtcheck: " << Level << ": " << Msg << "\n";
}

// Writes Content over Path through a temporary file in the same directory.
static bool writeAtomically(const std::string &Path, llvm::StringRef Content) {
  struct stat St;
  if (::stat(Path.c_str(), &St) != 0) {
    say("error", Path + ": cannot stat");
    return false;
  }
  std::string Tmp = Path + ".rtcheck-XXXXXX";
  int Fd = ::mkstemp(Tmp.data());
  if (Fd < 0) {
    say("error", Path + ": cannot create a temporary file beside it");
    return false;
  }
  bool Ok = ::fchmod(Fd, St.st_mode & 07777) == 0;
  for (size_t Done = 0; Ok && Done < Content.size();) {
    ssize_t N = ::write(Fd, Content.data() + Done, Content.size() - Done);
    Ok = N > 0;
    Done += Ok ? N : 0;
  }
  Ok = Ok && ::fsync(Fd) == 0;
  Ok = (::close(Fd) == 0) && Ok;
  if (!Ok || ::rename(Tmp.c_str(), Path.c_str()) != 0) {
    ::unlink(Tmp.c_str());
    say("error", Path + ": could not write the fixed file; it is unchanged");
    return false;
  }
  return true;
}

bool applyFixes(const std::vector<PendingFix> &Fixes, const ApplyOptions &Opts,
                llvm::raw_ostream &DiffOut) {
  std::map<std::string, std::vector<const PendingFix *>> ByFile;
  for (const PendingFix &F : Fixes)
    if (F.Kind == RTCHECK_FIX_AUTO || (F.Kind == RTCHECK_FIX_SUGGESTION && Opts.Unsafe))
      ByFile[F.File].push_back(&F);
  bool AllOk = true;
  // For tests: something that changes files between analysis and writing.
  if (const char *Hook = ::getenv("RTCHECK_TEST_BEFORE_APPLY"))
    if (::system(Hook) != 0)
      say("warning", "RTCHECK_TEST_BEFORE_APPLY failed");
  for (auto &[File, List] : ByFile) {
    clang::tooling::Replacements Merged;
    for (const PendingFix *F : List) {
      clang::tooling::Replacements Candidate = Merged;
      bool Conflict = false;
      for (const clang::tooling::Replacement &R : F->Edits) {
        if (llvm::is_contained(Merged, R))
          continue; // the same edit from another finding
        if (llvm::Error E = Candidate.add(R)) {
          llvm::consumeError(std::move(E));
          Conflict = true;
          break;
        }
      }
      if (Conflict) {
        say("warning", F->RelFile + ":" + llvm::Twine(F->Line) + ": fix of " + F->Rule +
                           " dropped: it overlaps another fix");
        continue;
      }
      Merged = std::move(Candidate);
    }
    auto Buf = llvm::MemoryBuffer::getFile(File);
    if (!Buf) {
      say("error", File + ": cannot read");
      AllOk = false;
      continue;
    }
    llvm::StringRef Code = (*Buf)->getBuffer();
    if (contentHash(Code) != List.front()->ContentHash) {
      say("error", List.front()->RelFile + ": changed since it was analysed; not fixed");
      AllOk = false;
      continue;
    }
    if (Opts.DryRun) {
      DiffOut << unifiedDiff(List.front()->RelFile, Code, Merged);
      continue;
    }
    // Root may write anything: a file without write permission is read-only
    // by its owner's choice and is left alone.
    struct stat St;
    if (::access(File.c_str(), W_OK) != 0 ||
        (::stat(File.c_str(), &St) == 0 && !(St.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)))) {
      say("error", List.front()->RelFile + ": read-only; not fixed");
      AllOk = false;
      continue;
    }
    auto New = clang::tooling::applyAllReplacements(Code, Merged);
    if (!New) {
      llvm::consumeError(New.takeError());
      say("error", List.front()->RelFile + ": the edits do not apply; not fixed");
      AllOk = false;
      continue;
    }
    if (!writeAtomically(File, *New)) {
      AllOk = false;
      continue;
    }
    say("note", "fixed " + List.front()->RelFile + " (" + llvm::Twine(Merged.size()) + " edits)");
  }
  return AllOk;
}

} // namespace rtcheck
