// bpe_train against a naive trainer written here (full recount of pair frequencies at every step),
// and train -> save -> load -> encode/decode round trips.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "text/tokenizer.h"
#include "byte_char.h"

namespace steper {
namespace {

using Ids = std::vector<int32_t>;


std::string visible(const std::string& bytes) {
  std::string s;
  for (unsigned char c : bytes) s += byte_char(c);
  return s;
}

// The naive trainer: GPT-2 split (ASCII text, so std::regex with ASCII classes is exact), then
// repeatedly count every adjacent pair over all words, merge the most frequent (ties: smallest
// left bytes, then smallest right bytes), everywhere, left to right.
std::vector<std::string> naive_merges(const std::vector<std::string>& texts, size_t n_merges) {
  std::regex re("'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\\sA-Za-z0-9]+|\\s+(?!\\S)|\\s+");
  std::map<std::string, int> counts;
  for (const std::string& t : texts) {
    for (auto it = std::sregex_iterator(t.begin(), t.end(), re); it != std::sregex_iterator();
         ++it) {
      ++counts[it->str()];
    }
  }
  std::vector<std::pair<std::vector<std::string>, int>> words;
  for (const auto& wc : counts) {
    std::vector<std::string> w;
    for (char c : wc.first) w.push_back(std::string(1, c));
    words.emplace_back(w, wc.second);
  }
  std::vector<std::string> merges;
  while (merges.size() < n_merges) {
    std::map<std::pair<std::string, std::string>, int> pairs;
    for (const auto& w : words) {
      for (size_t i = 0; i + 1 < w.first.size(); ++i)
        pairs[{w.first[i], w.first[i + 1]}] += w.second;
    }
    std::pair<std::string, std::string> best;
    int best_count = 0;
    for (const auto& p : pairs) {  // map order = (left, right) ascending: first max wins ties
      if (p.second > best_count) {
        best = p.first;
        best_count = p.second;
      }
    }
    if (best_count < 2) break;
    merges.push_back(visible(best.first) + " " + visible(best.second));
    for (auto& w : words) {
      std::vector<std::string> out;
      for (size_t i = 0; i < w.first.size(); ++i) {
        if (i + 1 < w.first.size() && w.first[i] == best.first && w.first[i + 1] == best.second) {
          out.push_back(best.first + best.second);
          ++i;
        } else {
          out.push_back(w.first[i]);
        }
      }
      w.first = out;
    }
  }
  return merges;
}

std::vector<std::string> small_corpus() {
  std::vector<std::string> texts = {"the cat sat on the mat",
                                    "the dog sat on the log",
                                    "a cat and a dog met on a mat",
                                    "It's the cat's hat; they're here, we'll see.",
                                    "numbers 123 1234 12 and 123 again",
                                    "the the the then there these those",
                                    "mat mat mat matter matters"};
  const char* names[] = {"Halsey", "Clark", "Haw", "Roy", "Jim"};
  for (int i = 0; i < 60; ++i) {
    texts.push_back(std::string(names[i % 5]) + " guided the career of " + names[(i * 3 + 1) % 5] +
                    " in " + std::to_string(1900 + i * 7) + ".\n");
  }
  return texts;
}

TEST(TextBpeTrain, MergesAreTheMostFrequentPairsInOrder) {
  Progress::set_quiet(true);
  BpeTrainOptions opts;
  opts.vocab_size = 256 + 40 + 1;
  std::string json_text = bpe_train(small_corpus(), opts);
  nlohmann::json j = nlohmann::json::parse(json_text);
  std::vector<std::string> got = j["model"]["merges"].get<std::vector<std::string>>();
  std::vector<std::string> want = naive_merges(small_corpus(), 40);
  ASSERT_EQ(want.size(), 40u);
  EXPECT_EQ(got, want);
}

TEST(TextBpeTrain, HandCountedMerges) {
  Progress::set_quiet(true);
  // Pre-tokens: "ab", " ab" x2, " cd". Pairs: (a,b) 3, (Ġ,a) 2, (Ġ,c) 1, (c,d) 1.
  // Merge 1: a+b. Then (Ġ,ab) 2. Nothing else reaches min_frequency 2.
  BpeTrainOptions opts;
  opts.vocab_size = 300;
  nlohmann::json j = nlohmann::json::parse(bpe_train({"ab ab ab cd"}, opts));
  EXPECT_EQ(j["model"]["merges"], nlohmann::json({"a b", "Ġ ab"}));
  EXPECT_EQ(j["model"]["vocab"]["ab"], 256);
  EXPECT_EQ(j["model"]["vocab"]["Ġab"], 257);
  EXPECT_EQ(j["model"]["vocab"]["<|endoftext|>"], 258);
}

TEST(TextBpeTrain, StandardLayoutAndSpecialTokens) {
  Progress::set_quiet(true);
  BpeTrainOptions opts;
  opts.vocab_size = 300;
  opts.special_tokens = {"<|endoftext|>", "<|pad|>"};
  nlohmann::json j = nlohmann::json::parse(bpe_train(small_corpus(), opts));
  EXPECT_EQ(j["model"]["type"], "BPE");
  EXPECT_EQ(j["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(j["pre_tokenizer"]["use_regex"], true);
  EXPECT_EQ(j["decoder"]["type"], "ByteLevel");
  EXPECT_EQ(j["model"]["vocab"].size(), 300u);
  EXPECT_EQ(j["model"]["merges"].size(), 300u - 256u - 2u);  // no repeated merge results here
  EXPECT_EQ(j["added_tokens"].size(), 2u);
  EXPECT_EQ(j["added_tokens"][0]["content"], "<|endoftext|>");
  EXPECT_EQ(j["added_tokens"][0]["special"], true);
  EXPECT_EQ(j["model"]["vocab"]["<|endoftext|>"], j["added_tokens"][0]["id"]);
  EXPECT_EQ(j["model"]["vocab"][byte_char('a')], 'a');  // byte b has id b
}

TEST(TextBpeTrain, IsDeterministic) {
  Progress::set_quiet(true);
  BpeTrainOptions opts;
  opts.vocab_size = 320;
  EXPECT_EQ(bpe_train(small_corpus(), opts), bpe_train(small_corpus(), opts));
}

std::string random_utf8(std::mt19937& rng) {
  static const uint32_t ranges[][2] = {
      {0x20, 0x7E},     {0x09, 0x0D},       {0xA0, 0x24F}, {0x370, 0x3FF},   {0x4E00, 0x4FFF},
      {0x3040, 0x30FF}, {0x1F600, 0x1F64F}, {0x0, 0x1F},   {0xAC00, 0xAD00}, {0x2000, 0x206F}};
  std::string s;
  size_t len = rng() % 40;
  for (size_t i = 0; i < len; ++i) {
    const auto& r = ranges[rng() % 10];
    uint32_t cp = r[0] + rng() % (r[1] - r[0] + 1);
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return s;
}

TEST(TextBpeTrain, TrainSaveLoadRoundTripsArbitraryUtf8) {
  Progress::set_quiet(true);
  std::mt19937 rng(7);
  std::vector<std::string> texts = small_corpus();
  for (int i = 0; i < 200; ++i) texts.push_back(random_utf8(rng));
  BpeTrainOptions opts;
  opts.vocab_size = 600;
  std::string dir = std::string(STEPER_BINARY_DIR) + "/tests/text/trained_roundtrip";
  make_dirs(dir);
  write_file_atomic(dir + "/tokenizer.json", bpe_train(texts, opts));
  Tokenizer t = Tokenizer::from_file(dir);  // a model folder works too
  EXPECT_EQ(t.vocab_size(), 600u);
  EXPECT_EQ(t.eos_id(), t.token_to_id("<|endoftext|>"));
  EXPECT_EQ(t.eos_id(), 599);
  EXPECT_TRUE(t.is_special(t.eos_id()));
  EXPECT_EQ(t.pretokenizer_kind(), "gpt2");
  for (int i = 0; i < 500; ++i) {
    std::string s = random_utf8(rng);
    Ids ids = t.encode(s);
    EXPECT_EQ(t.decode(ids), s);
    for (int32_t id : ids) ASSERT_TRUE(id >= 0 && id < 599) << id;
  }
  Ids ids = t.encode("the cat<|endoftext|>");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.back(), t.eos_id());
  EXPECT_LT(t.encode("the cat sat on the mat").size(),
            std::string("the cat sat on the mat").size());
}

TEST(TextBpeTrain, EncodeFromSeveralThreadsAgrees) {
  Progress::set_quiet(true);
  BpeTrainOptions opts;
  opts.vocab_size = 400;
  Tokenizer t = Tokenizer::from_json_string(bpe_train(small_corpus(), opts), "trained");
  std::mt19937 rng(3);
  std::vector<std::string> texts;
  for (int i = 0; i < 400; ++i) texts.push_back(random_utf8(rng) + " the cat " + random_utf8(rng));
  std::vector<Ids> want;
  for (const auto& s : texts) want.push_back(Tokenizer(t).encode(s));  // fresh cache each
  std::vector<std::vector<Ids>> got(4);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (const auto& s : texts) got[k].push_back(t.encode(s));
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < 4; ++k) EXPECT_EQ(got[k], want);
}

TEST(TextBpeTrain, RejectsImpossibleOptions) {
  BpeTrainOptions opts;
  opts.vocab_size = 200;
  EXPECT_THROW(bpe_train(small_corpus(), opts), Error);
  opts.vocab_size = 300;
  opts.special_tokens = {"<a>", "<a>"};
  EXPECT_THROW(bpe_train(small_corpus(), opts), Error);
}

TEST(TextBpeTrain, StopsWhenNoPairIsFrequentEnough) {
  Progress::set_quiet(true);
  BpeTrainOptions opts;
  opts.vocab_size = 5000;
  nlohmann::json j = nlohmann::json::parse(bpe_train({"abcd"}, opts));
  EXPECT_EQ(j["model"]["merges"].size(), 0u);  // every pair occurs once < min_frequency 2
  Tokenizer t = Tokenizer::from_json_string(j.dump(), "trained");
  EXPECT_EQ(t.decode(t.encode("abcd")), "abcd");
}

}  // namespace
}  // namespace steper
