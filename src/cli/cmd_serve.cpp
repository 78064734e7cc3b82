// steper serve: a model folder (and optionally an index) as an OpenAI-compatible server with the
// multi-step loop at /v1/ask, a page at / and metrics (docs/DESIGN.md section 9).
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "cli/args.h"
#include "cli/command.h"
#include "core/error.h"
#include "model/model.h"
#include "retrieval/retriever.h"
#include "serve/server.h"

namespace steper {
namespace {

struct ServeFlags {
  std::string model, adapter, index, device = "cpu", api_key_env, model_name;
  ServeOptions serve;
  int max_batch = 16, max_queue = 64, max_tokens = 0, max_prompt_tokens = 0;
  int threads = 1;  // one BLAS thread: the decoder shares the cores with the HTTP threads
};

ApiLimits resolve_limits(const ServeFlags& f, int64_t context) {
  ApiLimits l;
  if (f.max_tokens > context)
    throw Error("--max-tokens " + std::to_string(f.max_tokens) + " is more than the model's context (" +
                std::to_string(context) + " tokens)");
  if (f.max_prompt_tokens >= context)
    throw Error("--max-prompt-tokens " + std::to_string(f.max_prompt_tokens) + " leaves no room in the model's context (" +
                std::to_string(context) + " tokens)");
  l.max_tokens = f.max_tokens > 0 ? f.max_tokens : static_cast<int>(std::min<int64_t>(context, INT32_MAX));
  l.max_prompt_tokens = f.max_prompt_tokens > 0 ? f.max_prompt_tokens : static_cast<int>(std::min<int64_t>(context - 1, INT32_MAX));
  return l;
}

// SIGTERM and SIGINT write their number to a pipe that one thread watches (any thread may take the
// signal: OpenBLAS starts its own before main).
int signal_pipe[2] = {-1, -1};
void on_signal(int sig) {
  unsigned char b = static_cast<unsigned char>(sig);
  if (write(signal_pipe[1], &b, 1) < 0) _exit(1);
}

void catch_stop_signals() {
  if (pipe(signal_pipe) != 0) throw Error("steper serve: cannot create a pipe for signals");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
}

// Each connection holds a descriptor: the soft limit is raised to the hard one, so that --max-connections
// (not a failing accept()) is what refuses a connection.
void raise_descriptor_limit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int serve_main(ServeFlags f, const RagOptions& rag) {
  if (!f.api_key_env.empty()) {
    f.serve.api_key = std::getenv(f.api_key_env.c_str()) ? std::getenv(f.api_key_env.c_str()) : "";
    if (f.serve.api_key.empty()) throw Error("--api-key-env " + f.api_key_env + ": the variable is unset or empty");
  }
  f.serve.model_name = f.model_name.empty() ? std::filesystem::path(f.model).filename().string() : f.model_name;
  if (f.serve.model_name.empty()) f.serve.model_name = std::filesystem::path(f.model).parent_path().filename().string();
  f.serve.rag = rag;
  torch_threads_set(1);
  blas_threads_set(f.threads);
  raise_descriptor_limit();

  std::unique_ptr<LanguageModel> lm = LanguageModel::load(f.model, f.device, f.adapter);
  f.serve.limits = resolve_limits(f, lm->context());
  std::unique_ptr<Retriever> retriever;
  if (!f.index.empty()) retriever = bm25_open_index(f.index);
  Scheduler scheduler(*lm, f.max_batch, f.max_queue);
  Server server(scheduler, retriever.get(), f.serve);
  int port = server.bind();
  std::fprintf(stderr, "steper serve: %s on http://%s:%d (batch %d, queue %d)\n", f.serve.model_name.c_str(),
               f.serve.host.c_str(), port, f.max_batch, f.max_queue);
  catch_stop_signals();
  std::thread watcher([&] {
    unsigned char sig = 0;
    if (read(signal_pipe[0], &sig, 1) != 1) return;
    if (sig == 0) return;  // listen() ended by itself
    std::fprintf(stderr, "steper serve: %s: finishing the requests in flight\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.stop();
  });
  server.listen();
  unsigned char zero = 0;
  if (write(signal_pipe[1], &zero, 1) != 1) std::fprintf(stderr, "steper serve: cannot wake the signal thread\n");
  watcher.join();
  std::fprintf(stderr, "steper serve: stopped\n");
  return 0;
}

CommandRegistrar reg({"serve", "Serve a model as an OpenAI-compatible server with the multi-step loop, a page and metrics",
                      [](CLI::App* sub) {
  auto f = std::make_shared<ServeFlags>();
  sub->add_option("--model", f->model, "model folder (config.json, model.safetensors, tokenizer.json)")->required();
  sub->add_option("--index", f->index, "BM25 index (steper index) for /v1/ask; without it /v1/ask takes mode none only");
  sub->add_option("--host", f->serve.host, "address to listen on")->capture_default_str();
  sub->add_option("--port", f->serve.port, "port to listen on (0 = any free port, printed when listening)")
      ->check(CLI::Range(0, 65535))->capture_default_str();
  sub->add_option("--model-name", f->model_name, "the model id /v1/models lists (default: the folder's name)");
  sub->add_option("--max-batch", f->max_batch, "sequences decoded together at most")->check(CLI::Range(1, 1024))
      ->capture_default_str();
  sub->add_option("--max-queue", f->max_queue, "requests waiting for a place at most; more are answered 503")
      ->check(CLI::Range(0, 100000))->capture_default_str();
  sub->add_option("--max-body-bytes", f->serve.max_body_bytes, "largest request body; larger ones are answered 413")
      ->check(CLI::Range(1, 1 << 30))->capture_default_str();
  sub->add_option("--max-tokens", f->max_tokens, "largest max_tokens a request may ask (0 = the model's context)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  sub->add_option("--max-prompt-tokens", f->max_prompt_tokens, "longest prompt in tokens (0 = the context less one)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  sub->add_option("--max-connections", f->serve.connections.max_connections,
                  "connections served at once (a thread each); one more is answered 503 at the door")
      ->check(CLI::Range(1, 100000))->capture_default_str();
  sub->add_option("--read-deadline", f->serve.connections.read_deadline_seconds,
                  "seconds a request's headers and body may take from their first byte; a slower client is cut off")
      ->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--idle-timeout", f->serve.connections.idle_seconds,
                  "seconds a connection may wait for its next request before it is closed")
      ->check(CLI::PositiveNumber)->capture_default_str();
  sub->add_option("--api-key-env", f->api_key_env, "environment variable holding the API key /v1/* requires (401 without it)");
  auto loop = add_loop_flags(sub, LoopUse::kRun);
  add_device_flag(sub, f->device);
  add_adapter_flag(sub, f->adapter);
  add_threads_flag(sub, f->threads);
  return std::function<int()>([=] { return serve_main(*f, loop->resolve()); });
}});

}  // namespace
}  // namespace steper
