#include "telemetry/metrics.h"

#include <prometheus/text_serializer.h>

#include "telemetry/semconv.h"

namespace kafka_autoscaler::telemetry {

namespace {

prometheus::Histogram::BucketBoundaries TickBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

prometheus::Gauge& AddGauge(prometheus::Registry& registry, std::string_view name,
                            std::string_view help) {
  return prometheus::BuildGauge()
      .Name(std::string(name))
      .Help(std::string(help))
      .Register(registry)
      .Add({});
}

prometheus::Family<prometheus::Counter>& AddCounter(prometheus::Registry& registry,
                                                    std::string_view name, std::string_view help) {
  return prometheus::BuildCounter()
      .Name(std::string(name))
      .Help(std::string(help))
      .Register(registry);
}

}  // namespace

std::string_view SignalName(Signal signal) {
  switch (signal) {
    case Signal::kTraces:
      return "traces";
    case Signal::kMetrics:
      return "metrics";
    case Signal::kLogs:
      return "logs";
  }
  return "traces";
}

std::string_view MetricUnit(std::string_view name) {
  if (name == kMetricMessageCount) return "{message}";
  if (name == kMetricPodCount || name == kMetricDesiredReplicas || name == kMetricMaxReplicas) {
    return "{pod}";
  }
  if (name == kMetricThroughput) return "{message}/min";
  if (name == kMetricScaleEvents) return "{event}";
  if (name == kMetricErrors) return "{error}";
  if (name == kMetricTickDuration) return "s";
  if (name == kMetricTelemetryDropped) return "{item}";
  if (name == kMetricForeignWrites) return "{write}";
  if (name == kMetricStuckPartitions) return "{partition}";
  if (name == kMetricInvalidCommitPartitions || name == kMetricUncommittedPartitions) {
    return "{partition}";
  }
  if (name == kMetricBuildInfo) return "1";
  if (name == kMetricLagSeconds) return "s";
  if (name == kMetricLagSecondsLowerBound) return "1";
  if (name == kMetricTargets || name == kMetricTargetsOwned) return "{kafkascaler}";
  if (name == kMetricTargetBacklog) return "{message}";
  if (name == kMetricTargetReplicas || name == kMetricTargetDesiredReplicas) return "{pod}";
  if (name == kMetricTargetReady) return "1";
  if (name == kMetricPassDuration) return "s";
  if (name == kMetricKafkaRequests) return "{request}";
  if (name == kMetricShardsHeld || name == kMetricShards) return "{shard}";
  return "";
}

Metrics::Metrics(std::string_view version)
    : registry_(std::make_shared<prometheus::Registry>()),
      message_count_(AddGauge(*registry_, kMetricMessageCount,
                              "Messages in the Kafka topic (the backlog the scaling follows).")),
      pod_count_(AddGauge(*registry_, kMetricPodCount, "Current replicas of the Deployment.")),
      throughput_(AddGauge(*registry_, kMetricThroughput,
                           "Messages produced to the Kafka topic per minute.")),
      desired_replicas_(AddGauge(*registry_, kMetricDesiredReplicas,
                                 "Replicas the last scaling decision asked for.")),
      max_replicas_(AddGauge(*registry_, kMetricMaxReplicas,
                             "MAX_REPLICAS: the most replicas the autoscaler will set.")),
      scale_events_(AddCounter(*registry_, kMetricScaleEvents,
                               "Changes of the Deployment's replicas, by direction.")),
      errors_(AddCounter(*registry_, kMetricErrors, "Errors of the reconcile loop, by kind.")),
      tick_duration_(prometheus::BuildHistogram()
                         .Name(std::string(kMetricTickDuration))
                         .Help("Duration of one reconcile tick in seconds.")
                         .Register(*registry_)
                         .Add({}, TickBuckets())),
      dropped_(AddCounter(*registry_, kMetricTelemetryDropped,
                          "Telemetry items dropped by the exporter, by signal.")),
      foreign_writes_(AddCounter(*registry_, kMetricForeignWrites,
                                 "Changes of the Deployment's replicas made by another writer.")
                          .Add({})),
      stuck_partitions_(AddGauge(*registry_, kMetricStuckPartitions,
                                 "Partitions whose committed offset has not moved for "
                                 "STUCK_AFTER_SECONDS while they have lag and others advance.")),
      lag_seconds_(prometheus::BuildGauge()
                       .Name(std::string(kMetricLagSeconds))
                       .Help("Age of the oldest unconsumed message in seconds: the largest over "
                             "partitions (no labels), and per partition (topic, partition).")
                       .Register(*registry_)),
      lag_lower_bound_(prometheus::BuildGauge()
                           .Name(std::string(kMetricLagSecondsLowerBound))
                           .Help("1 when kafka_autoscaler_lag_seconds is a lower bound: the "
                                 "message is older than the sampled history.")
                           .Register(*registry_)),
      invalid_commit_partitions_(
          AddGauge(*registry_, kMetricInvalidCommitPartitions,
                   "Partitions whose consumer group commit lies beyond the high watermark.")),
      uncommitted_partitions_(AddGauge(*registry_, kMetricUncommittedPartitions,
                                       "Partitions the consumer group has no commit on.")) {
  lag_seconds_.Add({});
  lag_lower_bound_.Add({});
  prometheus::BuildGauge()
      .Name(std::string(kMetricBuildInfo))
      .Help("Build information; always 1.")
      .Register(*registry_)
      .Add({{"version", std::string(version)}})
      .Set(1);
  // Every series exists from the start, at zero, so rates and alerts see it.
  scale_events_.Add({{"direction", std::string(kDirectionUp)}});
  scale_events_.Add({{"direction", std::string(kDirectionDown)}});
  for (const std::string& kind : AllErrorKinds()) errors_.Add({{"kind", kind}});
  for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    dropped_.Add({{"signal", std::string(SignalName(s))}});
  }
}

void Metrics::SetLagSeconds(double max_seconds, bool max_lower_bound,
                            const std::vector<PartitionLagSeconds>& partitions) {
  lag_seconds_.Add({}).Set(max_seconds);
  lag_lower_bound_.Add({}).Set(max_lower_bound ? 1 : 0);
  std::set<std::pair<std::string, int32_t>> now;
  if (partitions.size() <= kMaxLagSeriesPartitions) {
    for (const auto& p : partitions) now.insert({p.topic, p.partition});
  }
  auto labels = [](const std::pair<std::string, int32_t>& key) {
    return prometheus::Labels{{"topic", key.first}, {"partition", std::to_string(key.second)}};
  };
  std::lock_guard lock(lag_mu_);
  for (const auto& key : lag_series_) {
    if (now.contains(key)) continue;
    lag_seconds_.Remove(&lag_seconds_.Add(labels(key)));
    lag_lower_bound_.Remove(&lag_lower_bound_.Add(labels(key)));
  }
  lag_series_ = now;
  if (now.empty()) return;
  for (const auto& p : partitions) {
    const auto l = labels({p.topic, p.partition});
    lag_seconds_.Add(l).Set(p.seconds);
    lag_lower_bound_.Add(l).Set(p.lower_bound ? 1 : 0);
  }
}

void Metrics::AddForeignWrite() { foreign_writes_.Increment(); }
double Metrics::ForeignWrites() const { return foreign_writes_.Value(); }
void Metrics::SetStuckPartitions(double partitions) { stuck_partitions_.Set(partitions); }
void Metrics::SetCommitPartitions(double invalid, double uncommitted) {
  invalid_commit_partitions_.Set(invalid);
  uncommitted_partitions_.Set(uncommitted);
}

void Metrics::SetMessageCount(double messages) { message_count_.Set(messages); }
void Metrics::SetPodCount(double pods) { pod_count_.Set(pods); }
void Metrics::SetThroughputPerMinute(double per_minute) { throughput_.Set(per_minute); }
void Metrics::SetDesiredReplicas(double replicas) { desired_replicas_.Set(replicas); }
void Metrics::SetMaxReplicas(double replicas) { max_replicas_.Set(replicas); }

void Metrics::AddScaleEvent(ScaleDirection direction) {
  scale_events_
      .Add({{"direction",
             std::string(direction == ScaleDirection::kUp ? kDirectionUp : kDirectionDown)}})
      .Increment();
}

void Metrics::AddError(std::string_view kind) {
  errors_.Add({{"kind", std::string(kind)}}).Increment();
}

void Metrics::ObserveTickDuration(double seconds) { tick_duration_.Observe(seconds); }

void Metrics::AddTelemetryDropped(Signal signal, double items) {
  dropped_.Add({{"signal", std::string(SignalName(signal))}}).Increment(items);
}

double Metrics::ErrorCount(std::string_view kind) const {
  return errors_.Add({{"kind", std::string(kind)}}).Value();
}

double Metrics::TelemetryDropped(Signal signal) const {
  return dropped_.Add({{"signal", std::string(SignalName(signal))}}).Value();
}

void Metrics::AddCollectable(std::weak_ptr<prometheus::Collectable> collectable) {
  std::lock_guard lock(collectables_mu_);
  collectables_.push_back(std::move(collectable));
}

std::vector<prometheus::MetricFamily> Metrics::Collect() const {
  std::vector<prometheus::MetricFamily> out = registry_->Collect();
  std::vector<std::shared_ptr<prometheus::Collectable>> live;
  {
    std::lock_guard lock(collectables_mu_);
    std::erase_if(collectables_, [](const auto& c) { return c.expired(); });
    for (const auto& c : collectables_) {
      if (auto held = c.lock()) live.push_back(std::move(held));
    }
  }
  // Outside the lock: a collectable's Collect() may take its owner's locks.
  for (const auto& c : live) {
    for (prometheus::MetricFamily& f : c->Collect()) out.push_back(std::move(f));
  }
  return out;
}

std::string Metrics::PrometheusText() const {
  return prometheus::TextSerializer().Serialize(Collect());
}

}  // namespace kafka_autoscaler::telemetry
