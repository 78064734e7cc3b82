#include "gguf/gguf_value.h"

#include "core/error.h"

namespace steper {

// ---- metadata value types

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kU8: return "uint8";
    case GgufType::kI8: return "int8";
    case GgufType::kU16: return "uint16";
    case GgufType::kI16: return "int16";
    case GgufType::kU32: return "uint32";
    case GgufType::kI32: return "int32";
    case GgufType::kF32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kU64: return "uint64";
    case GgufType::kI64: return "int64";
    case GgufType::kF64: return "float64";
  }
  return "unknown";
}

bool gguf_type_valid(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kF64); }

size_t gguf_type_size(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: return 8;
    case GgufType::kString: case GgufType::kArray: return 0;
  }
  return 0;
}

static GgufValue scalar(GgufType t) {
  GgufValue v;
  v.type = t;
  v.elem = t;
  return v;
}

GgufValue GgufValue::u32(uint32_t x) { GgufValue v = scalar(GgufType::kU32); v.ints = {x}; return v; }
GgufValue GgufValue::i32(int32_t x) { GgufValue v = scalar(GgufType::kI32); v.ints = {x}; return v; }
GgufValue GgufValue::u64(uint64_t x) {
  GgufValue v = scalar(GgufType::kU64);
  v.ints = {static_cast<int64_t>(x)};
  return v;
}
GgufValue GgufValue::f32(float x) { GgufValue v = scalar(GgufType::kF32); v.floats = {x}; return v; }
GgufValue GgufValue::boolean(bool x) { GgufValue v = scalar(GgufType::kBool); v.ints = {x ? 1 : 0}; return v; }
GgufValue GgufValue::string(const std::string& x) {
  GgufValue v = scalar(GgufType::kString);
  v.strings = {x};
  return v;
}
GgufValue GgufValue::string_array(std::vector<std::string> x) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem = GgufType::kString;
  v.strings = std::move(x);
  return v;
}
GgufValue GgufValue::i32_array(const std::vector<int32_t>& x) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem = GgufType::kI32;
  v.ints.assign(x.begin(), x.end());
  return v;
}
GgufValue GgufValue::f32_array(const std::vector<float>& x) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem = GgufType::kF32;
  v.floats.assign(x.begin(), x.end());
  return v;
}

size_t GgufValue::size() const {
  if (elem == GgufType::kString) return strings.size();
  if (elem == GgufType::kF32 || elem == GgufType::kF64) return floats.size();
  return ints.size();
}

static void require_scalar(const GgufValue& v, const std::string& key, const char* want) {
  if (v.is_array()) throw Error("GGUF key " + key + ": expected " + want + ", found an array");
}

int64_t GgufValue::as_int(const std::string& key) const {
  require_scalar(*this, key, "an integer");
  if (elem == GgufType::kString || elem == GgufType::kF32 || elem == GgufType::kF64 || ints.empty())
    throw Error("GGUF key " + key + ": expected an integer, found " + gguf_type_name(elem));
  return ints[0];
}

double GgufValue::as_float(const std::string& key) const {
  require_scalar(*this, key, "a float");
  if ((elem == GgufType::kF32 || elem == GgufType::kF64) && !floats.empty()) return floats[0];
  if (elem != GgufType::kString && elem != GgufType::kBool && !ints.empty()) return static_cast<double>(ints[0]);
  throw Error("GGUF key " + key + ": expected a float, found " + gguf_type_name(elem));
}

bool GgufValue::as_bool(const std::string& key) const {
  require_scalar(*this, key, "a bool");
  if (elem != GgufType::kBool || ints.empty())
    throw Error("GGUF key " + key + ": expected a bool, found " + gguf_type_name(elem));
  return ints[0] != 0;
}

const std::string& GgufValue::as_string(const std::string& key) const {
  require_scalar(*this, key, "a string");
  if (elem != GgufType::kString || strings.empty())
    throw Error("GGUF key " + key + ": expected a string, found " + gguf_type_name(elem));
  return strings[0];
}

// ---- tensor types

const char* ggml_type_name(GgmlType t) {
  switch (t) {
    case GgmlType::kF32: return "F32";
    case GgmlType::kF16: return "F16";
    case GgmlType::kQ4_0: return "Q4_0";
    case GgmlType::kQ4_1: return "Q4_1";
    case GgmlType::kQ5_0: return "Q5_0";
    case GgmlType::kQ5_1: return "Q5_1";
    case GgmlType::kQ8_0: return "Q8_0";
    case GgmlType::kQ8_1: return "Q8_1";
    case GgmlType::kI8: return "I8";
    case GgmlType::kI16: return "I16";
    case GgmlType::kI32: return "I32";
    case GgmlType::kI64: return "I64";
    case GgmlType::kF64: return "F64";
    case GgmlType::kBF16: return "BF16";
  }
  return "unknown";
}

bool ggml_type_layout(uint32_t t, uint64_t* block_elems, uint64_t* block_bytes) {
  uint64_t n = 1, b = 0;
  switch (static_cast<GgmlType>(t)) {
    case GgmlType::kF32: b = 4; break;
    case GgmlType::kF16: b = 2; break;
    case GgmlType::kBF16: b = 2; break;
    case GgmlType::kI8: b = 1; break;
    case GgmlType::kI16: b = 2; break;
    case GgmlType::kI32: b = 4; break;
    case GgmlType::kI64: b = 8; break;
    case GgmlType::kF64: b = 8; break;
    case GgmlType::kQ4_0: n = 32; b = 18; break;
    case GgmlType::kQ4_1: n = 32; b = 20; break;
    case GgmlType::kQ5_0: n = 32; b = 22; break;
    case GgmlType::kQ5_1: n = 32; b = 24; break;
    case GgmlType::kQ8_0: n = 32; b = 34; break;
    case GgmlType::kQ8_1: n = 32; b = 36; break;
    default: return false;
  }
  *block_elems = n;
  *block_bytes = b;
  return true;
}

}  // namespace steper
