// The from-scratch model sizes `steper init` offers ("tiny", "small"), shared with the benchmarks.
#pragma once

#include <string>

#include "model/llama.h"

namespace steper {

// The architecture of a size (vocab_size left 0: it comes from the tokenizer). Throws Error otherwise.
LlamaConfig llama_config_for_size(const std::string& size);

}  // namespace steper
