#include "gguf/gguf_writer.h"

#include <cstring>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"

namespace steper {

// ---- little-endian encoding (GGUF is little-endian; so are the machines steper runs on)

namespace {

template <typename T>
void put(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out.append(s);
}

void put_element(std::string& out, GgufType t, const GgufValue& v, size_t i) {
  switch (t) {
    case GgufType::kU8: put<uint8_t>(out, static_cast<uint8_t>(v.ints[i])); break;
    case GgufType::kI8: put<int8_t>(out, static_cast<int8_t>(v.ints[i])); break;
    case GgufType::kU16: put<uint16_t>(out, static_cast<uint16_t>(v.ints[i])); break;
    case GgufType::kI16: put<int16_t>(out, static_cast<int16_t>(v.ints[i])); break;
    case GgufType::kU32: put<uint32_t>(out, static_cast<uint32_t>(v.ints[i])); break;
    case GgufType::kI32: put<int32_t>(out, static_cast<int32_t>(v.ints[i])); break;
    case GgufType::kU64: put<uint64_t>(out, static_cast<uint64_t>(v.ints[i])); break;
    case GgufType::kI64: put<int64_t>(out, v.ints[i]); break;
    case GgufType::kBool: put<uint8_t>(out, v.ints[i] ? 1 : 0); break;
    case GgufType::kF32: put<float>(out, static_cast<float>(v.floats[i])); break;
    case GgufType::kF64: put<double>(out, v.floats[i]); break;
    case GgufType::kString: put_string(out, v.strings[i]); break;
    case GgufType::kArray: throw Error("GGUF: nested arrays are not supported");
  }
}

void put_value(std::string& out, const std::string& key, const GgufValue& v) {
  if (v.is_array()) {
    if (v.elem == GgufType::kArray) throw Error("GGUF key " + key + ": nested arrays are not supported");
    put<uint32_t>(out, static_cast<uint32_t>(GgufType::kArray));
    put<uint32_t>(out, static_cast<uint32_t>(v.elem));
    put<uint64_t>(out, v.size());
    for (size_t i = 0; i < v.size(); ++i) put_element(out, v.elem, v, i);
  } else {
    if (v.size() != 1) throw Error("GGUF key " + key + ": a scalar needs exactly one value");
    put<uint32_t>(out, static_cast<uint32_t>(v.elem));
    put_element(out, v.elem, v, 0);
  }
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

uint64_t gguf_tensor_nbytes(GgmlType type, const std::vector<uint64_t>& shape) {
  uint64_t block_elems = 0, block_bytes = 0;
  if (!ggml_type_layout(static_cast<uint32_t>(type), &block_elems, &block_bytes))
    throw Error("GGUF: unknown tensor type " + std::to_string(static_cast<uint32_t>(type)));
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  if (!shape.empty() && shape.back() % block_elems != 0)
    throw Error(std::string("GGUF: innermost dimension is not a multiple of the ") + ggml_type_name(type) +
                " block size");
  return n / block_elems * block_bytes;
}

// ---- writer

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw Error("GGUF: alignment must be a power of two, got " + std::to_string(alignment));
}

void GgufWriter::add_kv(const std::string& key, GgufValue value) {
  for (const auto& kv : kv_)
    if (kv.first == key) throw Error("GGUF: metadata key " + key + " added twice");
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(GgufTensorSpec spec) {
  for (const auto& t : tensors_)
    if (t.name == spec.name) throw Error("GGUF: tensor " + spec.name + " added twice");
  if (spec.shape.empty() || spec.shape.size() > 4)
    throw Error("GGUF: tensor " + spec.name + " needs 1 to 4 dimensions");
  gguf_tensor_nbytes(spec.type, spec.shape);  // validates the type and block size
  tensors_.push_back(std::move(spec));
}

std::string GgufWriter::header_bytes(std::vector<uint64_t>* offsets) const {
  std::vector<std::pair<std::string, GgufValue>> kv = kv_;
  bool has_alignment = false;
  for (const auto& p : kv) has_alignment = has_alignment || p.first == "general.alignment";
  if (!has_alignment && alignment_ != kGgufDefaultAlignment)
    kv.emplace_back("general.alignment", GgufValue::u32(alignment_));

  std::string out;
  put<uint32_t>(out, kGgufMagic);
  put<uint32_t>(out, kGgufVersion);
  put<uint64_t>(out, tensors_.size());
  put<uint64_t>(out, kv.size());
  for (const auto& p : kv) {
    put_string(out, p.first);
    put_value(out, p.first, p.second);
  }
  uint64_t offset = 0;
  offsets->clear();
  for (const auto& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.shape.size()));
    for (size_t i = t.shape.size(); i-- > 0;) put<uint64_t>(out, t.shape[i]);
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, offset);
    offsets->push_back(offset);
    offset = align_up(offset + gguf_tensor_nbytes(t.type, t.shape), alignment_);
  }
  out.resize(align_up(out.size(), alignment_), '\0');
  return out;
}

void GgufWriter::write(const std::string& path, Progress* progress) const {
  std::vector<uint64_t> offsets;
  std::string header = header_bytes(&offsets);
  AtomicFile out(path);
  out.write(header);
  uint64_t written = 0;
  std::vector<uint8_t> buf;
  const char zeros[64] = {0};
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const GgufTensorSpec& t = tensors_[i];
    uint64_t want = gguf_tensor_nbytes(t.type, t.shape);
    buf.clear();
    t.produce(buf);
    if (buf.size() != want)
      throw Error(path + ": tensor " + t.name + " produced " + std::to_string(buf.size()) + " bytes, expected " +
                  std::to_string(want));
    if (written != offsets[i]) throw Error(path + ": internal offset mismatch at tensor " + t.name);
    out.write(buf.data(), buf.size());
    written += buf.size();
    uint64_t pad = align_up(written, alignment_) - written;
    while (pad > 0) {
      size_t n = pad < sizeof(zeros) ? static_cast<size_t>(pad) : sizeof(zeros);
      out.write(zeros, n);
      pad -= n;
    }
    written = align_up(written, alignment_);
    if (progress) progress->add(1, t.name);
  }
  out.commit();
}

}  // namespace steper
