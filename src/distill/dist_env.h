// Where one training worker stands among its peers (docs/DESIGN.md section 8): its rank, the world size
// and the rendezvous address, read from torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT) or the matching flags; and `--nproc N`, which starts N workers of this very
// command on this machine and watches them. Torch-free: the CLI includes it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace steper {

struct DistEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int timeout_s = 60;  // a collective that waits longer than this on a peer fails (a dead worker)
  std::string backend = "auto";  // --dist-backend: auto (NCCL on CUDA when built with it, else Gloo), gloo, nccl
  bool distributed() const { return world_size > 1; }
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT through `get` (std::getenv by
// default) over `base`: a variable that is set wins. Throws Error naming the variable when a value is not
// a number or out of range (rank outside [0, world size), port outside 1..65535).
DistEnv dist_env_from_environment(DistEnv base, const std::function<const char*(const char*)>& get = {});

// Throws Error naming the flag or variable when env cannot make sense (a --dist-backend this build lacks
// included).
void dist_env_check(const DistEnv& env);

// Whether this build has c10d's ProcessGroupGloo / ProcessGroupNCCL (NCCL only against a CUDA libtorch
// built with it; src/distill/CMakeLists.txt detects both).
bool dist_gloo_built();
bool dist_nccl_built();
// The backend a group on a CUDA (`cuda`) or CPU device uses: "gloo" or "nccl" (auto: NCCL on CUDA when
// built, else Gloo). Throws Error naming --dist-backend when the choice cannot run (NCCL needs CUDA).
std::string dist_backend_resolve(const std::string& backend, bool cuda);

// Starts `nproc` copies of `argv` (argv[0] an executable path) with RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR=127.0.0.1 and MASTER_PORT=`port` set, and waits for them. When a worker fails, the others
// are stopped (SIGTERM, then SIGKILL after `grace_s`) and the result names the first failed rank:
// returns 0 when all exit 0, else 1 with *failure = "worker rank R exited with status S" (or "was
// killed by signal N").
int launch_workers(int nproc, const std::vector<std::string>& argv, int port, std::string* failure,
                   int grace_s = 10);

// A testing aid for what happens when a machine dies: with STEPER_FAULT_KILL_AT=R:S in the environment,
// rank R kills itself with SIGKILL as its step S begins. Does nothing otherwise.
void fault_kill_if_asked(int rank, int64_t step);

// A TCP port on 127.0.0.1 free at the time of the call (for --nproc rendezvous and tests).
int free_local_port();

}  // namespace steper
