#include <memory>

#include "cli/command.h"
#include "demo/demo.h"

namespace steper {
namespace {

CommandRegistrar reg({"demo", "the whole pipeline on a fresh generated world, with a report", [](CLI::App* sub) {
  auto quick = std::make_shared<bool>(false);
  auto out = std::make_shared<std::string>();
  auto seed = std::make_shared<uint64_t>(1);
  auto student_tokens = std::make_shared<int64_t>(0);
  auto base_tokens = std::make_shared<int64_t>(0);
  auto eval_n = std::make_shared<int>(-1);
  sub->add_flag("--quick", *quick, "a small run (under 2 minutes) that checks the pipeline, not the scores");
  sub->add_option("--out", *out, "run folder (default runs/demo, or runs/demo-quick with --quick)");
  sub->add_option("--seed", *seed, "world and training seed");
  sub->add_option("--student-tokens", *student_tokens, "token budget of each distilled student")
      ->check(CLI::PositiveNumber);
  sub->add_option("--base-tokens", *base_tokens, "token budget of the base student")->check(CLI::PositiveNumber);
  sub->add_option("--eval-questions", *eval_n, "test questions evaluated (0 = all)")->check(CLI::NonNegativeNumber);
  return std::function<int()>([=] {
    DemoConfig c = demo_config(*quick);
    if (!out->empty()) c.out_dir = *out;
    c.seed = *seed;
    if (*student_tokens > 0) c.student_tokens = *student_tokens;
    if (*base_tokens > 0) c.base_tokens = *base_tokens;
    if (*eval_n >= 0) c.eval_questions = *eval_n;
    return demo_run(c);
  });
}});

}  // namespace
}  // namespace steper
