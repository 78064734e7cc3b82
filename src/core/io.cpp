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

namespace {

[[noreturn]] void throw_errno(const std::string& name, const char* what, int e) {
  throw Error(name + ": " + what + " failed: " + std::strerror(e));
}

void close_checked(int fd, const std::string& name) {
  // close() is not retried on EINTR: on Linux the descriptor is gone either way.
  if (::close(fd) != 0) throw_errno(name, "close", errno);
}

void fsync_checked(int fd, const std::string& name) {
  if (::fsync(fd) != 0) throw_errno(name, "fsync", errno);
}

// The folder holding path (".": a bare name), synced so that a rename in it survives a crash.
void sync_parent_folder(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? "." : parent.string();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno(dir, "open", errno);
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    throw_errno(dir, "fsync", e);
  }
  close_checked(fd, dir);
}

constexpr size_t kAtomicBuffer = 1 << 20;

}  // namespace

void write_all_fd(int fd, const void* data, size_t n, const std::string& name) {
  const char* c = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno(name, "write", errno);
    }
    c += w;
    n -= static_cast<size_t>(w);
  }
}

AtomicFile::AtomicFile(const std::string& path, bool durable)
    : path_(path), tmp_(path + ".tmp-" + std::to_string(getpid())), durable_(durable) {
  std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw_errno(path_, "open", errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

void AtomicFile::flush() {
  write_all_fd(fd_, buf_.data(), buf_.size(), path_);
  buf_.clear();
}

void AtomicFile::write(const void* data, size_t n) {
  if (fd_ < 0) throw BugError(__FILE__, __LINE__, path_ + ": written after commit()");
  if (buf_.size() + n > kAtomicBuffer) flush();
  if (n >= kAtomicBuffer) write_all_fd(fd_, data, n, path_);
  else buf_.append(static_cast<const char*>(data), n);
}

void AtomicFile::commit() {
  if (fd_ < 0) throw BugError(__FILE__, __LINE__, path_ + ": committed twice");
  flush();
  if (durable_) fsync_checked(fd_, path_);
  int fd = fd_;
  fd_ = -1;
  close_checked(fd, path_);
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) throw_errno(path_, "rename", errno);
  tmp_.clear();
  if (durable_) sync_parent_folder(path_);
}

void write_file_atomic(const std::string& path, const std::string& content) {
  AtomicFile f(path);
  f.write(content);
  f.commit();
}

void rename_durable(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0)
    throw Error(to + ": rename from " + from + " failed: " + std::strerror(errno));
  sync_parent_folder(to);
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

void write_json_atomic(const std::string& path, const nlohmann::json& value, int indent) {
  write_file_atomic(path, value.dump(indent) + "\n");
}

JsonlReader::JsonlReader(const std::string& path, JsonlTail tail)
    : path_(path), in_(path, std::ios::binary), tail_(tail) {
  if (!in_) throw Error(path + ": cannot open: " + std::strerror(errno));
}

bool JsonlReader::jsonl_next(nlohmann::json& obj, size_t& line) {
  while (std::getline(in_, buf_)) {
    ++line_;
    const bool has_newline = !in_.eof();
    const size_t bytes = buf_.size() + (has_newline ? 1 : 0);
    if (buf_.find_first_not_of(" \t\r") == std::string::npos) {
      if (has_newline) end_.complete_bytes += bytes;
      continue;
    }
    try {
      obj = nlohmann::json::parse(buf_);
    } catch (const nlohmann::json::exception& e) {
      if (!has_newline && tail_ == JsonlTail::kTornTail) {
        end_.torn_tail = true;
        return false;
      }
      throw file_error(path_, line_, std::string("malformed JSON: ") + e.what());
    }
    end_.complete_bytes += bytes;
    end_.missing_newline = !has_newline;
    line = line_;
    return true;
  }
  return false;
}

JsonlEnd for_each_jsonl(const std::string& path, const std::function<void(const nlohmann::json&, size_t)>& fn,
                        JsonlTail tail) {
  JsonlReader reader(path, tail);
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
  return reader.jsonl_end();
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

void JsonlAppender::append(const nlohmann::json& value) { append_raw(value.dump() + "\n"); }

void JsonlAppender::append_raw(const std::string& bytes) {
  // With O_APPEND one write() puts a line at the end whole; a short write (a full disk) is continued,
  // and a line left torn by a failure is what readers of these logs skip.
  write_all_fd(fd_, bytes.data(), bytes.size(), path_);
  // EINVAL: a file that cannot be synced (a pipe, a device), which is no failure of the write.
  if (::fdatasync(fd_) != 0 && errno != EINVAL) throw_errno(path_, "fdatasync", errno);
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
