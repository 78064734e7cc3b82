// Progress on standard error: items done, rate, time left. Redraws at most a few times a second.
#pragma once

#include <chrono>
#include <string>

namespace steper {

class Progress {
 public:
  Progress(std::string label, size_t total, std::string unit = "items");
  void set_total(size_t total) { total_ = total; }
  void add(size_t n = 1, const std::string& extra = "");
  void finish(const std::string& extra = "");
  size_t done() const { return done_; }
  double elapsed_seconds() const;
  static void set_quiet(bool quiet);  // for the calling thread only

 private:
  void draw(bool final, const std::string& extra);
  std::string label_, unit_;
  size_t total_, done_ = 0;
  size_t drawn_done_ = static_cast<size_t>(-1);  // done_ at the last line written (not redrawn in place)
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);

}  // namespace steper
