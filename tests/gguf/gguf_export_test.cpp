// Export of small Llama and Qwen2 folders: metadata, tensor names and layout, the rotary permutation
// (computed here independently, as numpy's reshape/swapaxes would), F16, and refusals that leave no file.
#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "common/error_of.h"
#include "core/error.h"
#include "core/io.h"
#include "gguf/gguf_export.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_vocab.h"
#include "model/llama_config.h"
#include "model/safetensors.h"

namespace steper {
namespace {

const std::string kFixtures = std::string(STEPER_FIXTURES) + "/gguf";

// ---- a small model folder with deterministic weights

struct Dims {
  int64_t vocab = 8, hidden = 8, ffn = 12, layers = 2, heads = 2, kv_heads = 1;
  int64_t head_dim() const { return hidden / heads; }
};

struct Folder {
  std::string dir;
  std::map<std::string, std::vector<float>> values;  // HF name -> row-major values
  std::map<std::string, std::vector<int64_t>> shapes;
};

float weight_value(size_t tensor_index, size_t i) {
  return static_cast<float>(std::sin(0.37 * static_cast<double>(i) + 1.3 * static_cast<double>(tensor_index)));
}

Folder make_folder(const std::string& name, const std::string& arch, const std::string& tokenizer_fixture,
                   const Dims& d, bool tied, nlohmann::json extra_config = nlohmann::json::object()) {
  Folder f;
  f.dir = "/tmp/steper_gguf_export_" + std::to_string(::getpid()) + "_" + name;
  make_dirs(f.dir);
  nlohmann::json cfg = {{"architectures", {arch == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"}},
                        {"model_type", arch},
                        {"vocab_size", d.vocab},
                        {"hidden_size", d.hidden},
                        {"intermediate_size", d.ffn},
                        {"num_hidden_layers", d.layers},
                        {"num_attention_heads", d.heads},
                        {"num_key_value_heads", d.kv_heads},
                        {"max_position_embeddings", 128},
                        {"rms_norm_eps", 1e-5},
                        {"rope_theta", 500000.0},
                        {"hidden_act", "silu"},
                        {"tie_word_embeddings", tied},
                        {"eos_token_id", 6}};
  for (auto it = extra_config.begin(); it != extra_config.end(); ++it) cfg[it.key()] = it.value();
  write_json_atomic(f.dir + "/config.json", cfg);
  write_file_atomic(f.dir + "/tokenizer.json", read_file(kFixtures + "/" + tokenizer_fixture));

  const int64_t D = d.hidden, F = d.ffn, Q = d.heads * d.head_dim(), KV = d.kv_heads * d.head_dim();
  std::vector<std::pair<std::string, std::vector<int64_t>>> list = {{"model.embed_tokens.weight", {d.vocab, D}},
                                                                    {"model.norm.weight", {D}}};
  if (!tied) list.push_back({"lm_head.weight", {d.vocab, D}});
  for (int64_t l = 0; l < d.layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    list.push_back({p + "input_layernorm.weight", {D}});
    list.push_back({p + "post_attention_layernorm.weight", {D}});
    list.push_back({p + "self_attn.q_proj.weight", {Q, D}});
    list.push_back({p + "self_attn.k_proj.weight", {KV, D}});
    list.push_back({p + "self_attn.v_proj.weight", {KV, D}});
    list.push_back({p + "self_attn.o_proj.weight", {D, Q}});
    if (arch == "qwen2") {
      list.push_back({p + "self_attn.q_proj.bias", {Q}});
      list.push_back({p + "self_attn.k_proj.bias", {KV}});
      list.push_back({p + "self_attn.v_proj.bias", {KV}});
    }
    list.push_back({p + "mlp.gate_proj.weight", {F, D}});
    list.push_back({p + "mlp.up_proj.weight", {F, D}});
    list.push_back({p + "mlp.down_proj.weight", {D, F}});
  }
  std::vector<TensorView> views;
  for (size_t k = 0; k < list.size(); ++k) {
    size_t n = 1;
    for (int64_t x : list[k].second) n *= static_cast<size_t>(x);
    std::vector<float>& v = f.values[list[k].first];
    for (size_t i = 0; i < n; ++i) v.push_back(weight_value(k, i));
    f.shapes[list[k].first] = list[k].second;
  }
  for (auto& kv : f.values) {
    TensorView t;
    t.name = kv.first;
    t.dtype = DType::kF32;
    t.shape = f.shapes[kv.first];
    t.data = reinterpret_cast<const uint8_t*>(kv.second.data());
    t.nbytes = kv.second.size() * 4;
    views.push_back(t);
  }
  safetensors_write(f.dir + "/model.safetensors", views);
  return f;
}

// numpy: w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(rows, cols), spelled out as
// the index arithmetic of a C-ordered array (not the library's formula).
std::vector<float> numpy_permute(const std::vector<float>& w, int64_t n_head, int64_t rows, int64_t cols) {
  const int64_t A = n_head, B = 2, C = rows / n_head / 2;
  std::vector<float> out(w.size());
  // out has shape (A, C, B, cols); out[a][c][b][x] = in[a][b][c][x]
  for (int64_t a = 0; a < A; ++a)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t b = 0; b < B; ++b)
        for (int64_t x = 0; x < cols; ++x) {
          int64_t out_index = ((a * C + c) * B + b) * cols + x;
          int64_t in_index = ((a * B + b) * C + c) * cols + x;
          out[out_index] = w[in_index];
        }
  return out;
}

std::string gguf_path(const Folder& f, const std::string& name) { return f.dir + "/" + name; }

std::vector<std::string> folder_files(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
  }
  return out;
}

void remove_folder(const std::string& dir) {
  for (const std::string& n : folder_files(dir)) ::unlink((dir + "/" + n).c_str());
  ::rmdir(dir.c_str());
}

// ---- Llama

TEST(GgufExport, LlamaMetadataAndTensors) {
  Dims d;
  Folder f = make_folder("llama", "llama", "tokenizer_gpt2.json", d, /*tied=*/true);
  std::string out = gguf_path(f, "model.gguf");
  GgufExportSummary s = gguf_export(f.dir, out);
  EXPECT_EQ(s.architecture, "llama");
  auto g = GgufFile::open(out);
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->get("general.architecture").as_string(""), "llama");
  EXPECT_EQ(g->get("general.file_type").as_int(""), 0);
  EXPECT_EQ(g->get("llama.context_length").as_int(""), 128);
  EXPECT_EQ(g->get("llama.embedding_length").as_int(""), d.hidden);
  EXPECT_EQ(g->get("llama.block_count").as_int(""), d.layers);
  EXPECT_EQ(g->get("llama.feed_forward_length").as_int(""), d.ffn);
  EXPECT_EQ(g->get("llama.attention.head_count").as_int(""), d.heads);
  EXPECT_EQ(g->get("llama.attention.head_count_kv").as_int(""), d.kv_heads);
  EXPECT_EQ(g->get("llama.rope.dimension_count").as_int(""), d.head_dim());
  EXPECT_EQ(g->get("llama.vocab_size").as_int(""), d.vocab);
  EXPECT_FLOAT_EQ(static_cast<float>(g->get("llama.rope.freq_base").as_float("")), 500000.0f);
  EXPECT_FLOAT_EQ(static_cast<float>(g->get("llama.attention.layer_norm_rms_epsilon").as_float("")), 1e-5f);
  EXPECT_EQ(g->get("llama.context_length").elem, GgufType::kU32);
  EXPECT_EQ(g->get("llama.rope.freq_base").elem, GgufType::kF32);
  EXPECT_EQ(g->find("llama.attention.key_length"), nullptr);

  // Tokenizer: vocabulary by id, padded; types per added token; merges as "a b"; GPT-2 pre-tokenizer.
  EXPECT_EQ(g->get("tokenizer.ggml.model").as_string(""), "gpt2");
  EXPECT_EQ(g->get("tokenizer.ggml.pre").as_string(""), "gpt-2");
  EXPECT_EQ(g->get("tokenizer.ggml.tokens").strings,
            (std::vector<std::string>{"a", "b", "ab", "\xC4\xA0", "\xC4\xA0" "ab", "<|endoftext|>", "<tool>", "<|im_x|>"}));
  EXPECT_EQ(g->get("tokenizer.ggml.token_type").ints, (std::vector<int64_t>{1, 1, 1, 1, 1, 3, 4, 3}));
  EXPECT_EQ(g->get("tokenizer.ggml.token_type").elem, GgufType::kI32);
  EXPECT_EQ(g->get("tokenizer.ggml.merges").strings, (std::vector<std::string>{"a b", "\xC4\xA0 ab"}));
  // config.json says eos 6; no BOS anywhere -> BOS = EOS, not added.
  EXPECT_EQ(g->get("tokenizer.ggml.eos_token_id").as_int(""), 6);
  EXPECT_EQ(g->get("tokenizer.ggml.bos_token_id").as_int(""), 6);
  EXPECT_FALSE(g->get("tokenizer.ggml.add_bos_token").as_bool(""));

  // Tensor names: the llama.cpp set, no output.weight (tied).
  std::set<std::string> names;
  for (const auto& t : g->tensors()) names.insert(t.name);
  std::set<std::string> want = {"token_embd.weight", "output_norm.weight"};
  for (int l = 0; l < d.layers; ++l)
    for (const char* n : {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up",
                          "ffn_down"})
      want.insert("blk." + std::to_string(l) + "." + n + ".weight");
  EXPECT_EQ(names, want);

  // Layout: ne reversed from the HF shape; values equal; Q and K permuted, V not.
  const GgufTensorInfo* emb = g->find_tensor("token_embd.weight");
  EXPECT_EQ(emb->ne, (std::vector<uint64_t>{static_cast<uint64_t>(d.hidden), static_cast<uint64_t>(d.vocab)}));
  EXPECT_EQ(g->tensor_f32(*emb), f.values["model.embed_tokens.weight"]);
  const GgufTensorInfo* down = g->find_tensor("blk.1.ffn_down.weight");
  EXPECT_EQ(down->ne, (std::vector<uint64_t>{static_cast<uint64_t>(d.ffn), static_cast<uint64_t>(d.hidden)}));
  EXPECT_EQ(g->tensor_f32(*down), f.values["model.layers.1.mlp.down_proj.weight"]);
  for (int l = 0; l < d.layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".self_attn.";
    std::string b = "blk." + std::to_string(l) + ".";
    const int64_t hd = d.head_dim();
    std::vector<float> q_want = numpy_permute(f.values[p + "q_proj.weight"], d.heads, d.heads * hd, d.hidden);
    std::vector<float> k_want = numpy_permute(f.values[p + "k_proj.weight"], d.kv_heads, d.kv_heads * hd, d.hidden);
    EXPECT_EQ(g->tensor_f32(*g->find_tensor(b + "attn_q.weight")), q_want);
    EXPECT_EQ(g->tensor_f32(*g->find_tensor(b + "attn_k.weight")), k_want);
    EXPECT_NE(q_want, f.values[p + "q_proj.weight"]);  // the permutation is not the identity here
    EXPECT_EQ(g->tensor_f32(*g->find_tensor(b + "attn_v.weight")), f.values[p + "v_proj.weight"]);
  }
  for (const auto& t : g->tensors()) EXPECT_EQ(t.offset % 32, 0u) << t.name;
  remove_folder(f.dir);
}

// Row 2j+s of each head is source row s*hd/2+j: checked on one small case by hand.
TEST(GgufExport, PermutationByHand) {
  // 1 head, head_dim 4, 1 column: rows [r0 r1 r2 r3] -> [r0 r2 r1 r3]
  std::vector<float> in = {0, 1, 2, 3}, out(4);
  gguf_permute_rows_for_rope(in.data(), out.data(), 1, 4, 1);
  EXPECT_EQ(out, (std::vector<float>{0, 2, 1, 3}));
  // 2 heads, head_dim 6: per head [0 1 2 3 4 5] -> [0 3 1 4 2 5]
  std::vector<float> in2 = {0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15}, out2(12);
  gguf_permute_rows_for_rope(in2.data(), out2.data(), 2, 6, 1);
  EXPECT_EQ(out2, (std::vector<float>{0, 3, 1, 4, 2, 5, 10, 13, 11, 14, 12, 15}));
}

TEST(GgufExport, LlamaUntiedF16AndLlama3Rope) {
  Dims d;
  nlohmann::json extra = {{"rope_scaling",
                           {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                            {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}}},
                          {"rope_theta", 10000.0}};
  Folder f = make_folder("llama_f16", "llama", "tokenizer_llama3.json", d, /*tied=*/false, extra);
  std::string out = gguf_path(f, "model-f16.gguf");
  GgufExportOptions o;
  o.type = "f16";
  gguf_export(f.dir, out, o);
  auto g = GgufFile::open(out);
  EXPECT_EQ(g->get("general.file_type").as_int(""), 1);
  EXPECT_EQ(g->get("tokenizer.ggml.pre").as_string(""), "llama-bpe");
  EXPECT_TRUE(g->get("tokenizer.ggml.add_bos_token").as_bool(""));
  EXPECT_EQ(g->get("tokenizer.ggml.bos_token_id").as_int(""), 5);  // from the post-processor template
  EXPECT_EQ(g->get("tokenizer.ggml.token_type").ints[5], 3);
  const GgufTensorInfo* o_w = g->find_tensor("output.weight");
  ASSERT_NE(o_w, nullptr);
  EXPECT_EQ(o_w->type, static_cast<uint32_t>(GgmlType::kF16));
  EXPECT_EQ(g->find_tensor("blk.0.attn_norm.weight")->type, static_cast<uint32_t>(GgmlType::kF32));
  EXPECT_EQ(g->find_tensor("output_norm.weight")->type, static_cast<uint32_t>(GgmlType::kF32));
  std::vector<float> got = g->tensor_f32(*o_w);
  const std::vector<float>& src = f.values["lm_head.weight"];
  for (size_t i = 0; i < src.size(); ++i)
    EXPECT_NEAR(got[i], src[i], std::fabs(src[i]) * std::ldexp(1.0, -11) + 1e-7) << i;

  // rope_freqs for Llama-3.1 scaling, head_dim 4 -> freqs 1, 0.01 (theta 10000): wavelengths 2*pi and
  // 200*pi. With original context 64: high_freq_wavelen 16, low_freq_wavelen 64: 2*pi < 16 -> factor 1;
  // 200*pi > 64 -> factor 8.
  const GgufTensorInfo* rf = g->find_tensor("rope_freqs.weight");
  ASSERT_NE(rf, nullptr);
  EXPECT_EQ(rf->type, static_cast<uint32_t>(GgmlType::kF32));
  EXPECT_EQ(g->tensor_f32(*rf), (std::vector<float>{1.0f, 8.0f}));
  remove_folder(f.dir);
}

// ---- Qwen2: own architecture name, q/k/v biases, no permutation

TEST(GgufExport, Qwen2) {
  Dims d;
  Folder f = make_folder("qwen2", "qwen2", "tokenizer_qwen2.json", d, /*tied=*/true);
  std::string out = gguf_path(f, "qwen.gguf");
  gguf_export(f.dir, out);
  auto g = GgufFile::open(out);
  EXPECT_EQ(g->get("general.architecture").as_string(""), "qwen2");
  EXPECT_EQ(g->get("qwen2.block_count").as_int(""), d.layers);
  EXPECT_EQ(g->get("qwen2.attention.head_count_kv").as_int(""), d.kv_heads);
  EXPECT_EQ(g->find("llama.block_count"), nullptr);
  EXPECT_EQ(g->get("tokenizer.ggml.pre").as_string(""), "qwen2");
  EXPECT_EQ(g->get("tokenizer.ggml.eos_token_id").as_int(""), 6);
  EXPECT_EQ(g->get("tokenizer.ggml.token_type").ints[7], 3);
  for (const char* n : {"q", "k", "v"}) {
    std::string hf = std::string("model.layers.0.self_attn.") + n + "_proj.";
    std::string gg = std::string("blk.0.attn_") + n + ".";
    ASSERT_NE(g->find_tensor(gg + "bias"), nullptr) << n;
    EXPECT_EQ(g->tensor_f32(*g->find_tensor(gg + "weight")), f.values[hf + "weight"]) << n;
    EXPECT_EQ(g->tensor_f32(*g->find_tensor(gg + "bias")), f.values[hf + "bias"]) << n;
  }
  EXPECT_EQ(g->find_tensor("output.weight"), nullptr);
  remove_folder(f.dir);
}

// ---- refusals: one clear message, no file (and no temporary) left

std::string export_error(const Folder& f) {
  std::string out = gguf_path(f, "refused.gguf");
  std::string msg;
  try {
    gguf_export(f.dir, out);
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_FALSE(msg.empty());
  for (const std::string& n : folder_files(f.dir)) EXPECT_EQ(n.find("refused.gguf"), std::string::npos) << n;
  return msg;
}

TEST(GgufExport, RefusesWhatGgufCannotExpress) {
  Dims d;
  struct Case {
    std::string tokenizer;
    nlohmann::json extra;
    std::vector<std::string> want;  // substrings of the message
  };
  std::vector<Case> cases = {
      {"tokenizer_wordpiece.json", nlohmann::json::object(), {"tokenizer.json", "model.type WordPiece"}},
      {"tokenizer_metaspace.json", nlohmann::json::object(), {"tokenizer.json", "pre_tokenizer Metaspace"}},
      {"tokenizer_unknown_split.json", nlohmann::json::object(), {"tokenizer.json", "pattern", "not one llama.cpp knows"}},
      {"tokenizer_gpt2.json", {{"architectures", {"GPT2LMHeadModel"}}}, {"config.json", "GPT2LMHeadModel"}},
      {"tokenizer_gpt2.json", {{"rope_scaling", {{"rope_type", "yarn"}, {"factor", 4.0}}}}, {"config.json", "yarn"}},
      {"tokenizer_gpt2.json", {{"hidden_size", 12}}, {"model.safetensors", "model.embed_tokens.weight", "shape"}},
      {"tokenizer_gpt2.json", {{"vocab_size", 4}, {"eos_token_id", 3}}, {"model.safetensors", "rows", "vocab_size"}},
      {"tokenizer_gpt2.json", {{"tie_word_embeddings", false}}, {"lm_head.weight", "tie_word_embeddings"}},
      {"tokenizer_gpt2.json", {{"num_key_value_heads", 3}}, {"config.json", "num_key_value_heads"}},
  };
  int k = 0;
  for (const Case& c : cases) {
    Folder f = make_folder("refuse" + std::to_string(k++), "llama", c.tokenizer, d, true, c.extra);
    std::string msg = export_error(f);
    for (const std::string& w : c.want) EXPECT_NE(msg.find(w), std::string::npos) << "message: " << msg;
    remove_folder(f.dir);
  }
}

// config.json has one reader: the exporter refuses a malformed field with the model loader's words.
TEST(GgufExport, ReadsConfigJsonAsTheModelLoaderDoes) {
  Dims d;
  const std::vector<nlohmann::json> damaged = {
      {{"architectures", "LlamaForCausalLM"}},   // a name, not a list
      {{"architectures", {7}}},                  // a list of a number
      {{"architectures", nlohmann::json::array()}},
      {{"model_type", 3}, {"architectures", nullptr}}};
  int k = 0;
  for (const nlohmann::json& extra : damaged) {
    Folder f = make_folder("config" + std::to_string(k++), "llama", "tokenizer_gpt2.json", d, true, extra);
    const std::string loader = error_of([&] { llama_config_read(f.dir); });
    EXPECT_EQ(loader.rfind(f.dir + "/config.json: field \"", 0), 0u) << loader;
    EXPECT_EQ(export_error(f), loader);
    remove_folder(f.dir);
  }
}

TEST(GgufExport, RefusesBadFlagsAndFolders) {
  GgufExportOptions o;
  o.type = "q4";
  EXPECT_HAS(error_of([&] { gguf_export("/nonexistent", "/tmp/x.gguf", o); }), "--type");
  EXPECT_HAS(error_of([&] { gguf_export("/nonexistent_model_dir", "/tmp/steper_never_written.gguf"); }),
             "/nonexistent_model_dir/config.json");
  EXPECT_NE(::access("/tmp/steper_never_written.gguf", F_OK), 0);
}

}  // namespace
}  // namespace steper
