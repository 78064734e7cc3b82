#include "distill/dist_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "core/error.h"

extern char** environ;

namespace steper {

namespace {

int parse_int(const char* name, const char* text) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < -1000000 || v > 1000000)
    throw Error(std::string(name) + " must be an integer, got '" + text + "'");
  return static_cast<int>(v);
}

}  // namespace

DistEnv dist_env_from_environment(DistEnv env, const std::function<const char*(const char*)>& get_in) {
  auto get = get_in ? get_in : [](const char* n) -> const char* { return std::getenv(n); };
  if (const char* v = get("RANK")) env.rank = parse_int("RANK", v);
  if (const char* v = get("WORLD_SIZE")) env.world_size = parse_int("WORLD_SIZE", v);
  if (const char* v = get("LOCAL_RANK")) env.local_rank = parse_int("LOCAL_RANK", v);
  if (const char* v = get("MASTER_ADDR")) env.master_addr = v;
  if (const char* v = get("MASTER_PORT")) env.master_port = parse_int("MASTER_PORT", v);
  dist_env_check(env);
  return env;
}

void dist_env_check(const DistEnv& env) {
  if (env.world_size < 1) throw Error("WORLD_SIZE (--world-size) must be at least 1, got " + std::to_string(env.world_size));
  if (env.rank < 0 || env.rank >= env.world_size)
    throw Error("RANK (--rank) must lie in [0, " + std::to_string(env.world_size) + "), got " + std::to_string(env.rank));
  if (env.local_rank < 0) throw Error("LOCAL_RANK must not be negative, got " + std::to_string(env.local_rank));
  if (env.master_port < 1 || env.master_port > 65535)
    throw Error("MASTER_PORT (--master-port) must lie in 1..65535, got " + std::to_string(env.master_port));
  if (env.master_addr.empty()) throw Error("MASTER_ADDR (--master-addr) must not be empty");
  if (env.timeout_s < 1) throw Error("--dist-timeout must be at least 1 second, got " + std::to_string(env.timeout_s));
  if (env.backend != "auto" && env.backend != "gloo" && env.backend != "nccl")
    throw Error("--dist-backend must be auto, gloo or nccl, got '" + env.backend + "'");
  if (env.backend == "nccl" && !dist_nccl_built())
    throw Error("--dist-backend nccl: this steper was built against a libtorch without NCCL (a CUDA libtorch has it)");
  if (env.backend == "gloo" && !dist_gloo_built())
    throw Error("--dist-backend gloo: this steper was built against a libtorch without Gloo");
}

bool dist_gloo_built() {
#ifdef STEPER_HAS_GLOO
  return true;
#else
  return false;
#endif
}

bool dist_nccl_built() {
#ifdef STEPER_HAS_NCCL
  return true;
#else
  return false;
#endif
}

std::string dist_backend_resolve(const std::string& backend, bool cuda) {
  if (backend == "nccl" && !cuda) throw Error("--dist-backend nccl needs a CUDA --device");
  if (backend == "nccl" || backend == "gloo") return backend;
  if (cuda && dist_nccl_built()) return "nccl";
  if (!dist_gloo_built()) throw Error("--dist-backend: this steper has no c10d backend for a " +
                                      std::string(cuda ? "CUDA" : "CPU") + " device");
  return "gloo";
}

void fault_kill_if_asked(int rank, int64_t step) {
  const char* v = std::getenv("STEPER_FAULT_KILL_AT");
  if (!v) return;
  int r = -1;
  long long s = -1;
  if (std::sscanf(v, "%d:%lld", &r, &s) == 2 && r == rank && s == step) ::kill(::getpid(), SIGKILL);
}

int free_local_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw Error(std::string("no free local port: ") + std::strerror(errno));
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

namespace {

pid_t spawn_worker(const std::vector<std::string>& argv, int rank, int nproc, int port) {
  std::vector<std::string> env_text;
  for (char** e = environ; *e; ++e) {
    std::string s = *e;
    for (const char* k : {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "MASTER_ADDR=", "MASTER_PORT="})
      if (s.rfind(k, 0) == 0) s.clear();
    if (!s.empty()) env_text.push_back(s);
  }
  env_text.push_back("RANK=" + std::to_string(rank));
  env_text.push_back("LOCAL_RANK=" + std::to_string(rank));
  env_text.push_back("WORLD_SIZE=" + std::to_string(nproc));
  env_text.push_back("MASTER_ADDR=127.0.0.1");
  env_text.push_back("MASTER_PORT=" + std::to_string(port));
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::execve(args[0], args.data(), envp.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    std::_Exit(127);
  }
  return pid;
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

int launch_workers(int nproc, const std::vector<std::string>& argv, int port, std::string* failure, int grace_s) {
  if (nproc < 1) throw Error("--nproc must be at least 1, got " + std::to_string(nproc));
  if (argv.empty()) throw BugError(__FILE__, __LINE__, "launch_workers: no command");
  std::vector<pid_t> pids;
  for (int r = 0; r < nproc; ++r) pids.push_back(spawn_worker(argv, r, nproc, port));
  std::vector<bool> running(pids.size(), true);
  int left = nproc, failed_rank = -1;
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (left > 0) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == ECHILD) break;
    if (pid <= 0) {
      if (failed_rank >= 0 && std::chrono::steady_clock::now() > deadline)
        for (size_t r = 0; r < pids.size(); ++r)
          if (running[r]) ::kill(pids[r], SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    for (size_t r = 0; r < pids.size(); ++r) {
      if (pids[r] != pid || !running[r]) continue;
      running[r] = false;
      --left;
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!ok && failed_rank < 0) {
        failed_rank = static_cast<int>(r);
        if (failure) *failure = "worker rank " + std::to_string(r) + " " + exit_text(status);
        for (size_t o = 0; o < pids.size(); ++o)
          if (running[o]) ::kill(pids[o], SIGTERM);
        deadline = std::chrono::steady_clock::now() + std::chrono::seconds(grace_s);
      }
    }
  }
  return failed_rank < 0 ? 0 : 1;
}

}  // namespace steper
