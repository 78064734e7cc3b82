// Files: whole-file reads, atomic writes (temporary name + rename), JSON and JSON Lines with
// errors that name the file and line.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace steper {

std::string read_file(const std::string& path);
// Writes to path + ".tmp-<pid>" then renames, so readers never see half a file.
void write_file_atomic(const std::string& path, const std::string& content);

nlohmann::json read_json(const std::string& path);
void write_json_atomic(const std::string& path, const nlohmann::json& value, int indent = 2);

// Calls fn(object, line_number) for each non-blank line; a malformed line throws naming path:line.
void for_each_jsonl(const std::string& path, const std::function<void(const nlohmann::json&, size_t)>& fn);
std::vector<nlohmann::json> read_jsonl(const std::string& path);

// Appends one line and flushes it to disk (append-only logs that survive a kill).
class JsonlAppender {
 public:
  explicit JsonlAppender(const std::string& path);
  ~JsonlAppender();
  JsonlAppender(const JsonlAppender&) = delete;
  JsonlAppender& operator=(const JsonlAppender&) = delete;
  void append(const nlohmann::json& value);
 private:
  std::string path_;
  int fd_ = -1;
};

// Field access with errors naming file, line and field.
const nlohmann::json& json_field(const nlohmann::json& obj, const char* field, const std::string& where);
std::string json_string(const nlohmann::json& obj, const char* field, const std::string& where);

bool file_exists(const std::string& path);
void make_dirs(const std::string& path);

}  // namespace steper
