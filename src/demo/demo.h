// `steper demo`: the whole method on the built-in world, end to end, with a report a person reads.
//   1. the demo world (and, with --pretrain-base, a different one the shared base student pretrains on);
//   2. BM25 indexes; gold-evidence teacher traces for the training questions (filtered);
//   3. the base student (the shipped one, pretrained in rounds on other worlds, or one pretrained in the
//      run), then StepER, StepER-uniform and vanilla-KD
//      students distilled from it with the same token budget on IRCoT traces, and StepER and vanilla KD
//      on Self-Ask traces of the same questions (the gold Self-Ask teacher), from the same base and budget;
//   4. every student and the teacher evaluated on the held-out test questions (multi-step, single-step,
//      no retrieval; the Self-Ask students and teacher with the multi-step Self-Ask loop);
//   5. report.md and report.html (tables with bootstrap intervals, per-hop and per-step breakdowns,
//      loss and sigma curves, example traces side by side, wall time per stage).
// Finished stages are reused when their inputs have not changed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/types.h"
#include "demo/pretrain_base.h"

namespace steper {

// The same options under the Self-Ask framework.
LoopOptions demo_self_ask_loop(const LoopOptions& loop);

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
  int train_jobs = 0;         // students trained at once (0: all of them side by side)
  LoopOptions loop = demo_loop_default();  // teaching and evaluation: k 4, 6 steps, 10 passages of 60 words
  int eval_questions = 0;     // test questions evaluated (0 = all)
  std::vector<std::string> objectives = {"steper", "uniform", "vanilla"};
  std::vector<std::string> self_ask_objectives = {"steper", "vanilla"};  // empty: no Self-Ask part
  // Training runs of each objective: run r trains with data-order seed `seed + r - 1` (run 1 is the
  // single-run demo's student); the report's intervals resample runs and questions when there are several.
  int seeds = 1;
  std::vector<std::string> seeded_objectives;  // the objectives trained `seeds` times (empty: all); others once
  double sigma_lr_scale = 1.0;  // sigma's learning rate as a multiple of the model's (learned-sigma objectives)
};

// The system (and student folder suffix) of an objective's training run r (1-based): the objective's own
// name for run 1, "<objective>-run<r>" after it.
std::string demo_run_name(const std::string& objective, int run);
// How many runs of `objective` the demo trains.
int demo_runs_of(const DemoConfig& config, const std::string& objective);

DemoConfig demo_config(bool quick);

// Runs the demo; returns 0 on success. Throws Error on bad configuration.
int demo_run(const DemoConfig& config);

}  // namespace steper
