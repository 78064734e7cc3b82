#include "demo/demo.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "data/formats.h"
#include "data/world.h"
#include "demo/report.h"
#include "demo/stage.h"
#include "distill/trainer.h"
#include "model/model.h"
#include "rag/evaluate.h"
#include "rag/loop.h"
#include "retrieval/retriever.h"
#include "teacher/filter.h"
#include "teacher/teach.h"

namespace steper {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- presets

DemoConfig demo_config(bool quick) {
  DemoConfig c;
  c.quick = quick;
  if (quick) {
    c.out_dir = "runs/demo-quick";
    c.n_train = 150;
    c.n_dev = 20;
    c.n_test = 40;
    c.pretrain_train = 150;
    c.vocab = 600;
    c.base_tokens = 60000;
    c.student_tokens = 40000;
    c.batch_tokens = 2048;
    c.eval_questions = 20;
    c.max_steps = 4;
  } else {
    c.base_tokens = 3500000;
    c.student_tokens = 1000000;
    c.eval_questions = 150;
  }
  return c;
}

// ---- the gold-evidence teacher as a reader: it may only use evidence that retrieval brought

namespace {

// Writes step s from the s-th supporting fact only when that passage is among the passages retrieved so
// far; otherwise it gives up ("So the answer is: evidence missing.", which contains no gold answer). Its
// score is the share of questions whose teacher trace would pass the gold teacher's evidence filter.
class EvidenceGoldWriter : public StepWriter {
 public:
  std::vector<std::string> write(const std::vector<const RagState*>& states) override {
    std::vector<std::string> out = gold_.write(states);
    for (size_t i = 0; i < states.size(); ++i) {
      const RagState& st = *states[i];
      const Question& q = *st.question;
      size_t step = st.sentences.size();
      std::vector<std::string> titles = supporting_titles(q);
      size_t need = std::min(step + 1, titles.size());
      for (size_t t = 0; t < need; ++t) {
        bool found = false;
        for (const auto& p : st.passages) found = found || p.title == titles[t];
        if (!found) {
          out[i] = "So the answer is: evidence missing.";
          break;
        }
      }
    }
    return out;
  }
  std::string name() const override { return "teacher"; }

 private:
  GoldStepWriter gold_;
};

struct StageTimer {
  json& times;
  std::string name;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool reused = false;
  ~StageTimer() {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    times.push_back(json{{"stage", name}, {"seconds", s}, {"reused", reused}});
  }
};

void say(const std::string& line) { std::fprintf(stderr, "demo: %s\n", line.c_str()); }

std::vector<std::string> world_texts(const std::string& dir) {
  std::vector<std::string> texts;
  for (const auto& p : read_corpus(dir + "/corpus.jsonl")) texts.push_back(p.title + "\n" + p.text);
  for (const auto& q : read_questions(dir + "/train.json")) {
    texts.push_back(q.question);
    if (!q.answers.empty()) texts.push_back("So the answer is: " + q.answers[0] + ".");
  }
  return texts;
}

RagOptions rag_options(const DemoConfig& c, RagMode mode) {
  RagOptions r;
  r.mode = mode;
  r.k = c.k;
  r.max_steps = c.max_steps;
  r.max_passages = c.max_passages;
  r.prompt.passage_words = c.passage_words;
  r.batch_size = 32;
  return r;
}

}  // namespace

// ---- the run

int demo_run(const DemoConfig& c) {
  const std::string out = c.out_dir;
  make_dirs(out);
  auto wall_start = std::chrono::steady_clock::now();
  json times = json::array();
  write_json_atomic(out + "/demo-config.json",
                    json{{"quick", c.quick}, {"seed", c.seed}, {"n_train", c.n_train}, {"n_dev", c.n_dev},
                         {"n_test", c.n_test}, {"pretrain_train", c.pretrain_train}, {"size", c.size},
                         {"vocab", c.vocab}, {"base_tokens", c.base_tokens}, {"student_tokens", c.student_tokens},
                         {"lr", c.lr}, {"student_lr", c.student_lr}, {"batch_tokens", c.batch_tokens},
                         {"k", c.k}, {"max_steps", c.max_steps}, {"max_passages", c.max_passages},
                         {"passage_words", c.passage_words}, {"eval_questions", c.eval_questions},
                         {"objectives", c.objectives}, {"base_objective", c.base_objective}});
  const int total_stages = 7;
  int stage_no = 0;
  auto announce = [&](const std::string& what) {
    ++stage_no;
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    say("[" + std::to_string(stage_no) + "/" + std::to_string(total_stages) + "] " + what + " (" +
        format_duration(el) + " elapsed)");
  };

  // 1. worlds and indexes
  announce("worlds and indexes");
  struct WorldSpec { std::string name; uint64_t seed; int train, dev, test; };
  std::vector<WorldSpec> worlds = {{"world", c.seed, c.n_train, c.n_dev, c.n_test},
                                   {"pretrain-world", c.seed + 7919, c.pretrain_train, 20, 20}};
  for (const auto& w : worlds) {
    StageTimer t{times, "world+index: " + w.name};
    std::string dir = out + "/" + w.name, idx = out + "/" + w.name + "-index";
    std::string fp = fingerprint_strings({"world-v1", std::to_string(w.seed), std::to_string(w.train),
                                          std::to_string(w.dev), std::to_string(w.test)});
    if (stage_done(dir, fp) && stage_done(idx, fp)) {
      t.reused = true;
      continue;
    }
    WorldOptions wo;
    wo.seed = w.seed;
    wo.n_train = w.train;
    wo.n_dev = w.dev;
    wo.n_test = w.test;
    World world = world_generate(wo);
    world_write(world, dir);
    stage_mark_done(dir, fp, json{{"passages", world.corpus.size()}});
    IndexOptions io;
    bm25_build_index(world.corpus, idx, io);
    stage_mark_done(idx, fp);
  }

  // 2. gold-evidence teacher traces (filtered), for both worlds' training questions
  announce("gold-evidence teacher traces");
  std::map<std::string, std::string> traces;
  for (const auto& w : worlds) {
    StageTimer t{times, "teach: " + w.name};
    std::string dir = out + "/traces-" + w.name;
    std::string path = dir + "/train.jsonl";
    traces[w.name] = path;
    std::string fp = fingerprint_strings({"teach-v1", fingerprint_path(out + "/" + w.name + "/train.json"),
                                          std::to_string(c.k), std::to_string(c.max_steps),
                                          std::to_string(c.max_passages)});
    if (stage_done(dir, fp)) {
      t.reused = true;
      continue;
    }
    if (fs::exists(path)) fs::remove(path);
    TeachConfig tc;
    tc.data_path = out + "/" + w.name + "/train.json";
    tc.index_dir = out + "/" + w.name + "-index";
    tc.teacher = "gold";
    tc.rag = rag_options(c, RagMode::kMulti);
    tc.out = path;
    TeachSummary s = teach_run_with(tc);
    stage_mark_done(dir, fp, s.to_json());
    say("  " + w.name + ": kept " + std::to_string(s.kept) + " of " + std::to_string(s.finished) + " traces");
  }

  // 3. students: one from-scratch model, a base pretrained on the other world, then each objective
  announce("from-scratch student and its tokenizer");
  std::string init_dir = out + "/init";
  {
    StageTimer t{times, "init"};
    std::string fp = fingerprint_strings({"init-v1", fingerprint_path(out + "/world/corpus.jsonl"),
                                          fingerprint_path(out + "/pretrain-world/corpus.jsonl"), c.size,
                                          std::to_string(c.vocab), std::to_string(c.seed)});
    if (stage_done(init_dir, fp)) {
      t.reused = true;
    } else {
      std::vector<std::string> texts = world_texts(out + "/pretrain-world");
      std::vector<std::string> more = world_texts(out + "/world");
      texts.insert(texts.end(), more.begin(), more.end());
      init_model_folder(texts, init_dir, c.size, c.seed, c.vocab);
      stage_mark_done(init_dir, fp);
    }
  }

  auto train_stage = [&](const std::string& name, const std::string& from, const std::string& traces_path,
                         const std::string& objective, int64_t tokens, double lr) {
    StageTimer t{times, "train: " + name};
    std::string dir = out + "/" + name;
    std::string fp = fingerprint_strings({"train-v1", fingerprint_path(from + "/model.safetensors"),
                                          fingerprint_path(traces_path), objective, std::to_string(tokens),
                                          std::to_string(lr), std::to_string(c.batch_tokens),
                                          std::to_string(c.seed)});
    if (stage_done(dir, fp)) {
      t.reused = true;
      return;
    }
    TrainConfig tc;
    tc.model_dir = from;
    tc.traces_path = traces_path;
    tc.objective = objective;
    tc.out_dir = dir;
    tc.train_tokens = tokens;
    tc.lr = lr;
    tc.batch_tokens = c.batch_tokens;
    tc.seed = c.seed;
    // An interrupted run of the same stage resumes; a run for other inputs starts afresh.
    const std::string pending = dir + "/stage-pending.json";
    tc.resume = fs::exists(dir + "/checkpoint.json") && fs::exists(pending) &&
                read_json(pending).value("fingerprint", "") == fp;
    if (!tc.resume) {
      fs::remove_all(dir);
      make_dirs(dir);
      write_json_atomic(pending, json{{"fingerprint", fp}});
    }
    tc.warmup = c.quick ? 5 : 50;
    TrainResult r = train_run(tc);
    stage_mark_done(dir, fp, json{{"tokens", r.tokens}, {"steps", r.steps}, {"tokens_per_s", r.tokens_per_s},
                                  {"seconds", r.seconds}, {"examples", r.examples}});
  };

  announce("base student, pretrained on the other world");
  train_stage("base", init_dir, traces["pretrain-world"], c.base_objective, c.base_tokens, c.lr);

  announce("students distilled with each objective (same start, same token budget)");
  for (const auto& obj : c.objectives)
    train_stage("student-" + obj, out + "/base/model", traces["world"], obj, c.student_tokens, c.student_lr);

  // 4. evaluation on held-out test questions
  announce("evaluation on held-out test questions");
  std::vector<Question> test = read_questions(out + "/world/test.json");
  if (c.eval_questions > 0 && static_cast<int>(test.size()) > c.eval_questions) test.resize(c.eval_questions);
  std::unique_ptr<Retriever> retriever = bm25_open_index(out + "/world-index");
  std::vector<std::pair<std::string, std::string>> systems = {{"teacher", "gold"}, {"base", out + "/base/model"}};
  for (const auto& obj : c.objectives) systems.push_back({obj, out + "/student-" + obj + "/model"});
  const std::vector<RagMode> modes = {RagMode::kMulti, RagMode::kSingle, RagMode::kNone};
  for (const auto& [name, model_dir] : systems) {
    StageTimer t{times, "eval: " + name};
    std::string model_fp = model_dir == "gold" ? "gold" : fingerprint_path(model_dir + "/model.safetensors");
    std::unique_ptr<LanguageModel> lm;
    bool all_reused = true;
    for (RagMode mode : modes) {
      std::string dir = out + "/eval/" + name + "/" + rag_mode_name(mode);
      std::string fp = fingerprint_strings({"eval-v1", model_fp, fingerprint_path(out + "/world/test.json"),
                                            std::to_string(test.size()), rag_mode_name(mode), std::to_string(c.k),
                                            std::to_string(c.max_steps), std::to_string(c.max_passages),
                                            std::to_string(c.passage_words)});
      if (stage_done(dir, fp)) continue;
      all_reused = false;
      RagOptions ro = rag_options(c, mode);
      if (model_dir != "gold" && !lm) lm = LanguageModel::load(model_dir);
      std::unique_ptr<StepWriter> w;
      if (lm) w = std::make_unique<LmStepWriter>(*lm, ro);
      else w = std::make_unique<EvidenceGoldWriter>();
      EvalConfig ec;
      ec.rag = ro;
      ec.out_dir = dir;
      ec.model = model_dir;
      ec.data = out + "/world/test.json";
      ec.print_table = false;
      EvalResult r = eval_run(test, retriever.get(), *w, ec);
      stage_mark_done(dir, fp);
      char line[160];
      std::snprintf(line, sizeof line, "  %-8s %-6s EM %5.1f  F1 %5.1f  Acc %5.1f", name.c_str(), rag_mode_name(mode),
                    r.metrics.value("em", 0.0), r.metrics.value("f1", 0.0), r.metrics.value("acc", 0.0));
      say(line);
    }
    t.reused = all_reused;
  }

  // 5. the report
  announce("report");
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  ReportInputs ri;
  ri.out_dir = out;
  ri.systems = {};
  for (const auto& s : systems) ri.systems.push_back(s.first);
  ri.objectives = c.objectives;
  ri.stage_times = times;
  ri.wall_seconds = wall;
  ri.quick = c.quick;
  demo_write_report(ri);
  say("report: " + out + "/report.md and " + out + "/report.html (" + format_duration(wall) + " in all)");
  return 0;
}

}  // namespace steper
