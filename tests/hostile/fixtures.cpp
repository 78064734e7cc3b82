#include "fixtures.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "core/io.h"
#include "model/model.h"

namespace steper {
namespace hostile {

namespace fs = std::filesystem;

std::string scratch_dir() {
  static std::string dir = [] {
    fs::path p = fs::temp_directory_path() / ("steper_hostile_" + std::to_string(getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    static std::string keep = p.string();
    std::atexit([] { std::error_code ec; fs::remove_all(keep, ec); });
    return p.string();
  }();
  return dir;
}

std::string fixture_path(const std::string& rel) { return std::string(STEPER_FIXTURES) + "/" + rel; }

std::vector<std::string> toy_texts() {
  std::vector<std::string> texts;
  const char* names[] = {"Alvar Quint", "Bessa Morrow", "Corin Vale", "Dita Holm", "Evren Sallow"};
  const char* places[] = {"Harrowgate", "Lindqvist Institute", "Port Ember", "Sallow Hill"};
  for (int i = 0; i < 60; ++i)
    texts.push_back(std::string(names[i % 5]) + " was born in " + places[i % 4] + " and works at the " +
                    places[(i + 1) % 4] + ". So the answer is: " + names[(i + 2) % 5] + ".");
  return texts;
}

const std::string& tiny_model_dir() {
  static std::string dir = [] {
    std::string d = scratch_dir() + "/tiny_model";
    init_model_folder(toy_texts(), d, "tiny", 7, 400);
    return d;
  }();
  return dir;
}

std::string tiny_model_with_context(int context) {
  std::string d = scratch_dir() + "/tiny_model_ctx" + std::to_string(context);
  if (fs::exists(d)) return d;
  fs::copy(tiny_model_dir(), d, fs::copy_options::recursive);
  nlohmann::json cfg = read_json(d + "/config.json");
  cfg["max_position_embeddings"] = context;
  write_json_atomic(d + "/config.json", cfg);
  return d;
}

std::string brief(const std::string& text) { return text.size() > 300 ? text.substr(0, 300) + "..." : text; }

}  // namespace hostile
}  // namespace steper
