// The c10d process groups DataParallel (distill/data_parallel.h) runs its collectives on, one translation
// unit per backend (c10d_gloo.cpp, c10d_nccl.cpp), each compiled only when the libtorch built against has
// it (src/distill/CMakeLists.txt). libtorch 2 derives them from c10d::Backend, 1.x from c10d::ProcessGroup;
// both give allreduce, broadcast and barrier. Included by data_parallel.cpp and the backends only.
#pragma once

#include <torch/version.h>

#include <chrono>

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "distill/dist_env.h"

namespace steper {

#if TORCH_VERSION_MAJOR >= 2
using C10dGroup = c10d::Backend;
#else
using C10dGroup = c10d::ProcessGroup;
#endif

// A group of env.world_size ranks meeting through `store`; collectives fail after `timeout`.
// ProcessGroupGloo: CPU tensors. ProcessGroupNCCL: CUDA tensors on this rank's device (cuda:LOCAL_RANK).
c10::intrusive_ptr<C10dGroup> c10d_gloo_group(const c10::intrusive_ptr<c10d::Store>& store, const DistEnv& env,
                                              std::chrono::milliseconds timeout);
c10::intrusive_ptr<C10dGroup> c10d_nccl_group(const c10::intrusive_ptr<c10d::Store>& store, const DistEnv& env,
                                              std::chrono::milliseconds timeout);

}  // namespace steper
