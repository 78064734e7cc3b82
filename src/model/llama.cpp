// The Llama decoder (LlamaForCausalLM / Qwen2ForCausalLM): RMSNorm, rotary positions, grouped-query
// attention written as batched matrix products, SwiGLU MLP.
#include "model/llama.h"

#include <ATen/record_function.h>

#include <cmath>
#include <mutex>

#include "core/error.h"
#include "model/inference_kernels.h"
#include "model/lora.h"
#include "model/recompute.h"

namespace steper {

// ---------------------------------------------------------------------------------------------
// rotary frequencies

torch::Tensor rope_inv_freq(const LlamaConfig& cfg) {
  const int64_t dim = cfg.head_dim;
  // Exactly as transformers: base ** (arange(0, dim, 2).float() / dim), in float32.
  torch::Tensor exponent = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat) / static_cast<double>(dim);
  torch::Tensor inv_freq = 1.0 / torch::pow(torch::scalar_tensor(cfg.rope_theta, torch::kFloat), exponent);
  if (cfg.rope_type == "linear") inv_freq = inv_freq / cfg.rope_factor;  // positions divided by factor
  if (cfg.rope_type == "llama3") {
    const double factor = cfg.rope_factor, low = cfg.rope_low_freq_factor, high = cfg.rope_high_freq_factor;
    const double old_len = static_cast<double>(cfg.rope_original_max_position);
    const double low_freq_wavelen = old_len / low;
    const double high_freq_wavelen = old_len / high;
    torch::Tensor wavelen = 2 * M_PI / inv_freq;
    torch::Tensor scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq);
    torch::Tensor smooth = (old_len / wavelen - low) / (high - low);
    torch::Tensor smoothed = (1 - smooth) * scaled / factor + smooth * scaled;
    torch::Tensor medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
    inv_freq = torch::where(medium, smoothed, scaled);
  }
  return inv_freq.contiguous();
}

// ---------------------------------------------------------------------------------------------
// parameters

struct LlamaImpl::Layers {
  struct Block {
    torch::Tensor input_norm, wq, bq, wk, bk, wv, bv, wo, bo, post_norm, w_gate, w_up, w_down;
  };
  torch::Tensor embed, final_norm, lm_head;  // lm_head undefined when tied
  std::vector<Block> blocks;
  std::vector<std::pair<std::string, torch::Tensor>> named;  // Hugging Face names, in their order
  torch::Tensor inv_freq;

  // CPU inference only (InferenceMode; not the gradient-free forward of a recomputed layer, which must equal
  // the forward its backward recomputes): each block's q/k/v and gate/up weights concatenated once, the query rows
  // scaled by 1/sqrt(head_dim), rebuilt when a source weight changes (storage or version). Held transposed,
  // [in, out] (o_proj and down_proj too, so a model that infers holds every layer weight twice): OpenBLAS
  // multiplies a few rows by an untransposed right-hand matrix in its small-matrix kernel, without packing
  // (copying) the weight first; the transposed products take 2.5x less time at a decoding step's 16 rows.
  struct Fused {
    torch::Tensor w_qkv_t, b_qkv, w_o_t, w_gate_up_t, w_down_t;
    std::vector<std::pair<const void*, int64_t>> made_from;
  };
  std::vector<Fused> fused;
  std::mutex fused_mu;
  const Fused* fused_for(size_t l, double q_scale);
  static std::vector<std::pair<const void*, int64_t>> weights_signature(const Block& b);
};

std::vector<std::pair<const void*, int64_t>> LlamaImpl::Layers::weights_signature(const Block& b) {
  std::vector<std::pair<const void*, int64_t>> sig;
  for (const torch::Tensor* t : {&b.wq, &b.wk, &b.wv, &b.bq, &b.bk, &b.bv, &b.wo, &b.w_gate, &b.w_up, &b.w_down})
    sig.emplace_back(t->defined() ? t->data_ptr() : nullptr,
                     t->defined() && !t->is_inference() ? t->_version() : 0);  // inference tensors keep no version
  return sig;
}

const LlamaImpl::Layers::Fused* LlamaImpl::Layers::fused_for(size_t l, double q_scale) {
  // Not on CUDA: cuBLAS multiplies by a transposed weight without copying it, and a GPU's memory is
  // better spent on the model than on a second copy of its layers.
  if (!c10::InferenceMode::is_enabled() || blocks[l].wq.is_cuda()) return nullptr;
  std::lock_guard<std::mutex> lock(fused_mu);
  if (fused.size() != blocks.size()) fused.assign(blocks.size(), Fused());
  const Block& b = blocks[l];
  Fused& f = fused[l];
  auto sig = weights_signature(b);
  if (f.w_qkv_t.defined() && f.made_from == sig) return &f;
  c10::InferenceMode normal_tensors(false);  // usable outside inference mode too
  torch::NoGradGuard no_grad;
  f.w_qkv_t = torch::cat({b.wq * q_scale, b.wk, b.wv}, 0).t().contiguous();
  f.b_qkv = b.bq.defined() ? torch::cat({b.bq * q_scale, b.bk, b.bv}, 0) : torch::Tensor();
  f.w_o_t = b.wo.t().contiguous();
  f.w_gate_up_t = torch::cat({b.w_gate, b.w_up}, 0).t().contiguous();
  f.w_down_t = b.w_down.t().contiguous();
  f.made_from = std::move(sig);
  return &f;
}

namespace {
enum class Init { kNormal, kOnes, kZeros };

std::string module_safe_name(const std::string& hf_name) {
  std::string s = hf_name;
  for (char& c : s)
    if (c == '.') c = '_';
  return s;
}
}  // namespace

LlamaImpl::LlamaImpl(const LlamaConfig& cfg) : cfg_(cfg), layers_(std::make_shared<Layers>()) {
  if (cfg_.head_dim == 0 && cfg_.num_attention_heads > 0) cfg_.head_dim = cfg_.hidden_size / cfg_.num_attention_heads;
  if (cfg_.num_key_value_heads == 0) cfg_.num_key_value_heads = cfg_.num_attention_heads;
  if (cfg_.eos_token_ids.empty() && cfg_.eos_token_id >= 0) cfg_.eos_token_ids = {cfg_.eos_token_id};
  cfg_.validate("model config");
  const int64_t D = cfg_.hidden_size, H = cfg_.num_attention_heads, KV = cfg_.num_key_value_heads;
  const int64_t hd = cfg_.head_dim, I = cfg_.intermediate_size, V = cfg_.vocab_size;
  Layers& L = *layers_;
  torch::NoGradGuard no_grad;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, Init init) {
    torch::Tensor t = torch::empty(shape, torch::kFloat);
    if (init == Init::kNormal) t.normal_(0.0, 0.02);
    if (init == Init::kOnes) t.fill_(1.0);
    if (init == Init::kZeros) t.zero_();
    torch::Tensor& p = register_parameter(module_safe_name(name), t);
    L.named.emplace_back(name, p);
    return p;
  };
  L.embed = add("model.embed_tokens.weight", {V, D}, Init::kNormal);
  for (int64_t i = 0; i < cfg_.num_hidden_layers; ++i) {
    const std::string pre = "model.layers." + std::to_string(i) + ".";
    Layers::Block b;
    b.wq = add(pre + "self_attn.q_proj.weight", {H * hd, D}, Init::kNormal);
    if (cfg_.attention_bias) b.bq = add(pre + "self_attn.q_proj.bias", {H * hd}, Init::kZeros);
    b.wk = add(pre + "self_attn.k_proj.weight", {KV * hd, D}, Init::kNormal);
    if (cfg_.attention_bias) b.bk = add(pre + "self_attn.k_proj.bias", {KV * hd}, Init::kZeros);
    b.wv = add(pre + "self_attn.v_proj.weight", {KV * hd, D}, Init::kNormal);
    if (cfg_.attention_bias) b.bv = add(pre + "self_attn.v_proj.bias", {KV * hd}, Init::kZeros);
    b.wo = add(pre + "self_attn.o_proj.weight", {D, H * hd}, Init::kNormal);
    if (cfg_.attention_out_bias) b.bo = add(pre + "self_attn.o_proj.bias", {D}, Init::kZeros);
    b.w_gate = add(pre + "mlp.gate_proj.weight", {I, D}, Init::kNormal);
    b.w_up = add(pre + "mlp.up_proj.weight", {I, D}, Init::kNormal);
    b.w_down = add(pre + "mlp.down_proj.weight", {D, I}, Init::kNormal);
    b.input_norm = add(pre + "input_layernorm.weight", {D}, Init::kOnes);
    b.post_norm = add(pre + "post_attention_layernorm.weight", {D}, Init::kOnes);
    L.blocks.push_back(b);
  }
  L.final_norm = add("model.norm.weight", {D}, Init::kOnes);
  if (!cfg_.tie_word_embeddings) L.lm_head = add("lm_head.weight", {V, D}, Init::kNormal);
  L.inv_freq = register_buffer("rope_inv_freq", rope_inv_freq(cfg_));
}

std::vector<std::pair<std::string, torch::Tensor>> LlamaImpl::hf_named_parameters() { return layers_->named; }

// ---------------------------------------------------------------------------------------------
// forward

namespace {

// x [..., K] times w [N, K] transposed, plus b. A single row without gradients goes through a
// matrix-vector product: OpenBLAS's GEMM packs (copies) all of w even for one row, which costs as much as
// the product itself (most of a batch-1 decoding step).
// A weight held in another dtype than the activations (a bfloat16 base under LoRA, model/lora.h) is
// multiplied in its own dtype, the result returned in the activations' dtype.
torch::Tensor project(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b = {}) {
  if (w.scalar_type() != x.scalar_type()) {
    torch::Tensor y = torch::linear(x.to(w.scalar_type()), w).to(x.scalar_type());
    return b.defined() ? y + b : y;
  }
  if (x.numel() != x.size(-1) || torch::GradMode::is_enabled()) return torch::linear(x, w, b);
  auto shape = x.sizes().vec();
  shape.back() = w.size(0);
  torch::Tensor y = torch::mv(w, x.reshape({-1}));
  if (b.defined()) y.add_(b);
  return y.view(shape);
}

// x [..., K] times wt [K, N] (a transposed weight), plus b; a single row through a matrix-vector product.
torch::Tensor project_t(const torch::Tensor& x, const torch::Tensor& wt, const torch::Tensor& b = {}) {
  auto shape = x.sizes().vec();
  shape.back() = wt.size(1);
  torch::Tensor y;
  if (x.numel() == x.size(-1)) {
    y = torch::mv(wt.t(), x.reshape({-1}));
    if (b.defined()) y.add_(b);
  } else {
    torch::Tensor rows = x.reshape({-1, x.size(-1)});
    y = b.defined() ? torch::addmm(b, rows, wt) : torch::mm(rows, wt);
  }
  return y.view(shape);
}

// Writes x [B, KV, T, hd] into the cache buffer at column `past` and returns the buffer's first past + T
// columns. The buffer grows by a quarter (at least 64 columns) when full, so a decoding step copies only its
// own keys, not the whole cache.
torch::Tensor cache_append(torch::Tensor& buf, const torch::Tensor& x, int64_t past) {
  const int64_t need = past + x.size(2);
  if (!buf.defined() || buf.size(2) < need || buf.size(0) != x.size(0)) {
    auto shape = x.sizes().vec();
    shape[2] = std::max(need + 64, need + need / 4);
    torch::Tensor grown = torch::empty(shape, x.options());
    if (past > 0) grown.narrow(2, 0, past).copy_(buf.narrow(2, 0, past));
    buf = grown;
  }
  buf.narrow(2, past, x.size(2)).copy_(x);
  return buf.narrow(2, 0, need);
}

// In InferenceMode, float32 on the CPU: the one-pass kernel (inference_kernels.h), the same formula.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  if (c10::InferenceMode::is_enabled() && x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
      w.scalar_type() == torch::kFloat && x.is_contiguous() && w.is_contiguous() && inference_kernels_available()) {
    torch::Tensor out = torch::empty_like(x);
    rms_norm_rows(x.data_ptr<float>(), w.data_ptr<float>(), x.numel() / x.size(-1), x.size(-1),
                  static_cast<float>(eps), out.data_ptr<float>());
    return out;
  }
  return x * torch::rsqrt(x.pow(2).mean(-1, /*keepdim=*/true) + eps) * w;
}

// x [B, T, heads, hd]; cos/sin broadcastable to [B, T, 1, hd/2]. Hugging Face's rotate_half convention.
torch::Tensor rope_apply(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  torch::Tensor x1 = x.narrow(-1, 0, half), x2 = x.narrow(-1, half, half);
  return torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
}

// [T, past + T] bool: query i (at position past + i) may see key j when j <= past + i.
torch::Tensor causal_allowed(int64_t T, int64_t past, torch::Device device) {
  auto opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  return torch::arange(past + T, opts).unsqueeze(0) <= (torch::arange(T, opts) + past).unsqueeze(1);
}

// Attention for one query position (decoding) with the CPU kernel, which reads the keys where the cache
// holds them: float32 on the CPU in InferenceMode, keys and values laid out alike. Undefined otherwise.
torch::Tensor attention_one_query(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                  const torch::Tensor& mask) {
  const int64_t B = q.size(0), H = q.size(2), hd = q.size(3), KV = k.size(1), keys = k.size(2);
  const bool floats = q.scalar_type() == torch::kFloat && k.scalar_type() == torch::kFloat &&
                      v.scalar_type() == torch::kFloat;
  if (q.size(1) != 1 || !c10::InferenceMode::is_enabled() || !q.device().is_cpu() || !floats ||
      !one_query_attention_supported(hd) || q.stride(3) != 1 || q.stride(2) != hd || k.stride(3) != 1 ||
      k.stride(2) != hd || v.strides() != k.strides())
    return {};
  torch::Tensor m = mask.defined() ? mask.to(torch::kFloat).contiguous() : mask;  // [B|1, 1, 1, 1, keys]
  OneQueryAttention a;
  a.kv_heads = KV, a.group = H / KV, a.head_dim = hd, a.keys = keys;
  a.q = q.data_ptr<float>(), a.q_row = q.stride(0);
  a.k = k.data_ptr<float>(), a.v = v.data_ptr<float>(), a.kv_row = k.stride(0), a.kv_head = k.stride(1);
  if (m.defined()) a.mask = m.data_ptr<float>(), a.mask_row = m.size(0) == 1 ? 0 : keys;
  torch::Tensor out = torch::empty({B, 1, H * hd}, q.options());
  a.out = out.data_ptr<float>();
  at::parallel_for(0, B, 1, [&](int64_t r0, int64_t r1) { one_query_attention(a, r0, r1); });
  return out;
}

// Causal attention, grouped-query without repeating keys: the G query heads that share a key head are stacked
// time-major into one product. Long sequences go in query blocks, each against only the keys it can see, which
// skips most of the masked upper triangle (about 3/8 of the attention work with four blocks).
// q [B, T, H, hd] (already scaled), k/v [B, KV, past+T, hd], mask [B|1, 1, T, 1, past+T] or undefined.
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask, int64_t past) {
  const int64_t B = q.size(0), T = q.size(1), H = q.size(2), hd = q.size(3), KV = k.size(1), G = H / KV;
  if (T == 1) {
    torch::Tensor one = attention_one_query(q, k, v, mask);
    if (one.defined()) return one;
  }
  torch::Tensor qg = q.view({B, T, KV, G, hd}).permute({0, 2, 1, 3, 4}).reshape({B, KV, T * G, hd});
  const int64_t blocks = T >= 256 ? 4 : T >= 128 ? 2 : 1;
  std::vector<torch::Tensor> outs;
  for (int64_t i = 0; i < blocks; ++i) {
    const int64_t s = T * i / blocks, e = T * (i + 1) / blocks, keys = past + e;
    torch::Tensor qi = blocks == 1 ? qg : qg.narrow(2, s * G, (e - s) * G);
    torch::Tensor ki = keys == k.size(2) ? k : k.narrow(2, 0, keys);
    torch::Tensor vi = keys == v.size(2) ? v : v.narrow(2, 0, keys);
    torch::Tensor scores = torch::matmul(qi, ki.transpose(-1, -2));  // [B, KV, (e-s)*G, keys]
    if (mask.defined()) {
      torch::Tensor m = blocks == 1 ? mask : mask.narrow(2, s, e - s).narrow(4, 0, keys);
      scores = (scores.view({B, KV, e - s, G, keys}) + m).view({B, KV, (e - s) * G, keys});
    }
    outs.push_back(torch::matmul(torch::softmax(scores, -1), vi));  // [B, KV, (e-s)*G, hd]
  }
  torch::Tensor att = blocks == 1 ? outs[0] : torch::cat(outs, 2);
  return att.view({B, KV, T, G, hd}).permute({0, 2, 1, 3, 4}).reshape({B, T, H * hd});
}

}  // namespace

// What every layer of one forward pass reads besides its weights: the rotary tables (cos_q/sin_q carry the
// attention scale; undefined when the fused inference weights carry it), the additive mask
// [B|1, 1, T, 1, past+T] (undefined: none needed) and the cached length.
struct LlamaImpl::LayerInputs {
  torch::Tensor cos, sin, cos_q, sin_q, mask;
  int64_t past = 0;
  double scale = 1.0;
};

// One decoder layer. Inference without adapters uses the fused weights; otherwise the projections are
// separate (so that autograd reaches every weight) and LoRA adds its deltas.
torch::Tensor LlamaImpl::layer(size_t l, const torch::Tensor& x_in, const LayerInputs& in, KVCache* cache) {
  Layers& L = *layers_;
  const Layers::Block& b = L.blocks[l];
  const int64_t B = x_in.size(0), T = x_in.size(1);
  const int64_t H = cfg_.num_attention_heads, KV = cfg_.num_key_value_heads, hd = cfg_.head_dim;
  const LoraAdapters* lora = lora_.get();
  const bool train = torch::GradMode::is_enabled();
  auto adapted = [&](torch::Tensor y, const char* module, const torch::Tensor& input) {
    return lora && lora->targets(module) ? y + lora->delta(static_cast<int64_t>(l), module, input, train) : y;
  };
  torch::Tensor x = x_in;
  torch::Tensor h = rms_norm(x, b.input_norm, cfg_.rms_norm_eps);
  torch::Tensor q, k, v, gu;
  const Layers::Fused* f = lora ? nullptr : L.fused_for(l, in.scale);
  if (f) {
    // one rotation for queries (already scaled) and keys together
    torch::Tensor qkv = project_t(h, f->w_qkv_t, f->b_qkv);
    torch::Tensor qk = rope_apply(qkv.narrow(-1, 0, (H + KV) * hd).view({B, T, H + KV, hd}), in.cos, in.sin);
    q = qk.narrow(2, 0, H);
    k = qk.narrow(2, H, KV).permute({0, 2, 1, 3});  // [B,KV,T,hd]
    v = qkv.narrow(-1, (H + KV) * hd, KV * hd).view({B, T, KV, hd}).permute({0, 2, 1, 3});
  } else {
    torch::Tensor w_qkv = torch::cat({b.wq, b.wk, b.wv}, 0);
    torch::Tensor b_qkv = cfg_.attention_bias ? torch::cat({b.bq, b.bk, b.bv}, 0) : torch::Tensor();
    auto parts = project(h, w_qkv, b_qkv).split({H * hd, KV * hd, KV * hd}, -1);
    torch::Tensor cos_q = in.cos_q.defined() ? in.cos_q : in.cos * in.scale;
    torch::Tensor sin_q = in.sin_q.defined() ? in.sin_q : in.sin * in.scale;
    q = rope_apply(adapted(parts[0], "q_proj", h).view({B, T, H, hd}), cos_q, sin_q);
    k = rope_apply(adapted(parts[1], "k_proj", h).view({B, T, KV, hd}), in.cos, in.sin).permute({0, 2, 1, 3});
    v = adapted(parts[2], "v_proj", h).view({B, T, KV, hd}).permute({0, 2, 1, 3});
  }
  if (cache && !torch::GradMode::is_enabled()) {
    k = cache_append(cache->k[l], k, in.past);
    v = cache_append(cache->v[l], v, in.past);
  } else if (cache && cache->k[l].defined() && in.past > 0) {
    k = torch::cat({cache->k[l].narrow(2, 0, in.past), k}, 2);
    v = torch::cat({cache->v[l].narrow(2, 0, in.past), v}, 2);
  } else {
    k = k.contiguous();
    v = v.contiguous();
  }
  if (cache && torch::GradMode::is_enabled()) {
    cache->k[l] = k;
    cache->v[l] = v;
  }
  torch::Tensor att;
  {
    RECORD_USER_SCOPE("steper::attention");  // a named range for profilers (bench/distill)
    att = attention(q, k, v, in.mask, in.past);  // [B, T, H*hd]
  }
  x = x + (f ? project_t(att, f->w_o_t, b.bo) : adapted(project(att, b.wo, b.bo), "o_proj", att));
  h = rms_norm(x, b.post_norm, cfg_.rms_norm_eps);
  if (f) {
    gu = project_t(h, f->w_gate_up_t);
  } else {
    auto parts = project(h, torch::cat({b.w_gate, b.w_up}, 0)).chunk(2, -1);
    gu = torch::cat({adapted(parts[0], "gate_proj", h), adapted(parts[1], "up_proj", h)}, -1);
  }
  auto gate_up = gu.chunk(2, -1);
  torch::Tensor act = torch::silu(gate_up[0]) * gate_up[1];
  return x + (f ? project_t(act, f->w_down_t) : adapted(project(act, b.w_down), "down_proj", act));
}

torch::Tensor LlamaImpl::run_layers(torch::Tensor x, const LayerInputs& in, KVCache* cache) {
  Layers& L = *layers_;
  if (cache && cache->k.size() != L.blocks.size()) {
    cache->k.assign(L.blocks.size(), torch::Tensor());
    cache->v.assign(L.blocks.size(), torch::Tensor());
  }
  const bool recompute = grad_checkpoint_ && !cache && torch::GradMode::is_enabled();
  for (size_t l = 0; l < L.blocks.size(); ++l) {
    if (recompute)
      x = recompute_in_backward([this, l, in](const torch::Tensor& t) { return layer(l, t, in, nullptr); }, x);
    else
      x = layer(l, x, in, cache);
  }
  return rms_norm(x, L.final_norm, cfg_.rms_norm_eps);
}

torch::Tensor LlamaImpl::forward_hidden(const torch::Tensor& ids_in, KVCache* cache, const torch::Tensor& key_valid) {
  Layers& L = *layers_;
  const torch::Device device = L.embed.device();
  TORCH_CHECK(ids_in.dim() == 2, "ids must be [B, T]");
  torch::Tensor ids = ids_in.to(device, torch::kLong);
  const int64_t B = ids.size(0), T = ids.size(1);
  const int64_t past = cache ? cache->length : 0;
  const int64_t Tk = past + T;
  const auto fopts = torch::TensorOptions().dtype(L.embed.dtype()).device(device);

  // Positions, rotary tables and the attention mask (additive, [B|1, 1, T, 1, Tk]).
  LayerInputs in;
  in.past = past;
  torch::Tensor positions;
  if (key_valid.defined()) {
    torch::Tensor kv = key_valid.to(device, torch::kBool);
    TORCH_CHECK(kv.dim() == 2 && kv.size(0) == B && kv.size(1) == Tk, "key_valid must be [B, cache + T]");
    positions = (kv.to(torch::kLong).cumsum(1) - 1).clamp_min(0).narrow(1, past, T);  // [B, T]
    torch::Tensor allowed = kv.unsqueeze(1);  // [B, T, Tk]; a single query (decoding) sees every valid key
    if (T > 1) allowed = causal_allowed(T, past, device).unsqueeze(0).logical_and(allowed);
    in.mask = torch::zeros({B, T, Tk}, fopts).masked_fill(allowed.logical_not(), -1e9).view({B, 1, T, 1, Tk});
  } else {
    positions = torch::arange(past, Tk, torch::TensorOptions().dtype(torch::kLong).device(device)).unsqueeze(0);
    if (T > 1) {
      torch::Tensor causal = causal_allowed(T, past, device);
      in.mask = torch::zeros({T, Tk}, fopts).masked_fill(causal.logical_not(), -1e9).view({1, 1, T, 1, Tk});
    }
  }
  torch::Tensor freqs = positions.to(torch::kFloat).unsqueeze(-1) * L.inv_freq.to(torch::kFloat);  // [B|1, T, hd/2]
  in.cos = freqs.cos().to(fopts.dtype()).unsqueeze(2);
  in.sin = freqs.sin().to(fopts.dtype()).unsqueeze(2);
  // The attention scale: folded into the query's rotation, or (inference) into the fused query weights.
  in.scale = 1.0 / std::sqrt(static_cast<double>(cfg_.head_dim));
  if (torch::GradMode::is_enabled()) in.cos_q = in.cos * in.scale, in.sin_q = in.sin * in.scale;

  torch::Tensor hidden = run_layers(torch::embedding(L.embed, ids), in, cache);  // [B, T, D]
  if (cache) cache->length = Tk;
  return hidden;
}

torch::Tensor LlamaImpl::forward_hidden_packed(const torch::Tensor& ids_in, const torch::Tensor& positions_in,
                                               const torch::Tensor& allowed_in) {
  Layers& L = *layers_;
  const torch::Device device = L.embed.device();
  TORCH_CHECK(ids_in.dim() == 2, "ids must be [B, T]");
  torch::Tensor ids = ids_in.to(device, torch::kLong);
  const int64_t B = ids.size(0), T = ids.size(1);
  TORCH_CHECK(positions_in.sizes() == ids.sizes(), "positions must be [B, T]");
  TORCH_CHECK(allowed_in.dim() == 3 && allowed_in.size(0) == B && allowed_in.size(1) == T && allowed_in.size(2) == T,
              "allowed must be [B, T, T]");
  const auto fopts = torch::TensorOptions().dtype(L.embed.dtype()).device(device);
  LayerInputs in;
  torch::Tensor allowed = allowed_in.to(device, torch::kBool);
  in.mask = torch::zeros({B, T, T}, fopts).masked_fill(allowed.logical_not(), -1e9).view({B, 1, T, 1, T});
  torch::Tensor freqs = positions_in.to(device, torch::kFloat).unsqueeze(-1) * L.inv_freq.to(torch::kFloat);
  in.cos = freqs.cos().to(fopts.dtype()).unsqueeze(2);
  in.sin = freqs.sin().to(fopts.dtype()).unsqueeze(2);
  in.scale = 1.0 / std::sqrt(static_cast<double>(cfg_.head_dim));
  in.cos_q = in.cos * in.scale;
  in.sin_q = in.sin * in.scale;
  return run_layers(torch::embedding(L.embed, ids), in, nullptr);
}

torch::Tensor LlamaImpl::logits(const torch::Tensor& hidden) {
  const Layers& L = *layers_;
  return project(hidden, L.lm_head.defined() ? L.lm_head : L.embed);
}

}  // namespace steper
