// steper examples: the StepER (or vanilla KD) training examples of a teach output, as JSONL to inspect.
#include <cstdio>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/io.h"
#include "core/trace_json.h"
#include "distill/examples.h"
#include "teacher/teach.h"

namespace steper {
namespace {

CommandRegistrar reg({"examples", "Training examples (prompt, target) of teacher traces, as JSONL", [](CLI::App* sub) {
  auto traces = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto objective = std::make_shared<std::string>("steper");
  auto all = std::make_shared<bool>(false);
  sub->add_option("--traces", *traces, "teach output (JSONL)")->required();
  sub->add_option("--out", *out, "examples (JSONL: id, task, step, prompt, target)")->required();
  sub->add_option("--objective", *objective, "steper (init, exp, agg) or vanilla (agg only)")->capture_default_str();
  sub->add_flag("--all", *all, "every answered trace, not only the kept ones");
  auto loop = add_loop_flags(sub, LoopUse::kRecorded);
  return std::function<int()>([=] {
    if (*objective != "steper" && *objective != "vanilla")
      throw Error("--objective must be steper or vanilla, not \"" + *objective + "\"");
    std::vector<Trace> ts = read_teach_traces(*traces, !*all);
    if (ts.empty()) throw Error(*traces + ": no " + std::string(*all ? "" : "kept ") + "traces");
    size_t assumed = resolve_loop_options(ts, loop->rag.loop, loop->given(), *traces);
    if (assumed > 0)
      std::fprintf(stderr, "examples: %zu traces record no loop options (made before traces did); built with %s\n",
                   assumed, to_json(loop->rag.loop).dump().c_str());
    std::vector<StepExample> examples = build_examples(ts, *objective == "vanilla");
    std::string text;
    size_t counts[3] = {0, 0, 0};
    for (const auto& e : examples) {
      text += to_json(e).dump() + "\n";
      ++counts[static_cast<int>(e.task)];
    }
    write_file_atomic(*out, text);
    std::fprintf(stderr, "examples: %zu traces -> %zu examples (init %zu, exp %zu, agg %zu) in %s\n", ts.size(),
                 examples.size(), counts[0], counts[1], counts[2], out->c_str());
    return 0;
  });
}});

}  // namespace
}  // namespace steper
