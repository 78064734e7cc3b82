// Valid inputs the hostile suites damage: built once per process under a temporary folder.
#pragma once

#include <string>
#include <vector>

namespace steper {
namespace hostile {

std::string scratch_dir();                 // removed at exit
std::string fixture_path(const std::string& rel);  // under tests/fixtures
const std::string& tiny_model_dir();       // a from-scratch "tiny" model folder (init_model_folder)
std::vector<std::string> toy_texts();

// A copy of the tiny model folder whose config.json sets the given max_position_embeddings.
std::string tiny_model_with_context(int context);

// "where" of a message, for failures: at most the first 300 characters.
std::string brief(const std::string& text);

}  // namespace hostile
}  // namespace steper
