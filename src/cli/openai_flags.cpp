#include "cli/openai_flags.h"

namespace steper {

OpenAIOptions OpenAIFlags::resolve() const {
  OpenAIOptions o = openai;
  o.endpoint = openai_endpoint_from_string(endpoint);
  o.api_key = openai_api_key_from_env(api_key_env);
  return o;
}

std::shared_ptr<OpenAIFlags> add_openai_flags(CLI::App* sub) {
  auto f = std::make_shared<OpenAIFlags>();
  sub->add_option("--api-key-env", f->api_key_env, "environment variable holding the API key (unset is fine locally)")
      ->capture_default_str();
  sub->add_option("--endpoint", f->endpoint, "chat or completions")->capture_default_str();
  sub->add_option("--concurrency", f->openai.concurrency, "requests in flight")->capture_default_str();
  sub->add_option("--timeout", f->openai.timeout_s, "seconds per request attempt")->capture_default_str();
  sub->add_option("--max-attempts", f->openai.max_attempts, "attempts per request before its question fails")
      ->capture_default_str();
  sub->add_option("--fewshot", f->fewshot,
                  "demonstrations before each prompt: auto (by the questions' data set), hotpotqa, 2wiki, musique, "
                  "world, none (a student trained on plain prompts) or a file")
      ->capture_default_str();
  return f;
}

bool is_model_url(const std::string& model) {
  return model.rfind("http://", 0) == 0 || model.rfind("https://", 0) == 0;
}

}  // namespace steper
