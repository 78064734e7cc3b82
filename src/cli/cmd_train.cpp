// steper train: distil teacher traces into a model folder (StepER, StepER-uniform or vanilla KD).
#include <cstdio>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "core/error.h"
#include "distill/trainer.h"

namespace steper {
namespace {

CommandRegistrar reg({"train", "Distil teacher traces into a model: StepER, StepER-uniform or vanilla KD",
                      [](CLI::App* sub) {
  auto c = std::make_shared<TrainConfig>();
  auto stop_after = std::make_shared<int64_t>(0);
  sub->add_option("--model", c->model_dir, "model folder to start from (Hugging Face layout)")->required();
  sub->add_option("--traces", c->traces_path, "teacher traces (teach output JSONL)")->required();
  sub->add_option("--objective", c->objective, "steper, uniform or vanilla (or lm: every token scored, for pretraining a base student)")->required();
  sub->add_option("--out", c->out_dir, "run folder: model/, metrics.jsonl, loss.svg, sigma.svg, checkpoints")
      ->required();
  sub->add_option("--epochs", c->epochs, "passes over the examples (default 1 when no budget is given)");
  sub->add_option("--train-steps", c->train_steps, "optimizer steps");
  sub->add_option("--train-tokens", c->train_tokens, "tokens computed, prompt tokens included (a packed trace computes its shared passages once)");
  sub->add_option("--lr", c->lr, "peak learning rate")->capture_default_str();
  sub->add_option("--warmup", c->warmup, "linear warm-up steps")->capture_default_str();
  sub->add_option("--weight-decay", c->weight_decay, "AdamW weight decay on weight matrices")->capture_default_str();
  sub->add_option("--batch-tokens", c->batch_tokens, "padded tokens per micro-batch")->capture_default_str();
  sub->add_option("--grad-accum", c->grad_accum, "micro-batches per optimizer step")->capture_default_str();
  sub->add_option("--clip", c->clip, "gradient-norm clipping (0 = off)")->capture_default_str();
  sub->add_option("--seed", c->seed, "data order seed")->capture_default_str();
  add_device_flag(sub, c->device);
  sub->add_option("--checkpoint-every", c->checkpoint_every, "steps between checkpoints (0 = only at the end)")
      ->capture_default_str();
  sub->add_flag("!--no-packing", c->packing,
                "compute each example on its own instead of each trace's examples as one shared-prefix row "
                "(a resumed run keeps what its checkpoint recorded)");
  sub->add_flag("--resume", c->resume, "continue the run in --out from its last checkpoint");
  sub->add_option("--max-len", c->max_len, "tokens per example; prompts are cut from the left (0 = the model's limit)")
      ->capture_default_str();
  add_threads_flag(sub, c->threads);
  auto loop = add_loop_flags(sub, LoopUse::kRecorded);
  sub->add_option("--stop-after", *stop_after, "stop after this many steps with a checkpoint (resume later)");
  return std::function<int()>([=] {
    TrainConfig config = *c;
    config.loop = loop->resolve().loop;
    config.loop_given = loop->given();
    config.stop_after = *stop_after;
    if (config.stop_after < 0) throw Error("--stop-after must not be negative");
    TrainResult r = train_run(config);
    std::fprintf(stderr,
                 "train: %lld/%lld steps, %lld tokens computed (%lld target), %.0f tokens/s, %.1f examples/s, "
                 "packing %s (%zu of %zu traces split by its fallback), padding %.1f%%, "
                 "sigma init %.3f exp %.3f agg %.3f, peak memory %.0f MB\n",
                 static_cast<long long>(r.steps), static_cast<long long>(r.total_steps),
                 static_cast<long long>(r.tokens), static_cast<long long>(r.target_tokens), r.tokens_per_s,
                 r.examples_per_s, r.packing ? "on" : "off", r.pack_stats.split_traces,
                 r.pack_stats.traces,
                 100.0 * r.padding_share, r.sigma[0], r.sigma[1], r.sigma[2], r.peak_rss_mb);
    if (r.finished) std::fprintf(stderr, "train: model in %s\n", r.model_out.c_str());
    else std::fprintf(stderr, "train: stopped early; continue with --resume\n");
    return 0;
  });
}});

}  // namespace
}  // namespace steper
