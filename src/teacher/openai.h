// An OpenAI-compatible server (vLLM, llama.cpp server, TGI, OpenAI) as a TextGenerator:
// chat (/v1/chat/completions) or completions (/v1/completions), many requests in flight,
// per-request timeouts, retries with exponential back-off and jitter, token usage counted.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/generator.h"

namespace steper {

enum class OpenAIEndpoint { kChat, kCompletions };
OpenAIEndpoint openai_endpoint_from_string(const std::string& s);  // "chat" | "completions"; throws Error

struct OpenAIOptions {
  std::string base_url = "http://127.0.0.1:8000";  // http or https; a trailing "/v1" is accepted
  std::string model;                                // the "model" field of each request
  std::string api_key;                              // sent as a bearer token when not empty
  OpenAIEndpoint endpoint = OpenAIEndpoint::kChat;
  int concurrency = 8;             // requests in flight at once
  double timeout_s = 120.0;        // per attempt: connect, read and write timeouts
  int max_attempts = 6;            // attempts per request before it fails
  double backoff_s = 1.0;          // first retry waits up to this long (full jitter), doubling each time
  double max_backoff_s = 30.0;     // cap on one wait
  std::string system_prompt;       // chat only; empty sends no system message
  bool verify_tls = true;
};

// The instruction sent as the system message in chat mode by default.
extern const char* const kOpenAIChatSystemPrompt;
// The same for the Self-Ask framework (rag/framework.h): a follow-up line, an intermediate answer, or the
// final answer.
extern const char* const kOpenAISelfAskChatSystemPrompt;

// The API key from an environment variable ("" when unset: local servers need none).
std::string openai_api_key_from_env(const std::string& var);

// What happened to one request.
struct OpenAIOutcome {
  GenerateResult result;
  bool ok = false;
  int attempts = 0;
  std::string error;  // the last failure when !ok
};

struct OpenAIUsage {
  long requests = 0;          // requests that succeeded
  long attempts = 0;          // HTTP attempts, retries included
  long retries = 0;
  long failures = 0;          // requests that failed after all attempts
  long prompt_tokens = 0;
  long completion_tokens = 0;
};

class OpenAIGenerator : public TextGenerator {
 public:
  explicit OpenAIGenerator(OpenAIOptions opts);
  ~OpenAIGenerator() override;

  // Sends the requests concurrently (at most `concurrency` in flight); a request that fails after all
  // attempts yields an empty text and its prompt is remembered (see take_failures).
  // A server that refuses the client itself (HTTP 401, 403, 404) throws Error: no retry can help.
  std::vector<GenerateResult> generate(const std::vector<GenerateRequest>& requests) override;
  std::vector<OpenAIOutcome> generate_detailed(const std::vector<GenerateRequest>& requests);
  std::string name() const override;

  // prompt -> last error, for the requests that failed since the last call (cleared by the call).
  std::map<std::string, std::string> take_failures();
  OpenAIUsage usage() const;
  const OpenAIOptions& options() const { return opts_; }

  struct Connection;

 private:
  OpenAIOutcome send_with_retries(Connection& conn, const GenerateRequest& request);
  std::string request_body(const GenerateRequest& request) const;

  OpenAIOptions opts_;
  std::string origin_;  // scheme://host:port
  std::string path_;    // the endpoint path
  std::vector<std::unique_ptr<Connection>> connections_;  // one per worker, reused across calls
  std::mutex call_mutex_;                                 // one batch at a time
  std::mutex failed_mutex_;
  std::map<std::string, std::string> failures_by_prompt_;
  std::atomic<long> requests_{0}, attempts_{0}, retries_{0}, failures_{0}, prompt_tokens_{0}, completion_tokens_{0};
};

}  // namespace steper
