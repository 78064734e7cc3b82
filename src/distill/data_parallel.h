// Data parallelism on PyTorch's own c10d engine (docs/DESIGN.md section 8): rendezvous through a
// TCPStore that rank 0 hosts, collectives through ProcessGroupGloo (CPU tensors; CUDA tensors are copied
// through the CPU) or, on CUDA with a libtorch built with it, ProcessGroupNCCL (tensors stay on the
// rank's GPU); --dist-backend chooses (distill/dist_env.h). Included by the trainer only: it pulls in libtorch.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "distill/dist_env.h"

namespace steper {

class DataParallel {
 public:
  // Joins the group `env` describes, for tensors on `device` (its backend: dist_backend_resolve); waits at
  // most env.timeout_s for the others. Throws Error naming the rendezvous address when they do not come.
  explicit DataParallel(const DistEnv& env, torch::Device device = torch::kCPU);
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  const std::string& backend() const { return backend_; }  // "gloo" or "nccl"

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
  std::string backend_;
  torch::Device comm_device_;  // where the collectives' buffers lie: the CPU for Gloo, the GPU for NCCL
  std::unique_ptr<Group> group_;
};

}  // namespace steper
