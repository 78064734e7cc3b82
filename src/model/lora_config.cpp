#include "model/lora_config.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/io.h"

namespace steper {

double LoraConfig::scale() const {
  return use_rslora ? alpha / std::sqrt(static_cast<double>(rank)) : alpha / static_cast<double>(rank);
}

void LoraConfig::validate(const std::string& where) const {
  auto fail = [&](const std::string& flag, const std::string& field, const std::string& what) {
    throw Error(where.empty() ? flag + " " + what : where + ": field \"" + field + "\" " + what);
  };
  if (rank < 1 || rank > 4096) fail("--lora-rank", "r", "must lie in [1, 4096], got " + std::to_string(rank));
  if (!std::isfinite(alpha) || alpha <= 0) fail("--lora-alpha", "lora_alpha", "must be finite and positive");
  if (!(dropout >= 0 && dropout < 1)) fail("--lora-dropout", "lora_dropout", "must lie in [0, 1)");
  if (targets.empty()) fail("--lora-targets", "target_modules", "must name at least one module");
  const std::vector<std::string> known = lora_module_names();
  for (const auto& t : targets)
    if (std::find(known.begin(), known.end(), t) == known.end())
      fail("--lora-targets", "target_modules",
           "names \"" + t + "\", not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj");
}

nlohmann::json LoraConfig::to_peft_json() const {
  return {{"peft_type", "LORA"},        {"task_type", "CAUSAL_LM"},     {"base_model_name_or_path", base_model},
          {"r", rank},                  {"lora_alpha", alpha},          {"lora_dropout", dropout},
          {"target_modules", targets},  {"bias", "none"},               {"fan_in_fan_out", false},
          {"use_rslora", use_rslora},   {"use_dora", false},            {"init_lora_weights", true},
          {"inference_mode", true},     {"modules_to_save", nullptr},   {"layers_to_transform", nullptr},
          {"layers_pattern", nullptr},  {"rank_pattern", nlohmann::json::object()},
          {"alpha_pattern", nlohmann::json::object()}, {"revision", nullptr}};
}

LoraConfig LoraConfig::from_peft_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": not a JSON object");
  if (json_text(j, "peft_type", where) != "LORA") throw Error(where + ": field \"peft_type\" must be \"LORA\"");
  LoraConfig c;
  c.rank = json_int(j, "r", where, 1, 4096);
  c.alpha = json_number(j, "lora_alpha", where);
  c.dropout = json_number_or(j, "lora_dropout", where, 0.0);
  c.targets = json_string_array(j, "target_modules", where);
  c.use_rslora = json_bool_or(j, "use_rslora", where, false);
  c.base_model = json_text_or(j, "base_model_name_or_path", where, "");
  if (json_text_or(j, "bias", where, "none") != "none") throw Error(where + ": field \"bias\": only \"none\" is supported");
  if (json_bool_or(j, "fan_in_fan_out", where, false)) throw Error(where + ": field \"fan_in_fan_out\": only false is supported");
  if (json_bool_or(j, "use_dora", where, false)) throw Error(where + ": field \"use_dora\": DoRA is not supported");
  for (const char* f : {"layers_to_transform", "modules_to_save"})
    if (json_find(j, f)) throw Error(where + ": field \"" + std::string(f) + "\" is not supported (must be null)");
  for (const char* f : {"rank_pattern", "alpha_pattern"})
    if (const auto* p = json_find(j, f); p && !p->empty())
      throw Error(where + ": field \"" + std::string(f) + "\" is not supported (must be empty)");
  c.validate(where);
  return c;
}

std::vector<std::string> lora_module_names() {
  return {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
}

}  // namespace steper
