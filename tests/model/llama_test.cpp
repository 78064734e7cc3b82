// The Llama decoder against an independent step-by-step reimplementation (double precision, one head at a
// time, Hugging Face's rotate_half and repeat_kv conventions), cached and batched decoding, llama3 rope
// scaling, config validation, and model-folder save/load.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/error_of.h"
#include "core/error.h"
#include "core/io.h"
#include "common/random_weights.h"
#include "common/toy_llama.h"
#include "model/llama.h"
#include "model/safetensors.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

std::string temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("steper_llama_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// ---------------------------------------------------------------------------------------------
// Reference forward: one sequence, double precision, one head at a time.

torch::Tensor ref_rms(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return x / torch::sqrt((x * x).sum(1, true) / x.size(1) + eps) * w;
}

torch::Tensor rotate_half(const torch::Tensor& x) {
  int64_t h = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
}

torch::Tensor ref_forward(Llama& m, const std::vector<int64_t>& ids) {
  const LlamaConfig& c = m->config();
  std::map<std::string, torch::Tensor> P;
  for (auto& [n, p] : m->hf_named_parameters()) P[n] = p.detach().to(torch::kDouble);
  auto get = [&](const std::string& n) { return P.at(n); };
  const int64_t T = ids.size(), hd = c.head_dim, H = c.num_attention_heads, KV = c.num_key_value_heads;
  const int64_t G = H / KV;
  // rotary tables: emb = cat(freqs, freqs)
  torch::Tensor cos = torch::empty({T, hd}, torch::kDouble), sin = torch::empty({T, hd}, torch::kDouble);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < hd / 2; ++i) {
      double inv = 1.0 / std::pow(c.rope_theta, (2.0 * i) / hd);
      cos[t][i] = cos[t][i + hd / 2] = std::cos(t * inv);
      sin[t][i] = sin[t][i + hd / 2] = std::sin(t * inv);
    }
  torch::Tensor x = torch::empty({T, c.hidden_size}, torch::kDouble);
  for (int64_t t = 0; t < T; ++t) x[t] = get("model.embed_tokens.weight")[ids[t]];
  for (int64_t l = 0; l < c.num_hidden_layers; ++l) {
    std::string pre = "model.layers." + std::to_string(l) + ".";
    torch::Tensor h = ref_rms(x, get(pre + "input_layernorm.weight"), c.rms_norm_eps);
    torch::Tensor q = h.matmul(get(pre + "self_attn.q_proj.weight").t());
    torch::Tensor k = h.matmul(get(pre + "self_attn.k_proj.weight").t());
    torch::Tensor v = h.matmul(get(pre + "self_attn.v_proj.weight").t());
    if (c.attention_bias) {
      q = q + get(pre + "self_attn.q_proj.bias");
      k = k + get(pre + "self_attn.k_proj.bias");
      v = v + get(pre + "self_attn.v_proj.bias");
    }
    std::vector<torch::Tensor> heads;
    for (int64_t hh = 0; hh < H; ++hh) {
      int64_t kvh = hh / G;  // repeat_kv: key head i serves query heads i*G .. i*G+G-1
      torch::Tensor qh = q.narrow(1, hh * hd, hd), kh = k.narrow(1, kvh * hd, hd), vh = v.narrow(1, kvh * hd, hd);
      qh = qh * cos + rotate_half(qh) * sin;
      kh = kh * cos + rotate_half(kh) * sin;
      torch::Tensor s = qh.matmul(kh.t()) / std::sqrt(static_cast<double>(hd));
      torch::Tensor future = torch::ones({T, T}, torch::kBool).triu(1);
      torch::Tensor out = torch::softmax(s.masked_fill(future, -INFINITY), -1).matmul(vh);
      heads.push_back(out);
    }
    torch::Tensor att = torch::cat(heads, 1).matmul(get(pre + "self_attn.o_proj.weight").t());
    if (c.attention_out_bias) att = att + get(pre + "self_attn.o_proj.bias");
    x = x + att;
    h = ref_rms(x, get(pre + "post_attention_layernorm.weight"), c.rms_norm_eps);
    torch::Tensor g = h.matmul(get(pre + "mlp.gate_proj.weight").t());
    torch::Tensor u = h.matmul(get(pre + "mlp.up_proj.weight").t());
    torch::Tensor silu = g / (1.0 + torch::exp(-g));
    x = x + (silu * u).matmul(get(pre + "mlp.down_proj.weight").t());
  }
  x = ref_rms(x, get("model.norm.weight"), c.rms_norm_eps);
  torch::Tensor head = c.tie_word_embeddings ? get("model.embed_tokens.weight") : get("lm_head.weight");
  return x.matmul(head.t());
}

torch::Tensor ids_tensor(const std::vector<int64_t>& ids) {
  return torch::tensor(ids, torch::kLong).unsqueeze(0);
}

TEST(Llama, ForwardMatchesStepByStepReference) {
  std::vector<int64_t> long_ids;  // long enough for the blocked attention (128+ and 256+ tokens)
  for (int i = 0; i < 261; ++i) long_ids.push_back((i * 37 + 11) % 53);
  const std::vector<std::vector<int64_t>> cases = {{3, 17, 52, 0, 9, 9, 41, 7, 30},
                                                   std::vector<int64_t>(long_ids.begin(), long_ids.begin() + 150),
                                                   long_ids};
  for (const auto& ids : cases)
  for (bool qwen : {false, true})
    for (bool tied : {false, true}) {
      Llama m(toy_llama_config(qwen, tied));
      randomize_weights(m, 11 + qwen * 2 + tied);
      torch::Tensor got = m->forward(ids_tensor(ids)).squeeze(0).to(torch::kDouble);
      torch::Tensor want = ref_forward(m, ids);
      ASSERT_EQ(got.sizes(), want.sizes());
      double err = (got - want).abs().max().item<double>();
      double scale = want.abs().max().item<double>();
      EXPECT_LT(err, 1e-4 * std::max(1.0, scale)) << "qwen=" << qwen << " tied=" << tied << " T=" << ids.size();
      EXPECT_GT(scale, 1.0);  // weights were random enough to matter
    }
}

TEST(Llama, PackedForwardEqualsEachSequenceAlone) {
  // one row holding a = [5 tokens] and b = a's first 3 tokens then 4 of its own, b's tokens seeing only
  // a's first 3 and themselves, at positions 3..6; a second row holding c alone, padded
  const std::vector<int64_t> a = {3, 17, 52, 0, 9}, b = {3, 17, 52, 41, 7, 30, 2}, c = {8, 1, 44};
  for (bool qwen : {false, true}) {
    Llama m(toy_llama_config(qwen, false));
    randomize_weights(m, 5 + qwen);
    const int64_t T = 9;
    std::vector<int64_t> ids = {3, 17, 52, 0, 9, 41, 7, 30, 2, 8, 1, 44, 0, 0, 0, 0, 0, 0};
    std::vector<int64_t> pos = {0, 1, 2, 3, 4, 3, 4, 5, 6, 0, 1, 2, 0, 0, 0, 0, 0, 0};
    torch::Tensor allowed = torch::zeros({2, T, T}, torch::kBool);
    for (int64_t t = 0; t < T; ++t) allowed[1][t][t] = true;
    for (int64_t t = 0; t < 5; ++t) allowed[0][t].narrow(0, 0, t + 1).fill_(true);  // a: causal
    for (int64_t t = 5; t < 9; ++t) {
      allowed[0][t].narrow(0, 0, 3).fill_(true);  // b's shared prefix
      allowed[0][t].narrow(0, 5, t - 4).fill_(true);
    }
    for (int64_t t = 0; t < 3; ++t) allowed[1][t].narrow(0, 0, t + 1).fill_(true);
    torch::Tensor h = m->forward_hidden_packed(torch::tensor(ids).view({2, T}), torch::tensor(pos).view({2, T}),
                                               allowed);
    torch::Tensor ha = m->forward_hidden(ids_tensor(a))[0], hb = m->forward_hidden(ids_tensor(b))[0];
    torch::Tensor hc = m->forward_hidden(ids_tensor(c))[0];
    auto close = [](const torch::Tensor& x, const torch::Tensor& y) {
      return (x - y).abs().max().item<double>() / y.abs().max().item<double>();
    };
    EXPECT_LT(close(h[0].narrow(0, 0, 5), ha), 1e-5) << "qwen=" << qwen;
    EXPECT_LT(close(h[0].narrow(0, 5, 4), hb.narrow(0, 3, 4)), 1e-5) << "qwen=" << qwen;
    EXPECT_LT(close(h[1].narrow(0, 0, 3), hc), 1e-5) << "qwen=" << qwen;
    // a wrong position moves the hidden state: positions are used, not the row index
    std::vector<int64_t> shifted = pos;
    shifted[5] = 5;
    torch::Tensor hs = m->forward_hidden_packed(torch::tensor(ids).view({2, T}),
                                                torch::tensor(shifted).view({2, T}), allowed);
    EXPECT_GT(close(hs[0][5], hb[3]), 1e-3) << "qwen=" << qwen;
  }
}

TEST(Llama, ParameterNamesAreHuggingFace) {
  Llama m(toy_llama_config(true, false));
  std::map<std::string, std::vector<int64_t>> names;
  for (auto& [n, p] : m->hf_named_parameters()) names[n] = p.sizes().vec();
  EXPECT_EQ(names.at("model.embed_tokens.weight"), (std::vector<int64_t>{53, 24}));
  EXPECT_EQ(names.at("model.layers.1.self_attn.q_proj.weight"), (std::vector<int64_t>{24, 24}));
  EXPECT_EQ(names.at("model.layers.1.self_attn.k_proj.weight"), (std::vector<int64_t>{12, 24}));
  EXPECT_EQ(names.at("model.layers.0.self_attn.v_proj.bias"), (std::vector<int64_t>{12}));
  EXPECT_EQ(names.at("model.layers.0.mlp.down_proj.weight"), (std::vector<int64_t>{24, 40}));
  EXPECT_EQ(names.at("model.layers.0.post_attention_layernorm.weight"), (std::vector<int64_t>{24}));
  EXPECT_EQ(names.at("lm_head.weight"), (std::vector<int64_t>{53, 24}));
  EXPECT_EQ(names.count("model.layers.0.self_attn.o_proj.bias"), 0u);
  EXPECT_EQ(names.size(), 2u + 2 * 12 + 1);
  // The module's parameters are the same tensors (the optimiser sees what hf_named_parameters names).
  EXPECT_EQ(m->parameters().size(), names.size());
}

// ---------------------------------------------------------------------------------------------
// Decoding

std::vector<int64_t> greedy_full(Llama& m, std::vector<int64_t> ids, int n) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    int64_t next = m->forward(ids_tensor(ids))[0][-1].argmax().item<int64_t>();
    out.push_back(next);
    ids.push_back(next);
  }
  return out;
}

TEST(Llama, CachedDecodingEqualsRecomputing) {
  torch::InferenceMode guard;
  Llama m(toy_llama_config(false, true));
  randomize_weights(m, 5);
  std::vector<int64_t> prompt = {1, 2, 3, 4, 5};
  std::vector<int64_t> want = greedy_full(m, prompt, 12);
  KVCache cache;
  torch::Tensor logits = m->logits(m->forward_hidden(ids_tensor(prompt), &cache));
  std::vector<int64_t> got;
  std::vector<int64_t> all = prompt;
  for (int i = 0; i < 12; ++i) {
    int64_t next = logits[0][-1].argmax().item<int64_t>();
    got.push_back(next);
    all.push_back(next);
    // logits from the cache equal those of the full sequence
    torch::Tensor full = m->forward(ids_tensor(all))[0][-1];
    logits = m->logits(m->forward_hidden(ids_tensor({next}), &cache));
    EXPECT_LT((logits[0][-1] - full).abs().max().item<double>(), 1e-4);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(cache.length, static_cast<int64_t>(prompt.size() + 12));
}

TEST(Llama, LeftPaddedBatchEqualsOneAtATime) {
  torch::InferenceMode guard;
  Llama m(toy_llama_config(true, false));
  randomize_weights(m, 8);
  std::vector<int64_t> long_prompt;  // 140 tokens: the batch's prefill runs the blocked attention
  for (int i = 0; i < 140; ++i) long_prompt.push_back((i * 7 + 3) % 53);
  std::vector<std::vector<int64_t>> prompts = {{4, 8, 15, 16, 23, 42}, {7, 1}, long_prompt, {33, 2, 11}};
  const int steps = 6;
  std::vector<std::vector<int64_t>> want;
  for (const auto& p : prompts) want.push_back(greedy_full(m, p, steps));

  const int64_t B = prompts.size();
  int64_t Tmax = 0;
  for (const auto& p : prompts) Tmax = std::max<int64_t>(Tmax, p.size());
  torch::Tensor ids = torch::zeros({B, Tmax}, torch::kLong);
  torch::Tensor valid = torch::zeros({B, Tmax}, torch::kBool);
  for (int64_t b = 0; b < B; ++b) {
    int64_t pad = Tmax - prompts[b].size();
    for (size_t t = 0; t < prompts[b].size(); ++t) ids[b][pad + t] = prompts[b][t];
    valid[b].narrow(0, pad, prompts[b].size()).fill_(true);
  }
  KVCache cache;
  torch::Tensor logits = m->logits(m->forward_hidden(ids, &cache, valid));
  // The last position of each row equals the unpadded sequence's last logits.
  for (int64_t b = 0; b < B; ++b) {
    torch::Tensor single = m->forward(ids_tensor(prompts[b]))[0][-1];
    EXPECT_LT((logits[b][-1] - single).abs().max().item<double>(), 1e-4) << b;
  }
  std::vector<std::vector<int64_t>> got(B);
  for (int s = 0; s < steps; ++s) {
    torch::Tensor next = logits.select(1, -1).argmax(-1);  // [B]
    for (int64_t b = 0; b < B; ++b) got[b].push_back(next[b].item<int64_t>());
    valid = torch::cat({valid, torch::ones({B, 1}, torch::kBool)}, 1);
    logits = m->logits(m->forward_hidden(next.unsqueeze(1), &cache, valid));
  }
  EXPECT_EQ(got, want);
}

// ---------------------------------------------------------------------------------------------
// llama3 rope scaling against transformers' _compute_llama3_parameters, restated in plain C++.

TEST(Llama, Llama3RopeScalingMatchesFormula) {
  LlamaConfig c = toy_llama_config(false, false);
  c.head_dim = 128;
  c.hidden_size = 512;
  c.rope_theta = 500000.0;
  c.rope_type = "llama3";
  c.rope_factor = 8.0;
  c.rope_low_freq_factor = 1.0;
  c.rope_high_freq_factor = 4.0;
  c.rope_original_max_position = 8192;
  torch::Tensor got = rope_inv_freq(c);
  ASSERT_EQ(got.numel(), 64);
  int low = 0, high = 0, medium = 0;
  for (int i = 0; i < 64; ++i) {
    double inv = 1.0 / std::pow(500000.0, (2.0 * i) / 128.0);
    double wavelen = 2 * M_PI / inv;
    double low_wl = 8192 / 1.0, high_wl = 8192 / 4.0;
    double want;
    if (wavelen < high_wl) {
      want = inv;
      ++high;
    } else if (wavelen > low_wl) {
      want = inv / 8.0;
      ++low;
    } else {
      double smooth = (8192 / wavelen - 1.0) / (4.0 - 1.0);
      want = (1 - smooth) * inv / 8.0 + smooth * inv;
      ++medium;
    }
    EXPECT_NEAR(got[i].item<double>(), want, 2e-5 * want) << i;  // float32, as transformers computes it
  }
  EXPECT_GT(low, 0);
  EXPECT_GT(high, 0);
  EXPECT_GT(medium, 0);
  // Without scaling: the plain formula.
  c.rope_type = "";
  torch::Tensor plain = rope_inv_freq(c);
  for (int i = 0; i < 64; ++i) {
    double want = 1.0 / std::pow(500000.0, (2.0 * i) / 128.0);
    EXPECT_NEAR(plain[i].item<double>(), want, 2e-5 * want) << i;
  }
}

// ---------------------------------------------------------------------------------------------
// Config validation

std::string config_error(const nlohmann::json& j) {
  try {
    LlamaConfig::from_json(j, "/m/config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

nlohmann::json good_config_json() {
  return {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 100}, {"hidden_size", 64},
          {"intermediate_size", 128},              {"num_hidden_layers", 2}, {"num_attention_heads", 4},
          {"num_key_value_heads", 2},              {"rms_norm_eps", 1e-5},   {"rope_theta", 10000.0},
          {"eos_token_id", {5, 6}}};
}

TEST(LlamaConfig, ParsesAndRoundTrips) {
  LlamaConfig c = LlamaConfig::from_json(good_config_json(), "/m/config.json");
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.eos_token_id, 5);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{5, 6}));
  LlamaConfig d = LlamaConfig::from_json(c.to_json(), "x");
  EXPECT_EQ(d.to_json(), c.to_json());
  nlohmann::json q = good_config_json();
  q["architectures"] = {"Qwen2ForCausalLM"};
  EXPECT_TRUE(LlamaConfig::from_json(q, "q").attention_bias);
  nlohmann::json r = good_config_json();
  r["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  LlamaConfig rc = LlamaConfig::from_json(r, "r");
  EXPECT_EQ(rc.rope_type, "llama3");
  EXPECT_EQ(rc.rope_original_max_position, 8192);
}

TEST(LlamaConfig, ErrorsNameFieldAndFile) {
  for (const char* field : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                            "num_attention_heads"}) {
    nlohmann::json j = good_config_json();
    j.erase(field);
    std::string msg = config_error(j);
    EXPECT_NE(msg.find("/m/config.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find(std::string("\"") + field + "\""), std::string::npos) << msg;
  }
  nlohmann::json j = good_config_json();
  j["hidden_size"] = 66;
  EXPECT_NE(config_error(j).find("divisible by \"num_attention_heads\""), std::string::npos) << config_error(j);
  j = good_config_json();
  j["num_key_value_heads"] = 3;
  EXPECT_NE(config_error(j).find("divisible by \"num_key_value_heads\""), std::string::npos) << config_error(j);
  j = good_config_json();
  j["architectures"] = {"GPT2LMHeadModel"};
  EXPECT_NE(config_error(j).find("unsupported architecture \"GPT2LMHeadModel\""), std::string::npos);
  j = good_config_json();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_NE(config_error(j).find("yarn"), std::string::npos);
  j = good_config_json();
  j["hidden_size"] = "64";
  EXPECT_NE(config_error(j).find("\"hidden_size\" must be an integer"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Save and load

void expect_same_params(Llama& a, Llama& b, double tol) {
  auto pa = a->hf_named_parameters(), pb = b->hf_named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) {
    ASSERT_EQ(pa[i].first, pb[i].first);
    EXPECT_LE((pa[i].second - pb[i].second).abs().max().item<double>(), tol) << pa[i].first;
  }
}

TEST(LlamaIO, SaveLoadRoundTripAllDtypes) {
  Llama m(toy_llama_config(true, false));
  randomize_weights(m, 3);
  for (const std::string dtype : {"float32", "float16", "bfloat16"}) {
    std::string dir = temp_dir("rt_" + dtype);
    llama_save(m, dir, "{\"model\":{}}", dtype);
    for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"})
      EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
    EXPECT_EQ(read_json(dir + "/config.json")["torch_dtype"], dtype);
    Llama back = llama_load(dir);
    if (dtype == "float32") {
      expect_same_params(m, back, 0.0);
    } else {
      // Each value is the float32 rounded to the stored type (conversions checked in safetensors_test).
      auto pa = m->hf_named_parameters(), pb = back->hf_named_parameters();
      for (size_t i = 0; i < pa.size(); ++i) {
        torch::Tensor a = pa[i].second.detach().flatten(), b = pb[i].second.detach().flatten();
        for (int64_t k = 0; k < a.numel(); k += 7) {
          float x = a[k].item<float>();
          float want = dtype == "float16" ? f16_to_f32(f32_to_f16(x)) : bf16_to_f32(f32_to_bf16(x));
          ASSERT_EQ(b[k].item<float>(), want) << pa[i].first << " " << k;
        }
      }
    }
    torch::Tensor ids = ids_tensor({1, 5, 9, 2});
    double diff = (m->forward(ids) - back->forward(ids)).abs().max().item<double>();
    EXPECT_LT(diff, dtype == "float32" ? 1e-6 : 0.5) << dtype;
    fs::remove_all(dir);
  }
}

TEST(LlamaIO, MissingAndMisshapenTensorsAreNamed) {
  Llama m(toy_llama_config(false, false));
  std::string dir = temp_dir("missing");
  llama_save(m, dir, "");
  // Rewrite the weights without one tensor and with another of the wrong shape.
  std::vector<torch::Tensor> keep;
  std::vector<TensorView> views;
  for (auto& [name, p] : m->hf_named_parameters()) {
    if (name == "model.layers.1.mlp.up_proj.weight") continue;
    torch::Tensor t = name == "model.norm.weight" ? torch::ones({23}) : p.detach().contiguous();
    keep.push_back(t);
    views.push_back({name, DType::kF32, t.sizes().vec(), static_cast<const uint8_t*>(t.data_ptr()),
                     static_cast<size_t>(t.numel() * 4)});
  }
  safetensors_write(dir + "/model.safetensors", views);
  try {
    llama_load(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("\"model.layers.1.mlp.up_proj.weight\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("[40, 24]"), std::string::npos) << msg;
  }
  views.erase(views.begin());  // drop the embedding too; put up_proj back
  torch::Tensor up = torch::zeros({40, 24});
  views.push_back({"model.layers.1.mlp.up_proj.weight", DType::kF32, {40, 24},
                   static_cast<const uint8_t*>(up.data_ptr()), 40 * 24 * 4});
  torch::Tensor emb = torch::zeros({53, 24});
  views.push_back({"model.embed_tokens.weight", DType::kF32, {53, 24}, static_cast<const uint8_t*>(emb.data_ptr()),
                   53 * 24 * 4});
  safetensors_write(dir + "/model.safetensors", views);
  try {
    llama_load(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("\"model.norm.weight\" has shape [23], expected [24]"), std::string::npos) << msg;
  }
  fs::remove_all(dir);
}

TEST(LlamaIO, ShardedFolderLoads) {
  Llama m(toy_llama_config(false, true));
  randomize_weights(m, 21);
  std::string dir = temp_dir("sharded");
  llama_save(m, dir, "");
  fs::remove(dir + "/model.safetensors");
  auto named = m->hf_named_parameters();
  nlohmann::json map = nlohmann::json::object();
  std::vector<TensorView> shard[2];
  std::vector<torch::Tensor> keep;
  for (size_t i = 0; i < named.size(); ++i) {
    torch::Tensor t = named[i].second.detach().contiguous();
    keep.push_back(t);
    int s = i < named.size() / 2 ? 0 : 1;
    std::string file = s == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    shard[s].push_back({named[i].first, DType::kF32, t.sizes().vec(), static_cast<const uint8_t*>(t.data_ptr()),
                        static_cast<size_t>(t.numel() * 4)});
    map[named[i].first] = file;
  }
  safetensors_write(dir + "/model-00001-of-00002.safetensors", shard[0]);
  safetensors_write(dir + "/model-00002-of-00002.safetensors", shard[1]);
  write_json_atomic(dir + "/model.safetensors.index.json", {{"metadata", {{"total_size", 0}}}, {"weight_map", map}});
  Llama back = llama_load(dir);
  expect_same_params(m, back, 0.0);
  fs::remove(dir + "/model-00002-of-00002.safetensors");
  EXPECT_HAS(error_of([&] { llama_load(dir); }), "model-00002-of-00002.safetensors");
  fs::remove_all(dir);
}

TEST(Llama, TrainingStepReducesLoss) {
  Llama m(toy_llama_config(false, true));
  torch::manual_seed(1);
  torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(1e-2));
  torch::Tensor ids = torch::randint(0, 53, {4, 12}, torch::kLong);
  double first = 0, last = 0;
  for (int i = 0; i < 30; ++i) {
    torch::Tensor logits = m->forward(ids.narrow(1, 0, 11));
    torch::Tensor loss = torch::cross_entropy_loss(logits.reshape({-1, 53}), ids.narrow(1, 1, 11).reshape({-1}));
    opt.zero_grad();
    loss.backward();
    opt.step();
    if (i == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  EXPECT_LT(last, first * 0.5);
}

}  // namespace
}  // namespace steper
