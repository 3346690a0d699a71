// The rate policy (SCALING_POLICY=rate) through Decide, on hand-computed ticks.
#include <gtest/gtest.h>

#include "fakes/fake_clock.h"
#include "policy/policy.h"

namespace kafka_autoscaler::policy {
namespace {

using std::chrono::seconds;
using testing::FakeClock;

PolicyConfig Rate() {
  PolicyConfig c;
  c.kind = PolicyKind::kRate;
  c.messages_per_pod = 100;
  c.min_replicas = 1;
  c.max_replicas = 50;
  c.idle_replicas = 1;
  // Defaults: target_drain 30 s, slow window 60 s, rebalance 5 s, pod startup 30 s.
  return c;
}

// One tick of the rate policy; rates in messages per second.
struct Tick {
  int64_t backlog = 0;
  int32_t current = 1;
  double produced = 0;
  double consumed = 0;
  int32_t partitions = 0;
};

class RatePolicyTest : public ::testing::Test {
 protected:
  Decision Run(const Tick& t, const PolicyConfig& c = Rate()) {
    PolicyInput in{.now = clock_.Now(),
                   .backlog = t.backlog,
                   .partition_count = t.partitions,
                   .current_replicas = t.current,
                   .ready_replicas = t.current,
                   .produced_per_minute = t.produced * 60,
                   .consumed_per_minute = t.consumed * 60};
    Decision d = Decide(in, state_, c);
    state_ = d.next_state;
    clock_.Advance(seconds(15));
    return d;
  }
  FakeClock clock_;
  PolicyState state_;
};

TEST_F(RatePolicyTest, WithoutRatesFallsBackToTheSeedRule) {
  PolicyInput in{.now = clock_.Now(), .backlog = 550, .current_replicas = 1, .ready_replicas = 1};
  Decision d = Decide(in, state_, Rate());
  EXPECT_EQ(d.desired, 6);
}

TEST_F(RatePolicyTest, SizesAScaleUpForTheBacklogAtReadyTime) {
  // μ = 100/s ÷ 2 pods = 50. Excess backlog = 5000 − 5 s × 300 = 3500; by the time new pods
  // consume, +(300 − 100) × 30 s of startup and +300 × 5 s of rebalance: 11000 to drain in
  // 30 s → (300 + 366.7) / 50 = 13.33 → 14 pods.
  Decision d = Run({.backlog = 5000, .current = 2, .produced = 300, .consumed = 100});
  EXPECT_EQ(d.desired, 14);
  EXPECT_EQ(d.reason, Reason::kRate);
}

TEST_F(RatePolicyTest, ABurstIsExtrapolatedAtOnce) {
  EXPECT_EQ(Run({.backlog = 0, .current = 2, .produced = 100, .consumed = 100}).desired, 2);
  // λ 100 → 400: λ_up = 700. Excess 3000 − 2000 = 1000, + (700 − 100) × 30 + 700 × 5 = 22500
  // → (700 + 750) / 50 = 29 pods.
  EXPECT_EQ(Run({.backlog = 3000, .current = 2, .produced = 400, .consumed = 100}).desired, 29);
}

TEST_F(RatePolicyTest, SteadyLoadHoldsRateOverPerPod) {
  for (int i = 0; i < 20; ++i) {
    SCOPED_TRACE(i);
    // 4 pods carry 200/s; a lag of one second of arrivals is in flight, not a shortage.
    Decision d = Run({.backlog = 200, .current = 4, .produced = 200, .consumed = 200});
    EXPECT_EQ(d.desired, 4);
    EXPECT_FALSE(d.scale);
  }
}

TEST_F(RatePolicyTest, ScaleDownWaitsForTheSlowWindowAndProbes) {
  // 10 pods carry 250/s: μ ≥ 25 (unconfirmed: the group never saturated). Scale-down probes
  // with μ × 1.2 = 30 → ceil(8.33) = 9, but only once the 60 s window has history.
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(Run({.current = 10, .produced = 250, .consumed = 250}).desired, 10);
  }
  EXPECT_EQ(Run({.current = 10, .produced = 250, .consumed = 250}).desired, 9);
}

TEST_F(RatePolicyTest, ConfirmedRateAndSmallChangesAreNotWorthARebalance) {
  // Two saturated ticks confirm μ = 50 (1000/s over 20 pods, a backlog at both ends).
  Run({.backlog = 20000, .current = 20, .produced = 950, .consumed = 1000});
  Run({.backlog = 20000, .current = 20, .produced = 950, .consumed = 1000});
  // Then the backlog is gone and λ = 930: 18.6 → 19 pods, one pod less is under 10 %: hold,
  // also long after the window forgot the saturated ticks.
  for (int i = 0; i < 8; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(Run({.backlog = 0, .current = 20, .produced = 930, .consumed = 930}).desired, 20);
  }
  // λ = 850 → 17 pods: worth it, once the window holds only such recommendations.
  int32_t desired = 20;
  for (int i = 0; i < 6 && desired == 20; ++i) {
    desired = Run({.backlog = 0, .current = 20, .produced = 850, .consumed = 850}).desired;
  }
  EXPECT_EQ(desired, 17);
}

TEST_F(RatePolicyTest, SaturationTeachesASlowerPodRate) {
  // μ = 50 first; pods then only manage 40 each while saturated, long after the last scale.
  Run({.backlog = 10000, .current = 10, .produced = 500, .consumed = 500});
  for (int i = 0; i < 20; ++i)
    Run({.backlog = 10000, .current = 10, .produced = 300, .consumed = 400});
  ASSERT_TRUE(state_.per_pod_rate_ewma);
  EXPECT_NEAR(*state_.per_pod_rate_ewma, 40, 1);
}

TEST_F(RatePolicyTest, ArrivalsKeepTheGroupAwakeWithZeroBacklog) {
  PolicyConfig c = Rate();
  c.min_replicas = 0;
  c.idle_replicas = 0;
  c.min_ttl = seconds(0);
  // A group that keeps up reads a backlog of 0, yet messages arrive: not idle.
  EXPECT_EQ(Run({.backlog = 0, .current = 0, .produced = 10}, c).desired, 1);
  // No arrivals and no backlog: idle, as the seed rule.
  EXPECT_EQ(Run({.backlog = 0, .current = 1, .produced = 0, .consumed = 0}, c).desired, 0);
}

TEST_F(RatePolicyTest, PartitionCapWithoutTheMinusOneTrap) {
  // λ = 1150/s at μ = 50 needs 23 pods of 24 partitions: snapped to 24, not left at 23.
  Run({.backlog = 0, .current = 23, .produced = 1150, .consumed = 1150, .partitions = 24});
  Decision d =
      Run({.backlog = 3000, .current = 23, .produced = 1150, .consumed = 1150, .partitions = 24});
  EXPECT_EQ(d.desired, 24);
}

TEST(SnapToPartitionDivisorTest, SnapsUpWithinTenPercent) {
  struct Case {
    std::string name;
    int64_t n;
    int32_t partitions;
    int64_t want;
  };
  const std::vector<Case> cases = {
      {.name = "P-1 goes to P", .n = 23, .partitions = 24, .want = 24},
      {.name = "already a divisor", .n = 12, .partitions = 24, .want = 12},
      {.name = "next divisor too far", .n = 20, .partitions = 24, .want = 20},
      {.name = "next divisor close", .n = 11, .partitions = 12, .want = 12},
      {.name = "small counts stay", .n = 5, .partitions = 24, .want = 5},
      {.name = "at or above P", .n = 30, .partitions = 24, .want = 30},
      {.name = "unknown partitions", .n = 7, .partitions = 0, .want = 7},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(SnapToPartitionDivisor(c.n, c.partitions, 0.10), c.want);
  }
}

}  // namespace
}  // namespace kafka_autoscaler::policy
