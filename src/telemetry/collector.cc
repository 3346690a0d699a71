#include "telemetry/collector.h"

namespace kafka_autoscaler::telemetry {

std::vector<prometheus::MetricFamily> Collector::Collect() const {
  std::lock_guard lock(mu_);
  if (!collect_) return {};
  return collect_();
}

void Collector::Detach() {
  std::lock_guard lock(mu_);
  collect_ = nullptr;
}

prometheus::MetricFamily MakeFamily(std::string_view name, std::string_view help,
                                    prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::string(name);
  family.help = std::string(help);
  family.type = type;
  return family;
}

void AddSample(prometheus::MetricFamily& family,
               std::vector<prometheus::ClientMetric::Label> labels, double value) {
  prometheus::ClientMetric& m = family.metric.emplace_back();
  m.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
}

}  // namespace kafka_autoscaler::telemetry
