// Flags and timing shared by the retrieval benchmark's two modes.
#pragma once

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

namespace steper {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline long long arg_int(int argc, char** argv, const char* name, long long fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoll(argv[i + 1]);
  return fallback;
}
inline std::string arg_str(int argc, char** argv, const char* name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return fallback;
}
inline bool arg_flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return true;
  return false;
}

int world_main(int argc, char** argv);  // bench_retrieval.cpp
int scale_main(int argc, char** argv);  // bench_scale.cpp

}  // namespace steper
