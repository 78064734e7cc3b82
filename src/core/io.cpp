#include "core/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace steper {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file_atomic(const std::string& path, const std::string& content) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::string tmp = path + ".tmp-" + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw Error(path + ": cannot write: " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path + ": write failed: " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw Error(path + ": rename failed: " + std::strerror(e));
  }
}

namespace {

// The line of byte offset `byte` in text (1-based).
size_t line_at(const std::string& text, size_t byte) {
  size_t line = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

// nlohmann's messages for errors without a position (number overflow) quote the token: 'TOKEN'.
// The line of its first occurrence, or 0.
size_t line_of_quoted_token(const std::string& text, const std::string& message) {
  size_t a = message.find('\'');
  size_t b = a == std::string::npos ? a : message.find('\'', a + 1);
  if (b == std::string::npos || b == a + 1) return 0;
  size_t at = text.find(message.substr(a + 1, b - a - 1));
  return at == std::string::npos ? 0 : line_at(text, at);
}

}  // namespace

nlohmann::json read_json(const std::string& path) {
  std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw file_error(path, line_at(text, e.byte), std::string("malformed JSON: ") + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, line_of_quoted_token(text, e.what()), std::string("malformed JSON: ") + e.what());
  }
}

void for_each_json_list_element(const std::string& path, const std::function<void(nlohmann::json&, size_t)>& fn) {
  using json = nlohmann::json;
  std::string text = read_file(path);
  size_t index = 0;
  bool list = false;
  json::parser_callback_t each = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 0 && event == json::parse_event_t::array_start) list = true;
    if (depth != 1 || !list) return true;
    // an element ends: a compound one at its own end event, a plain value as it is read
    if (event == json::parse_event_t::object_end || event == json::parse_event_t::array_end ||
        (event == json::parse_event_t::value && !parsed.is_structured())) {
      fn(parsed, index++);
      return false;  // not kept in the list
    }
    return true;
  };
  json top;
  try {
    top = json::parse(text, each);
  } catch (const json::parse_error& e) {
    throw file_error(path, line_at(text, e.byte), std::string("malformed JSON: ") + e.what());
  }
  if (!list) throw Error(path + ": expected a JSON list, got " + json_brief(top));
}

void write_json_atomic(const std::string& path, const nlohmann::json& value, int indent) {
  write_file_atomic(path, value.dump(indent) + "\n");
}

JsonlReader::JsonlReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
  if (!in_) throw Error(path + ": cannot open: " + std::strerror(errno));
}

bool JsonlReader::jsonl_next(nlohmann::json& obj, size_t& line) {
  while (std::getline(in_, buf_)) {
    ++line_;
    if (buf_.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      obj = nlohmann::json::parse(buf_);
    } catch (const nlohmann::json::exception& e) {
      throw file_error(path_, line_, std::string("malformed JSON: ") + e.what());
    }
    line = line_;
    return true;
  }
  return false;
}

void for_each_jsonl(const std::string& path, const std::function<void(const nlohmann::json&, size_t)>& fn) {
  JsonlReader reader(path);
  nlohmann::json obj;
  size_t lineno = 0;
  while (reader.jsonl_next(obj, lineno)) {
    try {
      fn(obj, lineno);
    } catch (const nlohmann::json::exception& e) {
      // A reader that used the JSON library's own conversions: still say where.
      throw file_error(path, lineno, std::string("unexpected value: ") + e.what());
    }
  }
}

size_t file_line_count(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<char> buf(1 << 20);
  size_t lines = 0;
  char last = '\n';
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    size_t n = static_cast<size_t>(in.gcount());
    lines += static_cast<size_t>(std::count(buf.data(), buf.data() + n, '\n'));
    last = buf[n - 1];
  }
  return lines + (last != '\n' ? 1 : 0);
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  for_each_jsonl(path, [&](const nlohmann::json& j, size_t) { out.push_back(j); });
  return out;
}

JsonlAppender::JsonlAppender(const std::string& path) : path_(path) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd_ < 0) throw Error(path + ": cannot open for append: " + std::strerror(errno));
}

JsonlAppender::~JsonlAppender() {
  if (fd_ >= 0) ::close(fd_);
}

void JsonlAppender::append(const nlohmann::json& value) {
  std::string line = value.dump() + "\n";
  // One write() per line: with O_APPEND a line is never interleaved or half-written by us.
  ssize_t n = ::write(fd_, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) throw Error(path_ + ": append failed: " + std::strerror(errno));
  ::fdatasync(fd_);
}

const nlohmann::json& json_field(const nlohmann::json& obj, const char* field, const std::string& where) {
  if (!obj.is_object()) throw Error(where + ": expected a JSON object");
  auto it = obj.find(field);
  if (it == obj.end()) throw Error(where + ": missing field \"" + field + "\"");
  return *it;
}

std::string json_string(const nlohmann::json& obj, const char* field, const std::string& where) {
  const auto& v = json_field(obj, field, where);
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return json_as_text(v, field, where);
}

std::string json_brief(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

namespace {

[[noreturn]] void type_fail(const nlohmann::json& v, const std::string& name, const std::string& where,
                            const std::string& expected) {
  throw Error(where + ": field \"" + name + "\" must be " + expected + ", got " + json_brief(v));
}

std::string range_text(double lo, double hi, bool integer) {
  auto num = [&](double x) {
    if (integer) return std::to_string(static_cast<long long>(x));
    std::ostringstream ss;
    ss << x;
    return ss.str();
  };
  bool has_lo = integer ? lo > static_cast<double>(INT64_MIN) : lo > -DBL_MAX;
  bool has_hi = integer ? hi < static_cast<double>(INT64_MAX) : hi < DBL_MAX;
  if (has_lo && has_hi) return " in [" + num(lo) + ", " + num(hi) + "]";
  if (has_lo) return " >= " + num(lo);
  if (has_hi) return " <= " + num(hi);
  return "";
}

}  // namespace

std::string json_as_text(const nlohmann::json& v, const std::string& name, const std::string& where) {
  if (!v.is_string()) type_fail(v, name, where, "a string");
  return v.get<std::string>();
}

int64_t json_as_int(const nlohmann::json& v, const std::string& name, const std::string& where, int64_t lo,
                    int64_t hi) {
  const std::string expected = "an integer" + range_text(static_cast<double>(lo), static_cast<double>(hi), true);
  if (!v.is_number_integer()) type_fail(v, name, where, expected);
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) type_fail(v, name, where, expected);
  int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) type_fail(v, name, where, expected);
  return x;
}

double json_as_number(const nlohmann::json& v, const std::string& name, const std::string& where, double lo,
                      double hi) {
  const std::string expected = "a number" + range_text(lo, hi, false);
  if (!v.is_number()) type_fail(v, name, where, expected);
  double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) type_fail(v, name, where, expected);
  return x;
}

bool json_as_bool(const nlohmann::json& v, const std::string& name, const std::string& where) {
  if (!v.is_boolean()) type_fail(v, name, where, "true or false");
  return v.get<bool>();
}

const nlohmann::json* json_find(const nlohmann::json& obj, const char* field) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(field);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string json_text(const nlohmann::json& obj, const char* field, const std::string& where) {
  return json_as_text(json_field(obj, field, where), field, where);
}

int64_t json_int(const nlohmann::json& obj, const char* field, const std::string& where, int64_t lo, int64_t hi) {
  return json_as_int(json_field(obj, field, where), field, where, lo, hi);
}

double json_number(const nlohmann::json& obj, const char* field, const std::string& where, double lo, double hi) {
  return json_as_number(json_field(obj, field, where), field, where, lo, hi);
}

bool json_bool(const nlohmann::json& obj, const char* field, const std::string& where) {
  return json_as_bool(json_field(obj, field, where), field, where);
}

const nlohmann::json& json_array(const nlohmann::json& obj, const char* field, const std::string& where) {
  const auto& v = json_field(obj, field, where);
  if (!v.is_array()) type_fail(v, field, where, "a list");
  return v;
}

const nlohmann::json& json_object(const nlohmann::json& obj, const char* field, const std::string& where) {
  const auto& v = json_field(obj, field, where);
  if (!v.is_object()) type_fail(v, field, where, "an object");
  return v;
}

std::vector<std::string> json_string_array(const nlohmann::json& obj, const char* field, const std::string& where) {
  const auto& list = json_array(obj, field, where);
  std::vector<std::string> out;
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i)
    out.push_back(json_as_text(list[i], std::string(field) + "[" + std::to_string(i) + "]", where));
  return out;
}

namespace {
// json_field's check that obj is an object, for the optional accessors.
const nlohmann::json* find_in_object(const nlohmann::json& obj, const char* field, const std::string& where) {
  if (!obj.is_object()) throw Error(where + ": expected a JSON object");
  return json_find(obj, field);
}
}  // namespace

int64_t json_int_or(const nlohmann::json& obj, const char* field, const std::string& where, int64_t fallback,
                    int64_t lo, int64_t hi) {
  const nlohmann::json* v = find_in_object(obj, field, where);
  return v ? json_as_int(*v, field, where, lo, hi) : fallback;
}

double json_number_or(const nlohmann::json& obj, const char* field, const std::string& where, double fallback,
                      double lo, double hi) {
  const nlohmann::json* v = find_in_object(obj, field, where);
  return v ? json_as_number(*v, field, where, lo, hi) : fallback;
}

bool json_bool_or(const nlohmann::json& obj, const char* field, const std::string& where, bool fallback) {
  const nlohmann::json* v = find_in_object(obj, field, where);
  return v ? json_as_bool(*v, field, where) : fallback;
}

std::string json_text_or(const nlohmann::json& obj, const char* field, const std::string& where,
                         const std::string& fallback) {
  const nlohmann::json* v = find_in_object(obj, field, where);
  return v ? json_as_text(*v, field, where) : fallback;
}

bool file_exists(const std::string& path) { return std::filesystem::exists(path); }
void make_dirs(const std::string& path) { std::filesystem::create_directories(path); }

}  // namespace steper
