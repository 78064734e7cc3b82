// Single-thread SGEMM throughput of the OpenBLAS kernels this process loaded, and what steper's startup
// check (src/cli/blas_kernels.h) would choose instead. run.sh runs it once per OPENBLAS_CORETYPE in the
// same run, so the kernels are compared side by side on one CPU.
#include <chrono>
#include <cstdio>
#include <vector>

#include "cli/blas_kernels.h"

extern "C" char* openblas_get_corename(void);
extern "C" void sgemm_(const char*, const char*, const int*, const int*, const int*, const float*, const float*,
                       const int*, const float*, const int*, const float*, float*, const int*);

int main() {
  const int n = 512, reps = 20;
  std::vector<float> a(n * n), b(n * n), c(n * n);
  for (int i = 0; i < n * n; ++i) a[i] = static_cast<float>(i % 7), b[i] = static_cast<float>(i % 5);
  const float one = 1, zero = 0;
  sgemm_("N", "N", &n, &n, &n, &one, a.data(), &n, b.data(), &n, &zero, c.data(), &n);  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) sgemm_("N", "N", &n, &n, &n, &one, a.data(), &n, b.data(), &n, &zero, c.data(), &n);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const char* better = steper::blas_better_coretype();
  std::printf("%-10s SGEMM %dx%d, 1 thread: %6.1f GFLOP/s   (steper would choose: %s)\n", openblas_get_corename(), n,
              n, reps * 2.0 * n * n * n / s / 1e9, better ? better : "these kernels");
  return 0;
}
