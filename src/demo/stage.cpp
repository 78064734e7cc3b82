#include "demo/stage.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "core/io.h"

namespace steper {

namespace fs = std::filesystem;

static void fnv_update(uint64_t& h, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ULL;
  }
}

static std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string fingerprint_strings(const std::vector<std::string>& parts) {
  uint64_t h = 14695981039346656037ULL;
  for (const auto& p : parts) {
    fnv_update(h, p.data(), p.size());
    fnv_update(h, "\x1f", 1);
  }
  return hex64(h);
}

static void hash_file(uint64_t& h, const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), buf.size());
    fnv_update(h, buf.data(), static_cast<size_t>(in.gcount()));
  }
}

std::string fingerprint_path(const std::string& path) {
  uint64_t h = 14695981039346656037ULL;
  if (fs::is_directory(path)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(path))
      if (e.is_regular_file() && e.path().filename() != "stage.json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string rel = fs::relative(f, path).string();
      fnv_update(h, rel.data(), rel.size());
      hash_file(h, f);
    }
  } else if (fs::exists(path)) {
    hash_file(h, path);
  } else {
    return "missing";
  }
  return hex64(h);
}

bool stage_done(const std::string& dir, const std::string& fingerprint) {
  std::string marker = dir + "/stage.json";
  if (!fs::exists(marker)) return false;
  try {
    return read_json(marker).value("fingerprint", "") == fingerprint;
  } catch (...) {
    return false;
  }
}

void stage_mark_done(const std::string& dir, const std::string& fingerprint, const nlohmann::json& info) {
  write_json_atomic(dir + "/stage.json", nlohmann::json{{"fingerprint", fingerprint}, {"info", info}});
}

nlohmann::json stage_info(const std::string& dir) {
  std::string marker = dir + "/stage.json";
  if (!fs::exists(marker)) return nlohmann::json::object();
  try {
    return read_json(marker).value("info", nlohmann::json::object());
  } catch (...) {
    return nlohmann::json::object();
  }
}

}  // namespace steper
