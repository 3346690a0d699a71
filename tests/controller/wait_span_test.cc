// SCALING_POLICY=wait: what its model concluded reaches the tick's root span.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "controller/reconciler.h"
#include "fakes/fake_clock.h"
#include "fakes/fakes.h"

namespace kafka_autoscaler::controller {
namespace {

// Keeps the attributes of every span, by span name (the last value wins).
class RecordingTracer final : public TickTracer {
 public:
  std::unique_ptr<TickSpan> StartSpan(std::string_view name, SpanKind) override {
    return std::make_unique<Span>(attributes[std::string(name)]);
  }
  std::map<std::string, std::map<std::string, FieldValue>> attributes;

 private:
  struct Span final : TickSpan {
    explicit Span(std::map<std::string, FieldValue>& a) : attrs(a) {}
    void SetAttribute(std::string_view key, FieldValue value) override {
      attrs[std::string(key)] = std::move(value);
    }
    void SetError(std::string_view) override {}
    std::map<std::string, FieldValue>& attrs;
  };
};

// One reconciler tick of `policy` on `obs` (10 messages per pod, max 10, one pod), recorded.
struct OneTick {
  testing::FakeClock clock;
  testing::FakeMetricSource source;
  testing::FakeScaleTarget target{1};
  testing::FakeEventRecorder events;
  std::ostringstream out;
  Logger log{clock, out, LogLevel::kInfo, LogFormat::kJson};
  RecordingTracer tracer;

  const std::map<std::string, FieldValue>& Run(policy::PolicyConfig policy,
                                               kafka::Observation obs) {
    ReconcilerOptions o;
    o.policy = policy;
    o.policy.messages_per_pod = 10;
    o.policy.max_replicas = 10;
    o.topics = "orders";
    o.namespace_name = "default";
    o.deployment_name = "workers";
    Reconciler reconciler(o, clock, source, target, &events, log, tracer);
    obs.at = clock.Now();
    source.Push(std::move(obs));
    (void)reconciler.Tick(true);
    return tracer.attributes[std::string(kSpanReconcile)];
  }
};

TEST(WaitSpanTest, DecisionSpanCarriesTheWaitModel) {
  OneTick t;
  policy::PolicyConfig wait;
  wait.kind = policy::PolicyKind::kWait;
  const auto& root = t.Run(wait, testing::FakeMetricSource::Backlog(45));
  ASSERT_TRUE(root.count("kafka_autoscaler.wait.why")) << "no wait attributes on the root span";
  EXPECT_EQ(std::get<std::string>(root.at("kafka_autoscaler.wait.why")), "seed_rule");
  for (const char* key :
       {"kafka_autoscaler.wait.predicted_peak_seconds", "kafka_autoscaler.wait.arrival_rate",
        "kafka_autoscaler.wait.arrival_sigma", "kafka_autoscaler.wait.per_pod_rate",
        "kafka_autoscaler.wait.per_pod_rate_noise", "kafka_autoscaler.wait.startup_seconds",
        "kafka_autoscaler.wait.rebalance_seconds"}) {
    EXPECT_TRUE(root.count(key)) << key;
  }
  EXPECT_EQ(std::get<std::string>(root.at("kafka_autoscaler.policy")), "wait");
  // The scale (1 → 5 by the seed rule) says so in its log line and its Event, without numbers
  // the model does not have yet (the e2e tests see the line and Event of a measured jump).
  EXPECT_EQ(t.target.state.spec_replicas, 5);
  EXPECT_NE(t.out.str().find("\"why\":\"seed_rule\""), std::string::npos) << t.out.str();
  EXPECT_NE(t.out.str().find("\"per_pod_rate\":0"), std::string::npos) << t.out.str();
  ASSERT_EQ(t.events.events.size(), 1u);
  EXPECT_EQ(t.events.events[0].reason, "ScaledUp");
  EXPECT_EQ(t.events.events[0].message,
            "from 1 to 5: backlog 45 over 12 partitions; wait policy: seed_rule (one pod's rate "
            "not measured yet)");
}

// Issue 17 (LIMIT_TO_PARTITIONS_WITH_LAG): the reconciler passes the per-partition lag to the
// policy; the rule that decided names itself on the span and in the log line of the scale.
TEST(WaitSpanTest, LagCapReachesTheSpanAndTheLog) {
  OneTick t;
  policy::PolicyConfig lag_cap;
  lag_cap.limit_to_partitions_with_lag = true;
  // 80 messages on 3 of 12 partitions: ceil(80/10) = 8, capped at the 3 that have lag.
  auto obs = testing::FakeMetricSource::Backlog(0, 12);
  for (int p = 0; p < 3; ++p) obs.partitions[p].high = obs.partitions[p].lag = p == 0 ? 28 : 26;
  obs.backlog = 80;
  const auto& root = t.Run(lag_cap, std::move(obs));
  EXPECT_EQ(t.target.state.spec_replicas, 3);
  EXPECT_EQ(std::get<std::string>(root.at("kafka_autoscaler.reason")), "lag_partition_cap");
  EXPECT_EQ(std::get<int64_t>(root.at("kafka_autoscaler.partitions_with_lag")), 3);
  EXPECT_NE(t.out.str().find("lag_partition_cap"), std::string::npos) << t.out.str();
}

// Issue 13 items 1 and 7: the commit holds explain themselves on the decision span.
TEST(WaitSpanTest, CommitHoldsReachTheSpan) {
  {
    OneTick t;  // a group that never committed: held at MIN_REPLICAS (1)
    auto obs = testing::FakeMetricSource::Backlog(300, 6);
    obs.group_mode = true;
    const auto& root = t.Run(policy::PolicyConfig{}, std::move(obs));
    EXPECT_EQ(std::get<std::string>(root.at(std::string(telemetry::kAttrReason))), "uncommitted");
    EXPECT_EQ(std::get<int64_t>(root.at(std::string(telemetry::kAttrPartitionsUncommitted))), 6);
    EXPECT_EQ(std::get<int64_t>(root.at(std::string(telemetry::kAttrPartitionsInvalidCommit))), 0);
  }
  OneTick t;  // an empty partition with a commit beyond its end: hold, not idle
  auto obs = testing::FakeMetricSource::Backlog(0, 2);
  obs.group_mode = true;
  obs.partitions[0].committed = 500;
  obs.partitions[1].committed = 0;
  const auto& root = t.Run(policy::PolicyConfig{}, std::move(obs));
  EXPECT_EQ(std::get<std::string>(root.at(std::string(telemetry::kAttrReason))), "invalid_commit");
  EXPECT_EQ(std::get<int64_t>(root.at(std::string(telemetry::kAttrPartitionsInvalidCommit))), 1);
  EXPECT_EQ(std::get<int64_t>(root.at(std::string(telemetry::kAttrPartitionsUncommitted))), 0);
}

}  // namespace
}  // namespace kafka_autoscaler::controller

namespace kafka_autoscaler::controller {
namespace {

// Issue 17 item 2: a stuck partition is explained on the decision span. STUCK_AFTER 30 s, a tick
// every 15 s: partition 0 at commit 100 (lag 50, then 60, 70), partition 1 advancing; stuck at the
// third tick (30 s after the first saw its lag).
TEST(WaitSpanTest, StuckPartitionsReachTheDecisionSpan) {
  testing::FakeClock clock;
  testing::FakeMetricSource source;
  testing::FakeScaleTarget target{1};
  std::ostringstream out;
  Logger log{clock, out, LogLevel::kInfo, LogFormat::kJson};
  RecordingTracer tracer;
  ReconcilerOptions o;
  o.policy.messages_per_pod = 10;
  o.policy.max_replicas = 10;
  o.policy.exclude_stuck_lag = true;
  o.stuck_after = std::chrono::seconds(30);
  o.topics = "orders";
  o.group = "workers";
  Reconciler reconciler(o, clock, source, target, nullptr, log, tracer);
  const auto& root = tracer.attributes[std::string(kSpanReconcile)];
  for (int i = 0; i < 3; ++i) {
    kafka::Observation obs;
    obs.group_mode = true;
    obs.partition_count = 2;
    obs.partitions = {{.topic = "orders",
                       .partition = 0,
                       .high = 150 + 10 * i,
                       .committed = 100,
                       .lag = 50 + 10 * i},
                      {.topic = "orders",
                       .partition = 1,
                       .high = 1010 + 10 * i,
                       .committed = 1000 + 10 * i,
                       .lag = 10}};
    obs.backlog = 60 + 10 * i;
    obs.at = clock.Now();
    source.Push(std::move(obs));
    (void)reconciler.Tick(true);
    if (i < 2) {
      EXPECT_EQ(std::get<int64_t>(root.at("kafka_autoscaler.stuck.partitions")), 0) << i;
      EXPECT_FALSE(root.count("kafka_autoscaler.stuck.list")) << i;
    }
    clock.Advance(std::chrono::seconds(15));
  }
  EXPECT_EQ(std::get<int64_t>(root.at("kafka_autoscaler.stuck.partitions")), 1);
  EXPECT_EQ(std::get<int64_t>(root.at("kafka_autoscaler.stuck.lag")), 70);
  EXPECT_EQ(std::get<std::string>(root.at("kafka_autoscaler.stuck.list")), "orders/0@100");
  EXPECT_TRUE(std::get<bool>(root.at("kafka_autoscaler.stuck.excluded")));
  EXPECT_EQ(std::get<std::string>(root.at("kafka_autoscaler.reason")), "stuck_excluded");
}

}  // namespace
}  // namespace kafka_autoscaler::controller
