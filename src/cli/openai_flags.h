// The flags of a model behind an OpenAI-compatible server, defined once for `teach --teacher openai` and for
// `eval`/`ask --model URL` (teacher/openai_loop.h). The command adds where the server is and the model's name.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "teacher/openai.h"

namespace steper {

struct OpenAIFlags {
  OpenAIOptions openai;
  std::string api_key_env = "OPENAI_API_KEY";
  std::string endpoint = "chat";
  std::string fewshot = "auto";
  // openai with --endpoint parsed and the key read from --api-key-env (Error naming the flag).
  OpenAIOptions resolve() const;
};

// --api-key-env, --endpoint, --concurrency, --timeout, --max-attempts, --fewshot.
std::shared_ptr<OpenAIFlags> add_openai_flags(CLI::App* sub);

// Whether --model names a server ("http://..." or "https://...") rather than a folder.
bool is_model_url(const std::string& model);

}  // namespace steper
