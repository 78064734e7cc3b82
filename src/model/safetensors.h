// safetensors files (torch-free): memory-mapped reading with the header validated exactly as the
// specification says, writing, and sharded checkpoints (model.safetensors.index.json).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace steper {

enum class DType { kF32, kF16, kBF16, kI64, kI32, kU8, kBool, kF64, kI8, kI16, kU16, kU32, kU64, kF8E4M3, kF8E5M2 };
size_t dtype_size(DType t);
const char* dtype_name(DType t);  // safetensors spelling: "F32", "F16", "BF16", ...
// The DType for a safetensors spelling; false when the spelling is unknown.
bool dtype_from_name(const std::string& name, DType* out);

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // valid while the owning file is open
  size_t nbytes = 0;
};

class SafetensorsFile {
 public:
  // Throws Error naming the path (and tensor) for any header or layout violation.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);
  virtual ~SafetensorsFile() = default;
  virtual const std::vector<TensorView>& tensors() const = 0;
  virtual const std::map<std::string, std::string>& metadata() const = 0;
};

// All tensors of a model folder: model.safetensors, or the shards listed by model.safetensors.index.json.
class ModelWeights {
 public:
  static std::unique_ptr<ModelWeights> open_dir(const std::string& dir);
  virtual ~ModelWeights() = default;
  virtual const TensorView* find(const std::string& name) const = 0;  // nullptr when absent
  virtual std::vector<const TensorView*> all() const = 0;
};

// The index of the first NaN or infinite element of a floating-point tensor (F32, F16, BF16, F64), or -1
// when there is none (and for other dtypes).
int64_t tensor_first_nonfinite(const TensorView& t);
// Throws Error "WHERE: tensor "NAME" holds NaN at element I ..." when tensor_first_nonfinite finds one.
void tensor_check_finite(const TensorView& t, const std::string& where);

// Writes one safetensors file atomically (tensors in the given order, header 8-byte aligned).
void safetensors_write(const std::string& path, const std::vector<TensorView>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// float32 <-> float16 / bfloat16 conversions (round to nearest even).
uint16_t f32_to_f16(float f);
float f16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);
float bf16_to_f32(uint16_t h);

}  // namespace steper
