#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"

namespace steper {

// ---------------------------------------------------------------------------------------------
// dtypes

namespace {
struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};
const DTypeInfo kDTypes[] = {
    {DType::kF32, "F32", 4},   {DType::kF16, "F16", 2},         {DType::kBF16, "BF16", 2},
    {DType::kI64, "I64", 8},   {DType::kI32, "I32", 4},         {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1}, {DType::kF64, "F64", 8},         {DType::kI8, "I8", 1},
    {DType::kI16, "I16", 2},   {DType::kU16, "U16", 2},         {DType::kU32, "U32", 4},
    {DType::kU64, "U64", 8},   {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E5M2, "F8_E5M2", 1},
};
}  // namespace

size_t dtype_size(DType t) {
  for (const auto& d : kDTypes)
    if (d.dtype == t) return d.size;
  return 0;
}

const char* dtype_name(DType t) {
  for (const auto& d : kDTypes)
    if (d.dtype == t) return d.name;
  return "?";
}

bool dtype_from_name(const std::string& name, DType* out) {
  for (const auto& d : kDTypes)
    if (name == d.name) {
      *out = d.dtype;
      return true;
    }
  return false;
}

// ---------------------------------------------------------------------------------------------
// float16 / bfloat16

namespace {
uint32_t float_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  return x;
}
float bits_float(uint32_t x) {
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}
}  // namespace

uint16_t f32_to_f16(float f) {
  uint32_t x = float_bits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t exp = (x >> 23) & 0xffu;
  uint32_t mant = x & 0x7fffffu;
  if (exp == 0xff) return static_cast<uint16_t>(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0u));
  int e = static_cast<int>(exp) - 127 + 15;
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) {
    // Subnormal half: the value in units of 2^-24 is m >> (14 - e), rounded to nearest even.
    int shift = 14 - e;
    if (shift > 24) return static_cast<uint16_t>(sign);
    uint32_t m = mant | 0x800000u;
    uint32_t result = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (result & 1u))) ++result;
    return static_cast<uint16_t>(sign | result);
  }
  uint32_t result = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (result & 1u))) ++result;  // a carry may reach infinity
  return static_cast<uint16_t>(sign | result);
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    if (mant == 0) return bits_float(sign);
    // subnormal: normalise
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    mant &= 0x3ffu;
    return bits_float(sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | (mant << 13));
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));
  return bits_float(sign | ((exp - 15 + 127) << 23) | (mant << 13));
}

uint16_t f32_to_bf16(float f) {
  uint32_t x = float_bits(f);
  if ((x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu)) return static_cast<uint16_t>((x >> 16) | 0x40u);
  uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

float bf16_to_f32(uint16_t h) { return bits_float(static_cast<uint32_t>(h) << 16); }

// ---------------------------------------------------------------------------------------------
// non-finite values

namespace {
// Index of the first element whose exponent bits (mask) are all set, or -1.
template <typename Bits>
int64_t first_all_ones(const uint8_t* data, size_t n, Bits mask) {
  for (size_t i = 0; i < n; ++i) {
    Bits b;
    std::memcpy(&b, data + i * sizeof(Bits), sizeof(Bits));
    if ((b & mask) == mask) return static_cast<int64_t>(i);
  }
  return -1;
}
}  // namespace

int64_t tensor_first_nonfinite(const TensorView& t) {
  switch (t.dtype) {
    case DType::kF32: return first_all_ones<uint32_t>(t.data, t.nbytes / 4, 0x7f800000u);
    case DType::kF16: return first_all_ones<uint16_t>(t.data, t.nbytes / 2, 0x7c00u);
    case DType::kBF16: return first_all_ones<uint16_t>(t.data, t.nbytes / 2, 0x7f80u);
    case DType::kF64: return first_all_ones<uint64_t>(t.data, t.nbytes / 8, 0x7ff0000000000000ull);
    default: return -1;
  }
}

void tensor_check_finite(const TensorView& t, const std::string& where) {
  int64_t i = tensor_first_nonfinite(t);
  if (i < 0) return;
  double v = 0;
  switch (t.dtype) {
    case DType::kF32: {
      float f;
      std::memcpy(&f, t.data + 4 * i, 4);
      v = f;
      break;
    }
    case DType::kF16: v = f16_to_f32(static_cast<uint16_t>(t.data[2 * i] | (t.data[2 * i + 1] << 8))); break;
    case DType::kBF16: v = bf16_to_f32(static_cast<uint16_t>(t.data[2 * i] | (t.data[2 * i + 1] << 8))); break;
    default: std::memcpy(&v, t.data + 8 * i, 8);
  }
  throw Error(where + ": tensor \"" + t.name + "\" holds " + (std::isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf") +
              " at element " + std::to_string(i) + ": the weights are damaged (a diverged training run?)");
}

// ---------------------------------------------------------------------------------------------
// reading one file

namespace {

constexpr uint64_t kMaxHeaderBytes = 100000000;  // the reference implementation's limit

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

bool json_to_u64(const nlohmann::json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

class MappedSafetensors : public SafetensorsFile {
 public:
  explicit MappedSafetensors(const std::string& path) : path_(path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot open: " + std::strerror(errno));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw Error(path + ": not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ < 8) {
      ::close(fd);
      throw Error(path + ": not a safetensors file: " + std::to_string(size_) +
                  " bytes, expected at least the 8-byte header size");
    }
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    int map_errno = errno;
    ::close(fd);  // the mapping stays valid
    if (p == MAP_FAILED) throw Error(path + ": cannot map: " + std::strerror(map_errno));
    base_ = static_cast<const uint8_t*>(p);
    try {
      parse();
    } catch (...) {
      release();
      throw;
    }
  }

  ~MappedSafetensors() override { release(); }

  const std::vector<TensorView>& tensors() const override { return tensors_; }
  const std::map<std::string, std::string>& metadata() const override { return metadata_; }

 private:
  void release() {
    if (base_) ::munmap(const_cast<uint8_t*>(base_), size_);
    base_ = nullptr;
  }

  Error fail(const std::string& what) const { return Error(path_ + ": invalid safetensors header: " + what); }

  void parse() {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | base_[i];  // little-endian
    if (n > kMaxHeaderBytes) throw fail("header size " + std::to_string(n) + " exceeds the limit of " +
                                        std::to_string(kMaxHeaderBytes) + " bytes");
    if (n > size_ - 8)
      throw fail("header size " + std::to_string(n) + " exceeds the file (" + std::to_string(size_ - 8) +
                 " bytes after the size field)");
    if (n == 0 || base_[8] != '{') throw fail("expected the JSON header to start with '{'");
    std::string text(reinterpret_cast<const char*>(base_ + 8), static_cast<size_t>(n));

    // Duplicate names are ambiguous: reject them (nlohmann would silently keep one).
    std::set<std::string> seen;
    std::string duplicate;
    nlohmann::json header;
    try {
      header = nlohmann::json::parse(text, [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& v) {
        if (depth == 1 && event == nlohmann::json::parse_event_t::key && v.is_string()) {
          if (!seen.insert(v.get<std::string>()).second && duplicate.empty()) duplicate = v.get<std::string>();
        }
        return true;
      });
    } catch (const nlohmann::json::exception& e) {
      throw fail(std::string("malformed JSON: ") + e.what());
    }
    if (!duplicate.empty()) throw fail("tensor \"" + duplicate + "\" appears twice");
    if (!header.is_object()) throw fail("expected a JSON object");

    data_ = base_ + 8 + n;
    const uint64_t data_size = size_ - 8 - n;
    struct Span {
      uint64_t begin, end;
      size_t index;
    };
    std::vector<Span> spans;
    for (auto it = header.begin(); it != header.end(); ++it) {
      const std::string& name = it.key();
      const nlohmann::json& v = it.value();
      if (name == "__metadata__") {
        if (!v.is_object()) throw fail("__metadata__ must be an object of strings");
        for (auto m = v.begin(); m != v.end(); ++m) {
          if (!m.value().is_string())
            throw fail("__metadata__ field \"" + m.key() + "\" must be a string, got " + m.value().type_name());
          metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      const std::string where = "tensor \"" + name + "\": ";
      if (!v.is_object()) throw fail(where + "expected an object with dtype, shape, data_offsets");
      auto dt = v.find("dtype");
      if (dt == v.end() || !dt->is_string()) throw fail(where + "missing string field \"dtype\"");
      TensorView t;
      t.name = name;
      if (!dtype_from_name(dt->get<std::string>(), &t.dtype))
        throw fail(where + "unknown dtype \"" + dt->get<std::string>() + "\"");
      auto sh = v.find("shape");
      if (sh == v.end() || !sh->is_array()) throw fail(where + "missing array field \"shape\"");
      uint64_t numel = 1;
      bool overflow = false;
      for (const auto& d : *sh) {
        uint64_t dim;
        if (!json_to_u64(d, &dim) || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          throw fail(where + "shape entries must be non-negative integers, got " + d.dump());
        t.shape.push_back(static_cast<int64_t>(dim));
        if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / dim) overflow = true;
        numel *= dim;
      }
      auto off = v.find("data_offsets");
      uint64_t begin = 0, end = 0;
      if (off == v.end() || !off->is_array() || off->size() != 2 || !json_to_u64((*off)[0], &begin) ||
          !json_to_u64((*off)[1], &end))
        throw fail(where + "expected \"data_offsets\": [begin, end] with non-negative integers");
      if (end < begin)
        throw fail(where + "data_offsets [" + std::to_string(begin) + "," + std::to_string(end) +
                   "] end before begin");
      if (end > data_size)
        throw fail(where + "data_offsets end " + std::to_string(end) + " beyond the data area of " +
                   std::to_string(data_size) + " bytes");
      size_t esize = dtype_size(t.dtype);
      if (!overflow && numel > std::numeric_limits<uint64_t>::max() / esize) overflow = true;
      if (overflow || numel * esize != end - begin)
        throw fail(where + dtype_name(t.dtype) + " shape " + shape_string(t.shape) + " needs " +
                   (overflow ? std::string("more than 2^64") : std::to_string(numel * esize)) +
                   " bytes but data_offsets [" + std::to_string(begin) + "," + std::to_string(end) + "] hold " +
                   std::to_string(end - begin));
      t.data = data_ + begin;
      t.nbytes = static_cast<size_t>(end - begin);
      spans.push_back({begin, end, tensors_.size()});
      tensors_.push_back(std::move(t));
    }

    // The tensors must tile the data area exactly: no overlap, no hole, nothing left over.
    std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t pos = 0;
    for (const Span& s : spans) {
      const std::string& name = tensors_[s.index].name;
      if (s.begin < pos)
        throw fail("tensor \"" + name + "\": data_offsets [" + std::to_string(s.begin) + "," +
                   std::to_string(s.end) + "] overlap the previous tensor, which ends at " + std::to_string(pos));
      if (s.begin > pos)
        throw fail("tensor \"" + name + "\": data_offsets begin " + std::to_string(s.begin) +
                   " leaves a hole after byte " + std::to_string(pos) + " of the data area");
      pos = s.end;
    }
    if (pos != data_size)
      throw fail("the tensors cover " + std::to_string(pos) + " bytes but the data area has " +
                 std::to_string(data_size) + " bytes");
  }

  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  const uint8_t* data_ = nullptr;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  return std::make_unique<MappedSafetensors>(path);
}

// ---------------------------------------------------------------------------------------------
// model folders

namespace {

class FolderWeights : public ModelWeights {
 public:
  explicit FolderWeights(const std::string& dir) {
    namespace fs = std::filesystem;
    if (!fs::is_directory(dir)) throw Error(dir + ": not a model folder (no such directory)");
    const std::string index_path = (fs::path(dir) / "model.safetensors.index.json").string();
    const std::string single_path = (fs::path(dir) / "model.safetensors").string();
    if (fs::exists(index_path)) {
      open_sharded(dir, index_path);
    } else if (fs::exists(single_path)) {
      add_file(single_path, nullptr);
    } else {
      throw Error(dir + ": no model.safetensors or model.safetensors.index.json");
    }
  }

  const TensorView* find(const std::string& name) const override {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }

  std::vector<const TensorView*> all() const override {
    std::vector<const TensorView*> out;
    for (const auto& f : files_)
      for (const auto& t : f->tensors()) out.push_back(&t);
    return out;
  }

 private:
  void open_sharded(const std::string& dir, const std::string& index_path) {
    nlohmann::json index = read_json(index_path);
    const nlohmann::json& map = json_field(index, "weight_map", index_path);
    if (!map.is_object()) throw Error(index_path + ": field \"weight_map\" must be an object");
    std::map<std::string, std::vector<std::string>> by_shard;
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (!it.value().is_string())
        throw Error(index_path + ": weight_map entry \"" + it.key() + "\" must be a file name");
      std::string shard = it.value().get<std::string>();
      if (shard.empty() || shard.find('/') != std::string::npos || shard == "..")
        throw Error(index_path + ": weight_map entry \"" + it.key() + "\" names a bad shard \"" + shard + "\"");
      by_shard[shard].push_back(it.key());
    }
    for (const auto& [shard, names] : by_shard) {
      std::string path = (std::filesystem::path(dir) / shard).string();
      if (!std::filesystem::exists(path))
        throw Error(index_path + ": shard " + shard + " (holding \"" + names.front() + "\") is missing: " + path);
      std::set<std::string> expected(names.begin(), names.end());
      add_file(path, &expected);
    }
  }

  // expected: the names the index assigns to this file (nullptr: no index).
  void add_file(const std::string& path, const std::set<std::string>* expected) {
    files_.push_back(SafetensorsFile::open(path));
    for (const auto& t : files_.back()->tensors()) {
      if (!by_name_.emplace(t.name, &t).second)
        throw Error(path + ": tensor \"" + t.name + "\" also appears in another shard");
    }
    if (expected) {
      for (const auto& name : *expected)
        if (!by_name_.count(name))
          throw Error(path + ": tensor \"" + name + "\" is listed in model.safetensors.index.json but missing");
    }
  }

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*> by_name_;
};

}  // namespace

std::unique_ptr<ModelWeights> ModelWeights::open_dir(const std::string& dir) {
  return std::make_unique<FolderWeights>(dir);
}

// ---------------------------------------------------------------------------------------------
// writing

void safetensors_write(const std::string& path, const std::vector<TensorView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    if (t.name == "__metadata__") throw Error(path + ": a tensor cannot be named __metadata__");
    if (header.contains(t.name)) throw Error(path + ": tensor \"" + t.name + "\" given twice");
    uint64_t numel = 1;
    for (int64_t d : t.shape) {
      if (d < 0) throw Error(path + ": tensor \"" + t.name + "\" has a negative dimension");
      numel *= static_cast<uint64_t>(d);
    }
    if (numel * dtype_size(t.dtype) != t.nbytes)
      throw Error(path + ": tensor \"" + t.name + "\": " + dtype_name(t.dtype) + " shape " + shape_string(t.shape) +
                  " needs " + std::to_string(numel * dtype_size(t.dtype)) + " bytes, given " +
                  std::to_string(t.nbytes));
    header[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string text = header.dump();
  while ((text.size() % 8) != 0) text.push_back(' ');  // keeps the data area 8-byte aligned
  std::string prefix(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<char>((n >> (8 * i)) & 0xff);

  AtomicFile out(path);
  out.write(prefix);
  out.write(text);
  for (const auto& t : tensors)
    if (t.nbytes) out.write(t.data, t.nbytes);
  out.commit();
}

}  // namespace steper
