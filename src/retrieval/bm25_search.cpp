// Searching a BM25 index: one Xapian database (all parts of the spec as one), enquire and analyzer
// per thread (Xapian objects are not thread-safe), queries of a batch spread over all cores,
// duplicate results removed.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <exception>
#include <filesystem>
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
#include "retrieval/native_index.h"
#include "retrieval/native_search.h"
#include "retrieval/query_pool.h"
#include "retrieval/result_dedup.h"
#include "retrieval/retriever.h"

namespace steper {

namespace {

// ---- one thread's searcher

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
    if (terms.empty()) return {};
    std::vector<Xapian::Query> parts;
    parts.reserve(terms.size());
    for (auto& [term, wqf] : terms) parts.emplace_back(term, wqf);
    enquire_.set_query(Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end()));
    return top_k_distinct(k, [&](size_t want) {
      Xapian::MSet mset = enquire_.get_mset(0, static_cast<Xapian::doccount>(want));
      std::vector<ScoredPassage> ranked;
      for (auto it = mset.begin(); it != mset.end(); ++it) {
        std::optional<Passage> p = passage_record_decode(it.get_document().get_data());
        if (!p)
          throw Error("index " + name_ + ": document " + std::to_string(*it) +
                      " holds no stored passage (a damaged index? rebuild it with steper index)");
        ranked.push_back({std::move(*p), it.get_weight()});
      }
      return ranked;
    });
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
    threads_ = threads;
    for (auto& p : parts_) remote_ = remote_ || p.remote;
    auto first = std::make_unique<Bm25Searcher>(parts_, remote_timeout_ms_);  // validates every part
    size_ = first->searcher_size();
    free_.push_back(std::move(first));
  }

  std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) override {
    if (k < 1) throw Error("k (passages per query) must be at least 1, got " + std::to_string(k));
    std::vector<std::vector<ScoredPassage>> results(queries.size());
    try {
      query_pool_run(queries.size(), threads_, [&]() -> std::function<void(size_t)> {
        // The thread's searcher, returned to the pool when the batch is done with it.
        auto held = std::make_shared<std::unique_ptr<Bm25Searcher>>(searcher_acquire());
        std::shared_ptr<void> release(nullptr, [this, held](void*) {
          if (*held) searcher_release(std::move(*held));
        });
        return [&, held, release](size_t i) { results[i] = searcher_query(*held, queries[i], k); };
      });
    } catch (const Xapian::Error& e) {
      std::string gone = remote_ ? index_spec_unreachable(parts_, remote_timeout_ms_) : "";
      if (!gone.empty())
        throw Error("search in " + spec_ + " failed: remote shard " + gone + " does not answer (" +
                    e.get_description() + ")");
      throw Error("search in " + spec_ + " failed: " + e.get_description());
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
  std::vector<IndexPart> parts = index_spec_parse(spec);
  std::vector<std::string> native;
  std::string xapian;  // the first part that is a Xapian database
  for (const auto& p : parts) {
    std::string dir = p.remote ? "" : index_folder_path(p.name).string();
    std::error_code ec;
    if (!p.remote && !std::filesystem::exists(dir, ec))
      throw Error("index folder " + dir + " does not exist (build it with: steper index)");
    if (!p.remote && (native_folder_is_index(dir) || native_folder_is_shard(dir))) native.push_back(dir);
    else if (xapian.empty()) xapian = p.name;
  }
  if (!native.empty() && !xapian.empty())
    throw Error("index " + spec + ": " + native.front() + " is a native steper index and " + xapian +
                " is not; they cannot be searched as one (build every local part with steper index --servable "
                "to search it together with Xapian databases and remote shards)");
  int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (!native.empty()) return native_open(native, n);
  return std::make_unique<Bm25Retriever>(spec, n, remote_timeout_ms);
}

}  // namespace steper
