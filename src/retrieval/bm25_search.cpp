// Searching a BM25 index: one Xapian database (all parts of the spec as one), enquire and analyzer
// per thread (Xapian objects are not thread-safe), queries of a batch spread over all cores,
// duplicate results removed.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include <xapian.h>

#include "core/error.h"
#include "retrieval/bm25_analyzer.h"
#include "retrieval/bm25_folder.h"
#include "retrieval/bm25_record.h"
#include "retrieval/retriever.h"

namespace steper {

namespace {

// ---- one thread's searcher

// IRCoT's result de-duplication key: the paragraph text, stripped and lowercased.
std::string passage_dedup_key(const Passage& p) {
  size_t b = 0, e = p.text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(p.text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(p.text[e - 1]))) --e;
  std::string key = p.text.substr(b, e - b);
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

class Bm25Searcher {
 public:
  Bm25Searcher(const std::vector<IndexPart>& parts, int remote_timeout_ms)
      : db_(index_spec_open(parts, remote_timeout_ms)), enquire_(db_) {
    for (const auto& p : parts) name_ += (name_.empty() ? "" : ",") + p.name;
    enquire_.set_weighting_scheme(bm25_weight());
    enquire_.set_docid_order(Xapian::Enquire::ASCENDING);  // ties: the earlier passage first
  }

  size_t searcher_size() const { return db_.get_doccount(); }

  std::vector<ScoredPassage> searcher_run(const std::string& query, int k) {
    for (int attempt = 0;; ++attempt) {
      try {
        return searcher_try(query, k);
      } catch (const Xapian::DatabaseModifiedError&) {
        if (attempt >= 2) throw;
        db_.reopen();  // the index was rebuilt underneath us: read the new one
      }
    }
  }

 private:
  std::vector<ScoredPassage> searcher_try(const std::string& query, int k) {
    auto terms = analyzer_.analyzer_query_terms(query);
    std::vector<ScoredPassage> out;
    if (terms.empty()) return out;
    std::vector<Xapian::Query> parts;
    parts.reserve(terms.size());
    for (auto& [term, wqf] : terms) parts.emplace_back(term, wqf);
    enquire_.set_query(Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end()));
    // Fetch k; only when removing duplicates left fewer than k, fetch twice as many (a larger top
    // set lowers the matcher's score threshold, so fetching extra up front slows every query).
    Xapian::doccount want = static_cast<Xapian::doccount>(k);
    for (;;) {
      Xapian::MSet mset = enquire_.get_mset(0, want);
      out.clear();
      std::unordered_set<std::string> seen;
      for (auto it = mset.begin(); it != mset.end() && static_cast<int>(out.size()) < k; ++it) {
        std::optional<Passage> p = passage_record_decode(it.get_document().get_data());
        if (!p)
          throw Error("index " + name_ + ": document " + std::to_string(*it) +
                      " holds no stored passage (a damaged index? rebuild it with steper index)");
        if (!seen.insert(passage_dedup_key(*p)).second) continue;
        out.push_back({std::move(*p), it.get_weight()});
      }
      if (static_cast<int>(out.size()) >= k || mset.size() < want) return out;
      want *= 2;
    }
  }

  Xapian::Database db_;
  Xapian::Enquire enquire_;
  Bm25Analyzer analyzer_;
  std::string name_;  // the index's folders and remote shards, for errors
};

// ---- the retriever

class Bm25Retriever : public Retriever {
 public:
  Bm25Retriever(const std::string& spec, int threads, int remote_timeout_ms)
      : spec_(spec), parts_(index_spec_parse(spec)), remote_timeout_ms_(remote_timeout_ms) {
    threads_ = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (auto& p : parts_) remote_ = remote_ || p.remote;
    auto first = std::make_unique<Bm25Searcher>(parts_, remote_timeout_ms_);  // validates every part
    size_ = first->searcher_size();
    free_.push_back(std::move(first));
  }

  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override {
    if (k < 1) throw Error("k (passages per query) must be at least 1, got " + std::to_string(k));
    std::vector<std::vector<ScoredPassage>> results(queries.size());
    if (queries.empty()) return results;
    int workers = static_cast<int>(std::min<size_t>(threads_, queries.size()));
    std::atomic<size_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mu;
    auto work = [&]() {
      std::unique_ptr<Bm25Searcher> searcher;
      try {
        searcher = searcher_acquire();
        for (size_t i = next++; i < queries.size(); i = next++) results[i] = searcher_query(searcher, queries[i], k);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mu);
        if (!failure) failure = std::current_exception();
        next = queries.size();
      }
      if (searcher) searcher_release(std::move(searcher));
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < workers; ++t) pool.emplace_back(work);
    work();
    for (auto& th : pool) th.join();
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const Xapian::Error& e) {
        std::string gone = remote_ ? index_spec_unreachable(parts_, remote_timeout_ms_) : "";
        if (!gone.empty())
          throw Error("search in " + spec_ + " failed: remote shard " + gone + " does not answer (" +
                      e.get_description() + ")");
        throw Error("search in " + spec_ + " failed: " + e.get_description());
      }
    }
    return results;
  }

  size_t size() const override { return size_; }

 private:
  std::unique_ptr<Bm25Searcher> searcher_acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        auto s = std::move(free_.back());
        free_.pop_back();
        return s;
      }
    }
    return std::make_unique<Bm25Searcher>(parts_, remote_timeout_ms_);
  }
  // A remote shard's connection may have been closed (xapian-tcpsrv drops idle connections, a
  // server restarts): reconnect once and repeat the query; a second failure is the answer.
  std::vector<ScoredPassage> searcher_query(std::unique_ptr<Bm25Searcher>& searcher, const std::string& query, int k) {
    if (!remote_) return searcher->searcher_run(query, k);
    try {
      return searcher->searcher_run(query, k);
    } catch (const Xapian::NetworkError&) {
      searcher.reset();
      try {
        searcher = std::make_unique<Bm25Searcher>(parts_, remote_timeout_ms_);
      } catch (const Error& e) {
        throw Error("search in " + spec_ + " failed: " + e.what());
      }
      return searcher->searcher_run(query, k);
    }
  }
  void searcher_release(std::unique_ptr<Bm25Searcher> s) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(s));
  }

  std::string spec_;
  std::vector<IndexPart> parts_;
  int remote_timeout_ms_ = 10000;
  bool remote_ = false;
  int threads_ = 1;
  size_t size_ = 0;
  std::mutex mu_;
  std::vector<std::unique_ptr<Bm25Searcher>> free_;
};

}  // namespace

std::unique_ptr<Retriever> bm25_open_index(const std::string& spec, int threads, int remote_timeout_ms) {
  return std::make_unique<Bm25Retriever>(spec, threads, remote_timeout_ms);
}

}  // namespace steper
