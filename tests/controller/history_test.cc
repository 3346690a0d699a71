// The status page's model: the bounded ring per target, the decision log, and the JSON of
// /api/v1/targets with several targets (the daemon has one today; issue 15 brings many).
#include "controller/history.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kafka_autoscaler::controller {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

const WallTime kT0 = WallTime{} + hours(24 * 365 * 50);

TickReport Tick(int i, int64_t backlog, int32_t from, int32_t desired,
                policy::Reason reason = policy::Reason::kBacklog) {
  TickReport r;
  r.wall_time = kT0 + seconds(i);
  r.kafka_ok = r.kube_ok = true;
  r.observation = kafka::Observation{.backlog = backlog, .partition_count = 6};
  r.scale = kube::ScaleState{.spec_replicas = from};
  r.decision = policy::Decision{.desired = desired, .reason = reason};
  r.action = from == desired ? Action::kNone : Action::kScaled;
  r.replicas_after = desired;
  r.throughput = {.produced_per_minute = 60.0 * i, .consumed_per_minute = 30.0 * i};
  return r;
}

TickReport KafkaFailure(int i, int32_t replicas) {
  TickReport r;
  r.wall_time = kT0 + seconds(i);
  r.kube_ok = true;
  r.scale = kube::ScaleState{.spec_replicas = replicas};
  r.action = Action::kHeld;
  r.replicas_after = replicas;
  r.consecutive_failures = 1;
  r.errors.push_back({"kafka_timeout", Error{ErrorCode::kTimeout, "kafka: timed out"}});
  return r;
}

TargetInfo Target(const std::string& ns, const std::string& name) {
  return {.namespace_name = ns,
          .name = name,
          .topics = name + "-topic",
          .group = "g",
          .min_replicas = 1,
          .max_replicas = 8};
}

TEST(HistoryTest, CapacityIsOneHourOfTicksCapped) {
  struct Case {
    std::string name;
    Duration interval;
    size_t want;
  };
  for (const Case& c : {
           Case{.name = "60 s ticks", .interval = seconds(60), .want = 60},
           Case{.name = "1 s ticks", .interval = seconds(1), .want = 3600},
           Case{.name = "100 ms ticks hit the cap", .interval = milliseconds(100), .want = 3600},
           Case{.name = "7 s ticks round up", .interval = seconds(7), .want = 515},
           Case{.name = "2 h ticks keep two", .interval = hours(2), .want = 2},
       }) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(History({.interval = c.interval}).Capacity(), c.want);
  }
}

TEST(HistoryTest, RingKeepsTheLatestPointsInOrder) {
  History h({.interval = seconds(60)});
  const TargetInfo t = Target("default", "workers");
  for (int i = 0; i < 100; ++i) h.Record(t, Tick(i, 1000 + i, 2, 2));
  const auto j = h.TargetHistoryJson("default", "workers");
  ASSERT_FALSE(j.is_null());
  ASSERT_EQ(j["points"]["t"].size(), 60u);
  EXPECT_EQ(j["points"]["backlog"][0], 1040);  // ticks 0..39 fell out
  EXPECT_EQ(j["points"]["backlog"][59], 1099);
  EXPECT_EQ(j["points"]["produced_per_minute"][59], 60.0 * 99);
  EXPECT_EQ(j["points"]["consumed_per_minute"][59], 30.0 * 99);
  EXPECT_LT(j["points"]["t"][0].get<int64_t>(), j["points"]["t"][59].get<int64_t>());
  EXPECT_EQ(j["capacity"], 60);
}

TEST(HistoryTest, DecisionLogCollapsesRepeatsAndIsBounded) {
  History h({.interval = seconds(1), .max_decisions = 3});
  const TargetInfo t = Target("default", "workers");
  h.Record(t, Tick(0, 100, 1, 4));  // scaled 1 -> 4
  for (int i = 1; i <= 5; ++i) h.Record(t, Tick(i, 100, 4, 4, policy::Reason::kNoChange));
  h.Record(t, KafkaFailure(6, 4));  // held
  h.Record(t, KafkaFailure(7, 4));  // same: collapsed
  auto d = h.TargetHistoryJson("default", "workers")["decisions"];
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0]["action"], "scaled");
  EXPECT_EQ(d[0]["from"], 1);
  EXPECT_EQ(d[0]["desired"], 4);
  EXPECT_EQ(d[0]["reason"], "backlog");
  EXPECT_EQ(d[1]["reason"], "no_change");
  EXPECT_EQ(d[1]["repeated"], 4);
  EXPECT_EQ(d[2]["action"], "held");
  EXPECT_EQ(d[2]["reason"], nullptr);
  EXPECT_EQ(d[2]["repeated"], 1);
  EXPECT_EQ(d[2]["errors"][0], "kafka_timeout: kafka: timed out");
  // Bounded: a fourth distinct decision pushes the oldest out.
  h.Record(t, Tick(8, 500, 4, 8, policy::Reason::kClampedMax));
  d = h.TargetHistoryJson("default", "workers")["decisions"];
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0]["reason"], "no_change");
  EXPECT_EQ(d[2]["reason"], "clamped_max");
}

TEST(HistoryTest, SeveralTargetsListSortedWithSparklinesAndOwnHistories) {
  History h({.interval = seconds(1), .sparkline_points = 10});
  const TargetInfo a = Target("shop", "orders"), b = Target("billing", "invoices"),
                   c = Target("shop", "emails");
  for (int i = 0; i < 25; ++i) {
    h.Record(a, Tick(i, 10 * i, 2, 2));
    h.Record(b, Tick(i, 7, 1, 1));
    if (i < 3) h.Record(c, Tick(i, 100 - i, 3, 3));
  }
  const auto list = h.TargetsJson()["targets"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["namespace"], "billing");
  EXPECT_EQ(list[1]["name"], "emails");
  EXPECT_EQ(list[2]["name"], "orders");
  // Sparklines: at most 10 buckets, ending at the latest backlog; shorter rings give fewer.
  EXPECT_EQ(list[2]["sparkline"].size(), 10u);
  EXPECT_EQ(list[2]["sparkline"].back(), 240);
  EXPECT_EQ(list[2]["backlog"], 240);
  EXPECT_EQ(list[1]["sparkline"], nlohmann::json({100, 99, 98}));
  EXPECT_EQ(list[0]["topics"], "invoices-topic");
  EXPECT_EQ(list[0]["ready"], true);
  EXPECT_EQ(list[0]["max_replicas"], 8);
  // Each history is its own; an unknown target is null (GET answers 404).
  EXPECT_EQ(h.TargetHistoryJson("shop", "emails")["points"]["t"].size(), 3u);
  EXPECT_EQ(h.TargetHistoryJson("billing", "invoices")["points"]["backlog"][0], 7);
  EXPECT_TRUE(h.TargetHistoryJson("shop", "nothing").is_null());
  h.RemoveTarget("shop", "emails");
  EXPECT_EQ(h.TargetsJson()["targets"].size(), 2u);
}

TEST(HistoryTest, ConditionsAndErrorsFollowTheLatestTick) {
  History h({.interval = seconds(1)});
  const TargetInfo t = Target("default", "workers");
  h.AddTarget(t);
  auto s = h.TargetsJson()["targets"][0];
  EXPECT_EQ(s["ready"], false);
  EXPECT_EQ(s["conditions"][0]["reason"], "NoTick");
  EXPECT_EQ(s["backlog"], nullptr);

  h.Record(t, Tick(0, 50, 1, 5));
  h.Record(t, KafkaFailure(1, 5));
  s = h.TargetsJson()["targets"][0];
  EXPECT_EQ(s["ready"], false);
  EXPECT_EQ(s["backlog"], nullptr);  // not the previous tick's value: unknown now
  EXPECT_EQ(s["replicas"], 5);
  EXPECT_EQ(s["errors"][0]["kind"], "kafka_timeout");
  EXPECT_EQ(s["conditions"][0]["type"], "Ready");
  EXPECT_EQ(s["conditions"][0]["status"], "False");
  EXPECT_EQ(s["conditions"][0]["reason"], "KafkaFailed");
  EXPECT_EQ(s["conditions"][0]["message"], "kafka: timed out");

  TickReport refused = Tick(2, 50, 5, 6);
  refused.action = Action::kScaleFailed;
  refused.replicas_after = 5;
  refused.errors.push_back(
      {"kube_permission_denied", Error{ErrorCode::kPermissionDenied, "forbidden"}});
  h.Record(t, refused);
  s = h.TargetsJson()["targets"][0];
  EXPECT_EQ(s["conditions"][0]["reason"], "ScaleRefused");
  EXPECT_EQ(s["conditions"][1]["type"], "Active");
  EXPECT_EQ(s["conditions"][1]["status"], "True");

  h.Record(t, Tick(3, 0, 5, 5, policy::Reason::kNoChange));
  s = h.TargetsJson()["targets"][0];
  EXPECT_EQ(s["ready"], true);
  EXPECT_EQ(s["errors"].size(), 0u);
  EXPECT_EQ(s["conditions"][0]["status"], "True");
  EXPECT_EQ(s["conditions"][1]["status"], "False");
  EXPECT_EQ(s["reason"], "no_change");
}

// Issue 17 item 2: stuck partitions are a condition and a count on the status page.
TEST(HistoryTest, StuckPartitionsAreAConditionAndACount) {
  History h({.interval = seconds(1)});
  const TargetInfo t = Target("default", "workers");
  TickReport r = Tick(0, 70, 1, 1);
  h.Record(t, r);
  auto s = h.TargetsJson()["targets"][0];
  EXPECT_EQ(s["stuck_partitions"], 0);
  EXPECT_EQ(s["conditions"].back()["type"], "StuckPartitions");
  EXPECT_EQ(s["conditions"].back()["status"], "False");
  r.stuck.push_back({.topic = "orders", .partition = 3, .committed = 120, .lag = 60});
  h.Record(t, r);
  s = h.TargetsJson()["targets"][0];
  EXPECT_EQ(s["stuck_partitions"], 1);
  EXPECT_EQ(s["conditions"].back()["status"], "True");
  EXPECT_EQ(s["conditions"].back()["reason"], "CommitNotMoving");
  EXPECT_EQ(s["conditions"].back()["message"], "orders/3 at committed offset 120, lag 60");
}

// The time lag of the latest tick is in the list and the detail; a tick without one (a failed
// observation) shows none rather than the previous figure.
TEST(HistoryTest, TimeLagOfTheLatestTick) {
  History history({.interval = seconds(10)});
  TickReport r = Tick(1, 500, 2, 2);
  r.time_lag = kafka::TimeLag{.max_seconds = 93.25, .max_lower_bound = true};
  history.Record(Target("shop", "orders"), r);
  auto list = history.TargetsJson()["targets"];
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["lag_seconds"], 93.25);
  EXPECT_EQ(list[0]["lag_seconds_lower_bound"], true);
  EXPECT_EQ(history.TargetHistoryJson("shop", "orders")["lag_seconds"], 93.25);
  history.Record(Target("shop", "orders"), KafkaFailure(2, 2));
  list = history.TargetsJson()["targets"];
  EXPECT_TRUE(list[0]["lag_seconds"].is_null()) << list.dump();
  EXPECT_EQ(list[0]["lag_seconds_lower_bound"], false);
}

TEST(HistoryTest, ListenerRegistersItsTargetBeforeTheFirstTick) {
  History h({.interval = seconds(1)});
  HistoryTickListener listener(h, Target("default", "workers"));
  EXPECT_EQ(h.TargetsJson()["targets"].size(), 1u);
  listener.OnTick(Tick(0, 9, 1, 1));
  EXPECT_EQ(h.TargetsJson()["targets"][0]["backlog"], 9);
}

}  // namespace
}  // namespace kafka_autoscaler::controller
