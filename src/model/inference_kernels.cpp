#include "model/inference_kernels.h"

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

// The sums of eight vectors' lanes, in order.
STEPER_AVX2 inline __m256 hsum8(const __m256* a) {
  const __m256 h0123 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
  const __m256 h4567 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
  return _mm256_add_ps(_mm256_permute2f128_ps(h0123, h4567, 0x20), _mm256_permute2f128_ps(h0123, h4567, 0x31));
}

// exp(x) for x <= 0 (within 2 ulp; below -87.3 it gives exp(-87.3)): x = n ln2 + r, Cephes' expf
// polynomial for exp(r), times 2^n.
STEPER_AVX2 inline __m256 exp8(__m256 x) {
  x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  for (float c : {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f})
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
  p = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// One query head against the keys of its key head: the softmax weights s[t] (before normalising; masked
// keys skipped, weight 0, unless `all`); returns their sum. Keys go eight at a time (a block whose keys
// are all skipped is not read), the rest one by one. NV = head_dim / 8 (0: nv_rt).
template <int NV>
STEPER_AVX2 float scores_softmax(const float* q, const float* k, int64_t keys, int64_t nv_rt, const float* mask,
                                 bool all, float* s) {
  const int64_t nv = NV > 0 ? NV : nv_rt, hd = nv * 8, blocks = keys / 8 * 8;
  const bool skipping = mask && !all;
  __m256 qv[32];
  for (int64_t i = 0; i < nv; ++i) qv[i] = _mm256_loadu_ps(q + 8 * i);
  const __m256 masked = _mm256_set1_ps(kMasked);
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  for (int64_t t = 0; t < blocks; t += 8) {
    const __m256 m = mask ? _mm256_loadu_ps(mask + t) : _mm256_setzero_ps();
    if (skipping && _mm256_movemask_ps(_mm256_cmp_ps(m, masked, _CMP_LE_OQ)) == 0xFF) {
      _mm256_storeu_ps(s + t, m);
      continue;
    }
    __m256 acc[8];
    for (int j = 0; j < 8; ++j) {
      const float* kt = k + (t + j) * hd;
      acc[j] = _mm256_mul_ps(qv[0], _mm256_loadu_ps(kt));
      for (int64_t i = 1; i < nv; ++i) acc[j] = _mm256_fmadd_ps(qv[i], _mm256_loadu_ps(kt + 8 * i), acc[j]);
    }
    const __m256 st = _mm256_add_ps(hsum8(acc), m);
    _mm256_storeu_ps(s + t, st);
    vmax = _mm256_max_ps(vmax, st);  // masked keys (mask + score, about -1e9) win only when all are masked
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, vmax);
  float mx = -INFINITY;
  for (float x : lanes) mx = std::max(mx, x);
  for (int64_t t = blocks; t < keys; ++t) {
    const float m = mask ? mask[t] : 0.0f;
    const float* kt = k + t * hd;
    __m256 acc = _mm256_mul_ps(qv[0], _mm256_loadu_ps(kt));
    for (int64_t i = 1; i < nv; ++i) acc = _mm256_fmadd_ps(qv[i], _mm256_loadu_ps(kt + 8 * i), acc);
    s[t] = hsum(acc) + m;
    mx = std::max(mx, s[t]);
  }
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256 vsum = _mm256_setzero_ps();
  for (int64_t t = 0; t < blocks; t += 8) {
    __m256 w = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + t), vmx));
    if (skipping) w = _mm256_andnot_ps(_mm256_cmp_ps(_mm256_loadu_ps(mask + t), masked, _CMP_LE_OQ), w);
    _mm256_storeu_ps(s + t, w);
    vsum = _mm256_add_ps(vsum, w);
  }
  float sum = hsum(vsum);
  for (int64_t t = blocks; t < keys; ++t) sum += s[t] = skipping && mask[t] <= kMasked ? 0.0f : std::exp(s[t] - mx);
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

STEPER_AVX2 void rms_norm_avx2(const float* x, const float* w, int64_t rows, int64_t dim, float eps, float* out) {
  const int64_t vec = dim / 8 * 8;
  for (int64_t r = 0; r < rows; ++r, x += dim, out += dim) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < vec; i += 8) {
      const __m256 xi = _mm256_loadu_ps(x + i);
      acc = _mm256_fmadd_ps(xi, xi, acc);
    }
    float ss = hsum(acc);
    for (int64_t i = vec; i < dim; ++i) ss += x[i] * x[i];
    const float scale = 1.0f / std::sqrt(ss / static_cast<float>(dim) + eps);
    const __m256 s8 = _mm256_set1_ps(scale);
    for (int64_t i = 0; i < vec; i += 8)
      _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), s8), _mm256_loadu_ps(w + i)));
    for (int64_t i = vec; i < dim; ++i) out[i] = x[i] * scale * w[i];
  }
}

#endif

}  // namespace

bool inference_kernels_available() {
#if defined(__x86_64__)
  static const bool cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return cpu;
#else
  return false;
#endif
}

void rms_norm_rows(const float* x, const float* w, int64_t rows, int64_t dim, float eps, float* out) {
#if defined(__x86_64__)
  rms_norm_avx2(x, w, rows, dim, eps, out);
#else
  (void)x, (void)w, (void)rows, (void)dim, (void)eps, (void)out;
#endif
}

bool one_query_attention_supported(int64_t head_dim) {
  return inference_kernels_available() && head_dim > 0 && head_dim % 8 == 0 && head_dim <= 256;
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
