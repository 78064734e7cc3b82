#include "distill/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/io.h"
#include "core/text.h"

namespace steper {

namespace fs = std::filesystem;

namespace {

const char* const kPointer = "checkpoint.json";
const char* const kWeights = "weights.pt";
const char* const kOptimizer = "optimizer.pt";
const char* const kPrefix = "checkpoint-";

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Runs a libtorch read, turning its errors into one line naming the file.
template <typename Fn>
void torch_read(const std::string& path, Fn&& fn) {
  try {
    fn();
  } catch (const c10::Error& e) {
    throw Error(path + ": damaged or not written by this trainer (" + first_line(e.what_without_backtrace()) + ")");
  }
}

void require_finite(const torch::Tensor& t, const std::string& path, const std::string& name) {
  if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>())
    throw Error(path + ": tensor " + name + " holds values that are not finite");
}

std::string serialize(torch::serialize::OutputArchive& ar) {
  std::ostringstream os;
  ar.save_to(os);
  return os.str();
}

// The record state.json keeps of one file.
nlohmann::json file_record(const std::string& bytes) {
  return {{"bytes", bytes.size()}, {"fnv1a64", hex64(fnv1a64(bytes))}};
}

// The file's bytes, after checking them against the record in state.json.
std::string read_verified(const fs::path& dir, const char* name, const nlohmann::json& files,
                          const std::string& state_path) {
  const std::string where = state_path + ": files";
  const nlohmann::json& rec = json_object(files, name, where);
  const int64_t bytes = json_int(rec, "bytes", where + "." + name);
  const std::string hash = json_text(rec, "fnv1a64", where + "." + name);
  const std::string path = (dir / name).string();
  if (!file_exists(path)) throw Error(path + ": missing (state.json records it)");
  std::string data = read_file(path);
  if (static_cast<int64_t>(data.size()) != bytes)
    throw Error(path + ": " + std::to_string(data.size()) + " bytes, but state.json records " + std::to_string(bytes) +
                " (truncated or replaced)");
  if (hex64(fnv1a64(data)) != hash)
    throw Error(path + ": content does not match the FNV-1a hash state.json records (damaged)");
  return data;
}

// The step a checkpoint folder name carries ("checkpoint-00000012" -> 12), or -1 when it is not one.
int64_t step_of_name(const std::string& name) {
  if (name.rfind(kPrefix, 0) != 0) return -1;
  std::string digits = name.substr(std::string(kPrefix).size());
  if (digits.empty() || digits.size() > 18) return -1;
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  return std::stoll(digits);
}

void check_fingerprint(const nlohmann::json& recorded, const nlohmann::json& fingerprint,
                       const std::string& state_path) {
  static const std::map<std::string, std::string> flag = {
      {"objective", "--objective"},   {"seed", "--seed"},       {"batch_tokens", "--batch-tokens"},
      {"grad_accum", "--grad-accum"}, {"lr", "--lr"},           {"warmup", "--warmup"},
      {"max_len", "--max-len"},       {"world_size", "the world size (--nproc, WORLD_SIZE)"},
      {"total_steps", "total steps (--epochs/--train-steps/--train-tokens)"}, {"packing", "packing"},
      {"lora", "the LoRA settings (--lora-rank, --lora-alpha, --lora-dropout, --lora-targets)"},
      {"lora_base_bf16", "--lora-base-bf16"}};
  for (auto it = fingerprint.begin(); it != fingerprint.end(); ++it) {
    if (recorded.contains(it.key()) && recorded[it.key()] == it.value()) continue;
    if (it.key() == "packing" && !recorded.contains("packing") && it.value() == false) continue;  // before packing
    if (it.key() == "lora" && !recorded.contains("lora") && it.value().is_null()) continue;  // before LoRA
    if (it.key() == "lora_base_bf16" && !recorded.contains(it.key()) && it.value() == false) continue;  // before it
    auto f = flag.find(it.key());
    throw Error(state_path + ": --resume: the checkpoint was written with " +
                (f != flag.end() ? f->second : it.key()) + " " +
                (recorded.contains(it.key()) ? recorded[it.key()].dump() : "(none)") + ", this run has " +
                it.value().dump());
  }
}

// The counters of state.json, each checked against the run: step within [0, total_steps] and equal to the
// folder's number; the token counts equal to what replaying steps 1..step gives.
TrainState read_counters(const nlohmann::json& state, const std::string& state_path, int64_t total_steps,
                         const std::string& folder, const ReplayState& replay) {
  TrainState st;
  st.step = json_int(state, "step", state_path);
  auto bad = [&](const char* field, int64_t v, const std::string& why) {
    throw Error(state_path + ": field \"" + field + "\" is " + std::to_string(v) + ", " + why);
  };
  if (st.step < 0 || st.step > total_steps)
    bad("step", st.step, "outside [0, " + std::to_string(total_steps) + "] (this run's steps)");
  if (st.step != step_of_name(folder)) bad("step", st.step, "but the folder is " + folder);
  const TrainState want = replay(st.step);
  const std::pair<const char*, int64_t TrainState::*> counts[] = {
      {"tokens", &TrainState::tokens}, {"target_tokens", &TrainState::target_tokens},
      {"padded_tokens", &TrainState::padded_tokens}};
  for (const auto& [field, member] : counts) {
    st.*member = json_int(state, field, state_path);
    if (st.*member != want.*member)
      bad(field, st.*member, "but steps 1-" + std::to_string(st.step) + " of this run process " +
                                 std::to_string(want.*member));
  }
  return st;
}

void load_weights(const std::string& bytes, const std::string& path, const CheckpointParts& p, torch::Device device) {
  torch::serialize::InputArchive ar;
  std::istringstream in(bytes);
  torch_read(path, [&] { ar.load_from(in); });
  torch::NoGradGuard no_grad;
  auto restore = [&](const std::string& name, torch::Tensor& into) {
    torch::Tensor t;
    bool found = false;
    torch_read(path, [&] { found = ar.try_read(name, t); });
    if (!found) throw Error(path + ": no tensor " + name);
    if (t.sizes() != into.sizes())
      throw Error(path + ": tensor " + name + " has shape " + c10::str(t.sizes()) + ", the model has " +
                  c10::str(into.sizes()));
    require_finite(t, path, name);
    into.copy_(t.to(device));
  };
  for (auto np : p.weights) restore(np.first, np.second);
  restore("steper.log_var", p.weighting->log_var);
  torch::Tensor rng;
  bool found = false;
  torch_read(path, [&] { found = ar.try_read("steper.cpu_rng_state", rng); });
  if (!found) throw Error(path + ": no tensor steper.cpu_rng_state");
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  torch_read(path, [&] { gen.set_state(rng); });
}

void load_optimizer(const std::string& bytes, const std::string& path, const CheckpointParts& p,
                    torch::Device device) {
  torch::serialize::InputArchive ar;
  std::istringstream in(bytes);
  torch_read(path, [&] {
    ar.load_from(in, device);
    p.optimizer.load(ar);
  });
  for (const auto& kv : p.optimizer.state()) {
    const auto* s = dynamic_cast<const torch::optim::AdamWParamState*>(kv.second.get());
    if (!s) continue;
    require_finite(s->exp_avg(), path, "exp_avg");
    require_finite(s->exp_avg_sq(), path, "exp_avg_sq");
  }
}

}  // namespace

uint64_t fnv1a64(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

nlohmann::json resume_fingerprint(const TrainConfig& c, int64_t total_steps) {
  nlohmann::json lora;
  if (c.lora) {
    lora = c.lora->to_peft_json();
    lora.erase("base_model_name_or_path");  // where the base lies may change; --model's weights may not
  }
  return {{"objective", c.objective}, {"seed", c.seed},           {"batch_tokens", c.batch_tokens},
          {"grad_accum", c.grad_accum}, {"lr", c.lr},             {"warmup", c.warmup},
          {"total_steps", total_steps}, {"max_len", c.max_len},   {"world_size", c.dist.world_size},
          {"packing", c.packing},       {"lora", lora},           {"lora_base_bf16", c.lora_base_bf16}};
}

bool checkpoint_packing(const std::string& out) {
  const std::string latest = checkpoint_latest(out);
  if (latest.empty()) throw Error(out + ": --resume: no checkpoint here (" + kPointer + " missing)");
  const std::string state_path = (fs::path(latest) / "state.json").string();
  if (!file_exists(state_path)) throw Error(state_path + ": missing (" + kPointer + " names this checkpoint)");
  const nlohmann::json state = read_json(state_path);
  const nlohmann::json& fp = json_object(state, "fingerprint", state_path);
  if (!fp.contains("packing")) return false;  // written before packing existed: the per-example form
  if (!fp["packing"].is_boolean()) throw Error(state_path + ": field \"fingerprint.packing\" must be true or false");
  return fp["packing"].get<bool>();
}

void checkpoint_write(const std::string& out, const CheckpointParts& p, const TrainState& st,
                      const nlohmann::json& fingerprint) {
  char name[64];
  std::snprintf(name, sizeof name, "%s%08lld", kPrefix, static_cast<long long>(st.step));
  const fs::path final_dir = fs::path(out) / name;
  const fs::path tmp = fs::path(out) / (std::string(name) + ".tmp-" + std::to_string(getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::string weights, optimizer;
  {
    torch::serialize::OutputArchive ar;
    for (const auto& np : p.weights) ar.write(np.first, np.second.detach().to(torch::kCPU));
    ar.write("steper.log_var", p.weighting->log_var.detach().to(torch::kCPU));
    auto gen = at::detail::getDefaultCPUGenerator();
    torch::Tensor rng;
    {
      std::lock_guard<std::mutex> lock(gen.mutex());
      rng = gen.get_state();
    }
    ar.write("steper.cpu_rng_state", rng);
    weights = serialize(ar);
  }
  {
    torch::serialize::OutputArchive ar;
    p.optimizer.save(ar);
    optimizer = serialize(ar);
  }
  write_file_atomic((tmp / kWeights).string(), weights);
  write_file_atomic((tmp / kOptimizer).string(), optimizer);
  const nlohmann::json state = {{"step", st.step},
                                {"tokens", st.tokens},
                                {"target_tokens", st.target_tokens},
                                {"padded_tokens", st.padded_tokens},
                                {"fingerprint", fingerprint},
                                {"files", {{kWeights, file_record(weights)}, {kOptimizer, file_record(optimizer)}}}};
  write_json_atomic((tmp / "state.json").string(), state);
  fs::remove_all(final_dir);
  rename_durable(tmp.string(), final_dir.string());
  write_json_atomic((fs::path(out) / kPointer).string(), {{"latest", name}});
  // older checkpoints go once the pointer names the new one
  for (const auto& entry : fs::directory_iterator(out)) {
    std::string n = entry.path().filename().string();
    if (entry.is_directory() && n.rfind(kPrefix, 0) == 0 && n != name) fs::remove_all(entry.path());
  }
}

std::string checkpoint_latest(const std::string& out) {
  const std::string pointer = (fs::path(out) / kPointer).string();
  if (!file_exists(pointer)) return "";
  const std::string name = json_text(read_json(pointer), "latest", pointer);
  if (step_of_name(name) < 0)
    throw Error(pointer + ": field \"latest\" must name a " + kPrefix + "<step> folder, got \"" + name + "\"");
  return (fs::path(out) / name).string();
}

TrainState checkpoint_read(const std::string& out, const CheckpointParts& p, const nlohmann::json& fingerprint,
                           const ReplayState& replay, torch::Device device) {
  const std::string latest = checkpoint_latest(out);
  if (latest.empty()) throw Error(out + ": --resume: no checkpoint here (" + kPointer + " missing)");
  const fs::path dir(latest);
  const std::string state_path = (dir / "state.json").string();
  if (!file_exists(state_path)) throw Error(state_path + ": missing (" + kPointer + " names this checkpoint)");
  const nlohmann::json state = read_json(state_path);
  if (!state.is_object()) throw Error(state_path + ": expected a JSON object");
  check_fingerprint(json_object(state, "fingerprint", state_path), fingerprint, state_path);
  const int64_t total_steps = fingerprint.at("total_steps").get<int64_t>();
  TrainState st = read_counters(state, state_path, total_steps, dir.filename().string(), replay);
  const nlohmann::json& files = json_object(state, "files", state_path);
  // both files verified before either is loaded: a damaged checkpoint changes nothing
  const std::string weights = read_verified(dir, kWeights, files, state_path);
  const std::string optimizer = read_verified(dir, kOptimizer, files, state_path);
  load_weights(weights, (dir / kWeights).string(), p, device);
  load_optimizer(optimizer, (dir / kOptimizer).string(), p, device);
  return st;
}

}  // namespace steper
