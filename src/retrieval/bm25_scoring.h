// Xapian's BM25Weight formula (Xapian 1.4, without a relevance set), written out for the native
// index (internal to retrieval/): the native search gives the very scores a Xapian database of the
// same passages gives, so both kinds of index rank alike (tests/retrieval/test_native.cpp).
//
//   termweight = (k1 + 1) * log(tw') * (k3 + 1) * wqf / (k3 + wqf),
//       tw = (N - df + 0.5) / (df + 0.5),  tw' = tw < 2 ? tw / 2 + 1 : tw
//   part(wdf, len) = termweight * wdf / (k1 * (b * max(len / avlen, min_normlen) + 1 - b) + wdf)
//
// with k2 = 0 (no document-length extra), avlen = total length / N over every part searched.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "retrieval/bm25_analyzer.h"

namespace steper {

// Collection statistics every part of a search shares.
struct Bm25Stats {
  uint64_t passages = 0;      // N
  uint64_t total_length = 0;  // sum of passage lengths (non-stop words of title and text)
  double length_factor() const {
    if (passages == 0 || total_length == 0) return 0.0;
    return 1.0 / (static_cast<double>(total_length) / static_cast<double>(passages));
  }
};

inline double bm25_termweight(uint64_t passages, uint64_t df, uint32_t wqf) {
  double tw = (static_cast<double>(passages) - static_cast<double>(df) + 0.5) / (static_cast<double>(df) + 0.5);
  if (tw < 2) tw = tw * 0.5 + 1;
  double w = std::log(tw);
  double q = static_cast<double>(wqf);
  w *= (kBm25K3 + 1) * q / (kBm25K3 + q);
  return w * (kBm25K1 + 1);
}

// The length term of a passage of `len` words: k1 * (b * normlen + 1 - b).
inline double bm25_length_norm(double length_factor, uint32_t len) {
  double normlen = std::max(static_cast<double>(len) * length_factor, kBm25MinNormlen);
  return kBm25K1 * (normlen * kBm25B + (1 - kBm25B));
}
// One term's share of a passage's score (Xapian's get_sumpart), from its length term.
inline double bm25_part_normed(double termweight, double length_norm, uint32_t wdf) {
  double w = static_cast<double>(wdf);
  return termweight * (w / (length_norm + w));
}
inline double bm25_part(double termweight, double length_factor, uint32_t wdf, uint32_t len) {
  return bm25_part_normed(termweight, bm25_length_norm(length_factor, len), wdf);
}

}  // namespace steper
