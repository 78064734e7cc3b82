#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace steper {

// Per thread: a job that runs several quiet trainings side by side keeps its own progress line.
static thread_local bool g_quiet = false;
void Progress::set_quiet(bool quiet) { g_quiet = quiet; }

std::string format_duration(double s) {
  if (s < 0 || s != s) return "?";
  char buf[32];
  int t = static_cast<int>(s + 0.5);
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", t / 3600, (t / 60) % 60);
  else if (t >= 60) std::snprintf(buf, sizeof buf, "%dm%02ds", t / 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ds", t);
  return buf;
}

Progress::Progress(std::string label, size_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::add(size_t n, const std::string& extra) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  double every = isatty(2) ? 0.5 : 5.0;
  if (std::chrono::duration<double>(now - last_draw_).count() >= every || done_ == total_) {
    last_draw_ = now;
    draw(false, extra);
  }
}

void Progress::finish(const std::string& extra) { draw(true, extra); }

void Progress::draw(bool final, const std::string& extra) {
  if (g_quiet) return;
  bool tty = isatty(2);
  // Without a terminal every draw is a new line: a bare final one repeats nothing already written.
  if (!tty && final && drawn_done_ == done_ && extra.empty()) return;
  drawn_done_ = done_;
  double el = elapsed_seconds();
  double rate = el > 0 ? done_ / el : 0;
  std::string left = (total_ > 0 && rate > 0 && done_ < total_) ? format_duration((total_ - done_) / rate) : "0s";
  if (total_ > 0)
    std::fprintf(stderr, "%s%s: %zu/%zu %s (%.1f/s, %s elapsed, %s left)%s%s%s", tty ? "\r\033[K" : "",
                 label_.c_str(), done_, total_, unit_.c_str(), rate, format_duration(el).c_str(), left.c_str(),
                 extra.empty() ? "" : " ", extra.c_str(), (final || !tty) ? "\n" : "");
  else
    std::fprintf(stderr, "%s%s: %zu %s (%.1f/s, %s elapsed)%s%s%s", tty ? "\r\033[K" : "", label_.c_str(), done_,
                 unit_.c_str(), rate, format_duration(el).c_str(), extra.empty() ? "" : " ", extra.c_str(),
                 (final || !tty) ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace steper
