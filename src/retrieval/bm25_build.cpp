// Building a BM25 index: read passages in batches, de-duplicate them, deal them to shards built
// in parallel (with a bounded amount of buffered postings), in a temporary folder renamed into place.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <xapian.h>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "retrieval/bm25_analyzer.h"
#include "retrieval/bm25_folder.h"
#include "retrieval/bm25_record.h"
#include "retrieval/native_index.h"
#include "retrieval/retriever.h"

namespace steper {

namespace fs = std::filesystem;

namespace {

// ---- de-duplication

// The (title, text) pairs seen so far, kept as 128-bit hashes in an open-addressing table (16 bytes a
// passage, so a Wikipedia-sized corpus need not be held twice; two passages share a hash with
// probability about n^2 / 2^128).
class PassageSet {
 public:
  PassageSet() : slots_(1 << 16) {}
  // True when the passage was not seen before.
  bool passage_set_insert(const Passage& p) {
    Key k = passage_key(p);
    if ((used_ + 1) * 10 > slots_.size() * 7) passage_set_grow();
    if (!slot_insert(slots_, k)) return false;
    ++used_;
    return true;
  }

 private:
  struct Key {
    uint64_t a = 0, b = 0;
  };
  static Key passage_key(const Passage& p) {
    uint64_t fnv = 1469598103934665603ull;
    auto feed = [&](const std::string& s) {
      for (unsigned char c : s) fnv = (fnv ^ c) * 1099511628211ull;
    };
    feed(p.title);
    fnv = (fnv ^ 0x1f) * 1099511628211ull;
    feed(p.text);
    std::hash<std::string_view> h;
    uint64_t other = h(p.title) * 0x9e3779b97f4a7c15ull ^ h(p.text);
    return {fnv | 1, other};  // a = 0 marks an empty slot
  }
  static bool slot_insert(std::vector<Key>& slots, const Key& k) {
    size_t mask = slots.size() - 1;
    for (size_t i = (k.a ^ (k.b >> 7)) & mask;; i = (i + 1) & mask) {
      if (slots[i].a == 0) {
        slots[i] = k;
        return true;
      }
      if (slots[i].a == k.a && slots[i].b == k.b) return false;
    }
  }
  void passage_set_grow() {
    std::vector<Key> bigger(slots_.size() * 2);
    for (const auto& k : slots_)
      if (k.a != 0) slot_insert(bigger, k);
    slots_.swap(bigger);
  }
  std::vector<Key> slots_;
  size_t used_ = 0;
};

// ---- documents

Xapian::Document passage_document(Bm25Analyzer& analyzer, const Passage& p) {
  Xapian::Document doc;
  analyzer.analyzer_index_passage(doc, p);
  // The title again under its own prefix with wdf 0 (searchable as a filter, no effect on lengths).
  analyzer.analyzer_index(doc, p.title, 0, kTitlePrefix);
  if (!p.id.empty() && p.id.size() < 200) doc.add_boolean_term(kIdPrefix + p.id);
  doc.set_data(passage_record_encode(p));
  return doc;
}

// No termlist table unless the index is to be served remotely: a local search never needs it (and
// indexing is about a third faster without it), but xapian-tcpsrv reads it to serve a document. No
// fsync on the intermediate flushes: a killed build is thrown away anyway (the last commit syncs).
int database_flags(bool servable) {
  return Xapian::DB_BACKEND_GLASS | Xapian::DB_NO_SYNC | (servable ? 0 : Xapian::DB_NO_TERMLIST);
}

// Memory one buffered passage of a Wikipedia-sized paragraph (about 90 words) costs Xapian's
// inverter: about 1.1 KB measured as peak RSS over passages buffered; twice that, to be safe.
constexpr size_t kBufferedBytesPerPassage = 2048;
constexpr size_t kMinShardPassages = 4096;  // automatic sharding: smaller shards are not worth it
constexpr size_t kReadBatch = 2048;

// ---- the pipeline: one reader (de-duplicates, deals passages to shards), one writer thread per
// group of shards (analyses and adds them)

struct Batch {
  std::vector<Passage> passages;
  std::vector<uint32_t> shard;  // per passage; kSkip for a duplicate
};
constexpr uint32_t kSkip = ~0u;

// A bounded queue of batches: the reader waits when the writers are behind, so memory stays bounded.
class BatchQueue {
 public:
  void queue_push(std::shared_ptr<const Batch> b) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return items_.size() < kCapacity; });
    items_.push_back(std::move(b));
    cv_.notify_all();
  }
  void queue_close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  // Null once closed and drained.
  std::shared_ptr<const Batch> queue_pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return nullptr;
    auto b = std::move(items_.front());
    items_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  static constexpr size_t kCapacity = 4;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<const Batch>> items_;
  bool closed_ = false;
};

// Where one shard's passages go: a Xapian database, or a native index shard.
class ShardSink {
 public:
  virtual ~ShardSink() = default;
  virtual void sink_add(const Passage& p, Bm25Analyzer& analyzer) = 0;
  virtual void sink_finish() = 0;  // after the last passage
};

// Commits every `flush` passages (transactions keep Xapian's own auto-flush out of it, so `flush`
// alone decides the buffered memory).
class XapianSink : public ShardSink {
 public:
  XapianSink(const std::string& path, size_t flush, bool servable)
      : db_(path, Xapian::DB_CREATE_OR_OVERWRITE | database_flags(servable)), flush_(flush) {
    db_.begin_transaction(true);
  }
  void sink_add(const Passage& p, Bm25Analyzer& analyzer) override {
    db_.add_document(passage_document(analyzer, p));
    if (++pending_ >= flush_) {
      db_.commit_transaction();
      db_.begin_transaction(true);
      pending_ = 0;
    }
  }
  void sink_finish() override {
    db_.commit_transaction();
    db_.close();
  }

 private:
  Xapian::WritableDatabase db_;
  size_t flush_;
  size_t pending_ = 0;
};

class NativeSink : public ShardSink {
 public:
  NativeSink(const std::string& path, size_t flush_bytes, std::atomic<size_t>& runs)
      : writer_(path, flush_bytes), runs_(runs) {}
  void sink_add(const Passage& p, Bm25Analyzer& analyzer) override { writer_.writer_add(p, analyzer); }
  void sink_finish() override {
    runs_ += writer_.writer_runs();
    writer_.writer_finish();
  }

 private:
  NativeShardWriter writer_;
  std::atomic<size_t>& runs_;
};

struct ShardWriter {
  std::vector<std::string> paths;  // shard paths, in the shard order of `shards`
  std::vector<uint32_t> shards;    // the shards this writer owns
  BatchQueue queue;
  std::exception_ptr failure;
  std::atomic<bool> failed{false};
};

// Adds the passages of the writer's shards to the sinks `make_sink` opens.
void writer_run(ShardWriter& w, const std::function<std::unique_ptr<ShardSink>(const std::string&)>& make_sink,
                std::atomic<size_t>& done) {
  Bm25Analyzer analyzer;
  std::vector<std::unique_ptr<ShardSink>> sinks;
  std::vector<int> local(*std::max_element(w.shards.begin(), w.shards.end()) + 1, -1);
  try {
    for (size_t i = 0; i < w.shards.size(); ++i) {
      local[w.shards[i]] = static_cast<int>(i);
      sinks.push_back(make_sink(w.paths[i]));
    }
  } catch (...) {
    w.failure = std::current_exception();
    w.failed = true;
  }
  size_t counted = 0;
  while (auto batch = w.queue.queue_pop()) {
    if (w.failed) continue;  // drain, so the reader never waits on a dead writer
    try {
      for (size_t j = 0; j < batch->passages.size(); ++j) {
        uint32_t s = batch->shard[j];
        if (s == kSkip || s >= local.size() || local[s] < 0) continue;
        sinks[static_cast<size_t>(local[s])]->sink_add(batch->passages[j], analyzer);
        if (++counted == 256) done += counted, counted = 0;
      }
    } catch (...) {
      w.failure = std::current_exception();
      w.failed = true;
    }
  }
  done += counted;
  if (w.failed) return;
  try {
    for (auto& sink : sinks) sink->sink_finish();
  } catch (...) {
    w.failure = std::current_exception();
    w.failed = true;
  }
}

// Writes the steper metadata into a finished shard (a normal, synced commit).
void shard_finish(const std::string& path, const nlohmann::json& meta, bool servable) {
  Xapian::WritableDatabase db(path, Xapian::DB_OPEN | (database_flags(servable) & ~Xapian::DB_NO_SYNC));
  db.set_metadata(kIndexMetadataKey, meta.dump());
  db.commit();
  db.close();
}

// The metadata every part of an index records: what was built, from what, and how it scores.
nlohmann::json index_meta(int format, size_t unique, const IndexStats& stats, size_t n_shards, bool servable) {
  return {{"format", format},
          {"index_passages", unique},
          {"duplicates_skipped", stats.duplicates},
          {"shards", n_shards},
          {"servable", servable},
          {"analyzer", "xapian english stemmer (all words), lucene english stop words"},
          {"bm25", {{"k1", kBm25K1}, {"b", kBm25B}, {"k3", kBm25K3}, {"min_normlen", kBm25MinNormlen}}}};
}

// Reads the passages, de-duplicates them and deals passage i to shard i % paths.size(), whose sinks
// (opened by `make_sink` on up to `threads` writer threads) add them. Returns the unique passages.
size_t shards_write(const PassageReader& read, const std::vector<std::string>& paths, int threads,
                    const std::function<std::unique_ptr<ShardSink>(const std::string&)>& make_sink,
                    Progress* progress, IndexStats& stats) {
  size_t n_shards = paths.size();
  size_t n_writers = std::min<size_t>(n_shards, static_cast<size_t>(threads));
  std::vector<std::unique_ptr<ShardWriter>> writers;
  for (size_t w = 0; w < n_writers; ++w) writers.push_back(std::make_unique<ShardWriter>());
  for (size_t s = 0; s < n_shards; ++s) {
    writers[s % n_writers]->shards.push_back(static_cast<uint32_t>(s));
    writers[s % n_writers]->paths.push_back(paths[s]);
  }
  std::atomic<size_t> done{0};
  std::vector<std::thread> pool;
  for (auto& w : writers) pool.emplace_back([&, wp = w.get()] { writer_run(*wp, make_sink, done); });
  std::exception_ptr read_failure;
  PassageSet seen;
  size_t unique = 0, shown = 0;
  auto any_failed = [&] {
    for (auto& w : writers)
      if (w->failed) return true;
    return false;
  };
  auto show = [&] {
    size_t now = done.load();
    if (progress && now > shown) progress->add(now - shown);
    shown = std::max(shown, now);
  };
  try {
    std::vector<Passage> buf;
    while (!any_failed() && read(buf)) {
      auto batch = std::make_shared<Batch>();
      batch->passages = std::move(buf);
      buf = {};
      batch->shard.resize(batch->passages.size());
      for (size_t j = 0; j < batch->passages.size(); ++j) {
        if (seen.passage_set_insert(batch->passages[j])) {
          batch->shard[j] = static_cast<uint32_t>(unique++ % n_shards);
        } else {
          batch->shard[j] = kSkip;
          ++stats.duplicates;
        }
      }
      for (auto& w : writers) w->queue.queue_push(batch);
      show();
    }
  } catch (...) {
    read_failure = std::current_exception();
  }
  for (auto& w : writers) w->queue.queue_close();
  while (progress && done.load() < unique && !any_failed()) {  // the writers' tail
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    show();
  }
  for (auto& th : pool) th.join();
  show();
  if (read_failure) std::rethrow_exception(read_failure);
  for (auto& w : writers)
    if (w->failure) std::rethrow_exception(w->failure);
  return unique;
}

size_t shard_passages(size_t unique, size_t n_shards, size_t s) {
  return unique / n_shards + (s < unique % n_shards ? 1 : 0);
}

// Xapian databases: one database, or shard databases and Xapian's stub file listing them.
IndexStats xapian_build(const PassageReader& read, const fs::path& out, size_t n_shards, int threads,
                        const IndexOptions& opts, Progress* progress) {
  IndexStats stats;
  stats.shards = n_shards;
  std::vector<std::string> paths;
  for (size_t s = 0; s < n_shards; ++s)
    paths.push_back(n_shards == 1 ? out.string() : (out / index_shard_name(s)).string());
  size_t budget = static_cast<size_t>(std::max(1, opts.memory_mb)) << 20;
  stats.flush_passages = std::max<size_t>(1000, budget / n_shards / kBufferedBytesPerPassage);
  size_t unique = shards_write(
      read, paths, threads,
      [&](const std::string& path) { return std::make_unique<XapianSink>(path, stats.flush_passages, opts.servable); },
      progress, stats);
  stats.passages = unique;
  if (unique == 0) return stats;
  for (size_t s = 0; s < n_shards; ++s) {
    nlohmann::json meta = index_meta(kIndexFormat, unique, stats, n_shards, opts.servable);
    meta["passages"] = shard_passages(unique, n_shards, s);
    meta["shard"] = s;
    shard_finish(paths[s], meta, opts.servable);
  }
  if (n_shards > 1) {
    // Xapian's stub format: the folder opens as all its shards, in order (passage i is shard i % n's
    // (i / n)-th document, so the combined document ids follow the corpus order).
    std::ofstream stub(out / kStubFile);
    for (size_t s = 0; s < n_shards; ++s) stub << "auto " << index_shard_name(s) << "\n";
    stub.close();
    if (!stub) throw Error("cannot write " + (out / kStubFile).string());
  }
  return stats;
}

// The native index: shard folders and steper-index.json (native_index.h).
IndexStats native_build(const PassageReader& read, const fs::path& out, size_t n_shards, int threads,
                        const IndexOptions& opts, Progress* progress) {
  IndexStats stats;
  stats.shards = n_shards;
  std::vector<std::string> paths;
  for (size_t s = 0; s < n_shards; ++s) paths.push_back((out / index_shard_name(s)).string());
  size_t flush_bytes = opts.native_flush_bytes > 0
                           ? opts.native_flush_bytes
                           : (static_cast<size_t>(std::max(1, opts.memory_mb)) << 20) / n_shards;
  std::atomic<size_t> runs{0};
  size_t unique = shards_write(
      read, paths, threads,
      [&](const std::string& path) { return std::make_unique<NativeSink>(path, flush_bytes, runs); }, progress,
      stats);
  stats.passages = unique;
  stats.runs = runs;
  if (unique == 0) return stats;
  nlohmann::json meta = index_meta(kNativeFormat, unique, stats, n_shards, false);
  meta["backend"] = "native";
  meta["passages"] = unique;
  write_json_atomic((out / kNativeMetaFile).string(), meta);
  return stats;
}

}  // namespace

// ---- building

IndexStats bm25_build_index_stream(const PassageReader& read, const std::string& dir, const IndexOptions& opts) {
  fs::path target = index_folder_path(dir);
  index_folder_check_replaceable(target);
  if (opts.shards < 0)
    throw Error("the number of shards must be 0 (automatic) or more, got " + std::to_string(opts.shards));
  int threads = opts.threads > 0 ? opts.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  size_t n_shards = static_cast<size_t>(opts.shards);
  if (n_shards == 0) {
    n_shards = static_cast<size_t>(threads);
    if (opts.expected_passages > 0) n_shards = std::min(n_shards, opts.expected_passages / kMinShardPassages);
    n_shards = std::max<size_t>(1, n_shards);
  }

  fs::path tmp = target;
  tmp += ".tmp-" + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  Progress progress("index " + target.string(), opts.expected_passages, "passages");
  IndexStats stats;
  try {
    fs::create_directories(tmp);
    Progress* shown = opts.show_progress ? &progress : nullptr;
    stats = opts.servable || opts.backend == IndexBackend::xapian
                ? xapian_build(read, tmp, n_shards, threads, opts, shown)
                : native_build(read, tmp, n_shards, threads, opts, shown);
  } catch (const Xapian::Error& e) {
    fs::remove_all(tmp, ec);
    throw Error("cannot build the index in " + target.string() + ": " + e.get_description());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  if (stats.passages == 0) {
    fs::remove_all(tmp, ec);
    throw Error("cannot build an index in " + dir + ": the corpus has no passages");
  }
  index_folder_replace(tmp, target);
  stats.seconds = progress.elapsed_seconds();
  if (opts.show_progress) progress.finish();
  return stats;
}

IndexStats bm25_build_index(const std::vector<Passage>& passages, const std::string& dir, const IndexOptions& opts) {
  if (passages.empty()) throw Error("cannot build an index in " + dir + ": the corpus has no passages");
  IndexOptions o = opts;
  o.expected_passages = passages.size();
  size_t next = 0;
  return bm25_build_index_stream(
      [&](std::vector<Passage>& batch) {
        if (next >= passages.size()) return false;
        size_t end = std::min(passages.size(), next + kReadBatch);
        batch.assign(passages.begin() + static_cast<std::ptrdiff_t>(next),
                     passages.begin() + static_cast<std::ptrdiff_t>(end));
        next = end;
        return true;
      },
      dir, o);
}

}  // namespace steper
