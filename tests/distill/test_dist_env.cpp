// The workers' environment (torchrun's variables) and the --nproc launcher.
#include "distill/dist_env.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/error_of.h"
#include "core/error.h"

namespace steper {
namespace {

std::function<const char*(const char*)> vars(const std::map<std::string, std::string>& m) {
  return [m](const char* n) -> const char* {
    auto it = m.find(n);
    return it == m.end() ? nullptr : it->second.c_str();
  };
}

TEST(DistEnv, ReadsTorchrunVariables) {
  DistEnv e = dist_env_from_environment(DistEnv{}, vars({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"},
                                                         {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29611"}}));
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "10.0.0.7");
  EXPECT_EQ(e.master_port, 29611);
  EXPECT_TRUE(e.distributed());
}

TEST(DistEnv, UnsetVariablesKeepTheFlags) {
  DistEnv base;
  base.rank = 1;
  base.world_size = 2;
  base.master_port = 1234;
  DistEnv e = dist_env_from_environment(base, vars({}));
  EXPECT_EQ(e.rank, 1);
  EXPECT_EQ(e.world_size, 2);
  EXPECT_EQ(e.master_port, 1234);
}

std::string env_error(const std::map<std::string, std::string>& m) {
  return error_of([&] { dist_env_from_environment(DistEnv{}, vars(m)); });
}

TEST(DistEnv, BadValuesNameTheVariable) {
  EXPECT_NE(env_error({{"RANK", "two"}}).find("RANK must be an integer"), std::string::npos);
  EXPECT_NE(env_error({{"RANK", "2"}, {"WORLD_SIZE", "2"}}).find("RANK (--rank) must lie in [0, 2)"), std::string::npos);
  EXPECT_NE(env_error({{"WORLD_SIZE", "0"}}).find("WORLD_SIZE"), std::string::npos);
  EXPECT_NE(env_error({{"MASTER_PORT", "70000"}}).find("MASTER_PORT"), std::string::npos);
  EXPECT_NE(env_error({{"MASTER_PORT", "80x"}}).find("MASTER_PORT must be an integer"), std::string::npos);
}

TEST(LaunchWorkers, AllSucceedReturnsZero) {
  std::string why;
  EXPECT_EQ(launch_workers(2, {"/bin/sh", "-c", "test \"$WORLD_SIZE\" = 2 && test \"$RANK\" = \"$LOCAL_RANK\""},
                           free_local_port(), &why),
            0)
      << why;
}

TEST(LaunchWorkers, AFailedWorkerIsNamedAndTheOthersStopped) {
  std::string why;
  // rank 1 fails at once; rank 0 would sleep for a minute unless stopped
  const int rc = launch_workers(2, {"/bin/sh", "-c", "if [ \"$RANK\" = 1 ]; then exit 3; fi; exec sleep 60"},
                                free_local_port(), &why, 1);
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(why, "worker rank 1 exited with status 3");
}

TEST(DistEnv, ABackendThisBuildLacksIsAOneLineErrorNamingTheFlag) {
  DistEnv e;
  auto check_error = [](const DistEnv& env) { return error_of([&] { dist_env_check(env); }); };
  e.backend = "mpi";
  EXPECT_EQ(check_error(e), "--dist-backend must be auto, gloo or nccl, got 'mpi'");
  e.backend = "nccl";
  if (dist_nccl_built()) {
    EXPECT_EQ(check_error(e), kNoError);
  } else {
    EXPECT_EQ(check_error(e), "--dist-backend nccl: this steper was built against a libtorch without NCCL (a CUDA "
                           "libtorch has it)");
  }
  e.backend = "auto";
  EXPECT_EQ(check_error(e), kNoError);
  EXPECT_EQ(dist_backend_resolve("auto", false), "gloo");
  EXPECT_EQ(dist_backend_resolve("auto", true), dist_nccl_built() ? "nccl" : "gloo");
  EXPECT_THROW(dist_backend_resolve("nccl", false), Error);  // NCCL needs a CUDA device
}

}  // namespace
}  // namespace steper
