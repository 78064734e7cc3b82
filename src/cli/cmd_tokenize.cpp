// steper tokenize --model DIR|tokenizer.json [--add-special] TEXT -> the ids as a JSON array.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "text/tokenizer.h"

namespace steper {
namespace {

CommandRegistrar reg(
    {"tokenize", "Token ids of a text as a JSON array (like llama-tokenize)", [](CLI::App* sub) {
       auto model = std::make_shared<std::string>();
       auto text = std::make_shared<std::string>();
       auto add_special = std::make_shared<bool>(false);
       sub->add_option("--model", *model, "model folder or tokenizer.json")->required();
       sub->add_flag("--add-special", *add_special,
                     "apply the post-processor (e.g. Llama-3's <|begin_of_text|>)");
       sub->add_option("text", *text, "the text to tokenize")->required();
       return std::function<int()>([=] {
         Tokenizer tokenizer = Tokenizer::from_file(*model);
         std::vector<int32_t> ids = tokenizer.encode(*text, *add_special);
         std::string out = "[";
         for (size_t i = 0; i < ids.size(); ++i) {
           if (i) out += ", ";
           out += std::to_string(ids[i]);
         }
         out += "]\n";
         std::fputs(out.c_str(), stdout);
         return 0;
       });
     }});

}  // namespace
}  // namespace steper
