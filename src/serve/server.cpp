// The HTTP server: routes, bearer-token check, body limit, the error answers and the metrics of every
// request. Handlers run on httplib's worker threads and wait on the scheduler.
#include "serve/server.h"

#include <sys/socket.h>

#include <chrono>
#include <random>

#include "core/error.h"
#include "serve/routes.h"

namespace steper {

using nlohmann::json;

void answer_error(httplib::Response& res, int status, const std::string& message, const std::string& type) {
  res.status = status;
  res.set_content(error_json(message, type).dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

std::string response_id(const std::string& prefix) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string id = prefix;
  for (int i = 0; i < 24; ++i) id += hex[rng() % 16];
  return id;
}

namespace {

using Clock = std::chrono::steady_clock;
thread_local Clock::time_point request_start;  // set when a request is routed, read by the logger

const char* const kRoutes[] = {"/", "/health", "/metrics", "/v1/models", "/v1/completions", "/v1/chat/completions",
                               "/v1/ask", "/tokenize", "/detokenize"};

std::string endpoint_label(const std::string& path) {
  for (const char* r : kRoutes)
    if (path == r) return r;
  return "other";
}

bool authorized(const ServeOptions& opts, const httplib::Request& req) {
  if (opts.api_key.empty() || req.path.rfind("/v1/", 0) != 0) return true;
  return req.get_header_value("Authorization") == "Bearer " + opts.api_key;
}

// A handler whose user errors become 4xx answers (and a full queue 503 with Retry-After).
httplib::Server::Handler guarded(std::function<void(const httplib::Request&, httplib::Response&)> fn) {
  return [fn](const httplib::Request& req, httplib::Response& res) {
    try {
      fn(req, res);
    } catch (const QueueFull& e) {
      res.set_header("Retry-After", "1");
      answer_error(res, 503, e.what(), "server_busy");
    } catch (const Error& e) {
      answer_error(res, 400, e.what(), "invalid_request_error");
    }
  };
}

}  // namespace

struct Server::Impl {
  ServeContext ctx;
  GuardedHttpServer http;
  int listen_fd = -1;  // the listening socket, seen when httplib sets its options
  Impl(Scheduler& s, Retriever* r, ServeOptions o)
      : ctx{s, r, std::move(o), {}}, http(ctx.opts.connections, [this] { ctx.metrics.refused_connection(); }) {}
  void routes();
};

void Server::Impl::routes() {
  ServeContext& c = ctx;
  http.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(kServePageHtml, "text/html; charset=utf-8"); });
  http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http.Get("/metrics", [&c](const httplib::Request&, httplib::Response& res) {
    res.set_content(c.metrics.render(c.scheduler.stats(), c.scheduler.timings()), "text/plain; version=0.0.4");
  });
  http.Get("/v1/models", [&c](const httplib::Request&, httplib::Response& res) { handle_models(c, res); });
  http.Post("/v1/completions", guarded([&c](const httplib::Request& q, httplib::Response& r) {
    handle_completion(c, q, r, ApiEndpoint::kCompletions);
  }));
  http.Post("/v1/chat/completions", guarded([&c](const httplib::Request& q, httplib::Response& r) {
    handle_completion(c, q, r, ApiEndpoint::kChat);
  }));
  http.Post("/v1/ask", guarded([&c](const httplib::Request& q, httplib::Response& r) { handle_ask(c, q, r); }));
  http.Post("/tokenize", guarded([&c](const httplib::Request& q, httplib::Response& r) { handle_tokenize(c, q, r); }));
  http.Post("/detokenize", guarded([&c](const httplib::Request& q, httplib::Response& r) { handle_detokenize(c, q, r); }));
}

Server::Server(Scheduler& scheduler, Retriever* retriever, ServeOptions opts)
    : impl_(std::make_unique<Impl>(scheduler, retriever, std::move(opts))) {
  Impl& m = *impl_;
  const ServeOptions& o = m.ctx.opts;
  m.http.set_payload_max_length(o.max_body_bytes);
  m.http.set_socket_options([&m](socket_t sock) {
    httplib::default_socket_options(sock);
    m.listen_fd = sock;
  });
  m.http.set_keep_alive_timeout(5);
  m.http.set_keep_alive_max_count(1000);  // clients keep their connection (httplib closes after 5 by default)
  m.http.set_pre_routing_handler([&m](const httplib::Request& req, httplib::Response& res) {
    request_start = Clock::now();
    if (authorized(m.ctx.opts, req)) return httplib::Server::HandlerResponse::Unhandled;
    answer_error(res, 401, "a valid bearer token is required (Authorization: Bearer <key>)", "authentication_error");
    return httplib::Server::HandlerResponse::Handled;
  });
  m.http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) answer_error(res, 413, "the request body is larger than this server takes", "invalid_request_error");
    else if (res.status == 404) answer_error(res, 404, "no such route: " + req.method + " " + req.path, "invalid_request_error");
    else answer_error(res, res.status, "the request was refused (HTTP " + std::to_string(res.status) + ")", "invalid_request_error");
  });
  m.http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    answer_error(res, 500, what, "server_error");
  });
  m.http.set_logger([&m](const httplib::Request& req, const httplib::Response& res) {
    double s = std::chrono::duration<double>(Clock::now() - request_start).count();
    m.ctx.metrics.observe(endpoint_label(req.path), res.status, s);
  });
  m.routes();
}

Server::~Server() = default;

int Server::bind() {
  const ServeOptions& o = impl_->ctx.opts;
  int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host.c_str())
                         : (impl_->http.bind_to_port(o.host.c_str(), o.port) ? o.port : -1);
  if (port < 0) throw Error("--host " + o.host + " --port " + std::to_string(o.port) + ": cannot listen there");
  // httplib listens with a backlog of 5: a burst of new connections would be dropped. Linux lets a
  // second listen() raise it.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, 1024);
  return port;
}

void Server::listen() { impl_->http.listen_after_bind(); }

void Server::stop() { impl_->http.stop(); }

}  // namespace steper
