// Model folders as text generators: init_model_folder, LanguageModel batched/cached decoding, sampling,
// stop strings and end-of-sequence handling.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "common/error_of.h"
#include "core/error.h"
#include "core/io.h"
#include "model/llama.h"
#include "model/model.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> toy_texts() {
  std::vector<std::string> texts;
  const char* names[] = {"Alvar Quint", "Bessa Morrow", "Corin Vale", "Dita Holm", "Evren Sallow"};
  const char* places[] = {"Harrowgate", "Lindqvist Institute", "Port Ember", "Sallow Hill"};
  for (int i = 0; i < 60; ++i) {
    texts.push_back(std::string(names[i % 5]) + " was born in " + places[i % 4] + " and works at the " +
                    places[(i + 1) % 4] + ". So the answer is: " + names[(i + 2) % 5] + ".");
  }
  return texts;
}

// One model folder for the whole suite (training the tokenizer and writing weights takes a moment).
const std::string& model_dir() {
  static std::string dir = [] {
    fs::path p = fs::temp_directory_path() / ("steper_lm_" + std::to_string(getpid()));
    fs::remove_all(p);
    init_model_folder(toy_texts(), p.string(), "tiny", 7, 400);
    return p.string();
  }();
  return dir;
}

class LanguageModelTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { fs::remove_all(model_dir()); }
};

TEST_F(LanguageModelTest, InitWritesTinyFolder) {
  const std::string& dir = model_dir();
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"})
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  nlohmann::json c = read_json(dir + "/config.json");
  EXPECT_EQ(c["hidden_size"], 128);
  EXPECT_EQ(c["num_hidden_layers"], 4);
  EXPECT_EQ(c["num_attention_heads"], 4);
  EXPECT_EQ(c["num_key_value_heads"], 2);
  EXPECT_EQ(c["intermediate_size"], 384);
  EXPECT_EQ(c["tie_word_embeddings"], true);
  EXPECT_EQ(c["max_position_embeddings"], 2048);
  EXPECT_LE(c["vocab_size"].get<int>(), 400);
  // Weights look like transformers' initialisation: std 0.02, unit norms.
  Llama m = llama_load(dir);
  for (auto& [name, p] : m->hf_named_parameters()) {
    if (name.find("norm") != std::string::npos) {
      EXPECT_EQ(p.min().item<float>(), 1.0f) << name;
    } else {
      EXPECT_NEAR(p.std().item<double>(), 0.02, 0.002) << name;
    }
  }
  EXPECT_HAS(error_of([&] { init_model_folder(toy_texts(), dir + "_x", "huge", 1); }), "huge");
}

TEST_F(LanguageModelTest, BatchedEqualsOneAtATimeAndCachedEqualsRecomputed) {
  auto lm = LanguageModel::load(model_dir());
  const Tokenizer& tok = lm->tokenizer();
  std::vector<std::vector<int32_t>> prompts = {tok.encode("Alvar Quint was born in"), tok.encode("So"),
                                               tok.encode("Dita Holm works at the Lindqvist Institute and")};
  TokenGenerateOptions opts;
  opts.max_tokens = 10;
  opts.stop_at_eos = false;
  auto batched = lm->generate_ids(prompts, opts);
  opts.use_cache = false;
  auto recomputed = lm->generate_ids(prompts, opts);
  EXPECT_EQ(batched, recomputed);
  opts.use_cache = true;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto single = lm->generate_ids({prompts[i]}, opts);
    EXPECT_EQ(single[0], batched[i]) << i;
    EXPECT_EQ(single[0].size(), 10u);
    // The first greedy token is the argmax of next_token_logits.
    auto logits = lm->next_token_logits(prompts[i]);
    EXPECT_EQ(std::max_element(logits.begin(), logits.end()) - logits.begin(), single[0][0]);
  }
}

TEST_F(LanguageModelTest, SamplingIsSeededAndTopPNarrowsToGreedy) {
  auto lm = LanguageModel::load(model_dir());
  std::vector<std::vector<int32_t>> prompts = {lm->tokenizer().encode("Corin Vale")};
  TokenGenerateOptions opts;
  opts.max_tokens = 12;
  opts.stop_at_eos = false;
  auto greedy = lm->generate_ids(prompts, opts);
  opts.temperature = 1.5f;
  opts.seed = 3;
  auto a = lm->generate_ids(prompts, opts), b = lm->generate_ids(prompts, opts);
  EXPECT_EQ(a, b);
  opts.seed = 4;
  auto c = lm->generate_ids(prompts, opts);
  EXPECT_NE(a, c);  // an untrained model is near uniform: two seeds agree on 12 tokens with negligible odds
  opts.top_p = 1e-6f;
  EXPECT_EQ(lm->generate_ids(prompts, opts), greedy);
}

TEST_F(LanguageModelTest, StopStringsCutTheText) {
  auto lm = LanguageModel::load(model_dir());
  GenerateRequest r;
  r.prompt = "Bessa Morrow was born in";
  r.max_tokens = 16;
  auto full = lm->generate({r});
  ASSERT_EQ(full.size(), 1u);
  std::string text = full[0].text;
  ASSERT_GE(text.size(), 4u) << text;
  EXPECT_EQ(full[0].prompt_tokens, static_cast<int>(lm->tokenizer().encode(r.prompt, true).size()));
  // Stop at a piece of the unstopped continuation: the result is the text before it.
  std::string stop = text.substr(text.size() / 2, 2);
  r.stop = {stop};
  auto cut = lm->generate({r, r});
  EXPECT_EQ(cut[0].text, text.substr(0, text.find(stop)));
  EXPECT_EQ(cut[1].text, cut[0].text);
  EXPECT_LE(cut[0].completion_tokens, full[0].completion_tokens);
}

TEST_F(LanguageModelTest, EndOfSequenceEndsGeneration) {
  // A model whose logits are all equal picks token 0; make token 0 the end-of-sequence id.
  std::string dir = model_dir() + "_eos";
  {
    Llama m = llama_load(model_dir());
    torch::NoGradGuard g;
    for (auto& [name, p] : m->hf_named_parameters())
      if (name == "model.norm.weight") p.zero_();
    llama_save(m, dir, read_file(model_dir() + "/tokenizer.json"));
    nlohmann::json c = read_json(dir + "/config.json");
    c["eos_token_id"] = 0;
    write_json_atomic(dir + "/config.json", c);
    write_json_atomic(dir + "/generation_config.json", {{"eos_token_id", 0}});
  }
  auto lm = LanguageModel::load(dir);
  TokenGenerateOptions opts;
  opts.max_tokens = 5;
  auto out = lm->generate_ids({{1, 2, 3}, {4}}, opts);
  EXPECT_TRUE(out[0].empty());
  EXPECT_TRUE(out[1].empty());
  opts.stop_at_eos = false;
  out = lm->generate_ids({{1, 2, 3}}, opts);
  EXPECT_EQ(out[0], (std::vector<int32_t>(5, 0)));
  fs::remove_all(dir);
}

TEST_F(LanguageModelTest, LoadErrorsNameTheProblem) {
  std::string dir = model_dir() + "_bad";
  fs::create_directories(dir);
  fs::copy_file(model_dir() + "/config.json", dir + "/config.json");
  fs::copy_file(model_dir() + "/model.safetensors", dir + "/model.safetensors");
  EXPECT_HAS(error_of([&] { LanguageModel::load(dir); }), "tokenizer.json");
  EXPECT_HAS(error_of([&] { LanguageModel::load(model_dir(), "tpu"); }), "\"tpu\"");
  EXPECT_HAS(error_of([&] { LanguageModel::load(dir + "_absent"); }), "_absent");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace steper
