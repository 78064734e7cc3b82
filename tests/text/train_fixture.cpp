// Trains the tokenizers the parity test hands to the reference encoder.
// usage: text_train_fixture TEXTS_JSON OUT_DIR
//   -> OUT_DIR/trained_tokenizer.json, OUT_DIR/trained_added_tokenizer.json
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io.h"
#include "text/tokenizer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s TEXTS_JSON OUT_DIR\n", argv[0]);
    return 2;
  }
  try {
    std::vector<std::string> texts = steper::read_json(argv[1]).get<std::vector<std::string>>();
    // Repeat the texts with small variations so that many merges have counts above one.
    std::vector<std::string> corpus;
    for (int round = 0; round < 3; ++round) {
      for (const std::string& t : texts)
        corpus.push_back(round == 0 ? t : t + " " + std::to_string(round));
    }
    steper::BpeTrainOptions opts;
    opts.vocab_size = 700;
    opts.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    std::string out = argv[2];
    std::string trained = steper::bpe_train(corpus, opts);
    steper::write_file_atomic(out + "/trained_tokenizer.json", trained);

    // The same model with added tokens that strip whitespace (lstrip/rstrip) and a non-special one.
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(trained);
    int next_id = static_cast<int>(j["model"]["vocab"].size());
    auto add = [&](const std::string& content, bool lstrip, bool rstrip, bool special) {
      j["added_tokens"].push_back({{"id", next_id++},
                                   {"content", content},
                                   {"single_word", false},
                                   {"lstrip", lstrip},
                                   {"rstrip", rstrip},
                                   {"normalized", false},
                                   {"special", special}});
    };
    add("<mask>", true, false, true);
    add("[SEP]", false, true, true);
    add("<note>", false, false, false);
    steper::write_file_atomic(out + "/trained_added_tokenizer.json", j.dump(1));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "text_train_fixture: %s\n", e.what());
    return 1;
  }
  return 0;
}
