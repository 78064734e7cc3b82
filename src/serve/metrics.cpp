#include "serve/metrics.h"

namespace steper {

void SecondsHistogram::observe(double seconds) {
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  std::lock_guard<std::mutex> lk(m_);
  ++counts_[i];
  sum_ += seconds;
  ++n_;
}

void SecondsHistogram::render(std::ostringstream& o, const std::string& name, const std::string& labels) const {
  std::lock_guard<std::mutex> lk(m_);
  const std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    o << name << "_bucket{" << labels << sep << "le=\"";
    if (i < bounds_.size()) o << bounds_[i];
    else o << "+Inf";
    o << "\"} " << cumulative << "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  o << name << "_sum" << braces << " " << sum_ << "\n" << name << "_count" << braces << " " << n_ << "\n";
}

const std::vector<double>& ServeMetrics::latency_buckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return b;
}

void ServeMetrics::observe(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lk(m_);
  ++requests_[{endpoint, status}];
  latency_.try_emplace(endpoint, latency_buckets()).first->second.observe(seconds);
}

namespace {

void header(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

void decoder_lines(std::ostringstream& o, const DecodeEngine::Stats& d) {
  header(o, "steper_tokens_generated_total", "counter", "Tokens decoded into results.");
  o << "steper_tokens_generated_total " << d.tokens_generated << "\n";
  header(o, "steper_prompt_tokens_total", "counter", "Prompt tokens read.");
  o << "steper_prompt_tokens_total " << d.prompt_tokens << "\n";
  header(o, "steper_prefix_cache_queries_total", "counter", "Prompt tokens looked up in the prefix cache.");
  o << "steper_prefix_cache_queries_total " << d.prompt_tokens << "\n";
  header(o, "steper_prefix_cache_hits_total", "counter", "Prompt tokens whose key/value cache the prefix cache held.");
  o << "steper_prefix_cache_hits_total " << d.reused_tokens << "\n";
  header(o, "steper_decode_steps_total", "counter", "Decoding rounds in which at least one sequence got a token.");
  o << "steper_decode_steps_total " << d.steps << "\n";
  header(o, "steper_decode_batch_size", "histogram", "Sequences that got a token in one decoding round.");
  uint64_t cumulative = 0, sum = 0;
  for (size_t n = 1; n < d.batch_size_counts.size(); ++n) {
    cumulative += d.batch_size_counts[n];
    sum += n * d.batch_size_counts[n];
    o << "steper_decode_batch_size_bucket{le=\"" << n << "\"} " << cumulative << "\n";
  }
  o << "steper_decode_batch_size_bucket{le=\"+Inf\"} " << cumulative << "\n"
    << "steper_decode_batch_size_sum " << sum << "\n"
    << "steper_decode_batch_size_count " << cumulative << "\n";
  header(o, "steper_num_requests_running", "gauge", "Sequences in the decode batch now.");
  o << "steper_num_requests_running " << d.active << "\n";
  header(o, "steper_num_requests_waiting", "gauge", "Sequences waiting for a place in the decode batch.");
  o << "steper_num_requests_waiting " << d.waiting << "\n";
}

}  // namespace

std::string ServeMetrics::render(const DecodeEngine::Stats& d, const TokenTimings& t) const {
  std::ostringstream o;
  {
    std::lock_guard<std::mutex> lk(m_);
    header(o, "steper_requests_total", "counter", "HTTP requests by endpoint and status.");
    for (const auto& [key, n] : requests_)
      o << "steper_requests_total{endpoint=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
    header(o, "steper_request_duration_seconds", "histogram", "Time from a request's arrival to its last byte.");
    for (const auto& [endpoint, h] : latency_) h.render(o, "steper_request_duration_seconds", "endpoint=\"" + endpoint + "\"");
  }
  header(o, "steper_connections_refused_total", "counter", "Connections answered 503 at the door: all were taken.");
  o << "steper_connections_refused_total " << refused_.load() << "\n";
  header(o, "steper_time_to_first_token_seconds", "histogram", "From a sequence's submission to its first token.");
  t.first_token.render(o, "steper_time_to_first_token_seconds", "");
  header(o, "steper_inter_token_latency_seconds", "histogram", "Between one token of a sequence and its next.");
  t.between_tokens.render(o, "steper_inter_token_latency_seconds", "");
  header(o, "steper_request_queue_time_seconds", "histogram", "From a sequence's submission to its admission to the batch.");
  t.queue.render(o, "steper_request_queue_time_seconds", "");
  decoder_lines(o, d);
  return o.str();
}

}  // namespace steper
