// Metrics: the one metrics registry of kafka-autoscaler (prometheus-cpp core). The same values
// feed `/metrics` (PrometheusText) and OTLP export (Collect, converted by otlp_encoding.h).
//
// Names (Prometheus / OTLP):
//   kafka_message_count              gauge    backlog in messages (seed name, a contract)
//   k8s_pod_count                    gauge    current replicas of the Deployment (seed name)
//   kafka_message_throughput         gauge    messages produced per minute (seed name)
//   kafka_autoscaler_desired_replicas gauge   replicas the last decision asked for
//   kafka_autoscaler_max_replicas    gauge    MAX_REPLICAS, the configured ceiling (alerts:
//                                    held at the ceiling while the backlog grows)
//   kafka_autoscaler_scale_events_total{direction="up"|"down"}  counter  (OTLP: monotonic sum,
//                                    cumulative, name without `_total`)
//   kafka_autoscaler_errors_total{kind=ErrorKind()}             counter: "kafka_timeout", ...
//                                    (semconv.h); every kind of AllErrorKinds() exists at zero
//   kafka_autoscaler_tick_duration_seconds                      histogram, seconds
//   kafka_autoscaler_telemetry_dropped_total{signal="traces"|"metrics"|"logs"}  counter: items
//                                    the exporter dropped (queue full, or export failed)
//   kafka_autoscaler_build_info{version}                        gauge, always 1
//   kafka_autoscaler_stuck_partitions gauge   partitions stuck now (controller/stuck.h); kept
//                                    through failed observations
//   kafka_autoscaler_lag_seconds                                gauge, seconds: the largest time
//                                    lag over partitions (age of the oldest unconsumed message,
//                                    kafka/time_lag.h); with {topic,partition}: per partition,
//                                    only while the watched topics have at most
//                                    kMaxLagSeriesPartitions partitions (cardinality bound;
//                                    above it only the unlabelled maximum is exported)
//   kafka_autoscaler_lag_seconds_lower_bound                    gauge 0/1, same series: 1 when
//                                    the figure is a lower bound (older than the sampled history)
//   kafka_autoscaler_invalid_commit_partitions  gauge  partitions whose group commit lies beyond
//                                    the high watermark, at the last observation (group mode)
//   kafka_autoscaler_uncommitted_partitions     gauge  partitions the group has no commit on,
//                                    at the last observation (group mode)
//
// More families come from Collectables added with AddCollectable (MODE=many: the per-target
// series, pass durations, Kafka requests and shard gauges; many/controller.h, telemetry/
// collector.h): Collect() appends theirs, so `/metrics` and OTLP carry them alike.
//
// Thread-safety: every method is thread-safe (prometheus-cpp metrics are atomic). The handles
// point into the registry owned here.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kafka_autoscaler::telemetry {

inline constexpr std::string_view kMetricMessageCount = "kafka_message_count";
inline constexpr std::string_view kMetricPodCount = "k8s_pod_count";
inline constexpr std::string_view kMetricThroughput = "kafka_message_throughput";
inline constexpr std::string_view kMetricDesiredReplicas = "kafka_autoscaler_desired_replicas";
inline constexpr std::string_view kMetricMaxReplicas = "kafka_autoscaler_max_replicas";
inline constexpr std::string_view kMetricScaleEvents = "kafka_autoscaler_scale_events_total";
inline constexpr std::string_view kMetricErrors = "kafka_autoscaler_errors_total";
inline constexpr std::string_view kMetricTickDuration = "kafka_autoscaler_tick_duration_seconds";
inline constexpr std::string_view kMetricTelemetryDropped =
    "kafka_autoscaler_telemetry_dropped_total";
inline constexpr std::string_view kMetricBuildInfo = "kafka_autoscaler_build_info";
// Changes of spec.replicas that this daemon did not make (another writer), see reconciler.h.
inline constexpr std::string_view kMetricForeignWrites = "kafka_autoscaler_foreign_writes_total";
// Partitions stuck now: commit not moving, lag > 0, other partitions advancing (stuck.h).
inline constexpr std::string_view kMetricStuckPartitions = "kafka_autoscaler_stuck_partitions";
inline constexpr std::string_view kMetricInvalidCommitPartitions =
    "kafka_autoscaler_invalid_commit_partitions";
inline constexpr std::string_view kMetricUncommittedPartitions =
    "kafka_autoscaler_uncommitted_partitions";

// Time lag: the unlabelled series is the maximum over partitions; {topic,partition} series
// exist only while there are at most kMaxLagSeriesPartitions partitions.
inline constexpr std::string_view kMetricLagSeconds = "kafka_autoscaler_lag_seconds";
inline constexpr std::string_view kMetricLagSecondsLowerBound =
    "kafka_autoscaler_lag_seconds_lower_bound";
inline constexpr size_t kMaxLagSeriesPartitions = 100;

// MODE=many, from Collectables (many/controller.h; shards: main.cc). Per target, labels
// {namespace, name}; Kafka requests {cluster, api}.
inline constexpr std::string_view kMetricTargets = "kafka_autoscaler_targets";
inline constexpr std::string_view kMetricTargetsOwned = "kafka_autoscaler_targets_owned";
inline constexpr std::string_view kMetricTargetBacklog = "kafka_autoscaler_target_backlog";
inline constexpr std::string_view kMetricTargetReplicas = "kafka_autoscaler_target_replicas";
inline constexpr std::string_view kMetricTargetDesiredReplicas =
    "kafka_autoscaler_target_desired_replicas";
inline constexpr std::string_view kMetricTargetReady = "kafka_autoscaler_target_ready";
inline constexpr std::string_view kMetricPassDuration = "kafka_autoscaler_pass_duration_seconds";
inline constexpr std::string_view kMetricKafkaRequests = "kafka_autoscaler_kafka_requests_total";
inline constexpr std::string_view kMetricShardsHeld = "kafka_autoscaler_shards_held";
inline constexpr std::string_view kMetricShards = "kafka_autoscaler_shards";

struct PartitionLagSeconds {
  std::string topic;
  int32_t partition = 0;
  double seconds = 0;
  bool lower_bound = false;
};

// Content-Type of PrometheusText() for GET /metrics.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

enum class ScaleDirection { kUp, kDown };
enum class Signal { kTraces, kMetrics, kLogs };
std::string_view SignalName(Signal signal);  // "traces", "metrics", "logs"

// The OTLP unit (UCUM) of one of the metrics above, by its Prometheus name; "" if unknown.
std::string_view MetricUnit(std::string_view prometheus_name);

class Metrics {
 public:
  // `version` labels kafka_autoscaler_build_info.
  explicit Metrics(std::string_view version);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void SetMessageCount(double messages);
  void SetPodCount(double pods);
  void SetThroughputPerMinute(double messages_per_minute);
  void SetDesiredReplicas(double replicas);
  void SetMaxReplicas(double replicas);
  void AddScaleEvent(ScaleDirection direction);
  void AddError(std::string_view kind);  // an ErrorKind() (semconv.h)
  void ObserveTickDuration(double seconds);
  void AddTelemetryDropped(Signal signal, double items);
  void AddForeignWrite();
  void SetStuckPartitions(double partitions);
  // Sets the maximum and, when there are at most kMaxLagSeriesPartitions, the per-partition
  // series; series of partitions no longer listed (or all of them, above the cap) are removed.
  void SetLagSeconds(double max_seconds, bool max_lower_bound,
                     const std::vector<PartitionLagSeconds>& partitions);
  // Consumer-group commits at the last observation (kafka/observation.h).
  void SetCommitPartitions(double invalid, double uncommitted);

  // Current value of one counter series (for tests and the health page).
  double ErrorCount(std::string_view kind) const;
  double TelemetryDropped(Signal signal) const;
  double ForeignWrites() const;

  // Adds `collectable`'s families to every later Collect(), after the registry's. Only a
  // weak_ptr is kept: once the owner drops its collectable, it is skipped (and forgotten); a
  // Collect() in flight holds it alive until it returns (see telemetry/collector.h for how an
  // owner detaches its state safely). Any thread.
  void AddCollectable(std::weak_ptr<prometheus::Collectable> collectable);

  // A snapshot of every family (the registry's, then the added collectables'), for OTLP
  // conversion and PrometheusText().
  std::vector<prometheus::MetricFamily> Collect() const;
  // The Prometheus text exposition format (0.0.4) of Collect(), for GET /metrics.
  std::string PrometheusText() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;  // prometheus-cpp's Collectable API
  prometheus::Gauge& message_count_;
  prometheus::Gauge& pod_count_;
  prometheus::Gauge& throughput_;
  prometheus::Gauge& desired_replicas_;
  prometheus::Gauge& max_replicas_;
  prometheus::Family<prometheus::Counter>& scale_events_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Histogram& tick_duration_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Counter& foreign_writes_;
  prometheus::Gauge& stuck_partitions_;
  prometheus::Family<prometheus::Gauge>& lag_seconds_;
  prometheus::Family<prometheus::Gauge>& lag_lower_bound_;
  std::mutex lag_mu_;                                     // guards lag_series_
  std::set<std::pair<std::string, int32_t>> lag_series_;  // per-partition series that exist
  prometheus::Gauge& invalid_commit_partitions_;
  prometheus::Gauge& uncommitted_partitions_;
  mutable std::mutex collectables_mu_;  // guards collectables_
  mutable std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
};

}  // namespace kafka_autoscaler::telemetry
