// bfloat16 autocast on CUDA for one forward pass (the trainer's --bf16 and the parity check): on while the
// guard lives, then off with autocast's cast cache cleared.
#pragma once

#include <ATen/autocast_mode.h>

namespace steper {

class Bf16Autocast {
 public:
  explicit Bf16Autocast(bool on) : on_(on) {
    if (!on_) return;
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  }
  ~Bf16Autocast() {
    if (!on_) return;
    at::autocast::set_enabled(false);
    at::autocast::clear_cache();
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool on_;
};

}  // namespace steper
