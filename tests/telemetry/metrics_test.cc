#include "telemetry/metrics.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "telemetry/semconv.h"
#include "test_util.h"

namespace kafka_autoscaler::telemetry {
namespace {

using testing::RunCommand;
using testing::WriteTempFile;

Metrics& Populate(Metrics& m) {
  m.SetMessageCount(1234);
  m.SetPodCount(3);
  m.SetThroughputPerMinute(600.5);
  m.SetDesiredReplicas(5);
  m.SetMaxReplicas(8);
  m.AddScaleEvent(ScaleDirection::kUp);
  m.AddScaleEvent(ScaleDirection::kUp);
  m.AddScaleEvent(ScaleDirection::kDown);
  m.AddError(ErrorCode::kUnavailable);
  m.AddError("custom_kind");
  m.ObserveTickDuration(0.003);
  m.ObserveTickDuration(0.2);
  m.AddTelemetryDropped(Signal::kLogs, 4);
  return m;
}

TEST(MetricsTest, PrometheusTextHasTheSeedNamesAndValues) {
  Metrics m("1.2.3");
  const std::string text = Populate(m).PrometheusText();
  for (const char* line : {
           "# TYPE kafka_message_count gauge",
           "kafka_message_count 1234",
           "# TYPE k8s_pod_count gauge",
           "k8s_pod_count 3",
           "# TYPE kafka_message_throughput gauge",
           "kafka_message_throughput 600.5",
           "kafka_autoscaler_desired_replicas 5",
           "# TYPE kafka_autoscaler_max_replicas gauge",
           "kafka_autoscaler_max_replicas 8",
           "# TYPE kafka_autoscaler_scale_events_total counter",
           "kafka_autoscaler_scale_events_total{direction=\"up\"} 2",
           "kafka_autoscaler_scale_events_total{direction=\"down\"} 1",
           "kafka_autoscaler_errors_total{kind=\"unavailable\"} 1",
           "kafka_autoscaler_errors_total{kind=\"timeout\"} 0",
           "kafka_autoscaler_errors_total{kind=\"custom_kind\"} 1",
           "# TYPE kafka_autoscaler_tick_duration_seconds histogram",
           "kafka_autoscaler_tick_duration_seconds_count 2",
           "kafka_autoscaler_tick_duration_seconds_bucket{le=\"0.005\"} 1",
           "kafka_autoscaler_tick_duration_seconds_bucket{le=\"+Inf\"} 2",
           "kafka_autoscaler_telemetry_dropped_total{signal=\"logs\"} 4",
           "kafka_autoscaler_build_info{version=\"1.2.3\"} 1",
       }) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(m.ErrorCount("unavailable"), 1);
  EXPECT_EQ(m.TelemetryDropped(Signal::kLogs), 4);
}

// promtool (Debian's prometheus package) lints the exposition; the only complaints we accept are
// about the `_count` suffix of the seed's gauges kafka_message_count and k8s_pod_count, whose
// names are a contract (seed/original-readme.md, "Key Metrics"). Any other complaint fails.
TEST(MetricsTest, PromtoolAcceptsTheExposition) {
  Metrics m("1.2.3");
  const std::string file = WriteTempFile("metrics.txt", Populate(m).PrometheusText());
  const auto r = RunCommand(std::string(KA_PROMTOOL) + " check metrics < " + file);
  ASSERT_NE(r.exit_status, -1) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  const std::string kSuffixComplaint =
      " non-histogram and non-summary metrics should not have \"_count\" suffix";
  std::set<std::string> accepted;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if (line == std::string(kMetricMessageCount) + kSuffixComplaint ||
        line == std::string(kMetricPodCount) + kSuffixComplaint) {
      accepted.insert(line);
      continue;
    }
    ADD_FAILURE() << "promtool: " << line;
  }
  EXPECT_EQ(accepted.size(), 2u) << r.output;
}

TEST(MetricsTest, UnitsForOtlp) {
  EXPECT_EQ(MetricUnit(kMetricTickDuration), "s");
  EXPECT_EQ(MetricUnit(kMetricMessageCount), "{message}");
  EXPECT_EQ(MetricUnit(kMetricThroughput), "{message}/min");
  EXPECT_EQ(MetricUnit("unknown"), "");
}

}  // namespace
}  // namespace kafka_autoscaler::telemetry
