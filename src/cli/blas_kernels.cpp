#include "cli/blas_kernels.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace steper {

const char* blas_better_coretype() {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return nullptr;
  using CoreFn = char* (*)();
  auto corename = reinterpret_cast<CoreFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (corename == nullptr) return nullptr;
  const char* core = corename();
  if (core == nullptr) return nullptr;
  // OpenBLAS's fallbacks for an unrecognised x86-64 CPU.
  static const char* const kGeneric[] = {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                                         "Opteron", "Opteron_SSE3", "Barcelona", "Katmai", "Northwood"};
  bool generic = false;
  for (const char* g : kGeneric) generic = generic || strcasecmp(core, g) == 0;
  if (!generic) return nullptr;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return nullptr;
}

void blas_reexec_if_generic(char** argv) {
  const char* better = blas_better_coretype();
  if (better == nullptr) return;
  setenv("OPENBLAS_CORETYPE", better, 1);
  execv("/proc/self/exe", argv);  // returns only on failure: carry on with the kernels we have
}

}  // namespace steper
