// Writes GGUF v3 files: header, metadata, tensor infos, aligned tensor data. Tensor bytes are produced one
// tensor at a time while writing, so a model never has to fit in memory twice.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf_value.h"

namespace steper {

class Progress;

struct GgufTensorSpec {
  std::string name;
  GgmlType type = GgmlType::kF32;
  // Row-major shape (outermost first, as PyTorch and safetensors write it). The file stores the
  // dimensions reversed (ne[0] is the innermost, contiguous one), as the specification says.
  std::vector<uint64_t> shape;
  // Fills `out` with exactly gguf_tensor_nbytes(type, shape) bytes; called once, in order, while writing.
  std::function<void(std::vector<uint8_t>& out)> produce;
};

// Bytes of a tensor of this type and row-major shape (the innermost dimension must fill whole blocks).
uint64_t gguf_tensor_nbytes(GgmlType type, const std::vector<uint64_t>& shape);

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment);

  // Keys and tensors are written in the order added; a repeated key or tensor name throws Error.
  void add_kv(const std::string& key, GgufValue value);
  void add_tensor(GgufTensorSpec spec);

  // Writes to path + ".tmp-<pid>" and renames it to path at the end; on any failure the temporary file
  // is removed and nothing is left at path. Throws Error naming the path.
  void write(const std::string& path, Progress* progress = nullptr) const;

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const std::vector<GgufTensorSpec>& tensors() const { return tensors_; }

 private:
  std::string header_bytes(std::vector<uint64_t>* offsets) const;
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<GgufTensorSpec> tensors_;
};

}  // namespace steper
