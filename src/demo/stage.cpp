#include "demo/stage.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/io.h"
#include "core/progress.h"
#include "core/side_by_side.h"
#include "core/trace_json.h"
#include "data/formats.h"
#include "data/world.h"
#include "eval/metrics.h"
#include "model/model.h"
#include "retrieval/retriever.h"
#include "teacher/teach.h"

namespace steper {

namespace fs = std::filesystem;
using nlohmann::json;

static void fnv_update(uint64_t& h, const char* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ULL;
  }
}

static std::string hex64(uint64_t h) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string fingerprint_strings(const std::vector<std::string>& parts) {
  uint64_t h = 14695981039346656037ULL;
  for (const auto& p : parts) {
    fnv_update(h, p.data(), p.size());
    fnv_update(h, "\x1f", 1);
  }
  return hex64(h);
}

static void hash_file(uint64_t& h, const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), buf.size());
    fnv_update(h, buf.data(), static_cast<size_t>(in.gcount()));
  }
}

std::string fingerprint_path(const std::string& path) {
  uint64_t h = 14695981039346656037ULL;
  if (fs::is_directory(path)) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(path))
      if (e.is_regular_file() && e.path().filename() != "stage.json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string rel = fs::relative(f, path).string();
      fnv_update(h, rel.data(), rel.size());
      hash_file(h, f);
    }
  } else if (fs::exists(path)) {
    hash_file(h, path);
  } else {
    return "missing";
  }
  return hex64(h);
}

namespace {

// The stage record of dir, or null when the stage has none; a damaged one is an error naming it.
nlohmann::json stage_record(const std::string& dir) {
  const std::string marker = dir + "/stage.json";
  if (!fs::exists(marker)) return nullptr;
  nlohmann::json j = read_json(marker);
  json_text(j, "fingerprint", marker);
  if (json_find(j, "info")) json_object(j, "info", marker);  // null: a stage recorded without info
  else j["info"] = nlohmann::json::object();
  return j;
}

}  // namespace

bool stage_done(const std::string& dir, const std::string& fingerprint) {
  const nlohmann::json j = stage_record(dir);
  return !j.is_null() && j["fingerprint"] == fingerprint;
}

void stage_mark_done(const std::string& dir, const std::string& fingerprint, const nlohmann::json& info) {
  write_json_atomic(dir + "/stage.json", nlohmann::json{{"fingerprint", fingerprint}, {"info", info}});
}

nlohmann::json stage_info(const std::string& dir) {
  const nlohmann::json j = stage_record(dir);
  return j.is_null() ? nlohmann::json::object() : j["info"];
}

// ---- the demo's stages

StageTimer::~StageTimer() {
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  times.push_back(json{{"stage", name}, {"seconds", s}, {"reused", reused}});
}

void say(const std::string& line) { std::fprintf(stderr, "demo: %s\n", line.c_str()); }

LoopOptions demo_loop_default() {
  LoopOptions l;
  l.k = 4;
  l.max_steps = 6;
  l.max_passages = 10;
  l.passage_words = 60;
  return l;
}

std::vector<std::string> world_texts(const std::string& dir) {
  std::vector<std::string> texts;
  for (const auto& p : read_corpus(dir + "/corpus.jsonl")) texts.push_back(p.title + "\n" + p.text);
  for (const auto& q : read_questions(dir + "/train.json")) {
    texts.push_back(q.question);
    if (!q.answers.empty()) texts.push_back(answer_sentence(q.answers[0]));
  }
  return texts;
}

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
std::string stage_teach(const std::string& out, const std::string& world, const LoopOptions& loop, json& times) {
  const std::string name = world + (loop.framework == "ircot" ? "" : "-" + loop.framework);
  StageTimer t{times, "teach: " + name};
  std::string dir = out + "/traces-" + name;
  std::string path = dir + "/train.jsonl";
  std::string fp = fingerprint_strings({"teach-v2", fingerprint_path(out + "/" + world + "/train.json"),
                                        to_json(loop).dump()});
  if (stage_done(dir, fp)) {
    t.reused = true;
    return path;
  }
  if (fs::exists(path)) fs::remove(path);
  TeachConfig tc;
  tc.data_path = out + "/" + world + "/train.json";
  tc.index_dir = out + "/" + world + "-index";
  tc.teacher = "gold";
  tc.rag.loop = loop;
  tc.out = path;
  TeachSummary s = teach_run_with(tc);
  stage_mark_done(dir, fp, s.to_json());
  say("  " + name + ": kept " + std::to_string(s.kept) + " of " + std::to_string(s.finished) + " traces");
  return path;
}

std::optional<TrainJob> train_job(const std::string& out, const std::string& name, const std::string& from,
                                  const std::string& traces_path, const std::string& objective, int64_t tokens,
                                  double lr, int64_t batch_tokens, uint64_t seed, int64_t warmup,
                                  double sigma_lr_scale) {
  TrainJob j;
  j.name = name;
  j.dir = out + "/" + name;
  std::vector<std::string> inputs = {"train-v3", fingerprint_path(from + "/model.safetensors"),
                                     fingerprint_path(traces_path), objective, std::to_string(tokens),
                                     std::to_string(lr), std::to_string(batch_tokens), std::to_string(seed),
                                     std::to_string(warmup)};
  if (sigma_lr_scale != 1.0) inputs.push_back("sigma-lr-scale " + std::to_string(sigma_lr_scale));
  j.fp = fingerprint_strings(inputs);
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
  tc.sigma_lr_scale = sigma_lr_scale;
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

void train_group(const std::string& label, std::vector<std::optional<TrainJob>> maybe, json& times,
                 size_t at_once) {
  std::vector<TrainJob> jobs;
  for (auto& m : maybe)
    if (m) jobs.push_back(std::move(*m));
  StageTimer t{times, "train: " + label};
  if (jobs.empty()) {
    t.reused = true;
    return;
  }
  const size_t n = jobs.size();
  std::vector<std::atomic<int64_t>> step(n), total(n), tokens(n), before(n);
  std::vector<std::atomic<double>> rate(n);
  std::vector<TrainResult> results(n);
  for (size_t i = 0; i < n; ++i) step[i] = total[i] = tokens[i] = before[i] = 0, rate[i] = 0;
  // One progress line for the group. The time left is the tokens every job has still to train, those not
  // started included, at the rate the group has trained them so far (a resumed job's tokens from before
  // its checkpoint count neither as done nor as to do).
  const bool tty = isatty(2);
  const auto start = std::chrono::steady_clock::now();
  auto tick = [&] {
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), tok_s = 0;
    double done = 0, budget = 0;
    std::string parts;
    for (size_t i = 0; i < n; ++i) {
      int64_t s = step[i], tot = total[i];
      const double b = static_cast<double>(jobs[i].tc.train_tokens.value_or(0) - before[i]);
      budget += b;
      done += std::min(b, static_cast<double>(tokens[i] - before[i]));
      tok_s += rate[i];
      parts += (parts.empty() ? "" : ", ") + jobs[i].name + " " + std::to_string(s) + "/" + std::to_string(tot);
    }
    const double left = done > 0 ? el * std::max(0.0, budget - done) / done : 0.0;
    std::fprintf(stderr, "%strain %s: %s steps (%.0f tok/s, %s elapsed, %s left)%s", tty ? "\r\033[K" : "",
                 label.c_str(), parts.c_str(), tok_s, format_duration(el).c_str(), format_duration(left).c_str(),
                 tty ? "" : "\n");
    std::fflush(stderr);
  };
  const size_t workers = at_once == 0 ? n : std::min(n, at_once);
  run_side_by_side(
      n, workers,
      [&](size_t i) {
        TrainConfig tc = jobs[i].tc;
        tc.quiet = true;
        tc.threads = workers == 1 ? 0 : 1;  // alone: every core
        results[i] = train_run(tc, [&, i](const TrainStepRecord& r) {
          if (step[i] == 0) before[i] = r.total_tokens - r.tokens;
          step[i] = r.step;
          total[i] = r.total_steps;
          tokens[i] = r.total_tokens;
          rate[i] = r.tokens_per_s;
        });
        rate[i] = 0;  // the group's tokens/s is that of the trainings still running
        const int64_t budget = jobs[i].tc.train_tokens.value_or(0);
        if (step[i] == 0) before[i] = budget;  // resumed at its end: nothing trained here
        tokens[i] = std::max<int64_t>(tokens[i], budget);
      },
      tick, tty ? 0.5 : 15.0);
  if (tty) std::fprintf(stderr, "\n");
  for (size_t i = 0; i < n; ++i) {
    const TrainResult& r = results[i];
    stage_mark_done(jobs[i].dir, jobs[i].fp,
                    json{{"tokens", r.tokens}, {"steps", r.steps}, {"tokens_per_s", r.tokens_per_s},
                         {"seconds", r.seconds}, {"examples", r.examples}, {"examples_seen", r.examples_seen},
                         {"side_by_side", workers}, {"group", n},
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

}  // namespace steper
