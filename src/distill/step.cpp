#include "distill/step.h"

#include <ATen/record_function.h>

#include <limits>

#include "model/bf16_autocast.h"

namespace steper {

void add_batch(StepBatches& s, const Batch& b, const StepData& data, bool mine) {
  for (const BatchPart& part : b.parts) {
    if (mine) s.parts.push_back(part);
    for (uint32_t r : part.examples)
      for (uint32_t i : data.packs[r].examples) {
        const TokenizedExample& ex = data.examples[i];
        s.totals.target_tokens[static_cast<size_t>(ex.task)] += ex.target_length();
        s.totals.examples++;
        s.examples++;
      }
  }
  s.tokens += b.tokens;
  s.target_tokens += b.target_tokens;
  s.padded_tokens += b.padded_tokens();
}

StepBatches get_batches(BatchStream& stream, const StepData& data, int64_t step, int grad_accum,
                        const DistEnv& dist) {
  StepBatches s;
  const int64_t per_step = static_cast<int64_t>(grad_accum) * dist.world_size;
  for (int64_t k = 0; k < per_step; ++k) {
    int64_t e = 0;
    const Batch& b = stream.at((step - 1) * per_step + k, &e);
    if (k == 0) s.epoch = e;
    add_batch(s, b, data, k % dist.world_size == dist.rank);
  }
  return s;
}

namespace {

torch::Tensor long_tensor(std::vector<int64_t>& v, std::vector<int64_t> shape, torch::Device device) {
  return torch::from_blob(v.data(), shape, torch::kLong).clone().to(device);
}

// One padded rectangle of rows as tensors: ids [B, T]; predict [N], the flat indices into [B*T] of the
// hidden states that predict a scored token; labels [N]; each scored token's task and its example's scored
// tokens. For packs also positions [B, T] and allowed [B, T, T] (padding sees only itself).
struct MicroBatch {
  torch::Tensor ids, predict, labels, positions, allowed;
  std::vector<int64_t> task, example_len;
  bool packed = false;
};

MicroBatch micro_batch(const StepData& data, const BatchPart& part, torch::Device device) {
  MicroBatch mb;
  const int64_t B = static_cast<int64_t>(part.examples.size()), T = part.max_len;
  for (uint32_t r : part.examples) mb.packed = mb.packed || !data.packs[r].single();
  std::vector<int64_t> ids(static_cast<size_t>(B * T), 0), pos, predict, labels;
  std::vector<uint8_t> allowed;
  if (mb.packed) {
    pos.assign(static_cast<size_t>(B * T), 0);
    allowed.assign(static_cast<size_t>(B * T * T), 0);
    for (int64_t i = 0; i < B * T; ++i) allowed[static_cast<size_t>(i * T + i % T)] = 1;
  }
  for (int64_t b = 0; b < B; ++b) {
    const Pack& p = data.packs[part.examples[static_cast<size_t>(b)]];
    const int64_t L = p.length();
    for (int64_t t = 0; t < L; ++t) ids[static_cast<size_t>(b * T + t)] = p.ids[static_cast<size_t>(t)];
    if (mb.packed) {
      for (int64_t t = 0; t < L; ++t) pos[static_cast<size_t>(b * T + t)] = p.position[static_cast<size_t>(t)];
      std::vector<uint8_t> vis = pack_visibility(p);
      for (int64_t t = 0; t < L; ++t)
        std::copy_n(vis.begin() + t * L, L, allowed.begin() + (b * T + t) * T);
    }
    size_t n = 0;
    for (uint32_t i : p.examples) {
      const TokenizedExample& ex = data.examples[i];
      for (int32_t k = 0; k < ex.target_length(); ++k, ++n) {
        predict.push_back(b * T + p.predict_at[n]);
        labels.push_back(p.label[n]);
        mb.task.push_back(static_cast<int64_t>(ex.task));
        mb.example_len.push_back(ex.target_length());
      }
    }
  }
  auto n = static_cast<int64_t>(predict.size());
  mb.ids = long_tensor(ids, {B, T}, device);
  mb.predict = long_tensor(predict, {n}, device);
  mb.labels = long_tensor(labels, {n}, device);
  if (mb.packed) {
    mb.positions = long_tensor(pos, {B, T}, device);
    mb.allowed = torch::from_blob(allowed.data(), {B, T, T}, torch::kUInt8).to(device, torch::kBool);
  }
  return mb;
}

}  // namespace

StepLoss forward_backward(Llama& model, const torch::Tensor& log_var, Objective objective, const StepData& data,
                          const StepBatches& batches, torch::Device device, bool autocast, bool add_prior) {
  StepLoss out;
  torch::Tensor task_sum = torch::zeros({kNumTasks}, torch::kDouble);
  for (size_t a = 0; a < batches.parts.size(); ++a) {
    MicroBatch mb = micro_batch(data, batches.parts[a], device);
    ObjectiveTargets targets = objective_targets(mb.task, mb.example_len, batches.totals, device);
    torch::Tensor ce;
    {
      RECORD_USER_SCOPE("steper::forward");
      Bf16Autocast bf16(autocast);
      torch::Tensor hidden = mb.packed ? model->forward_hidden_packed(mb.ids, mb.positions, mb.allowed)
                                       : model->forward_hidden(mb.ids);
      torch::Tensor picked = hidden.reshape({-1, hidden.size(-1)}).index_select(0, mb.predict);
      ce = token_cross_entropy(model->logits(picked), mb.labels);
    }
    ObjectiveLoss loss = objective_loss(objective, ce, targets, batches.totals, log_var, add_prior && a == 0);
    {
      RECORD_USER_SCOPE("steper::backward");
      loss.loss.backward();
    }
    out.loss += loss.loss.item<double>();
    task_sum += loss.task_loss.to(torch::kCPU, torch::kDouble);
  }
  auto ts = task_sum.accessor<double, 1>();
  for (int j = 0; j < kNumTasks; ++j)
    out.task_loss[static_cast<size_t>(j)] =
        batches.totals.has_task(j) ? ts[j] : std::numeric_limits<double>::quiet_NaN();
  return out;
}

}  // namespace steper
