#include "daemon/tick_telemetry.h"

#include <optional>

namespace kafka_autoscaler::daemon {
namespace {

// A tick span: an OpenTelemetry span made current for its lifetime.
class OtelTickSpan final : public controller::TickSpan {
 public:
  explicit OtelTickSpan(telemetry::Span span) : span_(std::move(span)) { scope_.emplace(span_); }
  ~OtelTickSpan() override {
    scope_.reset();  // restore the parent's context first, then end
    span_.End();
  }
  void SetAttribute(std::string_view key, FieldValue value) override {
    std::visit([&](const auto& v) { span_.SetAttribute(key, v); }, value);
  }
  void SetError(std::string_view message) override { span_.SetError(message); }

 private:
  telemetry::Span span_;
  std::optional<telemetry::SpanScope> scope_;
};

}  // namespace

std::unique_ptr<controller::TickSpan> OtelTickTracer::StartSpan(std::string_view name,
                                                                controller::SpanKind kind) {
  return std::make_unique<OtelTickSpan>(tracer_.StartSpan(
      name, kind == controller::SpanKind::kClient ? telemetry::SpanKind::kClient
                                                  : telemetry::SpanKind::kInternal));
}

void MetricsTickListener::OnTick(const controller::TickReport& r) {
  if (r.observation) {
    metrics_.SetMessageCount(static_cast<double>(r.observation->backlog));
    metrics_.SetCommitPartitions(kafka::InvalidCommitPartitions(*r.observation),
                                 kafka::UncommittedPartitions(*r.observation));
  }
  if (r.replicas_after >= 0) metrics_.SetPodCount(r.replicas_after);
  if (r.throughput.produced_per_minute) {
    metrics_.SetThroughputPerMinute(*r.throughput.produced_per_minute);
  }
  if (r.decision) metrics_.SetDesiredReplicas(r.decision->desired);
  if ((r.action == controller::Action::kScaled || r.action == controller::Action::kFallback) &&
      r.scale) {
    metrics_.AddScaleEvent(r.replicas_after > r.scale->spec_replicas
                               ? telemetry::ScaleDirection::kUp
                               : telemetry::ScaleDirection::kDown);
  }
  for (const auto& e : r.errors) metrics_.AddError(e.kind);
  if (r.foreign_write) metrics_.AddForeignWrite();
  metrics_.SetStuckPartitions(static_cast<double>(r.stuck.size()));
  if (r.time_lag) {
    std::vector<telemetry::PartitionLagSeconds> partitions;
    partitions.reserve(r.time_lag->partitions.size());
    for (const auto& p : r.time_lag->partitions) {
      partitions.push_back({p.topic, p.partition, p.seconds, p.lower_bound});
    }
    metrics_.SetLagSeconds(r.time_lag->max_seconds, r.time_lag->max_lower_bound, partitions);
  }
  metrics_.ObserveTickDuration(std::chrono::duration<double>(r.duration).count());
}

}  // namespace kafka_autoscaler::daemon
