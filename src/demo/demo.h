// `steper demo`: the whole method on the built-in world, end to end, with a report a person reads.
//   1. two generated worlds: the demo world, and a different one the shared base student pretrains on;
//   2. BM25 indexes; gold-evidence teacher traces for the training questions (filtered);
//   3. a base student pretrained once on the other world, then StepER, StepER-uniform and vanilla-KD
//      students distilled from it with the same token budget;
//   4. every student and the teacher evaluated on the held-out test questions (multi-step, single-step,
//      no retrieval);
//   5. report.md and report.html (tables with bootstrap intervals, per-hop and per-step breakdowns,
//      loss and sigma curves, example traces side by side, wall time per stage).
// Finished stages are reused when their inputs have not changed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace steper {

// How the base student is pretrained: language modelling (every token scored, passages included) on the
// gold-evidence teacher-trace documents of a generated world other than the demo's, as a pretrained language
// model has read text. It teaches copying names from context, which distillation alone reaches only after
// millions of tokens. `steper pretrain-base` makes the base shipped in models/; `steper demo
// --pretrain-base` makes one inside the run.
struct BaseRecipe {
  uint64_t world_seed = 424242;
  int questions = 30000;   // many entities: the base must learn to copy, not memorise
  std::string size = "tiny";
  int vocab = 2048;
  int64_t tokens = 14000000;
  double lr = 2e-3;
  int64_t batch_tokens = 1024;
  int64_t warmup = 50;
  int k = 4, max_steps = 6, max_passages = 10, passage_words = 60;
  uint64_t seed = 1;
};

BaseRecipe base_recipe(bool quick);

// Builds a base student in work_dir (pretrain-world/, its index, gold traces, init/, base/), reusing finished
// stages; returns work_dir/base/model. Stage wall times are appended to times.
std::string pretrain_base(const BaseRecipe& recipe, const std::string& work_dir, nlohmann::json& times);

// `steper pretrain-base`: pretrain_base, then the model files and pretrain.json (recipe, training figures)
// copied to out_dir.
int pretrain_base_command(const BaseRecipe& recipe, const std::string& work_dir, const std::string& out_dir);

// The base shipped with steper (the source tree's models/base-tiny).
std::string default_base_model();

struct DemoConfig {
  std::string out_dir = "runs/demo";
  bool quick = false;         // a small run that checks the pipeline (minutes -> seconds)
  uint64_t seed = 1;
  // Sizes and budgets; preset by demo_config(quick) and adjustable by flags.
  int n_train = 2000, n_dev = 200, n_test = 300;
  // The base student: the shipped one (base_model), or one pretrained in the run (pretrain_base, with
  // pretrain_train questions and base_tokens; 0 keeps base_recipe's values).
  std::string base_model = default_base_model();
  bool pretrain_base = false;
  int pretrain_train = 0;
  int64_t base_tokens = 0;
  int64_t student_tokens = 0; // each student's token budget (the same for every objective)
  double student_lr = 2e-3;
  int64_t batch_tokens = 1024;
  int k = 4;
  int max_steps = 6;
  int max_passages = 10;
  int passage_words = 60;
  int eval_questions = 0;     // test questions evaluated (0 = all)
  std::vector<std::string> objectives = {"steper", "uniform", "vanilla"};
};

DemoConfig demo_config(bool quick);

// Runs the demo; returns 0 on success. Throws Error on bad configuration.
int demo_run(const DemoConfig& config);

}  // namespace steper
