#include "gguf/gguf_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "core/error.h"

namespace steper {

// ---- bounds-checked cursor over the mapped bytes

namespace {

class Cursor {
 public:
  Cursor(const std::string& path, const uint8_t* base, uint64_t size) : path_(path), base_(base), size_(size) {}
  uint64_t pos() const { return pos_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_ + ": offset " + std::to_string(pos_) + ": " + what);
  }
  void need(uint64_t n, const char* what) const {
    if (n > size_ - pos_)
      fail(std::string("truncated file: ") + what + " needs " + std::to_string(n) + " bytes, " +
           std::to_string(size_ - pos_) + " left");
  }
  template <typename T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_string(const char* what) {
    uint64_t n = get<uint64_t>(what);
    need(n, what);
    std::string s(reinterpret_cast<const char*>(base_ + pos_), static_cast<size_t>(n));
    pos_ += n;
    return s;
  }

 private:
  std::string path_;
  const uint8_t* base_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

void read_element(Cursor& c, GgufType t, GgufValue& v) {
  switch (t) {
    case GgufType::kU8: v.ints.push_back(c.get<uint8_t>("uint8 value")); break;
    case GgufType::kI8: v.ints.push_back(c.get<int8_t>("int8 value")); break;
    case GgufType::kU16: v.ints.push_back(c.get<uint16_t>("uint16 value")); break;
    case GgufType::kI16: v.ints.push_back(c.get<int16_t>("int16 value")); break;
    case GgufType::kU32: v.ints.push_back(c.get<uint32_t>("uint32 value")); break;
    case GgufType::kI32: v.ints.push_back(c.get<int32_t>("int32 value")); break;
    case GgufType::kU64: v.ints.push_back(static_cast<int64_t>(c.get<uint64_t>("uint64 value"))); break;
    case GgufType::kI64: v.ints.push_back(c.get<int64_t>("int64 value")); break;
    case GgufType::kF32: v.floats.push_back(c.get<float>("float32 value")); break;
    case GgufType::kF64: v.floats.push_back(c.get<double>("float64 value")); break;
    case GgufType::kBool: {
      uint8_t b = c.get<uint8_t>("bool value");
      if (b > 1) c.fail("bool value " + std::to_string(b) + " is neither 0 nor 1");
      v.ints.push_back(b);
      break;
    }
    case GgufType::kString: v.strings.push_back(c.get_string("string value")); break;
    case GgufType::kArray: c.fail("nested arrays are not supported");
  }
}

GgufValue read_value(Cursor& c, const std::string& key) {
  uint32_t t = c.get<uint32_t>("value type");
  if (!gguf_type_valid(t)) c.fail("key " + key + ": unknown value type " + std::to_string(t));
  GgufValue v;
  v.type = static_cast<GgufType>(t);
  v.elem = v.type;
  if (v.type != GgufType::kArray) {
    read_element(c, v.type, v);
    return v;
  }
  uint32_t et = c.get<uint32_t>("array element type");
  if (!gguf_type_valid(et)) c.fail("key " + key + ": unknown array element type " + std::to_string(et));
  if (static_cast<GgufType>(et) == GgufType::kArray) c.fail("key " + key + ": nested arrays are not supported");
  v.elem = static_cast<GgufType>(et);
  uint64_t n = c.get<uint64_t>("array length");
  // Each element takes at least one byte (a string at least eight): a length past the file is corrupt.
  uint64_t min_bytes = v.elem == GgufType::kString ? 8 : gguf_type_size(v.elem);
  c.need(n > 0 ? n * min_bytes : 0, "array elements");
  for (uint64_t i = 0; i < n; ++i) read_element(c, v.elem, v);
  return v;
}

}  // namespace

// ---- GgufTensorInfo

std::vector<uint64_t> GgufTensorInfo::shape() const { return std::vector<uint64_t>(ne.rbegin(), ne.rend()); }

uint64_t GgufTensorInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;
  return n;
}

// ---- GgufFile

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw Error(path + ": cannot stat: " + std::strerror(errno));
  }
  std::unique_ptr<GgufFile> g(new GgufFile());
  g->path_ = path;
  g->size_ = static_cast<uint64_t>(st.st_size);
  if (g->size_ > 0) {
    g->map_ = ::mmap(nullptr, g->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (g->map_ == MAP_FAILED) {
      g->map_ = nullptr;
      ::close(fd);
      throw Error(path + ": cannot map: " + std::strerror(errno));
    }
  }
  ::close(fd);
  const uint8_t* base = static_cast<const uint8_t*>(g->map_);
  Cursor c(path, base, g->size_);

  uint32_t magic = c.get<uint32_t>("magic");
  if (magic != kGgufMagic) throw Error(path + ": not a GGUF file (the first four bytes are not \"GGUF\")");
  g->version_ = c.get<uint32_t>("version");
  if (g->version_ != 2 && g->version_ != 3)
    throw Error(path + ": GGUF version " + std::to_string(g->version_) + " is not supported (2 and 3 are)");
  uint64_t n_tensors = c.get<uint64_t>("tensor count");
  uint64_t n_kv = c.get<uint64_t>("metadata count");
  // Each key/value takes at least 12 bytes and each tensor info at least 24: bound the counts by the size.
  if (n_kv > g->size_ / 12) c.fail("metadata count " + std::to_string(n_kv) + " is larger than the file allows");
  if (n_tensors > g->size_ / 24) c.fail("tensor count " + std::to_string(n_tensors) + " is larger than the file allows");

  std::set<std::string> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.get_string("metadata key");
    if (!keys.insert(key).second) c.fail("metadata key " + key + " appears twice");
    GgufValue v = read_value(c, key);
    g->kv_.emplace_back(std::move(key), std::move(v));
  }
  if (const GgufValue* a = g->find("general.alignment")) {
    if (a->is_array() || a->elem != GgufType::kU32)
      throw Error(path + ": general.alignment must be a uint32");
    uint64_t al = static_cast<uint64_t>(a->ints[0]);
    if (al == 0 || (al & (al - 1)) != 0)
      throw Error(path + ": general.alignment " + std::to_string(al) + " is not a power of two");
    g->alignment_ = static_cast<uint32_t>(al);
  }

  std::set<std::string> names;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = c.get_string("tensor name");
    if (!names.insert(t.name).second) c.fail("tensor " + t.name + " appears twice");
    uint32_t n_dims = c.get<uint32_t>("tensor dimension count");
    if (n_dims == 0 || n_dims > 4) c.fail("tensor " + t.name + ": " + std::to_string(n_dims) + " dimensions (1 to 4 allowed)");
    for (uint32_t d = 0; d < n_dims; ++d) t.ne.push_back(c.get<uint64_t>("tensor dimension"));
    t.type = c.get<uint32_t>("tensor type");
    t.offset = c.get<uint64_t>("tensor offset");
    uint64_t block_elems = 0, block_bytes = 0;
    if (!ggml_type_layout(t.type, &block_elems, &block_bytes))
      c.fail("tensor " + t.name + ": unknown tensor type " + std::to_string(t.type));
    uint64_t n = 1;
    for (uint64_t d : t.ne) {
      if (d == 0 || n > (uint64_t(1) << 62) / d) c.fail("tensor " + t.name + ": bad dimensions");
      n *= d;
    }
    if (t.ne[0] % block_elems != 0)
      c.fail("tensor " + t.name + ": innermost dimension " + std::to_string(t.ne[0]) + " is not a multiple of the " +
             ggml_type_name(static_cast<GgmlType>(t.type)) + " block size");
    t.nbytes = n / block_elems * block_bytes;
    if (t.offset % g->alignment_ != 0)
      c.fail("tensor " + t.name + ": offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
             std::to_string(g->alignment_));
    g->tensors_.push_back(std::move(t));
  }
  g->data_offset_ = (c.pos() + g->alignment_ - 1) / g->alignment_ * g->alignment_;
  if (n_tensors > 0 && g->data_offset_ > g->size_)
    throw Error(path + ": truncated file: the tensor data section starts past the end");
  for (GgufTensorInfo& t : g->tensors_) {
    uint64_t room = g->size_ - g->data_offset_;
    if (t.offset > room || t.nbytes > room - t.offset)
      throw Error(path + ": tensor " + t.name + ": data (offset " + std::to_string(t.offset) + ", " +
                  std::to_string(t.nbytes) + " bytes) runs past the end of the file");
    t.data = base + g->data_offset_ + t.offset;
  }
  return g;
}

GgufFile::~GgufFile() {
  if (map_) ::munmap(map_, size_);
}

const GgufValue* GgufFile::find(const std::string& key) const {
  for (const auto& kv : kv_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

const GgufValue& GgufFile::get(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) throw Error(path_ + ": metadata key " + key + " is missing");
  return *v;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return &t;
  return nullptr;
}

std::vector<float> GgufFile::tensor_f32(const GgufTensorInfo& t) const {
  uint64_t n = t.n_elements();
  std::vector<float> out(static_cast<size_t>(n));
  if (t.type == static_cast<uint32_t>(GgmlType::kF32)) {
    std::memcpy(out.data(), t.data, n * 4);
  } else if (t.type == static_cast<uint32_t>(GgmlType::kF16) || t.type == static_cast<uint32_t>(GgmlType::kBF16)) {
    bool half = t.type == static_cast<uint32_t>(GgmlType::kF16);
    for (uint64_t i = 0; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      out[i] = half ? gguf_f16_to_f32(h) : gguf_bf16_to_f32(h);
    }
  } else {
    throw Error(path_ + ": tensor " + t.name + ": type " + ggml_type_name(static_cast<GgmlType>(t.type)) +
                " cannot be read as float32");
  }
  return out;
}

// ---- half precision

float gguf_f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      bits = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float gguf_bf16_to_f32(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace steper
