#include "model/recompute.h"

#include <ATen/CPUGeneratorImpl.h>

namespace steper {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using Fn = std::function<torch::Tensor(const torch::Tensor&)>;

// Keeps the function alive in the autograd graph until the backward pass has run.
struct FnHolder : public torch::CustomClassHolder {
  explicit FnHolder(Fn fn) : f(std::move(fn)) {}
  Fn f;
};

struct Recompute : public torch::autograd::Function<Recompute> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, Fn f) {
    ctx->saved_data["f"] = c10::IValue::make_capsule(c10::make_intrusive<FnHolder>(f));
    ctx->saved_data["rng"] = at::detail::getDefaultCPUGenerator().get_state();
    ctx->save_for_backward({x});
    torch::NoGradGuard no_grad;
    return f(x);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto holder = c10::static_intrusive_pointer_cast<FnHolder>(ctx->saved_data["f"].toCapsule());
    const Fn& f = holder->f;
    torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    const torch::Tensor now = gen.get_state();
    gen.set_state(ctx->saved_data["rng"].toTensor());
    torch::Tensor y;
    {
      torch::AutoGradMode grad(true);
      y = f(x);
    }
    gen.set_state(now);
    torch::autograd::backward({y}, {grad_out[0]});
    return {x.grad(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor recompute_in_backward(const std::function<torch::Tensor(const torch::Tensor&)>& f, const torch::Tensor& x) {
  if (!torch::GradMode::is_enabled()) return f(x);
  // the output must require grad whenever f's weights do, even when x does not (a frozen embedding)
  return Recompute::apply(x.requires_grad() ? x : x.detach().requires_grad_(true), f);
}

}  // namespace steper
