#include "retrieval/bm25_record.h"

#include <cstddef>

namespace steper {

namespace {

void field_put(std::string& out, const std::string& field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

// Reads "<n>:<n bytes>" at `pos`; false when malformed.
bool field_get(const std::string& data, size_t& pos, std::string& field) {
  size_t n = 0, digits = 0;
  for (; pos < data.size() && data[pos] >= '0' && data[pos] <= '9' && digits < 10; ++pos, ++digits)
    n = n * 10 + static_cast<size_t>(data[pos] - '0');
  if (digits == 0 || pos >= data.size() || data[pos] != ':' || data.size() - pos - 1 < n) return false;
  field.assign(data, pos + 1, n);
  pos += 1 + n;
  return true;
}

}  // namespace

std::string passage_record_encode(const Passage& p) {
  std::string out;
  out.reserve(p.id.size() + p.title.size() + p.text.size() + 16);
  field_put(out, p.id);
  field_put(out, p.title);
  out += p.text;
  return out;
}

std::optional<Passage> passage_record_decode(const std::string& data) {
  Passage p;
  size_t pos = 0;
  if (!field_get(data, pos, p.id) || !field_get(data, pos, p.title)) return std::nullopt;
  p.text.assign(data, pos, std::string::npos);
  return p;
}

}  // namespace steper
