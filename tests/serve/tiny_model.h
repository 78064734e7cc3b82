// The serve tests' model: a from-scratch tiny model (steper init's) trained on nothing, over a few
// sentences' vocabulary; loaded once per test binary.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"

namespace steper {

inline LanguageModel& tiny_model() {
  static std::unique_ptr<LanguageModel> lm = [] {
    std::vector<std::string> t;
    const char* names[] = {"Alvar Quint", "Bessa Morrow", "Corin Vale", "Dita Holm"};
    const char* places[] = {"Harrowgate", "Port Ember", "Sallow Hill"};
    for (int i = 0; i < 48; ++i)
      t.push_back(std::string(names[i % 4]) + " was born in " + places[i % 3] + ". So the answer is: " + places[(i + 1) % 3] + ".");
    namespace fs = std::filesystem;
    std::string dir = (fs::temp_directory_path() / ("steper_serve_tiny_" + std::to_string(getpid()))).string();
    fs::remove_all(dir);
    init_model_folder(t, dir, "tiny", 5, 320);
    auto m = LanguageModel::load(dir);
    fs::remove_all(dir);
    return m;
  }();
  return *lm;
}

}  // namespace steper
