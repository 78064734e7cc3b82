// Files: whole-file reads, atomic writes (temporary name + rename), JSON and JSON Lines with
// errors that name the file and line.
#pragma once

#include <cfloat>
#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace steper {

std::string read_file(const std::string& path);
// Writes to path + ".tmp-<pid>" then renames, so readers never see half a file.
void write_file_atomic(const std::string& path, const std::string& content);

// Malformed JSON (bad syntax, a number that overflows such as 1e400) throws naming path:line.
nlohmann::json read_json(const std::string& path);
void write_json_atomic(const std::string& path, const nlohmann::json& value, int indent = 2);
// A file holding one JSON list, one element at a time (a list too large to hold as one value, such as a
// data set): fn(element, index) for each element of the top-level list, which is never held whole. Errors as
// read_json's; a file whose top-level value is not a list is an Error naming it.
void for_each_json_list_element(const std::string& path, const std::function<void(nlohmann::json&, size_t)>& fn);

// Calls fn(object, line_number) for each non-blank line; a malformed line (bad syntax, a number that
// overflows) throws naming path:line, and so does a JSON type error escaping fn.
void for_each_jsonl(const std::string& path, const std::function<void(const nlohmann::json&, size_t)>& fn);
// The same, one object at a call (for a file read as a stream): false after the last line.
class JsonlReader {
 public:
  explicit JsonlReader(const std::string& path);  // throws naming path when it cannot be opened
  bool jsonl_next(nlohmann::json& obj, size_t& line);
  const std::string& jsonl_path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::string buf_;
  size_t line_ = 0;
};
std::vector<nlohmann::json> read_jsonl(const std::string& path);
// Lines in a file (its newlines, plus a last line without one): the size of a stream before reading it.
size_t file_line_count(const std::string& path);

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

// Field access with errors naming file, line and field. `where` is "path:line" or "path: record N"
// (with any enclosing field), `field` the field's name; every error is one line:
// `WHERE: field "FIELD" must be an integer in [0, 10], got 3.5`.
const nlohmann::json& json_field(const nlohmann::json& obj, const char* field, const std::string& where);
// A string; an integer is accepted as its decimal text (ids such as 17). Text fields use json_text.
std::string json_string(const nlohmann::json& obj, const char* field, const std::string& where);

// The field, or nullptr when it is absent or null (obj must be an object).
const nlohmann::json* json_find(const nlohmann::json& obj, const char* field);
// Required fields of one type. Integers must be whole JSON numbers within [lo, hi]; numbers finite
// and within [lo, hi].
std::string json_text(const nlohmann::json& obj, const char* field, const std::string& where);
int64_t json_int(const nlohmann::json& obj, const char* field, const std::string& where,
                 int64_t lo = INT64_MIN, int64_t hi = INT64_MAX);
double json_number(const nlohmann::json& obj, const char* field, const std::string& where,
                   double lo = -DBL_MAX, double hi = DBL_MAX);
bool json_bool(const nlohmann::json& obj, const char* field, const std::string& where);
const nlohmann::json& json_array(const nlohmann::json& obj, const char* field, const std::string& where);
const nlohmann::json& json_object(const nlohmann::json& obj, const char* field, const std::string& where);
std::vector<std::string> json_string_array(const nlohmann::json& obj, const char* field, const std::string& where);
// Optional fields: the fallback when absent or null, else checked as above.
int64_t json_int_or(const nlohmann::json& obj, const char* field, const std::string& where, int64_t fallback,
                    int64_t lo = INT64_MIN, int64_t hi = INT64_MAX);
double json_number_or(const nlohmann::json& obj, const char* field, const std::string& where, double fallback,
                      double lo = -DBL_MAX, double hi = DBL_MAX);
bool json_bool_or(const nlohmann::json& obj, const char* field, const std::string& where, bool fallback);
std::string json_text_or(const nlohmann::json& obj, const char* field, const std::string& where,
                         const std::string& fallback);

// The same checks for a value already in hand (a list element): `name` is how the error names it
// ("supporting_facts[2]", "steps[0].query").
std::string json_as_text(const nlohmann::json& v, const std::string& name, const std::string& where);
int64_t json_as_int(const nlohmann::json& v, const std::string& name, const std::string& where,
                    int64_t lo = INT64_MIN, int64_t hi = INT64_MAX);
double json_as_number(const nlohmann::json& v, const std::string& name, const std::string& where,
                      double lo = -DBL_MAX, double hi = DBL_MAX);
bool json_as_bool(const nlohmann::json& v, const std::string& name, const std::string& where);
// A short rendering of a value for error messages (at most about 40 characters, one line).
std::string json_brief(const nlohmann::json& v);

bool file_exists(const std::string& path);
void make_dirs(const std::string& path);

}  // namespace steper
