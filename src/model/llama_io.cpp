// Llama model folders: config.json, safetensors weights (single file or shards), saving.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "model/llama.h"
#include "model/safetensors.h"

namespace steper {

// ---------------------------------------------------------------------------------------------
// loading

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Copies a stored tensor (F32, F16, BF16 or F64) into a float32 parameter of the same shape.
void tensor_copy_into(torch::Tensor& param, const TensorView& t, const std::string& where) {
  torch::ScalarType st;
  switch (t.dtype) {
    case DType::kF32: st = torch::kFloat; break;
    case DType::kF16: st = torch::kHalf; break;
    case DType::kBF16: st = torch::kBFloat16; break;
    case DType::kF64: st = torch::kDouble; break;
    default:
      throw Error(where + ": tensor \"" + t.name + "\" has dtype " + dtype_name(t.dtype) +
                  "; expected F32, F16 or BF16");
  }
  if (st == torch::kFloat && param.device().is_cpu() && param.is_contiguous()) {
    if (t.nbytes) std::memcpy(param.data_ptr(), t.data, t.nbytes);  // straight from the mapping
  } else {
    torch::Tensor raw = torch::empty(t.shape, torch::TensorOptions().dtype(st));
    if (t.nbytes) std::memcpy(raw.data_ptr(), t.data, t.nbytes);  // the mapped data may be unaligned
    param.copy_(raw);
  }
  // The mapped pages are not needed again: drop them so that loading peaks near the weights' size.
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (reinterpret_cast<uintptr_t>(t.data) + page - 1) / page * page;
  uintptr_t end = (reinterpret_cast<uintptr_t>(t.data) + t.nbytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

Llama llama_load(const std::string& dir, torch::Device device) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw Error(dir + ": not a model folder (no such directory)");
  const std::string config_path = (fs::path(dir) / "config.json").string();
  LlamaConfig cfg = llama_config_read(dir);
  cfg.validate(config_path);  // and the memory check, before anything is allocated
  std::unique_ptr<ModelWeights> weights = ModelWeights::open_dir(dir);
  Llama model(cfg);
  torch::NoGradGuard no_grad;
  std::set<std::string> expected;
  for (auto& [name, param] : model->hf_named_parameters()) {
    expected.insert(name);
    const TensorView* t = weights->find(name);
    if (!t)
      throw Error(dir + ": missing tensor \"" + name + "\" (expected shape " + shape_text(param.sizes().vec()) + ")");
    if (t->shape != param.sizes().vec())
      throw Error(dir + ": tensor \"" + name + "\" has shape " + shape_text(t->shape) + ", expected " +
                  shape_text(param.sizes().vec()));
    tensor_check_finite(*t, dir);
    tensor_copy_into(param, *t, dir);
  }
  for (const TensorView* t : weights->all()) {
    if (expected.count(t->name)) continue;
    if (t->name == "lm_head.weight" && cfg.tie_word_embeddings) continue;  // tied: the embedding is used
    if (t->name.find("rotary_emb.inv_freq") != std::string::npos) continue;
    throw Error(dir + ": unexpected tensor \"" + t->name + "\" for " + cfg.architecture + " with this config.json");
  }
  weights.reset();
  model->to(device);
  return model;
}

// ---------------------------------------------------------------------------------------------
// saving

void llama_save(Llama& model, const std::string& dir, const std::string& tokenizer_json, const std::string& dtype) {
  namespace fs = std::filesystem;
  DType out_type;
  torch::ScalarType st;
  if (dtype == "float32") {
    out_type = DType::kF32;
    st = torch::kFloat;
  } else if (dtype == "float16") {
    out_type = DType::kF16;
    st = torch::kHalf;
  } else if (dtype == "bfloat16") {
    out_type = DType::kBF16;
    st = torch::kBFloat16;
  } else {
    throw Error("llama_save: dtype \"" + dtype + "\" is not one of float32, float16, bfloat16");
  }
  make_dirs(dir);
  LlamaConfig cfg = model->config();
  cfg.torch_dtype = dtype;

  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> keep;  // owns the bytes the views point at
  std::vector<TensorView> views;
  for (auto& [name, param] : model->hf_named_parameters()) {
    torch::Tensor t = param.detach().to(torch::kCPU).to(st).contiguous();
    keep.push_back(t);
    TensorView v;
    v.name = name;
    v.dtype = out_type;
    v.shape = t.sizes().vec();
    v.data = static_cast<const uint8_t*>(t.data_ptr());
    v.nbytes = static_cast<size_t>(t.numel()) * t.element_size();
    views.push_back(v);
  }
  // A previous sharded checkpoint in the folder would shadow the new file.
  const std::string index_path = (fs::path(dir) / "model.safetensors.index.json").string();
  if (fs::exists(index_path)) fs::remove(index_path);
  safetensors_write((fs::path(dir) / "model.safetensors").string(), views, {{"format", "pt"}});
  write_json_atomic((fs::path(dir) / "config.json").string(), cfg.to_json());
  nlohmann::json gen = {{"_from_model_config", true}, {"do_sample", false}};
  if (cfg.bos_token_id >= 0) gen["bos_token_id"] = cfg.bos_token_id;
  if (cfg.eos_token_ids.size() > 1) {
    gen["eos_token_id"] = cfg.eos_token_ids;
  } else if (cfg.eos_token_id >= 0) {
    gen["eos_token_id"] = cfg.eos_token_id;
  }
  write_json_atomic((fs::path(dir) / "generation_config.json").string(), gen);
  if (!tokenizer_json.empty()) write_file_atomic((fs::path(dir) / "tokenizer.json").string(), tokenizer_json);
}

}  // namespace steper
