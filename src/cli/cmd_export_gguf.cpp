// steper export-gguf: a model folder as a GGUF file for llama.cpp.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "gguf/gguf_export.h"
#include "model/lora_merge.h"

namespace steper {
namespace {

CommandRegistrar reg({"export-gguf", "Write a model folder as a GGUF file that llama.cpp runs", [](CLI::App* sub) {
  auto model = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto opts = std::make_shared<GgufExportOptions>();
  auto adapter = std::make_shared<std::string>();
  sub->add_option("--model", *model, "model folder (config.json, model.safetensors, tokenizer.json)")->required();
  sub->add_option("--out", *out, "GGUF file to write")->required();
  sub->add_option("--type", opts->type, "tensor type of the matrices: f32 or f16 (norms stay f32)")
      ->check(CLI::IsMember({"f32", "f16"}));
  sub->add_option("--name", opts->name, "general.name in the file (default: the folder's name)");
  add_adapter_flag(sub, *adapter);
  return std::function<int()>([=] {
    // with an adapter, the merged model (steper merge-lora) is what is written
    std::string from = *model;
    if (!adapter->empty()) {
      from = *out + ".merged-" + std::to_string(::getpid());
      merge_lora_folder(*model, *adapter, from);
      if (opts->name.empty()) opts->name = std::filesystem::path(*model).filename().string();
    }
    GgufExportSummary s;
    try {
      s = gguf_export(from, *out, *opts);
    } catch (...) {
      if (from != *model) std::filesystem::remove_all(from);
      throw;
    }
    if (from != *model) std::filesystem::remove_all(from);
    std::fprintf(stderr, "wrote %s: %s, %zu tensors, %zu tokens (pre-tokenizer %s), %.1f MB\n", out->c_str(),
                 s.architecture.c_str(), s.n_tensors, s.n_vocab, s.pre_tokenizer.c_str(), s.file_bytes / 1e6);
    return 0;
  });
}});

}  // namespace
}  // namespace steper
