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

std::vector<FileFixes> mergeFixes(const std::vector<PendingFix> &Fixes, bool Unsafe) {
  std::map<std::string, FileFixes> ByFile;
  for (const PendingFix &F : Fixes) {
    if (!(F.Kind == RTCHECK_FIX_AUTO || (F.Kind == RTCHECK_FIX_SUGGESTION && Unsafe)))
      continue;
    FileFixes &Into = ByFile[F.File];
    if (Into.Fixes.empty()) {
      Into.File = F.File;
      Into.RelFile = F.RelFile;
      Into.ContentHash = F.ContentHash;
    }
    clang::tooling::Replacements Candidate = Into.Edits;
    bool Conflict = false;
    for (const clang::tooling::Replacement &R : F.Edits) {
      if (llvm::is_contained(Into.Edits, R))
        continue; // the same edit from another finding
      if (llvm::Error E = Candidate.add(R)) {
        llvm::consumeError(std::move(E));
        Conflict = true;
        break;
      }
    }
    if (Conflict) {
      say("warning", F.RelFile + ":" + llvm::Twine(F.Line) + ": fix of " + F.Rule +
                         " dropped: it overlaps another fix");
      continue;
    }
    Into.Edits = std::move(Candidate);
    Into.Fixes.push_back(&F);
  }
  std::vector<FileFixes> Out;
  for (auto &[File, F] : ByFile)
    if (!F.Fixes.empty())
      Out.push_back(std::move(F));
  return Out;
}

// The file as it is on disk, if it is still what was analysed.
static llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> unchanged(const FileFixes &F) {
  auto Buf = llvm::MemoryBuffer::getFile(F.File);
  if (!Buf)
    return llvm::createStringError(Buf.getError(), (F.RelFile + ": cannot read").c_str());
  if (contentHash((*Buf)->getBuffer()) != F.ContentHash)
    return llvm::createStringError(std::make_error_code(std::errc::invalid_argument),
                                   (F.RelFile + ": changed since it was analysed; not fixed").c_str());
  return std::move(*Buf);
}

llvm::Expected<std::string> patchedText(const FileFixes &F) {
  auto Buf = unchanged(F);
  if (!Buf)
    return Buf.takeError();
  return clang::tooling::applyAllReplacements((*Buf)->getBuffer(), F.Edits);
}

bool applyFixes(const std::vector<FileFixes> &Files, bool DryRun, llvm::raw_ostream &DiffOut) {
  bool AllOk = true;
  // For tests: something that changes files between analysis and writing.
  if (const char *Hook = ::getenv("RTCHECK_TEST_BEFORE_APPLY"))
    if (::system(Hook) != 0)
      say("warning", "RTCHECK_TEST_BEFORE_APPLY failed");
  for (const FileFixes &F : Files) {
    auto Buf = unchanged(F);
    if (!Buf) {
      say("error", llvm::toString(Buf.takeError()));
      AllOk = false;
      continue;
    }
    llvm::StringRef Code = (*Buf)->getBuffer();
    if (DryRun) {
      DiffOut << unifiedDiff(F.RelFile, Code, F.Edits);
      continue;
    }
    // Root may write anything: a file without write permission is read-only
    // by its owner's choice and is left alone.
    struct stat St;
    if (::access(F.File.c_str(), W_OK) != 0 ||
        (::stat(F.File.c_str(), &St) == 0 && !(St.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)))) {
      say("error", F.RelFile + ": read-only; not fixed");
      AllOk = false;
      continue;
    }
    auto New = clang::tooling::applyAllReplacements(Code, F.Edits);
    if (!New) {
      llvm::consumeError(New.takeError());
      say("error", F.RelFile + ": the edits do not apply; not fixed");
      AllOk = false;
      continue;
    }
    if (!writeAtomically(F.File, *New)) {
      AllOk = false;
      continue;
    }
    say("note", "fixed " + F.RelFile + " (" + llvm::Twine(F.Edits.size()) + " edits)");
  }
  return AllOk;
}

} // namespace rtcheck
