#include "policy/policy.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace kafka_autoscaler::policy {
namespace {

using std::chrono::seconds;
using testing::FakeClock;

PolicyConfig Seed() {
  PolicyConfig c;
  c.messages_per_pod = 10;
  c.min_replicas = 1;
  c.max_replicas = 10;
  c.idle_replicas = 0;
  c.min_ttl = seconds(300);
  c.message_count_threshold = 1000;
  return c;
}

struct Case {
  std::string name;
  PolicyConfig config = Seed();
  int64_t backlog = 0;
  int32_t partitions = 0;
  int32_t current = 1;
  int32_t want_desired = 0;
  Reason want_reason = Reason::kBacklog;
};

TEST(DecideTest, SeedRuleOnOneTick) {
  PolicyConfig no_cap = Seed();
  no_cap.limit_to_partitions = false;
  PolicyConfig min3 = Seed();
  min3.min_replicas = 3;
  PolicyConfig ttl0 = Seed();
  ttl0.min_ttl = seconds(0);
  const std::vector<Case> cases = {
      {.name = "exact multiple", .backlog = 50, .current = 1, .want_desired = 5},
      {.name = "rounds up", .backlog = 51, .current = 1, .want_desired = 6},
      {.name = "one message", .backlog = 1, .current = 3, .want_desired = 1},
      {.name = "no change", .backlog = 30, .current = 3, .want_desired = 3, .want_reason = Reason::kNoChange},
      {.name = "capped by max", .backlog = 5000, .current = 1, .want_desired = 10, .want_reason = Reason::kClampedMax},
      {.name = "raised to min", .config = min3, .backlog = 5, .current = 1, .want_desired = 3, .want_reason = Reason::kClampedMin},
      {.name = "capped by partitions", .backlog = 80, .partitions = 4, .current = 1, .want_desired = 4, .want_reason = Reason::kPartitionCap},
      {.name = "partition cap off", .config = no_cap, .backlog = 80, .partitions = 4, .current = 1, .want_desired = 8},
      {.name = "partition cap never below min", .config = min3, .backlog = 80, .partitions = 2, .current = 1, .want_desired = 3, .want_reason = Reason::kClampedMin},
      {.name = "unknown partitions: no cap", .backlog = 80, .partitions = 0, .current = 1, .want_desired = 8},
      {.name = "zero backlog, timer starts: min", .backlog = 0, .current = 5, .want_desired = 1, .want_reason = Reason::kIdlePending},
      {.name = "zero backlog, ttl 0: idle at once", .config = ttl0, .backlog = 0, .current = 5, .want_desired = 0, .want_reason = Reason::kIdle},
      {.name = "zero backlog, already idle: stay", .backlog = 0, .current = 0, .want_desired = 0, .want_reason = Reason::kIdle},
      {.name = "any backlog wakes from idle", .backlog = 1, .current = 0, .want_desired = 1},
  };
  FakeClock clock;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyInput in{.now = clock.Now(), .backlog = c.backlog, .partition_count = c.partitions,
                   .current_replicas = c.current};
    Decision d = Decide(in, PolicyState{}, c.config);
    EXPECT_EQ(d.desired, c.want_desired);
    EXPECT_EQ(d.reason, c.want_reason) << ReasonName(d.reason);
    EXPECT_EQ(d.scale, c.want_desired != c.current);
  }
}

TEST(DecideTest, RecommendedRawIsUnclampedCeil) {
  FakeClock clock;
  Decision d = Decide({.now = clock.Now(), .backlog = 1001, .current_replicas = 1}, {}, Seed());
  EXPECT_EQ(d.recommended_raw, 101);
  EXPECT_EQ(d.recommended, 10);
  EXPECT_EQ(RecommendedPods(0, 10), 0);
  EXPECT_EQ(RecommendedPods(10, 10), 1);
  EXPECT_EQ(RecommendedPods(11, 10), 2);
  EXPECT_EQ(RecommendedPods(INT64_MAX, 1), INT64_MAX);
}

TEST(DecideTest, ThresholdWarningCarriesBacklogAndWhetherMaxHoldsBack) {
  FakeClock clock;
  PolicyConfig c = Seed();
  Decision below = Decide({.now = clock.Now(), .backlog = 1000, .current_replicas = 1}, {}, c);
  EXPECT_FALSE(below.warning);  // at the threshold: no warning, above it: one
  Decision above = Decide({.now = clock.Now(), .backlog = 1001, .current_replicas = 1}, {}, c);
  ASSERT_TRUE(above.warning);
  EXPECT_EQ(above.warning->backlog, 1001);
  EXPECT_EQ(above.warning->threshold, 1000);
  EXPECT_EQ(above.warning->recommended_pods, 101);
  EXPECT_TRUE(above.warning->held_back_by_max);
  c.max_replicas = 200;
  Decision fits = Decide({.now = clock.Now(), .backlog = 1001, .current_replicas = 1}, {}, c);
  ASSERT_TRUE(fits.warning);
  EXPECT_FALSE(fits.warning->held_back_by_max);
}

// Drives Decide tick after tick, feeding back the state and the desired replicas.
struct Driver {
  FakeClock clock;
  PolicyConfig config = Seed();
  PolicyState state;
  int32_t current = 1;
  int32_t partitions = 0;
  std::optional<double> lag_seconds;  // PolicyInput::max_lag_seconds

  Decision Tick(int64_t backlog, seconds advance = seconds(60)) {
    clock.Advance(advance);
    Decision d = Decide({.now = clock.Now(), .backlog = backlog, .partition_count = partitions,
                         .current_replicas = current, .max_lag_seconds = lag_seconds},
                        state, config);
    state = d.next_state;
    current = d.desired;
    return d;
  }
};

// rate and wait: idle means no backlog and no arrivals, and a process's first tick has no
// interval yet, so whether messages arrive is unknown. A group that keeps up reads a backlog of
// 0 while they do: a restarted daemon took it to MIN_REPLICAS on that alone. The first tick
// holds (an idle Deployment stays idle); the next one knows. The seed rule (messages) is as
// the seed was: a backlog of 0 is idle at once.
TEST(DecideTest, FirstTickOfRateOrWaitIsNotIdleOnAZeroBacklogAlone) {
  for (PolicyKind kind : {PolicyKind::kRate, PolicyKind::kWait}) {
    SCOPED_TRACE(std::string(PolicyKindName(kind)));
    PolicyConfig c = Seed();
    c.kind = kind;
    FakeClock clock;
    PolicyState st;
    PolicyInput first{.now = clock.Now(), .backlog = 0, .current_replicas = 3, .ready_replicas = 3};
    Decision d = Decide(first, st, c);
    EXPECT_EQ(d.desired, 3);
    EXPECT_FALSE(d.scale);
    // The next tick knows: nothing arrives, so the idle rule applies.
    clock.Advance(seconds(15));
    PolicyInput quiet = first;
    quiet.now = clock.Now();
    quiet.produced_per_minute = 0;
    quiet.consumed_per_minute = 0;
    d = Decide(quiet, d.next_state, c);
    EXPECT_EQ(d.desired, 1);
    EXPECT_EQ(d.reason, Reason::kIdlePending);
    // An idle Deployment stays idle over a restart.
    PolicyState fresh;
    PolicyInput idle = first;
    idle.current_replicas = 0;
    idle.ready_replicas = 0;
    d = Decide(idle, fresh, c);
    EXPECT_EQ(d.desired, 0);
    EXPECT_FALSE(d.scale);
  }
  PolicyState st;
  FakeClock clock;
  const Decision seed =
      Decide({.now = clock.Now(), .backlog = 0, .current_replicas = 3}, st, Seed());
  EXPECT_EQ(seed.desired, 1);
  EXPECT_EQ(seed.reason, Reason::kIdlePending);
}

TEST(DecideTest, IdleAfterMinTtlOfZeroBacklog) {
  Driver dr;
  dr.current = 4;
  EXPECT_EQ(dr.Tick(0, seconds(0)).desired, 1);          // t=0: timer starts, min
  EXPECT_EQ(dr.Tick(0, seconds(299)).desired, 1);        // t=299: not yet
  Decision d = dr.Tick(0, seconds(1));                   // t=300: idle
  EXPECT_EQ(d.desired, 0);
  EXPECT_EQ(d.reason, Reason::kIdle);
  EXPECT_EQ(dr.Tick(0).desired, 0);                      // stays idle
  EXPECT_EQ(dr.Tick(5).desired, 1);                      // any backlog: back to min at once
}

TEST(DecideTest, IdleTimerResetsOnBacklog) {
  Driver dr;
  dr.current = 2;
  dr.Tick(0, seconds(0));
  dr.Tick(0, seconds(200));
  dr.Tick(3, seconds(50));                               // backlog at t=250 resets the timer
  EXPECT_EQ(dr.Tick(0, seconds(60)).desired, 1);         // t=310: timer restarted at 310
  EXPECT_EQ(dr.Tick(0, seconds(299)).desired, 1);        // t=609
  EXPECT_EQ(dr.Tick(0, seconds(1)).desired, 0);          // t=610
}

TEST(DecideTest, IdleReplicasAboveZero) {
  Driver dr;
  dr.config.min_replicas = 3;
  dr.config.idle_replicas = 1;
  dr.config.min_ttl = seconds(60);
  dr.current = 3;
  EXPECT_EQ(dr.Tick(0, seconds(0)).desired, 3);
  EXPECT_EQ(dr.Tick(0, seconds(60)).desired, 1);
}

TEST(DecideTest, StabilizationTakesHighestRecommendationInWindow) {
  Driver dr;
  dr.config.scale_down_stabilization = seconds(300);
  dr.current = 1;
  EXPECT_EQ(dr.Tick(80, seconds(0)).desired, 8);  // t=0: up at once
  Decision d = dr.Tick(20, seconds(60));          // t=60: wants 2, holds 8
  EXPECT_EQ(d.desired, 8);
  EXPECT_EQ(d.reason, Reason::kStabilized);
  EXPECT_EQ(d.recommended, 2);
  EXPECT_EQ(dr.Tick(50, seconds(60)).desired, 8);  // t=120: 5 in window, 8 still highest
  EXPECT_EQ(dr.Tick(20, seconds(180)).desired, 8); // t=300: 8 (t=0) still in window
  EXPECT_EQ(dr.Tick(20, seconds(1)).desired, 5);   // t=301: 8 expired; 5 (t=120) highest
  EXPECT_EQ(dr.Tick(20, seconds(120)).desired, 2); // t=421: 5 expired
}

TEST(DecideTest, WithoutWindowScaleDownIsImmediate) {
  Driver dr;
  dr.current = 8;
  Decision d = dr.Tick(20);
  EXPECT_EQ(d.desired, 2);
  EXPECT_EQ(d.reason, Reason::kBacklog);
}

TEST(DecideTest, StabilizationNeverRaisesAboveCurrent) {
  Driver dr;
  dr.config.scale_down_stabilization = seconds(300);
  dr.current = 1;
  dr.Tick(100, seconds(0));  // recommends 10
  dr.current = 3;            // someone scaled it to 3 by hand
  EXPECT_EQ(dr.Tick(20).desired, 3);
}

TEST(DecideTest, StepLimits) {
  Driver up;
  up.config.scale_up_max_step = 2;
  up.current = 1;
  Decision d = up.Tick(100);
  EXPECT_EQ(d.desired, 3);
  EXPECT_EQ(d.reason, Reason::kStepLimitedUp);
  EXPECT_EQ(up.Tick(100).desired, 5);

  Driver down;
  down.config.scale_down_max_step = 3;
  down.current = 10;
  d = down.Tick(10);
  EXPECT_EQ(d.desired, 7);
  EXPECT_EQ(d.reason, Reason::kStepLimitedDown);
}

TEST(DecideTest, StepLimitNeverKeepsBacklogBelowMin) {
  Driver dr;
  dr.config.min_replicas = 4;
  dr.config.scale_up_max_step = 1;
  dr.current = 0;
  EXPECT_EQ(dr.Tick(1).desired, 4);
}

TEST(DecideTest, DesiredAlwaysWithinIdleAndMax) {
  Driver dr;
  dr.config.scale_down_stabilization = seconds(120);
  dr.config.min_ttl = seconds(120);
  dr.partitions = 6;
  uint64_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const int64_t backlog = (x >> 33) % 4 == 0 ? 0 : static_cast<int64_t>((x >> 20) % 500);
    Decision d = dr.Tick(backlog, seconds(15));
    ASSERT_GE(d.desired, dr.config.idle_replicas);
    ASSERT_LE(d.desired, dr.config.max_replicas);
    if (backlog > 0) {
      ASSERT_GE(d.desired, dr.config.min_replicas);
    }
  }
}

// Issue 17 items 3-5: activation, the lag cap and even distribution. Seed(): 10 messages per
// pod, min 1, max 10, idle 0; every expectation below is worked out by hand in its name.
struct LagCase {
  std::string name;
  PolicyConfig config = Seed();
  int64_t backlog = 0;
  int32_t partitions = 0;
  std::optional<int32_t> with_lag;
  int32_t current = 1;
  int32_t want_desired = 0;
  Reason want_reason = Reason::kBacklog;
  int64_t stuck_lag = 0;
  int32_t stuck_partitions = 0;
};

void RunLagCases(const std::vector<LagCase>& cases) {
  FakeClock clock;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyInput in{.now = clock.Now(), .backlog = c.backlog, .partition_count = c.partitions,
                   .current_replicas = c.current, .partitions_with_lag = c.with_lag,
                   .stuck_lag = c.stuck_lag, .stuck_partitions = c.stuck_partitions};
    Decision d = Decide(in, PolicyState{}, c.config);
    EXPECT_EQ(d.desired, c.want_desired);
    EXPECT_EQ(d.reason, c.want_reason) << ReasonName(d.reason);
    EXPECT_EQ(d.scale, c.want_desired != c.current);
  }
}

TEST(DecideTest, ActivationBacklogKeepsAnIdleDeploymentIdle) {
  PolicyConfig act = Seed();
  act.activation_backlog = 50;
  PolicyConfig act_idle1 = act;  // idle 1, min 2
  act_idle1.idle_replicas = 1;
  act_idle1.min_replicas = 2;
  RunLagCases({
      {.name = "off (seed): 1 message wakes 0 -> 1", .backlog = 1, .current = 0, .want_desired = 1},
      {.name = "50 <= 50 at idle: stays 0", .config = act, .backlog = 50, .current = 0, .want_desired = 0, .want_reason = Reason::kBelowActivation},
      {.name = "1 <= 50 at idle: stays 0", .config = act, .backlog = 1, .current = 0, .want_desired = 0, .want_reason = Reason::kBelowActivation},
      {.name = "51 > 50 at idle: ceil(51/10) = 6", .config = act, .backlog = 51, .current = 0, .want_desired = 6},
      {.name = "above idle (2 pods), 30: normal rule ceil(30/10) = 3", .config = act, .backlog = 30, .current = 2, .want_desired = 3},
      {.name = "above idle (5 pods), 5: normal rule 1", .config = act, .backlog = 5, .current = 5, .want_desired = 1},
      {.name = "0 at idle: the idle rule", .config = act, .backlog = 0, .current = 0, .want_desired = 0, .want_reason = Reason::kIdle},
      {.name = "idle 1: 20 <= 50 stays 1", .config = act_idle1, .backlog = 20, .current = 1, .want_desired = 1, .want_reason = Reason::kBelowActivation},
      {.name = "idle 1: 60 > 50 wakes to ceil(60/10) = 6", .config = act_idle1, .backlog = 60, .current = 1, .want_desired = 6},
  });
}

TEST(DecideTest, ActivationTrickleThenBurst) {
  Driver dr;
  dr.config.activation_backlog = 50;
  dr.current = 0;
  for (int64_t backlog : {10, 20, 30, 50}) {  // a trickle piling up at 0 pods
    Decision d = dr.Tick(backlog);
    EXPECT_EQ(d.desired, 0) << backlog;
    EXPECT_EQ(d.reason, Reason::kBelowActivation) << backlog;
  }
  EXPECT_EQ(dr.Tick(60).desired, 6);  // 60 > 50: wakes to ceil(60/10)
  Decision d = dr.Tick(20);           // awake: the normal rule, ceil(20/10) = 2
  EXPECT_EQ(d.desired, 2);
  EXPECT_EQ(d.reason, Reason::kBacklog);
}

TEST(DecideTest, LimitToPartitionsWithLag) {
  PolicyConfig lag = Seed();
  lag.limit_to_partitions_with_lag = true;
  PolicyConfig lag_min3 = lag;
  lag_min3.min_replicas = 3;
  RunLagCases({
      {.name = "off (seed): ceil(80/10) = 8", .backlog = 80, .partitions = 12, .with_lag = 3, .want_desired = 8},
      {.name = "8 capped at 3 lagging", .config = lag, .backlog = 80, .partitions = 12, .with_lag = 3, .want_desired = 3, .want_reason = Reason::kLagPartitionCap},
      {.name = "2 under 3 lagging: no cap", .config = lag, .backlog = 20, .partitions = 12, .with_lag = 3, .want_desired = 2},
      {.name = "cap 1 raised to min 3", .config = lag_min3, .backlog = 80, .partitions = 12, .with_lag = 1, .want_desired = 3, .want_reason = Reason::kClampedMin},
      {.name = "partition cap 4 then lag cap 2", .config = lag, .backlog = 80, .partitions = 4, .with_lag = 2, .want_desired = 2, .want_reason = Reason::kLagPartitionCap},
      {.name = "unknown per-partition lag: no cap", .config = lag, .backlog = 80, .partitions = 12, .want_desired = 8},
      {.name = "no backlog: the idle rule (min 1)", .config = lag, .backlog = 0, .partitions = 12, .with_lag = 0, .current = 5, .want_desired = 1, .want_reason = Reason::kIdlePending},
  });
}

TEST(DecideTest, EvenPartitionDistribution) {
  PolicyConfig even = Seed();  // max 10
  even.even_partition_distribution = true;
  PolicyConfig even_max12 = even;
  even_max12.max_replicas = 12;
  PolicyConfig even_lag = even;
  even_lag.limit_to_partitions_with_lag = true;
  RunLagCases({
      {.name = "off (seed): 5 of 12", .backlog = 50, .partitions = 12, .want_desired = 5},
      {.name = "5 -> 6 (12 = 2 x 6)", .config = even, .backlog = 50, .partitions = 12, .want_desired = 6, .want_reason = Reason::kEvenPartitions},
      {.name = "4 divides 12: kept", .config = even, .backlog = 40, .partitions = 12, .want_desired = 4},
      {.name = "7 -> 12 is above max 10: 7 kept", .config = even, .backlog = 70, .partitions = 12, .want_desired = 7},
      {.name = "7 -> 12 within max 12", .config = even_max12, .backlog = 70, .partitions = 12, .want_desired = 12, .want_reason = Reason::kEvenPartitions},
      {.name = "3 of 7 (prime) -> 7", .config = even, .backlog = 30, .partitions = 7, .want_desired = 7, .want_reason = Reason::kEvenPartitions},
      {.name = "8 >= 4 partitions: partition cap 4", .config = even, .backlog = 80, .partitions = 4, .want_desired = 4, .want_reason = Reason::kPartitionCap},
      {.name = "unknown partitions: 5 kept", .config = even, .backlog = 50, .partitions = 0, .want_desired = 5},
      {.name = "even 6 then lag cap 4", .config = even_lag, .backlog = 50, .partitions = 12, .with_lag = 4, .want_desired = 4, .want_reason = Reason::kLagPartitionCap},
      {.name = "already at 6, 5 -> 6: no scale, reason shown", .config = even, .backlog = 50, .partitions = 12, .current = 6, .want_desired = 6, .want_reason = Reason::kEvenPartitions},
  });
}

// Issue 17 item 2: EXCLUDE_STUCK_LAG. Seed(): 10 messages per pod, min 1, max 10, idle 0.
TEST(DecideTest, ExcludeStuckLag) {
  PolicyConfig ex = Seed();
  ex.exclude_stuck_lag = true;
  PolicyConfig ex_min0 = ex;
  ex_min0.min_replicas = 0;
  PolicyConfig ex_lag = ex;
  ex_lag.limit_to_partitions_with_lag = true;
  RunLagCases({
      {.name = "off (seed): ceil(1000/10) = 100, held at max 10", .backlog = 1000, .partitions = 12, .current = 5, .want_desired = 10, .want_reason = Reason::kClampedMax, .stuck_lag = 990, .stuck_partitions = 1},
      {.name = "1000 - 990 stuck = 10: ceil(10/10) = 1", .config = ex, .backlog = 1000, .partitions = 12, .current = 5, .want_desired = 1, .want_reason = Reason::kStuckExcluded, .stuck_lag = 990, .stuck_partitions = 1},
      {.name = "85 - 5 stuck = 80: 8 instead of 9", .config = ex, .backlog = 85, .partitions = 12, .current = 2, .want_desired = 8, .want_reason = Reason::kStuckExcluded, .stuck_lag = 5, .stuck_partitions = 1},
      {.name = "nothing stuck: the seed rule, 9", .config = ex, .backlog = 85, .partitions = 12, .current = 2, .want_desired = 9},
      {.name = "only stuck lag, min 0: one pod, never idle", .config = ex_min0, .backlog = 500, .partitions = 12, .current = 3, .want_desired = 1, .want_reason = Reason::kStuckExcluded, .stuck_lag = 500, .stuck_partitions = 2},
      {.name = "only stuck lag, 0 pods, min 0: wakes 1", .config = ex_min0, .backlog = 500, .partitions = 12, .current = 0, .want_desired = 1, .want_reason = Reason::kStuckExcluded, .stuck_lag = 500, .stuck_partitions = 2},
      {.name = "80 - 40 stuck = 4, lag cap 4 - 1 stuck = 3", .config = ex_lag, .backlog = 80, .partitions = 12, .with_lag = 4, .current = 1, .want_desired = 3, .want_reason = Reason::kLagPartitionCap, .stuck_lag = 40, .stuck_partitions = 1},
  });
}

TEST(DecideTest, StuckLagNeverLetsTheDeploymentGoIdle) {
  Driver dr;
  dr.config.exclude_stuck_lag = true;
  dr.config.min_replicas = 0;
  dr.current = 2;
  for (int i = 0; i < 20; ++i) {  // 20 min of only stuck lag, min_ttl 5 min
    dr.clock.Advance(seconds(60));
    Decision d = Decide({.now = dr.clock.Now(), .backlog = 70, .current_replicas = dr.current,
                         .stuck_lag = 70, .stuck_partitions = 1},
                        dr.state, dr.config);
    dr.state = d.next_state;
    dr.current = d.desired;
    EXPECT_EQ(d.desired, 1) << i;
  }
}

// Issue 17 item 1: TARGET_LAG_SECONDS. Seed(): 10 messages per pod, min 1, max 10. The lag rule
// (policy.h, "Time lag"), with T = 60 s: L > T → max(current, ceil(max(ready, 1) × L / T));
// T/2 < L <= T → current; L <= T/2 → nothing until a pod's rate is known. Combined with
// ceil(backlog / 10) by the higher.
struct TimeLagCase {
  std::string name;
  std::chrono::seconds target{60};
  int64_t backlog = 0;
  std::optional<double> lag_seconds;
  int32_t current = 1;
  int32_t ready = 1;
  int32_t partitions = 0;
  int32_t want_lag_pods = 0;
  int32_t want_desired = 0;
  Reason want_reason = Reason::kBacklog;
};

TEST(DecideTest, TargetLagSecondsTakesTheHigherOfBothRules) {
  const TimeLagCase cases[] = {
      {.name = "off (seed): ceil(20/10) = 2 whatever the lag", .target = seconds(0), .backlog = 20, .lag_seconds = 600, .want_lag_pods = 0, .want_desired = 2},
      {.name = "lag unknown: the message rule", .backlog = 20, .want_lag_pods = 0, .want_desired = 2},
      {.name = "L 150 > 60 with 2 ready: ceil(2 x 150 / 60) = 5 > 2", .backlog = 20, .lag_seconds = 150, .current = 2, .ready = 2, .want_lag_pods = 5, .want_desired = 5, .want_reason = Reason::kTimeLag},
      {.name = "L 61 > 60 with 3 ready: ceil(3.05) = 4", .backlog = 20, .lag_seconds = 61, .current = 3, .ready = 3, .want_lag_pods = 4, .want_desired = 4, .want_reason = Reason::kTimeLag},
      {.name = "message rule higher: ceil(90/10) = 9 > ceil(2 x 90 / 60) = 3", .backlog = 90, .lag_seconds = 90, .current = 2, .ready = 2, .want_lag_pods = 3, .want_desired = 9},
      {.name = "L 45 in (30, 60]: holds 4 against the message rule's 1", .backlog = 5, .lag_seconds = 45, .current = 4, .ready = 4, .want_lag_pods = 4, .want_desired = 4, .want_reason = Reason::kNoChange},
      {.name = "L 30 <= T/2: released, message rule 1", .backlog = 5, .lag_seconds = 30, .current = 4, .ready = 4, .want_lag_pods = 0, .want_desired = 1},
      {.name = "pods starting (6 asked, 2 ready), L 120: ceil(2 x 2) = 4 < 6 holds 6", .backlog = 20, .lag_seconds = 120, .current = 6, .ready = 2, .want_lag_pods = 6, .want_desired = 6, .want_reason = Reason::kNoChange},
      {.name = "0 ready counts as 1: L 180 → ceil(1 x 3) = 3", .backlog = 5, .lag_seconds = 180, .current = 0, .ready = 0, .want_lag_pods = 3, .want_desired = 3, .want_reason = Reason::kTimeLag},
      {.name = "bounded by MAX 10: ceil(5 x 600 / 60) = 50", .backlog = 20, .lag_seconds = 600, .current = 5, .ready = 5, .want_lag_pods = 50, .want_desired = 10, .want_reason = Reason::kClampedMax},
      {.name = "bounded by 4 partitions", .backlog = 20, .lag_seconds = 600, .current = 2, .ready = 2, .partitions = 4, .want_lag_pods = 20, .want_desired = 4, .want_reason = Reason::kPartitionCap},
      {.name = "no backlog, lag 0: the idle rule", .backlog = 0, .lag_seconds = 0, .current = 3, .ready = 3, .want_lag_pods = 0, .want_desired = 1, .want_reason = Reason::kIdlePending},
  };
  FakeClock clock;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PolicyConfig config = Seed();
    config.target_lag = c.target;
    PolicyInput in{.now = clock.Now(), .backlog = c.backlog, .partition_count = c.partitions,
                   .current_replicas = c.current, .ready_replicas = c.ready,
                   .max_lag_seconds = c.lag_seconds};
    PolicyState st;
    EXPECT_EQ(TimeLagPods(in, config, st), c.want_lag_pods);
    Decision d = Decide(in, PolicyState{}, config);
    EXPECT_EQ(d.lag_replicas, c.want_lag_pods);
    EXPECT_EQ(d.desired, c.want_desired);
    EXPECT_EQ(d.reason, c.want_reason) << ReasonName(d.reason);
  }
  EXPECT_EQ(ReasonName(Reason::kTimeLag), "time_lag");
}

// Below T/2 the rule asks for the pods that keep up with the arrivals, with a pod's rate learned
// while behind: T = 60, 4 ready consuming 12,000/min while L = 45 → μ = 200/s / 4 = 50/s; then
// at L = 5 with 6,000/min produced: ceil(1.1 × 100 / 50) = ceil(2.2) = 3; 9,000/min → ceil(3.3) = 4.
// A second sample, 6,000/min over 4 ready (25/s), averages μ to 37.5.
TEST(DecideTest, TargetLagBelowHalfKeepsUpWithTheArrivals) {
  PolicyConfig config = Seed();
  config.target_lag = seconds(60);
  PolicyState st;
  PolicyInput in{.backlog = 50, .current_replicas = 4, .ready_replicas = 4,
                 .consumed_per_minute = 12000, .max_lag_seconds = 45};
  EXPECT_EQ(TimeLagPods(in, config, st), 4);  // hold
  ASSERT_TRUE(st.lag_per_pod_rate);
  EXPECT_DOUBLE_EQ(*st.lag_per_pod_rate, 50.0);
  in.max_lag_seconds = 5;
  in.produced_per_minute = 6000;
  EXPECT_EQ(TimeLagPods(in, config, st), 3);
  in.produced_per_minute = 9000;
  EXPECT_EQ(TimeLagPods(in, config, st), 4);
  in.produced_per_minute = std::nullopt;  // no rate (first tick): no opinion
  EXPECT_EQ(TimeLagPods(in, config, st), 0);
  in.max_lag_seconds = 40;
  in.consumed_per_minute = 6000;
  (void)TimeLagPods(in, config, st);
  EXPECT_DOUBLE_EQ(*st.lag_per_pod_rate, 37.5);
  // Through Decide: the learned rate lives in the next state.
  in.max_lag_seconds = 45;
  in.consumed_per_minute = 12000;
  Decision d = Decide(in, PolicyState{}, config);
  ASSERT_TRUE(d.next_state.lag_per_pod_rate);
  EXPECT_DOUBLE_EQ(*d.next_state.lag_per_pod_rate, 50.0);
}

// Stability: a consumer group whose lag hovers in the band never makes the count move, and the
// count goes down only once the lag is under half the target.
TEST(DecideTest, TargetLagHoldsInTheBandAndReleasesBelowHalf) {
  Driver dr;
  dr.config.target_lag = seconds(60);
  dr.current = 2;
  for (double lag : {40.0, 55.0, 35.0, 60.0, 31.0}) {
    dr.lag_seconds = lag;
    Decision d = dr.Tick(5);  // the message rule alone would say 1
    EXPECT_EQ(d.desired, 2) << lag;
  }
  dr.lag_seconds = 29;
  EXPECT_EQ(dr.Tick(5).desired, 1);
}

TEST(DecideTest, NewReasonsHaveNames) {
  EXPECT_EQ(ReasonName(Reason::kStuckExcluded), "stuck_excluded");
  EXPECT_EQ(ReasonName(Reason::kBelowActivation), "below_activation");
  EXPECT_EQ(ReasonName(Reason::kLagPartitionCap), "lag_partition_cap");
  EXPECT_EQ(ReasonName(Reason::kEvenPartitions), "even_partitions");
}

// Issue 13 item 7: a group that never committed holds at MIN_REPLICAS (at least 1) instead of
// scaling on the reset policy's lag, unless SCALE_ON_UNCOMMITTED.
TEST(DecideTest, GroupThatNeverCommittedHoldsAtMinUnlessOptedIn) {
  FakeClock clock;
  PolicyConfig c = Seed();
  c.min_replicas = 2;
  const PolicyInput in{
      .now = clock.Now(), .backlog = 300, .current_replicas = 1, .no_commits = true};
  Decision d = Decide(in, PolicyState{}, c);
  EXPECT_EQ(d.desired, 2);
  EXPECT_EQ(d.reason, Reason::kUncommitted);
  c.min_replicas = 0;
  c.idle_replicas = 0;
  EXPECT_EQ(Decide(in, PolicyState{}, c).desired, 1);  // a consumer must run to commit
  c.scale_on_uncommitted = true;
  d = Decide(in, PolicyState{}, c);
  EXPECT_EQ(d.desired, 10);
  EXPECT_EQ(d.reason, Reason::kClampedMax);
  EXPECT_EQ(ReasonName(Reason::kUncommitted), "uncommitted");
}

// Issue 13 item 1: an invalid commit never lets the Deployment go (or stay, by activation) idle.
TEST(DecideTest, InvalidCommitNeverGoesIdle) {
  FakeClock clock;
  PolicyConfig c = Seed();
  c.min_ttl = seconds(0);
  c.activation_backlog = 50;
  PolicyInput in{
      .now = clock.Now(), .backlog = 0, .current_replicas = 4, .invalid_commit_partitions = 1};
  Decision d = Decide(in, PolicyState{}, c);
  EXPECT_EQ(d.desired, 4);  // hold at the current count
  EXPECT_EQ(d.reason, Reason::kInvalidCommit);
  EXPECT_FALSE(d.next_state.zero_backlog_since);
  in.current_replicas = 0;  // at idle: back to MIN_REPLICAS, never below
  EXPECT_EQ(Decide(in, PolicyState{}, c).desired, 1);
  in.backlog = 5;  // below ACTIVATION_BACKLOG: no activation hold at idle either
  EXPECT_EQ(Decide(in, PolicyState{}, c).desired, 1);
  EXPECT_EQ(ReasonName(Reason::kInvalidCommit), "invalid_commit");
}

}  // namespace
}  // namespace kafka_autoscaler::policy
