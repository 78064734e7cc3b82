// steper generate: continue a prompt with a model folder (greedy at temperature 0).
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/command.h"
#include "core/error.h"
#include "model/model.h"

namespace steper {
namespace {

CommandRegistrar reg({"generate", "continue a prompt with a model folder (greedy at temperature 0)", [](CLI::App* sub) {
  auto model = std::make_shared<std::string>();
  auto prompt = std::make_shared<std::string>();
  auto max_tokens = std::make_shared<int>(64);
  auto temperature = std::make_shared<float>(0.0f);
  auto top_p = std::make_shared<float>(1.0f);
  auto seed = std::make_shared<uint64_t>(0);
  auto json = std::make_shared<bool>(false);
  auto device = std::make_shared<std::string>();
  auto adapter = std::make_shared<std::string>();
  sub->add_option("--model", *model, "model folder (config.json, model.safetensors, tokenizer.json)")->required();
  sub->add_option("--max-tokens", *max_tokens, "most new tokens")->capture_default_str();
  sub->add_option("--temperature", *temperature, "sampling temperature (0 = greedy)")->capture_default_str();
  sub->add_option("--top-p", *top_p, "nucleus sampling: keep the most likely tokens up to this mass")
      ->capture_default_str();
  sub->add_option("--seed", *seed, "sampling seed")->capture_default_str();
  add_device_flag(sub, *device);
  add_adapter_flag(sub, *adapter);
  sub->add_flag("--json", *json, "print {\"prompt_ids\",\"ids\",\"text\"} instead of the text");
  sub->add_option("prompt", *prompt, "the prompt")->required();
  return std::function<int()>([=] {
    if (*max_tokens < 0) throw Error("--max-tokens must be 0 or more, got " + std::to_string(*max_tokens));
    if (*temperature < 0) throw Error("--temperature must be 0 or more, got " + std::to_string(*temperature));
    if (!(*top_p > 0 && *top_p <= 1)) throw Error("--top-p must be in (0, 1], got " + std::to_string(*top_p));
    torch_threads_set(1);
    auto lm = LanguageModel::load(*model, *device, *adapter);
    std::vector<int32_t> prompt_ids = lm->tokenizer().encode(*prompt, true);
    if (prompt_ids.empty()) throw Error("the prompt is empty and the tokenizer adds no start token");
    TokenGenerateOptions opts;
    opts.max_tokens = *max_tokens;
    opts.temperature = *temperature;
    opts.top_p = *top_p;
    opts.seed = *seed;
    std::vector<int32_t> ids = lm->generate_ids({prompt_ids}, opts)[0];
    std::string text = lm->tokenizer().decode(ids, true);
    if (*json) {
      nlohmann::json j = {{"prompt_ids", prompt_ids}, {"ids", ids}, {"text", text}};
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::printf("%s\n", text.c_str());
    }
    return 0;
  });
}});

}  // namespace
}  // namespace steper
