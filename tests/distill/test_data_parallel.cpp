// c10d data parallelism: two ranks in two threads of this process, on loopback through Gloo.
#include "distill/data_parallel.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "core/io.h"
#include "model/llama.h"
#include "trainer_fixture.h"

namespace steper {
namespace {

DistEnv env_for(int rank, int world, int port, int timeout_s = 20) {
  DistEnv e;
  e.rank = rank;
  e.world_size = world;
  e.master_port = port;
  e.timeout_s = timeout_s;
  return e;
}

// Runs body(rank) on `world` threads; returns what each threw (empty when nothing).
std::vector<std::string> on_ranks(int world, const std::function<void(int)>& body) {
  std::vector<std::string> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        body(r);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  return errors;
}

TEST(DataParallel, AllReduceSumsEveryTensorAcrossBuckets) {
  const int port = free_local_port();
  std::vector<std::vector<torch::Tensor>> got(2);
  auto errors = on_ranks(2, [&](int r) {
    DataParallel dp(env_for(r, 2, port));
    // rank r holds (r + 1) * base; the sum is 3 * base. A 16-byte bucket limit forces several buckets,
    // and the float64 tensor goes in a bucket of its own.
    std::vector<torch::Tensor> ts{torch::arange(6, torch::kFloat).view({2, 3}) * (r + 1), torch::Tensor(),
                                  torch::full({5}, 0.5f * (r + 1)), torch::ones({2}, torch::kDouble) * (r + 1)};
    dp.all_reduce_sum(ts, 16);
    got[static_cast<size_t>(r)] = ts;
  });
  ASSERT_EQ(errors[0], "");
  ASSERT_EQ(errors[1], "");
  for (int r = 0; r < 2; ++r) {
    const auto& ts = got[static_cast<size_t>(r)];
    EXPECT_TRUE(torch::equal(ts[0], torch::tensor({0.f, 3.f, 6.f, 9.f, 12.f, 15.f}).view({2, 3})));
    EXPECT_FALSE(ts[1].defined());
    EXPECT_TRUE(torch::equal(ts[2], torch::full({5}, 1.5f)));
    EXPECT_TRUE(torch::equal(ts[3], torch::full({2}, 3.0, torch::kDouble)));
  }
}

TEST(DataParallel, BroadcastCopiesRootValues) {
  const int port = free_local_port();
  std::vector<torch::Tensor> got(2);
  auto errors = on_ranks(2, [&](int r) {
    DataParallel dp(env_for(r, 2, port));
    torch::Tensor t = torch::full({3}, static_cast<float>(10 + r));
    dp.broadcast({t}, 0);
    got[static_cast<size_t>(r)] = t;
  });
  ASSERT_EQ(errors[0] + errors[1], "");
  EXPECT_TRUE(torch::equal(got[1], torch::full({3}, 10.f)));
}

TEST(DataParallel, APeerThatLeavesGivesAnErrorNamingTheRankNotAHang) {
  const int port = free_local_port();
  auto errors = on_ranks(2, [&](int r) {
    DataParallel dp(env_for(r, 2, port, 5));
    dp.barrier();        // both fully connected (a peer leaving during the rendezvous fails it instead)
    if (r == 1) return;  // leaves: its connections close with the group
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    std::vector<torch::Tensor> ts{torch::ones({4})};
    dp.all_reduce_sum(ts);
  });
  EXPECT_EQ(errors[1], "");
  EXPECT_NE(errors[0].find("data parallel rank 0 of 2"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("all-reduce failed"), std::string::npos) << errors[0];
}

TEST(DataParallel, NoPeersWithinTheTimeoutIsAnError) {
  auto errors = on_ranks(1, [&](int) { DataParallel dp(env_for(0, 2, free_local_port(), 1)); });
  EXPECT_NE(errors[0].find("rendezvous failed within 1 s"), std::string::npos) << errors[0];
}

}  // namespace
}  // namespace steper

// ---- training on several workers -----------------------------------------------------------------


namespace steper {
namespace {

namespace fs = std::filesystem;

TrainConfig dp_config(const std::string& out) {
  TrainConfig c = fixture_config(out);
  c.train_steps = 20;
  c.batch_tokens = 256;
  c.checkpoint_every = 4;
  return c;
}

// One process, two micro-batches a step: what two workers with one each must equal.
const std::string& one_worker_run() {
  static const std::string out = [] {
    TrainConfig c = dp_config("dp-one");
    c.grad_accum = 2;
    train_run(c);
    return c.out_dir;
  }();
  return out;
}

double max_abs_difference(const std::string& model_a, const std::string& model_b) {
  Llama a = llama_load(model_a), b = llama_load(model_b);
  auto pa = a->hf_named_parameters(), pb = b->hf_named_parameters();
  EXPECT_EQ(pa.size(), pb.size());
  double worst = 0;
  for (size_t i = 0; i < pa.size() && i < pb.size(); ++i)
    worst = std::max(worst, (pa[i].second - pb[i].second).abs().max().item<double>());
  return worst;
}

std::vector<double> loss_curve(const std::string& out) {
  std::vector<double> losses;
  std::ifstream f(out + "/metrics.jsonl");
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) losses.push_back(nlohmann::json::parse(line).at("loss").get<double>());
  return losses;
}

TEST(DataParallelTrain, TwoWorkersEqualOneWithAccumulation) {
  const TrainConfig base = dp_config("dp-two");
  const int port = free_local_port();
  auto errors = on_ranks(2, [&](int r) {
    TrainConfig c = base;
    c.dist = env_for(r, 2, port);
    train_run(c);
  });
  ASSERT_EQ(errors[0] + errors[1], "");
  EXPECT_LE(max_abs_difference(one_worker_run() + "/model", base.out_dir + "/model"), 1e-5);
  std::vector<double> one = loss_curve(one_worker_run()), two = loss_curve(base.out_dir);
  ASSERT_EQ(one.size(), 20u);
  ASSERT_EQ(two.size(), 20u);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_NEAR(one[i], two[i], 1e-6 * std::abs(one[i])) << "step " << i + 1;
}

// Runs the steper binary through the shell; returns its exit status, with stderr in *err.
int run_steper(const std::string& env_and_args, std::string* err) {
  const std::string cmd = env_and_args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  err->clear();
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) err->append(buf, n);
  int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(DataParallelTrain, AKilledWorkerStopsTheRunNamingItAndResumeEndsWithTheSameModel) {
  const TrainConfig c = dp_config("dp-killed");
  const std::string args = std::string(STEPER_BINARY_DIR) + "/src/cli/steper train --model " + c.model_dir +
                           " --traces " + c.traces_path + " --objective steper --out " + c.out_dir +
                           " --train-steps 20 --batch-tokens 256 --lr 0.01 --warmup 3 --seed 5 --threads 1"
                           " --checkpoint-every 4 --nproc 2 --dist-timeout 20";
  std::string err;
  EXPECT_EQ(run_steper("STEPER_FAULT_KILL_AT=1:11 " + args, &err), 1) << err;
  EXPECT_NE(err.find("worker rank 1 was killed by signal 9"), std::string::npos) << err;
  EXPECT_TRUE(file_exists(c.out_dir + "/checkpoint-00000008/state.json")) << err;
  EXPECT_FALSE(file_exists(c.out_dir + "/model/config.json"));

  ASSERT_EQ(run_steper(args + " --resume", &err), 0) << err;
  EXPECT_LE(max_abs_difference(one_worker_run() + "/model", c.out_dir + "/model"), 1e-5);
  std::vector<double> one = loss_curve(one_worker_run()), resumed = loss_curve(c.out_dir);
  ASSERT_EQ(resumed.size(), 20u);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_NEAR(one[i], resumed[i], 1e-6 * std::abs(one[i])) << "step " << i + 1;
}

}  // namespace
}  // namespace steper
