// TickTracer: the tracing seam of the reconcile tick. The tick opens a span around each step
// (the seed's span names); the daemon plugs in the OpenTelemetry tracer, while the simulator and
// unit tests use NullTickTracer. Implementations are used from the loop thread only.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/log.h"
#include "telemetry/semconv.h"

namespace kafka_autoscaler::controller {

// The seed's span names (a contract) live with the other telemetry names (constants only).
using telemetry::kSpanCheckKafkaHealth;
using telemetry::kSpanCheckKubernetesHealth;
using telemetry::kSpanGetTopicLength;
using telemetry::kSpanReconcile;
using telemetry::kSpanScaleDeployment;

enum class SpanKind { kInternal, kClient };

class TickSpan {
 public:
  virtual ~TickSpan() = default;  // ends the span
  virtual void SetAttribute(std::string_view key, FieldValue value) = 0;
  // Marks the span failed (status ERROR) with the error's message.
  virtual void SetError(std::string_view message) = 0;
};

class TickTracer {
 public:
  virtual ~TickTracer() = default;
  // Starts a span, child of the innermost span still open on this thread (root if none).
  // While it is open, log records of this thread carry its trace and span ids.
  virtual std::unique_ptr<TickSpan> StartSpan(std::string_view name, SpanKind kind) = 0;
};

class NullTickTracer final : public TickTracer {
 public:
  std::unique_ptr<TickSpan> StartSpan(std::string_view, SpanKind) override {
    return std::make_unique<NullSpan>();
  }

 private:
  struct NullSpan final : TickSpan {
    void SetAttribute(std::string_view, FieldValue) override {}
    void SetError(std::string_view) override {}
  };
};

}  // namespace kafka_autoscaler::controller
