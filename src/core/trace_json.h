// JSON forms of the shared types (the trace format of docs/DESIGN.md section 3).
#pragma once

#include <nlohmann/json.hpp>

#include "core/types.h"

namespace steper {

nlohmann::json to_json(const Passage& p);
nlohmann::json to_json(const LoopOptions& o);
nlohmann::json to_json(const ScoredPassage& p);
nlohmann::json to_json(const Trace& t);
nlohmann::json to_json(const StepExample& e);
nlohmann::json to_json(const Question& q);

// `where` names the file and line for error messages.
Trace trace_from_json(const nlohmann::json& j, const std::string& where);
LoopOptions loop_options_from_json(const nlohmann::json& j, const std::string& where);
StepExample example_from_json(const nlohmann::json& j, const std::string& where);
Question question_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace steper
