#include "demo/demo.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "core/trace_json.h"
#include "data/formats.h"
#include "demo/report.h"
#include "demo/stage.h"
#include "model/model.h"
#include "rag/evaluate.h"
#include "rag/framework.h"
#include "rag/loop.h"
#include "retrieval/retriever.h"

namespace steper {

namespace fs = std::filesystem;
using nlohmann::json;

// ---- presets

LoopOptions demo_self_ask_loop(const LoopOptions& loop) {
  LoopOptions l = loop;
  set_framework(l, "self-ask");
  return l;
}

std::string demo_run_name(const std::string& objective, int run) {
  return run <= 1 ? objective : objective + "-run" + std::to_string(run);
}

int demo_runs_of(const DemoConfig& c, const std::string& objective) {
  const auto& seeded = c.seeded_objectives;
  if (seeded.empty() || std::find(seeded.begin(), seeded.end(), objective) != seeded.end()) return c.seeds;
  return 1;
}

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
    c.loop.max_steps = 4;
  } else {
    c.student_tokens = 1400000;  // from the four-round base (README: the demo on the AMD EPYC)
    c.eval_questions = 0;  // all 300
  }
  return c;
}

namespace {

// Every system in every mode on the test questions with one framework's loop, two systems at a time (one
// per core, one BLAS thread each), into OUT/<eval_dir>/<system>/<mode>/; a (system, mode) already
// evaluated with the same inputs is reused. The teacher row is the gold reader: it writes each supporting
// sentence only once retrieval has shown its paragraph.
void evaluate_systems(const DemoConfig& c, const LoopOptions& loop, const std::string& eval_dir,
                      const std::vector<RagMode>& modes,
                      const std::vector<std::pair<std::string, std::string>>& systems,
                      const std::vector<Question>& test, Retriever* retriever, json& times,
                      const std::string& stage) {
  const std::string out = c.out_dir;
  auto fp = [&](const std::string& model_dir, RagMode mode) {
    LoopOptions l = loop;
    l.mode = mode;
    std::string model_fp = model_dir == "gold" ? "gold-v2" : fingerprint_path(model_dir + "/model.safetensors");
    return fingerprint_strings({"eval-v2", model_fp, fingerprint_path(out + "/world/test.json"),
                                std::to_string(test.size()), to_json(l).dump()});
  };
  std::vector<EvalSystem> specs;
  std::map<std::string, std::string> model_of;
  for (const auto& [name, model_dir] : systems) {
    model_of[name] = model_dir;
    auto lm = std::make_shared<std::unique_ptr<LanguageModel>>();
    std::string dir = model_dir;
    specs.push_back({name, model_dir, [lm, dir](const RagOptions& ro) -> std::unique_ptr<StepWriter> {
                       if (dir == "gold") return std::make_unique<GoldReader>(GoldPolicy::kRetrieved);
                       if (!*lm) *lm = LanguageModel::load(dir);
                       return std::make_unique<LmStepWriter>(**lm, ro);
                     }});
  }
  EvalConfig base;
  base.rag.loop = loop;
  base.out_dir = out + "/" + eval_dir;
  base.data = out + "/world/test.json";
  std::mutex mu;
  EvalHooks hooks;
  std::atomic<size_t> ran{0};
  hooks.reuse = [&](const std::string& name, RagMode mode) {
    bool done = stage_done(out + "/" + eval_dir + "/" + name + "/" + rag_mode_name(mode), fp(model_of[name], mode));
    if (!done) ++ran;
    return done;
  };
  hooks.finished = [&](const std::string& name, RagMode mode, const EvalResult& r) {
    stage_mark_done(out + "/" + eval_dir + "/" + name + "/" + rag_mode_name(mode), fp(model_of[name], mode));
    char line[200];
    std::snprintf(line, sizeof line, "  %-8s %-8s %-6s EM %5.1f  F1 %5.1f  Acc %5.1f", name.c_str(), rag_mode_name(mode),
                  loop.framework.c_str(), r.metrics.value("em", 0.0), r.metrics.value("f1", 0.0), r.metrics.value("acc", 0.0));
    std::lock_guard<std::mutex> g(mu);
    say(line);
  };
  StageTimer t{times, stage};
  blas_threads_set(1);
  eval_systems(test, retriever, specs, modes, base, std::max(1u, std::thread::hardware_concurrency()), hooks);
  t.reused = ran == 0;
}

}  // namespace

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
                         {"student_lr", c.student_lr}, {"batch_tokens", c.batch_tokens}, {"train_jobs", c.train_jobs}, {"loop", to_json(c.loop)},
                         {"seeds", c.seeds}, {"seeded_objectives", c.seeded_objectives},
                         {"sigma_lr_scale", c.sigma_lr_scale},
                         {"eval_questions", c.eval_questions},
                         {"objectives", c.objectives}, {"self_ask_objectives", c.self_ask_objectives}});
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
  const std::string traces = stage_teach(out, "world", c.loop, times);
  const LoopOptions self_ask_loop = demo_self_ask_loop(c.loop);
  const std::string self_ask_traces =
      c.self_ask_objectives.empty() ? std::string() : stage_teach(out, "world", self_ask_loop, times);

  // 2. the base student every objective starts from: shipped with steper, or pretrained here
  std::string base_dir;
  if (shipped) {
    announce("base student: " + c.base_model);
    base_dir = c.base_model;
    json info = fs::exists(base_dir + "/pretrain.json") ? read_json(base_dir + "/pretrain.json") : json::object();
    json training = info.value("training", json::object());
    training["shipped"] = base_dir;
    training["recipe"] = info.value("recipe", json::object());
    const PretrainTotal total = pretrain_total(info);
    training["pretrain_rounds"] = total.rounds;
    training["pretrain_tokens"] = total.tokens;
    training["pretrain_worlds"] = total.worlds;
    stage_mark_done(out + "/base", fingerprint_path(base_dir + "/model.safetensors"), training);
  } else {
    announce("base student, pretrained on another world (" + std::to_string(recipe.tokens) + " tokens)");
    base_dir = pretrain_base(recipe, out, times);
  }

  // 3. students: every objective from the same base with the same token budget, side by side; each
  //    objective trained `seeds` times with different data orders
  announce("students distilled with each objective (same start, same token budget, side by side)");
  {
    std::vector<std::optional<TrainJob>> jobs;
    auto add = [&](const std::string& prefix, const std::string& obj, const std::string& traces_path, int run) {
      jobs.push_back(train_job(out, prefix + demo_run_name(obj, run), base_dir, traces_path, obj, c.student_tokens,
                               c.student_lr, c.batch_tokens, c.seed + static_cast<uint64_t>(run - 1),
                               c.quick ? 5 : 50, c.sigma_lr_scale));
    };
    for (int run = 1; run <= c.seeds; ++run) {
      for (const auto& obj : c.objectives)
        if (run <= demo_runs_of(c, obj)) add("student-", obj, traces, run);
      for (const auto& obj : c.self_ask_objectives)
        if (run <= demo_runs_of(c, obj)) add("student-self-ask-", obj, self_ask_traces, run);
    }
    train_group("students", std::move(jobs), times, static_cast<size_t>(std::max(0, c.train_jobs)));
  }

  // 4. evaluation on held-out test questions
  announce("evaluation on held-out test questions");
  std::vector<Question> test = read_questions(out + "/world/test.json");
  if (c.eval_questions > 0 && static_cast<int>(test.size()) > c.eval_questions) test.resize(c.eval_questions);
  std::unique_ptr<Retriever> retriever = bm25_open_index(out + "/world-index");
  // run 1 of every objective in every mode; the other runs multi-step (what the comparisons read)
  std::vector<std::pair<std::string, std::string>> systems = {{"teacher", "gold"}, {"base", base_dir}}, other_runs;
  for (const auto& obj : c.objectives) systems.push_back({obj, out + "/student-" + obj + "/model"});
  for (int run = 2; run <= c.seeds; ++run)
    for (const auto& obj : c.objectives)
      if (run <= demo_runs_of(c, obj))
        other_runs.push_back({demo_run_name(obj, run), out + "/student-" + demo_run_name(obj, run) + "/model"});
  evaluate_systems(c, c.loop, "eval", {RagMode::kMulti, RagMode::kSingle, RagMode::kNone}, systems, test,
                   retriever.get(), times, "eval");
  if (!other_runs.empty())
    evaluate_systems(c, c.loop, "eval", {RagMode::kMulti}, other_runs, test, retriever.get(), times,
                     "eval: runs 2-" + std::to_string(c.seeds));
  std::vector<std::pair<std::string, std::string>> self_ask_systems;
  if (!c.self_ask_objectives.empty()) {
    self_ask_systems = {{"teacher", "gold"}, {"base", base_dir}};
    for (int run = 1; run <= c.seeds; ++run)
      for (const auto& obj : c.self_ask_objectives)
        if (run <= demo_runs_of(c, obj))
          self_ask_systems.push_back(
            {demo_run_name(obj, run), out + "/student-self-ask-" + demo_run_name(obj, run) + "/model"});
    evaluate_systems(c, self_ask_loop, "eval-self-ask", {RagMode::kMulti}, self_ask_systems, test, retriever.get(),
                     times, "eval: " + self_ask_loop.framework);
  }

  // 5. the report
  announce("report");
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  ReportInputs ri;
  ri.out_dir = out;
  for (const auto& s : systems) ri.systems.push_back(s.first);
  ri.objectives = c.objectives;
  if (!self_ask_systems.empty()) ri.self_ask_systems = {"teacher", "base"};
  for (const auto& obj : c.self_ask_objectives) ri.self_ask_systems.push_back(obj);
  ri.self_ask_objectives = c.self_ask_objectives;
  ri.runs = c.seeds;
  ri.stage_times = times;
  ri.wall_seconds = wall;
  ri.quick = c.quick;
  ri.base_shipped = shipped ? c.base_model : "";
  demo_write_report(ri);
  say("report: " + out + "/report.md and " + out + "/report.html (" + format_duration(wall) + " in all)");
  return 0;
}

}  // namespace steper
