// OpenBLAS picks its kernels for the CPU when it loads, before main. On a CPU it does not recognise (a
// virtual machine's masked CPU model, for one) it falls back to its oldest x86-64 kernels (Prescott, SSE3),
// several times slower than its AVX2 and AVX-512 kernels (bench/cli/run.sh). When that happened and
// the CPU has the instructions, steper runs itself again once with OPENBLAS_CORETYPE naming the kernels
// the CPU can run. Nothing happens when OPENBLAS_CORETYPE is already set (a user's or the machine's own
// choice), when the BLAS is not OpenBLAS, or when OpenBLAS chose a kernel of its own.
#pragma once

namespace steper {

// The OPENBLAS_CORETYPE this process should have used, or nullptr when its kernels are right.
const char* blas_better_coretype();
// Re-executes the program with that OPENBLAS_CORETYPE (returns only when there is nothing to do or the
// re-execution failed).
void blas_reexec_if_generic(char** argv);

}  // namespace steper
