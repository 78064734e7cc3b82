// The handlers behind the server's routes (server.cpp wires them up): shared state and the error answer.
#pragma once

#include <httplib.h>

#include <string>

#include "serve/metrics.h"
#include "serve/server.h"

namespace steper {

struct ServeContext {
  Scheduler& scheduler;
  Retriever* retriever;
  ServeOptions opts;
  ServeMetrics metrics;
};

// An OpenAI-style error body with the status.
void answer_error(httplib::Response& res, int status, const std::string& message, const std::string& type);
// A new response id: prefix + 24 hex digits.
std::string response_id(const std::string& prefix);

void handle_completion(ServeContext& ctx, const httplib::Request& req, httplib::Response& res, ApiEndpoint endpoint);
void handle_models(ServeContext& ctx, httplib::Response& res);
void handle_ask(ServeContext& ctx, const httplib::Request& req, httplib::Response& res);
void handle_tokenize(ServeContext& ctx, const httplib::Request& req, httplib::Response& res);
void handle_detokenize(ServeContext& ctx, const httplib::Request& req, httplib::Response& res);

// The page at / (serve/page.html, embedded by the build).
extern const char* const kServePageHtml;

}  // namespace steper
