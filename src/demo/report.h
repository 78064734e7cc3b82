// The demo's report: report.md for reading in a terminal or repository, report.html (self-contained,
// plots inline) for a browser, summary.json for scripts.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace steper {

struct ReportInputs {
  std::string out_dir;                  // the demo folder (eval/<system>/<mode>/, student-<objective>/, ...)
  std::vector<std::string> systems;     // teacher, base, then the objectives, in table order
  std::vector<std::string> objectives;  // steper, uniform, vanilla
  // Self-Ask (eval-self-ask/<system>/multi/, student-self-ask-<objective>/): teacher, base, the objectives
  std::vector<std::string> self_ask_systems;
  std::vector<std::string> self_ask_objectives;
  nlohmann::json stage_times = nlohmann::json::array();  // [{stage, seconds, reused}]
  double wall_seconds = 0;
  int runs = 1;                         // training runs of each objective (demo_run_name names them)
  bool quick = false;
  std::string base_shipped;             // the shipped base's folder, or empty when the run pretrained its own
};


// Reads everything under out_dir and writes report.md, report.html and summary.json there.
void demo_write_report(const ReportInputs& in);

}  // namespace steper
