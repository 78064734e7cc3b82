// The OpenAI request and response schema that `steper serve` speaks (docs/DESIGN.md section 9):
// /v1/completions and /v1/chat/completions bodies parsed and checked (a bad field is an Error naming it,
// answered 400), and the response and server-sent-event chunk objects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model.h"

namespace steper {

enum class ApiEndpoint { kCompletions, kChat };

// What a request may ask for; set by the server from its flags and the model's context.
struct ApiLimits {
  int max_tokens = 2048;         // the largest max_tokens a request may give (never more than the context)
  int max_prompt_tokens = 2047;  // a longer prompt is refused
};

struct CompletionCall {
  ApiEndpoint endpoint = ApiEndpoint::kCompletions;
  std::string model;                // echoed back
  std::string prompt;               // the text given (or the chat messages rendered)
  std::vector<int32_t> prompt_ids;  // token ids given instead of a text (completions only)
  TokenGenerateOptions opts;
  bool stream = false;
  bool include_usage = false;       // stream_options.include_usage: a last chunk with the usage
  bool echo = false;                // completions: the prompt is repeated before the text
};

// Parses a request body; throws Error naming the field ("request: field \"max_tokens\" must be ...").
// Accepted: model, prompt (a string, a list of one string, or a list of token ids) or messages
// ([{role: system|user|assistant, content}] with string content or text parts), max_tokens
// (max_completion_tokens for chat), temperature [0, 2], top_p (0, 1], seed, stop (a string or up to 4),
// n (1 only), stream, stream_options.include_usage, echo; other fields are ignored, as OpenAI-compatible
// servers do. max_tokens defaults to 16 for completions (as OpenAI) and to limits.max_tokens for chat.
CompletionCall parse_completion_call(const nlohmann::json& body, ApiEndpoint endpoint, const ApiLimits& limits);

// Chat messages as the prompt a plain (non-chat) student reads: the contents in order, separated by a
// blank line; roles are not written (steper's students are trained on plain prompts).
std::string render_chat_prompt(const nlohmann::json& messages, const std::string& where);

// A request body as JSON: malformed text (or a number that overflows) is an Error naming where it broke.
nlohmann::json parse_request_json(const std::string& body);

// The pieces of one finished or streamed completion.
struct CompletionOutput {
  std::string id;            // "cmpl-..." / "chatcmpl-..."
  int64_t created = 0;       // unix seconds
  std::string model;
  std::string text;
  std::string finish_reason;  // "stop" | "length" ("cancelled" never reaches a client)
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

nlohmann::json completion_response(const CompletionCall& call, const CompletionOutput& out);
// One streamed chunk: `text` is the new text; finish_reason empty while it runs.
nlohmann::json completion_chunk(const CompletionCall& call, const CompletionOutput& out, const std::string& text,
                                const std::string& finish_reason, bool first);
nlohmann::json usage_json(int prompt_tokens, int completion_tokens);
nlohmann::json usage_chunk(const CompletionCall& call, const CompletionOutput& out);

// {"error": {"message", "type", "param": null, "code"}} as OpenAI clients read it.
nlohmann::json error_json(const std::string& message, const std::string& type);

}  // namespace steper
