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

} // namespace rtcheck
