// The SQLite FTS5 baseline of the retrieval benchmarks: porter tokenizer, bm25() ranking over
// title + text, OR queries of the same words steper searches for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace steper {

// Writes passages into a new FTS5 table (rowid = 1, 2, ... in the order added), in one transaction.
class Fts5Writer {
 public:
  explicit Fts5Writer(const std::string& path);
  ~Fts5Writer();
  Fts5Writer(const Fts5Writer&) = delete;
  Fts5Writer& operator=(const Fts5Writer&) = delete;
  void fts5_add(const std::string& title, const std::string& text);
  void fts5_finish();  // commits and closes

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  int64_t rowid_ = 0;
};

// A free-text query as an FTS5 OR query of quoted words, without the English stop words the steper
// side also drops (so both sides search for the same words).
std::string fts5_query(const std::string& text);

// The top-k rowids of each query (best first, ties by rowid), the queries spread over `threads`.
std::vector<std::vector<int64_t>> fts5_search(const std::string& path, const std::vector<std::string>& queries, int k,
                                              int threads);

}  // namespace steper
