// Export tests: Telemetry → OTLP/HTTP → TestOtlpReceiver → decoder/decode.js (official schema).
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "controller/reconciler.h"
#include "daemon/tick_telemetry.h"
#include "fakes/fake_clock.h"
#include "fakes/fakes.h"
#include "otlp_receiver.h"
#include "telemetry/collector.h"
#include "telemetry/otlp_encoding.h"
#include "telemetry/telemetry.h"
#include "test_util.h"

extern char** environ;

namespace kafka_autoscaler::telemetry {
namespace {

using namespace std::chrono_literals;
using kafka_autoscaler::testing::Attr;
using kafka_autoscaler::testing::DecodeOtlp;
using kafka_autoscaler::testing::FakeClock;
using kafka_autoscaler::testing::FakeEventRecorder;
using kafka_autoscaler::testing::FakeMetricSource;
using kafka_autoscaler::testing::FakeScaleTarget;
using kafka_autoscaler::testing::OfficialAttributeKeys;
using kafka_autoscaler::testing::ScriptedResponse;
using kafka_autoscaler::testing::TestOtlpReceiver;
using nlohmann::json;

// Options for a receiver at `url`: small backoffs, no timer-driven exports (tests flush).
TelemetryOptions OptionsFor(const std::string& url, Env extra = {}) {
  extra["OTEL_EXPORTER_OTLP_ENDPOINT"] = url;
  extra.emplace("OTEL_SERVICE_NAME", "ka-test");
  extra.emplace("POD_NAME", "ka-0");
  extra.emplace("POD_NAMESPACE", "kafka");
  auto o = LoadOptions(extra, "9.9.9");
  EXPECT_TRUE(o) << o.error().ToString();
  o->schedule_delay = 1h;
  o->metric_export_interval = 1h;
  o->retry.initial_backoff = 10ms;
  o->retry.max_backoff = 50ms;
  return *o;
}

// Kafka and the Deployment for a real tick: fakes that take fake time, as real peers take time.
class TimedSource final : public kafka::MetricSource {
 public:
  TimedSource(FakeClock& clock, Duration took) : clock_(clock), took_(took) {}
  Result<kafka::Observation> Fetch() override {
    const SteadyTime asked = clock_.Now();
    clock_.Advance(took_);
    auto r = fake.Fetch();
    if (r) r->at = asked;
    return r;
  }
  FakeMetricSource fake;

 private:
  FakeClock& clock_;
  Duration took_;
};

class TimedTarget final : public kube::ScaleTarget {
 public:
  TimedTarget(FakeClock& clock, int32_t replicas) : clock_(clock), fake(replicas) {}
  Result<kube::ScaleState> Get() override {
    clock_.Advance(1ms);
    return fake.Get();
  }
  Status SetReplicas(int32_t replicas) override {
    clock_.Advance(4ms);
    return fake.SetReplicas(replicas);
  }

 private:
  FakeClock& clock_;

 public:
  FakeScaleTarget fake;
};

// The daemon's reconcile tick wired as main.cc wires it: a real Reconciler whose spans go through
// OtelTickTracer, whose log lines reach the telemetry log sink, and whose report updates the
// metrics through MetricsTickListener. Kafka answers in 2 ms, a GET of /scale takes 1 ms and a
// PATCH 4 ms of fake time. Ticks start SCALE_INTERVAL (15 s) apart.
struct RealTick {
  RealTick(Telemetry& telemetry, FakeClock& clock)
      : clock(clock),
        log(clock, log_out, LogLevel::kDebug, LogFormat::kJson),
        tracer(telemetry.tracer()),
        listener(telemetry.metrics()),
        source(clock, 2ms),
        target(clock, 3) {
    log.AddSink(&telemetry.log_sink());
    controller::ReconcilerOptions o;
    o.policy.messages_per_pod = 10;
    o.policy.min_replicas = 1;
    o.policy.max_replicas = 10;
    o.topics = "orders";
    o.group = "workers";
    o.namespace_name = "shop";
    o.deployment_name = "consumer";
    reconciler =
        std::make_unique<controller::Reconciler>(o, clock, source, target, &events, log, tracer);
  }
  // One tick with Kafka answering `backlog` messages over 12 partitions (group lag).
  controller::TickReport Tick(int64_t backlog) {
    if (next_start) clock.Advance(*next_start - clock.Now());
    next_start = clock.Now() + 15s;
    kafka::Observation obs = FakeMetricSource::Backlog(backlog, 12);
    obs.group_mode = true;
    for (auto& p : obs.partitions) p.committed = 0;  // a group that has committed (lag = high)
    source.fake.Push(std::move(obs));
    controller::TickReport r = reconciler->Tick();
    listener.OnTick(r);
    return r;
  }

  FakeClock& clock;
  std::ostringstream log_out;
  Logger log;
  daemon::OtelTickTracer tracer;
  daemon::MetricsTickListener listener;
  TimedSource source;
  TimedTarget target;
  FakeEventRecorder events;
  std::unique_ptr<controller::Reconciler> reconciler;
  std::optional<SteadyTime> next_start;
};

std::map<std::string, json> SpansByName(const json& request) {
  std::map<std::string, json> out;
  for (const auto& rs : request["resourceSpans"]) {
    for (const auto& ss : rs["scopeSpans"]) {
      for (const auto& s : ss["spans"]) out[s["name"].get<std::string>()] = s;
    }
  }
  return out;
}

std::map<std::string, json> MetricsByName(const json& request) {
  std::map<std::string, json> out;
  for (const auto& rm : request["resourceMetrics"]) {
    for (const auto& sm : rm["scopeMetrics"]) {
      for (const auto& m : sm["metrics"]) out[m["name"].get<std::string>()] = m;
    }
  }
  return out;
}

json DataPointWith(const json& points, const std::string& key, const std::string& value) {
  for (const auto& p : points) {
    if (Attr(p.value("attributes", json::array()), key) == json{{"stringValue", value}}) return p;
  }
  return nullptr;
}

void ExpectResource(const json& resource_container) {
  const json& attrs = resource_container["resource"]["attributes"];
  EXPECT_EQ(Attr(attrs, "service.name"), (json{{"stringValue", "ka-test"}}));
  EXPECT_EQ(Attr(attrs, "service.version"), (json{{"stringValue", "9.9.9"}}));
  EXPECT_EQ(Attr(attrs, "k8s.pod.name"), (json{{"stringValue", "ka-0"}}));
  EXPECT_EQ(Attr(attrs, "k8s.namespace.name"), (json{{"stringValue", "kafka"}}));
  EXPECT_EQ(Attr(attrs, "service.instance.id")["stringValue"].get<std::string>().size(), 36u);
}

// Checks that the decoder read the body with nothing left over or changed.
void ExpectFaithful(const json& decoded) {
  ASSERT_FALSE(decoded.is_null());
  EXPECT_EQ(decoded["unknownFieldBytes"], 0)
      << "the body holds fields the official schema does not know";
  EXPECT_EQ(decoded["jsonMismatches"], json::array()) << decoded["jsonMismatches"].dump(1);
}

struct ProtocolCase {
  std::string name;
  Env env;
  std::string content_type;
  std::string content_encoding;
};

void PrintTo(const ProtocolCase& c, std::ostream* os) { *os << c.name; }

class ExportTest : public ::testing::TestWithParam<ProtocolCase> {};

// Spans, logs and metrics of two real reconcile ticks, as a collector receives them: a tick
// that scales 3 → 10, then a tick whose GET of /scale fails with 503.
TEST_P(ExportTest, RealTicksDecodeWithTheOfficialSchema) {
  const ProtocolCase& c = GetParam();
  TestOtlpReceiver receiver;
  FakeClock clock;
  Telemetry telemetry(OptionsFor(receiver.url(), c.env), clock);
  RealTick world(telemetry, clock);

  const controller::TickReport scaled = world.Tick(1234);
  ASSERT_EQ(scaled.action, controller::Action::kScaled);
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  const uint64_t first_flush = UnixNanos(clock.WallNow());
  world.target.fake.get_error = Error{ErrorCode::kUnavailable, "kube: GET scale: HTTP 503", {}, {}};
  const controller::TickReport failed = world.Tick(1834);
  ASSERT_EQ(failed.action, controller::Action::kHeld);
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  const uint64_t second_flush = UnixNanos(clock.WallNow());

  // --- traces: one request per flush, one trace per tick ---
  const auto traces = receiver.Requests("/v1/traces");
  ASSERT_EQ(traces.size(), 2u);
  EXPECT_EQ(traces[0].header("content-type"), c.content_type);
  EXPECT_EQ(traces[0].header("content-encoding"), c.content_encoding);
  EXPECT_EQ(traces[0].header("user-agent"), "kafka-autoscaler/9.9.9");
  const json decoded = DecodeOtlp("traces", c.content_type, traces[0].body);
  ExpectFaithful(decoded);
  const json& req = decoded["request"];
  ExpectResource(req["resourceSpans"][0]);
  EXPECT_EQ(req["resourceSpans"][0]["scopeSpans"][0]["scope"]["name"], "kafka-autoscaler");
  auto spans = SpansByName(req);
  ASSERT_EQ(spans.size(), 5u);
  const json& root = spans["reconcile"];
  EXPECT_EQ(root["kind"], 1);  // SPAN_KIND_INTERNAL
  EXPECT_FALSE(root.contains("parentSpanId"));
  EXPECT_FALSE(root.contains("status"));  // UNSET: nothing failed
  EXPECT_EQ(root["traceId"].get<std::string>().size(), 32u);
  EXPECT_EQ(root["spanId"].get<std::string>().size(), 16u);
  const json& ra = root["attributes"];
  EXPECT_EQ(Attr(ra, "messaging.system"), (json{{"stringValue", "kafka"}}));
  EXPECT_EQ(Attr(ra, "messaging.destination.name"), (json{{"stringValue", "orders"}}));
  EXPECT_EQ(Attr(ra, "messaging.consumer.group.name"), (json{{"stringValue", "workers"}}));
  EXPECT_EQ(Attr(ra, "k8s.namespace.name"), (json{{"stringValue", "shop"}}));
  EXPECT_EQ(Attr(ra, "k8s.deployment.name"), (json{{"stringValue", "consumer"}}));
  EXPECT_EQ(Attr(ra, "kafka_autoscaler.backlog"), (json{{"intValue", "1234"}}));
  EXPECT_EQ(Attr(ra, "kafka_autoscaler.replicas.current"), (json{{"intValue", "3"}}));
  EXPECT_EQ(Attr(ra, "kafka_autoscaler.replicas.desired"), (json{{"intValue", "10"}}));
  EXPECT_EQ(Attr(ra, "kafka_autoscaler.replicas.recommended"), (json{{"intValue", "124"}}));
  EXPECT_EQ(Attr(ra, "kafka_autoscaler.reason"), (json{{"stringValue", "clamped_max"}}));
  EXPECT_EQ(Attr(ra, "kafka_autoscaler.policy"), (json{{"stringValue", "messages"}}));
  EXPECT_EQ(Attr(ra, "kafka_autoscaler.action"), (json{{"stringValue", "scaled"}}));
  const uint64_t root_start = std::stoull(root["startTimeUnixNano"].get<std::string>());
  const uint64_t root_end = std::stoull(root["endTimeUnixNano"].get<std::string>());
  EXPECT_EQ(root_end - root_start, 7'000'000u);  // Kafka 2 + GET 1 + PATCH 4 ms of FakeClock
  EXPECT_EQ(root_start, UnixNanos(FakeClock().WallNow()));
  const std::map<std::string, std::pair<int, uint64_t>> children = {
      // name → {SpanKind, duration in ns}
      {"check_kafka_health", {3, 2'000'000u}},
      {"get_topic_length", {1, 0u}},
      {"check_kubernetes_health", {3, 1'000'000u}},
      {"scale_deployment", {3, 4'000'000u}},
  };
  for (const auto& [child, expected] : children) {
    SCOPED_TRACE(child);
    EXPECT_EQ(spans[child]["kind"], expected.first);  // 1 INTERNAL, 3 CLIENT
    EXPECT_EQ(spans[child]["traceId"], root["traceId"]);
    EXPECT_EQ(spans[child]["parentSpanId"], root["spanId"]);
    EXPECT_NE(spans[child]["spanId"], root["spanId"]);
    EXPECT_FALSE(spans[child].contains("status"));
    EXPECT_EQ(std::stoull(spans[child]["endTimeUnixNano"].get<std::string>()) -
                  std::stoull(spans[child]["startTimeUnixNano"].get<std::string>()),
              expected.second);
  }
  const json& topic = spans["get_topic_length"]["attributes"];
  EXPECT_EQ(Attr(topic, "kafka_autoscaler.backlog"), (json{{"intValue", "1234"}}));
  EXPECT_EQ(Attr(topic, "kafka_autoscaler.partitions"), (json{{"intValue", "12"}}));
  EXPECT_EQ(Attr(topic, "kafka_autoscaler.backlog.mode"), (json{{"stringValue", "group_lag"}}));
  EXPECT_EQ(Attr(topic, "kafka_autoscaler.produced_per_minute"), nullptr);  // first tick
  const json& kube = spans["check_kubernetes_health"]["attributes"];
  EXPECT_EQ(Attr(kube, "kafka_autoscaler.replicas.current"), (json{{"intValue", "3"}}));
  EXPECT_EQ(Attr(kube, "kafka_autoscaler.paused"), (json{{"boolValue", false}}));
  const json& scale = spans["scale_deployment"]["attributes"];
  EXPECT_EQ(Attr(scale, "k8s.deployment.name"), (json{{"stringValue", "consumer"}}));
  EXPECT_EQ(Attr(scale, "kafka_autoscaler.replicas.from"), (json{{"intValue", "3"}}));
  EXPECT_EQ(Attr(scale, "kafka_autoscaler.replicas.to"), (json{{"intValue", "10"}}));

  const json decoded_failed = DecodeOtlp("traces", c.content_type, traces[1].body);
  ExpectFaithful(decoded_failed);
  auto failed_spans = SpansByName(decoded_failed["request"]);
  ASSERT_EQ(failed_spans.size(), 4u);  // nothing to act on without the Deployment
  EXPECT_EQ(failed_spans["reconcile"]["status"],
            (json{{"code", 2}, {"message", "kube: GET scale: HTTP 503"}}));
  EXPECT_NE(failed_spans["reconcile"]["traceId"], root["traceId"]);
  const json& failed_kube = failed_spans["check_kubernetes_health"];
  EXPECT_EQ(failed_kube["status"], (json{{"code", 2}, {"message", "kube: GET scale: HTTP 503"}}));
  EXPECT_EQ(Attr(failed_kube["attributes"], "error.type"),
            (json{{"stringValue", "kube_unavailable"}}));
  EXPECT_EQ(
      Attr(failed_spans["get_topic_length"]["attributes"], "kafka_autoscaler.produced_per_minute"),
      (json{{"doubleValue", 2400.0}}));  // 600 messages in 15 s

  // Every attribute key is an official semantic convention or kafka-autoscaler's own, never
  // an invented key inside an OpenTelemetry namespace (k8s.*, messaging.*, ...).
  std::set<std::string> keys;
  for (const auto* by_name : {&spans, &failed_spans}) {
    for (const auto& [name, span] : *by_name) {
      for (const auto& kv : span["attributes"]) keys.insert(kv["key"].get<std::string>());
    }
  }
  const std::set<std::string> official = OfficialAttributeKeys(keys);
  ASSERT_FALSE(official.empty());
  for (const std::string& key : keys) {
    SCOPED_TRACE(key);
    if (key.starts_with("kafka_autoscaler.")) {
      EXPECT_FALSE(official.count(key));
    } else {
      EXPECT_TRUE(official.count(key))
          << "not an OpenTelemetry semantic convention: project attributes go under "
             "kafka_autoscaler.* (src/telemetry/semconv.h)";
    }
  }

  // --- logs: each record carries the trace and span it was written in ---
  const auto logs = receiver.Requests("/v1/logs");
  ASSERT_EQ(logs.size(), 2u);
  const json decoded_logs = DecodeOtlp("logs", c.content_type, logs[0].body);
  ExpectFaithful(decoded_logs);
  ExpectResource(decoded_logs["request"]["resourceLogs"][0]);
  const json& records = decoded_logs["request"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
  ASSERT_EQ(records.size(), 2u) << records.dump(1);
  EXPECT_EQ(records[0]["body"], (json{{"stringValue", "backlog above threshold"}}));
  EXPECT_EQ(records[0]["severityNumber"], 13);
  EXPECT_EQ(records[0]["severityText"], "WARN");
  EXPECT_EQ(records[0]["traceId"], root["traceId"]);
  EXPECT_EQ(records[0]["spanId"], root["spanId"]);
  EXPECT_EQ(records[0]["flags"], 1);
  EXPECT_EQ(Attr(records[0]["attributes"], "backlog"), (json{{"intValue", "1234"}}));
  EXPECT_EQ(Attr(records[0]["attributes"], "recommended_pods"), (json{{"intValue", "124"}}));
  // Logged after the GET of /scale (the decision needs it), in the root span.
  EXPECT_EQ(records[0]["timeUnixNano"], spans["check_kubernetes_health"]["endTimeUnixNano"]);
  EXPECT_TRUE(records[0].contains("observedTimeUnixNano"));
  EXPECT_EQ(records[1]["body"], (json{{"stringValue", "scaled deployment"}}));
  EXPECT_EQ(records[1]["severityNumber"], 9);
  EXPECT_EQ(records[1]["severityText"], "INFO");
  EXPECT_EQ(records[1]["spanId"], spans["scale_deployment"]["spanId"]);
  const json failed_logs = DecodeOtlp("logs", c.content_type, logs[1].body);
  ExpectFaithful(failed_logs);
  const json& failed_records =
      failed_logs["request"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
  ASSERT_EQ(failed_records.size(), 1u) << failed_records.dump(1);
  EXPECT_EQ(failed_records[0]["severityText"], "ERROR");
  EXPECT_EQ(Attr(failed_records[0]["attributes"], "error_kind"),
            (json{{"stringValue", "kube_unavailable"}}));
  EXPECT_EQ(failed_records[0]["spanId"], failed_kube["spanId"]);

  // --- metrics: two exports, cumulative from one fixed start ---
  const auto metric_requests = receiver.Requests("/v1/metrics");
  ASSERT_EQ(metric_requests.size(), 2u);
  std::vector<std::map<std::string, json>> exports;
  for (const auto& r : metric_requests) {
    const json d = DecodeOtlp("metrics", c.content_type, r.body);
    ExpectFaithful(d);
    ExpectResource(d["request"]["resourceMetrics"][0]);
    exports.push_back(MetricsByName(d["request"]));
  }
  auto& first = exports[0];
  for (const char* seed_name :
       {"kafka_message_count", "k8s_pod_count", "kafka_message_throughput"}) {
    SCOPED_TRACE(seed_name);
    ASSERT_TRUE(first.count(seed_name));
    EXPECT_TRUE(first[seed_name].contains("gauge"));
  }
  EXPECT_EQ(first["kafka_message_count"]["gauge"]["dataPoints"][0]["asDouble"], 1234);
  EXPECT_EQ(first["kafka_message_count"]["unit"], "{message}");
  EXPECT_EQ(first["k8s_pod_count"]["gauge"]["dataPoints"][0]["asDouble"], 10);
  EXPECT_EQ(first["kafka_autoscaler_desired_replicas"]["gauge"]["dataPoints"][0]["asDouble"], 10);
  const json& events = first["kafka_autoscaler_scale_events"]["sum"];
  EXPECT_EQ(events["isMonotonic"], true);
  EXPECT_EQ(events["aggregationTemporality"], 2);  // CUMULATIVE
  EXPECT_EQ(DataPointWith(events["dataPoints"], "direction", "up")["asDouble"], 1);
  EXPECT_EQ(DataPointWith(events["dataPoints"], "direction", "down")["asDouble"], 0);
  // The kind the next tick will count is on the first export already, at zero.
  const json& errors = first["kafka_autoscaler_errors"]["sum"];
  EXPECT_EQ(DataPointWith(errors["dataPoints"], "kind", "kube_unavailable")["asDouble"], 0);
  const json& tick = first["kafka_autoscaler_tick_duration_seconds"];
  EXPECT_EQ(tick["unit"], "s");
  EXPECT_EQ(tick["histogram"]["aggregationTemporality"], 2);
  const json& hp = tick["histogram"]["dataPoints"][0];
  EXPECT_EQ(hp["count"], "1");
  EXPECT_EQ(hp["sum"], 0.007);
  ASSERT_EQ(hp["explicitBounds"].size(), 12u);
  ASSERT_EQ(hp["bucketCounts"].size(), 13u);
  EXPECT_EQ(hp["explicitBounds"][1], 0.01);
  EXPECT_EQ(hp["bucketCounts"][1], "1");  // 0.005 < 0.007 <= 0.01; counts are per bucket
  EXPECT_EQ(hp["bucketCounts"][2], "0");
  EXPECT_EQ(first["kafka_autoscaler_build_info"]["gauge"]["dataPoints"][0]["attributes"],
            (json::array({{{"key", "version"}, {"value", {{"stringValue", "9.9.9"}}}}})));

  auto& second = exports[1];
  EXPECT_EQ(second["kafka_message_throughput"]["gauge"]["dataPoints"][0]["asDouble"], 2400);
  EXPECT_EQ(DataPointWith(second["kafka_autoscaler_errors"]["sum"]["dataPoints"], "kind",
                          "kube_unavailable")["asDouble"],
            1);
  const json& up1 = DataPointWith(events["dataPoints"], "direction", "up");
  const json& up2 = DataPointWith(second["kafka_autoscaler_scale_events"]["sum"]["dataPoints"],
                                  "direction", "up");
  EXPECT_EQ(up2["asDouble"], 1);
  EXPECT_EQ(up2["startTimeUnixNano"], up1["startTimeUnixNano"]);  // fixed start: cumulative
  EXPECT_EQ(std::stoull(up2["timeUnixNano"].get<std::string>()) -
                std::stoull(up1["timeUnixNano"].get<std::string>()),
            second_flush - first_flush);

  telemetry.Shutdown(5s);
  const ExporterStats stats = telemetry.Stats();
  EXPECT_EQ(stats.traces.exported, 9u);
  EXPECT_EQ(stats.logs.exported, 3u);
  EXPECT_EQ(stats.traces.dropped + stats.logs.dropped + stats.metrics.dropped, 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Protocols, ExportTest,
    ::testing::Values(
        ProtocolCase{.name = "protobuf", .env = {}, .content_type = "application/x-protobuf"},
        ProtocolCase{.name = "json",
                     .env = {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}},
                     .content_type = "application/json"},
        ProtocolCase{.name = "protobuf_gzip",
                     .env = {{"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"}},
                     .content_type = "application/x-protobuf",
                     .content_encoding = "gzip"},
        ProtocolCase{.name = "json_gzip",
                     .env = {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
                             {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"}},
                     .content_type = "application/json",
                     .content_encoding = "gzip"}),
    [](const auto& info) { return info.param.name; });

TEST(ExportFaultTest, RetriesOnlyRetryableStatuses) {
  struct Case {
    std::string name;
    int status;
    bool retried;
  };
  const Case cases[] = {
      {.name = "429", .status = 429, .retried = true},
      {.name = "502", .status = 502, .retried = true},
      {.name = "503", .status = 503, .retried = true},
      {.name = "504", .status = 504, .retried = true},
      {.name = "400", .status = 400, .retried = false},
      {.name = "401", .status = 401, .retried = false},
      {.name = "404", .status = 404, .retried = false},
      {.name = "413", .status = 413, .retried = false},
      {.name = "500", .status = 500, .retried = false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestOtlpReceiver receiver;
    receiver.Script("/v1/traces", {{.status = c.status}, {.status = 200}});
    FakeClock clock;
    Telemetry telemetry(OptionsFor(receiver.url(), {{"OTEL_METRICS_EXPORTER", "none"}}), clock);
    telemetry.tracer().StartSpan(kSpanReconcile).End();
    ASSERT_TRUE(telemetry.ForceFlush(10s));
    const auto requests = receiver.Requests("/v1/traces");
    ASSERT_EQ(requests.size(), c.retried ? 2u : 1u);
    if (c.retried) {
      EXPECT_EQ(requests[0].body, requests[1].body);  // the same batch, resent
    }
    const ExporterStats stats = telemetry.Stats();
    EXPECT_EQ(stats.traces.exported, c.retried ? 1u : 0u);
    EXPECT_EQ(stats.traces.dropped, c.retried ? 0u : 1u);
    EXPECT_EQ(stats.traces.retries, c.retried ? 1u : 0u);
    EXPECT_EQ(telemetry.metrics().TelemetryDropped(Signal::kTraces), c.retried ? 0 : 1);
    if (!c.retried) {
      EXPECT_NE(stats.traces.last_error.find("HTTP " + c.name), std::string::npos)
          << stats.traces.last_error;
    }
  }
}

TEST(ExportFaultTest, ServiceUnavailableThenOkIsDeliveredOnce) {
  TestOtlpReceiver receiver;
  receiver.Script("/v1/logs", {{.status = 503}, {.status = 503}, {.status = 200}});
  FakeClock clock;
  Telemetry telemetry(OptionsFor(receiver.url(), {{"OTEL_METRICS_EXPORTER", "none"}}), clock);
  std::ostringstream sink_out;
  Logger quiet(clock, sink_out, LogLevel::kInfo, LogFormat::kJson);
  quiet.AddSink(&telemetry.log_sink());
  quiet.Info("one");
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  const auto requests = receiver.Requests("/v1/logs");
  ASSERT_EQ(requests.size(), 3u);
  const json decoded = DecodeOtlp("logs", "application/x-protobuf", requests[2].body);
  ASSERT_FALSE(decoded.is_null());
  EXPECT_EQ(decoded["request"]["resourceLogs"][0]["scopeLogs"][0]["logRecords"].size(), 1u);
  EXPECT_EQ(telemetry.Stats().logs.exported, 1u);
  EXPECT_EQ(telemetry.Stats().logs.retries, 2u);
  telemetry.Shutdown(5s);
  EXPECT_EQ(receiver.Requests("/v1/logs").size(), 3u);  // nothing sent twice after success
}

TEST(ExportFaultTest, HonoursRetryAfter) {
  TestOtlpReceiver receiver;
  receiver.Script("/v1/traces",
                  {{.status = 429, .headers = {{"Retry-After", "1"}}}, {.status = 200}});
  FakeClock clock;
  TelemetryOptions options = OptionsFor(receiver.url(), {{"OTEL_METRICS_EXPORTER", "none"}});
  options.retry.max_backoff = 5s;
  Telemetry telemetry(options, clock);
  telemetry.tracer().StartSpan("s").End();
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  const auto requests = receiver.Requests("/v1/traces");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_GE(requests[1].received - requests[0].received, 950ms);
  EXPECT_EQ(telemetry.Stats().traces.exported, 1u);
}

TEST(ExportFaultTest, PartialSuccessIsCountedAndLogged) {
  TestOtlpReceiver receiver;
  receiver.Script("/v1/traces",
                  {{.status = 200,
                    .body = R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}})",
                    .content_type = "application/json"}});
  FakeClock clock;
  std::ostringstream diagnostics_out;
  Logger diagnostics(clock, diagnostics_out, LogLevel::kInfo, LogFormat::kJson);
  Telemetry telemetry(OptionsFor(receiver.url(), {{"OTEL_METRICS_EXPORTER", "none"}}), clock,
                      &diagnostics);
  diagnostics.AddSink(&telemetry.log_sink());
  for (int i = 0; i < 3; ++i) telemetry.tracer().StartSpan("s").End();
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  const ExporterStats stats = telemetry.Stats();
  EXPECT_EQ(stats.traces.rejected, 2u);
  EXPECT_EQ(stats.traces.exported, 1u);
  EXPECT_EQ(receiver.Requests("/v1/traces").size(), 1u);  // a partial success is not retried
  const std::string logged = diagnostics_out.str();
  EXPECT_NE(logged.find("partially accepted"), std::string::npos) << logged;
  EXPECT_NE(logged.find("too old"), std::string::npos) << logged;
  telemetry.Shutdown(5s);
  // The exporter's own log line is not fed back into the OTLP logs.
  EXPECT_EQ(receiver.Requests("/v1/logs").size(), 0u);
}

TEST(ExportFaultTest, CollectorDownNeverBlocksAndCountsDrops) {
  std::string url;
  {
    TestOtlpReceiver gone;  // bind, learn a free port, close it: connections are refused
    url = gone.url();
  }
  FakeClock clock;
  TelemetryOptions options = OptionsFor(url, {{"OTEL_METRICS_EXPORTER", "none"}});
  options.max_queue_size = 16;
  options.max_export_batch_size = 8;
  options.retry.max_attempts = 2;
  Telemetry telemetry(options, clock);
  std::ostringstream out;
  Logger logger(clock, out, LogLevel::kInfo, LogFormat::kJson);
  logger.AddSink(&telemetry.log_sink());
  constexpr int kItems = 300;
  for (int i = 0; i < kItems; ++i) {
    Span s = telemetry.tracer().StartSpan(kSpanReconcile);
    SpanScope scope(s);
    logger.Info("tick");
  }
  telemetry.Shutdown(3s);
  const ExporterStats stats = telemetry.Stats();
  EXPECT_EQ(stats.traces.dropped, static_cast<uint64_t>(kItems));  // queue full or not delivered
  EXPECT_EQ(stats.logs.dropped, static_cast<uint64_t>(kItems));
  EXPECT_EQ(stats.traces.exported, 0u);
  EXPECT_GT(stats.traces.requests, 0u);
  EXPECT_EQ(telemetry.metrics().TelemetryDropped(Signal::kTraces), kItems);
  EXPECT_EQ(telemetry.metrics().TelemetryDropped(Signal::kLogs), kItems);
  EXPECT_NE(telemetry.PrometheusText().find(
                "kafka_autoscaler_telemetry_dropped_total{signal=\"traces\"} 300"),
            std::string::npos);
}

TEST(ExportFaultTest, SlowCollectorTimesOut) {
  TestOtlpReceiver receiver;
  receiver.Script("/v1/traces", {{.delay = 30s}, {.delay = 30s}});
  FakeClock clock;
  TelemetryOptions options = OptionsFor(
      receiver.url(), {{"OTEL_METRICS_EXPORTER", "none"}, {"OTEL_EXPORTER_OTLP_TIMEOUT", "200"}});
  options.retry.max_attempts = 2;
  Telemetry telemetry(options, clock);
  telemetry.tracer().StartSpan("s").End();
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);  // two attempts of 200 ms
  const ExporterStats stats = telemetry.Stats();
  EXPECT_EQ(stats.traces.requests, 2u);
  EXPECT_EQ(stats.traces.dropped, 1u);
  EXPECT_NE(stats.traces.last_error.find("imeout"), std::string::npos) << stats.traces.last_error;
  // The receiver sees the first attempt; the second may time out before a loaded machine (or a
  // TSan build) has it read by the receiver, so the client's count above is the proof of two.
  EXPECT_GE(receiver.Requests("/v1/traces").size(), 1u);
  EXPECT_LE(receiver.Requests("/v1/traces").size(), 2u);
}

// The collector answers only when the receiver stops, an hour from now: a Shutdown that waited
// on it would hang until the ctest timeout instead of returning.
TEST(ExportFaultTest, ShutdownHonoursItsDeadlineWithAHungCollector) {
  TestOtlpReceiver receiver;
  receiver.Script("/v1/traces", {{.delay = 1h}});
  FakeClock clock;
  Telemetry telemetry(OptionsFor(receiver.url(), {{"OTEL_METRICS_EXPORTER", "none"}}), clock);
  telemetry.tracer().StartSpan("s").End();
  telemetry.Shutdown(300ms);  // exports the span: the request hangs
  EXPECT_EQ(receiver.Requests("/v1/traces").size(), 1u);
  EXPECT_EQ(telemetry.Stats().traces.dropped, 1u);
}

// Real ticks while every export hangs (answered only when the receiver stops, an hour from now):
// a tick that waited on an export would never finish. The queue fills and drops instead.
// bench/tick_export measures what a tick costs with and without a hung collector.
TEST(ExportFaultTest, TicksNeverWaitOnAHungCollector) {
  TestOtlpReceiver receiver;
  const std::vector<ScriptedResponse> hang(50, ScriptedResponse{.delay = 1h});
  receiver.Script("/v1/traces", hang);
  receiver.Script("/v1/logs", hang);
  receiver.Script("/v1/metrics", hang);
  FakeClock clock;
  TelemetryOptions on = OptionsFor(receiver.url(), {{"OTEL_EXPORTER_OTLP_TIMEOUT", "3600000"}});
  on.schedule_delay = 1ms;  // export all the time
  on.metric_export_interval = 1ms;
  on.max_queue_size = 64;
  on.max_export_batch_size = 8;
  Telemetry telemetry(on, clock);
  // The exporter is stuck in a hung request before the ticks start. One thread serves the three
  // signals, so whichever it sent first (the span, or a metrics snapshot due every 1 ms) hangs.
  telemetry.tracer().StartSpan("first").End();
  auto hung = [&] {
    return receiver.Requests("/v1/traces").size() + receiver.Requests("/v1/logs").size() +
           receiver.Requests("/v1/metrics").size();
  };
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (hung() == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(hung(), 1u);
  RealTick world(telemetry, clock);
  for (int i = 0; i < 201; ++i) world.Tick(1234 + i);
  // The thread is still stuck in that one request: every tick ran while no export could finish.
  EXPECT_EQ(hung(), 1u);
  EXPECT_GT(telemetry.Stats().traces.dropped, 0u);  // the queue filled instead of blocking
  EXPECT_NE(telemetry.PrometheusText().find("kafka_message_count 1434"), std::string::npos);
  telemetry.Shutdown(500ms);  // in-flight requests are abandoned (libcurl checks ~1/s)
}

TEST(ExportTest, SdkDisabledExportsNothingButKeepsMetrics) {
  TestOtlpReceiver receiver;
  FakeClock clock;
  Telemetry telemetry(OptionsFor(receiver.url(), {{"OTEL_SDK_DISABLED", "true"}}), clock);
  EXPECT_FALSE(telemetry.exporting());
  RealTick world(telemetry, clock);
  ASSERT_EQ(world.Tick(1234).action, controller::Action::kScaled);
  EXPECT_TRUE(telemetry.ForceFlush(1s));
  telemetry.Shutdown(1s);
  EXPECT_EQ(receiver.Requests().size(), 0u);
  EXPECT_NE(telemetry.PrometheusText().find("kafka_message_count 1234"), std::string::npos);
  EXPECT_NE(world.log_out.str().find("scaled deployment"), std::string::npos);
  EXPECT_EQ(world.log_out.str().find("trace_id"), std::string::npos);  // non-recording spans
}

TEST(ExportTest, ExporterNoneSkipsThatSignalOnly) {
  TestOtlpReceiver receiver;
  FakeClock clock;
  Telemetry telemetry(OptionsFor(receiver.url(), {{"OTEL_TRACES_EXPORTER", "none"},
                                                  {"OTEL_LOGS_EXPORTER", "none"}}),
                      clock);
  telemetry.tracer().StartSpan("s").End();
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  telemetry.Shutdown(5s);
  EXPECT_EQ(receiver.Requests("/v1/traces").size(), 0u);
  EXPECT_EQ(receiver.Requests("/v1/logs").size(), 0u);
  EXPECT_EQ(receiver.Requests("/v1/metrics").size(), 2u);  // the flush, then the final one
}

// MODE=many's series come from a Collectable added to Metrics (many/controller.h): they reach
// the collector through OTLP, with their labels and units, like the registry's own.
TEST(ExportTest, AddedCollectablesAreExported) {
  TestOtlpReceiver receiver;
  FakeClock clock;
  Telemetry telemetry(OptionsFor(receiver.url(), {{"OTEL_TRACES_EXPORTER", "none"},
                                                  {"OTEL_LOGS_EXPORTER", "none"}}),
                      clock);
  auto collector = std::make_shared<Collector>([] {
    prometheus::MetricFamily backlog =
        MakeFamily(kMetricTargetBacklog, "The target's backlog.", prometheus::MetricType::Gauge);
    AddSample(backlog, {{"namespace", "team-a"}, {"name", "orders"}}, 40);
    prometheus::MetricFamily requests =
        MakeFamily(kMetricKafkaRequests, "Kafka requests.", prometheus::MetricType::Counter);
    AddSample(requests, {{"cluster", "default"}, {"api", "Metadata"}}, 3);
    return std::vector<prometheus::MetricFamily>{backlog, requests};
  });
  telemetry.metrics().AddCollectable(collector);
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  telemetry.Shutdown(5s);
  const auto requests = receiver.Requests("/v1/metrics");
  ASSERT_FALSE(requests.empty());
  const json d = DecodeOtlp("metrics", requests[0].header("content-type"), requests[0].body);
  ExpectFaithful(d);
  auto metrics = MetricsByName(d["request"]);
  ASSERT_TRUE(metrics.count("kafka_autoscaler_target_backlog")) << d.dump(1);
  const json& backlog = metrics["kafka_autoscaler_target_backlog"];
  EXPECT_EQ(backlog["unit"], "{message}");
  const json point = DataPointWith(backlog["gauge"]["dataPoints"], "namespace", "team-a");
  EXPECT_EQ(point["asDouble"], 40);
  EXPECT_EQ(Attr(point["attributes"], "name"), (json{{"stringValue", "orders"}}));
  ASSERT_TRUE(metrics.count("kafka_autoscaler_kafka_requests")) << d.dump(1);
  const json& sum = metrics["kafka_autoscaler_kafka_requests"]["sum"];
  EXPECT_EQ(sum["isMonotonic"], true);
  EXPECT_EQ(DataPointWith(sum["dataPoints"], "api", "Metadata")["asDouble"], 3);
  EXPECT_TRUE(metrics.count("kafka_message_count"));  // the registry's own, alongside
}

TEST(ExportTest, PerSignalEndpointAndHeaders) {
  TestOtlpReceiver receiver;
  FakeClock clock;
  Telemetry telemetry(
      OptionsFor("http://127.0.0.1:1",  // the generic endpoint is not used for traces
                 {{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url() + "/custom/path"},
                  {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20t0k,x-tenant=t1"},
                  {"OTEL_METRICS_EXPORTER", "none"},
                  {"OTEL_LOGS_EXPORTER", "none"}}),
      clock);
  telemetry.tracer().StartSpan("s").End();
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  const auto requests = receiver.Requests("/custom/path");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("authorization"), "Bearer t0k");
  EXPECT_EQ(requests[0].header("x-tenant"), "t1");
}

TEST(ExportTest, ConsoleExporterPrintsOtlpJson) {
  FakeClock clock;
  std::ostringstream console;
  Telemetry telemetry(OptionsFor("http://127.0.0.1:1", {{"OTEL_TRACES_EXPORTER", "console"},
                                                        {"OTEL_METRICS_EXPORTER", "none"},
                                                        {"OTEL_LOGS_EXPORTER", "none"}}),
                      clock, nullptr, &console);
  {
    Span root = telemetry.tracer().StartSpan(kSpanReconcile);
    SpanScope scope(root);
    telemetry.tracer().StartSpan(kSpanGetTopicLength, SpanKind::kClient).End();
  }
  ASSERT_TRUE(telemetry.ForceFlush(10s));
  const std::string line = console.str().substr(0, console.str().find('\n'));
  const json decoded = DecodeOtlp("traces", "application/json", line);
  ExpectFaithful(decoded);
  const auto spans = SpansByName(decoded["request"]);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans.at("get_topic_length")["parentSpanId"], spans.at("reconcile")["spanId"]);
}

// The standalone receiver: prints its URL first and writes every body to --dir.
TEST(ReceiverExecutableTest, WritesEachRequestToTheDirectory) {
  const std::string dir = kafka_autoscaler::testing::MakeTempDir("receiver-");
  int out_pipe[2];
  ASSERT_EQ(pipe(out_pipe), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  std::string exe = KA_TEST_OTLP_RECEIVER;
  std::vector<char*> argv = {exe.data(), const_cast<char*>("--dir"), const_cast<char*>(dir.c_str()),
                             nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  std::string first_line;
  char ch = 0;
  while (read(out_pipe[0], &ch, 1) == 1 && ch != '\n') first_line += ch;
  close(out_pipe[0]);
  ASSERT_TRUE(first_line.starts_with("http://127.0.0.1:")) << first_line;
  {
    FakeClock clock;
    Telemetry telemetry(OptionsFor(first_line, {{"OTEL_LOGS_EXPORTER", "none"}}), clock);
    telemetry.tracer().StartSpan(kSpanReconcile).End();
    EXPECT_TRUE(telemetry.ForceFlush(10s));
    telemetry.Shutdown(5s);
    EXPECT_EQ(telemetry.Stats().traces.exported, 1u);
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 3u);  // traces (flush), metrics (flush), metrics (shutdown)
  EXPECT_NE(std::find(files.begin(), files.end(), "000001-traces.pb"), files.end())
      << ::testing::PrintToString(files);
  std::ifstream in(dir + "/000001-traces.pb", std::ios::binary);
  const std::string body((std::istreambuf_iterator<char>(in)), {});
  const json decoded = DecodeOtlp("traces", "application/x-protobuf", body);
  ASSERT_FALSE(decoded.is_null());
  EXPECT_EQ(SpansByName(decoded["request"]).count("reconcile"), 1u);
}

}  // namespace
}  // namespace kafka_autoscaler::telemetry
