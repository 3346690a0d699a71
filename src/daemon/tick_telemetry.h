// Bridges between the reconcile tick and telemetry: an OtelTickTracer that turns the tick's
// spans into OpenTelemetry spans (setting the thread's trace context so log records carry
// trace and span ids), and a MetricsTickListener that updates the one metrics registry from
// each TickReport (the seed's gauges, desired replicas, scale events, errors by kind, tick
// duration). Used from the loop thread only.
#pragma once

#include "controller/loop.h"
#include "controller/tick_tracer.h"
#include "telemetry/metrics.h"
#include "telemetry/tracer.h"

namespace kafka_autoscaler::daemon {

class OtelTickTracer final : public controller::TickTracer {
 public:
  explicit OtelTickTracer(telemetry::Tracer& tracer) : tracer_(tracer) {}
  std::unique_ptr<controller::TickSpan> StartSpan(std::string_view name,
                                                  controller::SpanKind kind) override;

 private:
  telemetry::Tracer& tracer_;
};

class MetricsTickListener final : public controller::TickListener {
 public:
  explicit MetricsTickListener(telemetry::Metrics& metrics) : metrics_(metrics) {}
  void OnTick(const controller::TickReport& report) override;

 private:
  telemetry::Metrics& metrics_;
};

}  // namespace kafka_autoscaler::daemon
