#include "demo/demo_chart.h"

#include <fstream>

#include "sim/svg_chart.h"

namespace kafka_autoscaler::demo {

Status WriteDemoChart(const std::string& path, const std::vector<ChartPoint>& series,
                      int max_replicas) {
  sim::Chart chart;
  chart.title = "kafka-autoscaler demo";
  chart.subtitle = "embedded Kafka, real consumer pods, the real reconcile loop (max " +
                   std::to_string(max_replicas) + " replicas)";
  // Ticks are one interval apart; x is demo time.
  chart.x_start = series.empty() ? 0 : series.front().t_seconds;
  chart.x_step = series.size() > 1
                     ? (series.back().t_seconds - series.front().t_seconds) /
                           static_cast<double>(series.size() - 1)
                     : 1;
  sim::ChartSeries load{.label = "produced (msg/s)", .color = "#7f7f7f"};
  sim::ChartSeries backlog{.label = "backlog (messages)", .color = "#d62728"};
  sim::ChartSeries replicas{.label = "replicas", .color = "#1f77b4", .step = true};
  for (const auto& p : series) {
    load.values.push_back(p.load);
    backlog.values.push_back(p.backlog);
    replicas.values.push_back(p.replicas);
  }
  chart.panels = {{.title = "load", .y_label = "msg/s", .series = {load}},
                  {.title = "backlog (consumer group lag)", .y_label = "messages", .series = {backlog}},
                  {.title = "replicas", .y_label = "pods", .series = {replicas}}};
  std::ofstream f(path);
  f << sim::RenderSvg(chart);
  if (!f) return MakeError(ErrorCode::kUnavailable, "cannot write " + path);
  return OkStatus();
}

}  // namespace kafka_autoscaler::demo
