// `steper train`: distils teacher traces into a model folder with the StepER, StepER-uniform or vanilla-KD
// objective. Torch-free header: the CLI and the demo call train_run without compiling libtorch.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

namespace steper {

struct TrainConfig {
  std::string model_dir;           // --model: the Hugging Face folder training starts from
  std::string traces_path;         // --traces: teach output (JSONL)
  std::string objective = "steper";  // --objective: steper | uniform | vanilla
  std::string out_dir;             // --out

  // Budget: exactly one of these decides the length of the run; with none set, 1 epoch.
  double epochs = 0;               // --epochs (fractions allowed)
  int64_t train_steps = 0;         // --train-steps: optimizer steps
  int64_t train_tokens = 0;        // --train-tokens: tokens processed (prompt + target, padding excluded)

  double lr = 2e-3;                // --lr: peak learning rate
  double min_lr_ratio = 0.1;       // cosine decays to lr * min_lr_ratio
  int64_t warmup = 50;             // --warmup: linear warm-up steps
  double weight_decay = 0.01;      // AdamW decay on matrices only (not on sigma, norms, biases)
  double beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8;
  int64_t batch_tokens = 2048;     // --batch-tokens: padded tokens per micro-batch
  int grad_accum = 1;              // --grad-accum: micro-batches per optimizer step
  double clip = 1.0;               // --clip: gradient norm clipping (0 = off)
  uint64_t seed = 0;               // --seed
  std::string device = "cpu";      // --device: cpu | cuda | cuda:N
  int64_t checkpoint_every = 0;    // --checkpoint-every: steps between checkpoints (0 = only at the end)
  bool resume = false;             // --resume: continue from OUT/checkpoint
  int64_t max_len = 0;             // --max-len: tokens per example (0 = the model's max_position_embeddings)
  int threads = 0;                 // --threads: BLAS threads (0 = OPENBLAS_NUM_THREADS or the cores, at most 8)
  int torch_threads = 1;           // torch intra-op threads (1 measured fastest with 2 BLAS threads on 2 cores)
  int rank = 0, world_size = 1;    // data-parallel position (only world size 1 is run today)
  bool bf16 = true;                // autocast to bfloat16 on CUDA (CPU always trains in float32)

  int64_t stop_after = 0;          // stop (with a checkpoint) after this many steps as if interrupted; 0 = run to the end
  bool quiet = false;              // no progress line
  bool write_model = true;         // write OUT/model at the end
};

struct TrainStepRecord {
  int64_t step = 0;                // 1-based optimizer step
  int64_t total_steps = 0;         // the run's planned length
  double lr = 0, loss = 0;
  std::array<double, 3> task_loss{};  // init, exp, agg (NaN when the task was absent from the step)
  std::array<double, 3> sigma{};
  int64_t tokens = 0, target_tokens = 0, padded_tokens = 0;  // this step
  double tokens_per_s = 0;         // this run so far
  double padding_share = 0;        // this step
  int64_t epoch = 0;
};

struct TrainResult {
  int64_t steps = 0;                 // steps done in total (including before a resume)
  int64_t total_steps = 0;           // the run's planned length
  int64_t tokens = 0, target_tokens = 0, padded_tokens = 0;  // processed in total
  double seconds = 0;                // this process's training time
  double tokens_per_s = 0;           // this process's throughput
  double cpu_seconds = 0;            // process CPU time spent in training steps (all threads)
  double padding_share = 0;          // padded / processed - 1, over the whole run
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
// at the end, OUT/model. on_step is called after every step.
TrainResult train_run(const TrainConfig& config,
                      const std::function<void(const TrainStepRecord&)>& on_step = nullptr);

// The learning rate of 1-based step `step` of `total`: linear warm-up, then cosine down to lr * min_ratio.
double lr_at_step(int64_t step, int64_t total, double lr, int64_t warmup, double min_ratio);

// Writes loss.svg and sigma.svg in out_dir from out_dir/metrics.jsonl.
void train_write_plots(const std::string& out_dir);

}  // namespace steper
