#include <algorithm>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "core/error.h"
#include "demo/demo.h"
#include "distill/train_config.h"

namespace steper {
namespace {

CommandRegistrar reg({"demo", "the whole pipeline on a fresh generated world, with a report", [](CLI::App* sub) {
  auto quick = std::make_shared<bool>(false);
  auto out = std::make_shared<std::string>();
  auto seed = std::make_shared<uint64_t>(1);
  auto student_tokens = std::make_shared<int64_t>(0);
  auto base = std::make_shared<std::string>();
  auto pretrain = std::make_shared<bool>(false);
  auto base_tokens = std::make_shared<int64_t>(0);
  auto pretrain_questions = std::make_shared<int>(0);
  auto eval_n = std::make_shared<int>(-1);
  auto train_jobs = std::make_shared<int>(-1);
  sub->add_flag("--quick", *quick, "a small run (under 2 minutes) that checks the pipeline, not the scores");
  sub->add_option("--out", *out, "run folder (default runs/demo, or runs/demo-quick with --quick)");
  sub->add_option("--seed", *seed, "world and training seed");
  sub->add_option("--student-tokens", *student_tokens, "token budget of each distilled student")
      ->check(CLI::PositiveNumber);
  sub->add_option("--base", *base, "model folder the students start from (default: the shipped " +
                                       default_base_model() + ")");
  sub->add_flag("--pretrain-base", *pretrain,
                "pretrain the base student in this run, on another generated world, instead of using --base");
  sub->add_option("--base-tokens", *base_tokens, "with --pretrain-base: the base student's token budget")
      ->check(CLI::PositiveNumber);
  sub->add_option("--pretrain-questions", *pretrain_questions,
                  "with --pretrain-base: questions of the world the base pretrains on")
      ->check(CLI::PositiveNumber);
  sub->add_option("--eval-questions", *eval_n, "test questions evaluated (0 = all)")->check(CLI::NonNegativeNumber);
  sub->add_option("--train-jobs", *train_jobs, "students trained at once (0 = all side by side)")
      ->check(CLI::NonNegativeNumber);
  auto seeds = std::make_shared<int>(1);
  sub->add_option("--seeds", *seeds,
                  "training runs of each objective, with data-order seeds --seed, --seed + 1, ...; the report's "
                  "intervals then resample the runs as well as the test questions")
      ->check(CLI::Range(1, 20))->capture_default_str();
  auto seeded = std::make_shared<std::vector<std::string>>();
  sub->add_option("--seeded-objectives", *seeded,
                  "with --seeds: only these objectives (comma-separated, under both frameworks) are trained --seeds "
                  "times, the others once (default: all)")
      ->delimiter(',');
  auto objectives = std::make_shared<std::vector<std::string>>();
  sub->add_option("--objectives", *objectives,
                  "the IRCoT students' objectives, comma-separated (default steper,uniform,vanilla; balanced and "
                  "tied take StepER's weighting apart)")
      ->delimiter(',');
  auto sigma_lr_scale = std::make_shared<double>(1.0);
  sub->add_option("--sigma-lr-scale", *sigma_lr_scale,
                  "sigma's learning rate as a multiple of the students' (the objectives that learn sigma)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  auto ircot_only = std::make_shared<bool>(false);
  sub->add_flag("--ircot-only", *ircot_only, "skip the Self-Ask students, teacher traces and evaluation");
  auto loop = add_loop_flags(sub, LoopUse::kDemo, demo_loop_default());
  return std::function<int()>([=] {
    DemoConfig c = demo_config(*quick);
    c.loop = loop->over(c.loop);
    if (!out->empty()) c.out_dir = *out;
    c.seed = *seed;
    if (*student_tokens > 0) c.student_tokens = *student_tokens;
    if (!base->empty()) c.base_model = *base;
    c.pretrain_base = *pretrain;
    if ((*base_tokens > 0 || *pretrain_questions > 0) && !*pretrain)
      throw Error("--base-tokens and --pretrain-questions need --pretrain-base");
    if (*pretrain && !base->empty()) throw Error("--base and --pretrain-base exclude each other");
    c.base_tokens = *base_tokens;
    c.pretrain_train = *pretrain_questions;
    if (*eval_n >= 0) c.eval_questions = *eval_n;
    if (*train_jobs >= 0) c.train_jobs = *train_jobs;
    if (*ircot_only) c.self_ask_objectives.clear();
    c.seeds = *seeds;
    for (const auto& o : *seeded) objective_name_check(o, "--seeded-objectives");
    c.seeded_objectives = *seeded;
    c.sigma_lr_scale = *sigma_lr_scale;
    if (!objectives->empty()) {
      for (const auto& o : *objectives) objective_name_check(o, "--objectives");
      if (std::find(objectives->begin(), objectives->end(), "steper") == objectives->end())
        throw Error("--objectives: the list must hold steper (the report compares the others with it)");
      std::vector<std::string> sorted = *objectives;
      std::sort(sorted.begin(), sorted.end());
      if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
        throw Error("--objectives: an objective is named twice");
      c.objectives = *objectives;
    }
    return demo_run(c);
  });
}});

CommandRegistrar reg_base({"pretrain-base", "pretrain the base student the demo distils from (models/base-tiny)",
                           [](CLI::App* sub) {
  auto r = std::make_shared<BaseRecipe>(base_recipe(false));
  auto out = std::make_shared<std::string>();
  auto work = std::make_shared<std::string>("runs/pretrain-base");
  auto quick = std::make_shared<bool>(false);
  sub->add_option("--out", *out, "model folder to write (config.json, tokenizer.json, model.safetensors, "
                                 "pretrain.json)")->required();
  sub->add_option("--work", *work, "working folder: the world, its index, traces, checkpoints (a rerun resumes)")
      ->capture_default_str();
  sub->add_flag("--quick", *quick, "a tiny base (seconds), for checking the recipe");
  sub->add_option("--tokens", r->tokens, "training tokens")->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--questions", r->questions, "questions of the generated world it reads")
      ->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--world-seed", r->world_seed, "seed of that world")->capture_default_str();
  sub->add_option("--size", r->size, "tiny or small")->capture_default_str();
  sub->add_option("--vocab", r->vocab, "tokenizer vocabulary size")->capture_default_str();
  sub->add_option("--lr", r->lr, "peak learning rate")->capture_default_str();
  sub->add_option("--batch-tokens", r->batch_tokens, "padded tokens per batch")->capture_default_str();
  sub->add_option("--seed", r->seed, "weights and data order seed")->capture_default_str();
  sub->add_option("--from", r->from, "continue from this model folder (a base made before) instead of a fresh "
                                     "init; its pretrain.json is kept in the new one as \"continued_from\"");
  auto loop = add_loop_flags(sub, LoopUse::kTeach, r->loop);  // the loop of the gold traces it reads
  return std::function<int()>([=] {
    BaseRecipe recipe = *r;
    recipe.loop = loop->over(recipe.loop);
    if (*quick) {
      BaseRecipe q = base_recipe(true);
      recipe.questions = std::min(recipe.questions, q.questions);
      recipe.vocab = std::min(recipe.vocab, q.vocab);
      recipe.tokens = std::min(recipe.tokens, q.tokens);
      recipe.warmup = q.warmup;
    }
    return pretrain_base_command(recipe, *work, *out);
  });
}});

}  // namespace
}  // namespace steper
