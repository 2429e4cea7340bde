#include "core/KernelApi.h"
#include "llvm/ADT/StringMap.h"

namespace rtcheck {

static ApiEntry Table[] = {
#define RTCHECK_API(Name, Effect, Arg, Why) {Name, ApiEffect::Effect, Arg, Why},
#include "rtcheck/kernel_api.def"
#undef RTCHECK_API
};

static const llvm::StringRef IrqsToo[] = {
#define RTCHECK_API(Name, Effect, Arg, Why)
#define RTCHECK_IRQS_TOO(Name) Name,
#include "rtcheck/kernel_api.def"
#undef RTCHECK_IRQS_TOO
#undef RTCHECK_API
};

const ApiEntry *lookupApi(llvm::StringRef Name) {
  static const llvm::StringMap<const ApiEntry *> Index = [] {
    llvm::StringMap<const ApiEntry *> M;
    for (ApiEntry &E : Table)
      M[E.Name] = &E;
    for (llvm::StringRef Name : IrqsToo)
      if (auto It = M.find(Name); It != M.end())
        const_cast<ApiEntry *>(It->second)->IrqsToo = true;
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
