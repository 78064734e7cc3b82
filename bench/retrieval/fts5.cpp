#include "fts5.h"

#include <sqlite3.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <set>
#include <thread>

#include "core/error.h"

namespace steper {

namespace {

void sqlite_check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
    throw Error(std::string("sqlite: ") + what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

}  // namespace

Fts5Writer::Fts5Writer(const std::string& path) {
  std::filesystem::remove(path);
  sqlite_check(sqlite3_open(path.c_str(), &db_), db_, "open");
  sqlite_check(sqlite3_exec(db_, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;", nullptr, nullptr, nullptr), db_,
               "pragma");
  sqlite_check(sqlite3_exec(db_, "CREATE VIRTUAL TABLE p USING fts5(title, text, tokenize='porter')", nullptr, nullptr,
                            nullptr),
               db_, "create");
  sqlite_check(sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr), db_, "begin");
  sqlite_check(sqlite3_prepare_v2(db_, "INSERT INTO p(rowid, title, text) VALUES (?, ?, ?)", -1, &insert_, nullptr), db_,
               "prepare");
}

Fts5Writer::~Fts5Writer() {
  if (insert_) sqlite3_finalize(insert_);
  if (db_) sqlite3_close(db_);
}

void Fts5Writer::fts5_add(const std::string& title, const std::string& text) {
  sqlite3_bind_int64(insert_, 1, ++rowid_);
  sqlite3_bind_text(insert_, 2, title.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(insert_, 3, text.c_str(), -1, SQLITE_STATIC);
  sqlite_check(sqlite3_step(insert_), db_, "insert");
  sqlite3_reset(insert_);
}

void Fts5Writer::fts5_finish() {
  sqlite3_finalize(insert_);
  insert_ = nullptr;
  sqlite_check(sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), db_, "commit");
  sqlite_check(sqlite3_close(db_), nullptr, "close");
  db_ = nullptr;
}

std::string fts5_query(const std::string& text) {
  static const std::set<std::string> stop = {"a",    "an",   "and",   "are",  "as",    "at",   "be",   "but",  "by",
                                             "for",  "if",   "in",    "into", "is",    "it",   "no",   "not",  "of",
                                             "on",   "or",   "such",  "that", "the",   "their", "then", "there",
                                             "these", "they", "this", "to",   "was",   "will", "with"};
  std::string out, w;
  auto flush = [&]() {
    std::string lower = w;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!w.empty() && !stop.count(lower)) out += (out.empty() ? "\"" : " OR \"") + w + "\"";
    w.clear();
  };
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80)) w += c;
    else flush();
  }
  flush();
  return out;
}

std::vector<std::vector<int64_t>> fts5_search(const std::string& path, const std::vector<std::string>& queries, int k,
                                              int threads) {
  std::vector<std::vector<int64_t>> out(queries.size());
  std::atomic<size_t> next{0};
  auto work = [&]() {
    sqlite3* db = nullptr;
    sqlite_check(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr), db, "open");
    sqlite3_stmt* st = nullptr;
    sqlite_check(
        sqlite3_prepare_v2(db, "SELECT rowid FROM p WHERE p MATCH ? ORDER BY bm25(p), rowid LIMIT ?", -1, &st, nullptr),
        db, "prepare");
    for (size_t i = next++; i < queries.size(); i = next++) {
      std::string q = fts5_query(queries[i]);
      if (q.empty()) continue;
      sqlite3_bind_text(st, 1, q.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int(st, 2, k);
      while (sqlite3_step(st) == SQLITE_ROW) out[i].push_back(sqlite3_column_int64(st, 0));
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  return out;
}

}  // namespace steper
