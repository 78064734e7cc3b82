// steper index: build the BM25 index of a corpus (JSONL passages), or of a data set's own context paragraphs
// (the distractor setting), into a folder.
#include <cstdio>
#include <memory>

#include "cli/args.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/io.h"
#include "data/formats.h"
#include "retrieval/retriever.h"

namespace steper {
namespace {

CommandRegistrar reg({"index", "Build the BM25 index (title + text, English stemming) of a corpus",
                      [](CLI::App* sub) {
  auto corpus = std::make_shared<std::string>();
  auto index = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  auto shards = std::make_shared<int>(0);
  auto memory = std::make_shared<int>(1024);
  auto servable = std::make_shared<bool>(false);
  auto data = std::make_shared<std::string>();
  auto corpus_out = std::make_shared<std::string>();
  auto strict = std::make_shared<bool>(false);
  auto corpus_opt = sub->add_option("--corpus", *corpus, "corpus JSONL: {id, title, text} (or paragraph_text, or contents)");
  auto data_opt = sub->add_option(
      "--data", *data,
      "index a data set's own context paragraphs instead (the distractor setting): HotpotQA, 2WikiMultiHopQA, "
      "MuSiQue, IRCoT or datasets export; one passage per distinct (title, text), its sentences joined by one "
      "space, ids \"0\", \"1\", ... in order of first appearance (the same file gives the same ids)");
  corpus_opt->excludes(data_opt);
  sub->add_option("--corpus-out", *corpus_out, "with --data: also write that corpus as JSONL here")->needs(data_opt);
  add_strict_flag(sub, *strict);
  sub->add_option("--index", *index, "index folder to write (an existing steper index there is replaced)")
      ->required();
  sub->add_option("--threads", *threads, "threads analysing passages (0 = all cores)")->capture_default_str();
  sub->add_option("--shards", *shards,
                  "shards, built in parallel and searched as one (with --servable, each can be served by xapian-tcpsrv); "
                  "0 = one per thread for corpora of 4,096 passages a shard or more")
      ->capture_default_str();
  sub->add_option("--memory-mb", *memory, "memory for buffered postings, all shards together")->capture_default_str();
  sub->add_flag("--servable", *servable,
                "build Xapian databases with the termlist xapian-tcpsrv needs to serve the index or its shards "
                "remotely, instead of steper's native index (slower to build and to search locally)");
  return std::function<int()>([=] {
    if (*threads < 0) throw Error("--threads must be 0 (all cores) or more, got " + std::to_string(*threads));
    if (*shards < 0) throw Error("--shards must be 0 (automatic) or more, got " + std::to_string(*shards));
    if (*memory < 16) throw Error("--memory-mb must be at least 16, got " + std::to_string(*memory));
    if (corpus->empty() && data->empty()) throw Error("--corpus or --data is required");
    IndexOptions opts;
    opts.threads = *threads;
    opts.shards = *shards;
    opts.memory_mb = *memory;
    opts.servable = *servable;
    IndexStats stats;
    if (!data->empty()) {
      std::vector<Passage> passages = corpus_from_contexts(read_questions(*data, *strict));
      if (passages.empty()) throw Error(*data + ": its questions have no context paragraphs to index");
      if (!corpus_out->empty()) write_corpus(*corpus_out, passages);
      stats = bm25_build_index(passages, *index, opts);
    } else {
      CorpusReader reader(*corpus);  // streamed: a Wikipedia-sized corpus is never held whole
      opts.expected_passages = file_line_count(*corpus);  // for the progress line and automatic shards
      stats = bm25_build_index_stream(
          [&](std::vector<Passage>& batch) {
            batch.clear();
            Passage p;
            while (batch.size() < 2048 && reader.corpus_next(p)) batch.push_back(std::move(p));
            return !batch.empty();
          },
          *index, opts);
    }
    std::fprintf(stderr, "index: %zu passages in %s (%zu shard%s, %zu duplicates skipped, %.1f s)\n", stats.passages,
                 index->c_str(), stats.shards, stats.shards == 1 ? "" : "s", stats.duplicates, stats.seconds);
    return 0;
  });
}});

}  // namespace
}  // namespace steper
