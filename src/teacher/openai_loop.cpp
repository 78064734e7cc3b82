#include "teacher/openai_loop.h"

#include <algorithm>

#include "rag/framework.h"
#include "teacher/fewshot.h"

namespace steper {

std::vector<Written> OpenAIStepWriter::write(const std::vector<const RagState*>& states) {
  generator_.take_failures();
  auto written = inner_.write(states);
  auto failures = generator_.take_failures();
  for (size_t i = 0; i < states.size() && i < written.size() && !failures.empty(); ++i) {
    auto it = failures.find(inner_.prompt_for(*states[i]));
    if (it != failures.end()) written[i] = Written::stop(TraceEnd::kRequestFailed, it->second);
  }
  return written;
}

ServedModel served_model(OpenAIOptions o, RagOptions& rag, const std::string& fewshot,
                         const std::vector<Question>& questions) {
  if (o.endpoint == OpenAIEndpoint::kChat && o.system_prompt.empty())
    o.system_prompt =
        framework_of(rag.loop) == Framework::kSelfAsk ? kOpenAISelfAskChatSystemPrompt : kOpenAIChatSystemPrompt;
  const std::string type = fewshot == "auto" ? fewshot_detect_type(questions) : fewshot;
  if (rag.prompt_prefix.empty()) rag.prompt_prefix = fewshot_prefix(type, rag.loop);
  rag.batch_size = std::max(rag.batch_size, o.concurrency);
  ServedModel m;
  m.generator = std::make_unique<OpenAIGenerator>(o);
  m.writer = std::make_unique<OpenAIStepWriter>(*m.generator, rag);
  return m;
}

}  // namespace steper
