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

// One prompt of a request: a text, or token ids (completions only; then the text is filled in from them).
struct PromptInput {
  std::string text;
  std::vector<int32_t> ids;
};

inline constexpr int kMaxTopLogprobs = 20;  // the most alternatives a token's log-probability lists

struct CompletionCall {
  ApiEndpoint endpoint = ApiEndpoint::kCompletions;
  std::string model;                // echoed back
  std::vector<PromptInput> prompts;  // completions may give several; chat: the messages rendered
  TokenGenerateOptions opts;
  int n = 1;                        // choices per prompt
  int best_of = 1;                  // sequences per prompt, the n most likely kept (completions)
  int logprobs = -1;                // alternatives listed per token (completions' logprobs, chat's top_logprobs); -1: none
  bool stream = false;
  bool include_usage = false;       // stream_options.include_usage: a last chunk with the usage
  bool echo = false;                // completions: the prompt is repeated before the text (and scored)
};

// Parses a request body; throws Error naming the field ("request: field \"max_tokens\" must be ...").
// Accepted: model, prompt (a string, a list of one string, or a list of token ids) or messages
// ([{role: system|user|assistant, content}] with string content or text parts), max_tokens
// (max_completion_tokens for chat), temperature [0, 2], top_p (0, 1], seed, stop (a string or up to 4),
// n and best_of (1 to 16; best_of >= n), stream, stream_options.include_usage, echo, logprobs
// (completions: 0 to 20 alternatives; chat: true/false with top_logprobs 0 to 20); other fields are
// ignored, as OpenAI-compatible servers do. max_tokens defaults to 16 for completions (as OpenAI) and to
// limits.max_tokens for chat; 0 only with echo (the prompt scored, nothing generated). A prompt may be a
// string, token ids, or a list of either (one choice set per prompt).
CompletionCall parse_completion_call(const nlohmann::json& body, ApiEndpoint endpoint, const ApiLimits& limits);

// Chat messages as the prompt a plain (non-chat) student reads: the contents in order, separated by a
// blank line; roles are not written (steper's students are trained on plain prompts).
std::string render_chat_prompt(const nlohmann::json& messages, const std::string& where);

// A request body as JSON: malformed text (or a number that overflows) is an Error naming where it broke.
nlohmann::json parse_request_json(const std::string& body);

// One choice of a finished completion, or what one streamed chunk adds to it.
struct ChoiceOutput {
  int index = 0;
  std::string text;             // completions: with the prompt before it when echoed
  std::string finish_reason;    // "stop" | "length" ("cancelled" never reaches a client); empty while streaming
  nlohmann::json logprobs;      // null, or the endpoint's logprobs object (serve/logprobs.h)
};

// The pieces of one finished or streamed completion.
struct CompletionOutput {
  std::string id;            // "cmpl-..." / "chatcmpl-..."
  int64_t created = 0;       // unix seconds
  std::string model;
  std::vector<ChoiceOutput> choices;
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

nlohmann::json completion_response(const CompletionCall& call, const CompletionOutput& out);
// One streamed chunk of one choice (out.choices is not read); first: the choice's first chunk.
nlohmann::json completion_chunk(const CompletionCall& call, const CompletionOutput& out, const ChoiceOutput& choice,
                                bool first);
nlohmann::json usage_json(int prompt_tokens, int completion_tokens);
nlohmann::json usage_chunk(const CompletionCall& call, const CompletionOutput& out);

// {"error": {"message", "type", "param": null, "code"}} as OpenAI clients read it.
nlohmann::json error_json(const std::string& message, const std::string& type);

}  // namespace steper
