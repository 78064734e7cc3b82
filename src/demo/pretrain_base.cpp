#include "demo/pretrain_base.h"

#include <chrono>
#include <filesystem>
#include <set>

#include "core/io.h"
#include "core/trace_json.h"
#include "demo/stage.h"

namespace steper {

namespace fs = std::filesystem;
using nlohmann::json;

std::string default_base_model() {
  const std::string built = std::string(STEPER_MODELS_DIR) + "/base-tiny";
  if (fs::exists(built + "/model.safetensors") || !fs::exists("models/base-tiny/model.safetensors")) return built;
  return "models/base-tiny";  // a moved source tree, run from its root
}

PretrainTotal pretrain_total(const json& info) {
  PretrainTotal t;
  std::set<uint64_t> seeds;
  for (const json* p = &info; p != nullptr && p->is_object() && p->contains("recipe");) {
    ++t.rounds;
    t.tokens += p->at("recipe").value("tokens", int64_t{0});
    seeds.insert(p->at("recipe").value("world_seed", uint64_t{0}));
    auto earlier = p->find("continued_from");
    p = earlier == p->end() ? nullptr : &*earlier;
  }
  t.worlds = static_cast<int>(seeds.size());
  return t;
}

BaseRecipe base_recipe(bool quick) {
  BaseRecipe r;
  if (quick) {
    r.questions = 150;
    r.vocab = 600;
    r.tokens = 60000;
    r.warmup = 5;
  }
  return r;
}

std::string pretrain_base(const BaseRecipe& r, const std::string& work_dir, nlohmann::json& times) {
  make_dirs(work_dir);
  stage_world(work_dir, {"pretrain-world", r.world_seed, r.questions, 20, 20}, times);
  std::string traces = stage_teach(work_dir, "pretrain-world", r.loop, times);
  std::string start = r.from;
  if (start.empty()) {
    start = work_dir + "/init";
    stage_init(start, {work_dir + "/pretrain-world"}, r.size, r.vocab, r.seed, times);
  }
  train_group("base",
              {train_job(work_dir, "base", start, traces, "lm", r.tokens, r.lr, r.batch_tokens, r.seed, r.warmup)},
              times);
  return work_dir + "/base/model";
}

int pretrain_base_command(const BaseRecipe& r, const std::string& work_dir, const std::string& out_dir) {
  json times = json::array();
  auto start = std::chrono::steady_clock::now();
  // read before --out (which may be the same folder) is written
  const std::string earlier_path = r.from.empty() ? std::string() : r.from + "/pretrain.json";
  const json earlier = !earlier_path.empty() && fs::exists(earlier_path) ? read_json(earlier_path) : json();
  std::string model = pretrain_base(r, work_dir, times);
  make_dirs(out_dir);
  for (const char* f : {"config.json", "tokenizer.json", "model.safetensors", "generation_config.json"})
    if (fs::exists(model + "/" + f))
      fs::copy_file(model + "/" + f, out_dir + "/" + f, fs::copy_options::overwrite_existing);
  json info = stage_info(work_dir + "/base");
  json recipe = {{"world_seed", r.world_seed}, {"questions", r.questions}, {"size", r.size}, {"vocab", r.vocab},
                 {"objective", "lm"},          {"tokens", r.tokens},       {"lr", r.lr},     {"batch_tokens", r.batch_tokens},
                 {"warmup", r.warmup},         {"loop", to_json(r.loop)}, {"seed", r.seed}};
  if (!r.from.empty()) {
    recipe.erase("size");  // the model continued from decides them
    recipe.erase("vocab");
    recipe["from"] = r.from;
  }
  json traces = stage_info(work_dir + "/traces-pretrain-world");
  write_json_atomic(out_dir + "/pretrain.json",
                    json{{"recipe", recipe},
                         {"training", info},
                         {"traces_kept", traces.value("kept", 0)},
                         {"continued_from", earlier},
                         {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()},
                         {"stage_times", times}});
  say("base student in " + out_dir + " (" + std::to_string(info.value("steps", 0)) + " steps, " +
      std::to_string(info.value("tokens", 0)) + " tokens)");
  return 0;
}

}  // namespace steper
