// steper init: a from-scratch model folder (BPE tokenizer trained on a corpus, a small Llama, random weights).
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "core/error.h"
#include "data/formats.h"
#include "model/model.h"

namespace steper {
namespace {

CommandRegistrar reg({"init", "a from-scratch model folder: BPE tokenizer trained on a corpus, random Llama weights",
                      [](CLI::App* sub) {
  auto corpus = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto size = std::make_shared<std::string>("tiny");
  auto seed = std::make_shared<uint64_t>(0);
  auto vocab = std::make_shared<int>(4096);
  sub->add_option("--corpus", *corpus, "corpus JSONL ({\"id\",\"title\",\"text\"} a line) to train the tokenizer on")
      ->required();
  sub->add_option("--out", *out, "model folder to write (config.json, tokenizer.json, model.safetensors)")->required();
  sub->add_option("--size", *size, "tiny (hidden 128, 4 layers) or small (hidden 256, 6 layers)")
      ->capture_default_str();
  sub->add_option("--seed", *seed, "random seed for the weights")->capture_default_str();
  sub->add_option("--vocab", *vocab, "tokenizer vocabulary size (byte tokens + merges + special tokens)")
      ->capture_default_str();
  return std::function<int()>([=] {
    if (*size != "tiny" && *size != "small") throw Error("--size must be tiny or small, got \"" + *size + "\"");
    if (*vocab < 260) throw Error("--vocab must be at least 260 (256 byte tokens and a few merges), got " +
                                  std::to_string(*vocab));
    std::vector<Passage> passages = read_corpus(*corpus);
    if (passages.empty()) throw Error("--corpus: " + *corpus + " holds no passages");
    std::vector<std::string> texts;
    texts.reserve(passages.size());
    for (const auto& p : passages) texts.push_back(p.title.empty() ? p.text : p.title + "\n" + p.text);
    torch_threads_set(1);
    init_model_folder(texts, *out, *size, *seed, *vocab);
    std::printf("%s\n", out->c_str());
    return 0;
  });
}});

}  // namespace
}  // namespace steper
