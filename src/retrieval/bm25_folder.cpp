#include "retrieval/bm25_folder.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "core/io.h"
#include "retrieval/bm25_analyzer.h"
#include "retrieval/native_index.h"

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
    // An index of an older format is replaced too.
    if (native_folder_is_index(dir.string())) native_folder_meta(dir.string(), true);
    else index_folder_open(dir.string(), db, true);
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
  try {
    rename_durable(tmp.string(), dir.string());
  } catch (const Error& e) {
    if (had_old && !fs::exists(dir, ec)) fs::rename(old, dir, ec);
    throw Error("cannot move the new index into place: " + std::string(e.what()));
  }
  if (had_old) fs::remove_all(old, ec);
}

std::string index_shard_name(size_t s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "shard-%03zu", s);
  return buf;
}
const char* const kStubFile = "XAPIANDB";

namespace {

// The steper metadata of an opened database; errors name `name`. With `any_format`, an index of a
// format this build does not read passes.
nlohmann::json metadata_check(const std::string& name, const Xapian::Database& db, bool any_format = false) {
  std::string raw;
  try {
    raw = db.get_metadata(kIndexMetadataKey);
  } catch (const Xapian::Error& e) {
    throw Error(name + " is not a steper index (unreadable metadata: " + e.get_msg() + ")");
  }
  if (raw.empty()) throw Error(name + " is not a steper index (no " + kIndexMetadataKey + " metadata)");
  nlohmann::json meta = nlohmann::json::parse(raw, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("format") || !meta["format"].is_number_integer())
    throw Error(name + " is not a steper index (malformed " + kIndexMetadataKey + " metadata)");
  int format = meta["format"].get<int>();
  if (format != kIndexFormat && !any_format)
    throw Error(name + ": index format " + std::to_string(format) +
                " is not readable by this steper (it reads format " + std::to_string(kIndexFormat) +
                "); rebuild it with steper index");
  return meta;
}

// The shard names a sharded folder's stub file lists, in order.
std::vector<std::string> stub_shards(const fs::path& stub, const std::string& dir) {
  std::ifstream in(stub);
  if (!in) throw Error(dir + " is not a steper index (cannot read " + stub.string() + ")");
  std::vector<std::string> shards;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    if (line.rfind("auto ", 0) != 0 || line.size() == 5 || line.find('/') != std::string::npos)
      throw file_error(stub.string(), n, "not a shard line of a steper index (\"auto shard-NNN\")");
    shards.push_back(line.substr(5));
  }
  if (shards.empty()) throw Error(stub.string() + ": lists no shards");
  return shards;
}

}  // namespace

nlohmann::json index_folder_open(const std::string& dir, Xapian::Database& db, bool any_format) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw Error("index folder " + dir + " does not exist (build it with: steper index)");
  if (!fs::is_directory(dir, ec)) throw Error(dir + " is not a steper index (not a folder)");
  fs::path stub = fs::path(dir) / kStubFile;
  if (fs::exists(stub, ec)) {
    std::vector<std::string> shards = stub_shards(stub, dir);
    db = Xapian::Database();
    nlohmann::json first;
    for (size_t s = 0; s < shards.size(); ++s) {
      std::string path = (fs::path(dir) / shards[s]).string();
      if (!fs::exists(path, ec))
        throw Error("index " + dir + ": shard " + path + " is missing (" + std::to_string(shards.size()) +
                    " shards are listed in " + stub.string() + ")");
      Xapian::Database sub;
      try {
        sub = Xapian::Database(path);
      } catch (const Xapian::Error& e) {
        throw Error("index " + dir + ": shard " + path + " is damaged (" + e.get_description() + ")");
      }
      nlohmann::json meta = metadata_check("index " + dir + ": shard " + path, sub, any_format);
      if (s == 0) first = meta;
      db.add_database(sub);
    }
    return first;
  }
  try {
    db = Xapian::Database(dir);
  } catch (const Xapian::Error& e) {
    throw Error(dir + " is not a steper index (no Xapian database: " + e.get_msg() + ")");
  }
  return metadata_check(dir, db, any_format);
}

// ---- index specs

std::vector<IndexPart> index_spec_parse(const std::string& spec) {
  std::vector<IndexPart> parts;
  size_t begin = 0;
  for (;;) {
    size_t end = spec.find(',', begin);
    std::string item = spec.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.erase(0, 1);
    if (item.empty())
      throw Error("index \"" + spec + "\": an empty item (give folders or tcp://host:port, comma-separated)");
    IndexPart part;
    part.name = item;
    if (item.rfind("tcp://", 0) == 0) {
      std::string rest = item.substr(6);
      while (!rest.empty() && rest.back() == '/') rest.pop_back();
      size_t colon = rest.rfind(':');
      std::string port = colon == std::string::npos ? "" : rest.substr(colon + 1);
      bool digits = !port.empty() && port.size() <= 5 && port.find_first_not_of("0123456789") == std::string::npos;
      if (colon == std::string::npos || colon == 0 || !digits || std::stoul(port) == 0 || std::stoul(port) > 65535)
        throw Error("index " + item + ": a remote shard is tcp://HOST:PORT (served by xapian-tcpsrv)");
      part.remote = true;
      part.host = rest.substr(0, colon);
      if (part.host.size() > 2 && part.host.front() == '[' && part.host.back() == ']')
        part.host = part.host.substr(1, part.host.size() - 2);
      part.port = static_cast<unsigned>(std::stoul(port));
    }
    parts.push_back(part);
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return parts;
}

namespace {

Xapian::Database remote_open(const IndexPart& part, int timeout_ms) {
  try {
    return Xapian::Remote::open(part.host, part.port, timeout_ms, timeout_ms);
  } catch (const Xapian::Error& e) {
    throw Error("remote shard " + part.name + " does not answer (" + e.get_description() +
                "; serve it with: xapian-tcpsrv --port " + std::to_string(part.port) + " INDEX_FOLDER)");
  }
}

}  // namespace

Xapian::Database index_spec_open(const std::vector<IndexPart>& parts, int remote_timeout_ms) {
  Xapian::Database all;
  for (const auto& part : parts) {
    Xapian::Database db;
    if (part.remote) {
      db = remote_open(part, remote_timeout_ms);
      nlohmann::json meta = metadata_check("remote shard " + part.name, db);
      if (!meta.value("servable", false))
        throw Error("remote shard " + part.name +
                    " was built without --servable, so xapian-tcpsrv cannot return its passages; rebuild it with "
                    "steper index --servable");
    } else {
      index_folder_open(index_folder_path(part.name).string(), db);
    }
    all.add_database(db);
  }
  return all;
}

std::string index_spec_unreachable(const std::vector<IndexPart>& parts, int remote_timeout_ms) {
  for (const auto& part : parts) {
    if (!part.remote) continue;
    try {
      remote_open(part, remote_timeout_ms).get_doccount();
    } catch (const std::exception&) {
      return part.name;
    }
  }
  return "";
}

}  // namespace steper
