// POST /v1/completions, POST /v1/chat/completions (whole or streamed as server-sent events) and
// GET /v1/models.
#include <chrono>

#include "core/error.h"
#include "serve/routes.h"
#include "serve/sse.h"

namespace steper {

using nlohmann::json;

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The prompt's ids, within the server's limit on prompt length.
std::vector<int32_t> prompt_ids(ServeContext& ctx, CompletionCall& call) {
  const Tokenizer& tok = ctx.scheduler.model().tokenizer();
  std::vector<int32_t> ids = call.prompt_ids;
  if (ids.empty()) ids = tok.encode(call.prompt, true);
  else if (call.echo) call.prompt = tok.decode(ids, true);
  const char* field = call.endpoint == ApiEndpoint::kChat ? "messages" : "prompt";
  if (ids.empty()) throw Error(std::string("request: field \"") + field + "\" is empty");
  if (static_cast<int>(ids.size()) > ctx.opts.limits.max_prompt_tokens)
    throw Error(std::string("request: field \"") + field + "\" has " + std::to_string(ids.size()) +
                " tokens, more than the " + std::to_string(ctx.opts.limits.max_prompt_tokens) + " this server takes");
  return ids;
}

void stream_completion(const CompletionCall& call, const CompletionOutput& head, std::shared_ptr<ScheduledJob> job,
                       httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [call, head, job](size_t, httplib::DataSink& sink) {
    auto send = [&](const std::string& s) {
      if (sink.write(s.data(), s.size())) return true;
      job->cancel();  // the client went away
      return false;
    };
    StreamedText text(call.opts.stop);
    bool first = true;
    std::string piece;
    while (job->next_piece(piece)) {
      std::string t = text.add(piece);
      if (t.empty() && !first) continue;
      if (!send(sse_data(completion_chunk(call, head, t, "", first)))) return false;
      first = false;
    }
    const DecodeResult& r = job->wait();
    CompletionOutput out = head;
    out.prompt_tokens = r.prompt_tokens;
    out.completion_tokens = static_cast<int>(r.ids.size());
    if (!send(sse_data(completion_chunk(call, out, text.finish(r.text), r.finish_reason, first)))) return false;
    if (call.include_usage && !send(sse_data(usage_chunk(call, out)))) return false;
    if (!send(sse_done())) return false;
    sink.done();
    return true;
  });
}

}  // namespace

void handle_completion(ServeContext& ctx, const httplib::Request& req, httplib::Response& res, ApiEndpoint endpoint) {
  CompletionCall call = parse_completion_call(parse_request_json(req.body), endpoint, ctx.opts.limits);
  std::vector<int32_t> ids = prompt_ids(ctx, call);
  auto job = ctx.scheduler.submit(std::move(ids), call.opts, call.stream);
  CompletionOutput out;
  out.id = response_id(endpoint == ApiEndpoint::kChat ? "chatcmpl-" : "cmpl-");
  out.created = unix_now();
  out.model = ctx.opts.model_name;
  if (call.stream) {
    stream_completion(call, out, job, res);
    return;
  }
  const DecodeResult& r = job->wait();
  out.text = r.text;
  out.finish_reason = r.finish_reason;
  out.prompt_tokens = r.prompt_tokens;
  out.completion_tokens = static_cast<int>(r.ids.size());
  res.set_content(completion_response(call, out).dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void handle_models(ServeContext& ctx, httplib::Response& res) {
  json model{{"id", ctx.opts.model_name}, {"object", "model"}, {"created", 0}, {"owned_by", "steper"}};
  res.set_content(json{{"object", "list"}, {"data", json::array({model})}}.dump(), "application/json");
}

}  // namespace steper
