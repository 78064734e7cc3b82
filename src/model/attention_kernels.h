// Decoding attention on the CPU: one query position per row against that row's cached keys, read in place
// (no copies, no per-row matrix products, keys the mask rules out never read). Torch-free: raw float
// pointers with strides; llama.cpp decides when it applies and falls back to matrix products otherwise.
#pragma once

#include <cstdint>

namespace steper {

struct OneQueryAttention {
  int64_t kv_heads = 0, group = 0, head_dim = 0, keys = 0;  // query heads = kv_heads * group
  const float* q = nullptr;  // already scaled; head h of row r at q + r * q_row + h * head_dim
  int64_t q_row = 0;
  const float *k = nullptr, *v = nullptr;  // key t of head j in row r at k + r * kv_row + j * kv_head + t * head_dim
  int64_t kv_row = 0, kv_head = 0;
  const float* mask = nullptr;  // additive, per key: mask + r * mask_row (mask_row 0: shared); nullptr: none
  int64_t mask_row = 0;
  float* out = nullptr;  // head h of row r at out + (r * kv_heads * group + h) * head_dim
};

// Whether this CPU and head_dim suit the kernel (AVX2 and FMA; head_dim a multiple of 8, at most 256).
bool one_query_attention_supported(int64_t head_dim);
// Softmax attention for rows [row_begin, row_end). A key whose mask is -1e8 or lower is skipped (its
// weight underflows to zero anyway) unless every key of the row is.
void one_query_attention(const OneQueryAttention& a, int64_t row_begin, int64_t row_end);

}  // namespace steper
