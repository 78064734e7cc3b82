// steper export-gguf: a model folder as a GGUF file for llama.cpp.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "gguf/gguf_export.h"

namespace steper {
namespace {

CommandRegistrar reg({"export-gguf", "Write a model folder as a GGUF file that llama.cpp runs", [](CLI::App* sub) {
  auto model = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto opts = std::make_shared<GgufExportOptions>();
  sub->add_option("--model", *model, "model folder (config.json, model.safetensors, tokenizer.json)")->required();
  sub->add_option("--out", *out, "GGUF file to write")->required();
  sub->add_option("--type", opts->type, "tensor type of the matrices: f32 or f16 (norms stay f32)")
      ->check(CLI::IsMember({"f32", "f16"}));
  sub->add_option("--name", opts->name, "general.name in the file (default: the folder's name)");
  return std::function<int()>([=] {
    GgufExportSummary s = gguf_export(*model, *out, *opts);
    std::fprintf(stderr, "wrote %s: %s, %zu tensors, %zu tokens (pre-tokenizer %s), %.1f MB\n", out->c_str(),
                 s.architecture.c_str(), s.n_tensors, s.n_vocab, s.pre_tokenizer.c_str(), s.file_bytes / 1e6);
    return 0;
  });
}});

}  // namespace
}  // namespace steper
