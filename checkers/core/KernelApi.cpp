#include "core/KernelApi.h"
#include "llvm/ADT/StringMap.h"

namespace rtcheck {

static const ApiEntry Table[] = {
#define RTCHECK_API(Name, Effect, Arg, Why) {Name, ApiEffect::Effect, Arg, Why},
#include "rtcheck/kernel_api.def"
#undef RTCHECK_API
};

const ApiEntry *lookupApi(llvm::StringRef Name) {
  static const llvm::StringMap<const ApiEntry *> Index = [] {
    llvm::StringMap<const ApiEntry *> M;
    for (const ApiEntry &E : Table)
      M[E.Name] = &E;
    return M;
  }();
  auto It = Index.find(Name);
  return It == Index.end() ? nullptr : It->second;
}

namespace {
struct DyingEntry {
  llvm::StringRef File, Function;
  const char *What;
};
const DyingEntry Dying[] = {
#define RTCHECK_DYING(File, Function, What) {File, Function, What},
#include "rtcheck/dying_contexts.def"
#undef RTCHECK_DYING
};
} // namespace

const char *dyingContext(llvm::StringRef Function, llvm::StringRef File) {
  for (const DyingEntry &E : Dying)
    if (E.Function == Function &&
        (E.File.empty() || File == E.File ||
         (File.endswith(E.File) && File.drop_back(E.File.size()).endswith("/"))))
      return E.What;
  return nullptr;
}

} // namespace rtcheck
