// LoRA adapters in PEFT's layout: the config fields and tensor names PEFT writes, round trips, bad
// folders named, and merging (W + scale * B A) against the adapter applied to activations.
#include "model/lora.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "common/toy_llama.h"
#include "core/io.h"
#include "model/safetensors.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

std::string temp_dir(const std::string& name) {
  std::string d = "/tmp/steper-lora-test-" + std::to_string(getpid()) + "-" + name;
  fs::remove_all(d);
  return d;
}

TEST(Lora, ReadsTheConfigPeftWrites) {
  const std::string path = std::string(STEPER_FIXTURES) + "/lora/adapter_config.json";
  LoraConfig c = LoraConfig::from_peft_json(read_json(path), path);
  EXPECT_EQ(c.rank, 4);
  EXPECT_DOUBLE_EQ(c.alpha, 8);
  EXPECT_DOUBLE_EQ(c.dropout, 0.05);
  EXPECT_EQ(c.targets, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_DOUBLE_EQ(c.scale(), 2.0);  // lora_alpha / r
  EXPECT_EQ(c.base_model, "meta-llama/Llama-3.2-1B");
  c.use_rslora = true;
  EXPECT_DOUBLE_EQ(c.scale(), 4.0);  // lora_alpha / sqrt(r)
}

TEST(Lora, SavesPeftTensorNamesShapesAndConfig) {
  LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 8;
  lc.targets = {"q_proj", "v_proj", "down_proj"};
  LoraAdapters a(toy_llama_config(), lc, 1);
  const std::string dir = temp_dir("save");
  a.save(dir);
  auto f = SafetensorsFile::open(dir + "/adapter_model.safetensors");
  std::map<std::string, std::vector<int64_t>> got;
  for (const auto& t : f->tensors()) got[t.name] = t.shape;
  // PEFT's names for LlamaForCausalLM: base_model.model. + the module path; A [r, in], B [out, r]
  // (the toy model: hidden 24, 4 query heads and 2 key/value heads of 6, MLP 40)
  const std::map<std::string, std::vector<int64_t>> want = {
      {"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", {4, 24}},
      {"base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", {24, 4}},
      {"base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", {4, 24}},
      {"base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight", {12, 4}},
      {"base_model.model.model.layers.0.mlp.down_proj.lora_A.weight", {4, 40}},
      {"base_model.model.model.layers.0.mlp.down_proj.lora_B.weight", {24, 4}},
      {"base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", {4, 24}},
      {"base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight", {24, 4}},
      {"base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight", {4, 24}},
      {"base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight", {12, 4}},
      {"base_model.model.model.layers.1.mlp.down_proj.lora_A.weight", {4, 40}},
      {"base_model.model.model.layers.1.mlp.down_proj.lora_B.weight", {24, 4}}};
  EXPECT_EQ(got, want);
  nlohmann::json j = read_json(dir + "/adapter_config.json");
  EXPECT_EQ(j["peft_type"], "LORA");
  EXPECT_EQ(j["task_type"], "CAUSAL_LM");
  EXPECT_EQ(j["r"], 4);
  EXPECT_EQ(j["lora_alpha"], 8.0);
  EXPECT_EQ(j["bias"], "none");
  EXPECT_EQ(j["target_modules"], nlohmann::json({"q_proj", "v_proj", "down_proj"}));
  EXPECT_EQ(j["fan_in_fan_out"], false);
  // B starts at zero (the adapted model starts as the base), A does not
  LoraAdapters back = LoraAdapters::load(dir, toy_llama_config());
  for (const auto& [name, t] : back.named_tensors()) {
    if (name.find("lora_B") != std::string::npos) EXPECT_EQ(t.abs().max().item<float>(), 0.f) << name;
    else EXPECT_GT(t.abs().max().item<float>(), 0.f) << name;
  }
}

std::string load_error(const std::string& dir) {
  try {
    LoraAdapters::load(dir, toy_llama_config());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Lora, ABadFolderIsNamed) {
  EXPECT_NE(load_error("/nonexistent-adapter").find("no adapter_config.json"), std::string::npos);
  LoraConfig lc;
  LoraAdapters a(toy_llama_config(), lc, 2);
  const std::string dir = temp_dir("bad");
  a.save(dir);
  nlohmann::json j = read_json(dir + "/adapter_config.json");
  j["target_modules"] = {"q_proj", "gate_proj"};  // gate_proj has no tensors in the file
  write_json_atomic(dir + "/adapter_config.json", j);
  EXPECT_NE(load_error(dir).find("base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight\" is missing"),
            std::string::npos)
      << load_error(dir);
  j["target_modules"] = {"q_proj", "lm_head"};
  write_json_atomic(dir + "/adapter_config.json", j);
  EXPECT_NE(load_error(dir).find("field \"target_modules\" names \"lm_head\""), std::string::npos) << load_error(dir);
  j["target_modules"] = {"q_proj"};  // fewer targets than the file holds
  write_json_atomic(dir + "/adapter_config.json", j);
  EXPECT_NE(load_error(dir).find("tensors, the config's targets name"), std::string::npos) << load_error(dir);
}

TEST(Lora, MergedWeightsEqualTheAdapterAppliedToActivations) {
  LlamaConfig mc = toy_llama_config();
  torch::manual_seed(3);
  Llama model(mc);
  LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 8;
  lc.targets = {"q_proj", "up_proj"};
  LoraAdapters a(mc, lc, 3);
  {
    torch::NoGradGuard g;
    for (auto& [name, t] : a.named_tensors())
      if (name.find("lora_B") != std::string::npos) t.normal_(0, 0.1);  // a trained adapter
  }
  std::map<std::string, torch::Tensor> before;
  for (auto& [name, p] : model->hf_named_parameters()) before[name] = p.detach().clone();
  a.merge_into(model);
  torch::Tensor x = torch::randn({3, mc.hidden_size});
  for (auto& [name, p] : model->hf_named_parameters()) {
    const bool q = name.find("self_attn.q_proj.weight") != std::string::npos;
    const bool up = name.find("mlp.up_proj.weight") != std::string::npos;
    const int64_t layer = name.find("layers.1.") != std::string::npos ? 1 : 0;
    if (!q && !up) {
      EXPECT_TRUE(torch::equal(p, before[name])) << name << " changed though not targeted";
      continue;
    }
    torch::Tensor adapted = torch::linear(x, before[name]) + a.delta(layer, q ? "q_proj" : "up_proj", x, false);
    torch::Tensor merged = torch::linear(x, p);
    EXPECT_LT((adapted - merged).abs().max().item<float>(), 1e-5) << name;
    EXPECT_GT((merged - torch::linear(x, before[name])).abs().max().item<float>(), 1e-3) << name << " unchanged";
  }
}

TEST(Lora, OutOfRangeSettingsNameTheFlag) {
  auto err = [](LoraConfig c) {
    try {
      c.validate();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  LoraConfig c;
  c.rank = 0;
  EXPECT_NE(err(c).find("--lora-rank"), std::string::npos);
  c = LoraConfig();
  c.dropout = 1.0;
  EXPECT_NE(err(c).find("--lora-dropout"), std::string::npos);
  c = LoraConfig();
  c.targets = {"qproj"};
  EXPECT_NE(err(c).find("--lora-targets"), std::string::npos);
}

TEST(Lora, MergedModelLogitsEqualBasePlusAdapter) {
  LlamaConfig mc = toy_llama_config();
  torch::manual_seed(4);
  Llama base(mc);
  LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 8;
  lc.targets = lora_module_names();  // every projection
  auto adapters = std::make_shared<LoraAdapters>(mc, lc, 4);
  {
    torch::NoGradGuard g;
    for (auto& [name, t] : adapters->named_tensors())
      if (name.find("lora_B") != std::string::npos) t.normal_(0, 0.05);
  }
  torch::Tensor ids = torch::randint(0, mc.vocab_size, {2, 9}, torch::kLong);
  torch::NoGradGuard no_grad;
  base->set_lora(adapters);
  torch::Tensor adapted = base->forward(ids);
  base->set_lora(nullptr);
  torch::Tensor plain = base->forward(ids);
  adapters->merge_into(base);
  torch::Tensor merged = base->forward(ids);  // the fused inference path over merged weights
  EXPECT_LT((adapted - merged).abs().max().item<float>(), 1e-5);
  EXPECT_GT((adapted - plain).abs().max().item<float>(), 1e-3);  // the adapter does change the logits
}

// One LoRA training step's loss and adapter gradients on a tiny random model (biases on, every module
// adapted, trained-looking B), with `base_bf16` holding the base's projections in bfloat16.
struct LoraStep {
  double loss = 0;
  std::map<std::string, torch::Tensor> grads;
  torch::ScalarType q_dtype, embed_dtype;
};
LoraStep lora_step(bool base_bf16, const std::string& save_dir = "") {
  LlamaConfig mc = toy_llama_config();
  mc.attention_bias = true;
  torch::manual_seed(6);
  Llama model(mc);
  {
    torch::NoGradGuard g;
    for (auto& [name, p] : model->hf_named_parameters())
      if (p.dim() == 2) p.normal_(0, 0.15);  // outputs far from uniform, so every product matters
      else if (name.find("bias") != std::string::npos) p.normal_(0, 0.1);
  }
  LoraConfig lc;
  lc.targets = lora_module_names();
  LoraAdapters a(mc, lc, 6);
  {
    torch::NoGradGuard g;
    for (auto& [name, t] : a.named_tensors())
      if (name.find("lora_B") != std::string::npos) t.normal_(0, 0.1);
  }
  for (auto& np : model->hf_named_parameters()) np.second.set_requires_grad(false);
  if (base_bf16) lora_hold_base_in_bfloat16(model);
  model->set_lora(std::make_shared<LoraAdapters>(a));
  torch::Tensor ids = torch::randint(0, mc.vocab_size, {2, 16}, torch::TensorOptions().dtype(torch::kLong));
  torch::Tensor logits = model->forward(ids.narrow(1, 0, 15));
  torch::Tensor loss = torch::cross_entropy_loss(logits.reshape({-1, mc.vocab_size}), ids.narrow(1, 1, 15).reshape({-1}));
  loss.backward();
  LoraStep r;
  r.loss = loss.item<double>();
  for (auto& [name, t] : a.named_tensors()) r.grads[name] = t.grad().clone();
  for (auto& [name, p] : model->hf_named_parameters()) {
    if (name == "model.layers.0.self_attn.q_proj.weight") r.q_dtype = p.scalar_type();
    if (name == "model.embed_tokens.weight") r.embed_dtype = p.scalar_type();
  }
  if (!save_dir.empty()) a.save(save_dir);
  return r;
}

// bfloat16 keeps 8 significant bits: each rounded weight and projection input is off by at most 2^-9
// (0.2%) relative, and a product of K such terms by about 2^-9 / sqrt(K) of its size when the roundings
// are independent, at most 2^-9. Through two layers and a softmax the loss (about 4 here) moves by well
// under 0.5%, each adapter gradient (a sum over 30 tokens) by a few percent of its norm; a float32 base
// gives differences below 1e-6, a wrong path (say, adapters skipped or a weight left unrounded where
// the base is rounded) far above these bounds.
TEST(Lora, Bfloat16BaseGivesTheFloat32LossAndGradients) {
  const std::string dir = temp_dir("bf16");
  LoraStep f32 = lora_step(false), bf16 = lora_step(true, dir);
  EXPECT_EQ(f32.q_dtype, torch::kFloat);
  EXPECT_EQ(bf16.q_dtype, torch::kBFloat16);
  EXPECT_EQ(bf16.embed_dtype, torch::kFloat);  // embeddings (and lm_head, norms, biases) stay float32
  const double loss_rel = std::abs(bf16.loss - f32.loss) / f32.loss;
  EXPECT_GT(loss_rel, 0.0) << "the bfloat16 base changed nothing: its products are not in bfloat16";
  EXPECT_LT(loss_rel, 5e-3) << f32.loss << " vs " << bf16.loss;
  ASSERT_EQ(f32.grads.size(), bf16.grads.size());
  for (const auto& [name, g] : f32.grads) {
    const torch::Tensor& h = bf16.grads.at(name);
    EXPECT_EQ(h.scalar_type(), torch::kFloat) << name;
    const double rel = (h - g).norm().item<double>() / g.norm().item<double>();
    EXPECT_LT(rel, 5e-2) << name;
  }
  auto f = SafetensorsFile::open(dir + "/adapter_model.safetensors");  // the saved adapter: F32, PEFT's names
  ASSERT_EQ(f->tensors().size(), f32.grads.size());
  for (const auto& v : f->tensors()) {
    EXPECT_EQ(v.dtype, DType::kF32) << v.name;
    EXPECT_TRUE(f32.grads.count(v.name)) << v.name;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace steper
