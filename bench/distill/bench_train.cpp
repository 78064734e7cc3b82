// Training throughput: examples/s, tokens/s, computed tokens per example, padding share and peak memory of
// `steper train` for one setting, as one JSON line on stdout, and (--profile-steps N) where the time of N
// steps goes (step_profile.h). Traces come from --traces or are generated (a synthetic multi-hop trace set
// whose example lengths resemble the built-in world's); the model from --model or made from the traces.
// Run bench/distill/run.sh for the whole table.
//
//   bench_distill_train --size tiny --objective steper --steps 40 --threads 2 [--packing on|off]
//                       [--traces FILE] [--model DIR] [--profile-steps N] [--work DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io.h"
#include "core/trace_json.h"
#include "distill/data.h"
#include "distill/trainer.h"
#include "model/model.h"
#include "step_profile.h"

namespace fs = std::filesystem;
using steper::splitmix64;

namespace {

// ---- synthetic traces ------------------------------------------------------------------------------

const char* kSyll[] = {"ka", "ren", "tor", "vel", "mi", "sha", "dun", "ori", "bel", "quo", "zan", "lis",
                       "mar", "tev", "gol", "nia", "pra", "sel", "wyn", "hod", "eth", "cru", "lan", "fis"};
const char* kFiller[] = {"known", "for", "its", "long", "history", "and", "several", "notable", "works", "in",
                         "the", "region", "during", "early", "years", "with", "many", "public", "projects",
                         "recorded", "by", "local", "archives", "that", "remain", "widely", "cited", "today"};

std::string make_name(uint64_t& st) {
  std::string n;
  int parts = 2 + static_cast<int>(splitmix64(st) % 2);
  for (int i = 0; i < parts; ++i) n += kSyll[splitmix64(st) % 24];
  n[0] = static_cast<char>(n[0] - 32);
  return n;
}

struct Entity {
  std::string id, name, text;
  size_t next = 0;  // the entity this one's passage points to
};

std::vector<steper::Trace> synthetic_traces(int n_traces, uint64_t seed) {
  uint64_t st = seed;
  const size_t n_ent = 1500;
  std::vector<Entity> ents(n_ent);
  for (size_t i = 0; i < n_ent; ++i) {
    ents[i].id = "e" + std::to_string(i);
    ents[i].name = make_name(st) + " " + make_name(st);
    ents[i].next = static_cast<size_t>(splitmix64(st) % n_ent);
  }
  for (size_t i = 0; i < n_ent; ++i) {
    std::string t = ents[i].name + " is closely linked to " + ents[ents[i].next].name + ".";
    int words = 18 + static_cast<int>(splitmix64(st) % 20);
    for (int w = 0; w < words; ++w) t += std::string(" ") + kFiller[splitmix64(st) % 28];
    t += ".";
    ents[i].text = t;
  }
  std::vector<steper::Trace> out;
  for (int q = 0; q < n_traces; ++q) {
    uint64_t r = splitmix64(st) % 10;
    int hops = r < 6 ? 2 : r < 9 ? 3 : 4;
    size_t cur = static_cast<size_t>(splitmix64(st) % n_ent);
    steper::Trace tr;
    tr.id = "s" + std::to_string(q);
    tr.question = "Which entity is reached from " + ents[cur].name + " after " + std::to_string(hops) + " links?";
    tr.answered = tr.correct = true;
    for (int h = 0; h <= hops; ++h) {
      steper::TraceStep s;
      s.query = h == 0 ? tr.question : tr.steps.back().sentence;
      s.retrieved.push_back({{ents[cur].id, ents[cur].name, ents[cur].text}, 10.0});
      for (int k = 0; k < 3; ++k) {
        size_t d = static_cast<size_t>(splitmix64(st) % n_ent);
        s.retrieved.push_back({{ents[d].id, ents[d].name, ents[d].text}, 5.0 - k});
      }
      if (h < hops) {
        s.sentence = ents[cur].name + " is closely linked to " + ents[ents[cur].next].name + ".";
        cur = ents[cur].next;
      } else {
        s.sentence = "So the answer is: " + ents[cur].name + ".";
        tr.answer = ents[cur].name;
        tr.answers = {ents[cur].name};
      }
      tr.steps.push_back(s);
    }
    out.push_back(tr);
  }
  return out;
}

// Where the time of `steps` training steps goes, after two unprofiled ones: {category: seconds share}, the
// ops that took most of it, and the profiled steps' wall time.
nlohmann::json profile_run(steper::TrainConfig c, int64_t steps) {
  if (steps <= 0) return nullptr;
  c.out_dir += "-profile";
  c.train_steps = steps + 3;
  std::vector<std::pair<std::string, double>> parts, ops;
  double wall = 0;
  auto t0 = std::chrono::steady_clock::now();
  steper::train_run(c, [&](const steper::TrainStepRecord& r) {
    if (r.step == 2) {
      t0 = std::chrono::steady_clock::now();
      steper_bench::profile_start();
    }
    if (r.step == 2 + steps) {
      parts = steper_bench::profile_stop(&ops);
      wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  });
  nlohmann::json out = {{"steps", steps}, {"wall_seconds", wall}};
  for (const auto& [name, sec] : parts) out["share"][name] = wall > 0 ? sec / wall : 0.0;
  // the ops that take the most time, by their own time's share
  for (size_t i = 0; i < ops.size() && i < 16; ++i)
    out["top_ops"].push_back({ops[i].first, wall > 0 ? ops[i].second / wall : 0.0});
  return out;
}

std::string arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string size = arg(argc, argv, "--size", "tiny");
    std::string objective = arg(argc, argv, "--objective", "steper");
    int64_t steps = std::atoll(arg(argc, argv, "--steps", "40").c_str());
    int threads = std::atoi(arg(argc, argv, "--threads", "2").c_str());
    int torch_threads = std::atoi(arg(argc, argv, "--torch-threads", "1").c_str());
    int64_t batch_tokens = std::atoll(arg(argc, argv, "--batch-tokens", "2048").c_str());
    std::string work = arg(argc, argv, "--work", "/tmp/steper-bench-distill");
    std::string traces = arg(argc, argv, "--traces", "");
    std::string model_arg = arg(argc, argv, "--model", "");
    const bool packing = arg(argc, argv, "--packing", "on") == "on";
    const int64_t profile_steps = std::atoll(arg(argc, argv, "--profile-steps", "0").c_str());
    fs::create_directories(work);

    if (traces.empty()) {
      traces = work + "/synthetic-traces.jsonl";
      if (!steper::file_exists(traces)) {
        std::string lines;
        for (const auto& t : synthetic_traces(1000, 7)) lines += steper::to_json(t).dump() + "\n";
        steper::write_file_atomic(traces, lines);
      }
    }
    std::string model = model_arg.empty() ? work + "/model-" + size : model_arg;
    if (!steper::file_exists(model + "/config.json")) {
      std::vector<std::string> texts;
      int n = 0;
      for (const auto& t : steper::load_traces(traces)) {
        if (++n > 400) break;
        texts.push_back(t.question);
        for (const auto& s : t.steps) {
          texts.push_back(s.sentence);
          for (const auto& p : s.retrieved) texts.push_back(p.passage.title + "\n" + p.passage.text);
        }
      }
      steper::init_model_folder(texts, model, size, 1, 4096);
    }

    steper::TrainConfig c;
    c.model_dir = model;
    c.traces_path = traces;
    c.objective = objective;
    c.out_dir = work + "/run-" + size + "-" + objective + (packing ? "-packed" : "");
    c.packing = packing;
    c.train_steps = steps;
    c.threads = threads;
    c.torch_threads = torch_threads;
    c.batch_tokens = batch_tokens;
    c.quiet = true;
    c.write_model = false;
    steper::TrainResult r = steper::train_run(c);
    nlohmann::json profile = profile_run(c, profile_steps);
    nlohmann::json cfg = steper::read_json(c.out_dir + "/config.json");
    double epoch_tokens = cfg["data"]["prompt_tokens"].get<double>() + cfg["data"]["target_tokens"].get<double>();
    const double examples = static_cast<double>(r.examples_seen);
    nlohmann::json out = {{"size", size},
                          {"objective", objective},
                          {"packing", packing},
                          {"examples_per_s", r.examples_per_s},
                          {"target_tokens_per_s", r.seconds > 0 ? r.target_tokens / r.seconds : 0.0},
                          {"computed_tokens_per_example", examples > 0 ? r.tokens / examples : 0.0},
                          {"split_traces", r.pack_stats.split_traces},
                          {"traces", r.pack_stats.traces},
                          {"profile", profile},
                          {"blas_threads", threads},
                          {"torch_threads", torch_threads},
                          {"batch_tokens", batch_tokens},
                          {"steps", r.steps},
                          {"tokens", r.tokens},
                          {"target_tokens", r.target_tokens},
                          {"seconds", r.seconds},
                          {"tokens_per_s", r.tokens_per_s},
                          {"cpu_seconds", r.cpu_seconds},
                          {"tokens_per_cpu_s", r.cpu_seconds > 0 ? r.tokens / r.cpu_seconds : 0.0},
                          {"padding_share", r.padding_share},
                          {"peak_rss_mb", r.peak_rss_mb},
                          {"epoch_examples", r.examples},
                          {"epoch_tokens", epoch_tokens},
                          {"epoch_seconds_est", epoch_tokens / r.tokens_per_s}};
    std::printf("%s\n", out.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_distill_train: error: %s\n", e.what());
    return 1;
  }
}
