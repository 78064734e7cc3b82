// `teach` with a model folder as the teacher: the only part of the teacher stage that needs libtorch.
#include "core/error.h"
#include "core/io.h"
#include "teacher/teach.h"

#ifdef STEPER_HAS_LANGUAGE_MODEL
#include "model/model.h"
#endif

namespace steper {

TeachSummary teach_run(const TeachConfig& config) {
  if (config.teacher == "gold" || config.teacher == "openai") return teach_run_with(config);
  if (!file_exists(config.teacher))
    throw Error("--teacher \"" + config.teacher + "\": expected gold, openai or a model folder (no such folder)");
#ifdef STEPER_HAS_LANGUAGE_MODEL
  auto model = LanguageModel::load(config.teacher, config.device);
  TeachResources resources;
  resources.generator = model.get();
  return teach_run_with(config, resources);
#else
  throw Error("--teacher \"" + config.teacher + "\": this build has no model-folder support");
#endif
}

}  // namespace steper
