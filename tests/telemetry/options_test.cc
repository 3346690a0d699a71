#include "telemetry/options.h"

#include <gtest/gtest.h>

namespace kafka_autoscaler::telemetry {
namespace {

using std::chrono::milliseconds;

TEST(OptionsTest, DefaultsFollowTheSpecification) {
  auto o = LoadOptions({}, "1.2.3");
  ASSERT_TRUE(o) << o.error().ToString();
  EXPECT_FALSE(o->sdk_disabled);
  EXPECT_EQ(o->traces.url, "http://localhost:4318/v1/traces");
  EXPECT_EQ(o->metrics.url, "http://localhost:4318/v1/metrics");
  EXPECT_EQ(o->logs.url, "http://localhost:4318/v1/logs");
  for (const SignalOptions* s : {&o->traces, &o->metrics, &o->logs}) {
    EXPECT_EQ(s->exporter, ExporterKind::kOtlp);
    EXPECT_EQ(s->protocol, Protocol::kHttpProtobuf);
    EXPECT_EQ(s->timeout, milliseconds(10000));
    EXPECT_EQ(s->compression, Compression::kNone);
    EXPECT_TRUE(s->headers.empty());
  }
  EXPECT_EQ(o->metric_export_interval, milliseconds(60000));
  EXPECT_EQ(o->resource.front().first, "service.name");
  EXPECT_EQ(o->ResourceValue("service.name"), "kafka-autoscaler");
  EXPECT_EQ(o->ResourceValue("service.version"), "1.2.3");
  EXPECT_EQ(o->ResourceValue("service.instance.id").size(), 36u);
  EXPECT_EQ(o->ResourceValue("k8s.pod.name"), "");
}

TEST(OptionsTest, InstanceIdsAreRandomUuids) {
  auto a = LoadOptions({}, "1"), b = LoadOptions({}, "1");
  ASSERT_TRUE(a && b);
  const std::string id = a->ResourceValue("service.instance.id");
  EXPECT_NE(id, b->ResourceValue("service.instance.id"));
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[14], '4');                                          // version 4
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);  // RFC 4122 variant
}

struct ValidCase {
  std::string name;
  Env env;
  std::string traces_url;
  std::string metrics_url;
  Protocol traces_protocol = Protocol::kHttpProtobuf;
  Protocol metrics_protocol = Protocol::kHttpProtobuf;
  ExporterKind logs_exporter = ExporterKind::kOtlp;
  milliseconds traces_timeout{10000};
  Compression metrics_compression = Compression::kNone;
  std::vector<std::pair<std::string, std::string>> traces_headers;
  milliseconds metric_interval{60000};
};

TEST(OptionsTest, ReadsEveryVariable) {
  const ValidCase cases[] = {
      {.name = "base endpoint gets v1/<signal> appended",
       .env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}},
       .traces_url = "http://collector:4318/v1/traces",
       .metrics_url = "http://collector:4318/v1/metrics"},
      {.name = "base endpoint with a path and a trailing slash",
       .env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://gw.example/otlp/"}},
       .traces_url = "https://gw.example/otlp/v1/traces",
       .metrics_url = "https://gw.example/otlp/v1/metrics"},
      {.name = "per-signal endpoint is used as-is",
       .env = {{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"},
               {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom"}},
       .traces_url = "http://traces:9999/custom",
       .metrics_url = "http://base:4318/v1/metrics"},
      {.name = "generic protocol, per-signal override",
       .env = {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
               {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"}},
       .traces_url = "http://localhost:4318/v1/traces",
       .metrics_url = "http://localhost:4318/v1/metrics",
       .traces_protocol = Protocol::kHttpJson,
       .metrics_protocol = Protocol::kHttpProtobuf},
      {.name = "headers are percent-decoded and trimmed; per-signal wins",
       .env = {{"OTEL_EXPORTER_OTLP_HEADERS", "x=1"},
               {"OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                " Authorization = Bearer%20abc%3D ,x-tenant=a%2Cb,"}},
       .traces_url = "http://localhost:4318/v1/traces",
       .metrics_url = "http://localhost:4318/v1/metrics",
       .traces_headers = {{"Authorization", "Bearer abc="}, {"x-tenant", "a,b"}}},
      {.name = "timeouts, compression, exporters, interval",
       .env = {{"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"},
               {"OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip"},
               {"OTEL_LOGS_EXPORTER", "console"},
               {"OTEL_METRIC_EXPORT_INTERVAL", "15000"}},
       .traces_url = "http://localhost:4318/v1/traces",
       .metrics_url = "http://localhost:4318/v1/metrics",
       .logs_exporter = ExporterKind::kConsole,
       .traces_timeout = milliseconds(2500),
       .metrics_compression = Compression::kGzip,
       .metric_interval = milliseconds(15000)},
      {.name = "exporter none, case-insensitive",
       .env = {{"OTEL_LOGS_EXPORTER", "NONE"}},
       .traces_url = "http://localhost:4318/v1/traces",
       .metrics_url = "http://localhost:4318/v1/metrics",
       .logs_exporter = ExporterKind::kNone},
  };
  for (const ValidCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto o = LoadOptions(c.env, "0.1.0");
    ASSERT_TRUE(o) << o.error().ToString();
    EXPECT_EQ(o->traces.url, c.traces_url);
    EXPECT_EQ(o->metrics.url, c.metrics_url);
    EXPECT_EQ(o->traces.protocol, c.traces_protocol);
    EXPECT_EQ(o->metrics.protocol, c.metrics_protocol);
    EXPECT_EQ(o->logs.exporter, c.logs_exporter);
    EXPECT_EQ(o->traces.timeout, c.traces_timeout);
    EXPECT_EQ(o->metrics.compression, c.metrics_compression);
    EXPECT_EQ(o->traces.headers, c.traces_headers);
    EXPECT_EQ(o->metric_export_interval, c.metric_interval);
  }
}

TEST(OptionsTest, ResourceAttributesAndServiceName) {
  auto o = LoadOptions({{"OTEL_RESOURCE_ATTRIBUTES",
                         "deployment.environment=prod,service.name=from-attrs,team=a%20b"},
                        {"OTEL_SERVICE_NAME", "scaler-eu"},
                        {"POD_NAME", "ka-0"},
                        {"POD_NAMESPACE", "kafka"}},
                       "2.0");
  ASSERT_TRUE(o) << o.error().ToString();
  EXPECT_EQ(o->resource.front(),
            (std::pair<std::string, std::string>{"service.name", "scaler-eu"}));
  EXPECT_EQ(o->ResourceValue("deployment.environment"), "prod");
  EXPECT_EQ(o->ResourceValue("team"), "a b");
  EXPECT_EQ(o->ResourceValue("k8s.pod.name"), "ka-0");
  EXPECT_EQ(o->ResourceValue("k8s.namespace.name"), "kafka");

  auto from_attrs = LoadOptions({{"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"}}, "2");
  ASSERT_TRUE(from_attrs);
  EXPECT_EQ(from_attrs->ResourceValue("service.name"), "from-attrs");
}

TEST(OptionsTest, SdkDisabled) {
  struct Case {
    std::string name;
    std::string value;
    bool disabled;
  };
  const Case cases[] = {
      {.name = "true", .value = "true", .disabled = true},
      {.name = "TRUE", .value = "TRUE", .disabled = true},
      {.name = "false", .value = "false", .disabled = false},
      {.name = "empty", .value = "", .disabled = false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto o = LoadOptions({{"OTEL_SDK_DISABLED", c.value}}, "1");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->sdk_disabled, c.disabled);
  }
}

TEST(OptionsTest, ListsEveryProblemAtOnce) {
  auto o = LoadOptions({{"OTEL_SDK_DISABLED", "yes"},
                        {"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
                        {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"},
                        {"OTEL_EXPORTER_OTLP_TIMEOUT", "abc"},
                        {"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0"},
                        {"OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"},
                        {"OTEL_TRACES_EXPORTER", "zipkin"},
                        {"OTEL_METRIC_EXPORT_INTERVAL", "-5"},
                        {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=secret-token,novalue"},
                        {"OTEL_RESOURCE_ATTRIBUTES", "=x"}},
                       "1");
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, ErrorCode::kInvalidArgument);
  const std::string all = o.error().ToString();
  for (const char* expected :
       {"OTEL_SDK_DISABLED=yes", "OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc", "OTEL_EXPORTER_OTLP_TIMEOUT=abc",
        "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=0", "OTEL_EXPORTER_OTLP_COMPRESSION=zstd",
        "OTEL_TRACES_EXPORTER=zipkin", "OTEL_METRIC_EXPORT_INTERVAL=-5",
        "OTEL_EXPORTER_OTLP_HEADERS=<redacted>", "OTEL_RESOURCE_ATTRIBUTES=="}) {
    EXPECT_NE(all.find(expected), std::string::npos) << expected << " missing in:\n" << all;
  }
  EXPECT_EQ(all.find("secret-token"), std::string::npos) << all;
}

TEST(OptionsTest, DescribeRedactsHeaderValues) {
  auto o = LoadOptions({{"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cr3t"}}, "1");
  ASSERT_TRUE(o);
  const std::string text = o->Describe();
  EXPECT_NE(text.find("authorization=<redacted>"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cr3t"), std::string::npos) << text;
}

TEST(OptionsTest, KnownVariablesNamesEveryVariableRead) {
  const std::vector<std::string> names = KnownVariables();
  EXPECT_EQ(names.size(), 32u);
  // Each variable set to an invalid value yields a problem naming it. POD_* and the service
  // name accept anything; a per-signal option shadows the generic one, so the generic options
  // are checked in a second pass without their per-signal overrides.
  auto is_per_signal_option = [](const std::string& n) {
    return n.starts_with("OTEL_EXPORTER_OTLP_TRACES_") ||
           n.starts_with("OTEL_EXPORTER_OTLP_METRICS_") ||
           n.starts_with("OTEL_EXPORTER_OTLP_LOGS_");
  };
  for (const bool with_per_signal : {true, false}) {
    SCOPED_TRACE(with_per_signal ? "per-signal options set" : "generic options only");
    Env env;
    for (const auto& n : names) {
      if (n == "POD_NAME" || n == "POD_NAMESPACE" || n == "OTEL_SERVICE_NAME") continue;
      if (!with_per_signal && is_per_signal_option(n)) continue;
      env[n] = "%invalid";
    }
    auto o = LoadOptions(env, "1");
    ASSERT_FALSE(o);
    const std::string all = o.error().ToString();
    for (const auto& [name, value] : env) {
      const bool shadowed = with_per_signal && name.starts_with("OTEL_EXPORTER_OTLP_") &&
                            !is_per_signal_option(name) && name != "OTEL_EXPORTER_OTLP_ENDPOINT";
      if (shadowed) continue;
      EXPECT_NE(all.find(name + "="), std::string::npos) << name << " not reported in:\n" << all;
    }
  }
}

TEST(OptionsTest, ParseKeyValueList) {
  auto ok = ParseKeyValueList("a=1, b = two%2C3 ,,c=");
  ASSERT_TRUE(ok);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"a", "1"}, {"b", "two,3"}, {"c", ""}};
  EXPECT_EQ(*ok, want);
  EXPECT_FALSE(ParseKeyValueList("novalue"));
  EXPECT_FALSE(ParseKeyValueList("a=%zz"));
  EXPECT_FALSE(ParseKeyValueList("a=%4"));
}

}  // namespace
}  // namespace kafka_autoscaler::telemetry
