// steper search: BM25 search of an index; one JSON object a line (id, title, text, score).
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/trace_json.h"
#include "retrieval/retriever.h"

namespace steper {
namespace {

CommandRegistrar reg({"search", "BM25 search: one JSON object a line (id, title, text, score)", [](CLI::App* sub) {
  auto index = std::make_shared<std::string>();
  auto k = std::make_shared<int>(4);
  auto query = std::make_shared<std::string>();
  auto queries = std::make_shared<std::string>();
  auto clean = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  sub->add_option("--index", *index,
                  "index folder (built by steper index), or several comma-separated index folders and remote "
                  "shards tcp://HOST:PORT (served by xapian-tcpsrv), searched as one index")
      ->required();
  add_k_flag(sub, *k);
  sub->add_option("query", *query, "the query");
  sub->add_option("--queries", *queries,
                  "file with one query a line, searched as a batch on all cores; each result also has "
                  "\"query\" and \"line\" (its line in the file; blank lines are not queries)");
  sub->add_flag("--clean", *clean, "drop wh-words and question marks first, as IRCoT does");
  sub->add_option("--threads", *threads, "search threads (0 = all cores)")->capture_default_str();
  return std::function<int()>([=] {
    if (*threads < 0) throw Error("--threads must be 0 (all cores) or more, got " + std::to_string(*threads));
    if (query->empty() == queries->empty())
      throw Error(query->empty() ? "give a QUERY or --queries FILE" : "give either a QUERY or --queries FILE, not both");
    std::vector<std::string> texts;
    std::vector<size_t> lines;
    if (!queries->empty()) {
      std::ifstream in(*queries);
      if (!in) throw Error("--queries: cannot read " + *queries);
      std::string line;
      for (size_t n = 1; std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        texts.push_back(line);
        lines.push_back(n);
      }
    } else {
      texts.push_back(*query);
    }
    std::vector<std::string> sent = texts;
    if (*clean)
      for (auto& t : sent) t = ircot_clean_query(t);
    auto retriever = bm25_open_index(*index, *threads);
    auto results = retriever->search_batch(sent, *k);
    for (size_t i = 0; i < results.size(); ++i) {
      for (const auto& sp : results[i]) {
        nlohmann::json j = to_json(sp);
        if (!queries->empty()) {
          j["query"] = texts[i];
          j["line"] = lines[i];
        }
        std::fputs((j.dump() + "\n").c_str(), stdout);
      }
    }
    return 0;
  });
}});

}  // namespace
}  // namespace steper
