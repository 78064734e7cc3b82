// Errors a user can cause (bad file, bad flag, bad request). The CLI prints what() and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace steper {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// "path:line: message" (line 0 leaves the line out)
inline Error file_error(const std::string& path, size_t line, const std::string& message) {
  if (line == 0) return Error(path + ": " + message);
  return Error(path + ":" + std::to_string(line) + ": " + message);
}

}  // namespace steper
