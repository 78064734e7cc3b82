#include "teacher/openai.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace steper {

using nlohmann::json;

const char* const kOpenAIChatSystemPrompt =
    "Continue the answer of the last question exactly as the examples do: write only the next sentence of "
    "the reasoning after \"A:\", using the Wikipedia passages given. When the reasoning is complete, write "
    "\"So the answer is: <answer>.\"";
const char* const kOpenAISelfAskChatSystemPrompt =
    "Continue the last question exactly as the examples do: write only the next line, either \"Follow up: "
    "<question>\" or, when the follow-ups are answered, \"So the final answer is: <answer>\"; after "
    "\"Intermediate answer:\", write only the answer to that follow-up, using the Wikipedia passages given.";

OpenAIEndpoint openai_endpoint_from_string(const std::string& s) {
  if (s == "chat") return OpenAIEndpoint::kChat;
  if (s == "completions") return OpenAIEndpoint::kCompletions;
  throw Error("--endpoint must be chat or completions, not \"" + s + "\"");
}

std::string openai_api_key_from_env(const std::string& var) {
  if (var.empty()) return "";
  const char* v = std::getenv(var.c_str());
  return v ? std::string(v) : std::string();
}

// ---- connection and URL

struct OpenAIGenerator::Connection {
  std::unique_ptr<httplib::Client> client;
};

namespace {

struct ParsedUrl {
  std::string origin;  // scheme://host[:port]
  std::string path;    // "" or "/prefix" without a trailing slash
};

ParsedUrl parse_base_url(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) throw Error("--base-url \"" + url + "\": expected http://HOST[:PORT][/PATH]");
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    throw Error("--base-url \"" + url + "\": the scheme must be http or https, not \"" + scheme + "\"");
  auto host_start = scheme_end + 3;
  auto path_start = url.find('/', host_start);
  ParsedUrl p;
  p.origin = url.substr(0, path_start);
  if (p.origin.size() <= host_start) throw Error("--base-url \"" + url + "\": no host");
  p.path = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!p.path.empty() && p.path.back() == '/') p.path.pop_back();
  return p;
}

std::string endpoint_path(const std::string& prefix, OpenAIEndpoint endpoint) {
  std::string base = prefix;
  bool has_v1 = base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0;
  if (!has_v1) base += "/v1";
  return base + (endpoint == OpenAIEndpoint::kChat ? "/chat/completions" : "/completions");
}

void set_timeout(double seconds, const std::function<void(time_t, time_t)>& set) {
  if (seconds <= 0) seconds = 1e-3;
  time_t sec = static_cast<time_t>(seconds);
  time_t usec = static_cast<time_t>(std::llround((seconds - static_cast<double>(sec)) * 1e6));
  set(sec, usec);
}

std::unique_ptr<httplib::Client> make_client(const std::string& origin, const OpenAIOptions& opts) {
  auto c = std::make_unique<httplib::Client>(origin);
  set_timeout(opts.timeout_s, [&](time_t s, time_t u) { c->set_connection_timeout(s, u); });
  set_timeout(opts.timeout_s, [&](time_t s, time_t u) { c->set_read_timeout(s, u); });
  set_timeout(opts.timeout_s, [&](time_t s, time_t u) { c->set_write_timeout(s, u); });
  c->set_keep_alive(true);
  if (!opts.api_key.empty()) c->set_bearer_token_auth(opts.api_key);
  c->enable_server_certificate_verification(opts.verify_tls);
  return c;
}

// Text cut before the first stop string (servers may honour only some of them).
std::string cut_at_stop(const std::string& text, const std::vector<std::string>& stop) {
  size_t cut = text.size();
  for (const auto& s : stop) {
    if (s.empty()) continue;
    auto pos = text.find(s);
    if (pos != std::string::npos) cut = std::min(cut, pos);
  }
  return text.substr(0, cut);
}

double random_uniform(double lo, double hi) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> d(lo, hi);
  return d(rng);
}

// Status codes after which another attempt can succeed.
bool is_transient_status(int status) { return status == 408 || status == 409 || status == 429 || status >= 500; }
// Status codes that say the client itself is refused: every request would fail the same way.
bool is_fatal_status(int status) { return status == 401 || status == 403 || status == 404; }

}  // namespace

// ---- generator

OpenAIGenerator::OpenAIGenerator(OpenAIOptions opts) : opts_(std::move(opts)) {
  if (opts_.model.empty()) throw Error("--model is required with an OpenAI-compatible teacher");
  if (opts_.concurrency < 1) throw Error("--concurrency must be at least 1");
  if (opts_.max_attempts < 1) throw Error("the number of attempts must be at least 1");
  ParsedUrl url = parse_base_url(opts_.base_url);
  origin_ = url.origin;
  path_ = endpoint_path(url.path, opts_.endpoint);
  for (int i = 0; i < opts_.concurrency; ++i) {
    auto c = std::make_unique<Connection>();
    c->client = make_client(origin_, opts_);
    connections_.push_back(std::move(c));
  }
}

OpenAIGenerator::~OpenAIGenerator() = default;

std::string OpenAIGenerator::name() const { return opts_.model; }

std::string OpenAIGenerator::request_body(const GenerateRequest& r) const {
  json body;
  body["model"] = opts_.model;
  if (opts_.endpoint == OpenAIEndpoint::kChat) {
    json messages = json::array();
    if (!opts_.system_prompt.empty()) messages.push_back(json{{"role", "system"}, {"content", opts_.system_prompt}});
    messages.push_back(json{{"role", "user"}, {"content", r.prompt}});
    body["messages"] = messages;
  } else {
    body["prompt"] = r.prompt;
  }
  body["max_tokens"] = r.max_tokens;
  body["temperature"] = r.temperature;
  body["top_p"] = r.top_p;
  if (r.seed != 0) body["seed"] = r.seed;
  // The OpenAI API takes at most four stop strings; the rest are applied to the text here.
  json stop = json::array();
  for (const auto& s : r.stop)
    if (!s.empty() && stop.size() < 4) stop.push_back(s);
  if (!stop.empty()) body["stop"] = stop;
  return body.dump();
}

// ---- one request, with retries

OpenAIOutcome OpenAIGenerator::send_with_retries(Connection& conn, const GenerateRequest& request) {
  OpenAIOutcome out;
  const std::string body = request_body(request);
  for (int attempt = 1; attempt <= opts_.max_attempts; ++attempt) {
    out.attempts = attempt;
    ++attempts_;
    double retry_after = 0;
    auto res = conn.client->Post(path_.c_str(), body, "application/json");
    if (!res) {
      out.error = origin_ + path_ + ": " + httplib::to_string(res.error());
      // A broken connection is not reused.
      conn.client = make_client(origin_, opts_);
    } else if (res->status != 200) {
      std::string snippet = res->body.substr(0, 200);
      out.error = origin_ + path_ + ": HTTP " + std::to_string(res->status) + (snippet.empty() ? "" : ": " + snippet);
      if (is_fatal_status(res->status)) throw Error(out.error);
      if (!is_transient_status(res->status)) break;
      if (res->has_header("Retry-After")) retry_after = std::atof(res->get_header_value("Retry-After").c_str());
    } else {
      try {
        json j = json::parse(res->body);
        const json& choice = j.at("choices").at(0);
        std::string text = opts_.endpoint == OpenAIEndpoint::kChat ? choice.at("message").at("content").get<std::string>()
                                                                   : choice.at("text").get<std::string>();
        out.result.text = cut_at_stop(text, request.stop);
        if (j.contains("usage") && j["usage"].is_object()) {
          out.result.prompt_tokens = j["usage"].value("prompt_tokens", 0);
          out.result.completion_tokens = j["usage"].value("completion_tokens", 0);
        }
        out.ok = true;
        out.error.clear();
        ++requests_;
        prompt_tokens_ += out.result.prompt_tokens;
        completion_tokens_ += out.result.completion_tokens;
        return out;
      } catch (const json::exception& e) {
        out.error = origin_ + path_ + ": malformed response: " + e.what();
      }
    }
    if (attempt == opts_.max_attempts) break;
    ++retries_;
    double cap = std::min(opts_.max_backoff_s, opts_.backoff_s * std::pow(2.0, attempt - 1));
    double wait = cap / 2 + random_uniform(0, cap / 2);  // exponential back-off with jitter
    wait = std::max(wait, std::min(retry_after, opts_.max_backoff_s));
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
  ++failures_;
  out.result = GenerateResult{};
  return out;
}

// ---- batches

std::vector<OpenAIOutcome> OpenAIGenerator::generate_detailed(const std::vector<GenerateRequest>& requests) {
  std::lock_guard<std::mutex> lock(call_mutex_);
  std::vector<OpenAIOutcome> out(requests.size());
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::string fatal;
  auto work = [&](Connection& conn) {
    for (size_t i = next++; i < requests.size(); i = next++) {
      {
        std::lock_guard<std::mutex> g(error_mutex);
        if (!fatal.empty()) return;
      }
      try {
        out[i] = send_with_retries(conn, requests[i]);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> g(error_mutex);
        if (fatal.empty()) fatal = e.what();
        return;
      }
    }
  };
  size_t workers = std::min(requests.size(), connections_.size());
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work, std::ref(*connections_[t]));
  if (workers > 0) work(*connections_[0]);
  for (auto& t : threads) t.join();
  if (!fatal.empty()) throw Error(fatal);
  return out;
}

std::vector<GenerateResult> OpenAIGenerator::generate(const std::vector<GenerateRequest>& requests) {
  auto outcomes = generate_detailed(requests);
  std::vector<GenerateResult> results;
  results.reserve(outcomes.size());
  std::lock_guard<std::mutex> g(failed_mutex_);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i].ok) failures_by_prompt_[requests[i].prompt] = outcomes[i].error;
    results.push_back(std::move(outcomes[i].result));
  }
  return results;
}

std::map<std::string, std::string> OpenAIGenerator::take_failures() {
  std::lock_guard<std::mutex> g(failed_mutex_);
  std::map<std::string, std::string> out;
  out.swap(failures_by_prompt_);
  return out;
}

OpenAIUsage OpenAIGenerator::usage() const {
  OpenAIUsage u;
  u.requests = requests_;
  u.attempts = attempts_;
  u.retries = retries_;
  u.failures = failures_;
  u.prompt_tokens = prompt_tokens_;
  u.completion_tokens = completion_tokens_;
  return u;
}

}  // namespace steper
