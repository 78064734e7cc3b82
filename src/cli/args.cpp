#include "cli/args.h"

#include <regex>

#include "core/error.h"
#include "core/loop_fields.h"
#include "eval/bootstrap.h"
#include "rag/framework.h"

namespace steper {

bool LoopFlags::given() const {
  for (const CLI::Option* o : options)
    if (o->count() > 0) return true;
  return false;
}

RagOptions LoopFlags::resolve() const {
  RagOptions r = rag;
  r.loop.mode = rag_mode_from_string(mode);
  set_framework(r.loop, framework);
  validate_loop_options(r.loop);
  return r;
}

LoopOptions LoopFlags::over(LoopOptions base) const {
  const LoopOptions& l = rag.loop;
  for (const CLI::Option* o : options) {
    if (o->count() == 0) continue;
    const std::string n = o->get_name();
    for (const auto& f : loop_int_options())
      if (n == f.flag) base.*f.member = l.*f.member;
    if (n == "--mode") base.mode = rag_mode_from_string(mode);
    else if (n == "--framework") set_framework(base, framework);
  }
  validate_loop_options(base);
  return base;
}

namespace {
// One of the loop's integer options as a flag: its name, help (with `note`), range and default.
CLI::Option* add_loop_int_flag(CLI::App* sub, const LoopIntOption& o, int& value, const std::string& note = "") {
  return sub->add_option(o.flag, value, o.help + note)->check(CLI::Range(o.lo, o.hi))->capture_default_str();
}
}  // namespace

std::shared_ptr<LoopFlags> add_loop_flags(CLI::App* sub, LoopUse use, const LoopOptions& defaults) {
  auto f = std::make_shared<LoopFlags>();
  LoopOptions& l = f->rag.loop;
  l = defaults;
  f->mode = rag_mode_name(defaults.mode);
  f->framework = defaults.framework;
  const bool recorded = use == LoopUse::kRecorded;
  const std::string only_old = recorded ? " (only for traces made before traces recorded their loop options)" : "";
  auto add = [&](CLI::Option* o) { f->options.push_back(o->capture_default_str()); };
  if (use == LoopUse::kRun || use == LoopUse::kTeach)
    add(sub->add_option("--framework", f->framework, "the multi-step framework: ircot or self-ask")
            ->check(CLI::IsMember({"ircot", "self-ask"})));
  if (use == LoopUse::kRun)
    add(sub->add_option("--mode", f->mode, "multi (retrieve every step), single (retrieve once) or none")
            ->check(CLI::IsMember({"multi", "single", "none"})));
  for (const auto& o : loop_int_options()) add(add_loop_int_flag(sub, o, l.*o.member, only_old));
  if (!recorded) {
    sub->add_option("--max-sentence-tokens", f->rag.max_sentence_tokens, "tokens per generated sentence at most")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
    sub->add_option("--batch", f->rag.batch_size, "questions in flight together")
        ->check(CLI::Range(1, 100000))
        ->capture_default_str();
  }
  return f;
}

void add_k_flag(CLI::App* sub, int& k) {
  for (const auto& o : loop_int_options())
    if (std::string(o.flag) == "-k") {
      add_loop_int_flag(sub, o, k);
      return;
    }
  throw BugError(__FILE__, __LINE__, "the loop has no -k option");
}

void add_adapter_flag(CLI::App* sub, std::string& adapter) {
  sub->add_option("--adapter", adapter,
                  "LoRA adapter folder (adapter_config.json, adapter_model.safetensors) trained on --model; merged "
                  "into it at load");
}

void add_strict_flag(CLI::App* sub, bool& strict) {
  sub->add_flag("--strict", strict,
                "refuse a question file with a defective record (a supporting fact its context lacks, an empty "
                "answer, a repeated id, ...) instead of skipping and naming each such record");
}

void add_device_flag(CLI::App* sub, std::string& device) {
  device = "cpu";
  sub->add_option("--device", device, "cpu, cuda or cuda:N")
      ->check(
          [](const std::string& v) {
            static const std::regex ok("cpu|cuda|cuda:[0-9]+");
            return std::regex_match(v, ok) ? std::string() : "expected cpu, cuda or cuda:N, got \"" + v + "\"";
          },
          "DEVICE")
      ->capture_default_str();
}

void add_threads_flag(CLI::App* sub, int& threads) {
  sub->add_option("--threads", threads, "BLAS threads (0 = OPENBLAS_NUM_THREADS or the cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
}

void add_bootstrap_flags(CLI::App* sub, int& samples, uint64_t& seed) {
  sub->add_option("--bootstrap", samples, "bootstrap resamples for the 95% intervals")
      ->check(CLI::Range(kMinBootstrapSamples, 10000000))
      ->capture_default_str();
  sub->add_option("--seed", seed, "bootstrap seed")->capture_default_str();
}

}  // namespace steper
