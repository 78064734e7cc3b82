// The retrieval benchmark at Wikipedia scale: a generated corpus of Wikipedia-like first paragraphs
// (wiki_corpus.h; IRCoT's HotpotQA corpus has 5,233,329 passages), indexed by steper (its native
// index and Xapian databases, the same analyzer and BM25) and by SQLite FTS5 in the same run. Each stage runs in its own process, so its peak memory (RSS)
// is its own; the corpus is generated while it is indexed and never held as a whole.
// Reports index time, peak RSS of indexing and of a searching process, index size on disk, queries/s
// at k = 4 on one thread and on all cores, and recall@1/4/10 of the passage each query was written
// from, on the same queries for both engines.
// Usage: bench_retrieval [--passages N] [--queries N] [--fts5-queries N] [--single-queries N]
//          [--fts5-timed-queries N] [--threads N] [--shards N] [--memory-mb N] [--servable] [--seed N]
//          [--dir DIR] [--out FILE] [--keep] [--reuse] [--engines native,xapian,fts5]
// --reuse keeps DIR and skips each stage whose result is already there (a run continued after a stop).
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_args.h"
#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "fts5.h"
#include "retrieval/retriever.h"
#include "wiki_corpus.h"

namespace steper {

namespace {

namespace fs = std::filesystem;

// ---- one stage, one process

struct StageRun {
  nlohmann::json result;  // what the stage wrote
  double peak_rss_mb = 0;
  double cpu_seconds = 0;  // user + system, all threads (the machine may be shared: wall time alone misleads)
  bool reused = false;     // taken from an earlier run (--reuse), not measured in this one
};

// Runs `stage` in a child process; the stage writes its figures to `result_path`, to which its peak
// RSS and CPU time are added. With `reuse`, a stage whose complete result is there is not run again.
StageRun stage_run(const std::string& name, const std::string& result_path, bool reuse,
                   const std::function<nlohmann::json()>& stage) {
  if (reuse && fs::exists(result_path)) {
    nlohmann::json j = read_json(result_path);
    if (j.contains("peak_rss_mb") && j.contains("cpu_seconds")) {
      std::fprintf(stderr, "bench_retrieval: %s: reusing %s\n", name.c_str(), result_path.c_str());
      return {j, j["peak_rss_mb"].get<double>(), j["cpu_seconds"].get<double>(), true};
    }
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) throw Error("cannot fork for the " + name + " stage");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a stopped benchmark stops its stage too
    if (getppid() == 1) _exit(1);
    try {
      write_json_atomic(result_path, stage());
      std::fflush(stderr);
      _exit(0);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_retrieval: %s: %s\n", name.c_str(), e.what());
      std::fflush(stderr);
      _exit(1);
    }
  }
  int status = 0;
  rusage ru{};
  if (wait4(pid, &status, 0, &ru) < 0) throw Error("lost the " + name + " stage");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error("the " + name + " stage failed");
  StageRun run;
  run.result = read_json(result_path);
  std::fprintf(stderr, "bench_retrieval: %s done: %s\n", name.c_str(), run.result.dump().c_str());
  run.peak_rss_mb = ru.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
  run.cpu_seconds = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::fprintf(stderr, "bench_retrieval: %s: peak RSS %.0f MB, CPU %.0f s\n", name.c_str(), run.peak_rss_mb,
               run.cpu_seconds);
  run.result["peak_rss_mb"] = run.peak_rss_mb;
  run.result["cpu_seconds"] = run.cpu_seconds;
  write_json_atomic(result_path, run.result);
  return run;
}

double size_on_disk_mb(const fs::path& p) {
  uintmax_t bytes = 0;
  if (fs::is_regular_file(p)) return fs::file_size(p) / 1048576.0;
  for (auto& e : fs::recursive_directory_iterator(p))
    if (e.is_regular_file()) bytes += e.file_size();
  return bytes / 1048576.0;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) return line.substr(line.find(':') + 2);
  return "unknown";
}

// ---- recall

// Share (percent) of queries whose passage is in the top k of `ranked` (passage numbers, best first).
double recall_at(const std::vector<std::vector<uint64_t>>& ranked, const std::vector<WikiQuery>& qs, size_t k) {
  if (qs.empty()) return 0;
  size_t found = 0;
  for (size_t i = 0; i < qs.size(); ++i)
    for (size_t j = 0; j < ranked[i].size() && j < k; ++j) found += ranked[i][j] == qs[i].passage;
  return 100.0 * found / qs.size();
}

void recall_fields(nlohmann::json& j, const std::string& prefix, const std::vector<std::vector<uint64_t>>& ranked,
                   const std::vector<WikiQuery>& qs) {
  for (size_t k : {1, 4, 10}) j[prefix + "recall@" + std::to_string(k)] = recall_at(ranked, qs, k);
}

std::vector<std::vector<uint64_t>> steper_ranked(Retriever& r, const std::vector<std::string>& queries, int k) {
  auto res = r.search_batch(queries, k);
  std::vector<std::vector<uint64_t>> out(res.size());
  for (size_t i = 0; i < res.size(); ++i)
    for (auto& sp : res[i]) out[i].push_back(std::stoull(sp.passage.id.substr(1)));  // ids are w<i>
  return out;
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Times one pass of `run` over `n` queries: queries per second of wall time and per second of this
// process's CPU time (on one thread the latter does not count time lost to other processes on a
// shared machine).
struct QueryRate {
  double per_s = 0, per_cpu_s = 0;
};
QueryRate queries_per_s(size_t n, const std::function<void()>& run) {
  auto t0 = std::chrono::steady_clock::now();
  double c0 = process_cpu_seconds();
  run();
  double s = seconds_since(t0), c = process_cpu_seconds() - c0;
  return {s > 0 ? n / s : 0, c > 0 ? n / c : 0};
}

}  // namespace

// The table: one column an engine measured.
void scale_print(const nlohmann::json& result) {
  std::vector<std::pair<std::string, std::string>> cols;  // key, heading
  for (auto [key, head] : {std::pair<const char*, const char*>{"native", "steper native"}, {"xapian", "steper xapian"},
                           {"sqlite_fts5", "sqlite fts5"}})
    if (result.contains(key)) cols.emplace_back(key, head);
  std::printf("%llu passages, %zu queries (%zu on FTS5), %d threads, %s\n",
              static_cast<unsigned long long>(result["passages"].get<uint64_t>()), result["queries"].get<size_t>(),
              result["fts5_queries"].get<size_t>(), result["threads"].get<int>(), result["cpu"].get<std::string>().c_str());
  std::printf("%-34s", "");
  for (auto& c : cols) std::printf(" %14s", c.second.c_str());
  std::printf("\n");
  const char* const rows[][3] = {{"index time (s)", "index_seconds", "%.0f"},
                                 {"  of which generating passages (s)", "index_generating_seconds", "%.0f"},
                                 {"index CPU time, all threads (s)", "index_cpu_seconds", "%.0f"},
                                 {"index CPU a passage (ms)", "index_cpu_ms_per_passage", "%.3f"},
                                 {"index passages/s", "index_passages_per_s", "%.0f"},
                                 {"index peak RSS (MB)", "index_peak_rss_mb", "%.0f"},
                                 {"index size on disk (MB)", "index_size_mb", "%.0f"},
                                 {"search process peak RSS (MB)", "search_peak_rss_mb", "%.0f"},
                                 {"queries/s k=4, 1 thread", "queries_per_s_k4_1_thread", "%.1f"},
                                 {"queries/CPU-s k=4, 1 thread", "queries_per_cpu_s_k4_1_thread", "%.1f"},
                                 {"queries/s k=4, all threads", "queries_per_s_k4_all_threads", "%.1f"},
                                 {"recall@1 (%)", "recall@1", "%.2f"},
                                 {"recall@4 (%)", "recall@4", "%.2f"},
                                 {"recall@10 (%)", "recall@10", "%.2f"},
                                 {"recall@1, all queries (%)", "all_queries_recall@1", "%.2f"},
                                 {"recall@4, all queries (%)", "all_queries_recall@4", "%.2f"},
                                 {"recall@10, all queries (%)", "all_queries_recall@10", "%.2f"}};
  for (const auto& r : rows) {
    std::printf("%-34s", r[0]);
    for (auto& c : cols) {
      char cell[64] = "-";  // "-": not measured for this engine, or a stage reused from an older run
      const auto& e = result[c.first];
      if (e.contains(r[1])) std::snprintf(cell, sizeof cell, r[2], e[r[1]].get<double>());
      std::printf(" %14s", cell);
    }
    std::printf("\n");
  }
}

// The steper engines a run may measure: the native index and Xapian databases, same analyzer and BM25.
struct SteperEngine {
  const char* name;  // as --engines names it, and the result's key
  IndexBackend backend;
};
const SteperEngine kSteperEngines[] = {{"native", IndexBackend::native}, {"xapian", IndexBackend::xapian}};

std::vector<std::string> engines_parse(const std::string& list) {
  std::vector<std::string> out;
  for (size_t b = 0, e; b <= list.size(); b = e + 1) {
    e = list.find(',', b);
    if (e == std::string::npos) e = list.size();
    std::string name = list.substr(b, e - b);
    if (name != "native" && name != "xapian" && name != "fts5")
      throw Error("--engines: unknown engine \"" + name + "\" (native, xapian, fts5)");
    out.push_back(name);
  }
  return out;
}

int scale_main(int argc, char** argv) {
  const uint64_t n = static_cast<uint64_t>(arg_int(argc, argv, "--passages", 100000));
  const size_t n_queries = static_cast<size_t>(arg_int(argc, argv, "--queries", 5000));
  const size_t n_fts5 = std::min(n_queries, static_cast<size_t>(arg_int(argc, argv, "--fts5-queries", 500)));
  const size_t n_single = std::min(n_queries, static_cast<size_t>(arg_int(argc, argv, "--single-queries", 2000)));
  // FTS5 scores every passage that has a query word: at millions of passages a query takes seconds,
  // so its queries/s come from the first few of its recall queries.
  const size_t n_fts5_timed = std::min(n_fts5, static_cast<size_t>(arg_int(argc, argv, "--fts5-timed-queries", 50)));
  const bool reuse = arg_flag(argc, argv, "--reuse");
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = static_cast<int>(arg_int(argc, argv, "--threads", hw));
  const int shards = static_cast<int>(arg_int(argc, argv, "--shards", 0));
  const int memory_mb = static_cast<int>(arg_int(argc, argv, "--memory-mb", 1024));
  const uint64_t seed = static_cast<uint64_t>(arg_int(argc, argv, "--seed", 1));
  const fs::path dir = arg_str(argc, argv, "--dir", (fs::temp_directory_path() / "steper_bench_scale").string());
  const std::string out_path = arg_str(argc, argv, "--out", "bench_retrieval_scale.json");
  const std::vector<std::string> engines = engines_parse(arg_str(argc, argv, "--engines", "native,xapian,fts5"));
  auto wanted = [&](const std::string& e) { return std::find(engines.begin(), engines.end(), e) != engines.end(); };
  if (n < 100 || n_queries < 1 || threads < 1)
    throw Error("--passages must be at least 100, --queries and --threads at least 1");
  if (!reuse) fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string fts5_path = (dir / "fts5.db").string();
  const WikiCorpus corpus(n, seed);
  std::fprintf(stderr, "bench_retrieval: %llu generated passages, %zu queries (%zu for FTS5), %d threads, in %s\n",
               static_cast<unsigned long long>(n), n_queries, n_fts5, threads, dir.c_str());

  // Queries: question-like, cleaned as IRCoT cleans a question; the first n_fts5 are also run on FTS5.
  std::vector<WikiQuery> qs;
  std::vector<std::string> texts;
  for (size_t q = 0; q < n_queries; ++q) {
    qs.push_back(corpus.wiki_query(q));
    texts.push_back(ircot_clean_query(qs.back().text));
  }
  const std::vector<WikiQuery> qs_f(qs.begin(), qs.begin() + n_fts5);
  const std::vector<std::string> texts_f(texts.begin(), texts.begin() + n_fts5);
  const std::vector<std::string> texts_1(texts.begin(), texts.begin() + n_single);
  const std::vector<std::string> warm(texts.begin(), texts.begin() + std::min<size_t>(200, texts.size()));

  auto side = [&](const StageRun& index, const StageRun& search, const fs::path& files) {
    nlohmann::json j = search.result;
    j["index_seconds"] = index.result["seconds"];
    j["index_generating_seconds"] = index.result["generating_seconds"];
    j["index_passages_per_s"] = n / index.result["seconds"].get<double>();
    j["index_peak_rss_mb"] = index.peak_rss_mb;
    j["index_cpu_seconds"] = index.cpu_seconds;
    j["index_cpu_ms_per_passage"] = 1000.0 * index.cpu_seconds / n;
    j["search_peak_rss_mb"] = search.peak_rss_mb;
    j["index_size_mb"] = size_on_disk_mb(files);
    // Say so when a stage's figures come from an earlier run of the same corpus (--reuse).
    if (index.reused || search.reused) j["reused_from_an_earlier_run"] = {{"index", index.reused}, {"search", search.reused}};
    for (const char* key : {"shards", "flush_passages", "runs"})
      if (index.result.contains(key)) j[key] = index.result[key];
    return j;
  };
  nlohmann::json result = {
      {"corpus", "generated Wikipedia-like first paragraphs (bench/retrieval/wiki_corpus.h)"},
      {"passages", n},
      {"queries", n_queries},
      {"fts5_queries", n_fts5},
      {"fts5_timed_queries", n_fts5_timed},
      {"single_thread_queries", n_single},
      {"threads", threads},
      {"hardware_threads", hw},
      {"cpu", cpu_model()},
      {"engines", engines},
      {"recall", "percent of queries whose source passage is in the top k; every engine on the first fts5_queries"},
  };

  // Each steper engine: indexing and searching, each in its own process, the corpus generated as it is read.
  for (const SteperEngine& e : kSteperEngines) {
    if (!wanted(e.name)) continue;
    const std::string name = e.name, index_dir = (dir / name).string();
    StageRun index = stage_run(name + " index", (dir / (name + "_index.json")).string(), reuse, [&] {
      IndexOptions o;
      o.backend = e.backend;
      o.threads = threads;
      o.shards = shards;
      o.memory_mb = memory_mb;
      o.servable = e.backend == IndexBackend::xapian && arg_flag(argc, argv, "--servable");
      o.expected_passages = n;
      double gen_s = 0;
      uint64_t next = 0;
      IndexStats st = bm25_build_index_stream(
          [&](std::vector<Passage>& batch) {
            auto t0 = std::chrono::steady_clock::now();
            batch.clear();
            for (; next < n && batch.size() < 2048; ++next) batch.push_back(corpus.wiki_passage(next));
            gen_s += seconds_since(t0);
            return !batch.empty();
          },
          index_dir, o);
      return nlohmann::json{{"seconds", st.seconds}, {"generating_seconds", gen_s}, {"passages", st.passages},
                            {"shards", st.shards},   {"flush_passages", st.flush_passages}, {"runs", st.runs}};
    });
    StageRun search = stage_run(name + " search", (dir / (name + "_search.json")).string(), reuse, [&] {
      nlohmann::json j;
      auto all = bm25_open_index(index_dir, threads);
      auto one = bm25_open_index(index_dir, 1);
      // One untimed pass over every query first, so each engine is timed with the index pages it reads
      // in memory (a memory-mapped index pays for its first touch of a page once; Xapian reads each time).
      all->search_batch(texts, 4);
      QueryRate single = queries_per_s(texts_1.size(), [&] { one->search_batch(texts_1, 4); });
      j["queries_per_s_k4_1_thread"] = single.per_s;
      j["queries_per_cpu_s_k4_1_thread"] = single.per_cpu_s;
      QueryRate many = queries_per_s(texts.size(), [&] { all->search_batch(texts, 4); });
      j["queries_per_s_k4_all_threads"] = many.per_s;
      // Cores the search had on all threads (CPU time over wall time): below `threads` when the machine
      // is shared or the search waits (on disk, on a lock).
      j["cores_used_all_threads"] = many.per_cpu_s > 0 ? many.per_s / many.per_cpu_s : 0;
      auto ranked = steper_ranked(*all, texts, 10);
      recall_fields(j, "all_queries_", ranked, qs);
      ranked.resize(n_fts5);
      recall_fields(j, "", ranked, qs_f);
      return j;
    });
    result[name] = side(index, search, index_dir);
  }
  if (wanted("fts5")) {
    StageRun f_index = stage_run("fts5 index", (dir / "f_index.json").string(), reuse, [&] {
      auto t0 = std::chrono::steady_clock::now();
      double gen_s = 0;
      Fts5Writer w(fts5_path);
      Progress progress("fts5 index", n, "passages");
      for (uint64_t i = 0; i < n; ++i) {
        auto g0 = std::chrono::steady_clock::now();
        Passage p = corpus.wiki_passage(i);
        gen_s += seconds_since(g0);
        w.fts5_add(p.title, p.text);
        progress.add();
      }
      w.fts5_finish();
      progress.finish();
      return nlohmann::json{{"seconds", seconds_since(t0)}, {"generating_seconds", gen_s}};
    });
    StageRun f_search = stage_run("fts5 search", (dir / "f_search.json").string(), reuse, [&] {
      nlohmann::json j;
      fts5_search(fts5_path, std::vector<std::string>(warm.begin(), warm.begin() + std::min<size_t>(20, warm.size())),
                  4, threads);
      const std::vector<std::string> timed(texts_f.begin(), texts_f.begin() + n_fts5_timed);
      QueryRate single = queries_per_s(timed.size(), [&] { fts5_search(fts5_path, timed, 4, 1); });
      j["queries_per_s_k4_1_thread"] = single.per_s;
      j["queries_per_cpu_s_k4_1_thread"] = single.per_cpu_s;
      j["queries_per_s_k4_all_threads"] =
          queries_per_s(timed.size(), [&] { fts5_search(fts5_path, timed, 4, threads); }).per_s;
      auto rows = fts5_search(fts5_path, texts_f, 10, threads);
      std::vector<std::vector<uint64_t>> ranked(rows.size());
      for (size_t i = 0; i < rows.size(); ++i)
        for (int64_t r : rows[i]) ranked[i].push_back(static_cast<uint64_t>(r - 1));
      recall_fields(j, "", ranked, qs_f);
      return j;
    });
    result["sqlite_fts5"] = side(f_index, f_search, fts5_path);
  }
  if (!arg_flag(argc, argv, "--keep") && !reuse) fs::remove_all(dir);
  scale_print(result);
  write_json_atomic(out_path, result);
  std::printf("wrote %s\n", out_path.c_str());
  return 0;
}

}  // namespace steper
