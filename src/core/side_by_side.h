// One runner for jobs that go side by side on threads (the demo's students, its evaluations).
#pragma once

#include <cstddef>
#include <functional>

namespace steper {

// Runs job(0) .. job(n-1) on at most `workers` threads (each job on one thread, taken in order), and
// calls tick() from the calling thread every tick_seconds until every job has finished (and once more
// at the end). When jobs throw, the first failed job's exception (lowest index) is rethrown after all
// have finished.
void run_side_by_side(size_t n, size_t workers, const std::function<void(size_t)>& job,
                      const std::function<void()>& tick, double tick_seconds);

}  // namespace steper
