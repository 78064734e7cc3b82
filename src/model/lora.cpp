#include "model/lora.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "model/lora_merge.h"
#include "model/safetensors.h"

namespace steper {

namespace fs = std::filesystem;

std::pair<int64_t, int64_t> lora_module_shape(const LlamaConfig& c, const std::string& m) {
  const int64_t D = c.hidden_size, I = c.intermediate_size, hd = c.head_dim;
  if (m == "q_proj") return {c.num_attention_heads * hd, D};
  if (m == "k_proj" || m == "v_proj") return {c.num_key_value_heads * hd, D};
  if (m == "o_proj") return {D, c.num_attention_heads * hd};
  if (m == "gate_proj" || m == "up_proj") return {I, D};
  if (m == "down_proj") return {D, I};
  throw BugError(__FILE__, __LINE__, "lora_module_shape: unknown module " + m);
}

std::string lora_tensor_name(int64_t layer, const std::string& module, char which) {
  const bool attn = module == "q_proj" || module == "k_proj" || module == "v_proj" || module == "o_proj";
  return "base_model.model.model.layers." + std::to_string(layer) + (attn ? ".self_attn." : ".mlp.") + module +
         ".lora_" + std::string(1, which) + ".weight";
}

LoraAdapters::LoraAdapters(LoraConfig cfg, const LlamaConfig& model) : cfg_(std::move(cfg)), layers_(model.num_hidden_layers) {
  cfg_.validate();
}

LoraAdapters::LoraAdapters(const LlamaConfig& model, const LoraConfig& cfg, uint64_t seed) : LoraAdapters(cfg, model) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  for (int64_t l = 0; l < layers_; ++l)
    for (const auto& m : cfg_.targets) {
      auto [out, in] = lora_module_shape(model, m);
      // kaiming_uniform_(a = sqrt(5)) on [r, in]: bound = sqrt(6 / ((1 + a^2) * fan_in)) = 1 / sqrt(in)
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      Pair p{torch::empty({cfg_.rank, in}).uniform_(-bound, bound, gen), torch::zeros({out, cfg_.rank})};
      p.a.set_requires_grad(true);
      p.b.set_requires_grad(true);
      pairs_[{l, m}] = p;
    }
}

bool LoraAdapters::targets(const std::string& module) const {
  return std::find(cfg_.targets.begin(), cfg_.targets.end(), module) != cfg_.targets.end();
}

torch::Tensor LoraAdapters::delta(int64_t layer, const std::string& module, const torch::Tensor& x, bool training) const {
  auto it = pairs_.find({layer, module});
  if (it == pairs_.end()) throw BugError(__FILE__, __LINE__, "no LoRA pair for " + lora_tensor_name(layer, module, 'A'));
  torch::Tensor in = cfg_.dropout > 0 && training ? torch::dropout(x, cfg_.dropout, true) : x;
  return torch::linear(torch::linear(in, it->second.a), it->second.b) * cfg_.scale();
}

std::vector<std::pair<std::string, torch::Tensor>> LoraAdapters::named_tensors() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (int64_t l = 0; l < layers_; ++l)
    for (const auto& m : lora_module_names()) {
      auto it = pairs_.find({l, m});
      if (it == pairs_.end()) continue;
      out.emplace_back(lora_tensor_name(l, m, 'A'), it->second.a);
      out.emplace_back(lora_tensor_name(l, m, 'B'), it->second.b);
    }
  return out;
}

void LoraAdapters::to(torch::Device device) {
  torch::NoGradGuard no_grad;
  for (auto& [key, p] : pairs_) {
    p.a = p.a.to(device).detach().set_requires_grad(true);
    p.b = p.b.to(device).detach().set_requires_grad(true);
  }
}

void LoraAdapters::save(const std::string& dir) const {
  make_dirs(dir);
  std::vector<torch::Tensor> keep;
  std::vector<TensorView> views;
  for (const auto& [name, t] : named_tensors()) {
    torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
    keep.push_back(c);
    TensorView v;
    v.name = name;
    v.dtype = DType::kF32;
    v.shape = c.sizes().vec();
    v.data = static_cast<const uint8_t*>(c.data_ptr());
    v.nbytes = static_cast<size_t>(c.numel()) * c.element_size();
    views.push_back(v);
  }
  safetensors_write((fs::path(dir) / "adapter_model.safetensors").string(), views, {{"format", "pt"}});
  write_json_atomic((fs::path(dir) / "adapter_config.json").string(), cfg_.to_peft_json());
}

LoraAdapters LoraAdapters::load(const std::string& dir, const LlamaConfig& model, torch::Device device) {
  const std::string cfg_path = (fs::path(dir) / "adapter_config.json").string();
  if (!file_exists(cfg_path)) throw Error(dir + ": not a LoRA adapter folder (no adapter_config.json)");
  LoraAdapters a(LoraConfig::from_peft_json(read_json(cfg_path), cfg_path), model);
  const std::string st_path = (fs::path(dir) / "adapter_model.safetensors").string();
  auto file = SafetensorsFile::open(st_path);
  std::map<std::string, const TensorView*> by_name;
  for (const auto& v : file->tensors()) by_name[v.name] = &v;
  size_t used = 0;
  for (int64_t l = 0; l < a.layers_; ++l)
    for (const auto& m : a.cfg_.targets) {
      auto [out, in] = lora_module_shape(model, m);
      Pair p;
      for (char which : {'A', 'B'}) {
        const std::string name = lora_tensor_name(l, m, which);
        auto it = by_name.find(name);
        if (it == by_name.end()) throw Error(st_path + ": tensor \"" + name + "\" is missing");
        const TensorView& v = *it->second;
        const std::vector<int64_t> want = which == 'A' ? std::vector<int64_t>{a.cfg_.rank, in}
                                                       : std::vector<int64_t>{out, a.cfg_.rank};
        if (v.shape != want || v.dtype != DType::kF32)
          throw Error(st_path + ": tensor \"" + name + "\" must be F32 of shape [" + std::to_string(want[0]) + ", " +
                      std::to_string(want[1]) + "]");
        tensor_check_finite(v, st_path);
        torch::Tensor t = torch::from_blob(const_cast<uint8_t*>(v.data), want, torch::kFloat).clone();
        (which == 'A' ? p.a : p.b) = t;
        ++used;
      }
      a.pairs_[{l, m}] = p;
    }
  if (used != by_name.size())
    throw Error(st_path + ": holds " + std::to_string(by_name.size()) + " tensors, the config's targets name " +
                std::to_string(used));
  a.to(device);
  return a;
}

void LoraAdapters::merge_into(Llama& model) const {
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> params;
  for (auto& [name, p] : model->hf_named_parameters()) params[name] = p;
  for (const auto& [key, p] : pairs_) {
    const std::string base = lora_tensor_name(key.first, key.second, 'A');
    // base_model.model.<hf name>.lora_A.weight -> <hf name>.weight
    std::string hf = base.substr(std::string("base_model.model.").size());
    hf = hf.substr(0, hf.size() - std::string(".lora_A.weight").size()) + ".weight";
    auto it = params.find(hf);
    if (it == params.end()) throw BugError(__FILE__, __LINE__, "merge_into: no weight " + hf);
    it->second.add_(torch::matmul(p.b, p.a).to(it->second.device(), it->second.scalar_type()) * cfg_.scale());
  }
}

void lora_hold_base_in_bfloat16(Llama& model) {
  torch::NoGradGuard no_grad;
  for (auto& [name, p] : model->hf_named_parameters()) {
    const bool projection = name.rfind("model.layers.", 0) == 0 && name.size() > 12 &&
                            name.compare(name.size() - 12, 12, "_proj.weight") == 0;
    if (!projection) continue;
    if (p.requires_grad()) throw BugError(__FILE__, __LINE__, "lora_hold_base_in_bfloat16: " + name + " is not frozen");
    p.set_data(p.to(torch::kBFloat16));  // every holder of this weight (the layer's own handles) sees it
  }
}

}  // namespace steper

namespace steper {

void merge_lora_folder(const std::string& base_dir, const std::string& adapter_dir, const std::string& out_dir) {
  Llama model = llama_load(base_dir);
  LoraAdapters adapters = LoraAdapters::load(adapter_dir, model->config());
  adapters.merge_into(model);
  llama_save(model, out_dir, read_file((fs::path(base_dir) / "tokenizer.json").string()), model->config().torch_dtype);
}

}  // namespace steper
