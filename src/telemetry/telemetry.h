// Telemetry: the facade the daemon wires in. It owns the metrics registry (always: /metrics
// works even with export disabled), the tracer, the OTLP log sink and the exporter thread.
//
//   auto options = telemetry::LoadOptions(env, KA_VERSION);   // Error lists every problem
//   telemetry::Telemetry telemetry(*options, clock, &logger);
//   logger.AddSink(&telemetry.log_sink());                     // before logging starts
//   Span tick = telemetry.tracer().StartSpan(telemetry::kSpanReconcile);
//   telemetry.metrics().SetMessageCount(backlog);
//   std::string text = telemetry.PrometheusText();              // GET /metrics
//   telemetry.Shutdown(std::chrono::seconds(3));                // on SIGTERM: flush, join
//
// With OTEL_SDK_DISABLED=true (or every exporter "none") no thread is started, spans are
// non-recording and the log sink does nothing. Export never blocks callers (see exporter.h).
//
// Thread-safety: every method is thread-safe. Telemetry must outlive every Span it started and
// the Logger it was added to (or that logger's last record): after Shutdown the sink and the
// tracer stay valid but what they get is dropped and counted.
#pragma once

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/log.h"
#include "telemetry/exporter.h"
#include "telemetry/metrics.h"
#include "telemetry/options.h"
#include "telemetry/semconv.h"
#include "telemetry/tracer.h"

namespace kafka_autoscaler::telemetry {

// A LogSink that turns every record into an OTLP LogRecord (severity number and text, body,
// attributes, trace and span ids) queued for export. Records logged on the exporter's own
// thread are skipped. Never blocks.
class OtlpLogSink final : public LogSink {
 public:
  // `exporter` null: the sink does nothing.
  OtlpLogSink(const Clock& clock, Exporter* exporter) : clock_(clock), exporter_(exporter) {}
  void Write(const LogRecord& record) override;

 private:
  const Clock& clock_;
  Exporter* exporter_;
};

class Telemetry {
 public:
  // `diagnostics` (may be null) receives the exporter's warnings; `console` (may be null) is
  // where "console" exporters write (the daemon passes &std::cout). Both outlive Telemetry.
  Telemetry(TelemetryOptions options, const Clock& clock, Logger* diagnostics = nullptr,
            std::ostream* console = nullptr);
  ~Telemetry();  // Shutdown(5 s) if not called
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  Tracer& tracer() { return tracer_; }
  Metrics& metrics() { return metrics_; }
  LogSink& log_sink() { return log_sink_; }
  const TelemetryOptions& options() const { return options_; }
  bool exporting() const { return exporter_ != nullptr; }

  // Prometheus text of the one registry (for GET /metrics; Content-Type
  // "text/plain; version=0.0.4; charset=utf-8").
  std::string PrometheusText() const { return metrics_.PrometheusText(); }

  // Exports what is queued now (and a metrics snapshot); true when done within `timeout`.
  bool ForceFlush(std::chrono::milliseconds timeout);
  // Flushes within `deadline` and stops the export thread. Idempotent.
  void Shutdown(std::chrono::milliseconds deadline);
  // Export counters (all zero when not exporting).
  ExporterStats Stats() const;

 private:
  const TelemetryOptions options_;
  Metrics metrics_;
  std::unique_ptr<Exporter> exporter_;  // null when nothing is exported
  Tracer tracer_;
  OtlpLogSink log_sink_;
};

}  // namespace kafka_autoscaler::telemetry
