// Data parallelism on PyTorch's own c10d engine (docs/DESIGN.md section 8): rendezvous through a
// TCPStore that rank 0 hosts, collectives through ProcessGroupGloo (CPU tensors; CUDA tensors are copied
// through the CPU). Included by the trainer only: it pulls in libtorch.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "distill/dist_env.h"

namespace steper {

class DataParallel {
 public:
  // Joins the group `env` describes; waits at most env.timeout_s for the others. Throws Error naming the
  // rendezvous address when they do not come.
  explicit DataParallel(const DistEnv& env);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }

  // Sums each tensor over all ranks in place, in buckets of at most `bucket_bytes` (tensors flattened
  // together into one buffer per bucket, float32 or float64 kept apart). Undefined tensors are skipped;
  // every rank must pass the same shapes in the same order. Throws Error naming this rank when a peer
  // has gone (within the timeout).
  void all_reduce_sum(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes = 25 << 20);
  // Copies rank `root`'s values of each tensor to every rank, in place.
  void broadcast(const std::vector<torch::Tensor>& tensors, int root = 0);
  void barrier();

 private:
  struct Group;
  DistEnv env_;
  std::unique_ptr<Group> group_;
};

}  // namespace steper
