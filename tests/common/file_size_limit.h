// A file-size limit for the scope of a test: a write crossing it is cut short at the limit and the next
// one fails with EFBIG ("File too large"), the short write a nearly full disk gives, without privileges.
// It holds for the whole process (and SIGXFSZ is ignored meanwhile): no other thread may write then.
#pragma once

#include <sys/resource.h>

#include <csignal>

namespace steper {

class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit r = old_;
    r.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &r);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

}  // namespace steper
