// Helpers shared by the retrieval tests: temporary folders, quiet builds, errors and result ids.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "retrieval/retriever.h"

namespace steper {
namespace testutil {

// A fresh folder under the system temporary folder, removed at the end of the test.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() / ("steper_retrieval_" + std::to_string(getpid()) + "_" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string sub(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline IndexOptions quiet() {
  IndexOptions o;
  o.show_progress = false;
  return o;
}

inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

inline std::vector<std::string> ids_of(const std::vector<ScoredPassage>& r) {
  std::vector<std::string> ids;
  for (auto& p : r) ids.push_back(p.passage.id);
  return ids;
}

}  // namespace testutil
}  // namespace steper
