// Hugging Face model folder (Llama or Qwen2, safetensors, byte-level BPE tokenizer.json) -> GGUF v3 file that
// llama.cpp loads, with the names, metadata and tensor layout of llama.cpp's own converter
// (convert_hf_to_gguf.py).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace steper {

class Progress;

struct GgufExportOptions {
  std::string type = "f32";  // "f32", or "f16" (matrices in F16; norms, biases and rope factors stay F32)
  std::string name;          // general.name; empty = the folder's name
};

struct GgufExportSummary {
  std::string architecture;  // "llama" or "qwen2"
  std::string pre_tokenizer; // tokenizer.ggml.pre
  size_t n_tensors = 0;
  size_t n_vocab = 0;
  uint64_t file_bytes = 0;
};

// Writes out_path atomically. Everything is validated before the file is created: a model GGUF cannot
// express (architecture, tokenizer, rope scaling, dtype) throws Error naming the file and field, and
// leaves no file behind.
GgufExportSummary gguf_export(const std::string& model_dir, const std::string& out_path,
                              const GgufExportOptions& opts = {}, Progress* progress = nullptr);

// Reorders the rows of a Q or K projection (weight [n_head * head_dim, cols] or bias [n_head * head_dim],
// cols = 1) from Hugging Face's rotate-half rotary layout to llama.cpp's interleaved-pair layout:
// out row h*hd + 2j + s = in row h*hd + s*hd/2 + j (LlamaModel.permute in convert_hf_to_gguf.py).
void gguf_permute_rows_for_rope(const float* in, float* out, int64_t n_head, int64_t head_dim, int64_t cols);

}  // namespace steper
