// The decoder's inference path (fused q/k/v and gate/up weights kept between calls, one-row products as
// matrix-vector products, decoding attention in the CPU kernel) against its training path, which
// llama_test.cpp holds to an independent reference; the fused weights following a change of the weights;
// the attention kernel against a plain softmax.
#include <gtest/gtest.h>

#include "model/inference_kernels.h"
#include "common/random_weights.h"
#include "common/toy_llama.h"
#include "model/llama.h"

namespace steper {
namespace {

Llama random_model(bool qwen, int64_t hidden = 32) {
  LlamaConfig c = toy_llama_config(qwen);
  c.hidden_size = hidden;  // 4 heads: head_dim hidden / 4
  c.head_dim = 0;
  Llama m(c);
  randomize_weights(m, 11);
  return m;
}

// Prompt, then two tokens one at a time through the cache: every row count the decoder sees.
torch::Tensor decode_hidden(Llama& m) {
  torch::Tensor prompt = torch::tensor({3, 17, 5, 29, 8}, torch::kLong).unsqueeze(0);
  KVCache cache;
  std::vector<torch::Tensor> out = {m->forward_hidden(prompt, &cache)};
  for (int64_t t : {11, 2}) out.push_back(m->forward_hidden(torch::tensor({t}, torch::kLong).unsqueeze(0), &cache));
  return torch::cat(out, 1).detach().clone();
}

torch::Tensor inference_hidden(Llama& m) {
  torch::InferenceMode guard;
  return decode_hidden(m).clone();
}

TEST(LlamaInference, FusedWeightsAndOneRowProductsEqualTheTrainingPath) {
  for (bool qwen : {false, true}) {
    Llama m = random_model(qwen);
    torch::Tensor trained = decode_hidden(m);  // gradients on: weights concatenated per call, GEMM
    torch::Tensor fast = inference_hidden(m);
    EXPECT_TRUE(torch::allclose(fast, trained, 1e-5, 1e-5)) << (qwen ? "qwen2" : "llama") << " max diff "
                                                            << (fast - trained).abs().max().item<double>();
  }
}

TEST(LlamaInference, FusedWeightsFollowAChangedWeight) {
  Llama m = random_model(true);
  torch::Tensor before = inference_hidden(m);
  {
    torch::NoGradGuard g;
    for (auto& [name, p] : m->hf_named_parameters())
      if (name.find("layers.1.self_attn.k_proj") != std::string::npos || name.find("layers.0.mlp.up_proj") != std::string::npos)
        p.mul_(1.7);
  }
  torch::Tensor after = inference_hidden(m);
  torch::Tensor trained = decode_hidden(m);
  EXPECT_FALSE(torch::allclose(after, before, 1e-3, 1e-3));
  EXPECT_TRUE(torch::allclose(after, trained, 1e-5, 1e-5)) << (after - trained).abs().max().item<double>();
}

// A left-padded batch, one row with a hole in its keys, decoded a token at a time: for the head size the
// kernel specialises (32) and the general one (8).
TEST(LlamaInference, DecodingAPaddedBatchEqualsTheTrainingPath) {
  for (int64_t hidden : {32, 128}) {
    Llama m = random_model(false, hidden);
    torch::Tensor ids = torch::tensor({3, 17, 5, 29, 8, 1, 9, 0, 0, 0, 4, 4, 7, 30, 0, 0, 12, 6, 40, 2, 19},
                                      torch::kLong).view({3, 7});
    torch::Tensor valid = torch::ones({3, 7}, torch::kBool);
    valid[1].narrow(0, 0, 3).fill_(false);
    valid[2].narrow(0, 0, 2).fill_(false);
    valid[2][4] = false;
    auto run = [&] {
      KVCache cache;
      torch::Tensor v = valid;
      std::vector<torch::Tensor> out = {m->forward_hidden(ids, &cache, v)};
      for (int64_t t : {11, 2, 36}) {
        v = torch::cat({v, torch::ones({3, 1}, torch::kBool)}, 1);
        out.push_back(m->forward_hidden(torch::full({3, 1}, t, torch::kLong), &cache, v));
      }
      return torch::cat(out, 1).narrow(1, 7, 3).detach().clone();
    };
    torch::Tensor trained = run();
    torch::Tensor fast;
    {
      torch::InferenceMode guard;
      fast = run().clone();
    }
    EXPECT_TRUE(torch::allclose(fast, trained, 1e-5, 1e-5)) << "hidden " << hidden << ": max diff "
                                                            << (fast - trained).abs().max().item<double>();
  }
}

// The kernel alone against softmax(q k^T + mask) v, with keys read from buffers longer than the keys
// (as the cache holds them), masked keys between valid ones, and a row whose keys are all masked (a plain
// softmax then weighs them all alike).
TEST(LlamaInference, OneQueryAttentionKernelEqualsAPlainSoftmax) {
  const int64_t B = 3, KV = 2, G = 3, hd = 16, keys = 21, capacity = 24;  // two blocks of eight keys and five
  if (!one_query_attention_supported(hd)) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  torch::manual_seed(5);
  torch::Tensor q = torch::randn({B, KV * G, hd}), kbuf = torch::randn({B, KV, capacity, hd});
  torch::Tensor vbuf = torch::randn({B, KV, capacity, hd});
  torch::Tensor k = kbuf.narrow(2, 0, keys), v = vbuf.narrow(2, 0, keys);
  torch::Tensor mask = torch::zeros({B, keys});
  mask[0][3] = -1e9;
  mask[1].narrow(0, 0, 9).fill_(-1e9);  // a block not read at all, and one key of the next
  mask[2].fill_(-1e9);
  OneQueryAttention a;
  a.kv_heads = KV, a.group = G, a.head_dim = hd, a.keys = keys;
  a.q = q.data_ptr<float>(), a.q_row = KV * G * hd;
  a.k = kbuf.data_ptr<float>(), a.v = vbuf.data_ptr<float>(), a.kv_row = KV * capacity * hd, a.kv_head = capacity * hd;
  a.mask = mask.data_ptr<float>(), a.mask_row = keys;
  torch::Tensor out = torch::full({B, KV * G, hd}, 7.0f);
  a.out = out.data_ptr<float>();
  one_query_attention(a, 0, B);
  torch::Tensor kh = k.repeat_interleave(G, 1), vh = v.repeat_interleave(G, 1);  // [B, H, keys, hd]
  torch::Tensor scores = torch::matmul(q.unsqueeze(2), kh.transpose(-1, -2)).squeeze(2) + mask.unsqueeze(1);
  torch::Tensor want = torch::matmul(torch::softmax(scores, -1).unsqueeze(2), vh).squeeze(2);
  EXPECT_TRUE(torch::allclose(out, want, 1e-5, 1e-5)) << (out - want).abs().max().item<double>();
}

}  // namespace
}  // namespace steper
