#include "gguf/gguf_export.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "gguf/gguf_vocab.h"
#include "gguf/gguf_writer.h"
#include "model/llama_config.h"
#include "model/safetensors.h"

namespace steper {

// ---- config.json

namespace {

// config.json as the model loader reads it (model/llama_config.h), then what GGUF cannot hold: its
// integers are uint32, and llama.cpp's qwen2 has no llama3 rope scaling.
LlamaConfig config_read(const std::string& dir) {
  const std::string where = dir + "/config.json";
  const LlamaConfig c = llama_config_read(dir);
  const std::pair<const char*, int64_t> ints[] = {
      {"vocab_size", c.vocab_size}, {"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
      {"num_hidden_layers", c.num_hidden_layers}, {"num_attention_heads", c.num_attention_heads},
      {"num_key_value_heads", c.num_key_value_heads}, {"head_dim", c.head_dim},
      {"max_position_embeddings", c.max_position_embeddings}};
  for (const auto& [field, v] : ints)
    if (v > static_cast<int64_t>(UINT32_MAX))
      throw Error(where + ": field \"" + field + "\" " + std::to_string(v) + " does not fit GGUF's 32-bit metadata");
  if (c.rope_type == "llama3" && c.model_type != "llama")
    throw Error(where + ": rope_scaling type llama3 cannot be exported to GGUF for " + c.model_type +
                " (supported: linear)");
  return c;
}

// llama.cpp's rope_freqs tensor for Llama-3.1 rope scaling (LlamaModel.generate_extra_tensors).
std::vector<float> llama3_rope_factors(const LlamaConfig& c) {
  std::vector<float> out;
  const double pi = 3.14159265358979323846;
  double low_wavelen = c.rope_original_max_position / c.rope_low_freq_factor;
  double high_wavelen = c.rope_original_max_position / c.rope_high_freq_factor;
  for (int64_t i = 0; i < c.head_dim; i += 2) {
    float freq = 1.0f / std::pow(static_cast<float>(c.rope_theta), static_cast<float>(i) / c.head_dim);
    double wavelen = 2 * pi / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(static_cast<float>(c.rope_factor));
    } else {
      double smooth = (c.rope_original_max_position / wavelen - c.rope_low_freq_factor) / (c.rope_high_freq_factor - c.rope_low_freq_factor);
      out.push_back(static_cast<float>(1.0 / ((1 - smooth) / c.rope_factor + smooth)));
    }
  }
  return out;
}

// ---- tensors

struct TensorPlan {
  std::string gguf_name;
  const TensorView* src = nullptr;
  std::vector<uint64_t> shape;  // row-major
  int64_t rope_heads = 0;       // > 0: permute rows for rope with this many heads
  std::vector<float> values;    // a generated tensor (rope_freqs) when src is null
};

float element_f32(const TensorView& t, size_t i) {
  switch (t.dtype) {
    case DType::kF32: {
      float f;
      std::memcpy(&f, t.data + 4 * i, 4);
      return f;
    }
    case DType::kF16: {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      return f16_to_f32(h);
    }
    case DType::kBF16: {
      uint16_t h;
      std::memcpy(&h, t.data + 2 * i, 2);
      return bf16_to_f32(h);
    }
    default: return 0.0f;
  }
}

std::string shape_text(const std::vector<uint64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

void gguf_permute_rows_for_rope(const float* in, float* out, int64_t n_head, int64_t head_dim, int64_t cols) {
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t j = 0; j < half; ++j)
      for (int64_t s = 0; s < 2; ++s) {
        const float* src = in + (h * head_dim + s * half + j) * cols;
        float* dst = out + (h * head_dim + 2 * j + s) * cols;
        std::memcpy(dst, src, static_cast<size_t>(cols) * sizeof(float));
      }
}

// ---- export

GgufExportSummary gguf_export(const std::string& model_dir, const std::string& out_path, const GgufExportOptions& opts,
                              Progress* progress) {
  if (opts.type != "f32" && opts.type != "f16")
    throw Error("--type " + opts.type + ": expected f32 or f16");
  struct stat st;
  if (::stat(out_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw Error("--out " + out_path + ": is a folder; give a file name such as model.gguf");

  const LlamaConfig c = config_read(model_dir);
  std::unique_ptr<ModelWeights> weights = ModelWeights::open_dir(model_dir);
  const std::string wfile = model_dir + "/model.safetensors";

  // ---- map every Hugging Face tensor to its llama.cpp name, checking shapes against config.json
  std::vector<TensorPlan> plans;
  std::set<std::string> used;
  auto take = [&](const std::string& hf, const std::string& gg, std::vector<uint64_t> shape, int64_t rope_heads,
                  bool required) {
    const TensorView* t = weights->find(hf);
    if (!t) {
      if (required) throw Error(wfile + ": tensor " + hf + " is missing (needed for " + gg + ")");
      return;
    }
    std::vector<uint64_t> have(t->shape.begin(), t->shape.end());
    if (have != shape)
      throw Error(wfile + ": tensor " + hf + " has shape " + shape_text(have) + ", config.json implies " +
                  shape_text(shape));
    if (t->dtype != DType::kF32 && t->dtype != DType::kF16 && t->dtype != DType::kBF16)
      throw Error(wfile + ": tensor " + hf + " has dtype " + dtype_name(t->dtype) + " (F32, F16 or BF16 expected)");
    tensor_check_finite(*t, wfile);
    TensorPlan p;
    p.gguf_name = gg;
    p.src = t;
    p.shape = std::move(shape);
    p.rope_heads = rope_heads;
    plans.push_back(std::move(p));
    used.insert(hf);
  };
  const uint64_t V = c.vocab_size, D = c.hidden_size, F = c.intermediate_size, hd = c.head_dim;
  const uint64_t q_rows = c.num_attention_heads * hd, kv_rows = c.num_key_value_heads * hd;
  const bool permute = c.model_type == "llama";  // llama.cpp's llama uses interleaved rope pairs; qwen2 uses NeoX
  const TensorView* embed = weights->find("model.embed_tokens.weight");
  if (embed && embed->shape.size() == 2 && static_cast<uint64_t>(embed->shape[0]) != V)
    throw Error(wfile + ": model.embed_tokens.weight has " + std::to_string(embed->shape[0]) +
                " rows but config.json vocab_size is " + std::to_string(V));
  take("model.embed_tokens.weight", "token_embd.weight", {V, D}, 0, true);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string hf = "model.layers." + std::to_string(i) + ".";
    const std::string gg = "blk." + std::to_string(i) + ".";
    take(hf + "input_layernorm.weight", gg + "attn_norm.weight", {D}, 0, true);
    take(hf + "self_attn.q_proj.weight", gg + "attn_q.weight", {q_rows, D}, permute ? c.num_attention_heads : 0, true);
    take(hf + "self_attn.k_proj.weight", gg + "attn_k.weight", {kv_rows, D}, permute ? c.num_key_value_heads : 0, true);
    take(hf + "self_attn.v_proj.weight", gg + "attn_v.weight", {kv_rows, D}, 0, true);
    if (c.attention_bias) {
      take(hf + "self_attn.q_proj.bias", gg + "attn_q.bias", {q_rows}, permute ? c.num_attention_heads : 0, true);
      take(hf + "self_attn.k_proj.bias", gg + "attn_k.bias", {kv_rows}, permute ? c.num_key_value_heads : 0, true);
      take(hf + "self_attn.v_proj.bias", gg + "attn_v.bias", {kv_rows}, 0, true);
    }
    take(hf + "self_attn.o_proj.weight", gg + "attn_output.weight", {D, q_rows}, 0, true);
    if (c.model_type == "llama" && c.attention_bias) take(hf + "self_attn.o_proj.bias", gg + "attn_output.bias", {D}, 0, false);
    take(hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight", {D}, 0, true);
    take(hf + "mlp.gate_proj.weight", gg + "ffn_gate.weight", {F, D}, 0, true);
    take(hf + "mlp.up_proj.weight", gg + "ffn_up.weight", {F, D}, 0, true);
    take(hf + "mlp.down_proj.weight", gg + "ffn_down.weight", {D, F}, 0, true);
  }
  take("model.norm.weight", "output_norm.weight", {D}, 0, true);
  if (!c.tie_word_embeddings) {
    if (!weights->find("lm_head.weight"))
      throw Error(wfile + ": tensor lm_head.weight is missing and config.json tie_word_embeddings is false");
    take("lm_head.weight", "output.weight", {V, D}, 0, true);
  } else if (weights->find("lm_head.weight")) {
    used.insert("lm_head.weight");  // a tied head is the embedding; llama.cpp reuses token_embd
  }
  if (c.rope_type == "llama3") {
    TensorPlan p;
    p.gguf_name = "rope_freqs.weight";
    p.values = llama3_rope_factors(c);
    p.shape = {p.values.size()};
    plans.push_back(std::move(p));
  }
  for (const TensorView* t : weights->all()) {
    if (used.count(t->name)) continue;
    const std::string inv_freq = "rotary_emb.inv_freq";  // a buffer older checkpoints saved; llama.cpp recomputes it
    if (t->name.size() >= inv_freq.size() &&
        t->name.compare(t->name.size() - inv_freq.size(), inv_freq.size(), inv_freq) == 0)
      continue;
    throw Error(wfile + ": tensor " + t->name + " has no place in llama.cpp's " + c.model_type + " architecture");
  }

  // ---- the tokenizer (validated before anything is written)
  GgufVocab vocab = gguf_vocab_read(model_dir, c);

  // ---- metadata, in the order llama.cpp's converter writes it
  GgufWriter w;
  const std::string a = c.model_type;
  std::string name = opts.name;
  if (name.empty()) {
    std::string d = model_dir;
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    size_t slash = d.rfind('/');
    name = slash == std::string::npos ? d : d.substr(slash + 1);
  }
  const bool f16 = opts.type == "f16";
  w.add_kv("general.architecture", GgufValue::string(a));
  w.add_kv("general.type", GgufValue::string("model"));
  w.add_kv("general.name", GgufValue::string(name));
  w.add_kv("general.alignment", GgufValue::u32(kGgufDefaultAlignment));
  w.add_kv(a + ".vocab_size", GgufValue::u32(static_cast<uint32_t>(c.vocab_size)));
  w.add_kv(a + ".context_length", GgufValue::u32(static_cast<uint32_t>(c.max_position_embeddings)));
  w.add_kv(a + ".embedding_length", GgufValue::u32(static_cast<uint32_t>(c.hidden_size)));
  w.add_kv(a + ".block_count", GgufValue::u32(static_cast<uint32_t>(c.num_hidden_layers)));
  w.add_kv(a + ".feed_forward_length", GgufValue::u32(static_cast<uint32_t>(c.intermediate_size)));
  w.add_kv(a + ".attention.head_count", GgufValue::u32(static_cast<uint32_t>(c.num_attention_heads)));
  w.add_kv(a + ".attention.head_count_kv", GgufValue::u32(static_cast<uint32_t>(c.num_key_value_heads)));
  w.add_kv(a + ".rope.freq_base", GgufValue::f32(static_cast<float>(c.rope_theta)));
  w.add_kv(a + ".attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(c.rms_norm_eps)));
  if (c.head_dim != c.hidden_size / c.num_attention_heads) {
    w.add_kv(a + ".attention.key_length", GgufValue::u32(static_cast<uint32_t>(c.head_dim)));
    w.add_kv(a + ".attention.value_length", GgufValue::u32(static_cast<uint32_t>(c.head_dim)));
  }
  w.add_kv(a + ".rope.dimension_count", GgufValue::u32(static_cast<uint32_t>(c.head_dim)));
  if (c.rope_type == "linear") {
    w.add_kv(a + ".rope.scaling.type", GgufValue::string("linear"));
    w.add_kv(a + ".rope.scaling.factor", GgufValue::f32(static_cast<float>(c.rope_factor)));
  }
  w.add_kv("general.file_type", GgufValue::u32(f16 ? 1 : 0));  // LLAMA_FTYPE_ALL_F32 / MOSTLY_F16
  w.add_kv("general.quantization_version", GgufValue::u32(2));
  w.add_kv("tokenizer.ggml.model", GgufValue::string("gpt2"));
  w.add_kv("tokenizer.ggml.pre", GgufValue::string(vocab.pre));
  w.add_kv("tokenizer.ggml.tokens", GgufValue::string_array(vocab.tokens));
  w.add_kv("tokenizer.ggml.token_type", GgufValue::i32_array(vocab.token_types));
  w.add_kv("tokenizer.ggml.merges", GgufValue::string_array(vocab.merges));
  w.add_kv("tokenizer.ggml.bos_token_id", GgufValue::u32(static_cast<uint32_t>(vocab.bos_id)));
  w.add_kv("tokenizer.ggml.eos_token_id", GgufValue::u32(static_cast<uint32_t>(vocab.eos_id)));
  w.add_kv("tokenizer.ggml.add_bos_token", GgufValue::boolean(vocab.add_bos));
  w.add_kv("tokenizer.ggml.add_eos_token", GgufValue::boolean(vocab.add_eos));
  if (!vocab.chat_template.empty()) w.add_kv("tokenizer.chat_template", GgufValue::string(vocab.chat_template));

  // ---- tensors: matrices in the requested type, vectors (norms, biases, rope factors) in F32 as llama.cpp
  for (const TensorPlan& p : plans) {
    GgufTensorSpec spec;
    spec.name = p.gguf_name;
    spec.shape = p.shape;
    spec.type = (f16 && p.shape.size() >= 2) ? GgmlType::kF16 : GgmlType::kF32;
    const TensorPlan* plan = &p;
    GgmlType out_type = spec.type;
    spec.produce = [plan, out_type](std::vector<uint8_t>& out) {
      std::vector<float> values;
      if (plan->src) {
        size_t n = 1;
        for (uint64_t d : plan->shape) n *= d;
        values.resize(n);
        for (size_t i = 0; i < n; ++i) values[i] = element_f32(*plan->src, i);
        if (plan->rope_heads > 0) {
          std::vector<float> permuted(n);
          int64_t rows = static_cast<int64_t>(plan->shape[0]);
          int64_t cols = plan->shape.size() > 1 ? static_cast<int64_t>(plan->shape[1]) : 1;
          gguf_permute_rows_for_rope(values.data(), permuted.data(), plan->rope_heads, rows / plan->rope_heads, cols);
          values.swap(permuted);
        }
      } else {
        values = plan->values;
      }
      if (out_type == GgmlType::kF32) {
        out.resize(values.size() * 4);
        std::memcpy(out.data(), values.data(), out.size());
      } else {
        out.resize(values.size() * 2);
        for (size_t i = 0; i < values.size(); ++i) {
          uint16_t h = f32_to_f16(values[i]);
          std::memcpy(out.data() + 2 * i, &h, 2);
        }
      }
    };
    w.add_tensor(std::move(spec));
  }

  std::unique_ptr<Progress> own;
  if (!progress) {
    own.reset(new Progress("export-gguf", plans.size(), "tensors"));
    progress = own.get();
  } else {
    progress->set_total(plans.size());
  }
  w.write(out_path, progress);
  progress->finish();

  GgufExportSummary s;
  s.architecture = a;
  s.pre_tokenizer = vocab.pre;
  s.n_tensors = plans.size();
  s.n_vocab = vocab.tokens.size();
  if (::stat(out_path.c_str(), &st) == 0) s.file_bytes = static_cast<uint64_t>(st.st_size);
  return s;
}

}  // namespace steper
