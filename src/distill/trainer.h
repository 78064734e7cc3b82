// `steper train`: distils teacher traces into a model folder with the StepER, StepER-uniform or vanilla-KD
// objective. Torch-free header: the CLI and the demo call train_run without compiling libtorch.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/types.h"
#include "distill/data.h"
#include "distill/metrics_log.h"
#include "distill/packing.h"
#include "distill/train_config.h"

namespace steper {

struct TrainResult {
  int64_t steps = 0;                 // steps done in total (including before a resume)
  int64_t total_steps = 0;           // the run's planned length
  int64_t tokens = 0, target_tokens = 0, padded_tokens = 0;  // processed in total
  double seconds = 0;                // this process's training time
  double tokens_per_s = 0;           // this process's throughput
  double cpu_seconds = 0;            // process CPU time spent in training steps (all threads)
  double padding_share = 0;          // padded / processed - 1, over the whole run
  int64_t examples_seen = 0;         // examples trained on by this process (an example once per pass)
  double examples_per_s = 0;         // this process's
  bool packing = false;              // what the run did (a resumed run: what its checkpoint recorded)
  PackStats pack_stats;              // how the examples were packed (distill/packing.h)
  std::array<double, 3> sigma{};
  std::array<double, 3> last_task_loss{};
  double last_loss = 0;
  size_t examples = 0;               // training examples after filtering
  std::array<size_t, 3> examples_per_task{};
  double peak_rss_mb = 0;            // the process's peak resident memory
  bool finished = false;             // false when stopped early by stop_after
  std::string model_out;             // OUT/model
};

// Runs (or resumes) one training run. Writes OUT/config.json, OUT/metrics.jsonl, OUT/loss.svg,
// OUT/sigma.svg, OUT/summary.json, checkpoints (OUT/checkpoint-<step>/, named by OUT/checkpoint.json) and,
// at the end, OUT/model. on_step is called after every step. A step whose loss or gradient norm is not
// finite stops the run with an Error naming the step, before the optimizer applies it: the last
// checkpoint stays as it was and no model is written.
TrainResult train_run(const TrainConfig& config,
                      const std::function<void(const TrainStepRecord&)>& on_step = nullptr);

// The training examples of a run: the kept traces of --traces turned into init/exp/agg examples
// (agg only for the vanilla and lm objectives).
std::vector<StepExample> load_examples(const TrainConfig& config, bool agg_only, TraceLoadStats* stats = nullptr);

// The learning rate of 1-based step `step` of `total`: linear warm-up, then cosine down to lr * min_ratio.
double lr_at_step(int64_t step, int64_t total, double lr, int64_t warmup, double min_ratio);

}  // namespace steper
