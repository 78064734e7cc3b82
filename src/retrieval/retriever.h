// Retrieval behind one small interface, so a second backend is an addition, not a rewrite.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/types.h"

namespace steper {

class Retriever {
 public:
  virtual ~Retriever() = default;
  // Top-k passages for each query (queries are used as given; clean them with ircot_clean_query first).
  virtual std::vector<std::vector<ScoredPassage>> search_batch(const std::vector<std::string>& queries, int k) = 0;
  std::vector<ScoredPassage> search(const std::string& query, int k) { return search_batch({query}, k)[0]; }
  virtual size_t size() const = 0;  // number of passages
};

// BM25 (Xapian) over title + text with English stemming; the index folder stores the passages.
struct IndexOptions {
  int threads = 0;  // 0 = all cores
  bool show_progress = true;
};
struct IndexStats {
  size_t passages = 0;    // passages in the index
  size_t duplicates = 0;  // input passages skipped because an identical one (same title and text) came first
  double seconds = 0.0;
};
// Builds DIR from the passages (replacing an existing steper index there). Duplicate passages
// (same title and text) are indexed once. Throws Error on an empty corpus. The index is built in a
// temporary folder next to DIR and renamed into place, so a killed build never leaves half an index.
IndexStats bm25_build_index(const std::vector<Passage>& passages, const std::string& dir, const IndexOptions& opts = {});
// Opens an index built by bm25_build_index. Throws Error naming DIR when it is missing or not a steper index.
// The retriever may be searched from several threads at once: each search borrows its own Xapian searcher
// from a locked pool (the demo evaluates systems side by side on one retriever).
std::unique_ptr<Retriever> bm25_open_index(const std::string& dir, int threads = 0);

// IRCoT query cleaning: strips wh-words and question marks; see docs/DESIGN.md section 2.
std::string ircot_clean_query(const std::string& text);
// True for a sentence IRCoT does not use as a query (starts with so/thus/therefore/hence).
bool ircot_is_conclusion(const std::string& sentence);

}  // namespace steper
