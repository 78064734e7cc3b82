// The index folder (internal to retrieval/): what makes a folder a steper index, opening it with
// clear errors, and replacing it atomically.
#pragma once

#include <filesystem>
#include <string>

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

// Opens DIR and returns its steper metadata. Throws Error naming DIR when it is missing, is not
// a Xapian database, has no steper metadata, or has a format this build does not read.
nlohmann::json index_folder_open(const std::string& dir, Xapian::Database& db);

}  // namespace steper
