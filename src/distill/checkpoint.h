// Training checkpoints: OUT/checkpoint-<step>/ holds weights.pt (model, sigma, CPU RNG), optimizer.pt and
// state.json (step, token counts, the settings a resumed run must share, and the size and FNV-1a 64 hash
// of each .pt file); OUT/checkpoint.json names the newest. A resume restores everything bit for bit, or
// refuses in one line naming the file and field.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "distill/objective.h"
#include "distill/train_config.h"
#include "model/llama.h"

namespace steper {

// Where a run stands after `step` optimizer steps.
struct TrainState {
  int64_t step = 0, tokens = 0, target_tokens = 0, padded_tokens = 0;
};

// What a checkpoint saves and a resume restores.
struct CheckpointParts {
  std::vector<std::pair<std::string, torch::Tensor>> weights;  // what training changes: the model's
                                                                // parameters, or a LoRA run's adapters
  TaskWeighting& weighting;
  torch::optim::Optimizer& optimizer;
};

// The settings a resumed run must share with the run it continues (total_steps included).
nlohmann::json resume_fingerprint(const TrainConfig& config, int64_t total_steps);

// Whether the run whose last checkpoint is in out_dir packed its examples (false for a checkpoint written
// before packing was recorded). A resumed run trains as it did. Throws Error when there is no checkpoint.
bool checkpoint_packing(const std::string& out_dir);

// Writes OUT/checkpoint-<step>/ (via a temporary folder and a rename), points OUT/checkpoint.json at it,
// then removes older checkpoints.
void checkpoint_write(const std::string& out_dir, const CheckpointParts& parts, const TrainState& state,
                      const nlohmann::json& fingerprint);

// The state steps 1..step of this run reach (replayed from its data order): what a checkpoint of that
// step must record.
using ReplayState = std::function<TrainState(int64_t step)>;

// Restores the checkpoint OUT/checkpoint.json names into parts and returns its state. Throws Error naming
// the file and field when the checkpoint is missing, damaged (size or hash), of another run (fingerprint),
// outside this run (step not in [0, total_steps], token counts other than replay(step) gives), or holds
// non-finite values. Nothing is restored unless every check passes.
TrainState checkpoint_read(const std::string& out_dir, const CheckpointParts& parts, const nlohmann::json& fingerprint,
                           const ReplayState& replay, torch::Device device);

// The path of the checkpoint OUT/checkpoint.json names ("" when there is none).
std::string checkpoint_latest(const std::string& out_dir);

// FNV-1a, 64 bits, of a byte string.
uint64_t fnv1a64(const std::string& bytes);

}  // namespace steper
