#include "damage.h"

#include <algorithm>
#include <random>

#include <nlohmann/json.hpp>

namespace steper {
namespace hostile {

namespace {

using ojson = nlohmann::ordered_json;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Index of the first non-blank line (the first record of a JSON Lines file).
size_t first_record_line(const std::vector<std::string>& lines) {
  for (size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find_first_not_of(" \t\r") != std::string::npos) return i;
  return 0;
}

// A cut that leaves the file strictly inside a record (never at a line boundary of JSON Lines,
// never after the closing bracket of a JSON document).
size_t inside_cut(const std::string& s, size_t k, Layout layout) {
  if (layout == Layout::kBinary) return std::min(k, s.size() - 1);
  size_t last = s.find_last_not_of(" \t\r\n");
  if (last == std::string::npos) return 0;
  k = std::min(std::max<size_t>(k, 1), last);
  if (layout == Layout::kJsonLines)
    while (k < last && (s[k - 1] == '\n' || s[k] == '\n' || s[k] == '\r')) ++k;
  return k;
}

// The position of a letter inside a string value (after the first `": "`), or npos.
size_t letter_in_string(const std::string& s) {
  size_t at = s.find("\": \"");
  if (at == std::string::npos) at = s.find("\":\"");
  if (at == std::string::npos) return std::string::npos;
  at = s.find('"', at + 2) + 1;
  while (at < s.size() && !std::isalpha(static_cast<unsigned char>(s[at]))) {
    if (s[at] == '"') return std::string::npos;
    ++at;
  }
  return at < s.size() ? at : std::string::npos;
}

struct Edit {
  std::string name;
  ojson record;
  Expect expect;
};

// Every value under `v` (JSON pointers), a few children of large objects and lists only.
void collect_paths(const ojson& v, const std::string& at, int depth, std::vector<std::string>& out) {
  if (depth > 6) return;
  if (v.is_object()) {
    size_t n = 0, cap = v.size() <= 24 ? v.size() : 4;  // a vocabulary: a few entries
    for (auto it = v.begin(); it != v.end() && n < cap; ++it, ++n) {
      std::string key = it.key();
      std::string esc;
      for (char c : key) esc += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      std::string p = at + "/" + esc;
      out.push_back(p);
      collect_paths(it.value(), p, depth + 1, out);
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size() && i < 2; ++i) {
      std::string p = at + "/" + std::to_string(i);
      out.push_back(p);
      collect_paths(v[i], p, depth + 1, out);
    }
  }
}

// Values of a type other than v's (and absurd sizes for integers).
std::vector<ojson> wrong_values(const ojson& v) {
  if (v.is_string()) return {true, 3.5, 7, ojson::array(), ojson::object()};
  if (v.is_number_integer())
    return {3.5, "x", true, ojson::array(), int64_t(1000000000000), -1, int64_t(9223372036854775807)};
  if (v.is_number_float()) return {true, "x", ojson::array()};
  if (v.is_boolean()) return {1, "x", ojson::array()};
  if (v.is_array()) return {"x", 3, ojson::object()};
  if (v.is_object()) return {"x", 3, ojson::array()};
  return {};
}

std::vector<Edit> record_edits(const ojson& record) {
  std::vector<Edit> edits;
  std::vector<std::string> paths;
  collect_paths(record, "", 0, paths);
  for (const auto& p : paths) {
    ojson::json_pointer ptr(p);
    const ojson& v = record.at(ptr);
    {
      ojson r = record;
      ojson& parent = r.at(ptr.parent_pointer());
      if (parent.is_object()) parent.erase(ptr.back());
      else parent.erase(parent.begin() + std::stol(ptr.back()));
      edits.push_back({"remove " + p, r, Expect::kMayLoad});
    }
    if ((v.is_array() || v.is_object()) && !v.empty()) {
      ojson r = record;
      r.at(ptr) = v.is_array() ? ojson::array() : ojson::object();
      edits.push_back({"empty " + p, r, Expect::kMayLoad});
    }
    for (const ojson& w : wrong_values(v)) {
      ojson r = record;
      r.at(ptr) = w;
      edits.push_back({"set " + p + " = " + w.dump(), r, Expect::kRejectOrSame});
    }
  }
  return edits;
}

}  // namespace

std::vector<Variant> byte_variants(const std::string& base, Layout layout, const DamageOptions& opts) {
  std::vector<Variant> out;
  const size_t n = base.size();
  const bool text = layout != Layout::kBinary;
  out.push_back({"empty file", "", Expect::kReject});
  if (n < 2) return out;
  std::vector<size_t> cuts = {1, n / 3, n / 2, 2 * n / 3, text ? n : n - 1};
  for (size_t k : cuts) {
    size_t c = inside_cut(base, k, layout);
    if (c == 0) continue;
    out.push_back({"truncated to " + std::to_string(c) + " of " + std::to_string(n) + " bytes", base.substr(0, c),
                   Expect::kReject});
  }
  std::mt19937_64 rng(opts.seed);
  for (size_t i = 0; i < opts.flips; ++i) {
    size_t span = (opts.header_bytes && i % 2 == 0) ? std::min(opts.header_bytes, n) : n;
    size_t pos = static_cast<size_t>(rng() % span);
    int bit = static_cast<int>(rng() % 8);
    std::string b = base;
    b[pos] = static_cast<char>(static_cast<unsigned char>(b[pos]) ^ (1u << bit));
    out.push_back({"bit " + std::to_string(bit) + " of byte " + std::to_string(pos) + " flipped", b, Expect::kMayLoad});
  }
  {
    std::string b = base;
    b.insert(n / 2, 1, '\0');
    out.push_back({"NUL inserted at byte " + std::to_string(n / 2), b, text ? Expect::kReject : Expect::kMayLoad});
  }
  out.push_back({"garbage appended", base + "\n\x01garbage\xff\n", text ? Expect::kReject : Expect::kMayLoad});
  if (!text) return out;
  if (size_t at = letter_in_string(base); at != std::string::npos) {
    std::string b = base;
    b[at] = '\xff';
    out.push_back({"invalid UTF-8 at byte " + std::to_string(at), b, Expect::kReject});
  }
  {
    std::string b;
    for (char c : base) b += c == '\n' ? std::string("\r\n") : std::string(1, c);
    out.push_back({"CRLF line endings", b, Expect::kSame});
  }
  out.push_back({"UTF-8 byte order mark", "\xEF\xBB\xBF" + base, Expect::kMayLoad});
  const Expect repeat = opts.records_have_ids ? Expect::kReject : Expect::kMayLoad;
  if (layout == Layout::kJsonLines) {
    auto lines = split_lines(base);
    lines.push_back(lines[first_record_line(lines)]);
    out.push_back({"first record repeated at the end", join_lines(lines), repeat});
  } else if (layout == Layout::kJsonList) {
    ojson all = ojson::parse(base);
    if (all.is_array() && !all.empty()) {
      all.push_back(all[0]);
      out.push_back({"first record repeated at the end", all.dump() + "\n", repeat});
    }
  }
  return out;
}

std::vector<Variant> field_variants(const std::string& base, Layout layout, const DamageOptions& opts) {
  std::vector<Variant> out;
  if (layout == Layout::kBinary) return out;
  std::vector<std::string> lines;
  size_t line = 0;
  ojson all, record;
  if (layout == Layout::kJsonLines) {
    lines = split_lines(base);
    line = first_record_line(lines);
    record = ojson::parse(lines[line]);
  } else {
    all = ojson::parse(base);
    record = layout == Layout::kJsonList ? all.at(0) : all;
  }
  std::vector<Edit> edits = record_edits(record);
  // A deterministic sample, kept in the order the fields come.
  std::vector<size_t> order(edits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(opts.seed ^ 0x9e3779b97f4a7c15ull);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  if (order.size() > opts.max_field_variants) order.resize(opts.max_field_variants);
  std::sort(order.begin(), order.end());
  for (size_t i : order) {
    Edit& e = edits[i];
    std::string bytes;
    if (layout == Layout::kJsonLines) {
      auto l = lines;
      l[line] = e.record.dump();
      bytes = join_lines(l);
    } else if (layout == Layout::kJsonList) {
      ojson a = all;
      a[0] = e.record;
      bytes = a.dump() + "\n";
    } else {
      bytes = e.record.dump(2) + "\n";
    }
    out.push_back({"field: " + e.name, bytes, e.expect});
  }
  return out;
}

std::vector<Variant> safetensors_header_variants(const std::string& base, const DamageOptions& opts) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(base[static_cast<size_t>(i)]);
  const std::string data = base.substr(static_cast<size_t>(8 + n));
  ojson header = ojson::parse(base.substr(8, static_cast<size_t>(n)));
  auto with_header = [&](const ojson& h) {
    std::string text = h.dump();
    while (text.size() % 8) text.push_back(' ');
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((text.size() >> (8 * i)) & 0xff);
    return out + text + data;
  };
  DamageOptions o = opts;
  std::vector<Variant> out;
  for (auto& v : field_variants(header.dump(), Layout::kJsonObject, o))
    out.push_back({"header " + v.name, with_header(ojson::parse(v.bytes)), v.expect});
  return out;
}

std::vector<Variant> all_variants(const std::string& base, Layout layout, const DamageOptions& opts) {
  std::vector<Variant> out = byte_variants(base, layout, opts);
  for (auto& v : field_variants(base, layout, opts)) out.push_back(std::move(v));
  return out;
}

}  // namespace hostile
}  // namespace steper
