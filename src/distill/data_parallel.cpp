#include "distill/data_parallel.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>

#include "core/error.h"
#include "core/text.h"
#include "distill/c10d_backends.h"

namespace steper {

struct DataParallel::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<C10dGroup> pg;
};

namespace {

std::string where(const DistEnv& env) {
  return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + " (rendezvous " +
         env.master_addr + ":" + std::to_string(env.master_port) + ")";
}

// Runs one collective and waits for it; a peer that went away or a timeout becomes an Error.
void run_work(const DistEnv& env, const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
  try {
    start()->wait();
  } catch (const std::exception& e) {
    throw Error("data parallel " + where(env) + ": " + what + " failed (a worker stopped or is unreachable): " +
                first_line(e.what()));
  }
}

// The group for `backend`, from the translation unit compiled for it (dist_env_check refused the others).
c10::intrusive_ptr<C10dGroup> make_group(const std::string& backend, const c10::intrusive_ptr<c10d::Store>& store,
                                         const DistEnv& env, std::chrono::milliseconds timeout) {
#ifdef STEPER_HAS_NCCL
  if (backend == "nccl") return c10d_nccl_group(store, env, timeout);
#endif
#ifdef STEPER_HAS_GLOO
  if (backend == "gloo") return c10d_gloo_group(store, env, timeout);
#endif
  throw Error("--dist-backend " + backend + ": not in this build of steper");
}

torch::Device comm_device(const std::string& backend, torch::Device device, const DistEnv& env) {
  if (backend != "nccl") return torch::kCPU;
  return device.has_index() ? device : torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
}

}  // namespace

DataParallel::DataParallel(const DistEnv& env, torch::Device device)
    : env_(env), backend_(dist_backend_resolve(env.backend, device.is_cuda())),
      comm_device_(comm_device(backend_, device, env)), group_(std::make_unique<Group>()) {
  dist_env_check(env_);
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(env_.timeout_s) * 1000);
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(env_.master_port);
    so.isServer = env_.rank == 0;
    so.numWorkers = static_cast<size_t>(env_.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    group_->store = c10::make_intrusive<c10d::TCPStore>(env_.master_addr, so);
    group_->pg = make_group(backend_, group_->store, env_, timeout);
  } catch (const std::exception& e) {
    throw Error("data parallel " + where(env_) + ": rendezvous failed within " + std::to_string(env_.timeout_s) +
                " s: " + first_line(e.what()));
  }
}

DataParallel::~DataParallel() = default;

void DataParallel::all_reduce_sum(const std::vector<torch::Tensor>& tensors, int64_t bucket_bytes) {
  std::vector<torch::Tensor> bucket;
  int64_t bytes = 0;
  auto flush = [&] {
    if (bucket.empty()) return;
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : bucket) flat_parts.push_back(t.detach().to(comm_device_).reshape({-1}));
    std::vector<torch::Tensor> buf{torch::cat(flat_parts)};
    run_work(env_, "all-reduce", [&] { return group_->pg->allreduce(buf); });
    int64_t off = 0;
    for (const auto& t : bucket) {
      const int64_t n = t.numel();
      t.detach().copy_(buf[0].narrow(0, off, n).view(t.sizes()));
      off += n;
    }
    bucket.clear();
    bytes = 0;
  };
  for (const auto& t : tensors) {
    if (!t.defined()) continue;
    if (!bucket.empty() && (bucket.front().scalar_type() != t.scalar_type() || bytes + static_cast<int64_t>(t.nbytes()) > bucket_bytes))
      flush();
    bucket.push_back(t);
    bytes += static_cast<int64_t>(t.nbytes());
  }
  flush();
}

void DataParallel::broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  for (const auto& t : tensors) {
    if (!t.defined()) continue;
    std::vector<torch::Tensor> buf{t.detach().to(comm_device_).contiguous().clone()};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    run_work(env_, "broadcast", [&] { return group_->pg->broadcast(buf, o); });
    t.detach().copy_(buf[0]);
  }
}

void DataParallel::barrier() {
  run_work(env_, "barrier", [&] { return group_->pg->barrier(); });
}

}  // namespace steper
