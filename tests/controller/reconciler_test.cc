#include "controller/reconciler.h"

#include <gtest/gtest.h>

#include <sstream>
#include <tuple>

#include "fakes/fake_clock.h"
#include "fakes/fakes.h"
#include "kafka/lag.h"
#include "kube/guarded_scale_target.h"

namespace kafka_autoscaler::controller {
namespace {

using testing::FakeClock;
using testing::FakeEventRecorder;
using testing::FakeMetricSource;
using testing::FakeScaleTarget;

struct Harness {
  explicit Harness(int32_t replicas, ReconcilerOptions o = Options()) : target(replicas) {
    reconciler = std::make_unique<Reconciler>(o, clock, source, target, &events, log, tracer);
  }
  static ReconcilerOptions Options() {
    ReconcilerOptions o;
    o.policy.messages_per_pod = 10;
    o.policy.min_replicas = 1;
    o.policy.max_replicas = 10;
    o.topics = "orders";
    o.namespace_name = "default";
    o.deployment_name = "workers";
    return o;
  }
  TickReport Tick(Result<kafka::Observation> obs, bool may_act = true) {
    clock.Advance(std::chrono::seconds(15));
    if (obs) obs->at = clock.Now();
    source.Push(std::move(obs));
    return reconciler->Tick(may_act);
  }

  FakeClock clock;
  FakeMetricSource source;
  FakeScaleTarget target;
  FakeEventRecorder events;
  std::ostringstream out;
  Logger log{clock, out, LogLevel::kDebug, LogFormat::kJson};
  NullTickTracer tracer;
  std::unique_ptr<Reconciler> reconciler;
};

TEST(ReconcilerTest, ScalesUpPatchesAndPostsEvent) {
  Harness h(1);
  TickReport r = h.Tick(FakeMetricSource::Backlog(45));
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.action, Action::kScaled);
  EXPECT_EQ(r.replicas_after, 5);
  EXPECT_EQ(h.target.calls, (std::vector<std::string>{"get", "set 5"}));
  ASSERT_EQ(h.events.events.size(), 1u);
  EXPECT_EQ(h.events.events[0].reason, "ScaledUp");
  EXPECT_EQ(h.events.events[0].message, "from 1 to 5: backlog 45 over 12 partitions");
  EXPECT_NE(h.out.str().find("\"msg\":\"scaled deployment\""), std::string::npos);
}

TEST(ReconcilerTest, ScaleDownEventReason) {
  Harness h(5);
  h.Tick(FakeMetricSource::Backlog(12));
  ASSERT_EQ(h.events.events.size(), 1u);
  EXPECT_EQ(h.events.events[0].reason, "ScaledDown");
}

TEST(ReconcilerTest, NoPatchWhenDesiredEqualsCurrent) {
  Harness h(3);
  TickReport r = h.Tick(FakeMetricSource::Backlog(30));
  EXPECT_EQ(r.action, Action::kNone);
  EXPECT_TRUE(h.target.Sets().empty());
  EXPECT_TRUE(h.events.events.empty());
}

TEST(ReconcilerTest, FailedObservationNeverScales) {
  Harness h(4);
  for (auto code : {ErrorCode::kTimeout, ErrorCode::kNotFound, ErrorCode::kPermissionDenied,
                    ErrorCode::kIncomplete, ErrorCode::kUnavailable}) {
    SCOPED_TRACE(std::string(ErrorCodeName(code)));
    TickReport r = h.Tick(MakeError(code, "boom"));
    EXPECT_FALSE(r.kafka_ok);
    EXPECT_EQ(r.action, Action::kHeld);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].kind, "kafka_" + std::string(ErrorCodeName(code)));
  }
  EXPECT_TRUE(h.target.Sets().empty());
}

TEST(ReconcilerTest, FallbackAfterConsecutiveFailures) {
  auto o = Harness::Options();
  o.fallback_replicas = 6;
  o.fallback_after_failures = 3;
  Harness h(2, o);
  EXPECT_EQ(h.Tick(MakeError(ErrorCode::kTimeout, "t")).action, Action::kHeld);
  EXPECT_EQ(h.Tick(MakeError(ErrorCode::kTimeout, "t")).action, Action::kHeld);
  TickReport r = h.Tick(MakeError(ErrorCode::kTimeout, "t"));
  EXPECT_EQ(r.consecutive_failures, 3);
  EXPECT_EQ(r.action, Action::kFallback);
  EXPECT_EQ(h.target.Sets(), std::vector<std::string>{"set 6"});
  ASSERT_EQ(h.events.events.size(), 1u);
  EXPECT_EQ(h.events.events[0].reason, "FallbackActive");
  // Already at the fallback: no second patch. A success resets the count.
  EXPECT_EQ(h.Tick(MakeError(ErrorCode::kTimeout, "t")).action, Action::kHeld);
  EXPECT_EQ(h.Tick(FakeMetricSource::Backlog(20)).consecutive_failures, 0);
  EXPECT_EQ(h.Tick(MakeError(ErrorCode::kTimeout, "t")).consecutive_failures, 1);
}

TEST(ReconcilerTest, KubernetesReadFailureHolds) {
  Harness h(2);
  h.target.get_error = Error{ErrorCode::kPermissionDenied, "forbidden", {}, std::nullopt};
  TickReport r = h.Tick(FakeMetricSource::Backlog(100));
  EXPECT_TRUE(r.kafka_ok);
  EXPECT_FALSE(r.kube_ok);
  EXPECT_EQ(r.action, Action::kHeld);
  EXPECT_EQ(r.errors[0].kind, "kube_permission_denied");
  EXPECT_TRUE(h.target.Sets().empty());
}

TEST(ReconcilerTest, PausedDryRunAndFollowerDecideButNeverPatch) {
  {
    Harness h(1);
    h.target.state.paused = true;
    EXPECT_EQ(h.Tick(FakeMetricSource::Backlog(100)).action, Action::kPaused);
    EXPECT_TRUE(h.target.Sets().empty());
  }
  {
    auto o = Harness::Options();
    o.dry_run = true;
    Harness h(1, o);
    TickReport r = h.Tick(FakeMetricSource::Backlog(100));
    EXPECT_EQ(r.action, Action::kDryRun);
    ASSERT_TRUE(r.decision);
    EXPECT_EQ(r.decision->desired, 10);
    EXPECT_TRUE(h.target.Sets().empty());
    EXPECT_NE(h.out.str().find("dry run: would scale"), std::string::npos);
  }
  {
    Harness h(1);
    EXPECT_EQ(h.Tick(FakeMetricSource::Backlog(100), /*may_act=*/false).action, Action::kNotLeader);
    EXPECT_TRUE(h.target.Sets().empty());
  }
}

TEST(ReconcilerTest, PatchRefusedIsReportedAndEventPosted) {
  Harness h(1);
  h.target.set_error = Error{ErrorCode::kPermissionDenied,
                             "forbidden: need 'patch' on deployments/scale in namespace 'default'",
                             {}, std::nullopt};
  TickReport r = h.Tick(FakeMetricSource::Backlog(100));
  EXPECT_EQ(r.action, Action::kScaleFailed);
  EXPECT_EQ(r.replicas_after, 1);
  ASSERT_EQ(h.events.events.size(), 1u);
  EXPECT_EQ(h.events.events[0].reason, "ScaleFailed");
}

// Item 2 of issue 13: the Lease is lost while Kafka is being read (after the loop asked
// IsLeader() and passed may_act = true). The write guard asks again right before the PATCH.
TEST(ReconcilerTest, LeadershipLostBetweenObserveAndActNeverPatches) {
  FakeClock clock;
  FakeMetricSource source;
  FakeScaleTarget inner(1);
  FakeEventRecorder events;
  std::ostringstream out;
  Logger log{clock, out, LogLevel::kDebug, LogFormat::kJson};
  NullTickTracer tracer;
  bool leader = true;
  kube::GuardedScaleTarget target(
      inner, {.min_replicas = 0, .max_replicas = 10, .may_write = [&] { return leader; }});
  Reconciler reconciler(Harness::Options(), clock, source, target, &events, log, tracer);
  source.Push(FakeMetricSource::Backlog(100));
  source.on_fetch = [&] { leader = false; };  // deposed while observing
  TickReport r = reconciler.Tick(/*may_act=*/true);
  EXPECT_EQ(r.action, Action::kNotLeader);
  EXPECT_EQ(inner.calls, (std::vector<std::string>{"get"}));  // no "set"
  EXPECT_TRUE(events.events.empty());
  EXPECT_TRUE(r.ok()) << r.errors.front().error.message;  // losing the Lease is not an error
  EXPECT_EQ(r.replicas_after, 1);
  // Leader again: the same decision goes through the same guard.
  source.on_fetch = nullptr;
  leader = true;
  clock.Advance(std::chrono::seconds(15));
  EXPECT_EQ(reconciler.Tick(true).action, Action::kScaled);
  EXPECT_EQ(inner.Sets(), std::vector<std::string>{"set 10"});
}

// The allowed range lives in the same guard: a target outside it is refused before sending.
TEST(ReconcilerTest, GuardRefusesOutsideTheRange) {
  FakeScaleTarget inner(1);
  kube::GuardedScaleTarget target(inner, {.min_replicas = 1, .max_replicas = 4});
  auto st = target.SetReplicas(5);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInternal);
  EXPECT_FALSE(target.SetReplicas(0));
  EXPECT_TRUE(target.SetReplicas(4));
  EXPECT_EQ(inner.Sets(), std::vector<std::string>{"set 4"});
}

// Item 3: a 409 is not retried inside the tick; the next tick re-reads and decides again.
TEST(ReconcilerTest, ConflictReturnsToTheLoopAndTheNextTickDecidesFromFreshState) {
  Harness h(1);
  h.target.set_error =
      Error{ErrorCode::kConflict, "the object has been modified", {}, std::nullopt};
  TickReport r = h.Tick(FakeMetricSource::Backlog(45));
  EXPECT_EQ(r.action, Action::kScaleFailed);
  EXPECT_EQ(r.errors.at(0).kind, "kube_conflict");
  EXPECT_EQ(h.target.calls, (std::vector<std::string>{"get", "set 5"}));  // one attempt
  // The backlog fell meanwhile: the next tick re-reads and writes what it decides now (2), not
  // the stale target (5).
  h.target.set_error.reset();
  r = h.Tick(FakeMetricSource::Backlog(20));
  EXPECT_EQ(r.action, Action::kScaled);
  EXPECT_FALSE(r.foreign_write);
  EXPECT_EQ(h.target.calls, (std::vector<std::string>{"get", "set 5", "get", "set 2"}));
}

// Item 3: spec.replicas changed by someone else is detected, reported once per episode, and
// not fought: the daemon holds until the value has been left alone for other_writer_hold.
TEST(ReconcilerTest, ForeignWriteIsReportedOnceAndNeverFought) {
  auto o = Harness::Options();
  o.other_writer_hold = std::chrono::seconds(60);
  Harness h(3, o);
  EXPECT_EQ(h.Tick(FakeMetricSource::Backlog(30)).action, Action::kNone);
  // Our own write is not foreign.
  EXPECT_EQ(h.Tick(FakeMetricSource::Backlog(50)).action, Action::kScaled);
  TickReport r = h.Tick(FakeMetricSource::Backlog(50));
  EXPECT_FALSE(r.foreign_write);
  EXPECT_TRUE(r.other_writer.empty());
  ASSERT_EQ(h.events.events.size(), 1u);  // ScaledUp

  h.target.state.spec_replicas = 8;  // kubectl scale --replicas=8
  r = h.Tick(FakeMetricSource::Backlog(50));
  ASSERT_TRUE(r.foreign_write);
  EXPECT_EQ(r.foreign_write->expected, 5);
  EXPECT_EQ(r.foreign_write->found, 8);
  EXPECT_EQ(r.action, Action::kOtherWriter);
  EXPECT_NE(r.other_writer.find("from 5 to 8"), std::string::npos) << r.other_writer;
  EXPECT_EQ(h.target.Sets(), std::vector<std::string>{"set 5"});  // not set back
  ASSERT_EQ(h.events.events.size(), 2u);
  EXPECT_EQ(h.events.events[1].type, kube::EventType::kWarning);
  EXPECT_EQ(h.events.events[1].reason, "OtherWriter");
  EXPECT_NE(h.out.str().find("\"msg\":\"replicas changed by another writer\""), std::string::npos);
  // Left alone for less than the hold: still holding, no second Event, not counted again.
  for (int i = 0; i < 3; ++i) {
    r = h.Tick(FakeMetricSource::Backlog(50));  // +15 s each
    EXPECT_FALSE(r.foreign_write);
    EXPECT_EQ(r.action, Action::kOtherWriter);
  }
  EXPECT_EQ(h.events.events.size(), 2u);
  // Quiet for 60 s: resume from the value found (8), and scale by the backlog again.
  r = h.Tick(FakeMetricSource::Backlog(50));
  EXPECT_TRUE(r.other_writer.empty());
  EXPECT_EQ(r.action, Action::kScaled);
  EXPECT_EQ(h.target.Sets(), (std::vector<std::string>{"set 5", "set 5"}));
  // A new episode posts a new Event.
  h.target.state.spec_replicas = 2;
  r = h.Tick(FakeMetricSource::Backlog(50));
  EXPECT_TRUE(r.foreign_write);
  EXPECT_EQ(h.events.events.back().reason, "OtherWriter");
  EXPECT_EQ(h.events.events.size(), 4u);  // ScaledUp, OtherWriter, ScaledDown, OtherWriter
}

// A follower, or a paused Deployment, sees other writers legitimately: nothing is reported.
TEST(ReconcilerTest, FollowersAndPausedDeploymentsDoNotReportForeignWrites) {
  Harness h(3);
  h.Tick(FakeMetricSource::Backlog(30), /*may_act=*/false);
  h.target.state.spec_replicas = 6;  // the leader wrote
  EXPECT_FALSE(h.Tick(FakeMetricSource::Backlog(30), false).foreign_write);
  h.Tick(FakeMetricSource::Backlog(60));  // leader now: adopts 6, nothing to do
  h.target.state.paused = true;
  h.target.state.spec_replicas = 1;  // a person, while paused
  EXPECT_FALSE(h.Tick(FakeMetricSource::Backlog(60)).foreign_write);
  EXPECT_TRUE(h.events.events.empty());
}

// Item 3: an HPA on the same Deployment: hold, warn once, and say why (readiness uses it).
TEST(ReconcilerTest, AnotherAutoscalerOnTheDeploymentHoldsAndWarnsOnce) {
  Harness h(1);
  h.target.state.other_autoscalers = {"HorizontalPodAutoscaler default/workers"};
  TickReport r = h.Tick(FakeMetricSource::Backlog(100));
  EXPECT_EQ(r.action, Action::kOtherWriter);
  EXPECT_NE(r.other_writer.find("HorizontalPodAutoscaler default/workers"), std::string::npos)
      << r.other_writer;
  r = h.Tick(FakeMetricSource::Backlog(100));
  EXPECT_EQ(r.action, Action::kOtherWriter);
  EXPECT_TRUE(h.target.Sets().empty());
  ASSERT_EQ(h.events.events.size(), 1u);
  EXPECT_EQ(h.events.events[0].type, kube::EventType::kWarning);
  EXPECT_EQ(h.events.events[0].reason, "OtherAutoscaler");
  // The HPA is deleted: scaling resumes.
  h.target.state.other_autoscalers.clear();
  r = h.Tick(FakeMetricSource::Backlog(100));
  EXPECT_TRUE(r.other_writer.empty());
  EXPECT_EQ(r.action, Action::kScaled);
}

TEST(ReconcilerTest, ThresholdWarningIsOneLogLine) {
  Harness h(1);
  h.Tick(FakeMetricSource::Backlog(1500));
  const std::string out = h.out.str();
  const auto first = out.find("backlog above threshold");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(out.find("backlog above threshold", first + 1), std::string::npos);
  EXPECT_NE(out.find("\"recommended_pods\":150"), std::string::npos);
  EXPECT_NE(out.find("\"held_back_by_max\":true"), std::string::npos);
}

TEST(ReconcilerTest, ThroughputAbsentOnFirstTickThenMeasured) {
  Harness h(1);
  TickReport first = h.Tick(FakeMetricSource::Backlog(120));
  EXPECT_FALSE(first.throughput.produced_per_minute);
  TickReport second = h.Tick(FakeMetricSource::Backlog(240));  // +120 messages in 15 s
  ASSERT_TRUE(second.throughput.produced_per_minute);
  EXPECT_DOUBLE_EQ(*second.throughput.produced_per_minute, 480.0);
}

// A consumer group's view of 4 partitions: high watermarks and commits per partition (no
// commit = std::nullopt), lag computed by the daemon's own rule (kafka/lag.h).
kafka::Observation GroupView(
    const std::vector<int64_t>& high, const std::vector<std::optional<int64_t>>& committed,
    config::OffsetResetPolicy reset = config::OffsetResetPolicy::kEarliest) {
  kafka::Observation o;
  for (size_t p = 0; p < high.size(); ++p) {
    o.partitions.push_back({.topic = "orders",
                            .partition = static_cast<int32_t>(p),
                            .low = 0,
                            .high = high[p],
                            .committed = committed[p]});
  }
  kafka::ComputeBacklog(o, /*group_mode=*/true, reset);
  return o;
}

// Issue 13 item 9: the rate policy learns a pod's rate from pods that are ready, not from pods
// that merely exist (status.replicas counts pods still starting).
TEST(ReconcilerTest, RatePolicyLearnsPerPodRateOnlyFromReadyPods) {
  auto o = Harness::Options();
  o.policy.kind = policy::PolicyKind::kRate;
  Harness h(4, o);
  h.target.state.ready_replicas = 2;  // two of the four pods are still starting
  h.Tick(GroupView({1000, 1000, 1000, 1000}, {0, 0, 0, 0}));
  // 15 s later each partition consumed 150: 2,400/min for the group.
  TickReport starting = h.Tick(GroupView({1000, 1000, 1000, 1000}, {150, 150, 150, 150}));
  ASSERT_TRUE(starting.decision);
  ASSERT_TRUE(starting.throughput.consumed_per_minute);
  EXPECT_FALSE(starting.decision->next_state.per_pod_rate_ewma)
      << "learned " << *starting.decision->next_state.per_pod_rate_ewma
      << "/s per pod while only 2 of 4 pods were ready";
  h.target.state.ready_replicas = h.target.state.spec_replicas;  // all ready now
  TickReport ready = h.Tick(GroupView({1000, 1000, 1000, 1000}, {300, 300, 300, 300}));
  ASSERT_TRUE(ready.decision);
  ASSERT_TRUE(ready.decision->next_state.per_pod_rate_ewma);
  const int32_t pods = ready.scale->ready_replicas;
  EXPECT_DOUBLE_EQ(*ready.decision->next_state.per_pod_rate_ewma, 600.0 / 15.0 / pods);
}

// Issue 13 item 5: zero backlog seen before an outage does not count towards MIN_TTL_SECONDS;
// the daemon goes idle only after MIN_TTL_SECONDS of zero backlog observed after it.
TEST(ReconcilerTest, FailedObservationRestartsTheIdleTimer) {
  auto o = Harness::Options();
  o.policy.min_ttl = std::chrono::seconds(300);
  o.policy.idle_replicas = 0;
  Harness h(1, o);
  EXPECT_EQ(h.Tick(FakeMetricSource::Backlog(0)).decision->reason, policy::Reason::kIdlePending);
  for (int i = 0; i < 20; ++i) h.Tick(MakeError(ErrorCode::kTimeout, "t"));  // 300 s blind
  for (int i = 0; i < 20; ++i) {  // 0..285 s of observed zero backlog: not yet idle
    SCOPED_TRACE(i);
    TickReport r = h.Tick(FakeMetricSource::Backlog(0));
    ASSERT_TRUE(r.decision);
    EXPECT_EQ(r.decision->reason, policy::Reason::kIdlePending);
    EXPECT_EQ(r.replicas_after, 1);
  }
  EXPECT_TRUE(h.target.Sets().empty());
  TickReport idle = h.Tick(FakeMetricSource::Backlog(0));  // 300 s observed
  EXPECT_EQ(idle.decision->reason, policy::Reason::kIdle);
  EXPECT_EQ(h.target.Sets(), std::vector<std::string>{"set 0"});
}

// Issue 13 item 5: the scale-down stabilization window counts observed recommendations only;
// after an outage it starts again from the current count.
TEST(ReconcilerTest, FailedObservationRestartsTheStabilizationWindow) {
  auto o = Harness::Options();
  o.policy.scale_down_stabilization = std::chrono::seconds(60);
  Harness h(1, o);
  EXPECT_EQ(h.Tick(FakeMetricSource::Backlog(50)).replicas_after, 5);
  for (int i = 0; i < 5; ++i) h.Tick(MakeError(ErrorCode::kTimeout, "t"));  // 75 s blind
  for (int i = 0; i < 4; ++i) {  // 0..45 s of observed low backlog: held by the window
    SCOPED_TRACE(i);
    TickReport r = h.Tick(FakeMetricSource::Backlog(10));
    EXPECT_EQ(r.replicas_after, 5);
    EXPECT_EQ(r.decision->reason, policy::Reason::kStabilized);
  }
  h.Tick(FakeMetricSource::Backlog(10));  // 60 s: still within the window
  h.Tick(FakeMetricSource::Backlog(10));  // 75 s: only low recommendations left
  EXPECT_EQ(h.target.Sets(), (std::vector<std::string>{"set 5", "set 1"}));
}

// Issue 13 item 5: FALLBACK_MODE=ifHigher (the default) never scales down on failures.
TEST(ReconcilerTest, FallbackNeverScalesDownByDefault) {
  auto o = Harness::Options();
  o.fallback_replicas = 2;
  o.fallback_after_failures = 2;
  Harness h(6, o);
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(h.Tick(MakeError(ErrorCode::kTimeout, "t")).action, Action::kHeld);
  }
  EXPECT_TRUE(h.target.Sets().empty());
}

TEST(ReconcilerTest, StaticFallbackScalesDownWhenAsked) {
  auto o = Harness::Options();
  o.fallback_replicas = 2;
  o.fallback_after_failures = 2;
  o.fallback_if_higher = false;  // FALLBACK_MODE=static
  Harness h(6, o);
  EXPECT_EQ(h.Tick(MakeError(ErrorCode::kTimeout, "t")).action, Action::kHeld);
  EXPECT_EQ(h.Tick(MakeError(ErrorCode::kTimeout, "t")).action, Action::kFallback);
  EXPECT_EQ(h.target.Sets(), std::vector<std::string>{"set 2"});
}


// Issue 17 item 2: stuck partitions. STUCK_AFTER_SECONDS = 60, a tick every 15 s, 10 messages
// per pod, max 10. Partition 0 is held at commit 100 while producers add 10 a tick (lag 20 at
// t=15, +10 a tick); partition 1 advances 10 a tick with lag 10. Partition 0's timer starts at
// t=15, so it is stuck from t=75 (lag 60, backlog 70).
struct StuckSeries {
  explicit StuckSeries(bool exclude) : h(1, Opts(exclude)) {}
  static ReconcilerOptions Opts(bool exclude) {
    auto o = Harness::Options();
    o.group = "workers";
    o.stuck_after = std::chrono::seconds(60);
    o.policy.exclude_stuck_lag = exclude;
    o.policy.limit_to_partitions = false;  // 2 partitions: the cap would hide the rule
    return o;
  }
  static kafka::Observation Obs(int64_t commit0, int64_t high0, int64_t commit1) {
    kafka::Observation o;
    o.group_mode = true;
    o.partition_count = 2;
    o.partitions = {{.topic = "orders", .partition = 0, .low = 0, .high = high0,
                     .committed = commit0, .lag = high0 - commit0},
                    {.topic = "orders", .partition = 1, .low = 0, .high = commit1 + 10,
                     .committed = commit1, .lag = 10}};
    o.backlog = high0 - commit0 + 10;
    return o;
  }
  TickReport Next(int64_t commit0 = 100) {
    high0 += 10;
    commit1 += 10;
    return h.Tick(Obs(commit0, high0, commit1));
  }
  Harness h;
  int64_t high0 = 110;
  int64_t commit1 = 1000;
};

TEST(ReconcilerTest, StuckPartitionIsExcludedReportedOnceAndPostedAsWarning) {
  StuckSeries s(/*exclude=*/true);
  std::vector<int32_t> replicas;
  for (int t = 15; t <= 60; t += 15) {
    TickReport r = s.Next();
    EXPECT_TRUE(r.stuck.empty()) << t;
    replicas.push_back(r.replicas_after);
  }
  EXPECT_EQ(replicas, (std::vector<int32_t>{3, 4, 5, 6}));  // ceil(30/10) .. ceil(60/10)
  TickReport r = s.Next();  // t=75: stuck; backlog 70 − stuck 60 = 10 → 1 pod
  ASSERT_EQ(r.stuck.size(), 1u);
  EXPECT_EQ(r.stuck[0].committed, 100);
  EXPECT_EQ(r.decision->reason, policy::Reason::kStuckExcluded);
  EXPECT_EQ(r.replicas_after, 1);
  for (int t = 90; t <= 600; t += 15) {
    r = s.Next();
    EXPECT_EQ(r.replicas_after, 1) << t;  // never towards MAX_REPLICAS, never idle
  }
  int stuck_events = 0;
  for (const auto& e : s.h.events.events) {
    if (e.reason != "StuckPartition") continue;
    ++stuck_events;
    EXPECT_EQ(e.type, kube::EventType::kWarning);
    EXPECT_NE(e.message.find("partition orders/0 of group workers stuck at committed offset 100"),
              std::string::npos)
        << e.message;
  }
  EXPECT_EQ(stuck_events, 1);
  size_t logged = 0;
  for (size_t at = 0; (at = s.h.out.str().find("\"msg\":\"partition stuck\"", at)) !=
                      std::string::npos;
       ++at) {
    ++logged;
  }
  EXPECT_EQ(logged, 1u);

  // A failed observation neither ends the episode nor starts a new one.
  r = s.h.Tick(MakeError(ErrorCode::kTimeout, "t"));
  EXPECT_EQ(r.stuck.size(), 1u);
  r = s.Next();
  EXPECT_EQ(r.stuck.size(), 1u);
  EXPECT_EQ(s.h.events.events.size(), 6u);  // 4 up, 1 down, 1 StuckPartition: nothing new

  // The commit moves: the episode ends and the whole backlog counts again.
  r = s.Next(/*commit0=*/s.high0 - 5);  // high0 is then 10 more: lag 15
  EXPECT_TRUE(r.stuck.empty());
  EXPECT_NE(s.h.out.str().find("\"msg\":\"partition no longer stuck\""), std::string::npos);
  EXPECT_EQ(r.replicas_after, 3);  // lag 15 + 10 → ceil(25/10)
}

// Issue 17 items 1 and 2 together: with EXCLUDE_STUCK_LAG the time-lag rule leaves the stuck
// partition out too. Partition 0's oldest message ages without bound (a lower bound from t=15),
// partition 1's is one tick (15 s) old. Before t=75 partition 0 counts (the lag rule scales up);
// from t=75 it is stuck and excluded: L = 15 s <= T/2, μ dropped, so the message rule's 1 pod
// stands. Counting it (the bug this guards against) would drive the count to MAX_REPLICAS (10).
TEST(ReconcilerTest, TimeLagTargetLeavesExcludedStuckPartitionsOut) {
  StuckSeries s(/*exclude=*/true);
  s.h.reconciler = std::make_unique<Reconciler>(
      [] {
        auto o = StuckSeries::Opts(true);
        o.policy.target_lag = std::chrono::seconds(30);
        return o;
      }(),
      s.h.clock, s.h.source, s.h.target, &s.h.events, s.h.log, s.h.tracer);
  TickReport r;
  for (int t = 15; t <= 60; t += 15) r = s.Next();
  EXPECT_GT(r.time_lag->max_seconds, 30.0);  // partition 0 counts before it is stuck
  EXPECT_EQ(r.decision->reason, policy::Reason::kTimeLag);
  for (int t = 75; t <= 600; t += 15) {
    r = s.Next();
    ASSERT_EQ(r.stuck.size(), 1u) << t;
    EXPECT_EQ(r.replicas_after, 1) << t;
  }
  EXPECT_GT(r.time_lag->max_seconds, 500.0);  // still reported for partition 0
  EXPECT_TRUE(r.time_lag->max_lower_bound);
  EXPECT_EQ(r.decision->lag_replicas, 0);
}

TEST(ReconcilerTest, StuckLagStillScalesUpWithoutExcludeStuckLag) {
  StuckSeries s(/*exclude=*/false);
  TickReport r;
  for (int t = 15; t <= 600; t += 15) r = s.Next();
  ASSERT_EQ(r.stuck.size(), 1u);  // reported all the same
  EXPECT_EQ(r.replicas_after, 10);  // the seed's behaviour: the stuck lag drives it to MAX
  EXPECT_EQ(r.decision->reason, policy::Reason::kClampedMax);
}

// A consumer-group observation: `offsets` = {low, high, committed} per partition of "orders".
kafka::Observation Group(
    const std::vector<std::tuple<int64_t, int64_t, std::optional<int64_t>>>& offsets,
    kafka::OffsetResetPolicy reset = kafka::OffsetResetPolicy::kEarliest) {
  kafka::Observation o;
  int32_t p = 0;
  for (const auto& [low, high, committed] : offsets) {
    o.partitions.push_back(
        {.topic = "orders", .partition = p++, .low = low, .high = high, .committed = committed});
  }
  kafka::ComputeBacklog(o, /*group_mode=*/true, reset);
  return o;
}

size_t LogCount(const std::ostringstream& out, const std::string& needle) {
  size_t n = 0;
  const std::string s = out.str();
  for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

constexpr char kInvalidCommitLog[] = "\"msg\":\"committed offset beyond the end of the partition";
constexpr char kUncommittedLog[] = "\"msg\":\"consumer group has no committed offset";

// Issue 13 item 1: a commit beyond the end of an empty partition (topic recreated: commit 500,
// high 0) has lag 0 under the reset policy, but it never carries the Deployment to idle: the
// tick holds at the current count (never below MIN_REPLICAS), warns once per episode and says
// why in the decision.
TEST(ReconcilerTest, InvalidCommitOnAnEmptyPartitionNeverGoesIdle) {
  auto o = Harness::Options();
  o.policy.min_ttl = std::chrono::seconds(30);
  o.policy.idle_replicas = 0;
  Harness h(3, o);
  const auto invalid = Group({{0, 0, 500}, {0, 10, 10}}, kafka::OffsetResetPolicy::kLatest);
  ASSERT_EQ(invalid.backlog, 0);
  for (int i = 0; i < 6; ++i) {  // 90 s of zero backlog, 3 × MIN_TTL_SECONDS
    SCOPED_TRACE(i);
    TickReport r = h.Tick(invalid);
    ASSERT_TRUE(r.decision);
    EXPECT_EQ(policy::ReasonName(r.decision->reason), "invalid_commit");
    EXPECT_EQ(r.replicas_after, 3);
  }
  EXPECT_TRUE(h.target.Sets().empty()) << "an invalid commit carried the Deployment down";
  EXPECT_EQ(LogCount(h.out, kInvalidCommitLog), 1u) << h.out.str();
  for (const char* field :
       {"\"topic\":\"orders\"", "\"partition\":0", "\"committed\":500", "\"high\":0"}) {
    EXPECT_NE(h.out.str().find(field), std::string::npos) << field << "\n" << h.out.str();
  }
  // The consumer resets and commits 0: a valid commit, zero backlog → idle after MIN_TTL.
  const auto valid = Group({{0, 0, 0}, {0, 10, 10}});
  for (int i = 0; i < 4; ++i) h.Tick(valid);
  EXPECT_EQ(h.target.Sets(), (std::vector<std::string>{"set 1", "set 0"}));
  // A new episode warns again; at idle, the hold wakes MIN_REPLICAS.
  TickReport r = h.Tick(invalid);
  EXPECT_EQ(policy::ReasonName(r.decision->reason), "invalid_commit");
  EXPECT_EQ(r.replicas_after, 1);
  EXPECT_EQ(LogCount(h.out, kInvalidCommitLog), 2u) << h.out.str();
}

// Issue 13 item 7: a group with no commit on any partition holds at MIN_REPLICAS (not
// MAX_REPLICAS under `earliest`) until its first commit, and warns once.
TEST(ReconcilerTest, GroupThatNeverCommittedHoldsAtMinReplicas) {
  Harness h(1);
  const auto none = Group({{0, 50, std::nullopt}, {0, 50, std::nullopt}, {0, 50, std::nullopt}});
  ASSERT_EQ(none.backlog, 150);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    TickReport r = h.Tick(none);
    ASSERT_TRUE(r.decision);
    EXPECT_EQ(r.decision->desired, 1);
    EXPECT_EQ(policy::ReasonName(r.decision->reason), "uncommitted");
  }
  EXPECT_TRUE(h.target.Sets().empty()) << "scaled on the reset policy's lag of a new group";
  EXPECT_EQ(LogCount(h.out, kUncommittedLog), 1u) << h.out.str();
  // The first commit (one partition is enough): the lag rules apply again.
  h.Tick(Group({{0, 50, 0}, {0, 50, std::nullopt}, {0, 50, std::nullopt}}));
  EXPECT_EQ(h.target.Sets(), std::vector<std::string>{"set 3"});  // 150 → 15, 3 partitions
}

// MIN_REPLICAS=0: the hold is one replica while the topic holds messages (a consumer must run
// to make the first commit), and nothing on an empty topic.
TEST(ReconcilerTest, GroupThatNeverCommittedWakesOneConsumerWhenMinIsZero) {
  auto o = Harness::Options();
  o.policy.min_replicas = 0;
  o.policy.idle_replicas = 0;
  Harness h(0, o);
  EXPECT_EQ(h.Tick(Group({{0, 0, std::nullopt}, {0, 0, std::nullopt}})).replicas_after, 0);
  TickReport r = h.Tick(Group({{0, 40, std::nullopt}, {0, 40, std::nullopt}}));
  EXPECT_EQ(policy::ReasonName(r.decision->reason), "uncommitted");
  EXPECT_EQ(h.target.Sets(), std::vector<std::string>{"set 1"});
}

}  // namespace
}  // namespace kafka_autoscaler::controller

namespace kafka_autoscaler::controller {
namespace {

// Issue 17 item 1: the reconciler samples each partition's high watermark every tick, reports
// the time lag, and with TARGET_LAG_SECONDS scales on it. One partition, ticks every 15 s
// (t = 15, 30, 45, 60), the group stuck at offset 100 while 300 messages arrive per tick:
// high 100 (t 15), 400 (t 30), 700 (t 45), 1000 (t 60). The oldest unread message (offset 100)
// was written just after t 15: lag 0, 15, 30, 45 s. MESSAGES_PER_POD is huge so the message
// rule alone always says 1; at 45 s > 30 s the lag rule asks ceil(2 ready × 45 / 30) = 3.
TEST(ReconcilerTest, TimeLagIsSampledReportedAndScalesWithATarget) {
  auto o = Harness::Options();
  o.policy.messages_per_pod = 1'000'000;
  o.policy.target_lag = std::chrono::seconds(30);
  o.other_writer_hold = std::chrono::seconds(0);  // the test's own write below holds one tick
  Harness h(2, o);
  TickReport r = h.Tick(GroupView({100, 100, 100, 100}, {100, 100, 100, 100}));
  ASSERT_TRUE(r.time_lag);
  EXPECT_EQ(r.time_lag->max_seconds, 0.0);
  EXPECT_EQ(r.decision->desired, 1);  // no lag, the message rule: 1
  h.target.state.spec_replicas = h.target.state.ready_replicas = 2;  // someone keeps 2 running
  const std::vector<std::pair<int64_t, double>> ticks = {{400, 15.0}, {700, 30.0}};
  for (const auto& [high, want] : ticks) {
    r = h.Tick(GroupView({high, high, high, high}, {100, 100, 100, 100}));
    EXPECT_DOUBLE_EQ(r.time_lag->max_seconds, want) << high;
    EXPECT_FALSE(r.time_lag->max_lower_bound);
  }
  // 30 s = T: in the band (15, 30], hold 2 against the message rule's 1.
  EXPECT_EQ(r.decision->desired, 2);
  EXPECT_EQ(r.decision->lag_replicas, 2);
  r = h.Tick(GroupView({1000, 1000, 1000, 1000}, {100, 100, 100, 100}));
  EXPECT_DOUBLE_EQ(r.time_lag->max_seconds, 45.0);
  EXPECT_EQ(r.decision->lag_replicas, 3);
  EXPECT_EQ(r.decision->desired, 3);
  EXPECT_EQ(r.decision->reason, policy::Reason::kTimeLag);
  EXPECT_EQ(r.action, Action::kScaled);
  EXPECT_NE(h.out.str().find("\"lag_seconds\":45"), std::string::npos) << h.out.str();
}

}  // namespace
}  // namespace kafka_autoscaler::controller
