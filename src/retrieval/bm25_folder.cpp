#include "retrieval/bm25_folder.h"

#include <unistd.h>

#include "core/error.h"
#include "retrieval/bm25_analyzer.h"

namespace steper {

namespace fs = std::filesystem;

fs::path index_folder_path(const std::string& dir) {
  if (dir.empty()) throw Error("the index folder name is empty");
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty() && p.has_parent_path()) p = p.parent_path();
  return p;
}

void index_folder_check_replaceable(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  if (!fs::is_directory(dir, ec)) throw Error(dir.string() + " exists and is not a folder; refusing to replace it");
  if (fs::is_empty(dir, ec)) return;
  Xapian::Database db;
  try {
    index_folder_open(dir.string(), db);
  } catch (const Error& e) {
    throw Error(dir.string() + " exists and is not a steper index; refusing to replace it (" + e.what() + ")");
  }
}

void index_folder_replace(const fs::path& tmp, const fs::path& dir) {
  std::error_code ec;
  fs::path old = dir;
  old += ".old-" + std::to_string(getpid());
  bool had_old = fs::exists(dir, ec);
  if (had_old) {
    fs::remove_all(old, ec);
    fs::rename(dir, old, ec);
    if (ec) throw Error("cannot move the old index " + dir.string() + " aside: " + ec.message());
  }
  fs::rename(tmp, dir, ec);
  if (ec) {
    std::string msg = ec.message();
    if (had_old) fs::rename(old, dir, ec);
    throw Error("cannot move the new index into " + dir.string() + ": " + msg + " (it is in " + tmp.string() + ")");
  }
  if (had_old) fs::remove_all(old, ec);
}

nlohmann::json index_folder_open(const std::string& dir, Xapian::Database& db) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw Error("index folder " + dir + " does not exist (build it with: steper index)");
  if (!fs::is_directory(dir, ec)) throw Error(dir + " is not a steper index (not a folder)");
  try {
    db = Xapian::Database(dir);
  } catch (const Xapian::Error& e) {
    throw Error(dir + " is not a steper index (no Xapian database: " + e.get_msg() + ")");
  }
  std::string raw;
  try {
    raw = db.get_metadata(kIndexMetadataKey);
  } catch (const Xapian::Error& e) {
    throw Error(dir + " is not a steper index (unreadable metadata: " + e.get_msg() + ")");
  }
  if (raw.empty()) throw Error(dir + " is not a steper index (no " + kIndexMetadataKey + " metadata)");
  nlohmann::json meta = nlohmann::json::parse(raw, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("format") || !meta["format"].is_number_integer())
    throw Error(dir + " is not a steper index (malformed " + kIndexMetadataKey + " metadata)");
  int format = meta["format"].get<int>();
  if (format != kIndexFormat)
    throw Error(dir + ": index format " + std::to_string(format) + " is not readable by this steper (it reads format " +
                std::to_string(kIndexFormat) + "); rebuild it with steper index");
  return meta;
}

}  // namespace steper
