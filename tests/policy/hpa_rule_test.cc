// The lag rule as KEDA and an HPA run it (policy/hpa_rule.h): the HPA's sync, and its replay on
// a measured load (LagShadow) that the wait policy's cost ceiling (COST_CEILING) spends against.
// That the replay matches the simulator's keda-hpa second by second is in
// tests/sim/simulator_test.cc (TheLagRuleReplayedSpendsWhatKedaHpaDoes).
#include "policy/hpa_rule.h"

#include <gtest/gtest.h>

namespace kafka_autoscaler::policy {
namespace {

const HpaRule kRule{.lag_threshold = 1000, .min_replicas = 1, .max_replicas = 30, .partitions = 24};

TEST(HpaRuleTest, SyncKeepsTheHighestRecommendationOfTheWindowWhenGoingDown) {
  HpaMemory memory;
  EXPECT_EQ(HpaSync(kRule, memory, 0, 8000, 4), 8);    // up at once
  EXPECT_EQ(HpaSync(kRule, memory, 15, 2000, 8), 8);   // down held: 8 within 300 s
  EXPECT_EQ(HpaSync(kRule, memory, 300, 2000, 8), 2);  // 8 (at 0) left the window
}

// Kept for a group whose count is not the HPA's: its proposal, held down by the window's
// highest recommendation, with no limit on an up, within the replica bounds.
TEST(HpaRuleTest, StabilizedHoldsTheWindowsHighestAndLimitsNoUp) {
  HpaMemory memory;
  EXPECT_EQ(HpaStabilized(kRule, memory, 0, 30000, 1), 30);     // up at once, no +4 / ×2 limit
  EXPECT_EQ(HpaStabilized(kRule, memory, 15, 2000, 30), 30);    // 30 within 300 s
  EXPECT_EQ(HpaStabilized(kRule, memory, 15, 2000, 4), 4);      // a count between the two: kept
  EXPECT_EQ(HpaStabilized(kRule, memory, 300, 2000, 30), 2);    // 30 (at 0) left the window
  EXPECT_EQ(HpaStabilized(kRule, memory, 315, 0, 3), 2);        // 2 (at 300) still in it
  EXPECT_EQ(HpaStabilized(kRule, memory, 900, 0, 1), 1);        // the floor
  EXPECT_EQ(HpaStabilized(kRule, memory, 915, 900000, 1), 30);  // maxReplicaCount
}

TEST(HpaRuleTest, SyncLimitsAnUpToFourPodsOrDoubleAPeriod) {
  HpaMemory memory;
  EXPECT_EQ(HpaSync(kRule, memory, 0, 30000, 1), 5);    // max(1 + 4, 2)
  EXPECT_EQ(HpaSync(kRule, memory, 15, 30000, 5), 10);  // max(5 + 4, 10)
  EXPECT_EQ(HpaSync(kRule, memory, 30, 30000, 10), 20);
}

TEST(HpaRuleTest, CappedLagAndToleranceAreKedasAndTheHpas) {
  EXPECT_EQ(HpaCappedLag(kRule, 100000), 24000);
  EXPECT_EQ(HpaProposal(kRule, 5450, 5), 5);  // within the 10 % tolerance
  EXPECT_EQ(HpaProposal(kRule, 5600, 5), 6);
}

// A steady load one pod cannot carry: the replay's queue grows until a sync orders pods, which
// join after their start-up and pause the group, and then drain it.
TEST(LagShadowTest, ReplaysStartUpPauseAndDrain) {
  LagShadow s;
  StartLagShadow(0, 1, 1, 10, s);
  const LagShadowStep step{.seconds = 15,
                           .arrival_rate = 300,
                           .pod_rate = 100,
                           .startup = 20,
                           .rebalance = 5,
                           .own_pods = 2};
  AdvanceLagShadow(kRule, step, s);  // sync at 0 sees 300 → 1 pod; +200 a second
  EXPECT_EQ(s.pods(), 1);
  EXPECT_NEAR(s.queue, 15 * 200, 1e-6);
  AdvanceLagShadow(kRule, step, s);  // sync at 15 sees 3,300 → 4 pods, ready at 35
  EXPECT_EQ(s.pods(), 4);
  EXPECT_EQ(s.ready, 1);
  EXPECT_NEAR(s.rule_pod_seconds, 15 + 15 * 4, 1e-6);
  EXPECT_NEAR(s.own_pod_seconds, 30 * 2, 1e-6);
  for (int k = 0; k < 8; ++k) AdvanceLagShadow(kRule, step, s);
  EXPECT_EQ(s.ready, s.pods());
  EXPECT_GE(s.pods(), 3);  // 3 pods carry 300 msg/s
  EXPECT_LT(s.queue, 1000);
}

// What the window binds the rule to: the proposal of its next sync for the whole window, older
// recommendations until they age out, never above its pods and never below the floor.
TEST(LagShadowTest, CommittedIsWhatTheScaleDownWindowHolds) {
  LagShadow s;
  StartLagShadow(0, 6, 6, 0, s);
  s.t = 1000;
  s.hpa.recommendations.push_back({.at = 800, .replicas = 6});  // ages out at 1100
  EXPECT_DOUBLE_EQ(LagShadowCommitted(kRule, s, 2, 300), 100 * 6 + 200 * 2);
  EXPECT_DOUBLE_EQ(LagShadowCommitted(kRule, s, 9, 300), 300 * 9);  // the proposal bounds it
  EXPECT_DOUBLE_EQ(LagShadowCommitted(kRule, s, 0, 300), 100 * 6 + 200 * 1);  // the floor
}

// The replay begins from a reading of the lag, which already counts what has arrived up to it:
// its first sync reads that lag, as the rule does at the same moment, not a second's arrivals
// more. At the threshold's edge (1,090 against 1,000 a pod and a 10 % tolerance; arrivals equal
// to the pod's rate) the rule keeps its pod; read a second ahead (1,190) it ordered a second
// one, and the replay's spend — the cost ceiling's reference — ran above the rule's.
TEST(LagReplayTest, ItReadsTheLagAsTheRuleDoes) {
  LagReplay r;
  StartLagReplay(kRule, 1090, 1, 1, 30, 5, 86400, r);
  const LagReplay::Fed tick{.seconds = 15, .arrival_rate = 100, .pod_rate = 100, .own_pods = 1};
  for (int k = 0; k < 20; ++k) {
    AdvanceLagReplay(kRule, tick, r);
    for (const LagShadow& s : r.shadows) ASSERT_EQ(s.pods(), 1) << "tick " << k << " " << s.phase;
  }
  // What was read is consumed over the first second; each later second's arrivals match it.
  for (const LagShadow& s : r.shadows) EXPECT_NEAR(s.queue, 1090 - 100, 1e-3) << s.phase;
  // Run again from its start (a new timing), it reads the same lag, each phase kept.
  ASSERT_TRUE(RetimeLagReplay(kRule, 60, 5, r));
  for (size_t k = 0; k < r.shadows.size(); ++k) {
    EXPECT_EQ(r.shadows[k].pods(), 1);
    EXPECT_NEAR(r.shadows[k].queue, 1090 - 100, 1e-3);
    EXPECT_DOUBLE_EQ(r.shadows[k].phase, 5.0 * static_cast<double>(k));
  }
}

// The rule's clock is not ours: where its syncs fall against a burst sets what it orders. A
// 2 s burst that one pod drains in about 12 s: the sync at second 15 (phase 0) sees it whole
// and orders 5 pods; at second 20 (phase 5) part of it is drained, 3 pods; at second 25
// (phase 10) it is nearly gone, and the pod is kept. Each keeps what it ordered over its
// scale-down window, and the cheapest is the phase whose sync came last.
TEST(LagReplayTest, EachPhaseOfTheRulesClockSeesTheBurstItsSyncsCatch) {
  LagReplay r;
  StartLagReplay(kRule, 0, 1, 1, 30, 0, 86400, r);
  for (const LagReplay::Fed& tick : {LagReplay::Fed{.seconds = 14, .arrival_rate = 100},
                                     LagReplay::Fed{.seconds = 2, .arrival_rate = 2600},
                                     LagReplay::Fed{.seconds = 44, .arrival_rate = 100}}) {
    LagReplay::Fed fed = tick;
    fed.pod_rate = 500;
    fed.own_pods = 1;
    AdvanceLagReplay(kRule, fed, r);
  }
  ASSERT_EQ(r.shadows.size(), 3u);
  EXPECT_EQ(r.shadows[0].pods(), 5);
  EXPECT_EQ(r.shadows[1].pods(), 3);
  EXPECT_EQ(r.shadows[2].pods(), 1);
  EXPECT_GT(r.shadows[0].rule_pod_seconds, r.shadows[1].rule_pod_seconds);
  EXPECT_GT(r.shadows[1].rule_pod_seconds, r.shadows[2].rule_pod_seconds);
  const CheapestShadow cheapest = CheapestLagShadow(kRule, r, 300);
  EXPECT_EQ(cheapest.shadow, &r.shadows[2]);
  EXPECT_DOUBLE_EQ(cheapest.shadow->phase, 10);
  EXPECT_EQ(cheapest.proposal, LagShadowProposal(kRule, r.shadows[2]));
  EXPECT_NEAR(cheapest.spend, 60 + 300, 0.1);  // 1 pod, weighted
}

// A replay run with a start-up and pause that were priors, re-timed when they are learned, is
// the replay that had them from its start: the same pods, queue and pod-seconds. Each tick keeps
// the per-pod rate it was fed. Once its log has closed (kLagReplayLogSeconds) a new timing
// applies from where it is.
TEST(LagReplayTest, RetimedItIsTheReplayThatKnewFromItsStart) {
  LagReplay late;
  LagReplay knew;
  StartLagReplay(kRule, 2000, 2, 1, 30, 5, 86400, late);
  StartLagReplay(kRule, 2000, 2, 1, 107, 2, 86400, knew);
  for (int k = 0; k < 40; ++k) {
    const LagReplay::Fed tick{.seconds = 15,
                              .arrival_rate = k < 20 ? 900.0F : 150.0F,
                              .pod_rate = k < 10 ? 80.0F : 100.0F,
                              .own_pods = 3};
    AdvanceLagReplay(kRule, tick, knew);
    AdvanceLagReplay(kRule, tick, late);
  }
  ASSERT_NE(late.shadows[0].rule_pod_seconds, knew.shadows[0].rule_pod_seconds);
  EXPECT_FALSE(RetimeLagReplay(kRule, 30.5, 5.5, late));  // under a second: not run again
  EXPECT_TRUE(RetimeLagReplay(kRule, 107, 2, late));
  for (size_t k = 0; k < late.shadows.size(); ++k) {
    EXPECT_EQ(late.shadows[k].pods(), knew.shadows[k].pods()) << k;
    EXPECT_EQ(late.shadows[k].ready, knew.shadows[k].ready) << k;
    EXPECT_DOUBLE_EQ(late.shadows[k].queue, knew.shadows[k].queue) << k;
    EXPECT_DOUBLE_EQ(late.shadows[k].rule_pod_seconds, knew.shadows[k].rule_pod_seconds) << k;
    EXPECT_DOUBLE_EQ(late.shadows[k].own_pod_seconds, knew.shadows[k].own_pod_seconds) << k;
  }
  EXPECT_EQ(late.fed.size(), 40u);

  // Past the log's seconds it closes and frees the log; a new timing then applies from now on.
  const LagReplay::Fed tick{.seconds = 15, .arrival_rate = 150, .pod_rate = 100, .own_pods = 3};
  while (!late.closed) AdvanceLagReplay(kRule, tick, late);
  EXPECT_TRUE(late.fed.empty());
  EXPECT_LE(late.fed_seconds, kLagReplayLogSeconds);
  const double spent = late.shadows[0].rule_pod_seconds;
  EXPECT_FALSE(RetimeLagReplay(kRule, 30, 5, late));
  EXPECT_DOUBLE_EQ(late.shadows[0].rule_pod_seconds, spent);
  EXPECT_DOUBLE_EQ(late.startup, 30);
}

// COST_CEILING below 1 is a margin for the replay's error; it narrows with the pods' own noise
// (σ_μ) and closes at 1. A ceiling of 1 or above is kept as the user set it.
TEST(CostCeilingTest, TheMarginNarrowsWithThePodsNoiseAndClosesAtOne) {
  EXPECT_DOUBLE_EQ(CeilingRatio(0.9, 0), 0.9);
  EXPECT_DOUBLE_EQ(CeilingRatio(0.9, 0.2), 0.9 + 0.2 * kNoiseMarginPerSigma);
  EXPECT_DOUBLE_EQ(CeilingRatio(0.9, 2), 1);
  EXPECT_DOUBLE_EQ(CeilingRatio(0.5, 0.4), 0.5 + 0.4 * kNoiseMarginPerSigma);
  EXPECT_DOUBLE_EQ(CeilingRatio(1, 0.3), 1);
  EXPECT_DOUBLE_EQ(CeilingRatio(1.5, 0.3), 1.5);
  EXPECT_DOUBLE_EQ(CeilingRatio(0.9, -1), 0.9);  // a σ is never below 0; if it were, no wider
}

}  // namespace
}  // namespace kafka_autoscaler::policy
