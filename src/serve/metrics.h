// The server's metrics in the Prometheus text format (GET /metrics): requests by endpoint and status,
// request latency histograms by endpoint, connections refused at the door, the scheduler's token
// timings (time to first token, between tokens, in the queue: vLLM's meanings) and the decoder's figures
// (tokens generated, decode batch sizes, requests running and waiting, prefix-cache queries and hits).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "model/decode_engine.h"

namespace steper {

// A Prometheus histogram of seconds (thread-safe).
class SecondsHistogram {
 public:
  explicit SecondsHistogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}
  void observe(double seconds);
  // The _bucket, _sum and _count lines; labels: "" or `endpoint="x"`.
  void render(std::ostringstream& o, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex m_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
  uint64_t n_ = 0;
};

// What the scheduler times for each request (vLLM's buckets).
struct TokenTimings {
  SecondsHistogram first_token{{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80}};
  SecondsHistogram between_tokens{{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80}};
  SecondsHistogram queue{{0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960}};
};

class ServeMetrics {
 public:
  // endpoint: a route ("/v1/completions") or "other" for paths the server does not serve.
  void observe(const std::string& endpoint, int status, double seconds);
  void refused_connection() { ++refused_; }  // answered 503 at the door (all connections taken)
  std::string render(const DecodeEngine::Stats& decoder, const TokenTimings& timings) const;

  static const std::vector<double>& latency_buckets();  // upper bounds in seconds (+Inf implied)

 private:
  mutable std::mutex m_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, SecondsHistogram> latency_;
  std::atomic<uint64_t> refused_{0};
};

}  // namespace steper
