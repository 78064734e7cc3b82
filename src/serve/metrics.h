// The server's metrics in the Prometheus text format (GET /metrics): requests by endpoint and status,
// request latency histograms by endpoint, and the decoder's figures (tokens generated, decode batch
// sizes, sequences decoding and waiting).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "model/decode_engine.h"

namespace steper {

class ServeMetrics {
 public:
  // endpoint: a route ("/v1/completions") or "other" for paths the server does not serve.
  void observe(const std::string& endpoint, int status, double seconds);
  std::string render(const DecodeEngine::Stats& decoder) const;

  static const std::vector<double>& latency_buckets();  // upper bounds in seconds (+Inf implied)

 private:
  struct Histogram {
    std::vector<uint64_t> counts;  // per bucket, not cumulative; the last is +Inf
    double sum = 0;
    uint64_t n = 0;
  };
  mutable std::mutex m_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
};

}  // namespace steper
