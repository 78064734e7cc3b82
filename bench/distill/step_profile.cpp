#include "step_profile.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace steper_bench {

namespace prof = torch::autograd::profiler;

void profile_start() {
  prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
}

namespace {

const char* const kCategories[] = {"attention (bmm, softmax, mask)", "linear layers (mm, addmm)",
                                   "elementwise and other", "optimizer (AdamW)", "clip and checks",
                                   "outside the step"};

bool is(const char* name, const char* want) { return std::strcmp(name, want) == 0; }

// The category of an op given the named ranges around it (innermost last).
int category(const char* name, const std::vector<const char*>& ranges) {
  bool in_step = false;
  for (const char* r : ranges) {
    if (is(r, "steper::optimizer")) return 3;
    if (is(r, "steper::clip_and_checks")) return 4;
    if (is(r, "steper::attention")) return 0;
    if (is(r, "steper::forward") || is(r, "steper::backward")) in_step = true;
  }
  if (is(name, "steper::optimizer")) return 3;
  if (is(name, "steper::clip_and_checks")) return 4;
  if (is(name, "steper::attention")) return 0;
  if (!in_step && !is(name, "steper::forward") && !is(name, "steper::backward")) return 5;
  if (is(name, "aten::bmm") || is(name, "aten::_softmax") || is(name, "aten::_softmax_backward_data")) return 0;
  if (is(name, "aten::mm") || is(name, "aten::addmm")) return 1;
  return 2;
}

}  // namespace

std::vector<std::pair<std::string, double>> profile_stop(std::vector<std::pair<std::string, double>>* ops) {
  prof::thread_event_lists lists = prof::disableProfilerLegacy();
  double seconds[6] = {0, 0, 0, 0, 0, 0};
  std::map<std::string, double> by_op;
  for (const auto& events : lists) {
    struct Open {
      const prof::LegacyEvent* start;
      double children_us;
    };
    std::vector<Open> stack;
    std::vector<const char*> names;
    for (const auto& e : events) {
      if (e.kindStr() == "push") {
        stack.push_back({&e, 0.0});
        names.push_back(e.name());
      } else if (e.kindStr() == "pop" && !stack.empty()) {
        Open o = stack.back();
        stack.pop_back();
        names.pop_back();
        const double us = o.start->cpuElapsedUs(e);
        seconds[category(o.start->name(), names)] += 1e-6 * (us - o.children_us);
        by_op[o.start->name()] += 1e-6 * (us - o.children_us);
        if (!stack.empty()) stack.back().children_us += us;
      }
    }
  }
  std::vector<std::pair<std::string, double>> out;
  for (int i = 0; i < 6; ++i) out.emplace_back(kCategories[i], seconds[i]);
  if (ops) {
    ops->assign(by_op.begin(), by_op.end());
    std::sort(ops->begin(), ops->end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  }
  return out;
}

}  // namespace steper_bench
