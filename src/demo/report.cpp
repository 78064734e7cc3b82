#include "demo/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <tuple>

#include "core/error.h"
#include "core/io.h"
#include "core/plot.h"
#include "eval/bootstrap.h"
#include "demo/demo.h"
#include "demo/stage.h"

namespace steper {

namespace fs = std::filesystem;
using nlohmann::json;

static const char* kModes[] = {"multi", "single", "none"};

// ---- statistics

// ---- reading the run

namespace {

struct SystemMode {
  json metrics;                          // metrics.json ({} when missing)
  std::map<std::string, json> by_id;     // predictions by question id
  std::vector<std::string> order;        // question ids in file order
};

SystemMode read_eval(const std::string& dir) {
  SystemMode sm;
  if (fs::exists(dir + "/metrics.json")) sm.metrics = read_json(dir + "/metrics.json");
  if (fs::exists(dir + "/predictions.jsonl"))
    for_each_jsonl(dir + "/predictions.jsonl", [&](const json& j, size_t) {
      std::string id = j.value("id", "");
      sm.order.push_back(id);
      sm.by_id[id] = j;
    });
  return sm;
}

std::string fmt(double v, int prec = 1) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::string with_ci(const json& m, const char* key) {
  if (!m.contains(key)) return "-";
  std::string s = fmt(m.value(key, 0.0));
  std::string ci = std::string(key) + "_ci";
  if (m.contains(ci) && m[ci].is_array() && m[ci].size() == 2)
    s += " [" + fmt(m[ci][0].get<double>()) + ", " + fmt(m[ci][1].get<double>()) + "]";
  return s;
}

std::vector<json> read_metrics_lines(const std::string& path) {
  std::vector<json> out;
  if (fs::exists(path)) for_each_jsonl(path, [&](const json& j, size_t) { out.push_back(j); });
  return out;
}

std::string md_escape(const std::string& s) {
  std::string o;
  for (char ch : s) {
    if (ch == '|') o += "\\|";
    else if (ch == '\n') o += " ";
    else o += ch;
  }
  return o;
}

// Markdown table -> HTML table (the report writes its tables once, as Markdown).
std::string md_table_to_html(const std::string& md) {
  std::istringstream in(md);
  std::string line, html = "<table>\n";
  int row = 0;
  while (std::getline(in, line)) {
    if (line.size() < 2 || line[0] != '|') continue;
    if (line.find("---") != std::string::npos && row == 1) continue;
    std::vector<std::string> cells;
    std::string cell;
    for (size_t i = 1; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
        cell += '|';
        ++i;
      } else if (line[i] == '|') {
        cells.push_back(cell);
        cell.clear();
      } else {
        cell += line[i];
      }
    }
    html += "<tr>";
    for (auto& c : cells) {
      size_t a = c.find_first_not_of(' '), b = c.find_last_not_of(' ');
      std::string t = a == std::string::npos ? "" : c.substr(a, b - a + 1);
      html += row == 0 ? "<th>" + xml_escape(t) + "</th>" : "<td>" + xml_escape(t) + "</td>";
    }
    html += "</tr>\n";
    ++row;
  }
  return html + "</table>\n";
}

// StepER against vanilla KD on multi-step EM, paired over the questions both answered: the sentence the
// report states, and its figures in `summary` (nothing when they were not both evaluated).
// The first test questions where StepER and vanilla KD differ, then others (four in all), each with
// every system's multi-step reasoning side by side.
std::string example_traces(const std::map<std::string, SystemMode>& multi, const std::vector<std::string>& systems) {
  if (!multi.count("steper")) return "";
  const SystemMode& st = multi.at("steper");
  const SystemMode* vanilla = multi.count("vanilla") ? &multi.at("vanilla") : nullptr;
  std::vector<std::string> ids;
  for (const auto& id : st.order) {
    if (ids.size() >= 3 || !vanilla) break;
    auto v = vanilla->by_id.find(id);
    if (v != vanilla->by_id.end() && st.by_id.at(id).value("em", 0.0) != v->second.value("em", 0.0)) ids.push_back(id);
  }
  for (const auto& id : st.order) {
    if (ids.size() >= 4) break;
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  std::string md;
  for (const auto& id : ids) {
    const json& q = st.by_id.at(id);
    md += "**" + md_escape(q.value("question", "")) + "** (gold: " +
          md_escape(q.contains("answers") && !q["answers"].empty() ? q["answers"][0].get<std::string>() : "") +
          ")\n\n| system | reasoning (multi-step) | EM |\n|---|---|---|\n";
    for (const auto& s : systems) {
      auto sm = multi.find(s);
      if (sm == multi.end()) continue;
      auto it = sm->second.by_id.find(id);
      if (it == sm->second.by_id.end()) continue;
      std::string chain;
      for (const auto& stp : it->second.value("steps", json::array())) chain += stp.value("sentence", "") + " ";
      std::replace(chain.begin(), chain.end(), '\n', ' ');  // a Self-Ask step is two lines
      if (chain.size() > 400) chain = chain.substr(0, 400) + "...";  // degenerate repetition, cut for reading
      md += "| " + s + " | " + md_escape(chain) + " | " + fmt(it->second.value("em", 0.0), 0) + " |\n";
    }
    md += "\n";
  }
  return md;
}

// "a / b / c" of a metrics.json's per-hop EM, in hop order.
std::string hops_em(const json& mt) {
  if (!mt.contains("by_hops")) return "-";
  std::vector<std::pair<int, double>> hops;
  for (auto it = mt["by_hops"].begin(); it != mt["by_hops"].end(); ++it)
    hops.push_back({std::atoi(it.key().c_str()), it.value().value("em", 0.0)});
  std::sort(hops.begin(), hops.end());
  std::string out;
  for (const auto& [h, em] : hops) out += (out.empty() ? "" : " / ") + fmt(em);
  return out;
}

// ---- training runs

// What a system's runs scored: each run's EM, their mean and spread, the two-level interval, EM by hops.
struct RunStats {
  std::vector<double> em;     // each run's EM
  double mean = NAN, sd = NAN, lo = NAN, hi = NAN;  // sd over runs (n - 1); the interval resamples both levels
  std::map<std::string, double> hops;  // mean over runs of each hop count's EM
};

// One objective's training runs under one framework, each run's multi-step evaluation (runs that were not
// evaluated are left out). The teacher and the base are one "run" each.
struct Runs {
  std::string system;
  std::vector<SystemMode> runs;
  RunStats stats;  // of the runs, computed once when they are read
  bool empty() const { return runs.empty(); }
};

// Each run's EM (0 or 100) on the questions that every run of a and of b answered, in a's first run's order
// (b empty: a's runs alone).
std::pair<RunScores, RunScores> run_scores(const Runs& a, const Runs& b) {
  std::vector<std::string> ids;
  if (a.empty()) return {};
  for (const auto& id : a.runs[0].order) {
    bool everywhere = true;
    for (const Runs* rs : {&a, &b})
      for (const auto& sm : rs->runs) everywhere = everywhere && sm.by_id.count(id);
    if (everywhere) ids.push_back(id);
  }
  auto scores = [&](const Runs& rs) {
    RunScores out;
    for (const auto& sm : rs.runs) {
      std::vector<double> v;
      for (const auto& id : ids) v.push_back(100.0 * sm.by_id.at(id).value("em", 0.0));
      out.push_back(std::move(v));
    }
    return out;
  };
  return {scores(a), scores(b)};
}

RunStats run_stats(const Runs& r) {
  RunStats s;
  if (r.empty()) return s;
  for (const auto& sm : r.runs) {
    s.em.push_back(sm.metrics.value("em", 0.0));
    if (sm.metrics.contains("by_hops"))
      for (auto it = sm.metrics["by_hops"].begin(); it != sm.metrics["by_hops"].end(); ++it)
        s.hops[it.key()] += it.value().value("em", 0.0) / static_cast<double>(r.runs.size());
  }
  double sum = 0;
  for (double v : s.em) sum += v;
  s.mean = sum / static_cast<double>(s.em.size());
  if (s.em.size() > 1) {
    double sq = 0;
    for (double v : s.em) sq += (v - s.mean) * (v - s.mean);
    s.sd = std::sqrt(sq / static_cast<double>(s.em.size() - 1));
  }
  std::tie(s.lo, s.hi) = percentile_interval(two_level_draws(run_scores(r, {}).first, {}, 2000, 11));
  return s;
}

Runs read_runs(const ReportInputs& in, const std::string& eval_dir, const std::string& system, bool trained) {
  Runs r{system, {}, {}};
  const int n = trained ? std::max(1, in.runs) : 1;
  for (int run = 1; run <= n; ++run) {
    SystemMode sm = read_eval(in.out_dir + "/" + eval_dir + "/" + demo_run_name(system, run) + "/multi");
    if (!sm.metrics.empty()) r.runs.push_back(std::move(sm));
  }
  r.stats = run_stats(r);
  return r;
}

std::string shown_name(const std::string& system) {
  if (system == "steper") return "StepER";
  if (system == "vanilla") return "vanilla KD";
  if (system == "uniform") return "StepER-uniform";
  if (system == "balanced") return "StepER-balanced";
  if (system == "tied") return "StepER-tied";
  return system;
}

// a - b on multi-step EM with the two-level interval (the paired bootstrap over questions when each has one
// run); its figures into `figures` ({} when they were not both evaluated).
PairedDifference run_difference(const Runs& a, const Runs& b, json& figures) {
  if (a.empty() || b.empty()) return {};
  auto [sa, sb] = run_scores(a, b);
  PairedDifference d = two_level_difference(sa, sb, 2000, 7);
  const char* word = d.lo > 0 ? "beats" : (d.hi < 0 ? "loses to" : "does not clearly beat");
  figures = json{{"em_diff", d.mean}, {"ci", {d.lo, d.hi}}, {"n", d.n}, {"runs", {d.runs_a, d.runs_b}}, {"verdict", word}};
  return d;
}

// The sentence the report states for StepER against vanilla KD (or another objective) under a framework.
std::string verdict_sentence(const Runs& a, const Runs& b, const std::string& under, json& figures) {
  const std::string an = shown_name(a.system), bn = shown_name(b.system);
  PairedDifference d = run_difference(a, b, figures);
  if (figures.empty()) return an + " and " + bn + " were not both evaluated" + under + ", so they cannot be compared.";
  const std::string word = figures["verdict"];
  char buf[640];
  if (d.runs_a == 1 && d.runs_b == 1) {
    std::snprintf(buf, sizeof buf,
                  "%s %s %s on multi-step EM%s: %+.1f points (paired bootstrap 95%% CI [%+.1f, %+.1f], %zu test "
                  "questions; %s %.1f vs %s %.1f). One training run each: the interval covers the test questions "
                  "only, not the spread between training runs (`steper demo --seeds 3` measures both; the README "
                  "gives that run's figures).",
                  an.c_str(), word.c_str(), bn.c_str(), under.c_str(), d.mean, d.lo, d.hi, d.n, an.c_str(),
                  a.stats.mean, bn.c_str(), b.stats.mean);
  } else {
    std::snprintf(buf, sizeof buf,
                  "%s %s %s on multi-step EM%s: %+.1f points (two-level bootstrap 95%% CI [%+.1f, %+.1f], resampling "
                  "%zu and %zu training runs and %zu test questions; means over runs: %s %.1f vs %s %.1f).",
                  an.c_str(), word.c_str(), bn.c_str(), under.c_str(), d.mean, d.lo, d.hi, d.runs_a, d.runs_b, d.n,
                  an.c_str(), a.stats.mean, bn.c_str(), b.stats.mean);
  }
  return buf;
}

// ---- sections

struct Section {
  std::string title, md, html_extra;
};

// What one framework's systems read: the teacher, the base and each objective's runs, in table order.
struct Framework {
  std::string name, under, eval_dir;  // "IRCoT", "" or " under Self-Ask", "eval" or "eval-self-ask"
  std::vector<Runs> systems;
  const Runs* find(const std::string& system) const {
    for (const auto& r : systems)
      if (r.system == system && !r.empty()) return &r;
    return nullptr;
  }
};

Framework read_framework(const ReportInputs& in, const std::string& name, const std::string& under,
                         const std::string& eval_dir, const std::vector<std::string>& systems,
                         const std::vector<std::string>& objectives) {
  Framework f{name, under, eval_dir, {}};
  for (const auto& s : systems)
    f.systems.push_back(read_runs(in, eval_dir, s, std::find(objectives.begin(), objectives.end(), s) != objectives.end()));
  return f;
}

std::string or_dash(double v, int prec = 1) { return std::isfinite(v) ? fmt(v, prec) : "-"; }

// Each system's EM run by run, their mean and spread, the interval over runs and questions, the share of
// the teacher's EM and the mean EM by hop count; then every objective against StepER.
std::string runs_table(const Framework& f, int runs, json& summary) {
  std::string md = "**" + f.name + "** (multi-step EM):\n\n| system |";
  for (int r = 1; r <= runs; ++r) md += " run " + std::to_string(r) + " |";
  md += " mean | sd | 95% CI (runs and questions) | of teacher | EM by hops (mean) |\n|---|";
  for (int r = 0; r < runs + 5; ++r) md += "---|";
  md += "\n";
  const Runs* teacher = f.find("teacher");
  const double teacher_em = teacher ? teacher->stats.mean : NAN;
  for (const auto& r : f.systems) {
    if (r.empty()) continue;
    const RunStats& st = r.stats;
    md += "| " + r.system + " |";
    for (int i = 0; i < runs; ++i) md += " " + (i < static_cast<int>(st.em.size()) ? fmt(st.em[static_cast<size_t>(i)]) : "-") + " |";
    std::string hops;
    for (const auto& [h, em] : st.hops) hops += (hops.empty() ? "" : " / ") + fmt(em);
    md += " " + fmt(st.mean) + " | " + or_dash(st.sd) + " | [" + fmt(st.lo) + ", " + fmt(st.hi) + "] | " +
          (teacher_em > 0 ? fmt(st.mean / teacher_em, 2) : "-") + " | " + (hops.empty() ? "-" : hops) + " |\n";
    summary[r.system] = json{{"em_runs", st.em}, {"mean", st.mean}, {"sd", std::isfinite(st.sd) ? json(st.sd) : json()},
                             {"ci", {st.lo, st.hi}}, {"hops", st.hops}};
    if (teacher_em > 0) summary[r.system]["of_teacher"] = st.mean / teacher_em;
  }
  return md;
}

// Every objective against StepER, and the steps that take StepER's weighting apart (where their students ran):
// uniform -> balanced (one mean a task instead of one over all examples), balanced -> tied (StepER's learned
// overall scale), tied -> steper (the learned relative weights).
std::string comparisons_table(const Framework& f, json& summary) {
  struct Pair { std::string a, b, isolates; };
  std::vector<Pair> pairs;
  for (const std::string b : {"vanilla", "uniform"}) pairs.push_back({"steper", b, "the whole objective"});
  pairs.push_back({"balanced", "uniform", "task balancing: each task's token mean weighted equally"});
  pairs.push_back({"steper", "balanced", "learned sigmas: StepER's scale and relative weights together"});
  pairs.push_back({"tied", "balanced", "StepER's overall scale (one learned sigma)"});
  pairs.push_back({"steper", "tied", "the learned relative task weights"});
  std::string md = "| comparison | what it isolates | runs | EM difference [95% CI] | verdict |\n|---|---|---|---|---|\n";
  bool uneven = false;
  int rows = 0;
  for (const auto& p : pairs) {
    const Runs *a = f.find(p.a), *b = f.find(p.b);
    if (!a || !b) continue;
    json figures;
    PairedDifference d = run_difference(*a, *b, figures);
    char cell[96];
    std::snprintf(cell, sizeof cell, "%+.1f [%+.1f, %+.1f]", d.mean, d.lo, d.hi);
    md += "| " + p.a + " - " + p.b + " | " + p.isolates + " | " + std::to_string(d.runs_a) + " vs " +
          std::to_string(d.runs_b) + " | " + cell + " | " + figures["verdict"].get<std::string>() + " |\n";
    uneven = uneven || d.runs_a == 1 || d.runs_b == 1;
    summary[p.a + "-" + p.b] = figures;
    ++rows;
  }
  if (uneven)
    md += "\nWhere a side has one run, its spread between training runs is not measured and the interval leaves it "
          "out: read such a row as a single run's result.\n";
  return rows == 0 ? "" : md;
}

// The picture the report opens with: each system's multi-step EM under each framework, the mean over runs
// with its two-level interval and every run as a dot.
std::string runs_plot(const std::vector<const Framework*>& frameworks, const std::string& path) {
  std::vector<std::string> categories;
  for (const Framework* f : frameworks)
    for (const auto& r : f->systems)
      if (!r.empty() && std::find(categories.begin(), categories.end(), r.system) == categories.end())
        categories.push_back(r.system);
  std::vector<CategorySeries> series;
  for (const Framework* f : frameworks) {
    CategorySeries cs;
    cs.name = f->name;
    for (const auto& c : categories) {
      CategoryPoint p;
      if (const Runs* r = f->find(c)) {
        const RunStats& st = r->stats;
        p.value = st.mean;
        p.lo = st.lo;
        p.hi = st.hi;
        p.dots = st.em;
      }
      cs.points.push_back(p);
    }
    series.push_back(cs);
  }
  PlotOptions po;
  po.title = "Multi-step EM on held-out test questions";
  po.x_label = "bar: mean over runs with its 95% interval (runs and questions); dots: each run";
  po.y_label = "EM (%)";
  po.width = 760;
  std::string svg = plot_categories_svg(categories, series, po);
  write_file_atomic(path, svg);
  return svg;
}

Section section_runs(const ReportInputs& in, const Framework& ircot, const Framework* self_ask, json& summary) {
  std::string md = "![multi-step EM by system](plots/em_by_system.svg)\n\n";
  std::vector<const Framework*> all = {&ircot};
  if (self_ask) all.push_back(self_ask);
  std::string svg = runs_plot(all, in.out_dir + "/plots/em_by_system.svg");
  md += (in.runs > 1 ? "Up to " + std::to_string(in.runs) + " training runs" : std::string("One training run")) +
        " of each objective (run r trains with data-order seed --seed + r - 1); the teacher and the base are not trained here (one run each). sd is the standard "
        "deviation of EM between runs; the interval resamples the runs and the test questions (two-level bootstrap).\n\n";
  for (const Framework* f : all) {
    json& fs = summary["across_runs"][f->name];
    md += runs_table(*f, std::max(1, in.runs), fs) + "\n";
    std::string cmp = comparisons_table(*f, summary["comparisons"][f->name]);
    if (!cmp.empty()) md += "Against each other, " + f->name + ":\n\n" + cmp + "\n";
  }
  return {"Across training runs", md, svg};
}

// Every system in every mode (run 1 of each objective).
Section section_results(const ReportInputs& in, std::map<std::string, std::map<std::string, SystemMode>>& ev,
                        json& summary) {
  std::string md = in.runs > 1 ? "Run 1 of each objective.\n\n" : "";
  md += "| system | retrieval | n | EM [95% CI] | F1 [95% CI] | Acc [95% CI] | answered % | steps |\n"
        "|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : in.systems)
    for (const char* m : kModes) {
      const json& mt = ev[s][m].metrics;
      if (mt.empty()) continue;
      md += "| " + s + " | " + m + " | " + std::to_string(mt.value("n", 0)) + " | " + with_ci(mt, "em") + " | " +
            with_ci(mt, "f1") + " | " + with_ci(mt, "acc") + " | " + fmt(mt.value("answered", 0.0)) + " | " +
            fmt(mt.value("steps", 0.0), 2) + " |\n";
      summary["results"][s][m] = json{{"em", mt.value("em", 0.0)}, {"f1", mt.value("f1", 0.0)},
                                      {"acc", mt.value("acc", 0.0)}, {"n", mt.value("n", 0)}};
    }
  return {"Results on held-out test questions", md, ""};
}

Section section_self_ask(const ReportInputs& in, std::map<std::string, std::map<std::string, SystemMode>>& ev,
                         const std::map<std::string, SystemMode>& sa, const std::string& verdict, json& summary) {
  std::string md = verdict + "\n\nThe Self-Ask students are distilled from the same base with the same "
                   "token budget, on the gold Self-Ask teacher's traces of the same training questions (follow-up "
                   "questions from each hop's relation, intermediate answers from the passages their follow-up "
                   "retrieved)." + std::string(in.runs > 1 ? " Run 1 of each objective." : "") +
                   "\n\n| system | IRCoT EM [95% CI] | Self-Ask EM [95% CI] | IRCoT EM by hops | "
                   "Self-Ask EM by hops |\n|---|---|---|---|---|\n";
  for (const auto& s : in.self_ask_systems) {
    const json& ir = ev.count(s) ? ev[s]["multi"].metrics : json::object();
    auto it = sa.find(s);
    if (it == sa.end() || it->second.metrics.empty()) continue;
    const json& mt = it->second.metrics;
    md += "| " + s + " | " + with_ci(ir, "em") + " | " + with_ci(mt, "em") + " | " + hops_em(ir) + " | " +
          hops_em(mt) + " |\n";
    summary["self_ask"]["results"][s]["multi"] = json{{"em", mt.value("em", 0.0)}, {"f1", mt.value("f1", 0.0)},
                                                       {"acc", mt.value("acc", 0.0)}, {"n", mt.value("n", 0)}};
  }
  json info = stage_info(in.out_dir + "/traces-world-self-ask");
  if (!info.empty())
    md += "\nThe gold Self-Ask teacher kept " + std::to_string(info.value("kept", 0)) + " of " +
          std::to_string(info.value("finished", 0)) + " training traces (the IRCoT teacher " +
          std::to_string(stage_info(in.out_dir + "/traces-world").value("kept", 0)) + ").\n";
  return {"IRCoT and Self-Ask side by side", md, ""};
}

// Per-hop EM (hop counts are categories: the mean over runs, each run a dot) and per-type EM (run 1).
Section section_hops(const ReportInputs& in, const Framework& ircot,
                     std::map<std::string, std::map<std::string, SystemMode>>& ev) {
  std::vector<std::string> keys;
  for (const auto& r : ircot.systems)
    for (const auto& sm : r.runs)
      if (sm.metrics.contains("by_hops"))
        for (auto it = sm.metrics["by_hops"].begin(); it != sm.metrics["by_hops"].end(); ++it)
          if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end(), [](const std::string& a, const std::string& b) { return std::atoi(a.c_str()) < std::atoi(b.c_str()); });
  std::string md = std::string(in.runs > 1 ? "Means over runs.\n\n" : "") + "| system |";
  for (const auto& k : keys) md += " " + k + "-hop EM (n) |";
  md += "\n|---|";
  for (size_t i = 0; i < keys.size(); ++i) md += "---|";
  md += "\n";
  std::vector<std::string> categories;
  for (const auto& k : keys) categories.push_back(k + " hops");
  std::vector<CategorySeries> series;
  for (const auto& r : ircot.systems) {
    if (r.empty()) continue;
    md += "| " + r.system + " |";
    CategorySeries cs;
    cs.name = r.system;
    for (const auto& k : keys) {
      CategoryPoint p;
      double sum = 0;
      int n = 0, questions = 0;
      for (const auto& sm : r.runs) {
        if (!sm.metrics.contains("by_hops") || !sm.metrics["by_hops"].contains(k)) continue;
        const json& h = sm.metrics["by_hops"][k];
        p.dots.push_back(h.value("em", 0.0));
        sum += h.value("em", 0.0);
        questions = h.value("n", 0);
        ++n;
      }
      if (n > 0) p.value = sum / n;
      md += n > 0 ? " " + fmt(p.value) + " (" + std::to_string(questions) + ") |" : " - |";
      if (r.runs.size() < 2) p.dots.clear();
      cs.points.push_back(p);
    }
    md += "\n";
    series.push_back(cs);
  }
  md += "\nBy question type (multi-step EM, run 1):\n\n| system | type | n | EM | F1 |\n|---|---|---|---|---|\n";
  for (const auto& s : in.systems) {
    const json& mt = ev[s]["multi"].metrics;
    if (!mt.contains("by_type")) continue;
    for (auto it = mt["by_type"].begin(); it != mt["by_type"].end(); ++it)
      md += "| " + s + " | " + it.key() + " | " + std::to_string(it.value().value("n", 0)) + " | " +
            fmt(it.value().value("em", 0.0)) + " | " + fmt(it.value().value("f1", 0.0)) + " |\n";
  }
  PlotOptions po;
  po.title = "Multi-step EM by hop count";
  po.y_label = "EM (%)";
  std::string svg = plot_categories_svg(categories, series, po);
  write_file_atomic(in.out_dir + "/plots/em_by_hops.svg", svg);
  return {"By hop count and question type (multi-step)", md + "\n![EM by hops](plots/em_by_hops.svg)\n", svg};
}

// Supporting-passage recall after each step (run 1).
Section section_recall(const ReportInputs& in, std::map<std::string, std::map<std::string, SystemMode>>& ev) {
  std::string md = "Supporting-passage recall (%) after each step, multi-step retrieval:\n\n| system |";
  size_t maxs = 0;
  for (const auto& s : in.systems) {
    const json& mt = ev[s]["multi"].metrics;
    if (mt.contains("recall_by_step")) maxs = std::max(maxs, mt["recall_by_step"].size());
  }
  for (size_t i = 0; i < maxs; ++i) md += " step " + std::to_string(i + 1) + " |";
  md += "\n|---|";
  for (size_t i = 0; i < maxs; ++i) md += "---|";
  md += "\n";
  std::vector<PlotSeries> series;
  for (const auto& s : in.systems) {
    const json& mt = ev[s]["multi"].metrics;
    if (!mt.contains("recall_by_step")) continue;
    md += "| " + s + " |";
    PlotSeries ps;
    ps.name = s;
    for (size_t i = 0; i < maxs; ++i) {
      if (i < mt["recall_by_step"].size() && mt["recall_by_step"][i].is_number()) {
        double v = mt["recall_by_step"][i].get<double>();
        md += " " + fmt(v) + " |";
        ps.x.push_back(static_cast<double>(i + 1));
        ps.y.push_back(v);
      } else {
        md += " - |";
      }
    }
    md += "\n";
    series.push_back(ps);
  }
  PlotOptions po;
  po.title = "Supporting-passage recall by step";
  po.x_label = "step";
  po.y_label = "recall (%)";
  std::string svg = plot_svg(series, po);
  write_file_atomic(in.out_dir + "/plots/recall_by_step.svg", svg);
  return {"Retrieval by step (multi-step)", md + "\n![recall by step](plots/recall_by_step.svg)\n", svg};
}

// A metrics.jsonl column as a series over steps (non-numbers as gaps).
PlotSeries metric_series(const std::vector<json>& lines, const std::string& key, const std::string& name,
                         const std::string& x_key = "step") {
  PlotSeries ps;
  ps.name = name;
  for (const auto& j : lines) {
    ps.x.push_back(j.value(x_key, j.value("step", 0.0)));
    ps.y.push_back(j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN);
  }
  return ps;
}

// The students' folders: (table row, folder) of every objective's every run, IRCoT then Self-Ask.
std::vector<std::pair<std::string, std::string>> student_folders(const ReportInputs& in) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int run = 1; run <= std::max(1, in.runs); ++run) {
    for (const auto& obj : in.objectives) out.push_back({demo_run_name(obj, run), "student-" + demo_run_name(obj, run)});
    for (const auto& obj : in.self_ask_objectives)
      out.push_back({"self-ask " + demo_run_name(obj, run), "student-self-ask-" + demo_run_name(obj, run)});
  }
  return out;
}

// Loss curves, StepER's per-task losses and sigmas per step, every learned sigma at the end, and what each
// student computed.
Section section_training(const ReportInputs& in) {
  const std::string& out = in.out_dir;
  std::string md, svgs;
  const char* tasks[] = {"init", "exp", "agg"};
  std::vector<PlotSeries> loss_series;
  for (const auto& obj : in.objectives) {
    auto lines = read_metrics_lines(out + "/student-" + obj + "/metrics.jsonl");
    if (!lines.empty()) loss_series.push_back(metric_series(lines, "loss_agg", obj, "total_tokens"));
  }
  PlotOptions po;
  po.title = "Aggregation-task loss while distilling (same budget)";
  po.x_label = "tokens";
  po.y_label = "cross-entropy";
  po.log_y = true;
  std::string agg_svg = plot_svg(loss_series, po);
  write_file_atomic(out + "/plots/agg_loss.svg", agg_svg);
  md += "![agg loss](plots/agg_loss.svg)\n\n";
  svgs += agg_svg;
  auto lines = read_metrics_lines(out + "/student-steper/metrics.jsonl");
  if (!lines.empty()) {
    std::vector<PlotSeries> ls, ss;
    for (const char* t : tasks) {
      ls.push_back(metric_series(lines, std::string("loss_") + t, std::string("L_") + t));
      ss.push_back(metric_series(lines, std::string("sigma_") + t, std::string("sigma_") + t));
    }
    auto tied = read_metrics_lines(out + "/student-tied/metrics.jsonl");
    if (!tied.empty()) ss.push_back(metric_series(tied, "sigma_agg", "sigma (tied student)"));
    PlotOptions pl;
    pl.title = "StepER student: per-task loss";
    pl.x_label = "step";
    pl.y_label = "cross-entropy";
    pl.log_y = true;
    PlotOptions psg;
    psg.title = "StepER student: difficulty weights sigma_j (weight = 1/(2 sigma_j^2))";
    psg.x_label = "step";
    psg.y_label = "sigma";
    std::string a = plot_svg(ls, pl), b = plot_svg(ss, psg);
    write_file_atomic(out + "/plots/steper_task_loss.svg", a);
    write_file_atomic(out + "/plots/steper_sigma.svg", b);
    md += "![StepER per-task loss](plots/steper_task_loss.svg)\n\n![StepER sigma](plots/steper_sigma.svg)\n\n";
    svgs += a + b;
  }
  // every learned sigma at the end of its run
  std::string sigmas;
  for (const auto& [row, folder] : student_folders(in)) {
    auto l = read_metrics_lines(out + "/" + folder + "/metrics.jsonl");
    if (l.empty() || !l.back().contains("sigma_init") || !l.back()["sigma_init"].is_number()) continue;
    const json& last = l.back();
    auto num = [&](const char* key) {  // NaN where the last step had no such figure (null)
      return last.contains(key) && last[key].is_number() ? last[key].get<double>() : NAN;
    };
    if (num("sigma_init") == 1.0 && num("sigma_agg") == 1.0) continue;  // not learned
    sigmas += "| " + row + " | " + or_dash(num("sigma_init"), 3) + " | " + or_dash(num("sigma_exp"), 3) + " | " +
              or_dash(num("sigma_agg"), 3) + " | " + or_dash(num("loss_init"), 3) + " / " +
              or_dash(num("loss_exp"), 3) + " / " + or_dash(num("loss_agg"), 3) + " |\n";
  }
  if (!sigmas.empty())
    md += "Final sigma of each student that learns it (a task's weight is 1/(2 sigma^2); at equilibrium sigma^2 "
          "equals the task's loss):\n\n| student | sigma init | sigma exp | sigma agg | last step's L_init / L_exp / "
          "L_agg |\n|---|---|---|---|---|\n" + sigmas + "\n";
  // examples: the training set's; examples seen: trained on over the budget (an example once per pass)
  auto training_row = [](const std::string& row, const json& info) {
    auto seen = info.find("examples_seen");
    return "| " + row + " | " + std::to_string(info.value("steps", 0)) + " | " +
           std::to_string(info.value("tokens", 0)) + " | " + fmt(info.value("tokens_per_s", 0.0), 0) + " | " +
           std::to_string(info.value("examples", 0)) + " | " +
           (seen == info.end() ? std::string("-") : std::to_string(seen->get<int64_t>())) + " |\n";
  };
  md += "| student | steps | tokens | tokens/s | examples | examples seen |\n|---|---|---|---|---|---|\n";
  json base = stage_info(out + "/base");
  if (!base.empty())
    md += training_row(in.base_shipped.empty() ? "base (pretrained in this run)" : "base (its last pretraining round)", base);
  for (const auto& [row, folder] : student_folders(in)) {
    json info = stage_info(out + "/" + folder);
    if (!info.empty()) md += training_row(row, info);
  }
  json first = stage_info(out + "/student-" + (in.objectives.empty() ? std::string() : in.objectives[0]));
  int side = first.value("side_by_side", 1), group = first.value("group", side);
  if (side > 1 && group > side)
    md += "\nThe " + std::to_string(group) + " students trained at most " + std::to_string(side) +
          " at a time, one BLAS thread each; tokens/s is each one's own rate.\n";
  else if (side > 1)
    md += "\nThe " + std::to_string(side) + " students trained side by side, one BLAS thread each; tokens/s is each one's own rate.\n";
  return {"Training", md, svgs};
}

Section section_times(const ReportInputs& in, json& summary) {
  std::string md;
  for (const std::string w : {"world", "world-self-ask", "pretrain-world"}) {
    json info = stage_info(in.out_dir + "/traces-" + w);
    if (info.empty()) continue;
    md += "- " + w + ": " + std::to_string(info.value("kept", 0)) + " of " +
          std::to_string(info.value("finished", 0)) + " gold-evidence traces kept";
    if (info.contains("dropped")) {
      md += " (dropped:";
      for (auto it = info["dropped"].begin(); it != info["dropped"].end(); ++it)
        md += " " + it.key() + " " + it.value().dump() + ";";
      md += ")";
    }
    md += "\n";
  }
  md += "\n| stage | seconds | reused |\n|---|---|---|\n";
  for (const auto& t : in.stage_times)
    md += "| " + t.value("stage", "") + " | " + fmt(t.value("seconds", 0.0)) + " | " +
          (t.value("reused", false) ? "yes" : "no") + " |\n";
  md += "| **total** | " + fmt(in.wall_seconds) + " | |\n";
  summary["stage_times"] = in.stage_times;
  return {"Teacher traces and wall time", md, ""};
}

// What the students start from, as the report's opening paragraph says it.
std::string base_paragraph(const ReportInputs& in) {
  const json base = stage_info(in.out_dir + "/base");
  const json recipe = base.value("recipe", json::object());
  const int rounds = base.value("pretrain_rounds", 1);
  const double tokens = static_cast<double>(base.value("pretrain_tokens", recipe.value("tokens", int64_t{0})));
  const int worlds = base.value("pretrain_worlds", 1);
  const std::string questions = std::to_string(recipe.value("questions", 0));
  const std::string worlds_read = worlds > 1 ? " on " + std::to_string(worlds) + " worlds of " + questions + " questions"
                                             : " on a " + questions + "-question world";
  const bool recipe_known = recipe.contains("tokens");
  std::string how;
  if (in.base_shipped.empty())
    how = "pretrained in this run";
  else
    how = "read from " + in.base_shipped +
          (recipe_known ? ", made by `steper pretrain-base` (" + fmt(tokens / 1e6, 1) + "M tokens" +
                              (rounds > 1 ? " in " + std::to_string(rounds) + " rounds" : "") + worlds_read + ")"
                        : std::string(" (no pretrain.json: how it was made is not recorded)"));
  if (in.base_shipped == default_base_model()) how = "shipped with steper in " + how.substr(std::string("read from ").size());
  std::string md = "Students are small Llama-architecture models distilled from one base student, " + how + ". ";
  if (recipe_known)
    md += std::string("Its pretraining is language modelling on the gold-evidence teacher-trace documents of ") +
          (worlds > 1 ? "other generated worlds" : "a different generated world") +
          " (passages included), as a pretrained language model has read text. ";
  return md + "Each objective is distilled from that base with the same token budget on the demo world's "
              "gold-evidence teacher traces. Test questions ask about entities no training question asks about. The "
              "teacher reads only the evidence retrieval brought it.\n\n";
}

// The report as HTML: each section's Markdown tables and paragraphs, then its plots inline.
std::string report_html(const std::vector<std::string>& verdicts, const std::vector<Section>& sections) {
  std::string html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>steper demo report</title><style>"
                     "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
                     "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
                     "font-size:14px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
                     ".plots svg{margin:0.5em 1em 0.5em 0}</style></head><body>\n<h1>steper demo report</h1>\n";
  for (const auto& v : verdicts) html += "<p><b>" + xml_escape(v) + "</b></p>\n";
  for (const auto& s : sections) {
    html += "<h2>" + xml_escape(s.title) + "</h2>\n";
    if (!s.html_extra.empty() && s.title == "Across training runs") html += "<div class=\"plots\">" + s.html_extra + "</div>\n";
    std::istringstream lines(s.md);
    std::string line, table;
    auto flush = [&]() {
      if (!table.empty()) html += md_table_to_html(table);
      table.clear();
    };
    while (std::getline(lines, line)) {
      if (!line.empty() && line[0] == '|') {
        table += line + "\n";
        continue;
      }
      flush();
      if (line.empty() || line.rfind("![", 0) == 0) continue;
      if (line.size() > 4 && line.rfind("**", 0) == 0) html += "<h4>" + xml_escape(line) + "</h4>\n";
      else html += "<p>" + xml_escape(line) + "</p>\n";
    }
    flush();
    if (!s.html_extra.empty() && s.title != "Across training runs") html += "<div class=\"plots\">" + s.html_extra + "</div>\n";
  }
  return html + "</body></html>\n";
}

}  // namespace

// ---- the report

void demo_write_report(const ReportInputs& in) {
  const std::string& out = in.out_dir;
  std::map<std::string, std::map<std::string, SystemMode>> ev;  // run 1 of every system, every mode
  for (const auto& s : in.systems)
    for (const char* m : kModes) ev[s][m] = read_eval(out + "/eval/" + s + "/" + m);
  std::map<std::string, SystemMode> sa;  // run 1 of the Self-Ask systems, multi-step
  for (const auto& s : in.self_ask_systems) sa[s] = read_eval(out + "/eval-self-ask/" + s + "/multi");
  const Framework ircot = read_framework(in, "IRCoT", "", "eval", in.systems, in.objectives);
  const Framework self_ask =
      read_framework(in, "Self-Ask", " under Self-Ask", "eval-self-ask", in.self_ask_systems, in.self_ask_objectives);
  const bool has_self_ask = !in.self_ask_systems.empty();

  json summary;
  summary["quick"] = in.quick;
  summary["wall_seconds"] = in.wall_seconds;
  summary["runs"] = std::max(1, in.runs);
  std::vector<std::string> verdicts;
  auto verdict = [&](const Framework& f, json& figures_at) {
    json figures;
    std::string v;
    if (f.find("steper") && f.find("vanilla")) v = verdict_sentence(*f.find("steper"), *f.find("vanilla"), f.under, figures);
    else v = "StepER and vanilla KD were not both evaluated" + f.under + ", so they cannot be compared.";
    if (!figures.empty()) figures_at = figures;
    if (in.quick) v += " This is a --quick run: it checks the pipeline, and its students are far too small to compare.";
    verdicts.push_back(v);
    return v;
  };
  const std::string ircot_verdict = verdict(ircot, summary["steper_vs_vanilla"]);
  std::string self_ask_verdict;
  if (has_self_ask) self_ask_verdict = verdict(self_ask, summary["self_ask"]["steper_vs_vanilla"]);

  std::vector<Section> sections;
  sections.push_back(section_runs(in, ircot, has_self_ask ? &self_ask : nullptr, summary));
  sections.push_back(section_results(in, ev, summary));
  sections.push_back({"StepER against vanilla KD", ircot_verdict + "\n", ""});
  if (has_self_ask) sections.push_back(section_self_ask(in, ev, sa, self_ask_verdict, summary));
  sections.push_back(section_hops(in, ircot, ev));
  sections.push_back(section_recall(in, ev));
  sections.push_back(section_training(in));
  {
    std::map<std::string, SystemMode> multi;
    for (const auto& s : in.systems) multi[s] = ev[s]["multi"];
    std::string md = example_traces(multi, {"teacher", "steper", "uniform", "vanilla", "base"});
    if (!sa.empty()) md += "Under Self-Ask:\n\n" + example_traces(sa, in.self_ask_systems);
    sections.push_back({"Example traces", md, ""});
  }
  sections.push_back(section_times(in, summary));

  std::string md = "# steper demo report\n\n";
  for (const auto& v : verdicts) md += v + "\n\n";
  md += base_paragraph(in);
  for (const auto& s : sections) md += "## " + s.title + "\n\n" + s.md + "\n";
  write_file_atomic(out + "/report.md", md);
  write_file_atomic(out + "/report.html", report_html(verdicts, sections));
  write_json_atomic(out + "/summary.json", summary);
}

}  // namespace steper
