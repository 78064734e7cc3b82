#include "serve/metrics.h"

#include <sstream>

namespace steper {

const std::vector<double>& ServeMetrics::latency_buckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return b;
}

void ServeMetrics::observe(const std::string& endpoint, int status, double seconds) {
  const auto& bounds = latency_buckets();
  std::lock_guard<std::mutex> lk(m_);
  ++requests_[{endpoint, status}];
  Histogram& h = latency_[endpoint];
  if (h.counts.empty()) h.counts.assign(bounds.size() + 1, 0);
  size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  ++h.counts[i];
  h.sum += seconds;
  ++h.n;
}

std::string ServeMetrics::render(const DecodeEngine::Stats& d) const {
  std::ostringstream o;
  const auto& bounds = latency_buckets();
  std::lock_guard<std::mutex> lk(m_);
  o << "# HELP steper_requests_total HTTP requests by endpoint and status.\n"
       "# TYPE steper_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    o << "steper_requests_total{endpoint=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  o << "# HELP steper_request_duration_seconds Time from a request's arrival to its last byte.\n"
       "# TYPE steper_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : latency_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= bounds.size(); ++i) {
      cumulative += h.counts[i];
      o << "steper_request_duration_seconds_bucket{endpoint=\"" << endpoint << "\",le=\"";
      if (i < bounds.size()) o << bounds[i];
      else o << "+Inf";
      o << "\"} " << cumulative << "\n";
    }
    o << "steper_request_duration_seconds_sum{endpoint=\"" << endpoint << "\"} " << h.sum << "\n";
    o << "steper_request_duration_seconds_count{endpoint=\"" << endpoint << "\"} " << h.n << "\n";
  }
  o << "# HELP steper_tokens_generated_total Tokens decoded into results.\n"
       "# TYPE steper_tokens_generated_total counter\n"
       "steper_tokens_generated_total " << d.tokens_generated << "\n";
  o << "# HELP steper_prompt_tokens_total Prompt tokens read.\n"
       "# TYPE steper_prompt_tokens_total counter\n"
       "steper_prompt_tokens_total " << d.prompt_tokens << "\n";
  o << "# HELP steper_decode_steps_total Decoding rounds in which at least one sequence got a token.\n"
       "# TYPE steper_decode_steps_total counter\n"
       "steper_decode_steps_total " << d.steps << "\n";
  o << "# HELP steper_decode_batch_size Sequences that got a token in one decoding round.\n"
       "# TYPE steper_decode_batch_size histogram\n";
  uint64_t cumulative = 0, sum = 0;
  for (size_t n = 1; n < d.batch_size_counts.size(); ++n) {
    cumulative += d.batch_size_counts[n];
    sum += n * d.batch_size_counts[n];
    o << "steper_decode_batch_size_bucket{le=\"" << n << "\"} " << cumulative << "\n";
  }
  o << "steper_decode_batch_size_bucket{le=\"+Inf\"} " << cumulative << "\n"
    << "steper_decode_batch_size_sum " << sum << "\n"
    << "steper_decode_batch_size_count " << cumulative << "\n";
  o << "# HELP steper_decode_active Sequences decoding now.\n# TYPE steper_decode_active gauge\n"
       "steper_decode_active " << d.active << "\n";
  o << "# HELP steper_queue_depth Requests waiting for a place in the decode batch.\n"
       "# TYPE steper_queue_depth gauge\nsteper_queue_depth " << d.waiting << "\n";
  return o.str();
}

}  // namespace steper
