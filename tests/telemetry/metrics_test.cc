#include "telemetry/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "telemetry/collector.h"
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
  m.AddError(ErrorKind(ErrorDomain::kKafka, ErrorCode::kUnavailable));
  m.AddError("custom_kind");
  m.ObserveTickDuration(0.003);
  m.ObserveTickDuration(0.2);
  m.AddTelemetryDropped(Signal::kLogs, 4);
  m.SetLagSeconds(42.5, false, {{"orders", 0, 42.5, false}, {"orders", 1, 3, true}});
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
           "kafka_autoscaler_errors_total{kind=\"kafka_unavailable\"} 1",
           "kafka_autoscaler_errors_total{kind=\"kafka_timeout\"} 0",
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
  EXPECT_EQ(m.ErrorCount("kafka_unavailable"), 1);
  EXPECT_EQ(m.TelemetryDropped(Signal::kLogs), 4);
}

// The kinds alerts and dashboards name (docs/reliability.md) exist from the start, at zero; a
// bare code such as "timeout", which nothing counts, does not.
TEST(MetricsTest, ErrorKindsOnMetricsAreTheOnesTheLoopCounts) {
  const std::string text = Metrics("1.2.3").PrometheusText();
  for (const char* kind : {"kafka_timeout", "kafka_unavailable", "kafka_incomplete",
                           "kube_conflict", "kube_unavailable", "event_permission_denied"}) {
    EXPECT_NE(text.find("kafka_autoscaler_errors_total{kind=\"" + std::string(kind) + "\"} 0\n"),
              std::string::npos)
        << kind << "\n"
        << text;
  }
  EXPECT_EQ(text.find("kafka_autoscaler_errors_total{kind=\"timeout\"}"), std::string::npos);
}

// /metrics pre-creates exactly AllErrorKinds(): every kind ErrorKind() can make, and no other.
TEST(MetricsTest, PreCreatesExactlyTheErrorKindVocabulary) {
  std::istringstream lines(Metrics("1.2.3").PrometheusText());
  const std::string prefix = "kafka_autoscaler_errors_total{kind=\"";
  std::set<std::string> found;
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(prefix)) continue;
    found.insert(line.substr(prefix.size(), line.find('"', prefix.size()) - prefix.size()));
  }
  const std::vector<std::string> all = AllErrorKinds();
  EXPECT_EQ(found, std::set<std::string>(all.begin(), all.end()));
  EXPECT_EQ(found.size(), std::size(kAllErrorDomains) * std::size(kAllErrorCodes));
}

// kAllErrorCodes, from which the vocabulary is built, lists every ErrorCode.
TEST(MetricsTest, EveryErrorCodeIsInTheVocabulary) {
  int named = 0;
  for (int i = 0; i < 256; ++i) {
    const auto code = static_cast<ErrorCode>(i);
    if (ErrorCodeName(code) == "unknown") continue;
    ++named;
    EXPECT_NE(std::find(std::begin(kAllErrorCodes), std::end(kAllErrorCodes), code),
              std::end(kAllErrorCodes))
        << ErrorCodeName(code) << " is missing from kAllErrorCodes (src/common/result.h)";
  }
  EXPECT_EQ(named, static_cast<int>(std::size(kAllErrorCodes)));
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

// Collectables added to Metrics are part of Collect() (what OTLP converts) and of the text,
// after the registry's families; one whose owner dropped it is skipped.
TEST(MetricsTest, AddedCollectablesArePartOfCollect) {
  Metrics m("1.2.3");
  auto shards = std::make_shared<Collector>([] {
    prometheus::MetricFamily f =
        MakeFamily(kMetricShards, "Shards.", prometheus::MetricType::Gauge);
    AddSample(f, {}, 8);
    return std::vector<prometheus::MetricFamily>{f};
  });
  auto gone = std::make_shared<Collector>([] {
    return std::vector<prometheus::MetricFamily>{
        MakeFamily("gone_total", "Gone.", prometheus::MetricType::Counter)};
  });
  m.AddCollectable(shards);
  m.AddCollectable(gone);
  gone.reset();
  const auto families = m.Collect();
  ASSERT_FALSE(families.empty());
  EXPECT_EQ(families.back().name, kMetricShards);
  ASSERT_EQ(families.back().metric.size(), 1u);
  EXPECT_EQ(families.back().metric[0].gauge.value, 8);
  EXPECT_EQ(std::count_if(families.begin(), families.end(),
                          [](const auto& f) { return f.name == "gone_total"; }),
            0);
  EXPECT_NE(m.PrometheusText().find("\nkafka_autoscaler_shards 8\n"), std::string::npos);
  EXPECT_EQ(MetricUnit(kMetricShards), "{shard}");
}

// Detach: a collection in flight finishes first (Detach waits for it), later ones are empty.
TEST(MetricsTest, DetachedCollectorWaitsForACollectionAndThenGivesNothing) {
  std::atomic<bool> entered{false}, release{false}, returned{false};
  auto c = std::make_shared<Collector>([&] {
    entered = true;
    while (!release) std::this_thread::yield();
    returned = true;
    return std::vector<prometheus::MetricFamily>{
        MakeFamily("x", "X.", prometheus::MetricType::Gauge)};
  });
  Metrics m("1.2.3");
  m.AddCollectable(c);
  size_t collected = 0;
  std::thread scrape([&] { collected = m.Collect().size(); });
  while (!entered) std::this_thread::yield();
  std::thread detach([&] {
    c->Detach();
    EXPECT_TRUE(returned) << "Detach returned while a collection was running";
  });
  release = true;
  scrape.join();
  detach.join();
  EXPECT_EQ(collected, Metrics("1.2.3").Collect().size() + 1);
  EXPECT_TRUE(c->Collect().empty());
}

// Issue 17 item 1: the time lag, its maximum unlabelled and per partition while the partitions
// are few; partitions that go away lose their series, and above the cap only the maximum stays.
TEST(MetricsTest, LagSecondsMaxAndBoundedPerPartitionSeries) {
  Metrics m("1.2.3");
  std::string text = m.PrometheusText();
  EXPECT_NE(text.find("\nkafka_autoscaler_lag_seconds 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nkafka_autoscaler_lag_seconds_lower_bound 0\n"), std::string::npos);

  text = Populate(m).PrometheusText();
  for (const char* line : {
           "# TYPE kafka_autoscaler_lag_seconds gauge",
           "kafka_autoscaler_lag_seconds 42.5",
           "kafka_autoscaler_lag_seconds{partition=\"0\",topic=\"orders\"} 42.5",
           "kafka_autoscaler_lag_seconds{partition=\"1\",topic=\"orders\"} 3",
           "kafka_autoscaler_lag_seconds_lower_bound{partition=\"1\",topic=\"orders\"} 1",
           "kafka_autoscaler_lag_seconds_lower_bound{partition=\"0\",topic=\"orders\"} 0",
       }) {
    EXPECT_NE(text.find(std::string("\n") + line + "\n"), std::string::npos) << line << "\n"
                                                                             << text;
  }

  m.SetLagSeconds(7, true, {{"orders", 1, 7, true}});  // partition 0 went away
  text = m.PrometheusText();
  EXPECT_EQ(text.find("partition=\"0\""), std::string::npos) << text;
  EXPECT_NE(text.find("\nkafka_autoscaler_lag_seconds_lower_bound 1\n"), std::string::npos);

  std::vector<PartitionLagSeconds> many;
  for (int32_t p = 0; p <= static_cast<int32_t>(kMaxLagSeriesPartitions); ++p) {
    many.push_back({"big", p, 1.0 * p, false});
  }
  m.SetLagSeconds(100, false, many);  // one over the cap: only the maximum
  text = m.PrometheusText();
  EXPECT_EQ(text.find("partition="), std::string::npos) << text;
  EXPECT_NE(text.find("\nkafka_autoscaler_lag_seconds 100\n"), std::string::npos);
  many.pop_back();  // at the cap: every partition
  m.SetLagSeconds(99, false, many);
  text = m.PrometheusText();
  EXPECT_NE(text.find("{partition=\"99\",topic=\"big\"} 99"), std::string::npos);
  EXPECT_EQ(MetricUnit(kMetricLagSeconds), "s");
}

// Issue 13 items 1 and 7: both commit gauges exist from the start, at 0.
TEST(MetricsTest, CommitGaugesExistAtZeroAndFollowTheLastObservation) {
  Metrics m("1.2.3");
  for (const char* line : {"# TYPE kafka_autoscaler_invalid_commit_partitions gauge",
                           "kafka_autoscaler_invalid_commit_partitions 0",
                           "# TYPE kafka_autoscaler_uncommitted_partitions gauge",
                           "kafka_autoscaler_uncommitted_partitions 0"}) {
    EXPECT_NE(m.PrometheusText().find(std::string(line) + "\n"), std::string::npos) << line;
  }
  m.SetCommitPartitions(1, 5);
  const std::string text = m.PrometheusText();
  EXPECT_NE(text.find("kafka_autoscaler_invalid_commit_partitions 1\n"), std::string::npos);
  EXPECT_NE(text.find("kafka_autoscaler_uncommitted_partitions 5\n"), std::string::npos);
  EXPECT_EQ(MetricUnit(kMetricUncommittedPartitions), "{partition}");
}

TEST(MetricsTest, UnitsForOtlp) {
  EXPECT_EQ(MetricUnit(kMetricTickDuration), "s");
  EXPECT_EQ(MetricUnit(kMetricMessageCount), "{message}");
  EXPECT_EQ(MetricUnit(kMetricThroughput), "{message}/min");
  EXPECT_EQ(MetricUnit("unknown"), "");
}

}  // namespace
}  // namespace kafka_autoscaler::telemetry
