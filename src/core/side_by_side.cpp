#include "core/side_by_side.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <thread>
#include <vector>

namespace steper {

void run_side_by_side(size_t n, size_t workers, const std::function<void(size_t)>& job,
                      const std::function<void()>& tick, double tick_seconds) {
  std::vector<std::exception_ptr> errors(n);
  std::atomic<size_t> next{0}, running{0};
  workers = std::max<size_t>(1, std::min(workers, n));
  std::vector<std::thread> pool;
  running = workers;
  for (size_t w = 0; w < workers; ++w)
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) {
        try {
          job(i);
        } catch (...) {
          errors[i] = std::current_exception();
        }
      }
      --running;
    });
  auto last = std::chrono::steady_clock::now();
  while (running > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto now = std::chrono::steady_clock::now();
    if (tick && std::chrono::duration<double>(now - last).count() >= tick_seconds) {
      last = now;
      tick();
    }
  }
  for (auto& t : pool) t.join();
  if (tick) tick();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace steper
