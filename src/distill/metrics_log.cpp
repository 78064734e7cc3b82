#include "distill/metrics_log.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/io.h"
#include "core/plot.h"

namespace steper {

namespace fs = std::filesystem;

namespace {

const char* const kTaskNames[3] = {"init", "exp", "agg"};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

// Keeps the lines of `path` whose step is at most `step`; a last line torn by a kill goes too.
void metrics_truncate(const std::string& path, int64_t step) {
  if (!file_exists(path)) return;
  std::string kept;
  for_each_jsonl(path, [&](const nlohmann::json& j, size_t lineno) {
    if (json_int(j, "step", path + ":" + std::to_string(lineno)) <= step) kept += j.dump() + "\n";
  }, JsonlTail::kTornTail);
  write_file_atomic(path, kept);
}

}  // namespace

nlohmann::json metrics_line(const TrainStepRecord& r) {
  return {{"step", r.step},
          {"epoch", r.epoch},
          {"lr", r.lr},
          {"loss", r.loss},
          {"loss_init", finite_or_null(r.task_loss[0])},
          {"loss_exp", finite_or_null(r.task_loss[1])},
          {"loss_agg", finite_or_null(r.task_loss[2])},
          {"sigma_init", r.sigma[0]},
          {"sigma_exp", r.sigma[1]},
          {"sigma_agg", r.sigma[2]},
          {"tokens", r.tokens},
          {"target_tokens", r.target_tokens},
          {"examples", r.examples},
          {"total_tokens", r.total_tokens},
          {"tokens_per_s", r.tokens_per_s},
          {"padding_share", r.padding_share}};
}

std::string metrics_progress_text(const TrainStepRecord& r) {
  auto show = [](double v) { return std::isfinite(v) ? fmt("%.3f", v) : std::string("-"); };
  return "loss " + fmt("%.3f", r.loss) + " [init " + show(r.task_loss[0]) + " exp " + show(r.task_loss[1]) +
         " agg " + show(r.task_loss[2]) + "] sigma " + fmt("%.2f", r.sigma[0]) + "/" + fmt("%.2f", r.sigma[1]) +
         "/" + fmt("%.2f", r.sigma[2]) + " " + fmt("%.0f", r.tokens_per_s) + " tok/s";
}

MetricsLog::MetricsLog(const std::string& out_dir, std::optional<int64_t> resumed_step)
    : path_((fs::path(out_dir) / "metrics.jsonl").string()) {
  if (resumed_step) metrics_truncate(path_, *resumed_step);
  else if (file_exists(path_)) std::remove(path_.c_str());  // a fresh run starts a fresh log
  out_ = std::make_unique<JsonlAppender>(path_);
}

MetricsLog::~MetricsLog() = default;

void MetricsLog::append(const TrainStepRecord& rec) { out_->append(metrics_line(rec)); }

// ---- plots -----------------------------------------------------------------------------------------

void train_write_plots(const std::string& out_dir) {
  std::string path = (fs::path(out_dir) / "metrics.jsonl").string();
  if (!file_exists(path)) return;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<PlotSeries> loss(4), sigma(3);
  loss[0].name = "objective";
  loss[0].color = "#999999";
  for (size_t j = 0; j < 3; ++j) {
    loss[j + 1].name = std::string("L_") + kTaskNames[j];
    sigma[j].name = std::string("sigma_") + kTaskNames[j];
  }
  auto num = [&](const nlohmann::json& j, const std::string& k) {
    auto it = j.find(k);
    return (it != j.end() && it->is_number()) ? it->get<double>() : nan;
  };
  for_each_jsonl(path, [&](const nlohmann::json& j, size_t) {
    double step = num(j, "step");
    loss[0].x.push_back(step);
    loss[0].y.push_back(num(j, "loss"));
    for (size_t t = 0; t < 3; ++t) {
      loss[t + 1].x.push_back(step);
      loss[t + 1].y.push_back(num(j, std::string("loss_") + kTaskNames[t]));
      sigma[t].x.push_back(step);
      sigma[t].y.push_back(num(j, std::string("sigma_") + kTaskNames[t]));
    }
  });
  // absent tasks (NaN) would break the lines into dots: plot a light running mean over present values
  for (auto& s : loss) {
    std::vector<double> smooth(s.y.size(), nan);
    double acc = 0;
    bool any = false;
    for (size_t i = 0; i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      acc = any ? 0.9 * acc + 0.1 * s.y[i] : s.y[i];
      any = true;
      smooth[i] = acc;
    }
    s.y = smooth;
  }
  PlotOptions lo;
  lo.title = "Loss per task (running mean)";
  lo.x_label = "step";
  lo.y_label = "cross-entropy per target token";
  lo.log_y = true;
  plot_write_svg((fs::path(out_dir) / "loss.svg").string(), loss, lo);
  PlotOptions so;
  so.title = "Task uncertainty sigma_j (larger = less weight)";
  so.x_label = "step";
  so.y_label = "sigma";
  plot_write_svg((fs::path(out_dir) / "sigma.svg").string(), sigma, so);
}

}  // namespace steper
