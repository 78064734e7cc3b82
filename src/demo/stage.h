// Demo stages that are reused when their inputs have not changed: each stage folder holds
// stage.json with a fingerprint of its inputs; a stage whose fingerprint matches is skipped.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace steper {

// 64-bit FNV-1a over the strings, as 16 hex digits.
std::string fingerprint_strings(const std::vector<std::string>& parts);
// Fingerprint of a file's bytes (or a folder's files, sorted by name).
std::string fingerprint_path(const std::string& path);

bool stage_done(const std::string& dir, const std::string& fingerprint);
void stage_mark_done(const std::string& dir, const std::string& fingerprint, const nlohmann::json& info = {});
nlohmann::json stage_info(const std::string& dir);  // the info saved with the fingerprint ({} when none)

}  // namespace steper
