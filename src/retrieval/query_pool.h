// Spreading a batch of queries over threads (internal to retrieval/), for both kinds of index.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace steper {

// Calls `make_worker()` once on each of up to `threads` threads (the calling thread is one) and the
// function it returns for each query index in [0, n), each index once. The first exception stops
// the batch and is rethrown here after every thread has finished.
inline void query_pool_run(size_t n, int threads, const std::function<std::function<void(size_t)>()>& make_worker) {
  if (n == 0) return;
  size_t workers = std::min<size_t>(static_cast<size_t>(std::max(1, threads)), n);
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mu;
  auto work = [&]() {
    try {
      std::function<void(size_t)> run = make_worker();
      for (size_t i = next++; i < n; i = next++) run(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mu);
      if (!failure) failure = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace steper
