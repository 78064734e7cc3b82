// steper world: generate the fictional multi-hop world (corpus and HotpotQA-format questions).
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "core/progress.h"
#include "data/world.h"

namespace steper {
namespace {

CommandRegistrar reg({"world", "generate a fictional multi-hop world: DIR/corpus.jsonl, DIR/{train,dev,test}.json",
                      [](CLI::App* sub) {
  auto out = std::make_shared<std::string>();
  auto opts = std::make_shared<WorldOptions>();
  sub->add_option("--out", *out, "output folder")->required();
  sub->add_option("--seed", opts->seed, "random seed (same seed, same world)")->capture_default_str();
  sub->add_option("--train", opts->n_train, "training questions")->check(CLI::Range(0, 100000000))->capture_default_str();
  sub->add_option("--dev", opts->n_dev, "development questions")->check(CLI::Range(0, 100000000))->capture_default_str();
  sub->add_option("--test", opts->n_test, "test questions")->check(CLI::Range(0, 100000000))->capture_default_str();
  sub->add_option("--entities", opts->n_entities,
                  "entities, one passage each (0: about 0.52 per question, at least 150)")
      ->check(CLI::Range(0, 100000000))
      ->capture_default_str();
  return std::function<int()>([=] {
    Progress progress("world", 2, "steps");
    World world = world_generate(*opts);
    progress.add(1, "generated");
    world_write(world, *out);
    progress.finish("written");
    std::printf("%s: %zu passages, %zu train, %zu dev, %zu test questions\n", out->c_str(), world.corpus.size(),
                world.train.size(), world.dev.size(), world.test.size());
    return 0;
  });
}});

}  // namespace
}  // namespace steper
