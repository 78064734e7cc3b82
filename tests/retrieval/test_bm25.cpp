// BM25 index and search: ranking on a hand-made corpus, a second independent BM25 scorer written
// here from Xapian's published formula, de-duplication, k, batched == sequential, bad input.
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <xapian.h>

#include "core/error.h"
#include "retrieval/retriever.h"
#include "retrieval_test_util.h"

namespace steper {

namespace fs = std::filesystem;

namespace {

using namespace testutil;  // NOLINT: the suite's helpers

// Words chosen so that tokenising is splitting on spaces and punctuation; the only words the
// English stemmer changes that occur in more than one form are listed in kStems.
const std::vector<Passage> kCorpus = {
    {"p1", "Halvard Brenn", "Halvard Brenn founded the Ostrel Company in the northern city of Varnik."},
    {"p2", "Ostrel Company", "The Ostrel Company builds river boats and sails them along the Tamsa river."},
    {"p3", "Varnik", "Varnik is a northern city whose founding is told in old songs."},
    {"p4", "Tamsa River", "The Tamsa river flows past Varnik into the cold sea."},
    {"p5", "Mirela Dost", "Mirela Dost painted boats for the Ostrel Company."},
    {"p6", "Quellin Bay", "A sheltered harbour where fishing boats wait out winter storms."},
    {"p2-copy", "Ostrel Company", "The Ostrel Company builds river boats and sails them along the Tamsa river."},
};

// ---- an independent BM25 scorer (Xapian's BM25Weight formula, computed by hand)

const std::set<std::string> kStopWords = {"a",    "an",   "and",   "are",  "as",    "at",    "be",   "but",  "by",
                                          "for",  "if",   "in",    "into", "is",    "it",    "no",   "not",  "of",
                                          "on",   "or",   "such",  "that", "the",   "their", "then", "there",
                                          "these", "they", "this", "to",   "was",   "will",  "with"};
const std::map<std::string, std::string> kStems = {
    {"founded", "found"}, {"founding", "found"}, {"boats", "boat"}, {"rivers", "river"}, {"songs", "song"}};

std::vector<std::string> hand_terms(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  auto flush = [&]() {
    if (!w.empty() && !kStopWords.count(w)) out.push_back(kStems.count(w) ? kStems.at(w) : w);
    w.clear();
  };
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else flush();
  }
  flush();
  return out;
}

// score(d) = sum over query terms t of  TW(t) * wdf / (k1 * (b * L + 1 - b) + wdf)
//   TW(t) = ln(R) * (k3 + 1) * wqf / (k3 + wqf) * (k1 + 1),  R = (N - n + 0.5) / (n + 0.5),
//   with R replaced by R / 2 + 1 when R < 2;  L = max(doclen / avgdoclen, 0.5).
std::map<std::string, double> hand_bm25(const std::vector<Passage>& docs, const std::string& query) {
  const double k1 = 1.2, k3 = 1.0, b = 0.75, min_normlen = 0.5;
  std::vector<std::map<std::string, int>> wdf(docs.size());
  std::vector<int> len(docs.size());
  double total = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    for (auto& t : hand_terms(docs[i].title + " " + docs[i].text)) wdf[i][t]++, len[i]++;
    total += len[i];
  }
  double n_docs = docs.size(), avg = total / n_docs;
  std::map<std::string, int> wqf;
  for (auto& t : hand_terms(query)) wqf[t]++;
  std::map<std::string, double> scores;
  for (auto& [term, q] : wqf) {
    int n = 0;
    for (auto& d : wdf) n += d.count(term) ? 1 : 0;
    if (n == 0) continue;
    double r = (n_docs - n + 0.5) / (n + 0.5);
    if (r < 2) r = r * 0.5 + 1;
    double tw = std::log(r) * (k3 + 1) * q / (k3 + q) * (k1 + 1);
    for (size_t i = 0; i < docs.size(); ++i) {
      auto it = wdf[i].find(term);
      if (it == wdf[i].end()) continue;
      double normlen = std::max(len[i] / avg, min_normlen);
      scores[docs[i].id] += tw * it->second / (k1 * (normlen * b + (1 - b)) + it->second);
    }
  }
  return scores;
}

class Bm25Small : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("small");
    stats_ = bm25_build_index(kCorpus, dir_->sub("index"), quiet());
    retriever_ = bm25_open_index(dir_->sub("index"), 2).release();
  }
  static void TearDownTestSuite() {
    delete retriever_;
    delete dir_;
  }
  static TempDir* dir_;
  static IndexStats stats_;
  static Retriever* retriever_;
};
TempDir* Bm25Small::dir_ = nullptr;
IndexStats Bm25Small::stats_;
Retriever* Bm25Small::retriever_ = nullptr;

}  // namespace

// ---- ranking

TEST_F(Bm25Small, StemmingMatchesFoundedAndFounding) {
  auto r = retriever_->search("founding", 10);
  auto ids = ids_of(r);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), (std::set<std::string>{"p1", "p3"}));
  ids = ids_of(retriever_->search("Who founded the Ostrel Company?", 1));
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], "p1");  // the only passage with both the founding and the company
}

TEST_F(Bm25Small, TitleIsSearched) {
  // "Quellin" appears only in p6's title.
  auto r = retriever_->search("Quellin", 4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].passage.id, "p6");
  EXPECT_EQ(r[0].passage.title, "Quellin Bay");
  EXPECT_EQ(r[0].passage.text, "A sheltered harbour where fishing boats wait out winter storms.");
  EXPECT_GT(r[0].score, 0.0);
}

TEST_F(Bm25Small, AgreesWithHandComputedBm25) {
  // The index holds p1..p6 (p2-copy is a duplicate): score the same six by hand.
  std::vector<Passage> unique(kCorpus.begin(), kCorpus.begin() + 6);
  for (const char* query : {"founded Varnik", "Ostrel Company boats", "Tamsa river boats river", "northern city songs",
                            "Mirela painted boats Varnik cold sea", "Brenn"}) {
    SCOPED_TRACE(query);
    auto hand = hand_bm25(unique, query);
    auto got = retriever_->search(query, 10);
    ASSERT_EQ(got.size(), hand.size());
    double prev = 1e300;
    for (auto& sp : got) {
      ASSERT_TRUE(hand.count(sp.passage.id)) << sp.passage.id;
      EXPECT_NEAR(sp.score, hand[sp.passage.id], 1e-9 * std::max(1.0, hand[sp.passage.id]));
      EXPECT_LE(sp.score, prev);
      prev = sp.score;
    }
    // The order by hand scores (ties by corpus order) equals the returned order.
    std::vector<std::pair<double, std::string>> order;
    for (auto& [id, s] : hand) order.emplace_back(-s, id);
    std::sort(order.begin(), order.end());
    for (size_t i = 0; i < order.size(); ++i) {
      double gap = i + 1 < order.size() ? order[i + 1].first - order[i].first : 1;
      if (gap > 1e-9) {
        EXPECT_EQ(got[i].passage.id, order[i].second) << "rank " << i;
      }
    }
  }
}

// ---- de-duplication and k

TEST_F(Bm25Small, IdenticalPassagesAreIndexedOnce) {
  EXPECT_EQ(stats_.passages, 6u);
  EXPECT_EQ(stats_.duplicates, 1u);
  EXPECT_EQ(retriever_->size(), 6u);
  auto ids = ids_of(retriever_->search("Ostrel Company", 10));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "p2"), 1);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "p2-copy"), 0);
}

TEST(Bm25Dedup, SameTextUnderTwoTitlesIsReturnedOnce) {
  TempDir dir("dedup");
  std::vector<Passage> corpus = {{"a", "Gate One", "Zorvath guards the gate."},
                                 {"b", "Gate Two", "  zorvath GUARDS the gate. "},
                                 {"c", "Other", "Zorvath sleeps."}};
  bm25_build_index(corpus, dir.sub("index"), quiet());
  auto r = bm25_open_index(dir.sub("index"));
  EXPECT_EQ(r->size(), 3u);  // different titles: both indexed
  auto ids = ids_of(r->search("Zorvath gate", 4));
  ASSERT_EQ(ids.size(), 2u);  // IRCoT's rule: one result per (stripped, lowercased) text
  EXPECT_EQ(ids[1], "c");
}

TEST(Bm25Dedup, DuplicatesFillingTheTopKAreReplacedByTheNextPassages) {
  TempDir dir("dedup-widen");
  // Five copies of one text rank first for the query; k = 2 must still return two different texts.
  std::vector<Passage> corpus;
  for (int i = 0; i < 5; ++i)
    corpus.push_back({"copy" + std::to_string(i), "Gate " + std::to_string(i), "Zorvath guards the gate."});
  corpus.push_back({"other", "Other", "Zorvath sleeps far from any wall."});
  corpus.push_back({"unrelated", "Unrelated", "Nothing here."});
  bm25_build_index(corpus, dir.sub("index"), quiet());
  auto r = bm25_open_index(dir.sub("index"));
  EXPECT_EQ(ids_of(r->search("Zorvath gate", 2)), (std::vector<std::string>{"copy0", "other"}));
  EXPECT_EQ(ids_of(r->search("Zorvath gate", 1)), std::vector<std::string>{"copy0"});
}

TEST_F(Bm25Small, KLimitsResults) {
  EXPECT_EQ(retriever_->search("boats", 1).size(), 1u);
  EXPECT_EQ(retriever_->search("boats", 2).size(), 2u);
  EXPECT_EQ(retriever_->search("boats", 100).size(), 3u);  // p2, p5, p6 contain boats
  EXPECT_TRUE(retriever_->search("nothingmatcheshere", 4).empty());
  EXPECT_TRUE(retriever_->search("the of and", 4).empty());  // only stop words
  EXPECT_TRUE(retriever_->search("", 4).empty());
  EXPECT_NE(error_of([] { retriever_->search("boats", 0); }).find("k (passages per query) must be at least 1"),
            std::string::npos);
}

// ---- batched search

TEST(Bm25Batch, BatchedEqualsSequential) {
  TempDir dir("batch");
  std::mt19937 rng(7);
  std::vector<std::string> vocab;
  for (int i = 0; i < 300; ++i) vocab.push_back("w" + std::to_string(i) + "x");
  std::uniform_int_distribution<int> word(0, 299), len(5, 40);
  auto sentence = [&](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += (i ? " " : "") + vocab[word(rng)];
    return s;
  };
  std::vector<Passage> corpus;
  for (int i = 0; i < 2000; ++i) corpus.push_back({"d" + std::to_string(i), sentence(2), sentence(len(rng))});
  bm25_build_index(corpus, dir.sub("index"), quiet());
  std::vector<std::string> queries;
  for (int i = 0; i < 300; ++i) queries.push_back(sentence(1 + i % 6));
  auto batched = bm25_open_index(dir.sub("index"), 4)->search_batch(queries, 6);
  auto one = bm25_open_index(dir.sub("index"), 1);
  ASSERT_EQ(batched.size(), queries.size());
  for (size_t i = 0; i < queries.size(); ++i) {
    auto seq = one->search(queries[i], 6);
    ASSERT_EQ(ids_of(batched[i]), ids_of(seq)) << queries[i];
    for (size_t j = 0; j < seq.size(); ++j) EXPECT_DOUBLE_EQ(batched[i][j].score, seq[j].score);
  }
}

TEST(Bm25Batch, ShardedBuildEqualsSingleBuild) {
  // 3 threads build 3 shards searched as one; 1 thread builds one database.
  TempDir dir("shards");
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> word(0, 499), len(3, 25);
  std::vector<Passage> corpus;
  for (int i = 0; i < 13000; ++i) {
    std::string text;
    for (int j = 0, n = len(rng); j < n; ++j) text += " v" + std::to_string(word(rng));
    corpus.push_back({"d" + std::to_string(i), "t" + std::to_string(i % 977), text});
  }
  IndexOptions three = quiet(), one = quiet();
  three.threads = 3;
  one.threads = 1;
  bm25_build_index(corpus, dir.sub("three"), three);
  bm25_build_index(corpus, dir.sub("one"), one);
  auto a = bm25_open_index(dir.sub("three"), 1), b = bm25_open_index(dir.sub("one"), 1);
  EXPECT_EQ(a->size(), b->size());
  for (const char* q : {"v1 v2", "v7", "t5 v300 v301", "v499 v0 v250 v13"}) {
    auto ra = a->search(q, 8), rb = b->search(q, 8);
    ASSERT_EQ(ids_of(ra), ids_of(rb)) << q;
    for (size_t j = 0; j < ra.size(); ++j) EXPECT_DOUBLE_EQ(ra[j].score, rb[j].score);
  }
  std::vector<std::string> entries;
  for (auto& e : fs::directory_iterator(dir.path())) entries.push_back(e.path().filename().string());
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"one", "three"}));  // no shards or temporaries left
}

// ---- building and bad input

TEST(Bm25Build, EmptyCorpusIsAnError) {
  TempDir dir("empty");
  std::string msg = error_of([&] { bm25_build_index({}, dir.sub("index"), quiet()); });
  EXPECT_NE(msg.find("no passages"), std::string::npos) << msg;
  EXPECT_NE(msg.find(dir.sub("index")), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dir.sub("index")));
}

TEST(Bm25Build, MissingFolderIsNamed) {
  TempDir dir("missing");
  std::string msg = error_of([&] { bm25_open_index(dir.sub("nope")); });
  EXPECT_NE(msg.find("index folder " + dir.sub("nope") + " does not exist"), std::string::npos) << msg;
}

TEST(Bm25Build, ForeignFoldersAreRejected) {
  TempDir dir("foreign");
  fs::create_directories(dir.sub("plain"));
  std::ofstream(dir.sub("plain") + "/notes.txt") << "hello\n";
  std::string msg = error_of([&] { bm25_open_index(dir.sub("plain")); });
  EXPECT_NE(msg.find(dir.sub("plain") + " is not a steper index (no Xapian database"), std::string::npos) << msg;

  {  // a Xapian database that steper did not write
    Xapian::WritableDatabase db(dir.sub("xapian"), Xapian::DB_CREATE_OR_OVERWRITE);
    Xapian::Document d;
    d.add_term("hello");
    db.add_document(d);
    db.commit();
  }
  msg = error_of([&] { bm25_open_index(dir.sub("xapian")); });
  EXPECT_NE(msg.find(dir.sub("xapian") + " is not a steper index (no steper_index metadata)"), std::string::npos)
      << msg;

  std::ofstream(dir.sub("file")) << "x";
  msg = error_of([&] { bm25_open_index(dir.sub("file")); });
  EXPECT_NE(msg.find(dir.sub("file") + " is not a steper index (not a folder)"), std::string::npos) << msg;

  // Building never replaces a folder it did not make.
  msg = error_of([&] { bm25_build_index(kCorpus, dir.sub("plain"), quiet()); });
  EXPECT_NE(msg.find(dir.sub("plain") + " exists and is not a steper index; refusing to replace it"), std::string::npos)
      << msg;
  EXPECT_TRUE(fs::exists(dir.sub("plain") + "/notes.txt"));
}

TEST(Bm25Build, RebuildReplacesTheIndexAndLeavesNoTemporaries) {
  TempDir dir("rebuild");
  bm25_build_index(kCorpus, dir.sub("index/"), quiet());  // trailing separator is the same folder
  EXPECT_EQ(bm25_open_index(dir.sub("index"))->size(), 6u);
  bm25_build_index({{"x", "Lone", "A single passage."}}, dir.sub("index"), quiet());
  auto r = bm25_open_index(dir.sub("index"));
  EXPECT_EQ(r->size(), 1u);
  EXPECT_EQ(ids_of(r->search("single", 4)), std::vector<std::string>{"x"});
  std::vector<std::string> entries;
  for (auto& e : fs::directory_iterator(dir.path())) entries.push_back(e.path().filename().string());
  EXPECT_EQ(entries, std::vector<std::string>{"index"});
}

TEST(Bm25Build, PassagesAreReturnedByteForByte) {
  TempDir dir("bytes");
  // Colons, digits, separators and a NUL where a length-prefixed record could be misread.
  Passage odd{"12:34", std::string("3:Title\n with: colons") + '\0', std::string("7:text 0:") + '\0' + " zebra quagga"};
  bm25_build_index({odd, {"plain", "Plain", "Nothing odd here."}}, dir.sub("index"), quiet());
  auto r = bm25_open_index(dir.sub("index"))->search("zebra quagga", 4);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].passage.id, odd.id);
  EXPECT_EQ(r[0].passage.title, odd.title);
  EXPECT_EQ(r[0].passage.text, odd.text);
}

TEST(Bm25Build, IndexOfTheJsonFormatIsRefusedAndRebuilt) {
  TempDir dir("format1");
  IndexOptions xapian = quiet();
  xapian.backend = IndexBackend::xapian;
  bm25_build_index(kCorpus, dir.sub("index"), xapian);
  {  // what a build before the length-prefixed records wrote: format 1 metadata
    Xapian::WritableDatabase db(dir.sub("index"), Xapian::DB_OPEN | Xapian::DB_NO_TERMLIST);
    db.set_metadata("steper_index", R"({"format": 1, "passages": 6})");
    db.commit();
  }
  std::string msg = error_of([&] { bm25_open_index(dir.sub("index")); });
  EXPECT_NE(msg.find(dir.sub("index") + ": index format 1 is not readable by this steper (it reads format 2)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("rebuild it with steper index"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  // ... and rebuilding it, as the message says, replaces it (with a native index).
  bm25_build_index(kCorpus, dir.sub("index"), quiet());
  EXPECT_EQ(bm25_open_index(dir.sub("index"))->size(), 6u);
}

}  // namespace steper
