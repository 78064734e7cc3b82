#include "demo/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "core/plot.h"
#include "eval/bootstrap.h"
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

std::string steper_vs_vanilla(const SystemMode& a, const SystemMode& b, const std::string& under, json& summary) {
  std::vector<double> ea, eb;
  for (const auto& id : a.order) {
    auto it = b.by_id.find(id);
    if (it == b.by_id.end()) continue;
    ea.push_back(100.0 * a.by_id.at(id).value("em", 0.0));
    eb.push_back(100.0 * it->second.value("em", 0.0));
  }
  if (ea.empty()) return "StepER and vanilla KD were not both evaluated" + under + ", so they cannot be compared.";
  PairedDifference d = paired_bootstrap(ea, eb, 2000, 7);
  char buf[512];
  const char* word = d.lo > 0 ? "beats" : (d.hi < 0 ? "loses to" : "does not clearly beat");
  std::snprintf(buf, sizeof buf,
                "StepER %s vanilla KD on multi-step EM%s: %+.1f points (paired bootstrap 95%% CI [%+.1f, %+.1f], "
                "%zu test questions; StepER %.1f vs vanilla KD %.1f).",
                word, under.c_str(), d.mean, d.lo, d.hi, d.n, a.metrics.value("em", 0.0), b.metrics.value("em", 0.0));
  summary = json{{"em_diff", d.mean}, {"ci", {d.lo, d.hi}}, {"n", d.n}, {"verdict", word}};
  return buf;
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

}  // namespace

// ---- the report

void demo_write_report(const ReportInputs& in) {
  const std::string& out = in.out_dir;
  std::map<std::string, std::map<std::string, SystemMode>> ev;
  for (const auto& s : in.systems)
    for (const char* m : kModes) ev[s][m] = read_eval(out + "/eval/" + s + "/" + m);

  struct Section { std::string title, md, html_extra; };
  std::vector<Section> sections;
  json summary;
  summary["quick"] = in.quick;
  summary["wall_seconds"] = in.wall_seconds;

  // Results table
  {
    std::string md = "| system | retrieval | n | EM [95% CI] | F1 [95% CI] | Acc [95% CI] | answered % | steps |\n"
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
    sections.push_back({"Results on held-out test questions", md, ""});
  }

  // The comparison that matters: StepER vs vanilla KD, multi-step EM, paired over the same questions.
  std::string verdict;
  {
    json figures;
    verdict = steper_vs_vanilla(ev["steper"]["multi"], ev["vanilla"]["multi"], "", figures);
    if (!figures.empty()) summary["steper_vs_vanilla"] = figures;
    if (in.quick)
      verdict += " This is a --quick run: it checks the pipeline, and its students are far too small to compare.";
    sections.push_back({"StepER against vanilla KD", verdict + "\n", ""});
  }

  // The same comparison under Self-Ask, and both frameworks side by side (multi-step)
  std::string self_ask_verdict;
  std::map<std::string, SystemMode> sa;  // the Self-Ask systems, multi-step
  if (!in.self_ask_systems.empty()) {
    for (const auto& s : in.self_ask_systems) sa[s] = read_eval(out + "/eval-self-ask/" + s + "/multi");
    json figures;
    self_ask_verdict = steper_vs_vanilla(sa["steper"], sa["vanilla"], " under Self-Ask", figures);
    if (!figures.empty()) summary["self_ask"]["steper_vs_vanilla"] = figures;
    if (in.quick) self_ask_verdict += " (--quick: a pipeline check.)";
    std::string md = self_ask_verdict + "\n\nThe Self-Ask students are distilled from the same base with the same "
                     "token budget, on the gold Self-Ask teacher's traces of the same training questions (follow-up "
                     "questions from each hop's relation, intermediate answers from the passages their follow-up "
                     "retrieved).\n\n| system | IRCoT EM [95% CI] | Self-Ask EM [95% CI] | IRCoT EM by hops | "
                     "Self-Ask EM by hops |\n|---|---|---|---|---|\n";
    for (const auto& s : in.self_ask_systems) {
      const json& ir = ev.count(s) ? ev[s]["multi"].metrics : json::object();
      const json& mt = sa[s].metrics;
      if (mt.empty()) continue;
      md += "| " + s + " | " + with_ci(ir, "em") + " | " + with_ci(mt, "em") + " | " + hops_em(ir) + " | " +
            hops_em(mt) + " |\n";
      summary["self_ask"]["results"][s]["multi"] = json{{"em", mt.value("em", 0.0)}, {"f1", mt.value("f1", 0.0)},
                                                         {"acc", mt.value("acc", 0.0)}, {"n", mt.value("n", 0)}};
    }
    json info = stage_info(out + "/traces-world-self-ask");
    if (!info.empty())
      md += "\nThe gold Self-Ask teacher kept " + std::to_string(info.value("kept", 0)) + " of " +
            std::to_string(info.value("finished", 0)) + " training traces (the IRCoT teacher " +
            std::to_string(stage_info(out + "/traces-world").value("kept", 0)) + ").\n";
    sections.push_back({"IRCoT and Self-Ask side by side", md, ""});
  }

  // Per-hop and per-type breakdowns (multi-step)
  {
    std::vector<std::string> keys;
    for (const auto& s : in.systems) {
      const json& mt = ev[s]["multi"].metrics;
      if (mt.contains("by_hops"))
        for (auto it = mt["by_hops"].begin(); it != mt["by_hops"].end(); ++it)
          if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
    }
    std::sort(keys.begin(), keys.end());
    std::string md = "| system |";
    for (const auto& k : keys) md += " " + k + "-hop EM (n) |";
    md += "\n|---|";
    for (size_t i = 0; i < keys.size(); ++i) md += "---|";
    md += "\n";
    std::vector<PlotSeries> series;
    for (const auto& s : in.systems) {
      const json& mt = ev[s]["multi"].metrics;
      if (!mt.contains("by_hops")) continue;
      md += "| " + s + " |";
      PlotSeries ps;
      ps.name = s;
      for (const auto& k : keys) {
        if (!mt["by_hops"].contains(k)) {
          md += " - |";
          continue;
        }
        const json& h = mt["by_hops"][k];
        md += " " + fmt(h.value("em", 0.0)) + " (" + std::to_string(h.value("n", 0)) + ") |";
        ps.x.push_back(std::atof(k.c_str()));
        ps.y.push_back(h.value("em", 0.0));
      }
      md += "\n";
      series.push_back(ps);
    }
    md += "\nBy question type (multi-step EM):\n\n| system | type | n | EM | F1 |\n|---|---|---|---|---|\n";
    for (const auto& s : in.systems) {
      const json& mt = ev[s]["multi"].metrics;
      if (!mt.contains("by_type")) continue;
      for (auto it = mt["by_type"].begin(); it != mt["by_type"].end(); ++it)
        md += "| " + s + " | " + it.key() + " | " + std::to_string(it.value().value("n", 0)) + " | " +
              fmt(it.value().value("em", 0.0)) + " | " + fmt(it.value().value("f1", 0.0)) + " |\n";
    }
    PlotOptions po;
    po.title = "Multi-step EM by hop count";
    po.x_label = "hops";
    po.y_label = "EM (%)";
    std::string svg = plot_svg(series, po);
    write_file_atomic(out + "/plots/em_by_hops.svg", svg);
    sections.push_back({"By hop count and question type (multi-step)", md + "\n![EM by hops](plots/em_by_hops.svg)\n",
                        svg});
  }

  // Per-step supporting-passage recall and steps
  {
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
          ps.x.push_back(i + 1);
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
    write_file_atomic(out + "/plots/recall_by_step.svg", svg);
    sections.push_back({"Retrieval by step (multi-step)", md + "\n![recall by step](plots/recall_by_step.svg)\n", svg});
  }

  // Training curves: per-task loss, sigma (StepER), and overall loss per objective
  {
    std::string md;
    std::string svgs;
    const char* tasks[] = {"init", "exp", "agg"};
    std::vector<PlotSeries> loss_series;
    for (const auto& obj : in.objectives) {
      auto lines = read_metrics_lines(out + "/student-" + obj + "/metrics.jsonl");
      if (lines.empty()) continue;
      PlotSeries ps;
      ps.name = obj;
      for (const auto& j : lines) {
        ps.x.push_back(j.value("total_tokens", j.value("step", 0.0)));
        ps.y.push_back(j.contains("loss_agg") && j["loss_agg"].is_number() ? j["loss_agg"].get<double>() : NAN);
      }
      loss_series.push_back(ps);
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
      for (int t = 0; t < 3; ++t) {
        PlotSeries l, s;
        l.name = std::string("L_") + tasks[t];
        s.name = std::string("sigma_") + tasks[t];
        for (const auto& j : lines) {
          double step = j.value("step", 0.0);
          std::string lk = std::string("loss_") + tasks[t], sk = std::string("sigma_") + tasks[t];
          l.x.push_back(step);
          l.y.push_back(j.contains(lk) && j[lk].is_number() ? j[lk].get<double>() : NAN);
          s.x.push_back(step);
          s.y.push_back(j.contains(sk) && j[sk].is_number() ? j[sk].get<double>() : NAN);
        }
        ls.push_back(l);
        ss.push_back(s);
      }
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
      const json& last = lines.back();
      md += "Final sigma (init / exp / agg): " + fmt(last.value("sigma_init", NAN), 3) + " / " +
            fmt(last.value("sigma_exp", NAN), 3) + " / " + fmt(last.value("sigma_agg", NAN), 3) + "\n\n";
    }
    // examples: the training set's; examples seen: trained on over the budget (an example once per pass)
    auto training_row = [](const std::string& row, const json& info) {
      auto seen = info.find("examples_seen");
      return "| " + row + " | " + std::to_string(info.value("steps", 0)) + " | " +
             std::to_string(info.value("tokens", 0)) + " | " + fmt(info.value("tokens_per_s", 0.0), 0) + " | " +
             std::to_string(info.value("examples", 0)) + " | " +
             (seen == info.end() ? std::string("-") : std::to_string(seen->get<int64_t>())) + " |\n";
    };
    md += "| student | steps | tokens | tokens/s | examples | examples seen |\n|---|---|---|---|---|---|\n";
    for (const auto& name : std::vector<std::string>{"base"}) {
      json info = stage_info(out + "/" + name);
      if (!info.empty()) md += training_row(name + " (pretrained on another world)", info);
    }
    std::vector<std::pair<std::string, std::string>> students;  // (row, folder)
    for (const auto& obj : in.objectives) students.push_back({obj, "student-" + obj});
    for (const auto& obj : in.self_ask_objectives) students.push_back({"self-ask " + obj, "student-self-ask-" + obj});
    for (const auto& [row, folder] : students) {
      json info = stage_info(out + "/" + folder);
      if (!info.empty()) md += training_row(row, info);
    }
    json first = stage_info(out + "/student-" + (in.objectives.empty() ? std::string() : in.objectives[0]));
    int side = first.value("side_by_side", 1), group = first.value("group", side);
    if (side > 1 && group > side)
      md += "\nThe " + std::to_string(group) + " students trained at most " + std::to_string(side) +
            " at a time, one BLAS thread each; tokens/s is each one's own rate.\n";
    else if (side > 1)
      md += "\nThe " + std::to_string(side) +
            " students trained side by side, one BLAS thread each; tokens/s is each one's own rate.\n";
    sections.push_back({"Training", md, svgs});
  }

  // Example traces side by side, under each framework that ran
  {
    std::map<std::string, SystemMode> multi;
    for (const auto& s : in.systems) multi[s] = ev[s]["multi"];
    std::string md = example_traces(multi, {"teacher", "steper", "uniform", "vanilla", "base"});
    if (!sa.empty()) md += "Under Self-Ask:\n\n" + example_traces(sa, in.self_ask_systems);
    sections.push_back({"Example traces", md, ""});
  }

  // Teacher traces and wall time
  {
    std::string md;
    for (const std::string w : {"world", "world-self-ask", "pretrain-world"}) {
      json info = stage_info(out + "/traces-" + w);
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
    sections.push_back({"Teacher traces and wall time", md, ""});
  }

  // Write Markdown, HTML, JSON
  std::string md = "# steper demo report\n\n";
  md += verdict + "\n\n";
  if (!self_ask_verdict.empty()) md += self_ask_verdict + "\n\n";
  {
    const json base = stage_info(out + "/base");
    const json recipe = base.value("recipe", json::object());
    const int rounds = base.value("pretrain_rounds", 1);
    const double tokens = static_cast<double>(base.value("pretrain_tokens", recipe.value("tokens", int64_t{0})));
    const int worlds = base.value("pretrain_worlds", 1);
    const std::string questions = std::to_string(recipe.value("questions", 0));
    const std::string worlds_read = worlds > 1 ? " on " + std::to_string(worlds) + " worlds of " + questions + " questions"
                                               : " on a " + questions + "-question world";
    std::string base_how =
        in.base_shipped.empty()
            ? std::string("pretrained in this run")
            : "shipped with steper in " + in.base_shipped + " and made by `steper pretrain-base`" +
                  (recipe.contains("tokens") ? " (" + fmt(tokens / 1e6, 1) + "M tokens" +
                                                   (rounds > 1 ? " in " + std::to_string(rounds) + " rounds" : "") +
                                                   worlds_read + ")"
                                             : std::string());
    md += "Students are small Llama-architecture models whose only pretraining is a base student, " + base_how +
          ": language modelling on the gold-evidence teacher-trace documents of " +
          (worlds > 1 ? "other generated worlds" : "a different generated world") +
          " (passages included), as a pretrained language model has read text. Each objective is distilled from "
          "that base with the same token budget on the demo world's gold-evidence teacher traces. Test questions "
          "ask about entities no training question asks about. The teacher reads only the evidence retrieval "
          "brought it.\n\n";
  }
  std::string html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>steper demo report</title><style>"
                     "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
                     "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
                     "font-size:14px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
                     ".plots svg{margin:0.5em 1em 0.5em 0}</style></head><body>\n<h1>steper demo report</h1>\n";
  html += "<p><b>" + xml_escape(verdict) + "</b></p>\n";
  if (!self_ask_verdict.empty()) html += "<p><b>" + xml_escape(self_ask_verdict) + "</b></p>\n";
  for (const auto& s : sections) {
    md += "## " + s.title + "\n\n" + s.md + "\n";
    html += "<h2>" + xml_escape(s.title) + "</h2>\n";
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
    if (!s.html_extra.empty()) html += "<div class=\"plots\">" + s.html_extra + "</div>\n";
  }
  html += "</body></html>\n";
  write_file_atomic(out + "/report.md", md);
  write_file_atomic(out + "/report.html", html);
  write_json_atomic(out + "/summary.json", summary);
}

}  // namespace steper
