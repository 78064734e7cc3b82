// Tokenizer speed on a corpus shaped like the synthetic world: bpe_train for 4,000 merges, then
// encoding every text with a cold cache (first pass) and a warm one (second pass).
// usage: bench_text [--corpus-out FILE] [tokenizer.json ...]
//   tokenizer.json files: encode speed of those tokenizers too; --corpus-out writes the corpus as a
//   JSON array for bench_reference.mjs (the same measurement with the reference encoder in Node).
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/progress.h"
#include "text/tokenizer.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<std::string> world_like_corpus() {
  std::mt19937 rng(42);
  const char* syll[] = {"ka",  "ro", "vel", "mir", "tan", "dor", "el", "sha", "qu", "bri",
                        "zen", "lo", "mar", "is",  "ter", "on",  "ga", "phi", "ul", "den"};
  const char* glue[] = {"was born in",
                        "is the capital of",
                        "founded",
                        "directed",
                        "married",
                        "studied at",
                        "works for",
                        "was written by",
                        "is located in",
                        "the",
                        "of",
                        "and",
                        "in",
                        "a",
                        "his",
                        "her",
                        "which",
                        "also",
                        "known as",
                        "river"};
  auto name = [&] {
    std::string s;
    int n = 2 + rng() % 2;
    for (int i = 0; i < n; ++i) s += syll[rng() % 20];
    s[0] = static_cast<char>(s[0] - 32);
    return s;
  };
  std::vector<std::string> texts;
  for (int p = 0; p < 1300; ++p) {  // passages of ~80 words
    std::string t = "Wikipedia Title: " + name() + " " + name() + "\n";
    for (int w = 0; w < 80; ++w) {
      t += (rng() % 3 == 0) ? name() : glue[rng() % 20];
      t += (w % 12 == 11) ? ". " : " ";
      if (rng() % 25 == 0) t += std::to_string(1800 + rng() % 220) + " ";
    }
    texts.push_back(t);
  }
  for (int q = 0; q < 5000; ++q) {  // questions and reasoning sentences of ~15 words
    std::string t = (q % 2) ? "Q: Who " : "A: ";
    for (int w = 0; w < 15; ++w)
      t += std::string((rng() % 3 == 0) ? name() : glue[rng() % 20]) + " ";
    t += (q % 2) ? "?" : "So the answer is: " + name() + ".";
    texts.push_back(t);
  }
  return texts;
}

void encode_speed(const steper::Tokenizer& tok, const std::vector<std::string>& texts,
                  const char* label) {
  for (int pass = 0; pass < 2; ++pass) {
    auto t0 = std::chrono::steady_clock::now();
    size_t tokens = 0, bytes = 0;
    for (const std::string& t : texts) {
      tokens += tok.encode(t).size();
      bytes += t.size();
    }
    double s = seconds_since(t0);
    std::printf("%-10s encode %s: %zu texts, %zu tokens in %.3f s = %.2f M tokens/s, %.1f MB/s\n",
                label, pass == 0 ? "cold cache" : "warm cache", texts.size(), tokens, s,
                tokens / s / 1e6, bytes / s / 1e6);
  }
}

}  // namespace

int main(int argc, char** argv) {
  steper::Progress::set_quiet(true);
  std::vector<std::string> texts = world_like_corpus();
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  std::printf("corpus: %zu texts, %.2f MB\n", texts.size(), bytes / 1e6);

  steper::BpeTrainOptions opts;
  opts.vocab_size = 256 + 4000 + 1;
  auto t0 = std::chrono::steady_clock::now();
  std::string json = steper::bpe_train(texts, opts);
  std::printf("bpe_train: 4000 merges in %.3f s\n", seconds_since(t0));

  t0 = std::chrono::steady_clock::now();
  steper::Tokenizer trained = steper::Tokenizer::from_json_string(json, "trained");
  std::printf("load trained tokenizer.json (%zu tokens): %.3f s\n", trained.vocab_size(),
              seconds_since(t0));
  encode_speed(trained, texts, "trained");

  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--corpus-out" && i + 1 < argc) {
      steper::write_file_atomic(argv[++i], nlohmann::json(texts).dump());
      continue;
    }
    t0 = std::chrono::steady_clock::now();
    steper::Tokenizer tok = steper::Tokenizer::from_file(argv[i]);
    std::printf("load %s (%zu tokens): %.3f s\n", argv[i], tok.vocab_size(), seconds_since(t0));
    encode_speed(tok, texts, tok.pretokenizer_kind().c_str());
  }
  return 0;
}
