// ProcessGroupNCCL for DataParallel (distill/c10d_backends.h); compiled only against a CUDA libtorch built
// with NCCL. Not yet run on a GPU (README, "Status"): scripts/cuda-check.sh exercises it with two GPUs.
#include "distill/c10d_backends.h"

#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

namespace steper {

c10::intrusive_ptr<C10dGroup> c10d_nccl_group(const c10::intrusive_ptr<c10d::Store>& store, const DistEnv& env,
                                              std::chrono::milliseconds timeout) {
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, opts);
}

}  // namespace steper
