// Building a BM25 index: de-duplicate, analyse passages on all cores, add them to a Xapian
// database in a temporary folder, then rename it into place.
#include <unistd.h>

#include <algorithm>
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
  analyzer.analyzer_index(doc, p.title, getenv("TW") ? atoi(getenv("TW")) : 1);
  analyzer.analyzer_index(doc, p.text);
  // The title again under its own prefix with wdf 0 (searchable as a filter, no effect on lengths).
  analyzer.analyzer_index(doc, p.title, 0, kTitlePrefix);
  if (!p.id.empty() && p.id.size() < 200) doc.add_boolean_term(kIdPrefix + p.id);
  doc.set_data(nlohmann::json{{"id", p.id}, {"title", p.title}, {"text", p.text}}.dump());
  return doc;
}

// Analyses passages[keep[begin..end)] into docs[0..end-begin) using `threads` threads.
void documents_make(const std::vector<Passage>& passages, const std::vector<size_t>& keep, size_t begin, size_t end,
                    int threads, std::vector<Bm25Analyzer*>& analyzers, std::vector<Xapian::Document>& docs) {
  size_t n = end - begin;
  docs.assign(n, Xapian::Document());
  auto work = [&](int t) {
    for (size_t i = t; i < n; i += threads) docs[i] = passage_document(*analyzers[t], passages[keep[begin + i]]);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
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
    Xapian::WritableDatabase db(tmp.string(), Xapian::DB_CREATE_OR_OVERWRITE | Xapian::DB_BACKEND_GLASS);
    std::vector<std::unique_ptr<Bm25Analyzer>> owned;
    std::vector<Bm25Analyzer*> analyzers;
    for (int t = 0; t < threads; ++t) {
      owned.push_back(std::make_unique<Bm25Analyzer>());
      analyzers.push_back(owned.back().get());
    }
    const size_t kBlock = 8192;
    std::vector<Xapian::Document> docs;
    db.begin_transaction(false);
    for (size_t begin = 0; begin < keep.size(); begin += kBlock) {
      size_t end = std::min(keep.size(), begin + kBlock);
      documents_make(passages, keep, begin, end, threads, analyzers, docs);
      for (auto& d : docs) db.add_document(d);
      if (opts.show_progress) progress.add(end - begin);
    }
    db.commit_transaction();
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
