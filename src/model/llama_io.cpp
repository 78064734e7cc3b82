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
// config.json

namespace {

int64_t config_int(const nlohmann::json& j, const char* field, const std::string& where, bool required,
                   int64_t fallback) {
  return required ? json_int(j, field, where) : json_int_or(j, field, where, fallback);
}

double config_number(const nlohmann::json& j, const char* field, const std::string& where, double fallback) {
  return json_number_or(j, field, where, fallback);
}

bool config_bool(const nlohmann::json& j, const char* field, const std::string& where, bool fallback) {
  return json_bool_or(j, field, where, fallback);
}

// Physical memory of this machine in bytes (0 when unknown).
double machine_memory_bytes() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
}

std::string gib_text(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

}  // namespace

LlamaConfig LlamaConfig::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected a JSON object");
  LlamaConfig c;
  std::string arch;
  auto archs = j.find("architectures");
  if (archs != j.end() && !archs->is_null()) {
    if (!archs->is_array() || archs->empty() || !(*archs)[0].is_string())
      throw Error(where + ": field \"architectures\" must be a list of names");
    arch = (*archs)[0].get<std::string>();
  }
  std::string model_type;
  auto mt = j.find("model_type");
  if (mt != j.end() && mt->is_string()) model_type = mt->get<std::string>();
  if (arch.empty() && model_type.empty()) throw Error(where + ": missing field \"architectures\" (or \"model_type\")");
  if (arch.empty()) arch = model_type == "llama" ? "LlamaForCausalLM" : model_type == "qwen2" ? "Qwen2ForCausalLM" : "";
  if (arch == "LlamaForCausalLM") {
    c.architecture = arch;
    c.model_type = "llama";
  } else if (arch == "Qwen2ForCausalLM") {
    c.architecture = arch;
    c.model_type = "qwen2";
  } else {
    throw Error(where + ": unsupported architecture \"" + (arch.empty() ? model_type : arch) +
                "\" (supported: LlamaForCausalLM, Qwen2ForCausalLM)");
  }
  c.vocab_size = config_int(j, "vocab_size", where, true, 0);
  c.hidden_size = config_int(j, "hidden_size", where, true, 0);
  c.intermediate_size = config_int(j, "intermediate_size", where, true, 0);
  c.num_hidden_layers = config_int(j, "num_hidden_layers", where, true, 0);
  c.num_attention_heads = config_int(j, "num_attention_heads", where, true, 0);
  c.num_key_value_heads = config_int(j, "num_key_value_heads", where, false, c.num_attention_heads);
  c.head_dim = config_int(j, "head_dim", where, false, 0);
  c.max_position_embeddings = config_int(j, "max_position_embeddings", where, false, 2048);
  c.rms_norm_eps = config_number(j, "rms_norm_eps", where, 1e-6);
  c.rope_theta = config_number(j, "rope_theta", where, 10000.0);
  c.tie_word_embeddings = config_bool(j, "tie_word_embeddings", where, false);
  if (c.model_type == "qwen2") {
    c.attention_bias = true;  // Qwen2 always has q/k/v biases and no o_proj bias
    if (config_bool(j, "use_sliding_window", where, false))
      throw Error(where + ": field \"use_sliding_window\": sliding-window attention is not supported");
  } else {
    c.attention_bias = config_bool(j, "attention_bias", where, false);
    c.attention_out_bias = c.attention_bias;
    if (config_bool(j, "mlp_bias", where, false)) throw Error(where + ": field \"mlp_bias\": true is not supported");
  }
  auto act = j.find("hidden_act");
  if (act != j.end() && act->is_string() && act->get<std::string>() != "silu")
    throw Error(where + ": field \"hidden_act\": only \"silu\" is supported, got \"" + act->get<std::string>() + "\"");
  auto rs = j.find("rope_scaling");
  // Newer transformers write "rope_parameters" (rope_type, rope_theta and the scaling fields together).
  auto rp = j.find("rope_parameters");
  if (rp != j.end() && rp->is_object()) {
    c.rope_theta = config_number(*rp, "rope_theta", where + ": rope_parameters", c.rope_theta);
    if (rs == j.end() || rs->is_null()) rs = rp;
  }
  if (rs != j.end() && !rs->is_null()) {
    if (!rs->is_object()) throw Error(where + ": field \"rope_scaling\" must be an object or null");
    std::string type;
    if (rs->contains("rope_type") && (*rs)["rope_type"].is_string()) type = (*rs)["rope_type"].get<std::string>();
    else if (rs->contains("type") && (*rs)["type"].is_string()) type = (*rs)["type"].get<std::string>();
    if (type == "llama3") {
      const std::string w = where + ": rope_scaling";
      c.rope_type = "llama3";
      auto need = [&](const char* f) { return json_number(*rs, f, w, 0.0, 1e9); };
      c.rope_factor = need("factor");
      c.rope_low_freq_factor = need("low_freq_factor");
      c.rope_high_freq_factor = need("high_freq_factor");
      c.rope_original_max_position = static_cast<int64_t>(need("original_max_position_embeddings"));
    } else if (type != "default" && !type.empty()) {
      throw Error(where + ": field \"rope_scaling\": rope_type \"" + type + "\" is not supported (only llama3)");
    }
  }
  c.bos_token_id = config_int(j, "bos_token_id", where, false, -1);
  auto eos = j.find("eos_token_id");
  if (eos != j.end() && !eos->is_null()) {
    if (eos->is_number_integer()) {
      c.eos_token_ids = {eos->get<int64_t>()};
    } else if (eos->is_array()) {
      for (size_t i = 0; i < eos->size(); ++i)
        c.eos_token_ids.push_back(json_as_int((*eos)[i], "eos_token_id[" + std::to_string(i) + "]", where));
    } else {
      throw Error(where + ": field \"eos_token_id\" must be an integer or a list of integers");
    }
    if (!c.eos_token_ids.empty()) c.eos_token_id = c.eos_token_ids[0];
  }
  auto dt = j.find("torch_dtype");
  if (dt == j.end()) dt = j.find("dtype");
  if (dt != j.end() && dt->is_string()) c.torch_dtype = dt->get<std::string>();
  if (c.head_dim == 0 && c.num_attention_heads > 0 && c.hidden_size % c.num_attention_heads != 0)
    throw Error(where + ": field \"hidden_size\" (" + std::to_string(c.hidden_size) +
                ") must be divisible by \"num_attention_heads\" (" + std::to_string(c.num_attention_heads) + ")");
  if (c.head_dim == 0 && c.num_attention_heads > 0) c.head_dim = c.hidden_size / c.num_attention_heads;
  c.validate(where);
  return c;
}

void LlamaConfig::validate(const std::string& where) const {
  auto positive = [&](const char* field, int64_t v) {
    if (v <= 0) throw Error(where + ": field \"" + field + "\" must be positive, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("intermediate_size", intermediate_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("num_key_value_heads", num_key_value_heads);
  positive("head_dim", head_dim);
  if (hidden_size != num_attention_heads * head_dim && hidden_size % num_attention_heads != 0)
    throw Error(where + ": field \"hidden_size\" (" + std::to_string(hidden_size) +
                ") must be divisible by \"num_attention_heads\" (" + std::to_string(num_attention_heads) + ")");
  if (num_attention_heads % num_key_value_heads != 0)
    throw Error(where + ": field \"num_attention_heads\" (" + std::to_string(num_attention_heads) +
                ") must be divisible by \"num_key_value_heads\" (" + std::to_string(num_key_value_heads) + ")");
  if (head_dim % 2 != 0) throw Error(where + ": field \"head_dim\" must be even for rotary positions");
  if (rope_theta <= 0) throw Error(where + ": field \"rope_theta\" must be positive");
  if (rope_type == "llama3" && !(rope_high_freq_factor > rope_low_freq_factor))
    throw Error(where + ": rope_scaling: \"high_freq_factor\" must exceed \"low_freq_factor\"");
  if (rope_type == "llama3" && (rope_factor <= 0 || rope_low_freq_factor <= 0 || rope_original_max_position <= 0))
    throw Error(where + ": rope_scaling: factor, low_freq_factor and original_max_position_embeddings must be positive");
  positive("max_position_embeddings", max_position_embeddings);
  if (!(rms_norm_eps > 0)) throw Error(where + ": field \"rms_norm_eps\" must be positive");
  auto token = [&](const std::string& field, int64_t id) {
    if (id < 0 || id >= vocab_size)
      throw Error(where + ": field \"" + field + "\" " + std::to_string(id) + " is outside the vocabulary of " +
                  std::to_string(vocab_size) + " tokens");
  };
  if (bos_token_id != -1) token("bos_token_id", bos_token_id);
  for (size_t i = 0; i < eos_token_ids.size(); ++i)
    token(eos_token_ids.size() == 1 ? "eos_token_id" : "eos_token_id[" + std::to_string(i) + "]", eos_token_ids[i]);
  if (eos_token_ids.empty() && eos_token_id != -1) token("eos_token_id", eos_token_id);
  // Memory before allocation: the float32 weights alone must fit in this machine's memory.
  const double bytes = 4.0 * parameter_count();
  const double have = machine_memory_bytes();
  if (have > 0 && bytes > have)
    throw Error(where + ": the model needs " + gib_text(bytes) + " for its float32 weights (vocab_size " + std::to_string(vocab_size) + ", hidden_size " + std::to_string(hidden_size) +
                ", intermediate_size " + std::to_string(intermediate_size) + ", num_hidden_layers " +
                std::to_string(num_hidden_layers) + "); this machine has " + gib_text(have) + " of memory");
}

double LlamaConfig::parameter_count() const {
  // In floating point: absurd sizes must not overflow before they are refused.
  const double V = static_cast<double>(vocab_size), D = static_cast<double>(hidden_size),
               F = static_cast<double>(intermediate_size), L = static_cast<double>(num_hidden_layers);
  const double q = static_cast<double>(num_attention_heads) * static_cast<double>(head_dim);
  const double kv = static_cast<double>(num_key_value_heads) * static_cast<double>(head_dim);
  double layer = 2 * D + D * q + 2 * D * kv + q * D + 3 * D * F;
  if (attention_bias) layer += q + 2 * kv;
  if (attention_out_bias) layer += D;
  return V * D * (tie_word_embeddings ? 1 : 2) + L * layer + D;
}

nlohmann::json LlamaConfig::to_json() const {
  nlohmann::json j;
  j["architectures"] = {architecture};
  j["model_type"] = model_type;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  j["head_dim"] = head_dim;
  j["max_position_embeddings"] = max_position_embeddings;
  j["rms_norm_eps"] = rms_norm_eps;
  j["rope_theta"] = rope_theta;
  if (rope_type.empty()) {
    j["rope_scaling"] = nullptr;
  } else {
    j["rope_scaling"] = {{"rope_type", rope_type},
                         {"factor", rope_factor},
                         {"low_freq_factor", rope_low_freq_factor},
                         {"high_freq_factor", rope_high_freq_factor},
                         {"original_max_position_embeddings", rope_original_max_position}};
  }
  j["hidden_act"] = "silu";
  j["tie_word_embeddings"] = tie_word_embeddings;
  if (model_type == "llama") {
    j["attention_bias"] = attention_bias;
    j["mlp_bias"] = false;
  } else {
    j["use_sliding_window"] = false;
  }
  j["attention_dropout"] = 0.0;
  j["initializer_range"] = 0.02;
  j["use_cache"] = true;
  if (bos_token_id >= 0) j["bos_token_id"] = bos_token_id;
  if (eos_token_ids.size() > 1) {
    j["eos_token_id"] = eos_token_ids;
  } else if (eos_token_id >= 0) {
    j["eos_token_id"] = eos_token_id;
  }
  j["torch_dtype"] = torch_dtype;
  return j;
}

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
  if (!fs::exists(config_path)) throw Error(dir + ": missing config.json");
  LlamaConfig cfg = LlamaConfig::from_json(read_json(config_path), config_path);
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
