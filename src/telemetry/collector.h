// Collector: a prometheus::Collectable whose families are read from an owner's state when they
// are collected (a scrape of /metrics, an OTLP export), the counterpart of client_golang's custom
// Collector with const metrics. Registered with Metrics::AddCollectable, its families are part
// of Metrics::Collect(), so `/metrics` and OTLP carry the same series.
//
// Lifetime: Metrics keeps only a weak_ptr, and a collection in flight holds a shared_ptr for its
// duration, so a Collector can outlive its owner by one collection. The owner therefore calls
// Detach() first thing in its destructor: Detach waits for a running `collect` to return, and
// every later Collect() returns nothing, so `collect` never runs on a destroyed owner.
//
// Thread-safety: Collect() and Detach() from any thread; collections are serialized.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kafka_autoscaler::telemetry {

class Collector final : public prometheus::Collectable {
 public:
  using Function = std::function<std::vector<prometheus::MetricFamily>()>;
  explicit Collector(Function collect) : collect_(std::move(collect)) {}

  std::vector<prometheus::MetricFamily> Collect() const override;
  // See the file comment; idempotent.
  void Detach();

 private:
  mutable std::mutex mu_;
  Function collect_;  // guarded by mu_; empty once detached
};

// A gauge or counter family without samples (HELP and TYPE only).
prometheus::MetricFamily MakeFamily(std::string_view name, std::string_view help,
                                    prometheus::MetricType type);
// Appends a sample to a gauge or counter family; labels are exposed in the order given.
void AddSample(prometheus::MetricFamily& family,
               std::vector<prometheus::ClientMetric::Label> labels, double value);

}  // namespace kafka_autoscaler::telemetry
