#include "model/attention_kernels.h"

#include <cmath>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace steper {

namespace {

constexpr float kMasked = -1e8f;  // additive mask values at or below this rule a key out

#if defined(__x86_64__)

#define STEPER_AVX2 __attribute__((target("avx2,fma")))

STEPER_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// One query head against the keys of its key head: the softmax weights s[t] (before normalising; masked
// keys skipped, weight 0, unless `all`); returns their sum. NV = head_dim / 8 (0: nv).
template <int NV>
STEPER_AVX2 float scores_softmax(const float* q, const float* k, int64_t keys, int64_t nv_rt, const float* mask,
                                 bool all, float* s) {
  const int64_t nv = NV > 0 ? NV : nv_rt, hd = nv * 8;
  __m256 qv[32];
  for (int64_t i = 0; i < nv; ++i) qv[i] = _mm256_loadu_ps(q + 8 * i);
  auto skipped = [&](int64_t t) { return mask && mask[t] <= kMasked && !all; };
  float mx = -INFINITY;
  for (int64_t t = 0; t < keys; ++t) {
    if (skipped(t)) continue;
    const float m = mask ? mask[t] : 0.0f;
    const float* kt = k + t * hd;
    __m256 acc = _mm256_mul_ps(qv[0], _mm256_loadu_ps(kt));
    for (int64_t i = 1; i < nv; ++i) acc = _mm256_fmadd_ps(qv[i], _mm256_loadu_ps(kt + 8 * i), acc);
    s[t] = hsum(acc) + m;
    mx = std::max(mx, s[t]);
  }
  float sum = 0;
  for (int64_t t = 0; t < keys; ++t) sum += s[t] = skipped(t) ? 0.0f : std::exp(s[t] - mx);
  return sum;
}

// out = sum_t w[t] v[t] / sum, keys of zero weight skipped.
template <int NV>
STEPER_AVX2 void weighted_values(const float* w, const float* v, int64_t keys, int64_t nv_rt, float sum, float* out) {
  const int64_t nv = NV > 0 ? NV : nv_rt, hd = nv * 8;
  __m256 acc[32];
  for (int64_t i = 0; i < nv; ++i) acc[i] = _mm256_setzero_ps();
  for (int64_t t = 0; t < keys; ++t) {
    if (w[t] == 0.0f) continue;
    const __m256 wt = _mm256_set1_ps(w[t]);
    const float* vt = v + t * hd;
    for (int64_t i = 0; i < nv; ++i) acc[i] = _mm256_fmadd_ps(wt, _mm256_loadu_ps(vt + 8 * i), acc[i]);
  }
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  for (int64_t i = 0; i < nv; ++i) _mm256_storeu_ps(out + 8 * i, _mm256_mul_ps(acc[i], inv));
}

template <int NV>
STEPER_AVX2 void attend_rows(const OneQueryAttention& a, int64_t r0, int64_t r1) {
  const int64_t G = a.group, hd = a.head_dim, nv = hd / 8;
  std::vector<float> w(static_cast<size_t>(a.keys));
  for (int64_t r = r0; r < r1; ++r) {
    const float* mask = a.mask ? a.mask + r * a.mask_row : nullptr;
    bool any = mask == nullptr;
    for (int64_t t = 0; !any && t < a.keys; ++t) any = mask[t] > kMasked;
    const bool all = !any;  // every key masked: attend to all of them, as a plain softmax would
    for (int64_t j = 0; j < a.kv_heads; ++j) {
      const float* k = a.k + r * a.kv_row + j * a.kv_head;
      const float* v = a.v + r * a.kv_row + j * a.kv_head;
      for (int64_t g = 0; g < G; ++g) {
        const int64_t h = j * G + g;
        const float sum = scores_softmax<NV>(a.q + r * a.q_row + h * hd, k, a.keys, nv, mask, all, w.data());
        weighted_values<NV>(w.data(), v, a.keys, nv, sum, a.out + (r * a.kv_heads * G + h) * hd);
      }
    }
  }
}

#endif

}  // namespace

bool one_query_attention_supported(int64_t head_dim) {
#if defined(__x86_64__)
  static const bool cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return cpu && head_dim > 0 && head_dim % 8 == 0 && head_dim <= 256;
#else
  (void)head_dim;
  return false;
#endif
}

void one_query_attention(const OneQueryAttention& a, int64_t row_begin, int64_t row_end) {
#if defined(__x86_64__)
  switch (a.head_dim) {
    case 32: return attend_rows<4>(a, row_begin, row_end);
    case 64: return attend_rows<8>(a, row_begin, row_end);
    case 128: return attend_rows<16>(a, row_begin, row_end);
    default: return attend_rows<0>(a, row_begin, row_end);
  }
#else
  (void)a, (void)row_begin, (void)row_end;
#endif
}

}  // namespace steper
