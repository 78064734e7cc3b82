// Training parity check against PyTorch (driven by scripts/cuda_check.py, section "training"): a few AdamW
// steps of the plain causal-LM loss on one fixed batch, through steper's own Llama, LoRA adapters
// (model/lora.h, --lora-base-bf16's bfloat16 base) and c10d data parallelism (distill/data_parallel.h,
// Gloo or NCCL), so that transformers, PEFT and torch.distributed can be held against them. Not the
// trainer (which needs traces and a tokenizer): the pieces it is built from, on a libtorch-only machine.
//
//   train_check SPEC_JSON OUT_JSON
// SPEC_JSON: {"model": DIR, "device": "cpu"|"cuda"|"cuda:N", "steps": N, "lr": X, "betas": [b1, b2],
//   "eps": X, "weight_decay": X (matrices only, as the trainer), "autocast_bf16": bool (CUDA),
//   "batch": [[ids...], ...] (equal lengths), "micro_batches": K (rows split into K equal micro-batches,
//   micro-batch m computed by rank m % world: torchrun's RANK/WORLD_SIZE/... in the environment),
//   "lora": null | {"adapter_in": DIR (PEFT's layout), "adapter_out": DIR, "base_bf16": bool},
//   "weights_out": FILE (the trained tensors, float32, concatenated in order; rank 0)}
// OUT_JSON (rank 0): {"losses": [...], "logits": [...] (after training, eval mode, flattened),
//   "backend": "gloo" | "nccl" | "none"}.
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "distill/adamw.h"
#include "distill/data_parallel.h"
#include "model/bf16_autocast.h"
#include "model/llama.h"
#include "model/lora.h"

namespace {

using steper::Error;

std::vector<float> to_floats(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Mean next-token cross-entropy over every token of the whole step (all micro-batches): this part's sum
// divided by the step's token count.
torch::Tensor part_loss(steper::Llama& model, const torch::Tensor& ids, int64_t step_tokens, bool autocast) {
  torch::Tensor logits;
  {
    steper::Bf16Autocast bf16(autocast);
    logits = model->forward(ids.narrow(1, 0, ids.size(1) - 1));
  }
  torch::Tensor labels = ids.narrow(1, 1, ids.size(1) - 1).reshape({-1});
  torch::Tensor ce = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}).to(torch::kFloat), labels,
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  return ce / static_cast<double>(step_tokens);
}

// The trainer's optimizer (distill/adamw.h) over what trains.
std::unique_ptr<torch::optim::AdamW> adamw(const std::vector<torch::Tensor>& trained, const nlohmann::json& spec) {
  std::vector<torch::Tensor> decay, no_decay;
  steper::split_decay(trained, decay, no_decay);
  return steper::make_adamw(decay, no_decay,
                            {spec.at("lr").get<double>(), spec.at("betas")[0].get<double>(),
                             spec.at("betas")[1].get<double>(), spec.at("eps").get<double>(),
                             spec.at("weight_decay").get<double>()});
}

struct Trainee {
  steper::Llama model{nullptr};
  std::shared_ptr<steper::LoraAdapters> lora;  // null: every weight trains
  std::vector<torch::Tensor> params;           // what trains, in order
};

Trainee load_trainee(const nlohmann::json& spec, torch::Device device) {
  Trainee t;
  t.model = steper::llama_load(spec.at("model").get<std::string>(), device);
  std::vector<std::pair<std::string, torch::Tensor>> trained = t.model->hf_named_parameters();
  const nlohmann::json& lj = spec.at("lora");
  if (!lj.is_null()) {  // as the trainer does: freeze, (bfloat16 base), then the adapters
    for (auto& np : trained) np.second.set_requires_grad(false);
    if (lj.value("base_bf16", false)) steper::lora_hold_base_in_bfloat16(t.model);
    t.lora = std::make_shared<steper::LoraAdapters>(
        steper::LoraAdapters::load(lj.at("adapter_in").get<std::string>(), t.model->config(), device));
    t.model->set_lora(t.lora);
    trained = t.lora->named_tensors();
  }
  for (auto& np : trained) t.params.push_back(np.second);
  return t;
}

// One optimizer step's loss: this rank's micro-batches forward and backward, then (data parallel) the
// gradients and the loss summed over the ranks, as the trainer's all_reduce_step does.
double step_loss(Trainee& t, const torch::Tensor& batch, int64_t micro, const steper::DistEnv& dist,
                 steper::DataParallel* dp, bool autocast) {
  const int64_t rows = batch.size(0) / micro, step_tokens = batch.size(0) * (batch.size(1) - 1);
  double loss = 0;
  for (int64_t m = dist.rank; m < micro; m += dist.world_size) {
    torch::Tensor l = part_loss(t.model, batch.narrow(0, m * rows, rows), step_tokens, autocast);
    l.backward();
    loss += l.item<double>();
  }
  if (!dp) return loss;
  std::vector<torch::Tensor> grads;
  for (auto& p : t.params) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  torch::Tensor total = torch::tensor({loss}, torch::kDouble);
  grads.push_back(total);
  dp->all_reduce_sum(grads);
  return total.item<double>();
}

void write_outputs(Trainee& t, const nlohmann::json& spec, const torch::Tensor& batch, nlohmann::json out,
                   const std::string& out_path) {
  t.model->eval();
  {
    torch::NoGradGuard no_grad;
    out["logits"] = to_floats(t.model->forward(batch));
  }
  const nlohmann::json& lj = spec.at("lora");
  if (t.lora && lj.contains("adapter_out")) t.lora->save(lj.at("adapter_out").get<std::string>());
  if (spec.contains("weights_out")) {
    std::ofstream w(spec.at("weights_out").get<std::string>(), std::ios::binary);
    for (const auto& p : t.params) {
      std::vector<float> v = to_floats(p);
      w.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
    }
  }
  std::ofstream(out_path) << out.dump();
}

int run(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: train_check SPEC_JSON OUT_JSON\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  const nlohmann::json spec = nlohmann::json::parse(in);
  const steper::DistEnv dist = steper::dist_env_from_environment(steper::DistEnv{});
  torch::Device device(spec.at("device").get<std::string>());
  if (device.is_cuda() && !device.has_index() && dist.distributed())  // one GPU per worker
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist.local_rank));
  const bool autocast = device.is_cuda() && spec.value("autocast_bf16", false);
  torch::manual_seed(0);

  Trainee t = load_trainee(spec, device);
  auto optimizer = adamw(t.params, spec);
  std::unique_ptr<steper::DataParallel> dp =
      dist.distributed() ? std::make_unique<steper::DataParallel>(dist, device) : nullptr;
  if (dp) dp->broadcast(t.params);
  std::vector<torch::Tensor> rows;
  for (const auto& r : spec.at("batch")) rows.push_back(torch::tensor(r.get<std::vector<int64_t>>(), torch::kLong));
  const torch::Tensor batch = torch::stack(rows).to(device);
  const int64_t micro = spec.value("micro_batches", 1);
  if (micro < 1 || batch.size(0) % micro != 0) throw Error("train_check: the batch's rows must split into micro_batches");

  nlohmann::json out;
  out["backend"] = dp ? dp->backend() : "none";
  t.model->train();
  for (int64_t s = 0; s < spec.at("steps").get<int64_t>(); ++s) {
    optimizer->zero_grad();
    out["losses"].push_back(step_loss(t, batch, micro, dist, dp.get(), autocast));
    optimizer->step();
  }
  if (dist.rank != 0) return 0;
  write_outputs(t, spec, batch, out, argv[2]);
  std::printf("train_check: %s on %s, %d worker(s) (%s): losses %s\n", spec.at("model").get<std::string>().c_str(),
              device.str().c_str(), dist.world_size, dp ? dp->backend().c_str() : "alone", out["losses"].dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_check: error: %s\n", e.what());
  }
  return 1;
}
