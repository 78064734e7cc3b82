// Training LoRA adapters (the base frozen) and training with gradient checkpointing.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/io.h"
#include "distill/trainer.h"
#include "model/llama.h"
#include "model/lora.h"
#include "trainer_fixture.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

TrainConfig lora_config(const std::string& out) {
  TrainConfig c = fixture_config(out);
  c.train_steps = 10;
  c.batch_tokens = 256;
  LoraConfig lc;
  lc.rank = 4;
  lc.alpha = 8;
  lc.targets = {"q_proj", "v_proj", "down_proj"};
  c.lora = lc;
  return c;
}

std::map<std::string, torch::Tensor> adapter_tensors(const std::string& dir) {
  Llama base = llama_load(trainer_fixture().model);
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, t] : LoraAdapters::load(dir, base->config()).named_tensors()) out[name] = t.detach();
  return out;
}

TEST(LoraTrain, TrainsOnlyTheAdaptersAndWritesAPeftFolder) {
  const std::string base_bytes = read_file(trainer_fixture().model + "/model.safetensors");
  TrainConfig c = lora_config("lora");
  TrainResult r = train_run(c);
  ASSERT_TRUE(r.finished);
  EXPECT_TRUE(file_exists(r.model_out + "/adapter_config.json"));
  EXPECT_TRUE(file_exists(r.model_out + "/adapter_model.safetensors"));
  EXPECT_FALSE(file_exists(r.model_out + "/model.safetensors"));
  nlohmann::json j = read_json(r.model_out + "/adapter_config.json");
  EXPECT_EQ(j["peft_type"], "LORA");
  EXPECT_EQ(j["base_model_name_or_path"], c.model_dir);
  EXPECT_EQ(j["r"], 4);
  EXPECT_EQ(read_file(trainer_fixture().model + "/model.safetensors"), base_bytes);  // the base is untouched
  int trained_b = 0;
  for (const auto& [name, t] : adapter_tensors(r.model_out))
    if (name.find("lora_B") != std::string::npos) trained_b += t.abs().max().item<float>() > 0;
  EXPECT_EQ(trained_b, 2 * 3);  // every B moved away from its zero start (2 layers x 3 modules)
  nlohmann::json cfg = read_json(c.out_dir + "/config.json");
  EXPECT_EQ(cfg["lora"]["r"], 4);
}

TEST(LoraTrain, ResumeEndsWithTheSameAdapters) {
  TrainConfig whole = lora_config("lora-whole");
  whole.checkpoint_every = 3;
  train_run(whole);
  TrainConfig pieces = lora_config("lora-pieces");
  pieces.checkpoint_every = 3;
  pieces.stop_after = 5;
  EXPECT_FALSE(train_run(pieces).finished);
  pieces.stop_after = 0;
  pieces.resume = true;
  EXPECT_TRUE(train_run(pieces).finished);
  auto a = adapter_tensors(whole.out_dir + "/model"), b = adapter_tensors(pieces.out_dir + "/model");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) EXPECT_TRUE(torch::equal(t, b.at(name))) << name;
  // a resume with other LoRA settings is refused, naming them
  TrainConfig other = pieces;  // (lora_config would empty the folder)
  other.resume = true;
  other.lora->rank = 8;
  const std::string err = train_error(other);
  EXPECT_NE(err.find("the LoRA settings"), std::string::npos) << err;
}

TEST(LoraTrain, Bfloat16BaseIsRecordedAndKeptOnResume) {
  TrainConfig c = lora_config("lora-bf16");
  c.lora_base_bf16 = true;
  c.checkpoint_every = 3;
  c.stop_after = 3;
  EXPECT_FALSE(train_run(c).finished);
  EXPECT_EQ(read_json(c.out_dir + "/config.json")["lora_base_bf16"], true);
  TrainConfig other = c;  // a resume that would hold the base in float32 is refused, naming the flag
  other.resume = true;
  other.stop_after = 0;
  other.lora_base_bf16 = false;
  const std::string err = train_error(other);
  EXPECT_NE(err.find("--lora-base-bf16"), std::string::npos) << err;
  c.resume = true;
  c.stop_after = 0;
  TrainResult r = train_run(c);
  ASSERT_TRUE(r.finished);
  EXPECT_TRUE(std::isfinite(r.last_loss));
  EXPECT_EQ(adapter_tensors(r.model_out).size(), 2u * 3 * 2);  // float32 PEFT tensors (load checks F32)
}

TEST(GradCheckpointTrain, TrainsTheSameModel) {
  TrainConfig plain = fixture_config("ckpt-off");
  plain.train_steps = 6;
  plain.batch_tokens = 256;
  train_run(plain);
  TrainConfig ckpt = plain;
  ckpt.out_dir = trainer_fixture().root + "/ckpt-on";
  fs::remove_all(ckpt.out_dir);
  ckpt.grad_checkpoint = true;
  train_run(ckpt);
  Llama a = llama_load(plain.out_dir + "/model"), b = llama_load(ckpt.out_dir + "/model");
  auto pa = a->hf_named_parameters(), pb = b->hf_named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(torch::allclose(pa[i].second, pb[i].second, 1e-5, 1e-6)) << pa[i].first;
  EXPECT_EQ(read_json(ckpt.out_dir + "/config.json")["grad_checkpoint"], true);
}

}  // namespace
}  // namespace steper
