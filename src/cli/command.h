// Subcommands register themselves here; main() builds the CLI11 app from the registry.
// Each src/cli/cmd_<name>.cpp only parses flags and calls the library.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace steper {

struct CommandSpec {
  std::string name;
  std::string help;
  // Adds the options to `sub` and returns the action run after parsing (it may throw steper::Error).
  std::function<std::function<int()>(CLI::App* sub)> setup;
};

std::vector<CommandSpec>& command_registry();

// The process's command line as main() received it (argv[0] first), for commands that start copies of
// themselves (`steper train --nproc N`).
std::vector<std::string>& process_args();

struct CommandRegistrar {
  explicit CommandRegistrar(CommandSpec spec) { command_registry().push_back(std::move(spec)); }
};

}  // namespace steper
