#include "trainer_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/toy_llama.h"
#include "core/error.h"
#include "core/io.h"
#include "core/trace_json.h"
#include "model/llama.h"
#include "text/tokenizer.h"

namespace steper {

namespace fs = std::filesystem;

namespace {

const char* kCities[] = {"Varnholt", "Ostrelle", "Quenby", "Darrow", "Feliska", "Morvane"};
const char* kPeople[] = {"Alda Merrin", "Bron Tesk", "Cilla Oaken", "Dov Harrel", "Esme Quill", "Fenn Laro"};

std::vector<Trace> make_traces() {
  std::vector<Trace> out;
  for (int i = 0; i < 6; ++i) {
    std::string person = kPeople[i], city = kCities[i], org = std::string(kCities[(i + 2) % 6]) + " Institute";
    Trace t;
    t.id = "q" + std::to_string(i);
    t.question = "In which city is the institute where " + person + " works?";
    t.answers = {city};
    t.answer = city;
    t.answered = t.correct = true;
    TraceStep s1, s2, s3;
    s1.query = t.question;
    s1.retrieved = {{{"p" + std::to_string(i), person, person + " works at the " + org + "."}, 3.0},
                    {{"x" + std::to_string(i), "Other", "Nothing to see here."}, 1.0}};
    s1.sentence = person + " works at the " + org + ".";
    s2.query = s1.sentence;
    s2.retrieved = {{{"o" + std::to_string(i), org, "The " + org + " is in " + city + "."}, 2.5}};
    s2.sentence = "The " + org + " is in " + city + ".";
    s3.query = s2.sentence;
    s3.sentence = "So the answer is: " + city + ".";
    t.steps = {s1, s2, s3};
    out.push_back(t);
  }
  return out;
}

}  // namespace

const TrainerFixture& trainer_fixture() {
  static TrainerFixture f = [] {
    TrainerFixture x;
    x.root = "/tmp/steper-test-trainer-" + std::to_string(getpid());
    fs::remove_all(x.root);
    fs::create_directories(x.root);
    std::vector<Trace> traces = make_traces();
    std::string lines;
    std::vector<std::string> texts;
    for (const Trace& t : traces) {
      nlohmann::json j = to_json(t);
      j["kept"] = true;
      lines += j.dump() + "\n";
      for (const auto& s : t.steps) {
        texts.push_back(s.sentence);
        for (const auto& p : s.retrieved) texts.push_back(p.passage.title + "\n" + p.passage.text);
      }
      texts.push_back(t.question);
    }
    nlohmann::json dropped = to_json(traces[0]);
    dropped["id"] = "dropped";
    dropped["kept"] = false;
    lines += dropped.dump() + "\n";
    x.traces = x.root + "/traces.jsonl";
    write_file_atomic(x.traces, lines);
    texts.push_back("Wikipedia Title: Q: A: So the answer is:");
    BpeTrainOptions bo;
    bo.vocab_size = 400;
    x.tokenizer_json = bpe_train(texts, bo);
    Tokenizer tok = Tokenizer::from_json_string(x.tokenizer_json, "test tokenizer");
    LlamaConfig c = toy_llama_config(false, /*tied=*/true);
    c.vocab_size = static_cast<int64_t>(tok.vocab_size());
    c.hidden_size = 32;  // wider than the toy: trained to learn the traces
    c.intermediate_size = 64;
    c.num_attention_heads = 2;
    c.head_dim = 16;
    c.rope_theta = 10000.0;
    c.eos_token_id = tok.token_to_id("<|endoftext|>");
    torch::manual_seed(1);
    Llama model(c);
    x.model = x.root + "/model";
    llama_save(model, x.model, x.tokenizer_json);
    return x;
  }();
  return f;
}

TrainConfig fixture_config(const std::string& out) {
  TrainConfig c;
  c.model_dir = trainer_fixture().model;
  c.traces_path = trainer_fixture().traces;
  c.out_dir = trainer_fixture().root + "/" + out;
  c.batch_tokens = 512;
  c.lr = 1e-2;
  c.warmup = 3;
  c.seed = 5;
  c.quiet = true;
  c.threads = 1;
  fs::remove_all(c.out_dir);
  return c;
}

std::string train_error(const TrainConfig& config) {
  try {
    train_run(config);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "train_run finished without an error";
  return "";
}

}  // namespace steper
