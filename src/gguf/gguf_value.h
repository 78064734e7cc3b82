// GGUF metadata values and tensor types, as the GGUF specification published with ggml defines them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace steper {

// ---- metadata value types (gguf_metadata_value_type)

enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};
const char* gguf_type_name(GgufType t);
bool gguf_type_valid(uint32_t t);
// Bytes of one scalar of this type (0 for string and array).
size_t gguf_type_size(GgufType t);

// A scalar or a one-level array. Scalars are stored as arrays of length 1 in the matching vector:
// integers and booleans in `ints`, floats in `floats`, strings in `strings`.
struct GgufValue {
  GgufType type = GgufType::kU32;  // kArray for arrays
  GgufType elem = GgufType::kU32;  // element type (the scalar's own type for scalars)
  std::vector<int64_t> ints;       // u64 values are stored bit for bit
  std::vector<double> floats;
  std::vector<std::string> strings;

  static GgufValue u32(uint32_t v);
  static GgufValue i32(int32_t v);
  static GgufValue u64(uint64_t v);
  static GgufValue f32(float v);
  static GgufValue boolean(bool v);
  static GgufValue string(const std::string& v);
  static GgufValue string_array(std::vector<std::string> v);
  static GgufValue i32_array(const std::vector<int32_t>& v);
  static GgufValue f32_array(const std::vector<float>& v);

  bool is_array() const { return type == GgufType::kArray; }
  size_t size() const;  // number of elements (1 for scalars)
  // Scalar accessors; they throw Error naming `key` when the value is not of a fitting kind.
  int64_t as_int(const std::string& key) const;
  double as_float(const std::string& key) const;
  bool as_bool(const std::string& key) const;
  const std::string& as_string(const std::string& key) const;
};

// ---- tensor types (ggml_type)

enum class GgmlType : uint32_t {
  kF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ5_0 = 6, kQ5_1 = 7, kQ8_0 = 8, kQ8_1 = 9,
  kI8 = 24, kI16 = 25, kI32 = 26, kI64 = 27, kF64 = 28, kBF16 = 30,
};
const char* ggml_type_name(GgmlType t);  // "F32", "F16", ...; "unknown" otherwise
// Block size (elements) and bytes per block; false for a type this reader does not know.
bool ggml_type_layout(uint32_t t, uint64_t* block_elems, uint64_t* block_bytes);

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr uint32_t kGgufVersion = 3;
constexpr uint32_t kGgufDefaultAlignment = 32;

}  // namespace steper
