// Retrieval behind one small interface, so a second backend is an addition, not a rewrite.
#pragma once

#include <functional>
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

// BM25 over title + text with English stemming (Xapian's analyzer and BM25 formula); the index
// folder stores the passages. Two kinds of index folder rank alike: steper's native index (the
// default: faster to build and to search) and Xapian databases (what xapian-tcpsrv serves).
enum class IndexBackend { native, xapian };
struct IndexOptions {
  IndexBackend backend = IndexBackend::native;
  int threads = 0;  // 0 = all cores
  // Shards of the index, built in parallel (passage i of the de-duplicated corpus goes to shard
  // i % shards) and searched as one with the scores and ranking of a single database. 0 = one per
  // thread for corpora large enough to pay for it (4,096 passages a shard), else one.
  int shards = 0;
  // Memory for the postings buffered before they are written out, all shards together: each shard
  // flushes after memory_mb / (shards written at once) of passages. Bounds the build's memory.
  int memory_mb = 1024;
  // Build Xapian databases with the termlist table xapian-tcpsrv needs to serve the shards' passages
  // (implies the Xapian backend; a native index is searched only locally).
  bool servable = false;
  // Bytes of postings a native shard buffers before writing them out as a sorted run (0: memory_mb
  // shared by the shards); for tests and benchmarks of the merge.
  size_t native_flush_bytes = 0;
  bool show_progress = true;
  size_t expected_passages = 0;  // for the progress line of a streamed build (0 = unknown)
};
struct IndexStats {
  size_t passages = 0;    // passages in the index
  size_t duplicates = 0;  // input passages skipped because an identical one (same title and text) came first
  size_t shards = 1;
  size_t flush_passages = 0;  // Xapian: passages a shard buffers before writing them out
  size_t runs = 0;            // native: sorted runs written out before the final merge, all shards
  double seconds = 0.0;
};
// Builds DIR from the passages (replacing an existing steper index there). Duplicate passages
// (same title and text) are indexed once. Throws Error on an empty corpus. The index is built in a
// temporary folder next to DIR and renamed into place, so a killed build never leaves half an index.
IndexStats bm25_build_index(const std::vector<Passage>& passages, const std::string& dir, const IndexOptions& opts = {});
// The same from a stream: `read` fills its argument with the next passages (replacing what it held)
// and returns false once there are none; the corpus is never held in memory as a whole.
using PassageReader = std::function<bool(std::vector<Passage>& batch)>;
IndexStats bm25_build_index_stream(const PassageReader& read, const std::string& dir, const IndexOptions& opts = {});

// Opens an index for searching. SPEC is an index folder built by bm25_build_index, or several
// comma-separated parts, each an index folder or a remote shard tcp://HOST:PORT (an index folder or
// shard served by Xapian's xapian-tcpsrv); all parts are searched as one index, with BM25 statistics
// over all their passages (the shards of one build rank exactly as the unsharded index would).
// Throws Error naming the part that is missing, damaged, not a steper index or not answering.
// Remote operations time out after remote_timeout_ms: a shard that goes away gives an Error, not a hang.
// The retriever may be searched from several threads at once: each search borrows its own Xapian searcher
// from a locked pool (the demo evaluates systems side by side on one retriever).
std::unique_ptr<Retriever> bm25_open_index(const std::string& spec, int threads = 0, int remote_timeout_ms = 10000);

// IRCoT query cleaning: strips wh-words and question marks; see docs/DESIGN.md section 2.
std::string ircot_clean_query(const std::string& text);
// True for a sentence IRCoT does not use as a query (starts with so/thus/therefore/hence).
bool ircot_is_conclusion(const std::string& sentence);

}  // namespace steper
