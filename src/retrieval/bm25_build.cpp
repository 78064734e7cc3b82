// Building a BM25 index: de-duplicate, analyse passages on all cores, add them to a Xapian
// database in a temporary folder, then rename it into place.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>
#include <xapian.h>

#include "core/error.h"
#include "core/progress.h"
#include "retrieval/bm25_analyzer.h"
#include "retrieval/bm25_folder.h"
#include "retrieval/retriever.h"

namespace steper {

namespace fs = std::filesystem;

namespace {

// ---- de-duplication

// Indices of the passages to index: the first of each distinct (title, text).
std::vector<size_t> passages_unique(const std::vector<Passage>& passages) {
  std::unordered_set<std::string> seen;
  seen.reserve(passages.size() * 2);
  std::vector<size_t> keep;
  keep.reserve(passages.size());
  for (size_t i = 0; i < passages.size(); ++i) {
    std::string key = passages[i].title;
    key += '\x1f';
    key += passages[i].text;
    if (seen.insert(std::move(key)).second) keep.push_back(i);
  }
  return keep;
}

// ---- documents

Xapian::Document passage_document(Bm25Analyzer& analyzer, const Passage& p) {
  Xapian::Document doc;
  // BM25 runs over title + text as one field: the title's words count like the text's.
  analyzer.analyzer_index(doc, p.title);
  analyzer.analyzer_index(doc, p.text);
  // The title again under its own prefix with wdf 0 (searchable as a filter, no effect on lengths).
  analyzer.analyzer_index(doc, p.title, 0, kTitlePrefix);
  if (!p.id.empty() && p.id.size() < 200) doc.add_boolean_term(kIdPrefix + p.id);
  doc.set_data(nlohmann::json{{"id", p.id}, {"title", p.title}, {"text", p.text}}.dump());
  return doc;
}

// Opened without a termlist table: search never needs it, and indexing is faster without it.
constexpr int kDatabaseFlags = Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS | Xapian::DB_NO_TERMLIST;

// Adds passages[keep[begin..end)] to a new database at `path`; `done` counts the passages added.
void shard_build(const std::vector<Passage>& passages, const std::vector<size_t>& keep, size_t begin, size_t end,
                 const std::string& path, std::atomic<size_t>& done) {
  Bm25Analyzer analyzer;
  Xapian::WritableDatabase db(path, kDatabaseFlags);
  db.begin_transaction(false);
  for (size_t i = begin; i < end; ++i) {
    db.add_document(passage_document(analyzer, passages[keep[i]]));
    if ((i - begin) % 256 == 255) done += 256;
  }
  db.commit_transaction();
  db.commit();
  db.close();
  done += (end - begin) % 256;
}

// Builds the passages into `out` with `threads` shards built in parallel (contiguous ranges of
// passages) and merged by compaction, so document ids follow the corpus order.
void database_build(const std::vector<Passage>& passages, const std::vector<size_t>& keep, const fs::path& out,
                    int threads, Progress* progress) {
  const size_t kMinShard = 4096;  // smaller shards do not pay for the merge
  size_t n = keep.size();
  size_t shards = std::max<size_t>(1, std::min<size_t>(threads, n / kMinShard));
  std::vector<std::string> paths;
  if (shards == 1) {
    paths.push_back(out.string());
  } else {
    for (size_t s = 0; s < shards; ++s) paths.push_back((out / ("shard-" + std::to_string(s))).string());
  }
  std::atomic<size_t> done{0};
  std::vector<std::exception_ptr> failures(shards);
  std::vector<std::thread> pool;
  for (size_t s = 0; s < shards; ++s) {
    size_t begin = n * s / shards, end = n * (s + 1) / shards;
    pool.emplace_back([&, s, begin, end] {
      try {
        shard_build(passages, keep, begin, end, paths[s], done);
      } catch (...) {
        failures[s] = std::current_exception();
      }
    });
  }
  size_t shown = 0;
  for (;;) {
    bool finished = done.load() >= n;
    for (auto& f : failures) finished = finished || f;
    if (progress && done.load() > shown) {
      size_t now = done.load();
      progress->add(now - shown);
      shown = now;
    }
    if (finished) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& th : pool) th.join();
  for (auto& f : failures)
    if (f) std::rethrow_exception(f);
  if (shards == 1) return;
  Xapian::Database all;
  for (auto& p : paths) all.add_database(Xapian::Database(p));
  fs::path merged = out / "merged";
  all.compact(merged.string());  // renumbered in shard order: ids follow the corpus
  all.close();
  for (auto& p : paths) fs::remove_all(p);
  for (auto& e : fs::directory_iterator(merged)) fs::rename(e.path(), out / e.path().filename());
  fs::remove(merged);
}

}  // namespace

// ---- building

IndexStats bm25_build_index(const std::vector<Passage>& passages, const std::string& dir, const IndexOptions& opts) {
  if (passages.empty()) throw Error("cannot build an index in " + dir + ": the corpus has no passages");
  fs::path target = index_folder_path(dir);
  index_folder_check_replaceable(target);

  int threads = opts.threads > 0 ? opts.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<size_t> keep = passages_unique(passages);
  IndexStats stats;
  stats.passages = keep.size();
  stats.duplicates = passages.size() - keep.size();

  fs::path tmp = target;
  tmp += ".tmp-" + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  Progress progress("index " + target.string(), keep.size(), "passages");
  try {
    fs::create_directories(tmp);
    database_build(passages, keep, tmp, threads, opts.show_progress ? &progress : nullptr);
    Xapian::WritableDatabase db(tmp.string(), Xapian::DB_OPEN | Xapian::DB_NO_TERMLIST);
    nlohmann::json meta = {{"format", kIndexFormat},
                           {"passages", stats.passages},
                           {"duplicates_skipped", stats.duplicates},
                           {"analyzer", "xapian english stemmer (all words), lucene english stop words"},
                           {"bm25", {{"k1", kBm25K1}, {"b", kBm25B}, {"k3", kBm25K3}, {"min_normlen", kBm25MinNormlen}}}};
    db.set_metadata(kIndexMetadataKey, meta.dump());
    db.commit();
    db.close();
  } catch (const Xapian::Error& e) {
    fs::remove_all(tmp, ec);
    throw Error("cannot build the index in " + target.string() + ": " + e.get_description());
  }
  index_folder_replace(tmp, target);
  stats.seconds = progress.elapsed_seconds();
  if (opts.show_progress) progress.finish();
  return stats;
}

}  // namespace steper
