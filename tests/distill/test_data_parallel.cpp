// c10d data parallelism: two ranks in two threads of this process, on loopback through Gloo.
#include "distill/data_parallel.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/error.h"

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
