// The demo's stages, each reused when its inputs have not changed: a stage folder holds stage.json with a
// fingerprint of its inputs; a stage whose fingerprint matches is skipped. The stages (world and index,
// gold-evidence teacher traces, a from-scratch model, training jobs side by side) serve both `steper
// demo` and `steper pretrain-base`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/types.h"
#include "distill/trainer.h"

namespace steper {

// 64-bit FNV-1a over the strings, as 16 hex digits.
std::string fingerprint_strings(const std::vector<std::string>& parts);
// Fingerprint of a file's bytes (or a folder's files, sorted by name).
std::string fingerprint_path(const std::string& path);

// A stage's record is DIR/stage.json. A missing one means the stage is not done; a damaged one (bad
// JSON, a field of the wrong type) is an Error naming it, never a stage silently redone or left out.
bool stage_done(const std::string& dir, const std::string& fingerprint);
void stage_mark_done(const std::string& dir, const std::string& fingerprint, const nlohmann::json& info = {});
nlohmann::json stage_info(const std::string& dir);  // the info saved with the fingerprint ({} when none)

// Appends {stage, seconds, reused} to `times` when it goes out of scope.
struct StageTimer {
  nlohmann::json& times;
  std::string name;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool reused = false;
  ~StageTimer();
};

void say(const std::string& line);  // "demo: <line>" on standard error

// The demo's loop options unless flags change them (teaching, evaluation, and the base student's
// traces): k 4, 6 steps, 10 passages of 60 words.
LoopOptions demo_loop_default();

// A world's corpus and training questions with their answer sentences: the text a tokenizer is trained on.
std::vector<std::string> world_texts(const std::string& dir);

struct WorldSpec {
  std::string name;
  uint64_t seed;
  int train, dev, test;
};
// OUT/<name>/ (the world) and OUT/<name>-index/ (its BM25 index).
void stage_world(const std::string& out, const WorldSpec& w, nlohmann::json& times);
// Gold-evidence teacher traces of a world's training questions in OUT/traces-<world>/ (IRCoT) or
// OUT/traces-<world>-<framework>/; returns their path.
std::string stage_teach(const std::string& out, const std::string& world, const LoopOptions& loop,
                        nlohmann::json& times);
// The from-scratch model: random weights and a BPE tokenizer trained on the given worlds' texts.
void stage_init(const std::string& dir, const std::vector<std::string>& world_dirs, const std::string& size,
                int vocab, uint64_t seed, nlohmann::json& times);

// A training stage: reused when its inputs are unchanged (nullopt); an interrupted run of the same inputs
// resumes; otherwise it starts afresh.
struct TrainJob {
  std::string name, dir, fp;
  TrainConfig tc;
};
std::optional<TrainJob> train_job(const std::string& out, const std::string& name, const std::string& from,
                                  const std::string& traces_path, const std::string& objective, int64_t tokens,
                                  double lr, int64_t batch_tokens, uint64_t seed, int64_t warmup,
                                  double sigma_lr_scale = 1.0);
// The jobs of one group train side by side, one BLAS thread each (on these small batches a second BLAS
// thread buys little; a second training nearly doubles the throughput), with one progress line; at most
// `at_once` of them at a time (0: all at once). A training that runs alone takes every core.
void train_group(const std::string& label, std::vector<std::optional<TrainJob>> jobs, nlohmann::json& times,
                 size_t at_once = 0);

}  // namespace steper
