// Retrieval benchmark: steper's BM25 index (native) side by side with SQLite FTS5 (porter tokenizer,
// bm25() ranking over title + text), in one run. Two corpora:
//   (default) Wikipedia-sized generated passages, see bench_scale.cpp:
//     bench_retrieval [--passages N] [--queries N] [--fts5-queries N] [--threads N] [--dir DIR] [--out FILE]
//   --world: the generated world of the pipeline: indexing passages/s, batched queries/s at k = 4 on all
//     cores, recall@k (k = 2, 4, 6, 8) of the questions' supporting passages when the question
//     (IRCoT-cleaned) is the query:
//     bench_retrieval --world [--entities N] [--questions N] [--queries N] [--threads N] [--dir DIR] [--out FILE]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "bench_args.h"
#include "core/io.h"
#include "data/world.h"
#include "fts5.h"
#include "retrieval/retriever.h"

namespace steper {
namespace {

namespace fs = std::filesystem;

// Ranked titles for each query, best first.
using Ranked = std::vector<std::vector<std::string>>;

// ---- the FTS5 baseline

void fts5_build(const std::vector<Passage>& corpus, const std::string& path) {
  Fts5Writer w(path);
  for (const auto& p : corpus) w.fts5_add(p.title, p.text);
  w.fts5_finish();
}

Ranked fts5_titles(const std::string& path, const std::vector<std::string>& queries, int k, int threads,
                   const std::vector<Passage>& corpus) {
  auto rows = fts5_search(path, queries, k, threads);
  Ranked out(rows.size());
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t r : rows[i]) out[i].push_back(corpus[static_cast<size_t>(r - 1)].title);
  return out;
}

// ---- the steper side

Ranked steper_search(Retriever& r, const std::vector<std::string>& queries, int k) {
  auto res = r.search_batch(queries, k);
  Ranked out(res.size());
  for (size_t i = 0; i < res.size(); ++i)
    for (auto& sp : res[i]) out[i].push_back(sp.passage.title);
  return out;
}

// ---- measures

// Mean over questions of the share of supporting passages (distinct titles) in the top k.
double recall_at(const Ranked& ranked, const std::vector<Question>& qs, int k) {
  double sum = 0;
  for (size_t i = 0; i < qs.size(); ++i) {
    std::set<std::string> gold;
    for (auto& f : qs[i].supporting_facts) gold.insert(f.title);
    if (gold.empty()) continue;
    size_t found = 0;
    for (size_t j = 0; j < ranked[i].size() && static_cast<int>(j) < k; ++j) found += gold.count(ranked[i][j]);
    sum += static_cast<double>(found) / gold.size();
  }
  return qs.empty() ? 0 : 100.0 * sum / qs.size();
}

// IRCoT-style step queries of bridge questions: the supporting sentence of hop h-1 (which names
// the bridge entity, as a reasoning step would) is the query for hop h's passage.
struct StepQueries {
  std::vector<std::string> queries;
  std::vector<std::string> gold;  // the title to find
};
StepQueries step_queries(const std::vector<Question>& qs) {
  StepQueries out;
  for (const auto& q : qs) {
    if (q.type != "bridge") continue;
    for (size_t h = 1; h < q.supporting_facts.size(); ++h) {
      const SupportingFact& prev = q.supporting_facts[h - 1];
      for (const auto& c : q.context) {
        if (c.title != prev.title || prev.sent_id < 0 || prev.sent_id >= static_cast<int>(c.sentences.size())) continue;
        out.queries.push_back(c.sentences[prev.sent_id]);
        out.gold.push_back(q.supporting_facts[h].title);
        break;
      }
    }
  }
  return out;
}

double step_recall_at(const Ranked& ranked, const StepQueries& sq, int k) {
  double found = 0;
  for (size_t i = 0; i < sq.gold.size(); ++i)
    for (size_t j = 0; j < ranked[i].size() && static_cast<int>(j) < k; ++j) found += ranked[i][j] == sq.gold[i];
  return sq.gold.empty() ? 0 : 100.0 * found / sq.gold.size();
}

}  // namespace

int world_main(int argc, char** argv) {
  int entities = arg_int(argc, argv, "--entities", 100000);
  int n_questions = arg_int(argc, argv, "--questions", 2000);
  int n_queries = arg_int(argc, argv, "--queries", 20000);
  int threads = arg_int(argc, argv, "--threads", static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  std::string dir = arg_str(argc, argv, "--dir", (fs::temp_directory_path() / "steper_bench_retrieval").string());
  std::string out_path = arg_str(argc, argv, "--out", "bench_retrieval.json");
  fs::create_directories(dir);

  auto t0 = std::chrono::steady_clock::now();
  WorldOptions wo;
  wo.n_entities = entities;
  wo.n_train = 0;
  wo.n_dev = 0;
  wo.n_test = n_questions;
  World world = world_generate(wo);
  std::fprintf(stderr, "world: %zu passages, %zu questions (%.1f s)\n", world.corpus.size(), world.test.size(),
               seconds_since(t0));
  const auto& corpus = world.corpus;
  std::vector<std::string> questions;
  for (auto& q : world.test) questions.push_back(ircot_clean_query(q.question));
  std::vector<std::string> load;  // the throughput load: the questions, repeated
  while (static_cast<int>(load.size()) < n_queries) load.push_back(questions[load.size() % questions.size()]);

  // indexing
  IndexOptions io;
  io.threads = threads;
  io.show_progress = false;
  t0 = std::chrono::steady_clock::now();
  bm25_build_index(corpus, dir + "/steper", io);
  double x_index_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  fts5_build(corpus, dir + "/fts5.db");
  double f_index_s = seconds_since(t0);

  // throughput at k = 4
  auto retriever = bm25_open_index(dir + "/steper", threads);
  steper_search(*retriever, std::vector<std::string>(questions.begin(), questions.begin() + std::min<size_t>(200, questions.size())), 4);  // warm
  t0 = std::chrono::steady_clock::now();
  steper_search(*retriever, load, 4);
  double x_query_s = seconds_since(t0);
  fts5_titles(dir + "/fts5.db", std::vector<std::string>(questions.begin(), questions.begin() + std::min<size_t>(200, questions.size())), 4, threads, corpus);
  t0 = std::chrono::steady_clock::now();
  fts5_titles(dir + "/fts5.db", load, 4, threads, corpus);
  double f_query_s = seconds_since(t0);

  // recall
  Ranked x_ranked = steper_search(*retriever, questions, 8);
  Ranked f_ranked = fts5_titles(dir + "/fts5.db", questions, 8, threads, corpus);
  StepQueries steps = step_queries(world.test);
  Ranked x_steps = steper_search(*retriever, steps.queries, 8);
  Ranked f_steps = fts5_titles(dir + "/fts5.db", steps.queries, 8, threads, corpus);

  nlohmann::json result = {
      {"corpus_passages", corpus.size()},
      {"questions", questions.size()},
      {"throughput_queries", load.size()},
      {"threads", threads},
      {"hardware_threads", std::thread::hardware_concurrency()},
      {"query", "question with IRCoT's wh-words and question marks removed; English stop words dropped on both sides"},
      {"step_queries", steps.queries.size()},
      {"recall", "mean share of a question's supporting passages in the top k when the question is the query, percent"},
      {"step_recall", "bridge hops: the previous hop's supporting sentence is the query; share of next-hop passages in the top k, percent"},
  };
  const int ks[] = {2, 4, 6, 8};
  auto side = [&](const Ranked& ranked, const Ranked& step_ranked, double index_s, double query_s) {
    nlohmann::json j = {{"index_seconds", index_s},
                        {"index_passages_per_s", corpus.size() / index_s},
                        {"query_seconds_k4", query_s},
                        {"queries_per_s_k4", load.size() / query_s}};
    for (int k : ks) j["recall@" + std::to_string(k)] = recall_at(ranked, world.test, k);
    for (int k : ks) j["step_recall@" + std::to_string(k)] = step_recall_at(step_ranked, steps, k);
    return j;
  };
  result["steper_bm25"] = side(x_ranked, x_steps, x_index_s, x_query_s);
  result["sqlite_fts5"] = side(f_ranked, f_steps, f_index_s, f_query_s);

  std::printf("%zu passages, %zu questions, %zu step queries, %d threads\n", corpus.size(), questions.size(),
              steps.queries.size(), threads);
  std::printf("%-26s %14s %14s\n", "", "steper bm25", "sqlite fts5");
  auto row = [&](const char* name, const std::string& key, const char* fmt) {
    char a[64], b[64];
    std::snprintf(a, sizeof a, fmt, result["steper_bm25"][key].get<double>());
    std::snprintf(b, sizeof b, fmt, result["sqlite_fts5"][key].get<double>());
    std::printf("%-26s %14s %14s\n", name, a, b);
  };
  row("index passages/s", "index_passages_per_s", "%.0f");
  row("queries/s (k=4, batched)", "queries_per_s_k4", "%.0f");
  for (int k : ks) {
    std::string name = "recall@" + std::to_string(k) + " (%)";
    row(name.c_str(), "recall@" + std::to_string(k), "%.1f");
  }
  for (int k : ks) {
    std::string name = "step recall@" + std::to_string(k) + " (%)";
    row(name.c_str(), "step_recall@" + std::to_string(k), "%.1f");
  }
  write_json_atomic(out_path, result);
  std::printf("wrote %s\n", out_path.c_str());
  return 0;
}

}  // namespace steper

int main(int argc, char** argv) {
  try {
    if (steper::arg_flag(argc, argv, "--world")) return steper::world_main(argc, argv);
    return steper::scale_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_retrieval: error: %s\n", e.what());
    return 1;
  }
}
