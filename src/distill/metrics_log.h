// The metrics log of a training run: OUT/metrics.jsonl, one line per optimizer step, and the two plots
// drawn from it (OUT/loss.svg, OUT/sigma.svg). Torch-free.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace steper {

class JsonlAppender;

// One optimizer step as the trainer reports it (to on_step and to the log).
struct TrainStepRecord {
  int64_t step = 0;                // 1-based optimizer step
  int64_t total_steps = 0;         // the run's planned length
  double lr = 0, loss = 0;
  std::array<double, 3> task_loss{};  // init, exp, agg (NaN when the task was absent from the step)
  std::array<double, 3> sigma{};      // after the step's update
  int64_t tokens = 0, target_tokens = 0, padded_tokens = 0;  // this step (tokens: computed)
  int64_t examples = 0;            // examples this step scored
  int64_t total_tokens = 0;        // processed by the run so far, this step included
  double tokens_per_s = 0;         // this process so far
  double padding_share = 0;        // this step
  int64_t epoch = 0;
};

// One line of metrics.jsonl (absent tasks' losses are null).
nlohmann::json metrics_line(const TrainStepRecord& rec);
// The progress line's text: "loss 2.345 [init 2.1 exp - agg 3.0] sigma 1.00/1.01/0.99 1234 tok/s".
std::string metrics_progress_text(const TrainStepRecord& rec);

class MetricsLog {
 public:
  // Opens OUT/metrics.jsonl. A fresh run (resumed_step empty) starts an empty log; a resumed one keeps the
  // lines up to and including resumed_step: later lines, and a line torn by a kill, belong to the
  // interrupted tail. A line that is not a step record throws Error naming file and line.
  MetricsLog(const std::string& out_dir, std::optional<int64_t> resumed_step);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  void append(const TrainStepRecord& rec);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<JsonlAppender> out_;
};

// Writes loss.svg and sigma.svg in out_dir from out_dir/metrics.jsonl (nothing when there is no log).
void train_write_plots(const std::string& out_dir);

}  // namespace steper
