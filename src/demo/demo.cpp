#include "demo/demo.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>
#include <unistd.h>

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
    c.student_tokens = 40000;
    c.eval_questions = 20;
    c.max_steps = 4;
  } else {
    c.student_tokens = 4000000;
    c.eval_questions = 0;  // all 300
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

RagOptions rag_options(int k, int max_steps, int max_passages, int passage_words, RagMode mode) {
  RagOptions r;
  r.mode = mode;
  r.k = k;
  r.max_steps = max_steps;
  r.max_passages = max_passages;
  r.prompt.passage_words = passage_words;
  r.batch_size = 32;
  return r;
}

// ---- stages shared by the demo and `steper pretrain-base`; each is skipped when its inputs are unchanged

struct WorldSpec {
  std::string name;
  uint64_t seed;
  int train, dev, test;
};

void stage_world(const std::string& out, const WorldSpec& w, json& times) {
  StageTimer t{times, "world+index: " + w.name};
  std::string dir = out + "/" + w.name, idx = out + "/" + w.name + "-index";
  std::string fp = fingerprint_strings({"world-v1", std::to_string(w.seed), std::to_string(w.train),
                                        std::to_string(w.dev), std::to_string(w.test)});
  if (stage_done(dir, fp) && stage_done(idx, fp)) {
    t.reused = true;
    return;
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

// Gold-evidence teacher traces of a world's training questions; returns their path.
std::string stage_teach(const std::string& out, const std::string& world, const RagOptions& rag, json& times) {
  StageTimer t{times, "teach: " + world};
  std::string dir = out + "/traces-" + world;
  std::string path = dir + "/train.jsonl";
  std::string fp = fingerprint_strings({"teach-v1", fingerprint_path(out + "/" + world + "/train.json"),
                                        std::to_string(rag.k), std::to_string(rag.max_steps),
                                        std::to_string(rag.max_passages)});
  if (stage_done(dir, fp)) {
    t.reused = true;
    return path;
  }
  if (fs::exists(path)) fs::remove(path);
  TeachConfig tc;
  tc.data_path = out + "/" + world + "/train.json";
  tc.index_dir = out + "/" + world + "-index";
  tc.teacher = "gold";
  tc.rag = rag;
  tc.out = path;
  TeachSummary s = teach_run_with(tc);
  stage_mark_done(dir, fp, s.to_json());
  say("  " + world + ": kept " + std::to_string(s.kept) + " of " + std::to_string(s.finished) + " traces");
  return path;
}

// A training stage: reused when its inputs are unchanged; an interrupted run of the same inputs resumes;
// otherwise it starts afresh. The jobs of one group train side by side, one BLAS thread each (on these
// small batches a second BLAS thread buys almost nothing; a second training nearly doubles the throughput).
struct TrainJob {
  std::string name, dir, fp;
  TrainConfig tc;
};

std::optional<TrainJob> train_job(const std::string& out, const std::string& name, const std::string& from,
                                  const std::string& traces_path, const std::string& objective, int64_t tokens,
                                  double lr, int64_t batch_tokens, uint64_t seed, int64_t warmup) {
  TrainJob j;
  j.name = name;
  j.dir = out + "/" + name;
  j.fp = fingerprint_strings({"train-v2", fingerprint_path(from + "/model.safetensors"),
                              fingerprint_path(traces_path), objective, std::to_string(tokens), std::to_string(lr),
                              std::to_string(batch_tokens), std::to_string(seed), std::to_string(warmup)});
  if (stage_done(j.dir, j.fp)) return std::nullopt;
  TrainConfig& tc = j.tc;
  tc.model_dir = from;
  tc.traces_path = traces_path;
  tc.objective = objective;
  tc.out_dir = j.dir;
  tc.train_tokens = tokens;
  tc.lr = lr;
  tc.batch_tokens = batch_tokens;
  tc.seed = seed;
  tc.warmup = warmup;
  tc.checkpoint_every = 500;
  const std::string pending = j.dir + "/stage-pending.json";
  tc.resume = fs::exists(j.dir + "/checkpoint.json") && fs::exists(pending) &&
              read_json(pending).value("fingerprint", "") == j.fp;
  if (!tc.resume) {
    fs::remove_all(j.dir);
    make_dirs(j.dir);
    write_json_atomic(pending, json{{"fingerprint", j.fp}});
  }
  return j;
}

void train_group(const std::string& label, std::vector<std::optional<TrainJob>> maybe, json& times) {
  std::vector<TrainJob> jobs;
  for (auto& m : maybe)
    if (m) jobs.push_back(std::move(*m));
  StageTimer t{times, "train: " + label};
  if (jobs.empty()) {
    t.reused = true;
    return;
  }
  const size_t n = jobs.size();
  std::vector<std::atomic<int64_t>> step(n), total(n);
  std::vector<std::atomic<double>> rate(n);
  std::vector<TrainResult> results(n);
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::thread> threads;
  std::atomic<size_t> running{n};
  for (size_t i = 0; i < n; ++i) {
    step[i] = 0;
    total[i] = 0;
    rate[i] = 0;
    threads.emplace_back([&, i] {
      TrainConfig tc = jobs[i].tc;
      tc.quiet = true;
      tc.threads = 1;
      try {
        results[i] = train_run(tc, [&, i](const TrainStepRecord& r) {
          step[i] = r.step;
          total[i] = r.total_steps;
          rate[i] = r.tokens_per_s;
        });
      } catch (...) {
        errors[i] = std::current_exception();
      }
      --running;
    });
  }
  // One progress line for the group; the slowest job decides the time left.
  const bool tty = isatty(2);
  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  while (running > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last).count() < (tty ? 0.5 : 15.0)) continue;
    last = now;
    double el = std::chrono::duration<double>(now - start).count(), left = 0, tok_s = 0;
    std::string parts;
    for (size_t i = 0; i < n; ++i) {
      int64_t s = step[i], tot = total[i];
      if (s > 0 && tot > 0) left = std::max(left, el * static_cast<double>(tot - s) / static_cast<double>(s));
      tok_s += rate[i];
      parts += (parts.empty() ? "" : ", ") + jobs[i].name + " " + std::to_string(s) + "/" + std::to_string(tot);
    }
    std::fprintf(stderr, "%strain %s: %s steps (%.0f tok/s, %s elapsed, %s left)%s", tty ? "\r\033[K" : "",
                 label.c_str(), parts.c_str(), tok_s, format_duration(el).c_str(), format_duration(left).c_str(),
                 tty ? "" : "\n");
    std::fflush(stderr);
  }
  for (auto& th : threads) th.join();
  if (tty) std::fprintf(stderr, "\n");
  for (size_t i = 0; i < n; ++i)
    if (errors[i]) std::rethrow_exception(errors[i]);
  for (size_t i = 0; i < n; ++i) {
    const TrainResult& r = results[i];
    stage_mark_done(jobs[i].dir, jobs[i].fp,
                    json{{"tokens", r.tokens}, {"steps", r.steps}, {"tokens_per_s", r.tokens_per_s},
                         {"seconds", r.seconds}, {"examples", r.examples}, {"side_by_side", n},
                         {"final_loss", r.last_loss}});
    char line[240];
    std::snprintf(line, sizeof line, "  %s: %lld steps, %lld tokens, %.0f tok/s, final loss %.3f",
                  jobs[i].name.c_str(), static_cast<long long>(r.steps), static_cast<long long>(r.tokens),
                  r.tokens_per_s, r.last_loss);
    say(line);
  }
}

// The from-scratch model: random weights and a BPE tokenizer trained on the given worlds' texts.
void stage_init(const std::string& dir, const std::vector<std::string>& world_dirs, const std::string& size,
                int vocab, uint64_t seed, json& times) {
  StageTimer t{times, "init"};
  std::vector<std::string> parts = {"init-v1", size, std::to_string(vocab), std::to_string(seed)};
  for (const auto& w : world_dirs) parts.push_back(fingerprint_path(w + "/corpus.jsonl"));
  std::string fp = fingerprint_strings(parts);
  if (stage_done(dir, fp)) {
    t.reused = true;
    return;
  }
  std::vector<std::string> texts;
  for (const auto& w : world_dirs) {
    std::vector<std::string> more = world_texts(w);
    texts.insert(texts.end(), more.begin(), more.end());
  }
  init_model_folder(texts, dir, size, seed, vocab);
  stage_mark_done(dir, fp);
}

}  // namespace

// ---- the base student

std::string default_base_model() {
  const std::string built = std::string(STEPER_MODELS_DIR) + "/base-tiny";
  if (fs::exists(built + "/model.safetensors") || !fs::exists("models/base-tiny/model.safetensors")) return built;
  return "models/base-tiny";  // a moved source tree, run from its root
}

BaseRecipe base_recipe(bool quick) {
  BaseRecipe r;
  if (quick) {
    r.questions = 150;
    r.vocab = 600;
    r.tokens = 60000;
    r.warmup = 5;
  }
  return r;
}

std::string pretrain_base(const BaseRecipe& r, const std::string& work_dir, nlohmann::json& times) {
  make_dirs(work_dir);
  stage_world(work_dir, {"pretrain-world", r.world_seed, r.questions, 20, 20}, times);
  std::string traces =
      stage_teach(work_dir, "pretrain-world",
                  rag_options(r.k, r.max_steps, r.max_passages, r.passage_words, RagMode::kMulti), times);
  std::string init_dir = work_dir + "/init";
  stage_init(init_dir, {work_dir + "/pretrain-world"}, r.size, r.vocab, r.seed, times);
  train_group("base",
              {train_job(work_dir, "base", init_dir, traces, "lm", r.tokens, r.lr, r.batch_tokens, r.seed, r.warmup)},
              times);
  return work_dir + "/base/model";
}

int pretrain_base_command(const BaseRecipe& r, const std::string& work_dir, const std::string& out_dir) {
  json times = json::array();
  auto start = std::chrono::steady_clock::now();
  std::string model = pretrain_base(r, work_dir, times);
  make_dirs(out_dir);
  for (const char* f : {"config.json", "tokenizer.json", "model.safetensors", "generation_config.json"})
    if (fs::exists(model + "/" + f))
      fs::copy_file(model + "/" + f, out_dir + "/" + f, fs::copy_options::overwrite_existing);
  json info = stage_info(work_dir + "/base");
  json recipe = {{"world_seed", r.world_seed}, {"questions", r.questions}, {"size", r.size}, {"vocab", r.vocab},
                 {"objective", "lm"},          {"tokens", r.tokens},       {"lr", r.lr},     {"batch_tokens", r.batch_tokens},
                 {"warmup", r.warmup},         {"k", r.k},                 {"max_steps", r.max_steps},
                 {"max_passages", r.max_passages}, {"seed", r.seed}};
  json traces = stage_info(work_dir + "/traces-pretrain-world");
  write_json_atomic(out_dir + "/pretrain.json",
                    json{{"recipe", recipe},
                         {"training", info},
                         {"traces_kept", traces.value("kept", 0)},
                         {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()},
                         {"stage_times", times}});
  say("base student in " + out_dir + " (" + std::to_string(info.value("steps", 0)) + " steps, " +
      std::to_string(info.value("tokens", 0)) + " tokens)");
  return 0;
}

// ---- the run

int demo_run(const DemoConfig& c) {
  const std::string out = c.out_dir;
  const bool shipped = !c.pretrain_base;
  if (shipped && !fs::exists(c.base_model + "/model.safetensors"))
    throw Error("--base " + c.base_model + ": no model.safetensors there (make one with `steper pretrain-base --out " +
                c.base_model + "`, or pretrain one in this run with --pretrain-base)");
  make_dirs(out);
  auto wall_start = std::chrono::steady_clock::now();
  json times = json::array();
  BaseRecipe recipe = base_recipe(c.quick);
  recipe.world_seed = c.seed + 7919;
  if (c.base_tokens > 0) recipe.tokens = c.base_tokens;
  if (c.pretrain_train > 0) recipe.questions = c.pretrain_train;
  write_json_atomic(out + "/demo-config.json",
                    json{{"quick", c.quick}, {"seed", c.seed}, {"n_train", c.n_train}, {"n_dev", c.n_dev},
                         {"n_test", c.n_test}, {"base", shipped ? c.base_model : std::string("pretrained in this run")},
                         {"pretrain_questions", shipped ? 0 : recipe.questions},
                         {"base_tokens", shipped ? 0 : recipe.tokens}, {"student_tokens", c.student_tokens},
                         {"student_lr", c.student_lr}, {"batch_tokens", c.batch_tokens}, {"k", c.k},
                         {"max_steps", c.max_steps}, {"max_passages", c.max_passages},
                         {"passage_words", c.passage_words}, {"eval_questions", c.eval_questions},
                         {"objectives", c.objectives}});
  const int total_stages = 5;
  int stage_no = 0;
  auto announce = [&](const std::string& what) {
    ++stage_no;
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    say("[" + std::to_string(stage_no) + "/" + std::to_string(total_stages) + "] " + what + " (" +
        format_duration(el) + " elapsed)");
  };

  // 1. the demo world, its index and its gold-evidence teacher traces
  announce("world, index and gold-evidence teacher traces");
  stage_world(out, {"world", c.seed, c.n_train, c.n_dev, c.n_test}, times);
  const std::string traces = stage_teach(
      out, "world", rag_options(c.k, c.max_steps, c.max_passages, c.passage_words, RagMode::kMulti), times);

  // 2. the base student every objective starts from: shipped with steper, or pretrained here
  std::string base_dir;
  if (shipped) {
    announce("base student: " + c.base_model);
    base_dir = c.base_model;
    json info = fs::exists(base_dir + "/pretrain.json") ? read_json(base_dir + "/pretrain.json") : json::object();
    json training = info.value("training", json::object());
    training["shipped"] = base_dir;
    training["recipe"] = info.value("recipe", json::object());
    stage_mark_done(out + "/base", fingerprint_path(base_dir + "/model.safetensors"), training);
  } else {
    announce("base student, pretrained on another world (" + std::to_string(recipe.tokens) + " tokens)");
    base_dir = pretrain_base(recipe, out, times);
  }

  // 3. students: every objective from the same base with the same token budget, side by side
  announce("students distilled with each objective (same start, same token budget, side by side)");
  {
    std::vector<std::optional<TrainJob>> jobs;
    for (const auto& obj : c.objectives)
      jobs.push_back(train_job(out, "student-" + obj, base_dir, traces, obj, c.student_tokens, c.student_lr,
                               c.batch_tokens, c.seed, c.quick ? 5 : 50));
    train_group("students", std::move(jobs), times);
  }

  // 4. evaluation on held-out test questions
  announce("evaluation on held-out test questions");
  std::vector<Question> test = read_questions(out + "/world/test.json");
  if (c.eval_questions > 0 && static_cast<int>(test.size()) > c.eval_questions) test.resize(c.eval_questions);
  std::unique_ptr<Retriever> retriever = bm25_open_index(out + "/world-index");
  std::vector<std::pair<std::string, std::string>> systems = {{"teacher", "gold"}, {"base", base_dir}};
  for (const auto& obj : c.objectives) systems.push_back({obj, out + "/student-" + obj + "/model"});
  const std::vector<RagMode> modes = {RagMode::kMulti, RagMode::kSingle, RagMode::kNone};
  // Systems are evaluated side by side, one per core, each with one BLAS thread.
  std::vector<json> eval_times(systems.size());
  std::vector<std::exception_ptr> eval_errors(systems.size());
  std::atomic<size_t> next_system{0}, questions_done{0}, workers_running{0};
  auto eval_worker = [&] {
    for (size_t si = next_system++; si < systems.size(); si = next_system++) {
      const auto& [name, model_dir] = systems[si];
      auto t0 = std::chrono::steady_clock::now();
      bool all_reused = true;
      try {
        std::string model_fp = model_dir == "gold" ? "gold" : fingerprint_path(model_dir + "/model.safetensors");
        std::unique_ptr<LanguageModel> lm;
        for (RagMode mode : modes) {
          std::string dir = out + "/eval/" + name + "/" + rag_mode_name(mode);
          std::string fp = fingerprint_strings({"eval-v1", model_fp, fingerprint_path(out + "/world/test.json"),
                                                std::to_string(test.size()), rag_mode_name(mode),
                                                std::to_string(c.k), std::to_string(c.max_steps),
                                                std::to_string(c.max_passages), std::to_string(c.passage_words)});
          if (stage_done(dir, fp)) {
            questions_done += test.size();
            continue;
          }
          all_reused = false;
          RagOptions ro = rag_options(c.k, c.max_steps, c.max_passages, c.passage_words, mode);
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
          ec.show_progress = false;  // one line for all side-by-side evaluations instead
          ec.on_question = [&] { ++questions_done; };
          EvalResult r = eval_run(test, retriever.get(), *w, ec);
          stage_mark_done(dir, fp);
          char line[160];
          std::snprintf(line, sizeof line, "  %-8s %-6s EM %5.1f  F1 %5.1f  Acc %5.1f", name.c_str(),
                        rag_mode_name(mode), r.metrics.value("em", 0.0), r.metrics.value("f1", 0.0),
                        r.metrics.value("acc", 0.0));
          say(line);
        }
      } catch (...) {
        eval_errors[si] = std::current_exception();
      }
      double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      eval_times[si] = json{{"stage", "eval: " + name}, {"seconds", sec}, {"reused", all_reused}};
    }
    --workers_running;
  };
  {
    blas_threads_set(1);
    const size_t workers = std::max<size_t>(1, std::min<size_t>(systems.size(), std::thread::hardware_concurrency()));
    std::vector<std::thread> pool;
    workers_running = workers;
    for (size_t i = 0; i < workers; ++i) pool.emplace_back(eval_worker);
    Progress progress("evaluate", test.size() * modes.size() * systems.size(), "question runs");
    for (size_t shown = 0; workers_running > 0;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      size_t now = questions_done;
      if (now > shown) progress.add(now - shown);
      shown = now;
    }
    for (auto& th : pool) th.join();
    progress.finish();
    for (const auto& e : eval_errors)
      if (e) std::rethrow_exception(e);
    for (const auto& t : eval_times) times.push_back(t);
  }

  // 5. the report
  announce("report");
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  ReportInputs ri;
  ri.out_dir = out;
  for (const auto& s : systems) ri.systems.push_back(s.first);
  ri.objectives = c.objectives;
  ri.stage_times = times;
  ri.wall_seconds = wall;
  ri.quick = c.quick;
  ri.base_shipped = shipped ? c.base_model : "";
  demo_write_report(ri);
  say("report: " + out + "/report.md and " + out + "/report.html (" + format_duration(wall) + " in all)");
  return 0;
}

}  // namespace steper
