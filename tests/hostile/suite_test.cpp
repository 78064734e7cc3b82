// The damaged-input suite: every file kind steper reads, damaged deterministically (damage.h), fed to its
// reader in process. Each variant must end in a one-line steper::Error naming the file, or load as the
// valid input it still is. Counts per kind go to the test output.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "core/trace_json.h"
#include "data/formats.h"
#include "fixtures.h"
#include "gguf/gguf_export.h"
#include "gguf/gguf_reader.h"
#include "model/model.h"
#include "retrieval/retriever.h"
#include "runner.h"
#include "teacher/teach.h"

namespace steper {
namespace hostile {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Runs the kind and reports: failures fail the test for readers this suite covers; for a reader whose
// owner is named, they are listed ("left to ...") without failing. Once that reader is fixed, clear the
// kind's `owner` so that any new failure fails the test.
void check_kind(const FileKind& kind) {
  std::string work = scratch_dir() + "/run_" + std::to_string(std::hash<std::string>()(kind.name));
  KindReport rep = run_kind(kind, work);
  std::printf("[ hostile  ] %s: %s\n", kind.name.c_str(), rep.text().c_str());
  // Also one file per kind, which scripts/test.sh prints after ctest (which shows no output of passing tests).
  std::string counts = std::string(STEPER_BINARY_DIR) + "/tests/hostile/counts";
  std::string file;
  for (char c : kind.name) file += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  std::string line = "hostile inputs, " + kind.name + ": " + rep.text() +
                     (kind.owner.empty() || rep.failures.empty() ? "" : " (left to " + kind.owner + ")") + "\n";
  place_file(counts, file + ".txt", line);
  ::testing::Test::RecordProperty("variants", static_cast<int>(rep.tried));
  ::testing::Test::RecordProperty("rejected", static_cast<int>(rep.rejected));
  ::testing::Test::RecordProperty("accepted_valid", static_cast<int>(rep.accepted));
  EXPECT_GT(rep.tried, 10u);
  if (kind.owner.empty()) {
    for (const auto& f : rep.failures) ADD_FAILURE() << kind.name << ": " << brief(f);
  } else {
    for (const auto& f : rep.failures)
      std::printf("[ hostile  ]   left to %s: %s\n", kind.owner.c_str(), brief(f).c_str());
  }
  std::fflush(stdout);
}

size_t count_list(const std::string& summary) { return json::parse(summary).size(); }

std::string corpus_summary(const std::string& path) {
  json all = json::array();
  for (const auto& p : read_corpus(path)) all.push_back(to_json(p));
  return all.dump();
}

std::string questions_summary(const std::string& path) {
  json all = json::array();
  for (const auto& q : read_questions(path)) all.push_back(to_json(q));
  return all.dump();
}

// Ids, labels and answers may be integers, read as their decimal text: "set P = 7" for each path.
std::vector<std::string> ints_as_text(const std::vector<std::string>& paths, std::vector<std::string> more = {}) {
  for (const auto& p : paths) more.push_back("set " + p + " = 7");
  return more;
}

FileKind question_kind(const std::string& name, const std::string& fixture, Layout layout, const std::string& file,
                       std::vector<std::string> other_valid_forms = {}) {
  FileKind k;
  k.other_valid_forms = std::move(other_valid_forms);
  k.name = name;
  k.base = read_file(fixture_path(fixture));
  k.layout = layout;
  k.place = [file](const std::string& dir, const std::string& bytes) { return place_file(dir, file, bytes); };
  k.load = questions_summary;
  k.records = count_list;
  return k;
}

// ---------------------------------------------------------------- data files

TEST(HostileInputs, CorpusJsonl) {
  FileKind k;
  k.name = "corpus JSONL";
  std::vector<Passage> ps;
  for (int i = 0; i < 6; ++i)
    ps.push_back({"p" + std::to_string(i), "Title " + std::to_string(i), toy_texts()[static_cast<size_t>(i)]});
  std::string base = scratch_dir() + "/corpus_base.jsonl";
  write_corpus(base, ps);
  k.base = read_file(base);
  k.place = [](const std::string& dir, const std::string& bytes) { return place_file(dir, "corpus.jsonl", bytes); };
  k.load = corpus_summary;
  k.other_valid_forms = ints_as_text({"/id"});
  k.records = count_list;
  check_kind(k);
}

TEST(HostileInputs, QuestionsHotpotOfficialJson) {
  check_kind(question_kind("questions HotpotQA JSON", "data/hotpot_official.json", Layout::kJsonList, "q.json",
                           ints_as_text({"/_id", "/answer", "/type"},
                                        {"set /context/0/1 = \"x\""})));  // a paragraph given as one string
}

TEST(HostileInputs, Questions2WikiJson) {
  check_kind(question_kind("questions 2WikiMultiHopQA JSON", "data/twowiki_official.json", Layout::kJsonList,
                           "q.json",
                           ints_as_text({"/_id", "/answer", "/type"}, {"set /context/0/1 = \"x\""})));
}

TEST(HostileInputs, QuestionsHuggingFaceJsonl) {
  // The official list forms of supporting_facts and context, and a paragraph as one string.
  check_kind(question_kind("questions Hugging Face JSONL", "data/hf_hotpot.jsonl", Layout::kJsonLines, "q.jsonl",
                           ints_as_text({"/id", "/answer", "/type"}, {"set /supporting_facts = []", "set /context = []",
                                                                      "set /context/sentences/0 = \"x\""})));
}

TEST(HostileInputs, QuestionsMusiqueJsonl) {
  check_kind(question_kind("questions MuSiQue JSONL", "data/musique.jsonl", Layout::kJsonLines, "q.jsonl",
                           ints_as_text({"/id", "/answer"})));
}

TEST(HostileInputs, QuestionsIrcotJsonl) {
  check_kind(question_kind("questions IRCoT JSONL", "data/ircot.jsonl", Layout::kJsonLines, "q.jsonl",
                           ints_as_text({"/question_id", "/type", "/answers_objects/0/number",
                                         "/answers_objects/0/date/day", "/answers_objects/0/date/month",
                                         "/answers_objects/0/date/year", "/answers_objects/0/spans/0"})));
}

// ---------------------------------------------------------------- model folders

// Everything a loaded model shows: its vocabulary, how it tokenizes, its next-token logits.
std::string model_summary(const std::string& dir) {
  auto lm = LanguageModel::load(dir);
  std::vector<int32_t> ids = lm->tokenizer().encode("Alvar Quint was born in Port Ember.", true);
  std::vector<float> logits = lm->next_token_logits(ids);
  json j = {{"vocab", lm->tokenizer().vocab_size()}, {"ids", ids}};
  for (size_t i = 0; i < logits.size(); i += 37) j["logits"].push_back(logits[i]);
  return j.dump();
}

FileKind model_file_kind(const std::string& file, Layout layout, const std::string& owner = "") {
  FileKind k;
  k.name = "model folder " + file;
  k.owner = owner;
  k.base = read_file(tiny_model_dir() + "/" + file);
  k.layout = layout;
  k.damage.max_field_variants = 60;
  k.place = [file](const std::string& dir, const std::string& bytes) {
    return place_in_folder(dir, tiny_model_dir(), file, bytes);
  };
  k.load = model_summary;
  return k;
}

TEST(HostileInputs, ModelConfigJson) { check_kind(model_file_kind("config.json", Layout::kJsonObject)); }

TEST(HostileInputs, ModelGenerationConfigJson) {
  check_kind(model_file_kind("generation_config.json", Layout::kJsonObject));
}

TEST(HostileInputs, ModelSafetensors) {
  FileKind k = model_file_kind("model.safetensors", Layout::kBinary);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(k.base[static_cast<size_t>(i)]);
  k.damage.header_bytes = static_cast<size_t>(8 + n);
  k.damage.flips = 32;
  k.extra_variants = [opts = k.damage](const std::string& base) { return safetensors_header_variants(base, opts); };
  check_kind(k);
}

TEST(HostileInputs, ModelTokenizerJson) {
  check_kind(model_file_kind("tokenizer.json", Layout::kJsonObject, "src/text (tokenizer_load.cpp)"));
}

// ---------------------------------------------------------------- GGUF

std::string gguf_summary(const std::string& path) {
  auto g = GgufFile::open(path);
  json j = {{"version", g->version()}, {"keys", g->metadata().size()}};
  for (const auto& t : g->tensors()) {
    std::vector<float> v = g->tensor_f32(t);
    double sum = 0;
    for (float x : v) sum += x;
    j["tensors"].push_back({t.name, t.shape(), sum});
  }
  return j.dump();
}

TEST(HostileInputs, Gguf) {
  FileKind k;
  k.name = "GGUF file";
  std::string base = scratch_dir() + "/tiny.gguf";
  Progress::set_quiet(true);
  gguf_export(tiny_model_dir(), base);
  Progress::set_quiet(false);
  k.base = read_file(base);
  k.layout = Layout::kBinary;
  k.damage.header_bytes = 4096;
  k.damage.flips = 32;
  k.place = [](const std::string& dir, const std::string& bytes) { return place_file(dir, "m.gguf", bytes); };
  k.load = gguf_summary;
  check_kind(k);
}

// What export-gguf reads from a model folder: each file damaged, the export run in full.
FileKind gguf_export_kind(const std::string& file, Layout layout) {
  FileKind k = model_file_kind(file, layout);
  k.name = "export-gguf of " + file;
  k.damage.max_field_variants = 40;
  k.damage.flips = 12;
  k.load = [](const std::string& dir) {
    const std::string out = dir + "/out.gguf";
    Progress::set_quiet(true);
    GgufExportOptions opts;
    opts.name = "m";  // not the folder's name, which differs from variant to variant
    GgufExportSummary s = gguf_export(dir, out, opts);
    Progress::set_quiet(false);
    std::string bytes = read_file(out);
    fs::remove(out);
    return json({s.architecture, s.pre_tokenizer, s.n_tensors, s.n_vocab, std::hash<std::string>()(bytes)}).dump();
  };
  return k;
}

TEST(HostileInputs, GgufExportConfigJson) { check_kind(gguf_export_kind("config.json", Layout::kJsonObject)); }
TEST(HostileInputs, GgufExportTokenizerJson) { check_kind(gguf_export_kind("tokenizer.json", Layout::kJsonObject)); }
TEST(HostileInputs, GgufExportSafetensors) { check_kind(gguf_export_kind("model.safetensors", Layout::kBinary)); }

// ---------------------------------------------------------------- teach output, traces

Trace toy_trace(int i) {
  Trace t;
  t.id = "q" + std::to_string(i);
  t.question = "Where was " + std::string(i % 2 ? "Alvar Quint" : "Dita Holm") + " born?";
  t.answers = {"Port Ember"};
  t.type = "bridge";
  t.hops = 2;
  t.teacher = "gold";
  TraceStep s1;
  s1.query = t.question;
  s1.retrieved.push_back({{"p1", "Alvar Quint", "Alvar Quint was born in Port Ember."}, 3.5});
  s1.sentence = "Alvar Quint was born in Port Ember.";
  TraceStep s2;
  s2.sentence = "So the answer is: Port Ember.";
  t.steps = {s1, s2};
  t.answer = "Port Ember";
  t.answered = true;
  t.correct = true;
  return t;
}

std::string traces_summary(const std::string& path) {
  json all = json::array();
  for (const auto& t : read_teach_traces(path, false)) all.push_back(to_json(t));
  return all.dump();
}

TEST(HostileInputs, TeachOutputJsonl) {
  FileKind k;
  k.name = "teach output JSONL";
  for (int i = 0; i < 3; ++i) {
    json j = to_json(toy_trace(i));
    j["kept"] = true;
    j["reason"] = "kept";
    k.base += j.dump() + "\n";
  }
  k.place = [](const std::string& dir, const std::string& bytes) { return place_file(dir, "teach.jsonl", bytes); };
  k.load = traces_summary;
  k.other_valid_forms = ints_as_text({"/id", "/steps/0/passages/0/id"});
  k.invalid_forms = {"empty /steps", "empty /answers"};  // a trace without steps, a question without answers
  k.records = count_list;
  check_kind(k);
}

// ---------------------------------------------------------------- Xapian index folders

std::string index_summary(const std::string& dir) {
  auto r = bm25_open_index(dir, 1);
  json j = {{"size", r->size()}};
  for (const char* q : {"born Port Ember", "Institute", "Sallow Hill works"})
    for (const auto& p : r->search(q, 3)) j["hits"].push_back(p.passage.id);
  return j.dump();
}

std::vector<Passage> index_passages() {
  std::vector<Passage> ps;
  for (size_t i = 0; i < 40; ++i) ps.push_back({"p" + std::to_string(i), "T" + std::to_string(i % 7), toy_texts()[i]});
  return ps;
}

// Every file of an index folder (SUB a folder inside it, or ""), damaged in turn, the others intact.
void check_index_files(const std::string& base_dir, const std::string& sub) {
  size_t kinds = 0;
  for (const auto& e : fs::directory_iterator(fs::path(base_dir) / sub)) {
    if (!e.is_regular_file() || e.file_size() == 0) continue;  // an empty lock file has nothing to damage
    const std::string file = (fs::path(sub) / e.path().filename()).string();
    FileKind k;
    k.name = "index folder " + file;
    k.base = read_file(e.path().string());
    k.layout = e.path().extension() == ".json" ? Layout::kJsonObject : Layout::kBinary;
    k.damage.flips = 8;
    k.place = [base_dir, file, nested = !sub.empty()](const std::string& dir, const std::string& bytes) {
      return place_in_folder(dir, base_dir, file, bytes, nested);  // a nested file: its folder copied
    };
    k.load = index_summary;
    check_kind(k);
    ++kinds;
  }
  EXPECT_GT(kinds, 0u);
}

TEST(HostileInputs, XapianIndexFolder) {
  const std::string base_dir = scratch_dir() + "/index_base";
  IndexOptions opts;
  opts.backend = IndexBackend::xapian;
  opts.threads = 1;
  opts.show_progress = false;
  bm25_build_index(index_passages(), base_dir, opts);
  check_index_files(base_dir, "");
}

TEST(HostileInputs, NativeIndexFolder) {
  const std::string base_dir = scratch_dir() + "/native_index_base";
  IndexOptions opts;
  opts.threads = 1;
  opts.shards = 1;
  opts.show_progress = false;
  bm25_build_index(index_passages(), base_dir, opts);
  check_index_files(base_dir, "");
  check_index_files(base_dir, "shard-000");
}

}  // namespace
}  // namespace hostile
}  // namespace steper
