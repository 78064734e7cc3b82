// Errors a user can cause (bad file, bad flag, bad request). The CLI prints what() and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace steper {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A programmer error (a broken invariant, never the user's input): main reports it as a bug in steper,
// naming the source file and line.
class BugError : public std::logic_error {
 public:
  BugError(const char* file, int line, const std::string& message)
      : std::logic_error(message), file_(file), line_(line) {}
  const char* file() const { return file_; }
  int line() const { return line_; }

 private:
  const char* file_;
  int line_;
};

// "path:line: message" (line 0 leaves the line out)
inline Error file_error(const std::string& path, size_t line, const std::string& message) {
  if (line == 0) return Error(path + ": " + message);
  return Error(path + ":" + std::to_string(line) + ": " + message);
}

}  // namespace steper
