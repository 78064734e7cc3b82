// The native index against Xapian: the same passages indexed both ways rank alike (the same passages
// in the same order, scores within 1e-9), on ties, on a Zipfian corpus whose frequent terms span
// many posting blocks (so MaxScore and block-max pruning are exercised), with shards, shards listed
// one by one and runs merged; missing and damaged shards are errors naming them.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "retrieval/retriever.h"
#include "retrieval_test_util.h"

namespace steper {

namespace fs = std::filesystem;

namespace {

using namespace testutil;  // NOLINT: the suite's helpers

// Passages of Zipfian words over a 3,000-word vocabulary, 10-70 words each: the commonest words
// are in most passages (posting lists of thousands, many blocks), the rare ones in a few.
std::vector<Passage> zipf_corpus(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<double> weights(3000);
  for (size_t r = 0; r < weights.size(); ++r) weights[r] = 1.0 / static_cast<double>(r + 1);
  std::discrete_distribution<int> word(weights.begin(), weights.end());
  std::uniform_int_distribution<int> len(10, 70);
  std::vector<Passage> corpus;
  for (size_t i = 0; i < n; ++i) {
    std::string text;
    for (int j = 0, m = len(rng); j < m; ++j) text += " v" + std::to_string(word(rng));
    corpus.push_back({"z" + std::to_string(i), "title v" + std::to_string(word(rng)), text});
  }
  return corpus;
}

// Queries of 1-12 words: mostly from one passage (as a question is written from one), some random.
std::vector<std::string> zipf_queries(const std::vector<Passage>& corpus, size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, corpus.size() - 1);
  std::uniform_int_distribution<int> len(1, 12), rare(0, 2999);
  std::vector<std::string> out;
  for (size_t q = 0; q < n; ++q) {
    std::string text = corpus[pick(rng)].text;
    std::vector<std::string> words;
    for (size_t b = 0, e; b < text.size(); b = e + 1) {
      e = text.find(' ', b);
      if (e == std::string::npos) e = text.size();
      if (e > b) words.push_back(text.substr(b, e - b));
    }
    std::string query;
    for (int j = 0, m = len(rng); j < m; ++j)
      query += " " + (q % 4 == 3 ? "v" + std::to_string(rare(rng)) : words[rng() % words.size()]);
    out.push_back(query);
  }
  return out;
}

class Native : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("native");
    corpus_ = zipf_corpus(12000, 3);
    IndexOptions x = quiet(), n = quiet();
    x.backend = IndexBackend::xapian;
    x.shards = 1;
    n.shards = 1;
    bm25_build_index(corpus_, dir_->sub("xapian"), x);
    bm25_build_index(corpus_, dir_->sub("native"), n);
    xapian_ = bm25_open_index(dir_->sub("xapian"), 1).release();
    native_ = bm25_open_index(dir_->sub("native"), 1).release();
    queries_ = zipf_queries(corpus_, 300, 4);
  }
  static void TearDownTestSuite() {
    delete xapian_;
    delete native_;
    delete dir_;
  }
  static TempDir* dir_;
  static std::vector<Passage> corpus_;
  static std::vector<std::string> queries_;
  static Retriever *xapian_, *native_;
};
TempDir* Native::dir_ = nullptr;
std::vector<Passage> Native::corpus_;
std::vector<std::string> Native::queries_;
Retriever* Native::xapian_ = nullptr;
Retriever* Native::native_ = nullptr;

TEST_F(Native, RanksAsXapianAtEveryK) {
  ASSERT_TRUE(fs::exists(dir_->sub("native") + "/steper-index.json"));
  for (int k : {1, 4, 10, 50}) {
    SCOPED_TRACE("k=" + std::to_string(k));
    expect_same_ranking(*native_, *xapian_, k, queries_);
  }
}

TEST_F(Native, ShardsRankAsXapian) {
  IndexOptions o = quiet();
  o.shards = 3;
  o.threads = 2;
  IndexStats st = bm25_build_index(corpus_, dir_->sub("three"), o);
  EXPECT_EQ(st.shards, 3u);
  expect_same_ranking(*bm25_open_index(dir_->sub("three"), 2), *xapian_, 4, queries_);
  std::string d = dir_->sub("three");
  auto listed = bm25_open_index(d + "/shard-000," + d + "/shard-001," + d + "/shard-002", 1);
  expect_same_ranking(*listed, *xapian_, 10, queries_);
}

TEST_F(Native, RunsMergedEqualOneRun) {
  IndexOptions o = quiet();
  o.shards = 2;
  o.native_flush_bytes = 16 << 10;  // a run every few hundred passages
  IndexStats st = bm25_build_index(corpus_, dir_->sub("runs"), o);
  EXPECT_GT(st.runs, 10u);
  expect_same_ranking(*bm25_open_index(dir_->sub("runs"), 1), *xapian_, 4, queries_);
}

TEST_F(Native, TiesRankAsXapian) {
  TempDir dir("native_ties");
  std::vector<Passage> corpus = tie_corpus(3000, 5);
  IndexOptions x = quiet(), n = quiet();
  x.backend = IndexBackend::xapian;
  n.shards = 2;
  bm25_build_index(corpus, dir.sub("x"), x);
  bm25_build_index(corpus, dir.sub("n"), n);
  auto xr = bm25_open_index(dir.sub("x"), 1), nr = bm25_open_index(dir.sub("n"), 1);
  expect_same_ranking(*nr, *xr, 15);
  expect_same_ranking(*nr, *xr, 40);
}

TEST_F(Native, SearchedWithXapianPartsIsAnError) {
  std::string msg = error_of([&] { bm25_open_index(dir_->sub("native") + "," + dir_->sub("xapian")); });
  EXPECT_NE(msg.find(dir_->sub("native") + " is a native steper index and " + dir_->sub("xapian") + " is not"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("--servable"), std::string::npos) << msg;
}

TEST(NativeDamage, MissingOrDamagedShardIsNamed) {
  TempDir dir("native_damaged");
  IndexOptions o = quiet();
  o.shards = 2;
  bm25_build_index(tie_corpus(2000, 9), dir.sub("index"), o);
  std::string shard1 = dir.sub("index") + "/shard-001";
  auto one_line = [](const std::string& m) { return m.find('\n') == std::string::npos; };

  fs::rename(shard1, dir.sub("aside"));
  std::string msg = error_of([&] { bm25_open_index(dir.sub("index")); });
  EXPECT_NE(msg.find("shard " + shard1 + " is missing"), std::string::npos) << msg;
  EXPECT_TRUE(one_line(msg)) << msg;
  fs::rename(dir.sub("aside"), shard1);

  fs::resize_file(shard1 + "/bounds.bin", 12);  // cut short
  msg = error_of([&] { bm25_open_index(dir.sub("index")); });
  EXPECT_NE(msg.find("shard " + shard1 + " is damaged (bounds.bin"), std::string::npos) << msg;
  EXPECT_TRUE(one_line(msg)) << msg;

  bm25_build_index(tie_corpus(2000, 9), dir.sub("index"), o);  // the rebuild replaces it
  auto size = fs::file_size(shard1 + "/postings.bin");
  std::ofstream(shard1 + "/postings.bin", std::ios::binary | std::ios::trunc) << std::string(size, '\xff');
  msg = error_of([&] { bm25_open_index(dir.sub("index")); });  // each file's checksum is checked on opening
  EXPECT_NE(msg.find("shard " + shard1 + " is damaged (postings.bin does not match its checksum"), std::string::npos)
      << msg;
  EXPECT_TRUE(one_line(msg)) << msg;

  fs::remove(dir.sub("index") + "/steper-index.json");
  std::ofstream(dir.sub("index") + "/steper-index.json") << "{\"backend\": \"native\"";
  msg = error_of([&] { bm25_open_index(dir.sub("index")); });
  EXPECT_NE(msg.find(dir.sub("index") + "/steper-index.json: not the metadata of a steper index"), std::string::npos)
      << msg;
}

}  // namespace
}  // namespace steper
