// Reads GGUF files (v2 and v3) through a read-only memory map, validating every length, type, offset and
// alignment against the file size. Used to verify exported files and in tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf_value.h"

namespace steper {

struct GgufTensorInfo {
  std::string name;
  uint32_t type = 0;             // ggml_type id (GgmlType)
  std::vector<uint64_t> ne;      // dimensions as stored: ne[0] is the innermost
  uint64_t offset = 0;           // relative to the start of the tensor data section
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr; // valid while the GgufFile is open

  std::vector<uint64_t> shape() const;  // row-major (outermost first): ne reversed
  uint64_t n_elements() const;
};

class GgufFile {
 public:
  // Throws Error naming the path, the byte offset and what is wrong.
  static std::unique_ptr<GgufFile> open(const std::string& path);
  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute offset of the tensor data section
  uint64_t file_size() const { return size_; }

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;  // nullptr when absent
  const GgufValue& get(const std::string& key) const;   // throws Error naming the file and key
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;  // nullptr when absent

  // The tensor's values as float32 (F32, F16 and BF16 tensors); throws Error for other types.
  std::vector<float> tensor_f32(const GgufTensorInfo& t) const;

 private:
  GgufFile() = default;
  std::string path_;
  uint32_t version_ = 0, alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0, size_ = 0;
  void* map_ = nullptr;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<GgufTensorInfo> tensors_;
};

// IEEE half and bfloat16 to float32.
float gguf_f16_to_f32(uint16_t h);
float gguf_bf16_to_f32(uint16_t h);

}  // namespace steper
