// Each hostile model-folder case of the damaged-input report as its own test: config.json values the
// model cannot have, weights that are not finite, generation bounded by the context, and a few runs of
// the steper binary for the flags.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "common/error_of.h"
#include "fixtures.h"
#include "gguf/gguf_export.h"
#include "model/model.h"
#include "model/safetensors.h"

namespace steper {
namespace hostile {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A copy of the tiny model folder named `name` with config.json changed by `edit`.
template <class F>
std::string model_with_config(const std::string& name, F edit) {
  std::string d = scratch_dir() + "/" + name;
  fs::remove_all(d);
  fs::copy(tiny_model_dir(), d, fs::copy_options::recursive);
  json cfg = read_json(d + "/config.json");
  edit(cfg);
  write_json_atomic(d + "/config.json", cfg);
  return d;
}

int64_t tiny_vocab() { return read_json(tiny_model_dir() + "/config.json")["vocab_size"].get<int64_t>(); }

TEST(HostileModel, TheTinyModelLoads) {
  // The base of every case below loads as its config.json says: each refusal is the damage's.
  const json cfg = read_json(tiny_model_dir() + "/config.json");
  std::unique_ptr<LanguageModel> lm = LanguageModel::load(tiny_model_dir());
  EXPECT_EQ(lm->context(), cfg["max_position_embeddings"].get<int64_t>());
  const std::vector<float> logits = lm->next_token_logits({1, 2, 3});
  EXPECT_EQ(static_cast<int64_t>(logits.size()), tiny_vocab());
  for (float x : logits) ASSERT_TRUE(std::isfinite(x));
}

TEST(HostileModel, MaxPositionEmbeddingsZeroIsRefused) {
  std::string d = model_with_config("ctx0", [](json& c) { c["max_position_embeddings"] = 0; });
  std::string msg = error_of([&] { LanguageModel::load(d); });
  EXPECT_HAS(msg, d + "/config.json");
  EXPECT_HAS(msg, "\"max_position_embeddings\" must be positive, got 0");
}

TEST(HostileModel, EosTokenIdOutsideTheVocabularyIsRefused) {
  const int64_t v = tiny_vocab();
  std::string d = model_with_config("eos_out", [&](json& c) { c["eos_token_id"] = v; });
  std::string msg = error_of([&] { LanguageModel::load(d); });
  EXPECT_HAS(msg, d + "/config.json");
  EXPECT_HAS(msg, "\"eos_token_id\" " + std::to_string(v) + " is outside the vocabulary of " + std::to_string(v));
}

TEST(HostileModel, EosTokenIdListWithANegativeIdIsRefused) {
  std::string d = model_with_config("eos_list", [&](json& c) { c["eos_token_id"] = {0, -3}; });
  EXPECT_HAS(error_of([&] { LanguageModel::load(d); }), "\"eos_token_id[1]\" -3 is outside the vocabulary");
}

TEST(HostileModel, BosTokenIdOutsideTheVocabularyIsRefused) {
  std::string d = model_with_config("bos_out", [](json& c) { c["bos_token_id"] = 1000000; });
  EXPECT_HAS(error_of([&] { LanguageModel::load(d); }), "\"bos_token_id\" 1000000 is outside the vocabulary");
}

TEST(HostileModel, GenerationConfigEosOutsideTheVocabularyIsRefused) {
  std::string d = model_with_config("gen_eos", [](json&) {});
  write_json_atomic(d + "/generation_config.json", json{{"eos_token_id", 1 << 30}});
  std::string msg = error_of([&] { LanguageModel::load(d); });
  EXPECT_HAS(msg, d + "/generation_config.json: field \"eos_token_id\" must be an integer in [0, ");
}

TEST(HostileModel, AbsurdSizesAreRefusedWithTheMemoryFigureBeforeAllocation) {
  // 10^12 hidden units: ~10^16 weights. Loading would allocate for minutes before failing; the config
  // check refuses it at once with the figure. (Same refusal whatever the machine: no machine has 37 PiB.)
  std::string d = model_with_config("huge", [](json& c) {
    c["hidden_size"] = int64_t(1000000000000);
    c["num_attention_heads"] = 1;
    c["num_key_value_heads"] = 1;
    c["head_dim"] = int64_t(1000000000000);
  });
  std::string msg = error_of([&] { LanguageModel::load(d); });
  EXPECT_HAS(msg, d + "/config.json: the model needs ");
  EXPECT_HAS(msg, "GiB for its float32 weights");
  EXPECT_HAS(msg, "hidden_size 1000000000000");
  EXPECT_HAS(msg, "this machine has ");
}

TEST(HostileModel, LargeVocabularyIsRefusedWithTheMemoryFigure) {
  std::string d = model_with_config("huge_vocab", [](json& c) { c["vocab_size"] = int64_t(1) << 40; });
  EXPECT_HAS(error_of([&] { LanguageModel::load(d); }), "GiB for its float32 weights (vocab_size 1099511627776");
}

// A copy of the tiny model whose tensor `name` holds `value` at element 5.
std::string model_with_weight(const std::string& folder, const std::string& name, float value) {
  std::string d = scratch_dir() + "/" + folder;
  fs::remove_all(d);
  fs::copy(tiny_model_dir(), d, fs::copy_options::recursive);
  std::vector<std::string> keep;
  std::vector<TensorView> views;
  {
    auto f = SafetensorsFile::open(tiny_model_dir() + "/model.safetensors");
    for (const auto& t : f->tensors()) {
      keep.emplace_back(reinterpret_cast<const char*>(t.data), t.nbytes);
      views.push_back(t);
    }
    for (size_t i = 0; i < views.size(); ++i) {
      views[i].data = reinterpret_cast<const uint8_t*>(keep[i].data());
      if (views[i].name == name) {
        EXPECT_EQ(views[i].dtype, DType::kF32);
        std::memcpy(&keep[i][4 * 5], &value, 4);
      }
    }
  }
  safetensors_write(d + "/model.safetensors", views, {{"format", "pt"}});
  return d;
}

TEST(HostileModel, NanWeightsAreRefusedOnLoadWithTheTensorName) {
  const std::string tensor = "model.layers.1.mlp.down_proj.weight";
  std::string d = model_with_weight("nan_w", tensor, std::numeric_limits<float>::quiet_NaN());
  std::string msg = error_of([&] { LanguageModel::load(d); });
  EXPECT_HAS(msg, d);
  EXPECT_HAS(msg, "tensor \"" + tensor + "\" holds NaN at element 5");
}

TEST(HostileModel, InfiniteWeightsAreRefusedOnLoad) {
  std::string d = model_with_weight("inf_w", "model.norm.weight", -std::numeric_limits<float>::infinity());
  EXPECT_HAS(error_of([&] { LanguageModel::load(d); }), "tensor \"model.norm.weight\" holds -inf at element 5");
}

TEST(HostileModel, NanWeightsAreRefusedOnGgufExportAndNoFileIsLeft) {
  const std::string tensor = "model.embed_tokens.weight";
  std::string d = model_with_weight("nan_gguf", tensor, std::numeric_limits<float>::quiet_NaN());
  std::string out = scratch_dir() + "/nan.gguf";
  Progress::set_quiet(true);
  std::string msg = error_of([&] { gguf_export(d, out); });
  Progress::set_quiet(false);
  EXPECT_HAS(msg, d + "/model.safetensors");
  EXPECT_HAS(msg, "tensor \"" + tensor + "\" holds NaN");
  EXPECT_FALSE(fs::exists(out));
}

// ---- generation bounded by the context

std::vector<int32_t> prompt_ids(const LanguageModel& lm) {
  return lm.tokenizer().encode("Alvar Quint was born in", true);
}

// New tokens for the prompt with max_tokens, end-of-sequence ignored, and the prompt's length.
std::pair<size_t, size_t> greedy_lengths(const std::string& dir, int max_tokens) {
  auto lm = LanguageModel::load(dir);
  std::vector<int32_t> p = prompt_ids(*lm);
  TokenGenerateOptions opts;
  opts.max_tokens = max_tokens;
  opts.stop_at_eos = false;
  return {lm->generate_ids({p}, opts)[0].size(), p.size()};
}

TEST(HostileModel, HugeMaxTokensStopsAtTheContext) {
  auto [generated, prompt] = greedy_lengths(tiny_model_with_context(64), 1000000000);
  ASSERT_LT(prompt, 64u);
  EXPECT_EQ(generated, 64 - prompt);
}

TEST(HostileModel, MaxTokensPastA2048ContextGivesWhatFits) {
  auto [generated, prompt] = greedy_lengths(tiny_model_dir(), 2100);
  EXPECT_EQ(generated, 2048 - prompt);
}

TEST(HostileModel, TextGenerationIsBoundedByTheContextToo) {
  auto lm = LanguageModel::load(tiny_model_with_context(48));
  GenerateRequest r;
  r.prompt = "Alvar Quint was born in";
  r.max_tokens = 1000000000;
  auto res = lm->generate({r});
  EXPECT_LE(res[0].prompt_tokens + res[0].completion_tokens, 48);
}

TEST(HostileModel, ShortPromptsInABatchWithALongOneEachGetTheirOwnRoom) {
  auto lm = LanguageModel::load(tiny_model_with_context(40));
  std::vector<int32_t> shortp = prompt_ids(*lm);
  std::vector<int32_t> longp;
  while (longp.size() + shortp.size() < 30) longp.insert(longp.end(), shortp.begin(), shortp.end());
  TokenGenerateOptions opts;
  opts.max_tokens = 1000;
  opts.stop_at_eos = false;
  auto out = lm->generate_ids({shortp, longp}, opts);
  EXPECT_EQ(out[0].size(), 40 - shortp.size());
  EXPECT_EQ(out[1].size(), 40 - longp.size());
}

TEST(HostileModel, APromptThatFillsTheContextIsRefused) {
  std::string d = tiny_model_with_context(16);
  auto lm = LanguageModel::load(d);
  std::vector<int32_t> p;
  while (p.size() < 16) p.push_back(5);
  TokenGenerateOptions opts;
  std::string msg = error_of([&] { lm->generate_ids({p}, opts); });
  EXPECT_HAS(msg, d + ": a prompt of 16 tokens leaves no room in the model's context of 16 tokens");
}

// ---- the steper binary (a few processes only)

struct CliRun {
  int status = -1;
  std::string out, err;
};

CliRun run_steper(const std::string& args) {
  const std::string out = scratch_dir() + "/cli.out", err = scratch_dir() + "/cli.err";
  std::string cmd = std::string(STEPER_BINARY_DIR) + "/src/cli/steper " + args + " >" + out + " 2>" + err;
  CliRun r;
  int rc = std::system(cmd.c_str());
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + (WIFSIGNALED(rc) ? WTERMSIG(rc) : 0);
  r.out = file_exists(out) ? read_file(out) : "";
  r.err = file_exists(err) ? read_file(err) : "";
  return r;
}

size_t lines_in(const std::string& text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n + (!text.empty() && text.back() != '\n');
}

TEST(HostileCli, GenerateWithHugeMaxTokensEndsWithinTheContext) {
  std::string d = tiny_model_with_context(64);
  CliRun r = run_steper("generate --model " + d + " --max-tokens 1000000000 --json 'Alvar Quint was born in'");
  ASSERT_EQ(r.status, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_LE(j["prompt_ids"].size() + j["ids"].size(), 64u);
}

TEST(HostileCli, GenerateWithADamagedConfigExitsOneWithOneLine) {
  std::string d = model_with_config("cli_eos", [](json& c) { c["eos_token_id"] = -7; });
  CliRun r = run_steper("generate --model " + d + " 'hello'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines_in(r.err), 1u) << r.err;
  EXPECT_HAS(r.err, d + "/config.json");
}

TEST(HostileCli, IndexWithAnOverflowingCorpusIdExitsOneNamingTheLine) {
  std::string corpus = scratch_dir() + "/cli_1e400.jsonl";
  write_file_atomic(corpus, "{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": 1e400, \"text\": \"y\"}\n");
  CliRun r = run_steper("index --corpus " + corpus + " --index " + scratch_dir() + "/cli_index");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(lines_in(r.err), 1u) << r.err;
  EXPECT_HAS(r.err, corpus + ":2:");
}

// Flags out of range are refused where they are parsed, the same in every command that takes them.
TEST(HostileCli, FlagsOutOfRangeExitOneNamingTheFlag) {
  const std::string t = scratch_dir() + "/cli_traces.jsonl", o = scratch_dir() + "/cli_out";
  write_file_atomic(t, "{}\n");
  for (auto [args, flag] : std::vector<std::pair<std::string, std::string>>{
           {"eval --model gold --data " + t + " --out " + o + " --mode none --bootstrap 0", "--bootstrap"},
           {"examples --traces " + t + " --out " + o + " --passage-words 0", "--passage-words"},
           {"ask --model gold --mode none --max-passages 0 'Who?'", "--max-passages"},
           {"train --model " + o + " --traces " + t + " --objective steper --out " + o + " --train-steps 0",
            "--train-steps"}}) {
    CliRun r = run_steper(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.err;
    EXPECT_EQ(lines_in(r.err), 1u) << args << "\n" << r.err;
    EXPECT_HAS(r.err, flag);
  }
}

}  // namespace
}  // namespace hostile
}  // namespace steper
