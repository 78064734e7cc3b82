#include "model/llama_config.h"

#include <unistd.h>

#include <cstdio>

#include "core/error.h"
#include "core/io.h"

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
  std::string model_type = json_text_or(j, "model_type", where, "");
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
  const std::string act = json_text_or(j, "hidden_act", where, "silu");
  if (act != "silu") throw Error(where + ": field \"hidden_act\": only \"silu\" is supported, got \"" + act + "\"");
  auto rs = j.find("rope_scaling");
  // Newer transformers write "rope_parameters" (rope_type, rope_theta and the scaling fields together).
  auto rp = j.find("rope_parameters");
  if (rp != j.end() && rp->is_object()) {
    c.rope_theta = config_number(*rp, "rope_theta", where + ": rope_parameters", c.rope_theta);
    if (rs == j.end() || rs->is_null()) rs = rp;
  }
  if (rs != j.end() && !rs->is_null()) {
    if (!rs->is_object()) throw Error(where + ": field \"rope_scaling\" must be an object or null");
    const std::string w = where + ": rope_scaling";
    const std::string type = json_text_or(*rs, "rope_type", w, json_text_or(*rs, "type", w, ""));
    auto need = [&](const char* f) { return json_number(*rs, f, w, 0.0, 1e9); };
    if (type == "linear") {
      c.rope_type = "linear";
      c.rope_factor = need("factor");
    } else if (type == "llama3") {
      c.rope_type = "llama3";
      c.rope_factor = need("factor");
      c.rope_low_freq_factor = need("low_freq_factor");
      c.rope_high_freq_factor = need("high_freq_factor");
      c.rope_original_max_position = static_cast<int64_t>(need("original_max_position_embeddings"));
    } else if (type != "default" && !type.empty()) {
      throw Error(where + ": field \"rope_scaling\": rope_type \"" + type + "\" is not supported (only linear and llama3)");
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
  c.validate_fields(where);
  return c;
}

void LlamaConfig::validate(const std::string& where) const {
  validate_fields(where);
  // Memory before allocation: the float32 weights alone must fit in this machine's memory.
  const double bytes = 4.0 * parameter_count();
  const double have = machine_memory_bytes();
  if (have > 0 && bytes > have)
    throw Error(where + ": the model needs " + gib_text(bytes) + " for its float32 weights (vocab_size " + std::to_string(vocab_size) + ", hidden_size " + std::to_string(hidden_size) +
                ", intermediate_size " + std::to_string(intermediate_size) + ", num_hidden_layers " +
                std::to_string(num_hidden_layers) + "); this machine has " + gib_text(have) + " of memory");
}

void LlamaConfig::validate_fields(const std::string& where) const {
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
  if (rope_type == "linear" && !(rope_factor > 0)) throw Error(where + ": rope_scaling: \"factor\" must be positive");
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
  } else if (rope_type == "linear") {
    j["rope_scaling"] = {{"rope_type", rope_type}, {"factor", rope_factor}};
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

LlamaConfig llama_config_read(const std::string& dir) {
  const std::string where = dir + "/config.json";
  if (!file_exists(where)) throw Error(where + ": missing (is " + dir + " a model folder?)");
  return LlamaConfig::from_json(read_json(where), where);
}

}  // namespace steper
