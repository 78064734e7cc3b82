// The index folder (internal to retrieval/): what makes a folder a steper index, opening it with
// clear errors, replacing it atomically, and opening an index spec (folders, shards and remote
// shards searched as one).
//
// An index folder is either one Xapian database, or (built with several shards) a folder of shard
// databases shard-000, shard-001, ... listed in a Xapian stub file XAPIANDB ("auto shard-000" a
// line), so Xapian's own tools (xapian-delve, xapian-tcpsrv) open the folder as the whole index.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <xapian.h>

namespace steper {

// DIR without a trailing separator ("idx/" -> "idx").
std::filesystem::path index_folder_path(const std::string& dir);

// Throws Error when DIR exists and is something other than an empty folder or a steper index
// (a build never deletes what it did not make).
void index_folder_check_replaceable(const std::filesystem::path& dir);

// Renames the finished build `tmp` to `dir`, removing the index that was there.
void index_folder_replace(const std::filesystem::path& tmp, const std::filesystem::path& dir);

// The name of shard `s` inside a sharded index folder, and the stub file listing the shards.
std::string index_shard_name(size_t s);
extern const char* const kStubFile;

// Opens DIR (one database or a sharded folder, whose shards are added to `db` in order) and returns
// the steper metadata of its first database. Throws Error naming DIR (or the shard) when it is
// missing, is not a Xapian database, has no steper metadata, or has a format this build does not read
// (unless `any_format`: for replacing an index built by an older steper).
nlohmann::json index_folder_open(const std::string& dir, Xapian::Database& db, bool any_format = false);

// One item of an index spec.
struct IndexPart {
  std::string name;  // as given: a folder, or tcp://host:port
  bool remote = false;
  std::string host;
  unsigned port = 0;
};
// Splits a comma-separated spec ("idx", "a,b", "tcp://10.0.0.2:7000,local-idx"). Throws Error on an
// empty item or a malformed tcp:// address.
std::vector<IndexPart> index_spec_parse(const std::string& spec);

// Opens every part of the spec as one database (their passages searched together, with BM25
// statistics over all of them). Remote parts use `remote_timeout_ms` for connecting and for each
// operation, so a server that stops answering gives an error, not a hang.
Xapian::Database index_spec_open(const std::vector<IndexPart>& parts, int remote_timeout_ms);

// Names the first remote part that does not answer now (empty when all do): for error messages.
std::string index_spec_unreachable(const std::vector<IndexPart>& parts, int remote_timeout_ms);

}  // namespace steper
