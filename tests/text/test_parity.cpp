// Token ids and decodes against the reference encoder (@lenml/tokenizers in Node) for the real
// Llama-3 and Qwen3 tokenizer.json files and for tokenizers written by bpe_train. The golden file
// comes from make_golden.sh (the CTest fixture text_golden_setup).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/reference_tool.h"
#include "core/io.h"
#include "text/tokenizer.h"

namespace steper {
namespace {

const std::string kGoldenDir = TEXT_GOLDEN_DIR;

// Skips when npm was unreachable (fails under CI); fails when the golden file is missing for another reason.
bool golden_load(nlohmann::json* golden) {
  if (file_exists(kGoldenDir + "/golden_unavailable.txt")) return false;
  *golden = read_json(kGoldenDir + "/golden.json");
  return true;
}

#define GOLDEN_OR_SKIP(golden)                                                   \
  nlohmann::json golden;                                                         \
  if (!file_exists(kGoldenDir + "/golden.json") &&                               \
      !file_exists(kGoldenDir + "/golden_unavailable.txt")) {                    \
    FAIL() << "no " << kGoldenDir << "/golden.json: run through ctest (fixture " \
           << "text_golden_setup runs tests/text/make_golden.sh first)";         \
  }                                                                              \
  if (!golden_load(&golden)) {                                                   \
    SKIP_REFERENCE_MISSING("reference encoder unavailable: " +                  \
                           read_file(kGoldenDir + "/golden_unavailable.txt"));   \
  }

std::string show(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

const nlohmann::json* find_tokenizer(const nlohmann::json& golden, const std::string& name) {
  for (const auto& t : golden.at("tokenizers")) {
    if (t.at("name") == name) return &t;
  }
  return nullptr;
}

// Each tokenizer file is loaded once for all tests (the real ones take a second or more).
const Tokenizer& tokenizer_cached(const std::string& file) {
  static std::map<std::string, Tokenizer> cache;
  auto it = cache.find(file);
  if (it == cache.end()) it = cache.emplace(file, Tokenizer::from_file(file)).first;
  return it->second;
}

void check_tokenizer(const nlohmann::json& golden, const std::string& name) {
  const nlohmann::json* entry = find_tokenizer(golden, name);
  ASSERT_NE(entry, nullptr) << "golden.json has no tokenizer " << name;
  const Tokenizer& tok = tokenizer_cached(entry->at("file").get<std::string>());
  size_t checked = 0;
  for (const auto& c : entry->at("cases")) {
    std::string text = c.at("text");
    std::vector<int32_t> want = c.at("ids"), want_special = c.at("ids_special");
    std::vector<int32_t> got = tok.encode(text, false);
    EXPECT_EQ(show(got), show(want)) << name << ": text " << nlohmann::json(text).dump();
    EXPECT_EQ(show(tok.encode(text, true)), show(want_special))
        << name << " (add_special): text " << nlohmann::json(text).dump();
    EXPECT_EQ(tok.decode(want, false), c.at("decoded").get<std::string>())
        << name << ": decode of " << nlohmann::json(text).dump();
    EXPECT_EQ(tok.decode(want, true), c.at("decoded_skip").get<std::string>())
        << name << ": decode skipping specials of " << nlohmann::json(text).dump();
    ++checked;
  }
  EXPECT_GE(checked, 350u);  // the parity texts and the random strings
}

TEST(TextParity, Llama3MatchesReference) {
  GOLDEN_OR_SKIP(golden);
  check_tokenizer(golden, "llama3");
}

TEST(TextParity, Qwen3MatchesReference) {
  GOLDEN_OR_SKIP(golden);
  check_tokenizer(golden, "qwen3");
}

TEST(TextParity, Llama3TemplatePostProcessorMatchesReference) {
  GOLDEN_OR_SKIP(golden);
  check_tokenizer(golden, "llama3_template");
}

TEST(TextParity, TrainedTokenizerMatchesReference) {
  GOLDEN_OR_SKIP(golden);
  check_tokenizer(golden, "trained");
}

TEST(TextParity, TrainedWithStrippingAddedTokensMatchesReference) {
  GOLDEN_OR_SKIP(golden);
  check_tokenizer(golden, "trained_added");
}

TEST(TextParity, RealTokenizersRoundTripAndDescribeThemselves) {
  GOLDEN_OR_SKIP(golden);
  const Tokenizer& llama = tokenizer_cached(find_tokenizer(golden, "llama3")->at("file"));
  EXPECT_EQ(llama.pretokenizer_kind(), "llama3");
  EXPECT_EQ(llama.vocab_size(), 128256u);
  EXPECT_EQ(llama.bos_id(), 128000);  // tokenizer_config.json: <|begin_of_text|>
  EXPECT_EQ(llama.eos_id(), 128001);  // <|end_of_text|>
  EXPECT_TRUE(llama.is_special(128000));
  EXPECT_EQ(llama.merges().size(), 280147u);
  const Tokenizer& qwen = tokenizer_cached(find_tokenizer(golden, "qwen3")->at("file"));
  EXPECT_EQ(qwen.pretokenizer_kind(), "qwen2");
  EXPECT_EQ(qwen.vocab_size(), 151669u);
  EXPECT_EQ(qwen.bos_id(), -1);                              // bos_token null
  EXPECT_EQ(qwen.eos_id(), qwen.token_to_id("<|im_end|>"));  // eos_token of tokenizer_config.json
  EXPECT_TRUE(qwen.is_special(qwen.token_to_id("<|endoftext|>")));
  EXPECT_FALSE(qwen.is_special(qwen.token_to_id("<think>")));
  EXPECT_TRUE(qwen.is_added(qwen.token_to_id("<think>")));
  // Every parity text without a normaliser change decodes back to itself.
  for (const auto& c : find_tokenizer(golden, "llama3")->at("cases")) {
    std::string text = c.at("text");
    EXPECT_EQ(llama.decode(llama.encode(text)), text);
  }
}

}  // namespace
}  // namespace steper
