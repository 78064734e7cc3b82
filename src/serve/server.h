// `steper serve`: a model folder (and optionally an index) behind HTTP (docs/DESIGN.md section 9):
// the OpenAI endpoints, /v1/ask (the multi-step loop), /tokenize and /detokenize, /health, /metrics and
// the page at /.
// A request the server cannot take is a 4xx answer with an OpenAI-style error body; the server
// keeps serving.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "rag/loop.h"
#include "retrieval/retriever.h"
#include "serve/connections.h"
#include "serve/openai_schema.h"
#include "serve/scheduler.h"

namespace steper {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;               // 0: any free port (bind() says which)
  std::string model_name;        // the id /v1/models lists and responses carry
  std::string api_key;           // when not empty, /v1/* needs "Authorization: Bearer <key>" (else 401)
  size_t max_body_bytes = 1 << 20;  // a larger body is answered 413
  ApiLimits limits;
  RagOptions rag;                // /v1/ask's loop options unless a request gives its own
  ConnectionLimits connections;  // a thread per connection at most, deadlines for slow clients
};

class Server {
 public:
  Server(Scheduler& scheduler, Retriever* retriever, ServeOptions opts);
  ~Server();
  int bind();     // binds host:port; returns the port (throws Error when it cannot)
  void listen();  // serves until stop(); the requests in flight are finished first
  void stop();    // thread-safe (for a signal-watching thread)

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace steper
