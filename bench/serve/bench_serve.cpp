// bench_serve: a bounded load test of a running `steper serve` on loopback (bench/serve/run.sh starts
// one). Phase 1: N requests, C in flight, a fifth of them malformed or oversized: no connection may
// fail, no valid request may get a 5xx, every malformed one must get a 4xx; p50/p99 latency and
// throughput. Phase 2: one client against 16 concurrent clients, the same valid requests, in the same
// run: throughput ratio. Phase 3: streamed requests: time to first token and between tokens p50/p99 as
// the clients see them and as the server's /metrics histograms count them. Phase 4: a burst of connections
// past the server's --max-connections, all at once: every one is answered (200 or 503), none stalls or
// fails. Exit 1 when a rule above is broken.
// Usage: bench_serve PORT [--requests 2000] [--in-flight 32] [--max-tokens 16] [--scaling-requests 64]
//                         [--stream-requests 64] [--burst 300]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Outcome {
  bool valid = true;
  int status = 0;  // 0: the connection failed
  std::string error;  // httplib's reason when it did
  long previous = -1;  // the request sent before it on the same connection
  double seconds = 0;
};

std::string valid_body(int i, int max_tokens) {
  return "{\"prompt\":\"Wikipedia Title: Port Ember\\nPort Ember is a city number " + std::to_string(i) +
         ".\\n\\nQ: Where is Port Ember?\\nA:\",\"max_tokens\":" + std::to_string(max_tokens) +
         ",\"temperature\":0,\"stop\":[\"\\n\"]}";
}

// Five kinds of bad requests: broken JSON, a wrong type, a max_tokens past the context, a body past
// --max-body-bytes, a prompt past --max-prompt-tokens.
std::string bad_body(int i) {
  switch (i % 5) {
    case 0: return "{\"prompt\": \"a\", \"max_tokens\": ";
    case 1: return "{\"prompt\": \"a\", \"max_tokens\": \"ten\"}";
    case 2: return "{\"prompt\": \"a\", \"max_tokens\": 100000000}";
    case 3: return "{\"prompt\": \"" + std::string(300000, 'a') + "\"}";
    default: {
      std::string words;
      for (int w = 0; w < 3000; ++w) words += "word ";
      return "{\"prompt\": \"" + words + "\", \"max_tokens\": 1}";
    }
  }
}

// Runs bodies[i] with `clients` threads pulling the next index; one keep-alive connection per thread.
std::vector<Outcome> run(int port, const std::vector<std::pair<bool, std::string>>& bodies, int clients, double& wall) {
  std::vector<Outcome> out(bodies.size());
  std::atomic<size_t> next{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_read_timeout(300, 0);
      cli.set_keep_alive(true);
      long previous = -1;
      for (size_t i; (i = next++) < bodies.size(); previous = static_cast<long>(i)) {
        out[i].previous = previous;
        auto s = Clock::now();
        auto res = cli.Post("/v1/completions", bodies[i].second, "application/json");
        out[i].valid = bodies[i].first;
        out[i].status = res ? res->status : 0;
        if (!res) out[i].error = httplib::to_string(res.error());
        out[i].seconds = std::chrono::duration<double>(Clock::now() - s).count();
      }
    });
  for (auto& t : threads) t.join();
  wall = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// A histogram's cumulative buckets from /metrics text: (upper bound, count), +Inf last.
std::vector<std::pair<double, double>> buckets(const std::string& metrics, const std::string& name) {
  std::vector<std::pair<double, double>> out;
  const std::string head = name + "_bucket{le=\"";
  for (size_t at = metrics.find(head); at != std::string::npos; at = metrics.find(head, at + 1)) {
    size_t q = metrics.find('"', at + head.size());
    std::string le = metrics.substr(at + head.size(), q - at - head.size());
    double bound = le == "+Inf" ? INFINITY : std::atof(le.c_str());
    out.emplace_back(bound, std::atof(metrics.c_str() + metrics.find(' ', q) + 1));
  }
  return out;
}

// Prometheus's histogram_quantile over the buckets counted between two scrapes.
double histogram_quantile(const std::string& before, const std::string& after, const std::string& name, double q) {
  auto a = buckets(after, name), b = buckets(before, name);
  if (a.empty()) return NAN;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) a[i].second -= b[i].second;
  const double total = a.back().second, rank = q * total;
  double lower = 0, below = 0;
  for (const auto& [bound, count] : a) {
    if (count >= rank && total > 0) {
      if (std::isinf(bound)) return lower;
      return lower + (bound - lower) * (count > below ? (rank - below) / (count - below) : 0);
    }
    lower = bound, below = count;
  }
  return NAN;
}

std::string scrape(int port) {
  httplib::Client cli("127.0.0.1", port);
  auto res = cli.Get("/metrics");
  return res ? res->body : "";
}

// Phase 3: streamed requests; each chunk's arrival time as the client sees it.
void stream_phase(int port, int requests, int clients, int max_tokens, bool& ok) {
  std::vector<double> ttft, gaps;
  std::mutex mu;
  std::atomic<int> next{0}, bad{0};
  const std::string before = scrape(port);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_read_timeout(300, 0);
      for (int i; (i = next++) < requests;) {
        std::string body = valid_body(200000 + i, max_tokens);
        body.insert(body.size() - 1, ",\"stream\":true");
        std::vector<double> at;
        auto t0 = Clock::now();
        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/completions";
        req.headers = {{"Content-Type", "application/json"}};
        req.body = body;
        req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
          for (std::string chunk(d, n); chunk.find("data: {") != std::string::npos; chunk.erase(0, chunk.find("data: {") + 1))
            at.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
          return true;
        };
        auto res = cli.send(req);
        if (!res || res->status != 200 || at.empty()) {
          ++bad;
          continue;
        }
        std::lock_guard<std::mutex> lk(mu);
        ttft.push_back(at[0]);
        for (size_t k = 1; k < at.size(); ++k) gaps.push_back(at[k] - at[k - 1]);
      }
    });
  for (auto& t : threads) t.join();
  const std::string after = scrape(port);
  std::printf("stream: %d requests, %d clients, max_tokens %d, %d failed\n", requests, clients, max_tokens, bad.load());
  std::printf("stream: time to first token p50 %.4f s p99 %.4f s (clients); p50 %.4f s p99 %.4f s (server histogram)\n",
              percentile(ttft, 0.5), percentile(ttft, 0.99),
              histogram_quantile(before, after, "steper_time_to_first_token_seconds", 0.5),
              histogram_quantile(before, after, "steper_time_to_first_token_seconds", 0.99));
  std::printf("stream: between tokens p50 %.4f s p99 %.4f s (clients, between chunks); p50 %.4f s p99 %.4f s (server histogram)\n",
              percentile(gaps, 0.5), percentile(gaps, 0.99),
              histogram_quantile(before, after, "steper_inter_token_latency_seconds", 0.5),
              histogram_quantile(before, after, "steper_inter_token_latency_seconds", 0.99));
  ok = ok && bad == 0;
}

// Phase 4: `burst` connections at once, each one request on its own connection.
void burst_phase(int port, int burst, int max_tokens, bool& ok) {
  std::vector<int> status(burst, 0);
  std::vector<double> seconds(burst, 0);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < burst; ++i)
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_read_timeout(300, 0);
      ++ready;
      while (ready < burst) std::this_thread::yield();
      auto t0 = Clock::now();
      auto res = cli.Post("/v1/completions", valid_body(300000 + i, max_tokens), "application/json");
      status[i] = res ? res->status : 0;
      seconds[i] = std::chrono::duration<double>(Clock::now() - t0).count();
    });
  for (auto& t : threads) t.join();
  int n200 = 0, n503 = 0, failed = 0, other = 0;
  std::vector<double> refused, served;
  for (int i = 0; i < burst; ++i) {
    if (status[i] == 200) ++n200, served.push_back(seconds[i]);
    else if (status[i] == 503) ++n503, refused.push_back(seconds[i]);
    else if (status[i] == 0) ++failed;
    else ++other;
  }
  std::printf("burst: %d connections at once: %d answered 200 (p99 %.3f s), %d answered 503 (p50 %.4f s, max %.4f s), "
              "%d other, %d failed\n", burst, n200, percentile(served, 0.99), n503, percentile(refused, 0.5),
              refused.empty() ? 0.0 : *std::max_element(refused.begin(), refused.end()), other, failed);
  ok = ok && failed == 0 && other == 0 && n200 > 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_serve PORT [--requests N] [--in-flight C] [--max-tokens T] [--scaling-requests M] "
                         "[--stream-requests S] [--burst B]\n");
    return 2;
  }
  int port = std::atoi(argv[1]), requests = 2000, in_flight = 32, max_tokens = 16, scaling = 64, streams = 64, burst = 300;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (a == "--requests") requests = v;
    else if (a == "--in-flight") in_flight = v;
    else if (a == "--max-tokens") max_tokens = v;
    else if (a == "--scaling-requests") scaling = v;
    else if (a == "--stream-requests") streams = v;
    else if (a == "--burst") burst = v;
  }

  // Phase 1: the load test.
  std::vector<std::pair<bool, std::string>> bodies;
  for (int i = 0; i < requests; ++i) bodies.emplace_back(i % 5 != 4, i % 5 == 4 ? bad_body(i / 5) : valid_body(i, max_tokens));
  double wall = 0;
  std::vector<Outcome> out = run(port, bodies, in_flight, wall);
  int failed = 0, valid_5xx = 0, valid_ok = 0, bad_4xx = 0, bad_other = 0, valid_n = 0;
  std::vector<double> lat;
  for (size_t i = 0; i < out.size(); ++i) {
    const Outcome& o = out[i];
    if (o.status == 0) {
      ++failed;
      std::fprintf(stderr, "request %zu (%s) failed: %s (after request %ld)\n", i, o.valid ? "valid" : "malformed",
                   o.error.c_str(), o.previous);
    }
    if (o.valid) {
      ++valid_n;
      if (o.status >= 500) ++valid_5xx;
      if (o.status == 200) ++valid_ok, lat.push_back(o.seconds);
    } else if (o.status >= 400 && o.status < 500) {
      ++bad_4xx;
    } else {
      ++bad_other;
    }
  }
  std::printf("load: %d requests (%d valid, %d malformed or oversized), %d in flight, max_tokens %d\n", requests, valid_n,
              requests - valid_n, in_flight, max_tokens);
  std::printf("load: %.1f s, %.1f requests/s; valid: %d ok, %d 5xx; malformed: %d 4xx, %d other; connections failed %d\n",
              wall, requests / wall, valid_ok, valid_5xx, bad_4xx, bad_other, failed);
  std::printf("load: valid latency p50 %.3f s, p99 %.3f s\n", percentile(lat, 0.5), percentile(lat, 0.99));

  // Phase 2: the same valid requests with one client and with 16.
  std::vector<std::pair<bool, std::string>> valid;
  for (int i = 0; i < scaling; ++i) valid.emplace_back(true, valid_body(100000 + i, max_tokens));
  double wall1 = 0, wall16 = 0;
  auto one = run(port, valid, 1, wall1);
  auto sixteen = run(port, valid, 16, wall16);
  int scaling_bad = 0;
  for (const auto& o : one) scaling_bad += o.status != 200;
  for (const auto& o : sixteen) scaling_bad += o.status != 200;
  double r1 = scaling / wall1, r16 = scaling / wall16;
  std::printf("scaling: %d requests: 1 client %.2f requests/s, 16 clients %.2f requests/s: %.2fx (goal >= 4x)\n", scaling,
              r1, r16, r16 / r1);

  bool phases_ok = true;
  stream_phase(port, streams, 16, 32, phases_ok);
  burst_phase(port, burst, max_tokens, phases_ok);

  httplib::Client cli("127.0.0.1", port);
  auto health = cli.Get("/health");
  bool alive = health && health->status == 200;
  std::printf("server alive after the run: %s\n", alive ? "yes" : "NO");
  bool ok = alive && phases_ok && failed == 0 && valid_5xx == 0 && bad_other == 0 && scaling_bad == 0 && valid_ok == valid_n;
  std::printf("%s\n", ok ? "bench_serve: all rules held" : "bench_serve: a rule was broken");
  return ok ? 0 : 1;
}
