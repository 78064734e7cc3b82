#include "serve/connections.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "serve/openai_schema.h"

namespace steper {

namespace {

using Clock = std::chrono::steady_clock;

thread_local bool refusing = false;  // set while the accepting thread answers a connection it has no place for
thread_local socket_t serving = INVALID_SOCKET;  // the connection this thread serves

int poll_ms(double seconds) { return seconds <= 0 ? 0 : static_cast<int>(std::min(seconds * 1000.0 + 1, 3.6e6)); }

bool wait_for(socket_t sock, short events, int ms) {
  pollfd p{sock, events, 0};
  int r;
  do r = ::poll(&p, 1, ms);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

void address_of(const sockaddr_storage& a, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
    port = ntohs(v6->sin6_port);
  }
  ip = buf;
}

// One request's stream: reads end at the deadline (counted from the stream's creation, when the request's
// first byte has arrived); buffered, since httplib reads header lines a byte at a time.
class DeadlineStream : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, const ConnectionLimits& l)
      : sock_(sock),
        deadline_(Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(l.read_deadline_seconds))),
        write_ms_(poll_ms(l.write_seconds)) {}
  bool timed_out() const { return timed_out_; }
  bool is_readable() const override { return pos_ < len_ || wait_for(sock_, POLLIN, left_ms()); }
  bool is_writable() const override { return wait_for(sock_, POLLOUT, write_ms_); }
  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == len_) {
      if (left_ms() <= 0 || !wait_for(sock_, POLLIN, left_ms())) {
        timed_out_ = true;
        return -1;
      }
      ssize_t n;
      do n = ::recv(sock_, buf_, sizeof buf_, 0);
      while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, len_ - pos_);
    std::copy(buf_ + pos_, buf_ + pos_ + n, ptr);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (!wait_for(sock_, POLLOUT, write_ms_)) return -1;
    ssize_t n;
    do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) address_of(a, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len) == 0) address_of(a, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  int left_ms() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 3600000));
  }
  socket_t sock_;
  Clock::time_point deadline_;
  int write_ms_;
  char buf_[4096];
  size_t pos_ = 0, len_ = 0;
  bool timed_out_ = false;
};

// A thread per connection, started when no idle one is left, at most `max`; a connection beyond that
// runs at once on the accepting thread with `refusing` set, which answers it 503.
class ConnectionQueue : public httplib::TaskQueue {
 public:
  explicit ConnectionQueue(size_t max) : max_(max) {}
  void enqueue(std::function<void()> fn) override {
    std::unique_lock<std::mutex> lk(m_);
    if (busy_ >= max_) {
      lk.unlock();
      refusing = true;
      fn();
      refusing = false;
      return;
    }
    ++busy_;
    jobs_.push_back(std::move(fn));
    if (jobs_.size() > idle_) threads_.emplace_back([this] { work(); });
    else cv_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard<std::mutex> lk(m_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();  // threads_ only grows on the accepting thread, which calls this
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lk(m_);
    while (true) {
      ++idle_;
      cv_.wait(lk, [&] { return !jobs_.empty() || stopping_; });
      --idle_;
      if (jobs_.empty()) return;
      std::function<void()> fn = std::move(jobs_.front());
      jobs_.pop_front();
      lk.unlock();
      fn();
      lk.lock();
      --busy_;
    }
  }
  const size_t max_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t busy_ = 0, idle_ = 0;
  bool stopping_ = false;
};

void close_socket(socket_t sock) {
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

double seconds_now() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

// 503 at the door, without waiting on the client: the answer is sent if it fits the socket's buffer, then
// the sending side is shut (the socket is closed by ClosingSockets).
void refuse(socket_t sock) {
  const std::string body = error_json("the server has no free connection; retry later", "server_busy").dump();
  const std::string answer = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
                             "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::send(sock, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
    // the client is gone or its buffer is full: it is closed all the same
  }
  ::shutdown(sock, SHUT_WR);
}

}  // namespace

ClosingSockets::ClosingSockets() : thread_([this] { run(); }) {}

ClosingSockets::~ClosingSockets() {
  stop_ = true;
  thread_.join();
  for (auto& [sock, until] : socks_) ::close(sock);
}

void ClosingSockets::add(socket_t sock) {
  std::lock_guard<std::mutex> lk(m_);
  socks_.emplace_back(sock, seconds_now() + 1.0);
}

void ClosingSockets::run() {
  std::vector<pollfd> fds;
  char drain[4096];
  while (!stop_) {
    {
      std::lock_guard<std::mutex> lk(m_);
      fds.clear();
      for (const auto& [sock, until] : socks_) fds.push_back({sock, POLLIN, 0});
    }
    if (fds.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (::poll(fds.data(), fds.size(), 20) < 0 && errno != EINTR) continue;
    std::vector<socket_t> done;
    for (const pollfd& p : fds)
      if (p.revents && ::recv(p.fd, drain, sizeof drain, MSG_DONTWAIT) <= 0) done.push_back(p.fd);  // closed by the client
    const double now = seconds_now();
    std::lock_guard<std::mutex> lk(m_);
    for (auto it = socks_.begin(); it != socks_.end();) {
      if (std::find(done.begin(), done.end(), it->first) != done.end() || it->second <= now) {
        ::close(it->first);
        it = socks_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

bool client_gone() {
  if (serving == INVALID_SOCKET) return false;
  pollfd p{serving, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

GuardedHttpServer::GuardedHttpServer(ConnectionLimits limits, std::function<void()> on_refused)
    : limits_(limits), on_refused_(std::move(on_refused)) {
  const size_t max = limits_.max_connections;
  new_task_queue = [max] { return new ConnectionQueue(max); };
}

// Waits for a connection's next request: false when it stays idle for idle_seconds, the client closes it,
// or the server is stopping (checked every 100 ms).
bool GuardedHttpServer::wait_for_request(socket_t sock) const {
  const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits_.idle_seconds));
  while (svr_sock_ != INVALID_SOCKET) {
    const double left = std::chrono::duration<double>(until - Clock::now()).count();
    if (left <= 0) return false;
    if (wait_for(sock, POLLIN, std::min(100, poll_ms(left)))) return true;
  }
  return false;
}

bool GuardedHttpServer::process_and_close_socket(socket_t sock) {
  if (refusing) {
    if (on_refused_) on_refused_();
    refuse(sock);
    refused_.add(sock);
    return false;
  }
  bool ret = false;
  serving = sock;
  for (size_t left = keep_alive_max_count_; left > 0; --left) {
    if (!wait_for_request(sock)) break;
    DeadlineStream strm(sock, limits_);
    bool connection_closed = false;
    ret = process_request(strm, left == 1, connection_closed, nullptr);
    if (!ret || connection_closed || strm.timed_out()) break;
  }
  serving = INVALID_SOCKET;
  close_socket(sock);
  return ret;
}

}  // namespace steper
