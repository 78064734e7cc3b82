// What one training run is asked to do, and the checks that refuse a run that cannot make sense before
// anything is loaded. Torch-free: the CLI, the demo and torch-free tests include it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/types.h"
#include "distill/dist_env.h"
#include "model/lora_config.h"

namespace steper {

struct TrainConfig {
  std::string model_dir;           // --model: the Hugging Face folder training starts from
  std::string traces_path;         // --traces: teach output (JSONL)
  std::string objective = "steper";  // --objective: steper | uniform | vanilla | lm | balanced | tied
  std::string out_dir;             // --out
  // -k, --max-steps, --max-passages, --passage-words: only for traces made before traces recorded their
  // loop options (a trace that records them is trained on what each step showed).
  LoopOptions loop;
  bool loop_given = false;         // the user gave loop flags: they must agree with what traces record

  // Budget: at most one of these is given and decides the length of the run; with none, 1 epoch.
  std::optional<double> epochs;        // --epochs (fractions allowed)
  std::optional<int64_t> train_steps;  // --train-steps: optimizer steps
  std::optional<int64_t> train_tokens; // --train-tokens: tokens processed (prompt + target, padding excluded)

  double lr = 2e-3;                // --lr: peak learning rate
  double min_lr_ratio = 0.1;       // cosine decays to lr * min_lr_ratio
  double sigma_lr_scale = 1.0;     // --sigma-lr-scale: sigma's learning rate as a multiple of the model's
  int64_t warmup = 50;             // --warmup: linear warm-up steps
  double weight_decay = 0.01;      // --weight-decay: AdamW decay on matrices only (not on sigma, norms, biases)
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
  DistEnv dist;                    // data-parallel position: rank, world size, rendezvous (docs/DESIGN.md section 8)
  bool packing = true;             // --no-packing turns it off: each trace's examples computed as one row
                                   // (distill/packing.h); a resumed run keeps what its checkpoint recorded
  std::optional<LoraConfig> lora;  // --lora-rank ...: train LoRA adapters only, the base frozen; the run's
                                   // model is then an adapter folder in PEFT's layout
  bool lora_base_bf16 = false;     // --lora-base-bf16: hold the frozen base's projections in bfloat16
                                   // (model/lora.h); needs --lora-rank
  bool grad_checkpoint = false;    // --grad-checkpoint: recompute each layer in the backward pass
  bool bf16 = true;                // autocast to bfloat16 on CUDA (CPU always trains in float32)

  int64_t stop_after = 0;          // --stop-after: stop (with a checkpoint) after this many steps as if
                                   // interrupted; 0 = run to the end
  bool quiet = false;              // no progress line
  bool write_model = true;         // write OUT/model at the end
};

// The objectives --objective takes, in the order the help lists them (distill/objective.h maps them).
const std::vector<std::string>& objective_names();
// Throws Error naming `flag` unless name is one of objective_names().
void objective_name_check(const std::string& name, const std::string& flag);

// Throws Error naming the flag (or the field, for settings without one) when a value cannot make sense,
// e.g. "--lr must be finite and positive, got inf"; also checks that --model is a model folder.
void train_config_check(const TrainConfig& config);

// The settings as OUT/config.json records them (an unset budget is null).
nlohmann::json train_config_json(const TrainConfig& config);

}  // namespace steper
