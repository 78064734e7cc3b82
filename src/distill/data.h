// Training data for the trainer, torch-free: teacher traces in, tokenized examples, and token-budget
// batches with length bucketing out. Every order is a pure function of (seed, epoch), so a resumed
// run sees exactly the batches an uninterrupted one would.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "core/types.h"

namespace steper {

// ---- traces and examples ---------------------------------------------------------------------------

struct TraceLoadStats {
  size_t lines = 0;        // traces read
  size_t not_kept = 0;     // lines skipped ("kept": false, or no "kept" and "correct": false)
};
// The kept traces of a trace file (core/trace_file.h read_trace_file: strict, errors name file and line).
std::vector<Trace> load_traces(const std::string& path, TraceLoadStats* stats = nullptr);

// Keeps only what the objective trains on: agg_only (vanilla KD) drops every init and exp example.
std::vector<StepExample> select_examples(std::vector<StepExample> examples, bool agg_only);

// ---- tokenization ----------------------------------------------------------------------------------

// One example as the model sees it: ids = prompt then target; positions >= target_start are scored.
struct TokenizedExample {
  std::vector<int32_t> ids;
  int32_t target_start = 0;
  Task task = Task::kAgg;
  uint32_t trace = 0;  // which trace it came from: examples of one trace share the number, counted from 0
  int32_t step = 0;    // s (StepExample::step)
  int32_t length() const { return static_cast<int32_t>(ids.size()); }
  int32_t target_length() const { return length() - target_start; }
};

struct TokenizeOptions {
  int32_t max_len = 1024;  // prompt tokens are cut from the left so that prompt + target fits
  int32_t bos_id = -1;     // prepended to the prompt when >= 0
  int32_t eos_id = -1;     // appended after the agg target (the model learns to stop) when >= 0
};

struct TokenizeStats {
  size_t examples = 0;
  size_t truncated = 0;         // prompts cut from the left
  size_t dropped_too_long = 0;  // target alone would not fit in max_len (counted and reported, not trained)
  size_t prompt_tokens = 0, target_tokens = 0;
  size_t per_task[3] = {0, 0, 0};
};

// encode(text, is_prompt): prompt and target are encoded separately (the prompt as the inference loop
// encodes it, special tokens included; the target as the continuation the model must write).
using EncodeFn = std::function<std::vector<int32_t>(const std::string& text, bool is_prompt)>;
std::vector<TokenizedExample> tokenize_examples(const std::vector<StepExample>& examples, const EncodeFn& encode,
                                                const TokenizeOptions& opts, TokenizeStats* stats = nullptr);

// ---- batches ---------------------------------------------------------------------------------------

// What batching needs of one row of computation (an example, or a pack of them: distill/packing.h).
struct BatchUnit {
  int32_t length = 0;         // tokens computed
  int32_t target_length = 0;  // tokens scored
  int task = 0;               // its example's task (0 init, 1 exp, 2 agg); -1 for a pack of several tasks
};
std::vector<BatchUnit> example_units(const std::vector<TokenizedExample>& data);

// One padded rectangle: rows of similar length.
struct BatchPart {
  std::vector<uint32_t> examples;  // indices into the units batched (examples or packs)
  int32_t max_len = 0;             // padded length of every row
  int64_t padded_tokens() const { return static_cast<int64_t>(examples.size()) * max_len; }
};

// One micro-batch. With mix_tasks it holds one part per task, each length-bucketed on its own, so that
// every batch scores every task (as a random batch would) while padding stays small; a batch then holds
// about batch_tokens real tokens (each task's share of them) rather than at most batch_tokens padded ones.
struct Batch {
  std::vector<BatchPart> parts;
  int64_t tokens = 0;         // real tokens (prompt + target)
  int64_t target_tokens = 0;  // scored tokens
  int64_t padded_tokens() const {
    int64_t n = 0;
    for (const auto& p : parts) n += p.padded_tokens();
    return n;
  }
  size_t num_examples() const {
    size_t n = 0;
    for (const auto& p : parts) n += p.examples.size();
    return n;
  }
};

struct BatchOptions {
  int64_t batch_tokens = 2048;  // tokens per batch: mix_tasks: about this many real tokens; otherwise at most
                                // this many padded ones (a longer example gets a batch alone)
  uint64_t seed = 0;
  int chunk_batches = 16;       // length sorting happens within shuffled chunks of about this many batches
  bool mix_tasks = true;        // every batch takes from every task, in proportion to the task's tokens
                                // (units of one task each only: packs are batched without)
};

// The batches of epoch `epoch` (0-based), in order. Data-parallel workers share this one order
// (distill/step.h get_batches takes each worker's micro-batches from it).
std::vector<Batch> plan_epoch(const std::vector<BatchUnit>& data, int64_t epoch, const BatchOptions& opts);
inline std::vector<Batch> plan_epoch(const std::vector<TokenizedExample>& data, int64_t epoch,
                                     const BatchOptions& opts) {
  return plan_epoch(example_units(data), epoch, opts);
}

// The micro-batches of a whole run, epoch after epoch: micro-batch g (0-based, counted from the start of
// training) is the same whether the run was interrupted or not. Epochs are planned when first reached.
class BatchStream {
 public:
  BatchStream(std::vector<BatchUnit> data, BatchOptions opts) : data_(std::move(data)), opts_(opts) {}
  BatchStream(const std::vector<TokenizedExample>& data, BatchOptions opts) : BatchStream(example_units(data), opts) {}
  // micro-batch g; *epoch (when given) gets its 0-based epoch. Throws Error when an epoch has no batch.
  const Batch& at(int64_t g, int64_t* epoch = nullptr);
  int64_t batches_in_epoch(int64_t e);

 private:
  const std::vector<Batch>& plan(int64_t e);
  std::vector<BatchUnit> data_;
  BatchOptions opts_;
  std::vector<int64_t> ends_;  // cumulative micro-batch counts at the end of each planned epoch
  int64_t cached_epoch_ = -1;
  std::vector<Batch> cached_;
};

// How many optimizer steps (of grad_accum micro-batches each) the budget buys: `steps` as given; `tokens`:
// the first step at which the processed tokens reach it; `epochs` (1 when no budget is given): that many
// passes, counted in micro-batches, rounded down to whole steps (at least one). A budget of more than
// kMaxPlannedEpochs passes throws Error naming the flag (each pass is planned to count it).
constexpr int64_t kMaxPlannedEpochs = 10000;
int64_t plan_total_steps(BatchStream& stream, int grad_accum, std::optional<double> epochs,
                         std::optional<int64_t> steps, std::optional<int64_t> tokens);

// Deterministic across platforms (std::shuffle is not): Fisher-Yates with splitmix64 (core/rng.h).
void shuffle_indices(std::vector<uint32_t>& v, uint64_t seed);

}  // namespace steper
