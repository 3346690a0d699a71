#include "telemetry/otlp_encoding.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

namespace kafka_autoscaler::telemetry {

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_resource = opentelemetry::proto::resource::v1;
namespace pb_trace = opentelemetry::proto::trace::v1;
namespace pb_metrics = opentelemetry::proto::metrics::v1;
namespace pb_logs = opentelemetry::proto::logs::v1;

namespace {

void SetAnyValue(const FieldValue& value, pb_common::AnyValue* out) {
  std::visit(
      [out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out->set_string_value(v);
        } else if constexpr (std::is_same_v<T, bool>) {
          out->set_bool_value(v);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          out->set_int_value(v);
        } else {
          out->set_double_value(v);
        }
      },
      value);
}

void AddAttribute(std::string_view key, const FieldValue& value,
                  google::protobuf::RepeatedPtrField<pb_common::KeyValue>* out) {
  pb_common::KeyValue* kv = out->Add();
  kv->set_key(std::string(key));
  SetAnyValue(value, kv->mutable_value());
}

void FillResource(const ResourceAttributes& attrs, pb_resource::Resource* out) {
  for (const auto& [k, v] : attrs) AddAttribute(k, FieldValue(v), out->mutable_attributes());
}

void FillScope(std::string_view version, pb_common::InstrumentationScope* out) {
  out->set_name(std::string(kScopeName));
  out->set_version(std::string(version));
}

pb_trace::Span::SpanKind ToProto(SpanKind kind) {
  switch (kind) {
    case SpanKind::kInternal:
      return pb_trace::Span::SPAN_KIND_INTERNAL;
    case SpanKind::kServer:
      return pb_trace::Span::SPAN_KIND_SERVER;
    case SpanKind::kClient:
      return pb_trace::Span::SPAN_KIND_CLIENT;
    case SpanKind::kProducer:
      return pb_trace::Span::SPAN_KIND_PRODUCER;
    case SpanKind::kConsumer:
      return pb_trace::Span::SPAN_KIND_CONSUMER;
  }
  return pb_trace::Span::SPAN_KIND_INTERNAL;
}

template <size_t N>
std::string Bytes(const std::array<uint8_t, N>& a) {
  return std::string(reinterpret_cast<const char*>(a.data()), N);
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  return a == std::array<uint8_t, N>{};
}

void SetLabels(const prometheus::ClientMetric& m,
               google::protobuf::RepeatedPtrField<pb_common::KeyValue>* out) {
  for (const auto& l : m.label) AddAttribute(l.name, FieldValue(l.value), out);
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// proto3 JSON writes bytes as base64; OTLP JSON wants ids as hex.
std::optional<std::string> Base64ToHex(std::string_view b64) {
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : b64) {
    if (c == '=') break;
    const int v = Base64Value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return HexId(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

void HexIds(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& key = it.key();
      if ((key == "traceId" || key == "spanId" || key == "parentSpanId") &&
          it.value().is_string()) {
        if (auto hex = Base64ToHex(it.value().get<std::string>())) it.value() = *hex;
      } else {
        HexIds(it.value());
      }
    }
  } else if (j.is_array()) {
    for (auto& e : j) HexIds(e);
  }
}

}  // namespace

int SeverityNumber(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return pb_logs::SEVERITY_NUMBER_DEBUG;
    case LogLevel::kInfo:
      return pb_logs::SEVERITY_NUMBER_INFO;
    case LogLevel::kWarn:
      return pb_logs::SEVERITY_NUMBER_WARN;
    case LogLevel::kError:
      return pb_logs::SEVERITY_NUMBER_ERROR;
  }
  return pb_logs::SEVERITY_NUMBER_INFO;
}

std::string_view SeverityText(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "INFO";
}

uint64_t UnixNanos(WallTime t) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  return ns.count() < 0 ? 0 : static_cast<uint64_t>(ns.count());
}

otlp::TraceRequest BuildTraceRequest(const ResourceAttributes& resource,
                                     std::string_view scope_version,
                                     const std::vector<SpanData>& spans) {
  otlp::TraceRequest req;
  pb_trace::ResourceSpans* rs = req.add_resource_spans();
  FillResource(resource, rs->mutable_resource());
  pb_trace::ScopeSpans* ss = rs->add_scope_spans();
  FillScope(scope_version, ss->mutable_scope());
  for (const SpanData& s : spans) {
    pb_trace::Span* p = ss->add_spans();
    p->set_trace_id(Bytes(s.trace_id));
    p->set_span_id(Bytes(s.span_id));
    if (!AllZero(s.parent_span_id)) p->set_parent_span_id(Bytes(s.parent_span_id));
    p->set_name(s.name);
    p->set_kind(ToProto(s.kind));
    p->set_start_time_unix_nano(UnixNanos(s.start));
    p->set_end_time_unix_nano(UnixNanos(s.end));
    for (const Attribute& a : s.attributes) AddAttribute(a.key, a.value, p->mutable_attributes());
    if (s.status == SpanStatusCode::kOk) {
      p->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_OK);
    } else if (s.status == SpanStatusCode::kError) {
      p->mutable_status()->set_code(pb_trace::Status::STATUS_CODE_ERROR);
      p->mutable_status()->set_message(s.status_message);
    }
  }
  return req;
}

otlp::MetricsRequest BuildMetricsRequest(const ResourceAttributes& resource,
                                         std::string_view scope_version,
                                         const std::vector<prometheus::MetricFamily>& families,
                                         WallTime start, WallTime now) {
  otlp::MetricsRequest req;
  pb_metrics::ResourceMetrics* rm = req.add_resource_metrics();
  FillResource(resource, rm->mutable_resource());
  pb_metrics::ScopeMetrics* sm = rm->add_scope_metrics();
  FillScope(scope_version, sm->mutable_scope());
  const uint64_t start_ns = UnixNanos(start), now_ns = UnixNanos(now);
  for (const prometheus::MetricFamily& f : families) {
    pb_metrics::Metric m;
    m.set_name(f.name);
    m.set_description(f.help);
    m.set_unit(std::string(MetricUnit(f.name)));
    switch (f.type) {
      case prometheus::MetricType::Gauge:
        for (const auto& cm : f.metric) {
          pb_metrics::NumberDataPoint* dp = m.mutable_gauge()->add_data_points();
          SetLabels(cm, dp->mutable_attributes());
          dp->set_time_unix_nano(now_ns);
          dp->set_as_double(cm.gauge.value);
        }
        break;
      case prometheus::MetricType::Counter: {
        if (m.name().ends_with("_total")) m.set_name(f.name.substr(0, f.name.size() - 6));
        pb_metrics::Sum* sum = m.mutable_sum();
        sum->set_is_monotonic(true);
        sum->set_aggregation_temporality(pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (const auto& cm : f.metric) {
          pb_metrics::NumberDataPoint* dp = sum->add_data_points();
          SetLabels(cm, dp->mutable_attributes());
          dp->set_start_time_unix_nano(start_ns);
          dp->set_time_unix_nano(now_ns);
          dp->set_as_double(cm.counter.value);
        }
        break;
      }
      case prometheus::MetricType::Histogram: {
        pb_metrics::Histogram* h = m.mutable_histogram();
        h->set_aggregation_temporality(pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (const auto& cm : f.metric) {
          pb_metrics::HistogramDataPoint* dp = h->add_data_points();
          SetLabels(cm, dp->mutable_attributes());
          dp->set_start_time_unix_nano(start_ns);
          dp->set_time_unix_nano(now_ns);
          dp->set_count(cm.histogram.sample_count);
          dp->set_sum(cm.histogram.sample_sum);
          uint64_t previous = 0;
          for (const auto& b : cm.histogram.bucket) {
            if (b.upper_bound != std::numeric_limits<double>::infinity()) {
              dp->add_explicit_bounds(b.upper_bound);
            }
            dp->add_bucket_counts(b.cumulative_count - previous);
            previous = b.cumulative_count;
          }
        }
        break;
      }
      default:
        continue;  // summaries and untyped metrics are not used here
    }
    *sm->add_metrics() = std::move(m);
  }
  return req;
}

otlp::LogsRequest BuildLogsRequest(const ResourceAttributes& resource,
                                   std::string_view scope_version,
                                   const std::vector<LogData>& logs) {
  otlp::LogsRequest req;
  pb_logs::ResourceLogs* rl = req.add_resource_logs();
  FillResource(resource, rl->mutable_resource());
  pb_logs::ScopeLogs* sl = rl->add_scope_logs();
  FillScope(scope_version, sl->mutable_scope());
  for (const LogData& l : logs) {
    pb_logs::LogRecord* p = sl->add_log_records();
    p->set_time_unix_nano(UnixNanos(l.record.time));
    p->set_observed_time_unix_nano(UnixNanos(l.observed));
    p->set_severity_number(static_cast<pb_logs::SeverityNumber>(SeverityNumber(l.record.level)));
    p->set_severity_text(std::string(SeverityText(l.record.level)));
    p->mutable_body()->set_string_value(l.record.message);
    for (const Field& f : l.record.fields) AddAttribute(f.key, f.value, p->mutable_attributes());
    if (l.record.trace.valid()) {
      p->set_trace_id(Bytes(l.record.trace.trace_id));
      p->set_span_id(Bytes(l.record.trace.span_id));
      p->set_flags(1);  // W3C trace flags: sampled
    }
  }
  return req;
}

std::string_view ContentType(Protocol protocol) {
  return protocol == Protocol::kHttpJson ? "application/json" : "application/x-protobuf";
}

Result<std::string> ToOtlpJson(const google::protobuf::Message& request) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_enums_as_ints = true;
  options.preserve_proto_field_names = false;  // lowerCamelCase, as OTLP JSON requires
  std::string raw;
  const auto status = google::protobuf::util::MessageToJsonString(request, &raw, options);
  if (!status.ok()) {
    return MakeError(ErrorCode::kInternal, "otlp: json encoding: " + status.ToString());
  }
  nlohmann::json j = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError(ErrorCode::kInternal, "otlp: json re-parse failed");
  HexIds(j);
  return j.dump();
}

Result<std::string> EncodeBody(const google::protobuf::Message& request, Protocol protocol) {
  if (protocol == Protocol::kHttpJson) return ToOtlpJson(request);
  std::string body;
  if (!request.SerializeToString(&body)) {
    return MakeError(ErrorCode::kInternal, "otlp: protobuf encoding failed");
  }
  return body;
}

Result<PartialSuccess> ParsePartialSuccess(Signal signal, std::string_view body, bool json) {
  PartialSuccess out;
  if (body.empty()) return out;
  auto parse = [&](google::protobuf::Message& m) -> bool {
    if (!json) return m.ParseFromArray(body.data(), static_cast<int>(body.size()));
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    return google::protobuf::util::JsonStringToMessage(std::string(body), &m, options).ok();
  };
  switch (signal) {
    case Signal::kTraces: {
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse r;
      if (!parse(r)) break;
      return PartialSuccess{r.partial_success().rejected_spans(),
                            r.partial_success().error_message()};
    }
    case Signal::kMetrics: {
      opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse r;
      if (!parse(r)) break;
      return PartialSuccess{r.partial_success().rejected_data_points(),
                            r.partial_success().error_message()};
    }
    case Signal::kLogs: {
      opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse r;
      if (!parse(r)) break;
      return PartialSuccess{r.partial_success().rejected_log_records(),
                            r.partial_success().error_message()};
    }
  }
  return MakeError(ErrorCode::kProtocol, "otlp: unparseable export response");
}

}  // namespace kafka_autoscaler::telemetry
