// Helpers shared by the retrieval tests: temporary folders, quiet builds, errors, result ids, a corpus
// with ties and rankings compared with a reference index.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/error_of.h"
#include "core/error.h"
#include "retrieval/retriever.h"

namespace steper {
namespace testutil {

// A fresh folder under the system temporary folder, removed at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() / ("steper_retrieval_" + std::to_string(getpid()) + "_" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline IndexOptions quiet() {
  IndexOptions o;
  o.show_progress = false;
  return o;
}

inline std::vector<std::string> ids_of(const std::vector<ScoredPassage>& r) {
  std::vector<std::string> ids;
  for (auto& p : r) ids.push_back(p.passage.id);
  return ids;
}

// Passages of random words from a small vocabulary (so queries match many passages), with groups
// of passages that score exactly alike (same words in another order), so ties are ranked too.
inline std::vector<Passage> tie_corpus(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> word(0, 399), len(3, 20);
  std::vector<Passage> corpus;
  for (size_t i = 0; i < n; ++i) {
    std::string text;
    if (i % 10 == 9) {
      text = "z1 z2 z3 " + std::to_string(i);  // ten-apart passages tie on "z1 z2"
    } else {
      for (int j = 0, m = len(rng); j < m; ++j) text += " w" + std::to_string(word(rng));
    }
    corpus.push_back({"d" + std::to_string(i), "t" + std::to_string(i % 97), text});
  }
  return corpus;
}

inline const std::vector<std::string> kQueries = {"w1 w2", "w7", "t5 w300 w301", "w399 w0 w250 w13", "z1 z2",
                                           "t3 z3",  "w5 w5 w6", "w100 w101 w102 w103 w104 w105"};

// Ranking and scores must equal the reference's exactly (scores within 1e-9).
inline void expect_same_ranking(Retriever& got, Retriever& want, int k = 15,
                                const std::vector<std::string>& queries = kQueries) {
  EXPECT_EQ(got.size(), want.size());
  auto a = got.search_batch(queries, k), b = want.search_batch(queries, k);
  for (size_t i = 0; i < queries.size(); ++i) {
    SCOPED_TRACE(queries[i]);
    ASSERT_FALSE(b[i].empty());
    ASSERT_EQ(ids_of(a[i]), ids_of(b[i]));
    for (size_t j = 0; j < a[i].size(); ++j) EXPECT_NEAR(a[i][j].score, b[i][j].score, 1e-9);
  }
}

// The ranking in `got` is by the same scores as `want` gives those passages (order of exact ties aside).
inline void expect_same_scores(Retriever& got, Retriever& want) {
  auto a = got.search_batch(kQueries, 40), b = want.search_batch(kQueries, 40);
  for (size_t i = 0; i < kQueries.size(); ++i) {
    SCOPED_TRACE(kQueries[i]);
    ASSERT_EQ(a[i].size(), b[i].size());
    std::map<std::string, double> want_score;
    for (auto& sp : b[i]) want_score[sp.passage.id] = sp.score;
    for (size_t j = 0; j < a[i].size(); ++j) {
      EXPECT_NEAR(a[i][j].score, b[i][j].score, 1e-9) << "rank " << j;
      if (want_score.count(a[i][j].passage.id)) {
        EXPECT_NEAR(a[i][j].score, want_score[a[i][j].passage.id], 1e-9);
      }
    }
  }
}

}  // namespace testutil
}  // namespace steper
