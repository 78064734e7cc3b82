// Loading tokenizer.json and encoding with small hand-built vocabularies whose ids are worked out
// by hand, plus the errors a malformed or unsupported file gives.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/io.h"
#include "text/tokenizer.h"
#include "common/error_of.h"
#include "byte_char.h"

namespace steper {
namespace {

using nlohmann::json;
using Ids = std::vector<int32_t>;


// Byte b has id b; extra tokens follow from 256 in order; merges as given.
json tiny_tokenizer(const std::vector<std::string>& extra, const json& merges) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[byte_char(b)] = b;
  for (size_t i = 0; i < extra.size(); ++i) vocab[extra[i]] = 256 + static_cast<int>(i);
  json bl = {{"type", "ByteLevel"},
             {"add_prefix_space", false},
             {"trim_offsets", true},
             {"use_regex", true}};
  return json{{"version", "1.0"},
              {"added_tokens", json::array()},
              {"normalizer", nullptr},
              {"pre_tokenizer", bl},
              {"post_processor", bl},
              {"decoder", bl},
              {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
}

Tokenizer load(const json& j) { return Tokenizer::from_json_string(j.dump(), "tiny.json"); }

const std::vector<std::string> kExtra = {"he", "ll", "hell", "Ġw", "or"};

TEST(TextTokenizer, MergesByRankGiveHandComputedIds) {
  // hello -> he|l|l|o -> he|ll|o -> hell|o ; " world" -> Ġw|o|r|l|d -> Ġw|or|l|d
  Tokenizer t = load(tiny_tokenizer(kExtra, {"h e", "l l", "he ll", "Ġ w", "o r"}));
  EXPECT_EQ(t.encode("hello world"), (Ids{258, 'o', 259, 260, 'l', 'd'}));
  EXPECT_EQ(t.decode(t.encode("hello world")), "hello world");
  EXPECT_EQ(t.vocab_size(), 261u);
  EXPECT_EQ(t.id_to_token(259), "Ġw");
  EXPECT_EQ(t.token_to_id("hell"), 258);
  EXPECT_EQ(t.token_to_id("absent"), -1);
  EXPECT_EQ(t.pretokenizer_kind(), "gpt2");
  EXPECT_EQ(t.merges(), (std::vector<std::string>{"h e", "l l", "he ll", "Ġ w", "o r"}));
}

TEST(TextTokenizer, BothMergeFormatsAgree) {
  json strings = {"h e", "l l", "he ll", "Ġ w", "o r"};
  json pairs =
      json::array({json::array({"h", "e"}), json::array({"l", "l"}), json::array({"he", "ll"}),
                   json::array({"Ġ", "w"}), json::array({"o", "r"})});
  Tokenizer a = load(tiny_tokenizer(kExtra, strings)), b = load(tiny_tokenizer(kExtra, pairs));
  for (const char* s : {"hello world", "hell or high water", "well, hello"}) {
    EXPECT_EQ(a.encode(s), b.encode(s)) << s;
  }
  EXPECT_EQ(a.merges(), b.merges());
}

TEST(TextTokenizer, LowerRankMergesFirst) {
  Tokenizer bc_first = load(tiny_tokenizer({"ab", "bc"}, {"b c", "a b"}));
  Tokenizer ab_first = load(tiny_tokenizer({"ab", "bc"}, {"a b", "b c"}));
  EXPECT_EQ(bc_first.encode("abc"), (Ids{'a', 257}));
  EXPECT_EQ(ab_first.encode("abc"), (Ids{256, 'c'}));
  // Equal pairs merge leftmost first: aaa -> aa|a
  Tokenizer aa = load(tiny_tokenizer({"aa"}, {"a a"}));
  EXPECT_EQ(aa.encode("aaa"), (Ids{256, 'a'}));
  EXPECT_EQ(aa.encode("aaaa"), (Ids{256, 256}));
}

TEST(TextTokenizer, IgnoreMergesTakesWholeVocabularyWords) {
  json j = tiny_tokenizer({"he", "hello"}, {"h e"});  // "hello" unreachable through merges
  EXPECT_EQ(load(j).encode("hello"), (Ids{256, 'l', 'l', 'o'}));
  j["model"]["ignore_merges"] = true;
  EXPECT_EQ(load(j).encode("hello"), (Ids{257}));
  EXPECT_EQ(load(j).encode("hellos"), (Ids{256, 'l', 'l', 'o', 's'}));
}

TEST(TextTokenizer, AddedTokensSplitFirstAndStripAsConfigured) {
  json j = tiny_tokenizer({}, json::array());
  auto add = [&](int id, const char* content, bool special, bool lstrip, bool rstrip, bool single) {
    j["added_tokens"].push_back({{"id", id},
                                 {"content", content},
                                 {"special", special},
                                 {"lstrip", lstrip},
                                 {"rstrip", rstrip},
                                 {"single_word", single},
                                 {"normalized", false}});
  };
  add(300, "<|eot|>", true, false, false, false);
  add(301, "<think>", false, false, false, false);
  add(302, "<m>", true, true, false, false);
  add(303, "[S]", true, false, true, false);
  add(304, "ab", false, false, false, true);
  add(305, "<|eot|>x", true, false, false, false);  // longest match wins
  Tokenizer t = load(j);
  EXPECT_EQ(t.encode("a<|eot|>b"), (Ids{'a', 300, 'b'}));
  EXPECT_EQ(t.encode("<|eot|>x"), (Ids{305}));
  EXPECT_EQ(t.encode("x <m> y"), (Ids{'x', 302, ' ', 'y'}));      // lstrip ate " "
  EXPECT_EQ(t.encode("x [S]  y"), (Ids{'x', ' ', 303, 'y'}));     // rstrip ate "  "
  EXPECT_EQ(t.encode("ab cab"), (Ids{304, ' ', 'c', 'a', 'b'}));  // single word only
  EXPECT_EQ(t.encode("<think>hi"), (Ids{301, 'h', 'i'}));
  EXPECT_TRUE(t.is_special(300));
  EXPECT_FALSE(t.is_special(301));
  EXPECT_TRUE(t.is_added(301));
  EXPECT_FALSE(t.is_special('a'));
  EXPECT_EQ(t.decode({'a', 300, 301, 'b'}), "a<|eot|><think>b");
  EXPECT_EQ(t.decode({'a', 300, 301, 'b'}, true), "a<think>b");  // skips special only
  EXPECT_EQ(t.vocab_size(), 306u);
  std::vector<std::string> v = t.vocabulary();
  EXPECT_EQ(v[300], "<|eot|>");
  EXPECT_EQ(v[290], "[PAD290]");
}

TEST(TextTokenizer, TemplatePostProcessorAddsBosAndEos) {
  json j = tiny_tokenizer({}, json::array());
  j["added_tokens"] = {{{"id", 256}, {"content", "<s>"}, {"special", true}},
                       {{"id", 257}, {"content", "</s>"}, {"special", true}}};
  j["post_processor"] = {{"type", "TemplateProcessing"},
                         {"single",
                          {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                           {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                           {{"SpecialToken", {{"id", "</s>"}, {"type_id", 0}}}}}},
                         {"special_tokens",
                          {{"<s>", {{"id", "<s>"}, {"ids", {256}}, {"tokens", {"<s>"}}}},
                           {"</s>", {{"id", "</s>"}, {"ids", {257}}, {"tokens", {"</s>"}}}}}}};
  Tokenizer t = load(j);
  EXPECT_EQ(t.encode("hi", true), (Ids{256, 'h', 'i', 257}));
  EXPECT_EQ(t.encode("hi", false), (Ids{'h', 'i'}));
  EXPECT_EQ(t.bos_id(), 256);
  EXPECT_EQ(t.eos_id(), 257);
}

TEST(TextTokenizer, NfcNormalizerComposesBeforeEncoding) {
  json j = tiny_tokenizer({}, json::array());
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "NFC"}}}}};
  Tokenizer t = load(j);
  // U+00E9 is C3 A9 in UTF-8; "e" + U+0301 composes to it.
  EXPECT_EQ(t.encode("e\xCC\x81"), (Ids{0xC3, 0xA9}));
  EXPECT_EQ(t.encode("\xC3\xA9"), (Ids{0xC3, 0xA9}));
}

TEST(TextTokenizer, AddPrefixSpaceAndNoRegexByteLevel) {
  json j = tiny_tokenizer({}, json::array());
  j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", false}};
  Tokenizer t = load(j);
  EXPECT_EQ(t.encode("a b"), (Ids{' ', 'a', ' ', 'b'}));
  EXPECT_EQ(t.encode(" a"), (Ids{' ', 'a'}));
}

TEST(TextTokenizer, DecodeKeepsPartialUtf8InTokenBytes) {
  Tokenizer t = load(tiny_tokenizer({}, json::array()));
  Ids ids = t.encode("€");  // E2 82 AC
  ASSERT_EQ(ids, (Ids{0xE2, 0x82, 0xAC}));
  EXPECT_EQ(t.token_bytes(ids[0]) + t.token_bytes(ids[1]) + t.token_bytes(ids[2]), "€");
  EXPECT_EQ(t.decode({0xE2, 0x82}), "\xEF\xBF\xBD");  // one U+FFFD for the truncated sequence
  EXPECT_THROW(t.decode({100000}), Error);
}

TEST(TextTokenizer, CopiesEncodeTheSame) {
  Tokenizer a = load(tiny_tokenizer(kExtra, {"h e", "l l", "he ll", "Ġ w", "o r"}));
  Tokenizer b = a;
  Tokenizer c = std::move(a);
  EXPECT_EQ(b.encode("hello world"), c.encode("hello world"));
}

// ---- errors
// --------------------------------------------------------------------------------------

std::string load_error(const json& j) {
  return error_of([&] { Tokenizer::from_json_string(j.dump(), "bad/tokenizer.json"); });
}

TEST(TextTokenizer, UnsupportedOrMalformedFilesNameFileAndField) {
  json base = tiny_tokenizer({}, json::array());
  json j = base;
  j["model"]["type"] = "WordPiece";
  std::string m = load_error(j);
  EXPECT_NE(m.find("bad/tokenizer.json"), std::string::npos) << m;
  EXPECT_NE(m.find("model.type"), std::string::npos) << m;
  EXPECT_NE(m.find("WordPiece"), std::string::npos) << m;

  j = base;
  j["model"]["type"] = "Unigram";
  EXPECT_NE(load_error(j).find("model.type"), std::string::npos);

  j = base;
  j["pre_tokenizer"] = {{"type", "Sequence"},
                        {"pretokenizers",
                         {{{"type", "Split"},
                           {"pattern", {{"Regex", "\\p{Han}+"}}},
                           {"behavior", "Isolated"},
                           {"invert", false}},
                          {{"type", "ByteLevel"}, {"use_regex", false}}}}};
  m = load_error(j);
  EXPECT_NE(m.find("pre_tokenizer.pretokenizers[0].pattern.Regex"), std::string::npos) << m;
  EXPECT_NE(m.find("\\p{Han}+"), std::string::npos) << m;
  EXPECT_NE(m.find("bad/tokenizer.json"), std::string::npos) << m;

  j = tiny_tokenizer({"ab"}, {"a b", "zz q"});
  m = load_error(j);
  EXPECT_NE(m.find("model.merges[1]"), std::string::npos) << m;

  j = base;
  j["model"]["merges"] = {"a b"};  // "ab" missing from vocab
  EXPECT_NE(load_error(j).find("model.merges[0]"), std::string::npos);

  j = base;
  j["normalizer"] = {{"type", "Precompiled"}};
  EXPECT_NE(load_error(j).find("normalizer.type"), std::string::npos);

  j = base;
  j["decoder"] = {{"type", "WordPiece"}};
  EXPECT_NE(load_error(j).find("decoder.type"), std::string::npos);

  j = base;
  j["model"]["byte_fallback"] = true;
  EXPECT_NE(load_error(j).find("model.byte_fallback"), std::string::npos);

  j = base;
  j.erase("model");
  EXPECT_NE(load_error(j).find("model"), std::string::npos);

  j = base;
  j["model"]["vocab"]["zzz"] = 2000000000;
  EXPECT_NE(load_error(j).find("model.vocab[\"zzz\"]"), std::string::npos) << load_error(j);

  j = base;
  j["pre_tokenizer"] = {{"type", "Metaspace"}};
  EXPECT_NE(load_error(j).find("pre_tokenizer.type"), std::string::npos);

  EXPECT_HAS(error_of([&] { Tokenizer::from_json_string("{\"model\": ", "cut.json"); }), "cut.json");
  EXPECT_HAS(error_of([&] { Tokenizer::from_file("/nonexistent/dir/tokenizer.json"); }),
             "/nonexistent/dir/tokenizer.json");
}

}  // namespace
}  // namespace steper
