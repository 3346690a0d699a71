#include "telemetry/telemetry.h"

namespace kafka_autoscaler::telemetry {

namespace {

bool AnyExport(const TelemetryOptions& o) {
  return !o.sdk_disabled &&
         (o.traces.exporter != ExporterKind::kNone || o.metrics.exporter != ExporterKind::kNone ||
          o.logs.exporter != ExporterKind::kNone);
}

}  // namespace

void OtlpLogSink::Write(const LogRecord& record) {
  if (exporter_ == nullptr || IsExportThread()) return;
  exporter_->EnqueueLog(LogData{record, clock_.WallNow()});
}

Telemetry::Telemetry(TelemetryOptions options, const Clock& clock, Logger* diagnostics,
                     std::ostream* console)
    : options_(std::move(options)),
      metrics_(options_.ResourceValue("service.version")),
      exporter_(AnyExport(options_)
                    ? std::make_unique<Exporter>(options_, clock, &metrics_, diagnostics, console)
                    : nullptr),
      tracer_(clock, exporter_ != nullptr && options_.traces.exporter != ExporterKind::kNone
                         ? exporter_.get()
                         : nullptr),
      log_sink_(clock, exporter_ != nullptr && options_.logs.exporter != ExporterKind::kNone
                           ? exporter_.get()
                           : nullptr) {}

Telemetry::~Telemetry() { Shutdown(std::chrono::seconds(5)); }

bool Telemetry::ForceFlush(std::chrono::milliseconds timeout) {
  return exporter_ == nullptr || exporter_->ForceFlush(timeout);
}

void Telemetry::Shutdown(std::chrono::milliseconds deadline) {
  if (exporter_ != nullptr) exporter_->Shutdown(deadline);
}

ExporterStats Telemetry::Stats() const {
  return exporter_ != nullptr ? exporter_->Stats() : ExporterStats{};
}

}  // namespace kafka_autoscaler::telemetry
