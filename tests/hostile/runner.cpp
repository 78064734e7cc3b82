#include "runner.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <typeinfo>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"

namespace steper {
namespace hostile {

namespace fs = std::filesystem;

std::string KindReport::text() const {
  return std::to_string(tried) + " variants: " + std::to_string(rejected) + " rejected with a one-line error, " +
         std::to_string(accepted) + " accepted as valid, " + std::to_string(failures.size()) + " failures";
}

std::string place_file(const std::string& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::string path = (fs::path(dir) / name).string();
  write_file_atomic(path, bytes);
  return path;
}

std::string place_in_folder(const std::string& dir, const std::string& base_dir, const std::string& name,
                            const std::string& bytes, bool copy_others) {
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(base_dir)) {
    if (e.path().filename() == name) continue;
    fs::path to = fs::path(dir) / e.path().filename();
    if (copy_others)
      fs::copy(e.path(), to, fs::copy_options::recursive);
    else
      fs::create_symlink(fs::absolute(e.path()), to);
  }
  place_file(dir, name, bytes);
  return dir;
}

namespace {

// Whether a JSON text (or each line of JSON Lines) parses, and how many records it holds.
bool parses(const std::string& bytes, Layout layout, size_t* records) {
  try {
    if (layout == Layout::kJsonLines) {
      size_t n = 0, pos = 0;
      while (pos < bytes.size()) {
        size_t nl = bytes.find('\n', pos);
        if (nl == std::string::npos) nl = bytes.size();
        std::string line = bytes.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        (void)nlohmann::json::parse(line);
        ++n;
      }
      *records = n;
      return true;
    }
    nlohmann::json j = nlohmann::json::parse(bytes);
    *records = j.is_array() ? j.size() : 1;
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

KindReport run_kind(const FileKind& kind, const std::string& work_dir) {
  KindReport rep;
  fs::remove_all(work_dir);
  fs::create_directories(work_dir);
  const std::string base_summary = kind.load(kind.place(work_dir + "/base", kind.base));
  const bool json = kind.layout != Layout::kBinary;

  std::vector<Variant> variants = all_variants(kind.base, kind.layout, kind.damage);
  if (kind.extra_variants)
    for (auto& v : kind.extra_variants(kind.base)) variants.push_back(std::move(v));
  for (size_t i = 0; i < variants.size(); ++i) {
    Variant& v = variants[i];
    for (const auto& form : kind.other_valid_forms)
      if (v.name == "field: " + form) v.expect = Expect::kMayLoad;
    for (const auto& form : kind.invalid_forms)
      if (v.name == "field: " + form) v.expect = Expect::kReject;
    const std::string dir = work_dir + "/" + std::to_string(i);
    const std::string input = kind.place(dir, v.bytes);
    ++rep.tried;
    auto fail = [&](const std::string& what) { rep.failures.push_back(v.name + ": " + what); };
    std::string summary;
    bool loaded = false;
    try {
      summary = kind.load(input);
      loaded = true;
    } catch (const Error& e) {
      const std::string msg = e.what();
      ++rep.rejected;
      if (msg.find('\n') != std::string::npos) fail("the error spans several lines: " + msg);
      else if (msg.find(dir) == std::string::npos) fail("the error does not name the file: " + msg);
      else if (v.expect == Expect::kSame) fail("rejected, but the content is unchanged: " + msg);
    } catch (const std::exception& e) {
      fail(std::string("an exception other than steper::Error (") + typeid(e).name() + "): " + e.what());
    } catch (...) {
      fail("an exception other than steper::Error (not a std::exception)");
    }
    if (loaded) {
      ++rep.accepted;
      size_t records = 0;
      switch (v.expect) {
        case Expect::kReject: fail("accepted an invalid file"); break;
        case Expect::kSame:
        case Expect::kRejectOrSame:
          if (summary != base_summary) fail("accepted with a result that differs from the valid file's");
          break;
        case Expect::kMayLoad:
          if (json && !parses(v.bytes, kind.layout, &records)) fail("accepted a file that is not valid JSON");
          else if (json && kind.records && kind.records(summary) != records)
            fail("the file holds " + std::to_string(records) + " records but " +
                 std::to_string(kind.records(summary)) + " were loaded");
          break;
      }
    }
    fs::remove_all(dir);
  }
  fs::remove_all(work_dir);
  return rep;
}

}  // namespace hostile
}  // namespace steper
