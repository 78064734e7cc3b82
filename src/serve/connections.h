// The HTTP server's connections (cpp-httplib underneath): one thread per connection, at most
// max_connections of them (one more is answered 503 at the door and closed), a deadline for each
// request's headers and body counted from its first byte (a client that trickles or stalls is cut off
// there), and a connection idle between requests closed after idle_seconds.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace steper {

struct ConnectionLimits {
  size_t max_connections = 1024;
  double read_deadline_seconds = 10;  // a request's headers and body
  double idle_seconds = 5;            // waiting for a connection's next request
  double write_seconds = 5;           // a client that reads nothing for this long is dropped
};

// Sockets answered at the door, kept open and drained until their client closes them or a second has
// passed, so that the client reads the answer before its own request could draw a reset.
class ClosingSockets {
 public:
  ClosingSockets();
  ~ClosingSockets();
  void add(socket_t sock);  // thread-safe; the socket is closed here from now on

 private:
  void run();
  std::mutex m_;
  std::vector<std::pair<socket_t, double>> socks_;  // with the steady-clock second it is closed at the latest
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Whether the client of the request this thread serves has closed its connection (false on a thread that
// serves none): a handler waiting on a result polls it to drop a request nobody waits for.
bool client_gone();

class GuardedHttpServer : public httplib::Server {
 public:
  // on_refused: called (on the accepting thread) for each connection answered 503 at the door.
  GuardedHttpServer(ConnectionLimits limits, std::function<void()> on_refused);

 private:
  bool process_and_close_socket(socket_t sock) override;
  bool wait_for_request(socket_t sock) const;
  ConnectionLimits limits_;
  std::function<void()> on_refused_;
  ClosingSockets refused_;
};

}  // namespace steper
