// Many-targets mode: the controller (many/controller.h) with fakes for Kafka (a SharedObserver
// answering per target), the workloads (FakeScaleTarget), Events and status writes, on a
// FakeClock; and the pure status computation (many/status.h).
#include "many/controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/log.h"
#include "fakes/fake_clock.h"
#include "fakes/fakes.h"
#include "many/status.h"
#include "policy/learned_state.h"
#include "telemetry/metrics.h"

namespace kafka_autoscaler::many {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::FakeClock;
using testing::FakeEventRecorder;
using testing::FakeMetricSource;
using testing::FakeScaleTarget;

// Answers each target from a per-key result (default: an error); records every batch.
class FakeObserver final : public kafka::SharedObserver {
 public:
  std::map<std::string, Result<kafka::Observation>> Observe(
      const std::vector<kafka::TargetQuery>& targets) override {
    if (during_observe) during_observe();
    std::vector<std::string> keys;
    std::map<std::string, Result<kafka::Observation>> out;
    for (const auto& q : targets) {
      keys.push_back(q.key);
      auto it = answers.find(q.key);
      out.emplace(q.key, it != answers.end()
                             ? it->second
                             : Result<kafka::Observation>(
                                   MakeError(ErrorCode::kNotFound, "topic orders does not exist")));
    }
    batches.push_back(keys);
    return out;
  }
  kafka::RequestCounts stats() const override { return counts; }

  kafka::RequestCounts counts;
  std::map<std::string, Result<kafka::Observation>> answers;
  std::vector<std::vector<std::string>> batches;
  std::function<void()> during_observe;
};

class FakeStatusWriter final : public StatusWriter {
 public:
  Status Write(const ScalerRef& ref, const json& merge_patch) override {
    writes.push_back({ref.namespace_name + "/" + ref.name, merge_patch});
    if (refuse > 0) {
      --refuse;
      return MakeError(ErrorCode::kUnavailable, "the API server is away");
    }
    json& s = status[ref.namespace_name + "/" + ref.name];
    s.merge_patch(merge_patch["status"]);
    return OkStatus();
  }
  std::vector<std::pair<std::string, json>> writes;
  std::map<std::string, json> status;  // as the server would hold it after the merge patches
  int refuse = 0;                      // the next writes refused
};

json Scaler(const std::string& ns, const std::string& name, const std::string& deployment,
            json spec_extra = json::object(), int64_t generation = 1) {
  json spec = {
      {"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", deployment}}},
      {"topics", {"orders"}},
      {"consumerGroup", "workers"},
      {"messagesPerPod", 10},
      {"minReplicas", 1},
      {"maxReplicas", 5},
      {"scaleIntervalSeconds", 1}};
  spec.merge_patch(spec_extra);
  return {{"apiVersion", "kafka-autoscaler.io/v1alpha1"},
          {"kind", "KafkaScaler"},
          {"metadata",
           {{"namespace", ns}, {"name", name}, {"uid", "uid-" + name}, {"generation", generation}}},
          {"spec", spec}};
}

class ManyControllerTest : public ::testing::Test {
 protected:
  ManyControllerTest()
      : log_(clock_, log_out_, LogLevel::kWarn, LogFormat::kJson),
        controller_(
            ControllerOptions{.instance_env = {}, .clusters = {{"default", &observer_}}}, clock_,
            log_, tracer_,
            [this](const ScalerRef& ref,
                   const config::KafkaScalerTarget& spec) -> Result<TargetKube> {
              ++factory_calls_;
              if (refuse_target_) return MakeError(ErrorCode::kInvalidArgument, "no such kind");
              const std::string key =
                  spec.config.namespace_name + "/" + spec.config.deployment_name;
              if (!workloads_.count(key)) workloads_[key] = std::make_unique<FakeScaleTarget>(1);
              TargetKube k;
              k.scale = std::make_unique<Forward>(*workloads_[key]);
              k.events = std::make_unique<ForwardEvents>(workload_events_[ref.name]);
              return k;
            },
            [this](const ScalerRef& ref) -> std::unique_ptr<kube::EventRecorder> {
              return std::make_unique<ForwardEvents>(scaler_events_[ref.name]);
            },
            writer_) {}

  // The factory hands out forwarding objects so the fakes outlive rebuilt targets.
  struct Forward final : kube::ScaleTarget {
    explicit Forward(kube::ScaleTarget& t) : t(t) {}
    Result<kube::ScaleState> Get() override { return t.Get(); }
    Status SetReplicas(int32_t r) override { return t.SetReplicas(r); }
    kube::ScaleTarget& t;
  };
  struct ForwardEvents final : kube::EventRecorder {
    explicit ForwardEvents(FakeEventRecorder& r) : r(r) {}
    Status Record(kube::EventType type, const std::string& reason,
                  const std::string& message) override {
      return r.Record(type, reason, message);
    }
    FakeEventRecorder& r;
  };

  void Add(const json& object) { controller_.Apply({kube::ChangeType::kAdded, object}); }
  FakeScaleTarget& Workload(const std::string& key) { return *workloads_.at(key); }
  json Status(const std::string& key) { return writer_.status[key]; }
  std::string Condition(const std::string& key, const std::string& type, const char* field) {
    return FindCondition(Status(key), type).value(field, "");
  }
  // Advances one second and runs a pass.
  int Next() {
    clock_.Advance(seconds(1));
    return controller_.Pass();
  }

  FakeClock clock_;
  std::ostringstream log_out_;
  Logger log_;
  controller::NullTickTracer tracer_;
  FakeObserver observer_;
  FakeStatusWriter writer_;
  std::map<std::string, std::unique_ptr<FakeScaleTarget>> workloads_;
  std::map<std::string, FakeEventRecorder> workload_events_;
  std::map<std::string, FakeEventRecorder> scaler_events_;
  int factory_calls_ = 0;
  bool refuse_target_ = false;
  Controller controller_;
};

TEST_F(ManyControllerTest, TargetsScaleIndependentlyFromOneObservationPerPass) {
  Add(Scaler("team-a", "orders", "orders-worker"));
  Add(Scaler("team-a", "billing", "billing-worker"));
  Add(Scaler("team-b", "audit", "audit-worker"));
  observer_.answers["team-a/orders"] = FakeMetricSource::Backlog(40, 12);
  observer_.answers["team-a/billing"] = FakeMetricSource::Backlog(0, 12);
  observer_.answers["team-b/audit"] = FakeMetricSource::Backlog(25, 12);

  EXPECT_EQ(controller_.Pass(), 3);
  ASSERT_EQ(observer_.batches.size(), 1u) << "one Observe for the cluster per pass";
  EXPECT_EQ(observer_.batches[0].size(), 3u);
  EXPECT_EQ(Workload("team-a/orders-worker").state.spec_replicas, 4);
  EXPECT_EQ(Workload("team-a/billing-worker").state.spec_replicas, 1);
  EXPECT_EQ(Workload("team-b/audit-worker").state.spec_replicas, 3);
  EXPECT_EQ(controller_.TargetCount(), 3u);

  const json s = Status("team-a/orders");
  EXPECT_EQ(s["observedGeneration"], 1);
  EXPECT_EQ(s["backlog"], 40);
  EXPECT_EQ(s["partitions"], 12);
  EXPECT_EQ(s["currentReplicas"], 4);
  EXPECT_EQ(s["desiredReplicas"], 4);
  EXPECT_EQ(s["lastDecision"], "backlog");
  EXPECT_TRUE(s.contains("lastScaleTime"));
  EXPECT_EQ(Condition("team-a/orders", "Ready", "status"), "True");
  EXPECT_EQ(Condition("team-a/orders", "Ready", "reason"), "Reconciled");
  EXPECT_EQ(Condition("team-a/orders", "Active", "reason"), "BacklogPresent");
  EXPECT_EQ(Condition("team-a/orders", "Fallback", "status"), "False");
  EXPECT_EQ(Condition("team-a/orders", "Paused", "status"), "False");
  EXPECT_EQ(Condition("team-a/billing", "Active", "reason"), "NoBacklog");
  EXPECT_FALSE(Status("team-a/billing").contains("lastScaleTime"));

  // Events on the workload and on the KafkaScaler.
  ASSERT_EQ(workload_events_["orders"].events.size(), 1u);
  EXPECT_EQ(workload_events_["orders"].events[0].reason, "ScaledUp");
  ASSERT_EQ(scaler_events_["orders"].events.size(), 1u);
  EXPECT_EQ(scaler_events_["orders"].events[0].reason, "ScaledUp");

  const std::string metrics = controller_.PrometheusText();
  EXPECT_NE(metrics.find("kafka_autoscaler_targets 3\n"), std::string::npos) << metrics;
  EXPECT_NE(
      metrics.find("kafka_autoscaler_target_backlog{namespace=\"team-a\",name=\"orders\"} 40"),
      std::string::npos)
      << metrics;
}

const prometheus::MetricFamily* FindFamily(const std::vector<prometheus::MetricFamily>& all,
                                           std::string_view name) {
  auto it = std::find_if(all.begin(), all.end(), [&](const auto& f) { return f.name == name; });
  return it == all.end() ? nullptr : &*it;
}

// promtool's complaints about `text` (Debian's prometheus package), one a line.
std::string PromtoolComplaints(const std::string& text) {
  const auto file = std::filesystem::path(::testing::TempDir()) / "many_metrics.txt";
  std::ofstream(file) << text;
  FILE* p = popen(("promtool check metrics < '" + file.string() + "' 2>&1").c_str(), "r");
  if (p == nullptr) return "cannot run promtool";
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  if (status == -1 || WEXITSTATUS(status) == 127) return "cannot run promtool: " + out;
  return out;
}

// Many mode's series are prometheus-cpp families of Metrics::Collect() — what OTLP export
// converts — not only text appended to /metrics: the per-target gauges with their labels, the
// pass histogram's buckets, the Kafka request counters and the shard gauges.
TEST_F(ManyControllerTest, MetricsCollectCarriesTheManyModeFamilies) {
  telemetry::Metrics metrics("test");
  metrics.AddCollectable(controller_.collectable());
  auto shards = std::make_shared<telemetry::Collector>([] { return ShardFamilies(3, 8); });
  metrics.AddCollectable(shards);
  Add(Scaler("team-a", "orders", "orders-worker"));
  observer_.answers["team-a/orders"] = FakeMetricSource::Backlog(40, 12);
  observer_.during_observe = [this] { clock_.Advance(std::chrono::milliseconds(300)); };
  observer_.counts = {.metadata = 1, .list_offsets = 2, .offset_fetch = 1};
  ASSERT_EQ(controller_.Pass(), 1);

  const std::vector<prometheus::MetricFamily> all = metrics.Collect();
  const auto* backlog = FindFamily(all, "kafka_autoscaler_target_backlog");
  ASSERT_NE(backlog, nullptr);
  EXPECT_EQ(backlog->type, prometheus::MetricType::Gauge);
  ASSERT_EQ(backlog->metric.size(), 1u);
  EXPECT_EQ(backlog->metric[0].label, (std::vector<prometheus::ClientMetric::Label>{
                                          {"namespace", "team-a"}, {"name", "orders"}}));
  EXPECT_EQ(backlog->metric[0].gauge.value, 40);
  for (const char* name :
       {"kafka_autoscaler_targets", "kafka_autoscaler_targets_owned",
        "kafka_autoscaler_target_replicas", "kafka_autoscaler_target_desired_replicas",
        "kafka_autoscaler_target_ready"}) {
    EXPECT_NE(FindFamily(all, name), nullptr) << name;
  }

  const auto* pass = FindFamily(all, "kafka_autoscaler_pass_duration_seconds");
  ASSERT_NE(pass, nullptr);
  EXPECT_EQ(pass->type, prometheus::MetricType::Histogram);
  ASSERT_EQ(pass->metric.size(), 1u);
  const auto& h = pass->metric[0].histogram;
  EXPECT_EQ(h.sample_count, 1u);
  EXPECT_DOUBLE_EQ(h.sample_sum, 0.3);
  std::vector<std::pair<double, uint64_t>> buckets;
  for (const auto& b : h.bucket) buckets.push_back({b.upper_bound, b.cumulative_count});
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(
      buckets,
      (std::vector<std::pair<double, uint64_t>>{
          {0.1, 0}, {0.25, 0}, {0.5, 1}, {1, 1}, {2.5, 1}, {5, 1}, {10, 1}, {30, 1}, {inf, 1}}));

  const auto* requests = FindFamily(all, "kafka_autoscaler_kafka_requests_total");
  ASSERT_NE(requests, nullptr);
  EXPECT_EQ(requests->type, prometheus::MetricType::Counter);
  ASSERT_EQ(requests->metric.size(), 3u);
  EXPECT_EQ(requests->metric[1].label, (std::vector<prometheus::ClientMetric::Label>{
                                           {"cluster", "default"}, {"api", "ListOffsets"}}));
  EXPECT_EQ(requests->metric[1].counter.value, 2);

  const auto* held = FindFamily(all, "kafka_autoscaler_shards_held");
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->metric.at(0).gauge.value, 3);
  ASSERT_NE(FindFamily(all, "kafka_autoscaler_shards"), nullptr);
  EXPECT_EQ(FindFamily(all, "kafka_autoscaler_shards")->metric.at(0).gauge.value, 8);

  // The one text (/metrics) has them too, and promtool accepts it: its only complaints are the
  // seed's `_count` gauges (tests/telemetry/metrics_test.cc, PromtoolAcceptsTheExposition).
  const std::string text = metrics.PrometheusText();
  EXPECT_NE(text.find("\nkafka_autoscaler_target_backlog{namespace=\"team-a\",name=\"orders\"} "
                      "40\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\nkafka_autoscaler_shards_held 3\n"), std::string::npos) << text;
  std::istringstream complaints(PromtoolComplaints(text));
  for (std::string line; std::getline(complaints, line);) {
    if (line.empty() || line.starts_with("kafka_message_count ") ||
        line.starts_with("k8s_pod_count ")) {
      continue;
    }
    ADD_FAILURE() << "promtool: " << line;
  }
}

// The controller detaches its collector when destroyed: a collection that still holds it (a
// scrape or an export) gets nothing instead of reading a destroyed controller.
TEST(ManyControllerMetricsLifetimeTest, CollectAfterTheControllerIsGoneGivesNothing) {
  FakeClock clock;
  std::ostringstream log_out;
  Logger log(clock, log_out, LogLevel::kError, LogFormat::kJson);
  controller::NullTickTracer tracer;
  FakeObserver observer;
  FakeStatusWriter writer;
  std::shared_ptr<prometheus::Collectable> held;
  {
    Controller controller(ControllerOptions{.clusters = {{"default", &observer}}}, clock, log,
                          tracer, {}, {}, writer);
    held = controller.collectable().lock();
    ASSERT_NE(held, nullptr);
    EXPECT_FALSE(held->Collect().empty());
  }
  EXPECT_TRUE(held->Collect().empty());
}

TEST_F(ManyControllerTest, StatusIsWrittenOnlyWhenItChanges) {
  Add(Scaler("ns", "orders", "worker"));
  observer_.answers["ns/orders"] = FakeMetricSource::Backlog(30, 6);
  controller_.Pass();  // scales 1 → 3
  ASSERT_EQ(writer_.writes.size(), 1u);
  Next();  // the pods are ready and the decision is now "no_change": a real change
  ASSERT_EQ(writer_.writes.size(), 2u);
  EXPECT_EQ(Status("ns/orders")["readyReplicas"], 3);
  EXPECT_EQ(Status("ns/orders")["lastDecision"], "no_change");
  const std::string since = Condition("ns/orders", "Ready", "lastTransitionTime");
  for (int i = 0; i < 5; ++i) Next();  // same backlog, same replicas
  EXPECT_EQ(writer_.writes.size(), 2u)
      << "an unchanged status must not be written again: " << writer_.writes.back().second.dump();

  observer_.answers["ns/orders"] = FakeMetricSource::Backlog(35, 6);
  Next();
  ASSERT_EQ(writer_.writes.size(), 3u);
  EXPECT_EQ(Status("ns/orders")["backlog"], 35);
  EXPECT_EQ(Condition("ns/orders", "Ready", "lastTransitionTime"), since)
      << "Ready stayed True: its transition time stays";

  // Kafka fails: Ready flips (new transition time), backlog and partitions are removed.
  observer_.answers["ns/orders"] = MakeError(ErrorCode::kNotFound, "topic orders does not exist");
  Next();
  ASSERT_EQ(writer_.writes.size(), 4u);
  const json patch = writer_.writes.back().second["status"];
  EXPECT_TRUE(patch["backlog"].is_null()) << patch.dump();
  EXPECT_FALSE(Status("ns/orders").contains("backlog"));
  EXPECT_EQ(Condition("ns/orders", "Ready", "status"), "False");
  EXPECT_EQ(Condition("ns/orders", "Ready", "reason"), "KafkaError");
  EXPECT_NE(Condition("ns/orders", "Ready", "message").find("topic orders does not exist"),
            std::string::npos);
  EXPECT_NE(Condition("ns/orders", "Ready", "lastTransitionTime"), since);
  EXPECT_EQ(Condition("ns/orders", "Active", "status"), "Unknown");
  EXPECT_EQ(Condition("ns/orders", "Fallback", "reason"), "ObservationsFailing");
}

TEST_F(ManyControllerTest, InvalidSpecGetsAConditionAndNeverScales) {
  Add(Scaler("ns", "bad", "worker", {{"minReplicas", 5}, {"maxReplicas", 2}}));
  controller_.Pass();
  EXPECT_EQ(factory_calls_, 0);
  EXPECT_TRUE(observer_.batches.empty()) << "a refused target is never observed";
  EXPECT_EQ(Condition("ns/bad", "Ready", "status"), "False");
  EXPECT_EQ(Condition("ns/bad", "Ready", "reason"), "InvalidSpec");
  EXPECT_NE(Condition("ns/bad", "Ready", "message")
                .find("spec.minReplicas=5: must be <= spec.maxReplicas (2)"),
            std::string::npos)
      << Status("ns/bad").dump();
  for (int i = 0; i < 30; ++i) Next();
  EXPECT_EQ(writer_.writes.size(), 1u);

  // Fixed (generation 2): it runs.
  observer_.answers["ns/bad"] = FakeMetricSource::Backlog(20, 6);
  controller_.Apply(
      {kube::ChangeType::kModified, Scaler("ns", "bad", "worker", {{"minReplicas", 1}}, 2)});
  Next();
  EXPECT_EQ(Workload("ns/worker").state.spec_replicas, 2);
  EXPECT_EQ(Condition("ns/bad", "Ready", "reason"), "Reconciled");
  EXPECT_EQ(Status("ns/bad")["observedGeneration"], 2);
}

// A spec the product accepts but cannot serve well (the wait policy ticking slower than the
// wait it is asked to keep) runs, and says so once: a log line and a Warning event on the
// KafkaScaler, naming the spec's fields.
TEST_F(ManyControllerTest, AnAcceptedSpecThatCannotKeepItsWaitIsWarnedAboutOnce) {
  observer_.answers["ns/slow"] = FakeMetricSource::Backlog(20, 6);
  Add(Scaler("ns", "slow", "worker",
             {{"scalingPolicy", "wait"}, {"targetWaitSeconds", 20}, {"scaleIntervalSeconds", 30}}));
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(seconds(30));
    controller_.Pass();
  }
  EXPECT_EQ(Condition("ns/slow", "Ready", "status"), "True");
  const auto& events = scaler_events_["slow"].events;
  const auto warnings = std::count_if(events.begin(), events.end(), [](const auto& e) {
    return e.type == kube::EventType::kWarning && e.reason == "ConfigurationWarning";
  });
  EXPECT_EQ(warnings, 1);
  for (const auto& e : events) {
    if (e.reason != "ConfigurationWarning") continue;
    EXPECT_NE(e.message.find("spec.scaleIntervalSeconds=30"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("spec.targetWaitSeconds=20"), std::string::npos) << e.message;
  }
  EXPECT_NE(log_out_.str().find("kafkascaler configuration"), std::string::npos) << log_out_.str();

  // Fixed (generation 2): no new warning.
  controller_.Apply(
      {kube::ChangeType::kModified,
       Scaler("ns", "slow", "worker",
              {{"scalingPolicy", "wait"}, {"targetWaitSeconds", 20}, {"scaleIntervalSeconds", 15}},
              2)});
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(seconds(15));
    controller_.Pass();
  }
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const auto& e) { return e.reason == "ConfigurationWarning"; }),
            1);
}

TEST_F(ManyControllerTest, UnknownClusterAndUnscalableTargetAreRefused) {
  Add(Scaler("ns", "elsewhere", "worker", {{"kafkaCluster", "analytics"}}));
  controller_.Pass();
  EXPECT_EQ(Condition("ns/elsewhere", "Ready", "reason"), "UnknownCluster");
  EXPECT_NE(Condition("ns/elsewhere", "Ready", "message").find("\"analytics\""), std::string::npos);
  EXPECT_NE(Condition("ns/elsewhere", "Ready", "message").find("known: default"),
            std::string::npos);

  refuse_target_ = true;
  Add(Scaler("ns", "unscalable", "worker"));
  Next();
  EXPECT_EQ(Condition("ns/unscalable", "Ready", "reason"), "InvalidTarget");
  EXPECT_EQ(Condition("ns/unscalable", "Ready", "message"), "no such kind");
}

TEST_F(ManyControllerTest, OneTargetsFailureAffectsOnlyThatTarget) {
  Add(Scaler("ns", "good", "good-worker"));
  Add(Scaler("ns", "denied", "denied-worker"));
  Add(Scaler("ns", "missing", "missing-worker", {{"topics", {"nope"}}}));
  observer_.answers["ns/good"] = FakeMetricSource::Backlog(50, 6);
  observer_.answers["ns/denied"] = FakeMetricSource::Backlog(50, 6);  // "missing": not found
  workloads_["ns/denied-worker"] = std::make_unique<FakeScaleTarget>(1);
  Workload("ns/denied-worker").set_error =
      Error{ErrorCode::kPermissionDenied, "patch deployments/scale denied-worker: 403 Forbidden"};
  controller_.Pass();
  EXPECT_EQ(Workload("ns/good-worker").state.spec_replicas, 5);
  EXPECT_EQ(Condition("ns/good", "Ready", "status"), "True");
  EXPECT_EQ(Condition("ns/denied", "Ready", "reason"), "ScaleFailed");
  EXPECT_NE(Condition("ns/denied", "Ready", "message").find("403 Forbidden"), std::string::npos);
  EXPECT_EQ(Condition("ns/missing", "Ready", "reason"), "KafkaError");
  EXPECT_EQ(Workload("ns/missing-worker").Sets().size(), 0u);
}

TEST_F(ManyControllerTest, DeletionStopsScalingAtOnceEvenMidPass) {
  Add(Scaler("ns", "orders", "worker"));
  observer_.answers["ns/orders"] = FakeMetricSource::Backlog(20, 6);
  controller_.Pass();
  ASSERT_EQ(Workload("ns/worker").Sets(), std::vector<std::string>{"set 2"});
  const size_t writes = writer_.writes.size();

  // Deleted while the pass is observing Kafka: the tick that follows must not write.
  observer_.answers["ns/orders"] = FakeMetricSource::Backlog(50, 6);
  observer_.during_observe = [&] {
    controller_.Apply({kube::ChangeType::kDeleted, Scaler("ns", "orders", "worker")});
  };
  Next();
  EXPECT_EQ(Workload("ns/worker").Sets(), std::vector<std::string>{"set 2"});
  EXPECT_EQ(writer_.writes.size(), writes) << "no status for a deleted KafkaScaler";
  observer_.during_observe = nullptr;
  for (int i = 0; i < 5; ++i) Next();
  EXPECT_EQ(Workload("ns/worker").Sets(), std::vector<std::string>{"set 2"});
  EXPECT_EQ(controller_.TargetCount(), 0u);
}

TEST_F(ManyControllerTest, SpecChangeRebuildsWithTheNewOptions) {
  Add(Scaler("ns", "orders", "worker"));
  observer_.answers["ns/orders"] = FakeMetricSource::Backlog(50, 6);
  controller_.Pass();
  EXPECT_EQ(Workload("ns/worker").state.spec_replicas, 5);
  // Our own status write coming back (same generation) changes nothing.
  json same = Scaler("ns", "orders", "worker");
  same["status"] = Status("ns/orders");
  controller_.Apply({kube::ChangeType::kModified, same});
  Next();
  EXPECT_EQ(factory_calls_, 1);

  controller_.Apply(
      {kube::ChangeType::kModified, Scaler("ns", "orders", "worker", {{"messagesPerPod", 25}}, 2)});
  Next();
  EXPECT_EQ(factory_calls_, 2);
  EXPECT_EQ(Status("ns/orders")["observedGeneration"], 2);
  EXPECT_EQ(Status("ns/orders")["desiredReplicas"], 2);
}

TEST_F(ManyControllerTest, EachTargetTicksOnItsOwnInterval) {
  Add(Scaler("ns", "fast", "fast-worker"));
  Add(Scaler("ns", "slow", "slow-worker", {{"scaleIntervalSeconds", 5}}));
  observer_.answers["ns/fast"] = FakeMetricSource::Backlog(0, 6);
  observer_.answers["ns/slow"] = FakeMetricSource::Backlog(0, 6);
  controller_.Pass();
  for (int i = 0; i < 10; ++i) Next();
  int fast = 0;
  int slow = 0;
  for (const auto& b : observer_.batches) {
    for (const auto& k : b) (k == "ns/fast" ? fast : slow)++;
  }
  EXPECT_EQ(fast, 11);
  EXPECT_EQ(slow, 3);  // at 0, 5 and 10 s
}

TEST_F(ManyControllerTest, PausedBySpecObservesButNeverWrites) {
  Add(Scaler("ns", "orders", "worker", {{"paused", true}}));
  observer_.answers["ns/orders"] = FakeMetricSource::Backlog(50, 6);
  controller_.Pass();
  EXPECT_TRUE(Workload("ns/worker").Sets().empty());
  EXPECT_EQ(Condition("ns/orders", "Paused", "status"), "True");
  EXPECT_EQ(Condition("ns/orders", "Paused", "reason"), "SpecPaused");
  EXPECT_EQ(Status("ns/orders")["desiredReplicas"], 5);
  EXPECT_EQ(Status("ns/orders")["currentReplicas"], 1);
}

TEST_F(ManyControllerTest, AFollowerNeitherScalesNorWritesStatus) {
  bool leader = false;
  Controller follower(
      ControllerOptions{.clusters = {{"default", &observer_}}, .may_act = [&] { return leader; }},
      clock_, log_, tracer_,
      [this](const ScalerRef&, const config::KafkaScalerTarget&) -> Result<TargetKube> {
        workloads_["ns/worker"] = std::make_unique<FakeScaleTarget>(1);
        TargetKube k;
        k.scale = std::make_unique<Forward>(*workloads_["ns/worker"]);
        return k;
      },
      nullptr, writer_);
  follower.Apply({kube::ChangeType::kAdded, Scaler("ns", "orders", "worker")});
  observer_.answers["ns/orders"] = FakeMetricSource::Backlog(50, 6);
  follower.Pass();
  EXPECT_TRUE(Workload("ns/worker").Sets().empty());
  EXPECT_TRUE(writer_.writes.empty());
  leader = true;
  clock_.Advance(seconds(1));
  follower.Pass();
  EXPECT_EQ(Workload("ns/worker").Sets(), std::vector<std::string>{"set 5"});
  EXPECT_EQ(writer_.writes.size(), 1u);
}

// --- Shards (active-active): two replicas share the workloads, Events and status writer ---

class ShardedControllerTest : public ManyControllerTest {
 protected:
  std::unique_ptr<Controller> Replica(const std::string& identity,
                                      std::optional<Duration> learned_every = std::nullopt) {
    return std::make_unique<Controller>(
        ControllerOptions{
            .clusters = {{"default", &observer_}},
            .may_act = [this] { return leader_; },
            .owns = [this, identity](const std::string& key) { return owner_[key] == identity; },
            .identity = identity,
            .learned_state_every = learned_every},
        clock_, log_, tracer_,
        [this](const ScalerRef&, const config::KafkaScalerTarget& spec) -> Result<TargetKube> {
          const std::string key = spec.config.namespace_name + "/" + spec.config.deployment_name;
          if (!workloads_.count(key)) workloads_[key] = std::make_unique<FakeScaleTarget>(1);
          ++factory_calls_;
          TargetKube k;
          k.scale = std::make_unique<Forward>(*workloads_[key]);
          return k;
        },
        [this](const ScalerRef& ref) -> std::unique_ptr<kube::EventRecorder> {
          return std::make_unique<ForwardEvents>(scaler_events_[ref.name]);
        },
        writer_);
  }
  // The status writes of `key` by `identity` (status.reconciledBy names the writer).
  int WritesBy(const std::string& key, const std::string& identity) {
    int n = 0;
    for (const auto& [k, patch] : writer_.writes) {
      if (k == key && patch["status"].value("reconciledBy", "") == identity) ++n;
    }
    return n;
  }
  int EventCount(const std::string& name, const std::string& reason) {
    int n = 0;
    for (const auto& e : scaler_events_[name].events) n += e.reason == reason ? 1 : 0;
    return n;
  }
  // What an informer delivers after a status write: the object with the status now held.
  json WithStatus(json object) {
    const std::string key = object["metadata"]["namespace"].get<std::string>() + "/" +
                            object["metadata"]["name"].get<std::string>();
    object["status"] = Status(key);
    return object;
  }
  std::map<std::string, std::string> owner_;
  bool leader_ = true;
};

TEST_F(ShardedControllerTest, EachReplicaTicksAndWritesOnlyTheTargetsItOwns) {
  auto a = Replica("a");
  auto b = Replica("b");
  owner_ = {{"ns/one", "a"}, {"ns/two", "b"}};
  for (Controller* c : {a.get(), b.get()}) {
    c->Apply({kube::ChangeType::kAdded, Scaler("ns", "one", "one-worker")});
    c->Apply({kube::ChangeType::kAdded, Scaler("ns", "two", "two-worker")});
  }
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(20, 6);
  observer_.answers["ns/two"] = FakeMetricSource::Backlog(50, 6);
  EXPECT_EQ(a->Pass(), 1);
  EXPECT_EQ(b->Pass(), 1);
  EXPECT_EQ(observer_.batches, (std::vector<std::vector<std::string>>{{"ns/one"}, {"ns/two"}}));
  EXPECT_EQ(Workload("ns/one-worker").Sets(), std::vector<std::string>{"set 2"});
  EXPECT_EQ(Workload("ns/two-worker").Sets(), std::vector<std::string>{"set 5"});
  EXPECT_EQ(Status("ns/one")["reconciledBy"], "a");
  EXPECT_EQ(Status("ns/two")["reconciledBy"], "b");
  EXPECT_EQ(WritesBy("ns/one", "b"), 0);
  EXPECT_EQ(WritesBy("ns/two", "a"), 0);
  EXPECT_EQ(a->OwnedCount(), 1u);
  EXPECT_NE(a->PrometheusText().find("kafka_autoscaler_targets_owned 1\n"), std::string::npos);
}

TEST_F(ShardedControllerTest, AShardLostMidPassFencesTheScaleAndTheStatusWrite) {
  auto a = Replica("a");
  owner_ = {{"ns/one", "a"}};
  a->Apply({kube::ChangeType::kAdded, Scaler("ns", "one", "one-worker")});
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(20, 6);
  a->Pass();
  ASSERT_EQ(Workload("ns/one-worker").Sets(), std::vector<std::string>{"set 2"});
  const size_t writes = writer_.writes.size();
  // The shard's renew deadline passes while the pass is asking Kafka.
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(50, 6);
  observer_.during_observe = [&] { owner_["ns/one"] = "b"; };
  clock_.Advance(seconds(1));
  a->Pass();
  EXPECT_EQ(Workload("ns/one-worker").Sets(), std::vector<std::string>{"set 2"});
  EXPECT_EQ(writer_.writes.size(), writes);
  observer_.during_observe = nullptr;
  clock_.Advance(seconds(1));
  EXPECT_EQ(a->Pass(), 0) << "not owned: not ticked";
  EXPECT_EQ(a->OwnedCount(), 0u);
}

TEST_F(ShardedControllerTest, ATargetHandedBackStartsFreshFromTheOtherReplicasState) {
  auto a = Replica("a");
  auto b = Replica("b");
  const json object = Scaler("ns", "one", "one-worker", {{"maxReplicas", 10}});
  a->Apply({kube::ChangeType::kAdded, object});
  b->Apply({kube::ChangeType::kAdded, object});
  owner_ = {{"ns/one", "a"}};
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(20, 6);
  a->Pass();
  b->Pass();
  ASSERT_EQ(Workload("ns/one-worker").Sets(), std::vector<std::string>{"set 2"});

  // a's shard goes to b (which has seen a's status), which scales up and writes its status.
  b->Apply({kube::ChangeType::kModified, WithStatus(object)});
  owner_["ns/one"] = "b";
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(40, 6);
  clock_.Advance(seconds(1));
  EXPECT_EQ(a->Pass(), 0);
  EXPECT_EQ(b->Pass(), 1);
  ASSERT_EQ(Workload("ns/one-worker").Sets(), (std::vector<std::string>{"set 2", "set 4"}));
  EXPECT_EQ(Status("ns/one")["reconciledBy"], "b");
  EXPECT_EQ(EventCount("one", "TargetHandedOver"), 1);

  // Back to a, which has seen b's status through its informer: b's 4 replicas are not another
  // writer to hold for (a's old state is dropped); a scales on at once and says so.
  a->Apply({kube::ChangeType::kModified, WithStatus(object)});
  owner_["ns/one"] = "a";
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(60, 6);
  clock_.Advance(seconds(1));
  EXPECT_EQ(b->Pass(), 0);
  EXPECT_EQ(a->Pass(), 1);
  EXPECT_EQ(Workload("ns/one-worker").Sets(),
            (std::vector<std::string>{"set 2", "set 4", "set 6"}));
  EXPECT_EQ(Status("ns/one")["reconciledBy"], "a");
  EXPECT_EQ(EventCount("one", "TargetHandedOver"), 2);
}

// A replica keeps only the object of a target another replica owns (its clients, trackers and
// reconciler cost memory at thousands of targets); it builds them when it gains the target, and
// drops them again when it loses it.
TEST_F(ShardedControllerTest, ATargetOwnedElsewhereIsBuiltOnlyWhenGained) {
  auto b = Replica("b");
  owner_ = {{"ns/one", "a"}};
  b->Apply({kube::ChangeType::kAdded, Scaler("ns", "one", "one-worker")});
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(20, 6);
  EXPECT_EQ(b->Pass(), 0);
  EXPECT_EQ(factory_calls_, 0);
  owner_["ns/one"] = "b";
  clock_.Advance(seconds(1));
  EXPECT_EQ(b->Pass(), 1);
  EXPECT_EQ(factory_calls_, 1);
  EXPECT_EQ(Workload("ns/one-worker").Sets(), std::vector<std::string>{"set 2"});
  EXPECT_EQ(Status("ns/one")["reconciledBy"], "b");
  owner_["ns/one"] = "a";
  clock_.Advance(seconds(1));
  EXPECT_EQ(b->Pass(), 0);
  EXPECT_EQ(factory_calls_, 1);
  owner_["ns/one"] = "b";  // gained again: built again, from the latest object
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(40, 6);
  clock_.Advance(seconds(1));
  EXPECT_EQ(b->Pass(), 1);
  EXPECT_EQ(factory_calls_, 2);
  EXPECT_EQ(Workload("ns/one-worker").Sets(), (std::vector<std::string>{"set 2", "set 4"}));
}

// --- The wait policy's learned state in status.learnedState ---

class LearnedStateTest : public ShardedControllerTest {
 protected:
  static constexpr char kTarget[] = "ns/worker topics=orders group=workers";

  // A wait-policy KafkaScaler of workload `deployment`.
  static json WaitScaler(const std::string& deployment = "worker", int64_t generation = 1,
                         json extra = json::object()) {
    json spec = {{"scalingPolicy", "wait"}, {"targetWaitSeconds", 20}};
    spec.merge_patch(extra);
    return Scaler("ns", "one", deployment, spec, generation);
  }
  // A state as a daemon saved it for `target`: one pod's rate 16 msg/s, measured, start-up 12 s.
  std::string Saved(const std::string& target = kTarget) {
    policy::WaitMemory w;
    w.mu = 16;
    w.mu_exact = true;
    w.startup = 12;
    w.startup_measured = true;
    return policy::SaveLearned(w, target, clock_.Now(), clock_.WallNow()).dump();
  }
  static json WithLearned(json object, const std::string& text) {
    object["status"]["learnedState"] = text;
    return object;
  }
  // The learned states written for ns/one, parsed, in order.
  std::vector<json> Saves() const {
    std::vector<json> out;
    for (const auto& [key, patch] : writer_.writes) {
      if (key == "ns/one" && patch["status"].contains("learnedState")) {
        out.push_back(json::parse(patch["status"]["learnedState"].get<std::string>()));
      }
    }
    return out;
  }
  // One pod's rate as saved: value and exact (its age left out).
  static json PerPodRate(const json& saved) {
    const json& r = saved["per_pod_rate"];
    return r.is_null() ? r : json{{"value", r["value"]}, {"exact", r["exact"]}};
  }
};

TEST_F(LearnedStateTest, AWaitTargetRestoresItsStatusStateAndSavesItOnAFixedPeriod) {
  auto a = Replica("a", seconds(300));
  owner_ = {{"ns/one", "a"}};
  a->Apply({kube::ChangeType::kAdded, WithLearned(WaitScaler(), Saved())});
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(0, 6);
  std::vector<int> saved_at;
  for (int t = 0; t <= 700; ++t) {
    const size_t before = Saves().size();
    clock_.Advance(seconds(1));
    a->Pass();
    if (Saves().size() > before) saved_at.push_back(t);
  }
  ASSERT_GE(saved_at.size(), 2u);
  EXPECT_LT(saved_at[0], 300) << "the first save comes within one period";
  EXPECT_EQ(saved_at[1] - saved_at[0], 300);
  const json first = Saves().front();
  EXPECT_EQ(PerPodRate(first), (json{{"value", 16.0}, {"exact", true}}));
  EXPECT_EQ(first["target"], kTarget);
  // Only a save writes learnedState; no other status write removes it.
  for (const auto& [key, patch] : writer_.writes) {
    EXPECT_FALSE(patch["status"].contains("learnedState") &&
                 !patch["status"]["learnedState"].is_string())
        << patch.dump();
  }
  EXPECT_TRUE(Status("ns/one")["learnedState"].is_string());

  // Without a state in its status, the same target starts cold.
  auto cold = Replica("a", seconds(300));
  writer_.writes.clear();
  cold->Apply({kube::ChangeType::kAdded, WaitScaler()});
  for (int t = 0; t < 300 && Saves().empty(); ++t) {
    clock_.Advance(seconds(1));
    cold->Pass();
  }
  ASSERT_EQ(Saves().size(), 1u);
  EXPECT_TRUE(PerPodRate(Saves().front()).is_null());
}

TEST_F(LearnedStateTest, ASpecChangeKeepsTheStateUnlessItNamesAnotherWorkload) {
  auto a = Replica("a", seconds(300));
  owner_ = {{"ns/one", "a"}};
  a->Apply({kube::ChangeType::kAdded, WithLearned(WaitScaler(), Saved())});
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(0, 6);
  a->Pass();
  // A new generation (maxReplicas): the state in memory carries over (the object delivered
  // has no learnedState, as if it had never been saved).
  a->Apply({kube::ChangeType::kModified, WaitScaler("worker", 2, {{"maxReplicas", 4}})});
  clock_.Advance(seconds(1));
  a->Pass();
  EXPECT_EQ(a->SaveLearnedNow(clock_.Now() + seconds(10)), 1u);
  EXPECT_EQ(PerPodRate(Saves().back()), (json{{"value", 16.0}, {"exact", true}}));
  // Another workload: what was learned of the old one is not used, and is overwritten.
  writer_.writes.clear();
  a->Apply({kube::ChangeType::kModified, WithLearned(WaitScaler("other", 3), Saved())});
  clock_.Advance(seconds(1));
  a->Pass();
  EXPECT_EQ(a->SaveLearnedNow(clock_.Now() + seconds(10)), 1u);
  EXPECT_TRUE(PerPodRate(Saves().back()).is_null());
  EXPECT_EQ(Saves().back()["target"], "ns/other topics=orders group=workers");
}

TEST_F(LearnedStateTest, TheReplicaThatTakesATargetOverRestoresThePreviousOwnersState) {
  auto a = Replica("a", seconds(300));
  auto b = Replica("b", seconds(300));
  owner_ = {{"ns/one", "a"}};
  a->Apply({kube::ChangeType::kAdded, WithLearned(WaitScaler(), Saved())});
  b->Apply({kube::ChangeType::kAdded, WaitScaler()});  // b saw the object before any save
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(0, 6);
  a->Pass();
  b->Pass();
  ASSERT_EQ(a->SaveLearnedNow(clock_.Now() + seconds(10)), 1u);  // a stops gracefully
  EXPECT_EQ(b->SaveLearnedNow(clock_.Now() + seconds(10)), 0u) << "b owns nothing";
  b->Apply({kube::ChangeType::kModified, WithStatus(WaitScaler())});
  owner_["ns/one"] = "b";
  clock_.Advance(seconds(1));
  EXPECT_EQ(b->Pass(), 1);
  writer_.writes.clear();
  ASSERT_EQ(b->SaveLearnedNow(clock_.Now() + seconds(10)), 1u);
  EXPECT_EQ(PerPodRate(Saves().back()), (json{{"value", 16.0}, {"exact", true}}));
}

TEST_F(LearnedStateTest, AStateThatIsNotValidIsLoggedAndOverwritten) {
  auto a = Replica("a", seconds(300));
  owner_ = {{"ns/one", "a"}};
  json bad = json::parse(Saved());
  bad["per_pod_rate"]["value"] = -1;
  for (const std::string& text : {std::string("{\"version\": "), bad.dump()}) {
    log_out_.str("");
    writer_.writes.clear();
    a->Apply({kube::ChangeType::kDeleted, WaitScaler()});
    a->Pass();
    a->Apply({kube::ChangeType::kAdded, WithLearned(WaitScaler(), text)});
    observer_.answers["ns/one"] = FakeMetricSource::Backlog(60, 6);
    clock_.Advance(seconds(1));
    EXPECT_EQ(a->Pass(), 1) << "the target runs, cold";
    EXPECT_NE(log_out_.str().find("learned state not restored; starting cold"), std::string::npos);
    ASSERT_EQ(a->SaveLearnedNow(clock_.Now() + seconds(10)), 1u);
    EXPECT_EQ(Saves().back()["version"], policy::kLearnedStateVersion);
  }
  EXPECT_NE(log_out_.str().find("per_pod_rate"), std::string::npos) << log_out_.str();
}

TEST_F(LearnedStateTest, NothingIsKeptForOtherPoliciesWhenOffOrByAFollower) {
  auto off = Replica("a");
  auto a = Replica("a", seconds(1));
  owner_ = {{"ns/one", "a"}};
  off->Apply({kube::ChangeType::kAdded, WaitScaler()});
  a->Apply({kube::ChangeType::kAdded, Scaler("ns", "one", "worker")});  // messages policy
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(20, 6);
  for (int t = 0; t < 5; ++t) {
    clock_.Advance(seconds(1));
    off->Pass();
    a->Pass();
  }
  EXPECT_EQ(off->SaveLearnedNow(clock_.Now() + seconds(10)), 0u);
  EXPECT_EQ(a->SaveLearnedNow(clock_.Now() + seconds(10)), 0u);
  EXPECT_TRUE(Saves().empty());

  auto follower = Replica("a", seconds(1));
  follower->Apply({kube::ChangeType::kAdded, WaitScaler()});
  leader_ = false;
  for (int t = 0; t < 5; ++t) {
    clock_.Advance(seconds(1));
    follower->Pass();
  }
  EXPECT_EQ(follower->SaveLearnedNow(clock_.Now() + seconds(10)), 0u);
  EXPECT_TRUE(Saves().empty());
}

TEST_F(LearnedStateTest, APolicyThatIsNotWaitRemovesTheStateLeftInItsStatus) {
  auto a = Replica("a", seconds(300));
  auto follower = Replica("b", seconds(300));
  owner_ = {{"ns/one", "a"}};
  // The scaler ran `wait` and saved; its policy is `messages` now.
  const json scaler = WithLearned(Scaler("ns", "one", "worker"), Saved());
  follower->Apply({kube::ChangeType::kAdded, scaler});
  observer_.answers["ns/one"] = FakeMetricSource::Backlog(20, 6);
  clock_.Advance(seconds(1));
  follower->Pass();
  EXPECT_TRUE(writer_.writes.empty()) << "only the owner writes";

  writer_.status["ns/one"] = scaler["status"];  // as the server holds it
  a->Apply({kube::ChangeType::kAdded, scaler});
  auto removals = [&] {
    int n = 0;
    for (const auto& [key, patch] : writer_.writes) {
      if (key != "ns/one" || !patch["status"].contains("learnedState")) continue;
      EXPECT_TRUE(patch["status"]["learnedState"].is_null()) << patch.dump();
      ++n;
    }
    return n;
  };
  for (int t = 0; t < 5; ++t) {
    clock_.Advance(seconds(1));
    a->Pass();
  }
  EXPECT_EQ(removals(), 1) << "removed once, with the first status write";
  EXPECT_FALSE(Status("ns/one").contains("learnedState"));
  EXPECT_EQ(a->SaveLearnedNow(clock_.Now() + seconds(10)), 0u);

  // The removal failed (the write was refused): the next write tries again.
  writer_.writes.clear();
  writer_.refuse = 1;
  writer_.status["ns/one"]["learnedState"] = Saved();
  a->Apply({kube::ChangeType::kModified,
            WithLearned(Scaler("ns", "one", "worker", json::object(), 2), Saved())});
  for (int t = 0; t < 3; ++t) {
    clock_.Advance(seconds(1));
    a->Pass();
  }
  EXPECT_EQ(removals(), 2) << "the refused write and the next";
  EXPECT_FALSE(Status("ns/one").contains("learnedState"));
}

TEST_F(LearnedStateTest, SavingAtAStopEndsAtItsDeadline) {
  auto a = Replica("a", seconds(300));
  owner_ = {{"ns/one", "a"}};
  a->Apply({kube::ChangeType::kAdded, WaitScaler()});
  a->Pass();
  EXPECT_EQ(a->SaveLearnedNow(clock_.Now()), 0u);
  EXPECT_NE(log_out_.str().find("\"left\":1"), std::string::npos) << log_out_.str();
  EXPECT_TRUE(Saves().empty());
}

// --- ComputeStatus, pure ---

TEST(ManyStatus, TransitionTimeChangesOnlyWhenTheStatusFlips) {
  controller::ReconcilerOptions options;
  controller::TickReport r;
  r.kafka_ok = r.kube_ok = true;
  r.observation = FakeMetricSource::Backlog(10, 2);
  r.scale = kube::ScaleState{.spec_replicas = 1};
  r.replicas_after = 1;
  const WallTime t0 = WallTime(seconds(1'800'000'000));
  StatusInput in{.generation = 3, .report = &r, .options = &options, .now = t0};
  const json first = ComputeStatus(json::object(), in);
  EXPECT_EQ(FindCondition(first, "Ready")["lastTransitionTime"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(FindCondition(first, "Ready")["observedGeneration"], 3);

  in.now = t0 + seconds(60);
  r.observation = FakeMetricSource::Backlog(0, 2);  // Active flips, Ready does not
  const json second = ComputeStatus(first, in);
  EXPECT_EQ(FindCondition(second, "Ready")["lastTransitionTime"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(FindCondition(second, "Active")["status"], "False");
  EXPECT_EQ(FindCondition(second, "Active")["lastTransitionTime"], "2027-01-15T08:01:00Z");
  EXPECT_NE(FindCondition(second, "Ready")["message"], FindCondition(first, "Ready")["message"]);

  const json patch = StatusMergePatch(
      second,
      ComputeStatus(second, StatusInput{.generation = 4,
                                        .refusal = Refusal{"InvalidSpec", "spec.topics: required"},
                                        .now = t0}));
  EXPECT_TRUE(patch["status"]["backlog"].is_null());
  EXPECT_EQ(patch["status"]["observedGeneration"], 4);
}

}  // namespace
}  // namespace kafka_autoscaler::many

namespace kafka_autoscaler::many {
namespace {

TEST(PruneKafkaScalerTest, KeepsWhatTheControllerReads) {
  json object = {{"apiVersion", "kafka-autoscaler.io/v1alpha1"},
                 {"kind", "KafkaScaler"},
                 {"metadata",
                  {{"name", "orders"},
                   {"namespace", "team-a"},
                   {"uid", "u-1"},
                   {"generation", 3},
                   {"resourceVersion", "42"},
                   {"labels", {{"team", "a"}}},
                   {"annotations", {{"kubectl.kubernetes.io/last-applied-configuration", "{}"}}},
                   {"managedFields", json::array({{{"manager", "kubectl"}}})}}},
                 {"spec", {{"topics", {"orders"}}}},
                 {"status", {{"backlog", 5}}}};
  json expected = object;
  expected["metadata"].erase("labels");
  expected["metadata"].erase("annotations");
  expected["metadata"].erase("managedFields");
  PruneKafkaScaler(object);
  EXPECT_EQ(object, expected);
}

}  // namespace
}  // namespace kafka_autoscaler::many

namespace kafka_autoscaler::many {
namespace {

class CountingObserver final : public kafka::SharedObserver {
 public:
  std::map<std::string, Result<kafka::Observation>> Observe(
      const std::vector<kafka::TargetQuery>& targets) override {
    clock.Advance(std::chrono::milliseconds(300));  // the pass waits on Kafka
    counts.metadata += 1;
    counts.offset_fetch += static_cast<int64_t>(targets.size());
    counts.list_offsets += 2;
    std::map<std::string, Result<kafka::Observation>> out;
    for (const auto& q : targets) {
      out.emplace(q.key, MakeError(ErrorCode::kNotFound, "topic orders does not exist"));
    }
    return out;
  }
  kafka::RequestCounts stats() const override { return counts; }
  testing::FakeClock clock;
  kafka::RequestCounts counts;
};

class NoStatus final : public StatusWriter {
 public:
  Status Write(const ScalerRef&, const json&) override { return OkStatus(); }
};

TEST(ManyControllerMetricsTest, PassDurationHistogramAndKafkaRequestsPerCluster) {
  CountingObserver observer;
  std::ostringstream log_out;
  Logger log(observer.clock, log_out, LogLevel::kError, LogFormat::kJson);
  controller::NullTickTracer tracer;
  NoStatus writer;
  Controller controller(
      ControllerOptions{.clusters = {{"default", &observer}}}, observer.clock, log, tracer,
      [](const ScalerRef&, const config::KafkaScalerTarget&) -> Result<TargetKube> {
        TargetKube k;
        k.scale = std::make_unique<testing::FakeScaleTarget>(1);
        return k;
      },
      {}, writer);
  for (const char* name : {"a", "b"}) {
    controller.Apply({kube::ChangeType::kAdded,
                      {{"apiVersion", "kafka-autoscaler.io/v1alpha1"},
                       {"kind", "KafkaScaler"},
                       {"metadata", {{"namespace", "ns"}, {"name", name}, {"uid", name}}},
                       {"spec",
                        {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", name}}},
                         {"topics", {"orders"}},
                         {"consumerGroup", "g"},
                         {"scaleIntervalSeconds", 30}}}}});
  }
  EXPECT_EQ(controller.Pass(), 2);  // 0.3 s, in the le=0.5 bucket
  EXPECT_EQ(controller.Pass(), 0);  // nothing due: not a pass that counts
  const std::string text = controller.PrometheusText();
  for (const char* line : {
           "kafka_autoscaler_pass_duration_seconds_bucket{le=\"0.25\"} 0\n",
           "kafka_autoscaler_pass_duration_seconds_bucket{le=\"0.5\"} 1\n",
           "kafka_autoscaler_pass_duration_seconds_bucket{le=\"+Inf\"} 1\n",
           "kafka_autoscaler_pass_duration_seconds_sum 0.3\n",
           "kafka_autoscaler_pass_duration_seconds_count 1\n",
           "# TYPE kafka_autoscaler_kafka_requests_total counter\n",
           "kafka_autoscaler_kafka_requests_total{cluster=\"default\",api=\"Metadata\"} 1\n",
           "kafka_autoscaler_kafka_requests_total{cluster=\"default\",api=\"ListOffsets\"} 2\n",
           "kafka_autoscaler_kafka_requests_total{cluster=\"default\",api=\"OffsetFetch\"} 2\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  }
}

}  // namespace
}  // namespace kafka_autoscaler::many
