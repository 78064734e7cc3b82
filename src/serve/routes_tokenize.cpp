// POST /tokenize and POST /detokenize with the model's tokenizer, in vLLM's schema: {prompt |
// messages, add_special_tokens, return_token_strs} -> {count, max_model_len, tokens, token_strs} and
// {tokens} -> {prompt}.
#include "core/error.h"
#include "core/io.h"
#include "serve/routes.h"

namespace steper {

using nlohmann::json;

namespace {

const char* const kWhere = "request";

void answer_json(httplib::Response& res, const json& j) {
  res.set_content(j.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

}  // namespace

void handle_tokenize(ServeContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_request_json(req.body);
  if (!body.is_object()) throw Error(std::string(kWhere) + ": the body must be a JSON object, got " + json_brief(body));
  const Tokenizer& tok = ctx.scheduler.model().tokenizer();
  std::string text;
  if (const json* m = json_find(body, "messages")) text = render_chat_prompt(*m, kWhere);
  else text = json_text(body, "prompt", kWhere);
  const bool special = json_bool_or(body, "add_special_tokens", kWhere, true);
  const std::vector<int32_t> ids = tok.encode(text, special);
  json out{{"count", ids.size()}, {"max_model_len", ctx.scheduler.model().context()}, {"tokens", ids},
           {"token_strs", nullptr}};
  if (json_bool_or(body, "return_token_strs", kWhere, false)) {
    out["token_strs"] = json::array();
    for (int32_t id : ids) out["token_strs"].push_back(tok.token_bytes(id));
  }
  answer_json(res, out);
}

void handle_detokenize(ServeContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const json body = parse_request_json(req.body);
  if (!body.is_object()) throw Error(std::string(kWhere) + ": the body must be a JSON object, got " + json_brief(body));
  const json& t = json_field(body, "tokens", kWhere);
  if (!t.is_array()) throw Error(std::string(kWhere) + ": field \"tokens\" must be a list of token ids, got " + json_brief(t));
  const Tokenizer& tok = ctx.scheduler.model().tokenizer();
  const int64_t vocab = static_cast<int64_t>(tok.vocab_size());
  std::vector<int32_t> ids;
  for (size_t i = 0; i < t.size(); ++i)
    ids.push_back(static_cast<int32_t>(json_as_int(t[i], "tokens[" + std::to_string(i) + "]", kWhere, 0, vocab - 1)));
  answer_json(res, json{{"prompt", tok.decode(ids, false)}});
}

}  // namespace steper
