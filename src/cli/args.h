// The flags several commands share, each defined once here: name, help, default and validation are the
// same in every command that takes them (in the spirit of llama.cpp's common/arg.cpp). A command's own
// cmd_<name>.cpp adds its shared flags from here and only its own flags itself.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "rag/loop.h"

namespace steper {

// Which loop flags a command takes.
enum class LoopUse {
  kRun,       // eval, ask: --framework, --mode, -k, --max-steps, --max-passages, --passage-words,
              // --max-sentence-tokens
  kTeach,     // teach: as kRun without --mode (teachers run the multi-step loop)
  kDemo,      // demo: as kTeach without --framework (the demo runs every framework)
  kRecorded,  // examples, train: -k ... --passage-words, only for traces made before traces recorded them
};

struct LoopFlags {
  RagOptions rag;                     // the values parsed (defaults when not given)
  std::string mode = "multi";
  std::string framework = "ircot";
  std::vector<CLI::Option*> options;  // the loop flags added
  bool given() const;                 // whether the user gave any loop flag
  RagOptions resolve() const;         // rag with --mode and --framework parsed, validated (Error naming the flag)
  // `base` with the loop flags the user gave (a command whose loop defaults are its own, like the demo).
  LoopOptions over(LoopOptions base) const;
};

// `defaults` are the values --help shows and resolve() starts from.
std::shared_ptr<LoopFlags> add_loop_flags(CLI::App* sub, LoopUse use, const LoopOptions& defaults = {});

// -k of a command that retrieves outside the loop (search): the loop's -k, its range included.
void add_k_flag(CLI::App* sub, int& k);
// --device: cpu, cuda or cuda:N (checked when parsed).
void add_device_flag(CLI::App* sub, std::string& device);
// --adapter: a LoRA adapter folder (PEFT's layout) for the --model base, merged in at load.
void add_adapter_flag(CLI::App* sub, std::string& adapter);
// --threads: BLAS threads, 0 = OPENBLAS_NUM_THREADS or the cores.
void add_threads_flag(CLI::App* sub, int& threads);
// --strict: refuse a question file with a defective record instead of skipping it (data/formats.h).
void add_strict_flag(CLI::App* sub, bool& strict);
// --bootstrap and --seed of the reported 95% intervals.
void add_bootstrap_flags(CLI::App* sub, int& samples, uint64_t& seed);

}  // namespace steper
