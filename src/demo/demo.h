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

namespace steper {

struct DemoConfig {
  std::string out_dir = "runs/demo";
  bool quick = false;         // a small run that checks the pipeline (minutes -> seconds)
  uint64_t seed = 1;
  // Sizes and budgets; preset by demo_config(quick) and adjustable by flags.
  int n_train = 2000, n_dev = 200, n_test = 300;
  int pretrain_train = 12000;  // questions of the other world the base student pretrains on (many entities: it must learn to copy, not memorise)
  std::string size = "tiny";
  int vocab = 2048;
  int64_t base_tokens = 0;    // base student's token budget
  int64_t student_tokens = 0; // each student's token budget (the same for every objective)
  double lr = 2e-3;
  double student_lr = 1e-3;
  int64_t batch_tokens = 4096;
  int k = 4;
  int max_steps = 6;
  int max_passages = 10;
  int passage_words = 60;
  int eval_questions = 0;     // test questions evaluated (0 = all)
  std::vector<std::string> objectives = {"steper", "uniform", "vanilla"};
  // How the base student is pretrained on the other world: "lm" scores every token of its teacher-trace
  // documents (passages included), as a pretrained language model has read text; it teaches copying names
  // from context, which distillation alone reaches only after millions of tokens.
  std::string base_objective = "lm";
};

DemoConfig demo_config(bool quick);

// Runs the demo; returns 0 on success. Throws Error on bad configuration.
int demo_run(const DemoConfig& config);

}  // namespace steper
