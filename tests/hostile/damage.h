// Deterministic damage for the hostile-input suite: from one valid file, the damaged variants a careless
// copy, a kill, a disk error or a hand edit could leave (torch-free).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace steper {
namespace hostile {

// What a reader may do with a variant.
enum class Expect {
  kReject,        // the variant is invalid: a steper::Error must come
  kRejectOrSame,  // a value of the wrong type: an Error, or (an ignored field) exactly the base's result
  kSame,          // still the same content (line endings): must load, with the base's result
  kMayLoad,       // may still be valid (a flipped byte inside a string, a missing optional field): an
                  // Error, or a result; a JSON variant must then parse as JSON and keep its record count
};

struct Variant {
  std::string name;   // "flip@123^4", "field /context/0/1/0 = 3.5", ...
  std::string bytes;  // the damaged file
  Expect expect = Expect::kMayLoad;
};

enum class Layout {
  kJsonLines,  // one JSON object a line
  kJsonList,   // a JSON list of records
  kJsonObject, // one JSON object (config.json, tokenizer.json)
  kBinary,     // safetensors, GGUF, Xapian tables
};

struct DamageOptions {
  uint64_t seed = 1;
  size_t flips = 24;          // single-bit flips at deterministic positions
  size_t header_bytes = 0;    // binary files: half the flips fall in the first header_bytes (0 = anywhere)
  bool records_have_ids = true;  // JSON Lines / lists: a repeated record is a duplicate id (kReject)
  size_t max_field_variants = 120;  // sampled deterministically from all field-level variants
};

// Byte-level damage of any file: empty, truncations, bit flips, an inserted NUL, garbage appended,
// a repeated record, CRLF line endings.
std::vector<Variant> byte_variants(const std::string& base, Layout layout, const DamageOptions& opts);

// Field-level damage of a JSON file (the first record of JSON Lines or a list, the object itself
// otherwise): every field removed, and set to values of wrong types and absurd sizes.
std::vector<Variant> field_variants(const std::string& base, Layout layout, const DamageOptions& opts);

// Field-level damage of a safetensors file's JSON header (dtypes, shapes, offsets, metadata), the
// tensor data kept as it is.
std::vector<Variant> safetensors_header_variants(const std::string& base, const DamageOptions& opts);

// Both, in a fixed order.
std::vector<Variant> all_variants(const std::string& base, Layout layout, const DamageOptions& opts);

}  // namespace hostile
}  // namespace steper
