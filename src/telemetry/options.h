// TelemetryOptions: how telemetry is exported, built from the standard OTEL_* variables of an
// environment map (only main.cc fills it from the real environment).
//
// Variables (OpenTelemetry SDK environment specification; per-signal ones win over generic):
//   OTEL_SDK_DISABLED             true|false (default false): nothing exported; /metrics stays
//   OTEL_SERVICE_NAME             service.name (default "kafka-autoscaler"); wins over
//   OTEL_RESOURCE_ATTRIBUTES      k=v,k2=v2 (percent-decoded) resource attributes
//   OTEL_EXPORTER_OTLP_ENDPOINT   base URL (default http://localhost:4318); + "v1/<signal>"
//   OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT   full URL, used as-is
//   OTEL_EXPORTER_OTLP[_<SIGNAL>]_PROTOCOL     http/protobuf (default) | http/json
//   OTEL_EXPORTER_OTLP[_<SIGNAL>]_HEADERS      k=v,... (percent-decoded; values are secrets)
//   OTEL_EXPORTER_OTLP[_<SIGNAL>]_TIMEOUT      ms per request (default 10000)
//   OTEL_EXPORTER_OTLP[_<SIGNAL>]_COMPRESSION  gzip | none (default none)
//   OTEL_{TRACES,METRICS,LOGS}_EXPORTER        otlp (default) | console | none
//                                 (metrics also accepts "prometheus": /metrics only, no push)
//   OTEL_METRIC_EXPORT_INTERVAL   ms between metric exports (default 60000)
//   OTEL_BSP_SCHEDULE_DELAY       ms between span/log batch exports (default 5000)
//   OTEL_BSP_MAX_QUEUE_SIZE       queued spans/logs per signal before dropping (default 2048)
//   OTEL_BSP_MAX_EXPORT_BATCH_SIZE  items per request (default 512)
// Resource: service.name, service.version, service.instance.id (random UUID v4),
// k8s.pod.name (POD_NAME) and k8s.namespace.name (POD_NAMESPACE) when set.
//
// Plain data, copyable. Describe() redacts header values.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace kafka_autoscaler::telemetry {

using Env = std::map<std::string, std::string>;

enum class ExporterKind { kOtlp, kConsole, kNone };
enum class Protocol { kHttpProtobuf, kHttpJson };
enum class Compression { kNone, kGzip };

std::string_view ProtocolName(Protocol protocol);  // "http/protobuf", "http/json"

struct SignalOptions {
  ExporterKind exporter = ExporterKind::kOtlp;
  std::string url;  // full URL of the OTLP/HTTP endpoint, e.g. http://host:4318/v1/traces
  Protocol protocol = Protocol::kHttpProtobuf;
  std::vector<std::pair<std::string, std::string>> headers;  // secrets: never print values
  std::chrono::milliseconds timeout{10000};
  Compression compression = Compression::kNone;
};

struct RetryOptions {
  int max_attempts = 5;  // including the first
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{30000};  // also caps a server's Retry-After
  double multiplier = 2.0;                       // each retry waits up to multiplier× longer
};

struct TelemetryOptions {
  bool sdk_disabled = false;
  std::vector<std::pair<std::string, std::string>> resource;  // service.name first
  SignalOptions traces;
  SignalOptions metrics;
  SignalOptions logs;
  std::chrono::milliseconds metric_export_interval{60000};
  std::chrono::milliseconds schedule_delay{5000};  // spans/logs wait at most this long
  size_t max_queue_size = 2048;                    // per signal
  size_t max_export_batch_size = 512;
  RetryOptions retry;

  // Human-readable summary, header values redacted ("authorization=<redacted>").
  std::string Describe() const;
  // The value of a resource attribute ("" when absent).
  std::string ResourceValue(std::string_view key) const;
};

// Builds options from `env`. `service_version` becomes service.version. On failure: code
// kInvalidArgument and one detail line per problem ("OTEL_EXPORTER_OTLP_TIMEOUT=abc: ...").
[[nodiscard]] Result<TelemetryOptions> LoadOptions(const Env& env,
                                                   std::string_view service_version);

// The names of every variable LoadOptions() reads, for --help and documentation.
std::vector<std::string> KnownVariables();

// Parses a W3C-baggage-like "k=v,k2=v2" list with percent-decoding (headers, resource
// attributes). Empty members are skipped; a member without '=' or with an empty key fails.
[[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> ParseKeyValueList(
    std::string_view text);

}  // namespace kafka_autoscaler::telemetry
