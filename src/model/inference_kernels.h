// CPU kernels (AVX2) of the decoder's inference path, where a decoding step's small tensors make libtorch's
// operators cost more in dispatch and copies than in arithmetic: attention of one query position per row
// against that row's cached keys, read in place (no copies, no per-row matrix products, keys the mask rules
// out never read), and RMSNorm in one pass. Torch-free: raw float pointers; llama.cpp decides when they
// apply and uses libtorch's operators otherwise.
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

// Whether this CPU has AVX2 and FMA.
bool inference_kernels_available();

// rows x [rows, dim] (contiguous) -> out: x * rsqrt(mean(x^2) + eps) * w, the training path's RMSNorm.
void rms_norm_rows(const float* x, const float* w, int64_t rows, int64_t dim, float eps, float* out);

// Whether this CPU and head_dim suit the attention kernel (AVX2 and FMA; head_dim a multiple of 8, at most 256).
bool one_query_attention_supported(int64_t head_dim);
// Softmax attention for rows [row_begin, row_end). A key whose mask is -1e8 or lower is skipped (its
// weight underflows to zero anyway) unless every key of the row is.
void one_query_attention(const OneQueryAttention& a, int64_t row_begin, int64_t row_end);

}  // namespace steper
