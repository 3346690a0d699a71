// OTLP encoding: turns finished spans, a metrics snapshot and log records into OTLP export
// requests (our .proto subset in proto/, official field numbers), and requests into request
// bodies for OTLP/HTTP: binary protobuf ("application/x-protobuf") or the OTLP JSON mapping
// ("application/json": lowerCamelCase keys, enums as integers, 64-bit integers as strings,
// trace/span ids as hex — not proto3 JSON's base64, which the printer would produce).
//
// Metrics mapping (from prometheus-cpp's snapshot): gauge → Gauge; counter → Sum, monotonic,
// cumulative, start time = the process's metrics start, name without the Prometheus `_total`
// suffix; histogram → Histogram, cumulative, explicit bounds (the +Inf bucket implicit), bucket
// counts per bucket (not cumulative as in Prometheus).
//
// Pure functions over plain data; safe from any thread.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "telemetry/metrics.h"
#include "telemetry/options.h"
#include "telemetry/tracer.h"

namespace kafka_autoscaler::telemetry {

namespace otlp {
using TraceRequest = opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using MetricsRequest = opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using LogsRequest = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;
}  // namespace otlp

using ResourceAttributes = std::vector<std::pair<std::string, std::string>>;

// Instrumentation scope name of everything kafka-autoscaler emits.
inline constexpr std::string_view kScopeName = "kafka-autoscaler";

// A log record as the sink saw it, plus when it saw it.
struct LogData {
  LogRecord record;
  WallTime observed;
};

// OTLP severity number of a level (debug 5, info 9, warn 13, error 17) and its text.
int SeverityNumber(LogLevel level);
std::string_view SeverityText(LogLevel level);  // "DEBUG", "INFO", "WARN", "ERROR"

uint64_t UnixNanos(WallTime t);

otlp::TraceRequest BuildTraceRequest(const ResourceAttributes& resource,
                                     std::string_view scope_version,
                                     const std::vector<SpanData>& spans);
otlp::MetricsRequest BuildMetricsRequest(const ResourceAttributes& resource,
                                         std::string_view scope_version,
                                         const std::vector<prometheus::MetricFamily>& families,
                                         WallTime start, WallTime now);
otlp::LogsRequest BuildLogsRequest(const ResourceAttributes& resource,
                                   std::string_view scope_version,
                                   const std::vector<LogData>& logs);

std::string_view ContentType(Protocol protocol);
// The request body in `protocol`. Fails only if the JSON printer fails (kInternal).
[[nodiscard]] Result<std::string> EncodeBody(const google::protobuf::Message& request,
                                             Protocol protocol);
// The OTLP JSON of `request` (as sent with http/json), for the console exporter and tests.
[[nodiscard]] Result<std::string> ToOtlpJson(const google::protobuf::Message& request);

struct PartialSuccess {
  int64_t rejected = 0;       // rejected spans / data points / log records
  std::string error_message;  // the server's explanation, possibly a warning with 0 rejected
};
// Parses an export response body (protobuf, or JSON when `json`). An empty body is a full
// success. A body that does not parse is kProtocol.
[[nodiscard]] Result<PartialSuccess> ParsePartialSuccess(Signal signal, std::string_view body,
                                                         bool json);

}  // namespace kafka_autoscaler::telemetry
