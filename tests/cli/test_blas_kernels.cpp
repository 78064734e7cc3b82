// The BLAS kernel check of steper's startup, in this process (which links the same OpenBLAS).
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "cli/blas_kernels.h"

extern "C" char* openblas_get_corename(void);

namespace steper {
namespace {

bool generic_core(const char* core) {
  for (const char* g : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Opteron", "Opteron_SSE3",
                        "Barcelona", "Katmai", "Northwood"})
    if (strcasecmp(core, g) == 0) return true;
  return false;
}

TEST(BlasKernels, AGenericKernelOnAnAvx2CpuAsksForBetterOnes) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) GTEST_SKIP() << "OPENBLAS_CORETYPE is set here";
  const char* core = openblas_get_corename();
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const char* better = blas_better_coretype();
  if (generic_core(core) && avx2) {
    ASSERT_NE(better, nullptr) << core;
    EXPECT_TRUE(std::strcmp(better, "Haswell") == 0 || std::strcmp(better, "SkylakeX") == 0) << better;
    if (std::strcmp(better, "SkylakeX") == 0) EXPECT_TRUE(__builtin_cpu_supports("avx512f"));
  } else {
    EXPECT_EQ(better, nullptr) << core << " -> " << better;  // OpenBLAS's own choice stands
  }
}

TEST(BlasKernels, AChoiceAlreadyMadeIsKept) {
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  EXPECT_EQ(blas_better_coretype(), nullptr);
  unsetenv("OPENBLAS_CORETYPE");
}

}  // namespace
}  // namespace steper
