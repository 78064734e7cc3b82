// POST /v1/ask: the multi-step loop over the server's index, its trace whole or each step streamed as a
// server-sent event as the loop records it ({"type":"step"}), then the trace ({"type":"trace"}).
#include "core/error.h"
#include "core/trace_json.h"
#include "serve/ask.h"
#include "serve/routes.h"
#include "serve/sse.h"

namespace steper {

using nlohmann::json;

void handle_ask(ServeContext& ctx, const httplib::Request& req, httplib::Response& res) {
  AskCall call = parse_ask_call(parse_request_json(req.body), ctx.opts.rag, ctx.retriever != nullptr);
  if (!call.stream) {
    ScheduledGenerator generator(ctx.scheduler);
    Trace trace = run_ask(call, ctx.retriever, generator);
    res.set_content(to_json(trace).dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  ServeContext* c = &ctx;
  res.set_chunked_content_provider("text/event-stream", [c, call](size_t, httplib::DataSink& sink) {
    bool open = true;
    auto send = [&](const json& event) {
      std::string s = sse_data(event);
      open = open && sink.write(s.data(), s.size());
    };
    try {
      ScheduledGenerator generator(c->scheduler);
      Trace trace = run_ask(call, c->retriever, generator, [&](size_t i, const json& step) {
        send(json{{"type", "step"}, {"index", i}, {"step", step}});
        return open;  // a client that left stops the loop: its remaining steps are not computed
      });
      send(json{{"type", "trace"}, {"trace", to_json(trace)}});
    } catch (const AskAbandoned&) {
      return false;
    } catch (const QueueFull& e) {
      send(json{{"type", "error"}, {"status", 503}, {"error", error_json(e.what(), "server_busy")["error"]}});
    } catch (const Error& e) {
      send(json{{"type", "error"}, {"status", 400}, {"error", error_json(e.what(), "invalid_request_error")["error"]}});
    }
    std::string done = sse_done();
    if (open && sink.write(done.data(), done.size())) sink.done();
    return open;
  });
}

}  // namespace steper
