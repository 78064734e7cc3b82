#include "serve/openai_schema.h"

#include <algorithm>

#include "core/error.h"
#include "core/io.h"

namespace steper {

using nlohmann::json;

namespace {

const char* const kWhere = "request";

std::vector<std::string> parse_stop(const json& body) {
  const json* stop = json_find(body, "stop");
  if (!stop) return {};
  if (stop->is_string()) return {stop->get<std::string>()};
  if (!stop->is_array() || stop->size() > 4)
    throw Error(std::string(kWhere) + ": field \"stop\" must be a string or a list of at most 4 strings, got " +
                json_brief(*stop));
  std::vector<std::string> out;
  for (size_t i = 0; i < stop->size(); ++i) out.push_back(json_as_text((*stop)[i], "stop[" + std::to_string(i) + "]", kWhere));
  return out;
}

constexpr size_t kMaxPrompts = 64;  // prompts in one request

std::vector<int32_t> prompt_token_ids(const json& p, const std::string& name) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < p.size(); ++i)
    ids.push_back(static_cast<int32_t>(json_as_int(p[i], name + "[" + std::to_string(i) + "]", kWhere, 0, INT32_MAX)));
  return ids;
}

// prompt: a string, a list of token ids, or a list of strings or of token-id lists.
void parse_prompt(const json& body, CompletionCall& call) {
  const json& p = json_field(body, "prompt", kWhere);
  const std::string shape = "a string, a list of token ids, or a list of strings or of token-id lists";
  if (p.is_string()) {
    call.prompts.push_back({p.get<std::string>(), {}});
  } else if (p.is_array() && !p.empty() && p[0].is_number()) {
    call.prompts.push_back({"", prompt_token_ids(p, "prompt")});
  } else if (p.is_array() && !p.empty() && p.size() <= kMaxPrompts) {
    for (size_t i = 0; i < p.size(); ++i) {
      const std::string name = "prompt[" + std::to_string(i) + "]";
      if (p[i].is_string()) call.prompts.push_back({p[i].get<std::string>(), {}});
      else if (p[i].is_array() && !p[i].empty()) call.prompts.push_back({"", prompt_token_ids(p[i], name)});
      else throw Error(std::string(kWhere) + ": field \"" + name + "\" must be a string or a non-empty list of token ids, got " + json_brief(p[i]));
    }
  } else {
    throw Error(std::string(kWhere) + ": field \"prompt\" must be " + shape + " (at most " + std::to_string(kMaxPrompts) +
                "), got " + json_brief(p));
  }
}

// logprobs: completions' alternatives count (null: none); chat's true/false with top_logprobs.
int parse_logprobs(const json& body, ApiEndpoint endpoint) {
  const json* lp = json_find(body, "logprobs");
  if (endpoint == ApiEndpoint::kCompletions)
    return lp && !lp->is_null() ? static_cast<int>(json_int_or(body, "logprobs", kWhere, 0, 0, kMaxTopLogprobs)) : -1;
  const bool on = lp && !lp->is_null() && json_bool_or(body, "logprobs", kWhere, false);
  const json* top = json_find(body, "top_logprobs");
  if (!top || top->is_null()) return on ? 0 : -1;
  const int k = static_cast<int>(json_int_or(body, "top_logprobs", kWhere, 0, 0, kMaxTopLogprobs));
  if (!on) throw Error(std::string(kWhere) + ": field \"top_logprobs\" needs \"logprobs\": true");
  return k;
}

// n and best_of (completions): choices per prompt and sequences they are chosen from.
void parse_choices(const json& body, CompletionCall& call) {
  constexpr int kMaxChoices = 16;
  call.n = static_cast<int>(json_int_or(body, "n", kWhere, 1, 1, kMaxChoices));
  call.best_of = call.n;
  if (const json* b = json_find(body, "best_of"); b && !b->is_null() && call.endpoint == ApiEndpoint::kCompletions) {
    call.best_of = static_cast<int>(json_int_or(body, "best_of", kWhere, call.n, 1, kMaxChoices));
    if (call.best_of < call.n)
      throw Error(std::string(kWhere) + ": field \"best_of\" must be at least n (" + std::to_string(call.n) + "), got " +
                  std::to_string(call.best_of));
  }
  if (call.stream && call.best_of > call.n)
    throw Error(std::string(kWhere) + ": field \"best_of\" cannot be more than n when streaming");
}

std::string message_content(const json& m, const std::string& name) {
  const json& c = json_field(m, "content", kWhere + std::string(": ") + name);
  if (c.is_string()) return c.get<std::string>();
  if (!c.is_array())
    throw Error(std::string(kWhere) + ": field \"" + name + ".content\" must be a string or a list of text parts, got " +
                json_brief(c));
  std::string text;
  for (size_t i = 0; i < c.size(); ++i) {
    std::string part = name + ".content[" + std::to_string(i) + "]";
    if (!c[i].is_object()) throw Error(std::string(kWhere) + ": field \"" + part + "\" must be an object, got " + json_brief(c[i]));
    std::string type = json_text(c[i], "type", std::string(kWhere) + ": " + part);
    if (type != "text") throw Error(std::string(kWhere) + ": field \"" + part + ".type\" must be \"text\", got \"" + type + "\"");
    text += json_text(c[i], "text", std::string(kWhere) + ": " + part);
  }
  return text;
}

}  // namespace

json parse_request_json(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    throw Error(std::string(kWhere) + ": malformed JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {
    throw Error(std::string(kWhere) + ": malformed JSON: " + e.what());
  }
}

std::string render_chat_prompt(const json& messages, const std::string& where) {
  if (!messages.is_array() || messages.empty())
    throw Error(where + ": field \"messages\" must be a non-empty list of messages, got " + json_brief(messages));
  std::string prompt;
  for (size_t i = 0; i < messages.size(); ++i) {
    std::string name = "messages[" + std::to_string(i) + "]";
    const json& m = messages[i];
    if (!m.is_object()) throw Error(where + ": field \"" + name + "\" must be an object, got " + json_brief(m));
    std::string role = json_text(m, "role", where + ": " + name);
    if (role != "system" && role != "user" && role != "assistant" && role != "developer")
      throw Error(where + ": field \"" + name + ".role\" must be system, developer, user or assistant, got \"" + role + "\"");
    if (i > 0) prompt += "\n\n";
    prompt += message_content(m, name);
  }
  return prompt;
}

CompletionCall parse_completion_call(const json& body, ApiEndpoint endpoint, const ApiLimits& limits) {
  if (!body.is_object()) throw Error(std::string(kWhere) + ": the body must be a JSON object, got " + json_brief(body));
  CompletionCall call;
  call.endpoint = endpoint;
  call.model = json_text_or(body, "model", kWhere, "");
  if (endpoint == ApiEndpoint::kChat) {
    call.prompts.push_back({render_chat_prompt(json_field(body, "messages", kWhere), kWhere), {}});
  } else {
    parse_prompt(body, call);
    call.echo = json_bool_or(body, "echo", kWhere, false);
  }
  const char* tokens_field = endpoint == ApiEndpoint::kChat && json_find(body, "max_completion_tokens")
                                 ? "max_completion_tokens" : "max_tokens";
  int fallback = endpoint == ApiEndpoint::kChat ? limits.max_tokens : std::min(16, limits.max_tokens);
  call.opts.max_tokens = static_cast<int>(json_int_or(body, tokens_field, kWhere, fallback, call.echo ? 0 : 1, limits.max_tokens));
  call.opts.temperature = static_cast<float>(json_number_or(body, "temperature", kWhere, 1.0, 0.0, 2.0));
  call.opts.top_p = static_cast<float>(json_number_or(body, "top_p", kWhere, 1.0, 0.0, 1.0));
  if (call.opts.top_p <= 0.0f) throw Error(std::string(kWhere) + ": field \"top_p\" must be in (0, 1], got 0");
  call.opts.seed = static_cast<uint64_t>(json_int_or(body, "seed", kWhere, 0, 0, INT64_MAX));
  call.opts.stop = parse_stop(body);
  call.stream = json_bool_or(body, "stream", kWhere, false);
  parse_choices(body, call);
  call.logprobs = parse_logprobs(body, endpoint);
  if (const json* so = json_find(body, "stream_options")) {
    if (!so->is_object()) throw Error(std::string(kWhere) + ": field \"stream_options\" must be an object, got " + json_brief(*so));
    call.include_usage = json_bool_or(*so, "include_usage", std::string(kWhere) + ": stream_options", false);
  }
  return call;
}

json usage_json(int prompt_tokens, int completion_tokens) {
  return json{{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}};
}

json completion_response(const CompletionCall& call, const CompletionOutput& out) {
  const bool chat = call.endpoint == ApiEndpoint::kChat;
  json choices = json::array();
  for (const ChoiceOutput& c : out.choices) {
    json choice{{"index", c.index}, {"finish_reason", c.finish_reason}, {"logprobs", c.logprobs}};
    if (chat) choice["message"] = json{{"role", "assistant"}, {"content", c.text}};
    else choice["text"] = c.text;
    choices.push_back(std::move(choice));
  }
  return json{{"id", out.id}, {"object", chat ? "chat.completion" : "text_completion"}, {"created", out.created},
              {"model", out.model}, {"choices", std::move(choices)},
              {"usage", usage_json(out.prompt_tokens, out.completion_tokens)}};
}

json completion_chunk(const CompletionCall& call, const CompletionOutput& out, const ChoiceOutput& c, bool first) {
  const bool chat = call.endpoint == ApiEndpoint::kChat;
  json choice{{"index", c.index}, {"finish_reason", c.finish_reason.empty() ? json(nullptr) : json(c.finish_reason)},
              {"logprobs", c.logprobs}};
  if (chat) {
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (!c.text.empty() || first) delta["content"] = c.text;
    choice["delta"] = delta;
  } else {
    choice["text"] = c.text;
  }
  json j{{"id", out.id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", out.created},
         {"model", out.model}, {"choices", json::array({choice})}};
  if (call.include_usage) j["usage"] = nullptr;
  return j;
}

json usage_chunk(const CompletionCall& call, const CompletionOutput& out) {
  const bool chat = call.endpoint == ApiEndpoint::kChat;
  return json{{"id", out.id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", out.created},
              {"model", out.model}, {"choices", json::array()},
              {"usage", usage_json(out.prompt_tokens, out.completion_tokens)}};
}

json error_json(const std::string& message, const std::string& type) {
  return json{{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

}  // namespace steper
