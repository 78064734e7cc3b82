// steper: stepwise knowledge distillation for multi-step retrieval-augmented reasoning.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>

#include "cli/blas_kernels.h"
#include "cli/command.h"
#include "core/error.h"

namespace steper {
std::vector<CommandSpec>& command_registry() {
  static std::vector<CommandSpec> registry;
  return registry;
}
std::vector<std::string>& process_args() {
  static std::vector<std::string> args;
  return args;
}
}  // namespace steper

int main(int argc, char** argv) {
  steper::blas_reexec_if_generic(argv);
  steper::process_args().assign(argv, argv + argc);
  // One BLAS thread pool sized to the machine unless the user chose; set before any BLAS call.
  setenv("OPENBLAS_NUM_THREADS", "2", 0);
  CLI::App app{"steper: stepwise distillation of multi-step retrieval-augmented reasoning"};
  app.require_subcommand(1);
  auto& registry = steper::command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const steper::CommandSpec& a, const steper::CommandSpec& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> actions;
  for (auto& spec : registry) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.help);
    actions.emplace_back(sub, spec.setup(sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    // a bad flag is a user error: one line naming it, exit status 1
    std::fprintf(stderr, "steper: error: %s (see --help)\n", e.what());
    return 1;
  }
  try {
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return action();
  } catch (const steper::Error& e) {
    std::fprintf(stderr, "steper: error: %s\n", e.what());
    return 1;
  } catch (const steper::BugError& e) {
    std::fprintf(stderr, "steper: bug: %s (at %s:%d; please report it)\n", e.what(), e.file(), e.line());
    return 70;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "steper: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
