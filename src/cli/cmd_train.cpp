// steper train: distil teacher traces into a model folder (StepER, StepER-uniform or vanilla KD).
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "core/error.h"
#include "distill/dist_env.h"
#include "distill/trainer.h"
#include "model/lora_config.h"

namespace steper {
namespace {

// This executable's path, for starting workers that run the same binary.
std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw Error("--nproc: cannot find this program's path (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

// --nproc N: N workers of this same command line on this machine, rendezvous on a free loopback port.
int launch_local_workers(int nproc) {
  std::vector<std::string> argv = process_args();
  argv.at(0) = self_path();
  std::string failure;
  const int rc = launch_workers(nproc, argv, free_local_port(), &failure);
  if (rc != 0) throw Error("train --nproc " + std::to_string(nproc) + ": " + failure + "; the other workers were stopped");
  return 0;
}

CommandRegistrar reg({"train", "Distil teacher traces into a model: StepER, StepER-uniform or vanilla KD",
                      [](CLI::App* sub) {
  auto c = std::make_shared<TrainConfig>();
  auto stop_after = std::make_shared<int64_t>(0);
  auto nproc = std::make_shared<int>(1);
  auto dist = std::make_shared<DistEnv>();
  sub->add_option("--model", c->model_dir, "model folder to start from (Hugging Face layout)")->required();
  sub->add_option("--traces", c->traces_path, "teacher traces (teach output JSONL)")->required();
  sub->add_option("--objective", c->objective, "steper, uniform or vanilla; balanced (fixed equal task weights) or tied (one learned sigma) take StepER's weighting apart; lm: every token scored, for pretraining a base student")->required();
  sub->add_option("--out", c->out_dir, "run folder: model/, metrics.jsonl, loss.svg, sigma.svg, checkpoints")
      ->required();
  sub->add_option("--epochs", c->epochs, "passes over the examples (default 1 when no budget is given)");
  sub->add_option("--train-steps", c->train_steps, "optimizer steps");
  sub->add_option("--train-tokens", c->train_tokens, "tokens computed, prompt tokens included (a packed trace computes its shared passages once)");
  sub->add_option("--lr", c->lr, "peak learning rate")->capture_default_str();
  sub->add_option("--warmup", c->warmup, "linear warm-up steps")->capture_default_str();
  sub->add_option("--min-lr-ratio", c->min_lr_ratio, "the cosine decay ends at lr times this")->capture_default_str();
  sub->add_option("--sigma-lr-scale", c->sigma_lr_scale,
                  "sigma's learning rate as a multiple of the model's, on the same schedule (steper and tied)")
      ->capture_default_str();
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
  auto lora = std::make_shared<LoraConfig>();
  auto* lora_rank = sub->add_option("--lora-rank", lora->rank,
                                    "train LoRA adapters of this rank only (the base frozen); the run's model is "
                                    "an adapter folder in PEFT's layout");
  sub->add_option("--lora-alpha", lora->alpha, "LoRA scale numerator (scale = alpha / rank)")->capture_default_str();
  sub->add_option("--lora-dropout", lora->dropout, "dropout on the adapters' input")->capture_default_str();
  sub->add_option("--lora-targets", lora->targets, "modules to adapt, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_flag("--lora-base-bf16", c->lora_base_bf16,
                "hold the frozen base's projection weights in bfloat16 (half their memory; the adapters and "
                "their optimizer stay float32)");
  sub->add_flag("--grad-checkpoint", c->grad_checkpoint,
                "keep only each layer's input and recompute the layer in the backward pass (less memory)");
  sub->add_option("--nproc", *nproc, "data-parallel workers to start on this machine (each takes its share of "
                                     "every step's micro-batches; gradients are all-reduced)")->capture_default_str();
  auto* rank = sub->add_option("--rank", dist->rank, "this worker's rank when started by another launcher (or RANK)");
  auto* world = sub->add_option("--world-size", dist->world_size, "workers in all (or WORLD_SIZE)");
  auto* addr = sub->add_option("--master-addr", dist->master_addr, "rank 0's address for the rendezvous (or MASTER_ADDR)");
  auto* port = sub->add_option("--master-port", dist->master_port, "rank 0's rendezvous port (or MASTER_PORT)");
  sub->add_option("--dist-timeout", dist->timeout_s, "seconds a worker waits for the others before failing")
      ->capture_default_str();
  sub->add_option("--dist-backend", dist->backend,
                  "c10d backend of the workers: auto (NCCL on CUDA when this build has it, else Gloo), gloo "
                  "or nccl")->capture_default_str();
  return std::function<int()>([=] {
    if (*nproc < 1) throw Error("--nproc must be at least 1, got " + std::to_string(*nproc));
    dist_env_check(*dist);  // before any worker starts: e.g. --dist-backend nccl in a build without it
    if (*nproc > 1 && std::getenv("RANK") == nullptr) return launch_local_workers(*nproc);
    TrainConfig config = *c;
    if (lora_rank->count()) config.lora = *lora;
    else if (sub->count("--lora-alpha") || sub->count("--lora-dropout") || sub->count("--lora-targets") ||
             sub->count("--lora-base-bf16"))
      throw Error("--lora-alpha, --lora-dropout, --lora-targets and --lora-base-bf16 need --lora-rank");
    // torchrun's variables, then the flags given explicitly
    DistEnv flags = *dist;
    config.dist = dist_env_from_environment(flags);
    config.dist.timeout_s = flags.timeout_s;
    config.dist.backend = flags.backend;
    if (rank->count()) config.dist.rank = flags.rank;
    if (world->count()) config.dist.world_size = flags.world_size;
    if (addr->count()) config.dist.master_addr = flags.master_addr;
    if (port->count()) config.dist.master_port = flags.master_port;
    config.loop = loop->resolve().loop;
    config.loop_given = loop->given();
    config.stop_after = *stop_after;
    if (config.stop_after < 0) throw Error("--stop-after must not be negative");
    TrainResult r = train_run(config);
    if (config.dist.rank != 0) return 0;  // rank 0 reports
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
