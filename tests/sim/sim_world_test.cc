// The simulator's queue, pods and topic on hand-computed cases.
#include "sim/sim_world.h"

#include <gtest/gtest.h>

namespace kafka_autoscaler::sim {
namespace {

TEST(WaitHistogramTest, NearestRankPercentiles) {
  WaitHistogram h(1.0);
  EXPECT_EQ(h.Percentile(0.99), 0);
  h.Add(1, 90);
  h.Add(5, 9);
  h.Add(30, 1);
  EXPECT_EQ(h.count(), 100);
  EXPECT_EQ(h.Percentile(0.50), 1);
  EXPECT_EQ(h.Percentile(0.90), 1);
  EXPECT_EQ(h.Percentile(0.91), 5);
  EXPECT_EQ(h.Percentile(0.99), 5);
  EXPECT_EQ(h.Percentile(1.0), 30);
  EXPECT_EQ(h.Max(), 30);
}

TEST(WaitHistogramTest, ResolutionIsTheTick) {
  WaitHistogram h(0.5);
  h.Add(2.5, 3);
  h.Add(0.5, 1);
  EXPECT_DOUBLE_EQ(h.Percentile(0.25), 0.5);
  EXPECT_DOUBLE_EQ(h.Max(), 2.5);
}

TEST(FifoBacklogTest, ConsumesOldestFirstWithExactWaits) {
  FifoBacklog q;
  WaitHistogram waits(1.0);
  q.Produce(0, 10);
  q.Produce(1, 5);
  q.Produce(2, 0);  // nothing produced: no chunk
  EXPECT_EQ(q.size(), 15);
  EXPECT_EQ(q.Consume(2, 12, &waits), 12);  // 10 from t=0 (wait 2), 2 from t=1 (wait 1)
  EXPECT_EQ(q.size(), 3);
  EXPECT_EQ(waits.count(), 12);
  EXPECT_EQ(waits.Percentile(2.0 / 12), 1);
  EXPECT_EQ(waits.Percentile(3.0 / 12), 2);
  EXPECT_EQ(waits.Max(), 2);
  EXPECT_EQ(q.Consume(5, 100, &waits), 3);  // only 3 left, each waited 4
  EXPECT_EQ(q.size(), 0);
  EXPECT_EQ(waits.Max(), 4);
  EXPECT_EQ(q.produced(), 15);
  EXPECT_EQ(q.consumed(), 15);
  EXPECT_EQ(q.Consume(6, 1, &waits), 0);
}

TEST(FifoBacklogTest, PendingWaitsCountWhatIsStillQueued) {
  FifoBacklog q;
  q.Produce(3, 7);
  WaitHistogram waits(1.0);
  q.AddPendingWaits(10, waits);
  EXPECT_EQ(waits.count(), 7);
  EXPECT_EQ(waits.Max(), 7);
  EXPECT_EQ(q.size(), 7);  // unchanged
}

TEST(SimDeploymentTest, StartupThenRebalancePauses) {
  SimClock clock;
  SimDeployment d({.messages_per_second = 10, .startup_seconds = 10, .rebalance_seconds = 5},
                  /*partitions=*/2, /*initial_replicas=*/1, clock);
  EXPECT_EQ(d.ready(), 1);
  EXPECT_EQ(d.ConsumingSeconds(0, 1), 1);  // no pause at the start
  ASSERT_TRUE(d.SetReplicas(3));
  EXPECT_EQ(d.pods(), 3);
  EXPECT_EQ(d.ready(), 1);
  auto scale = d.Get();
  ASSERT_TRUE(scale);
  EXPECT_EQ(scale->spec_replicas, 3);
  EXPECT_EQ(scale->status_replicas, 3);
  d.Advance(9);
  EXPECT_EQ(d.ready(), 1);
  EXPECT_EQ(d.ConsumingSeconds(9, 10), 1);
  d.Advance(10);  // both start-ups finish together: one rebalance, 10..15
  EXPECT_EQ(d.ready(), 3);
  EXPECT_EQ(d.ConsumingSeconds(10, 11), 0);
  EXPECT_EQ(d.ConsumingSeconds(14.5, 15.5), 0.5);
  EXPECT_EQ(d.ConsumingSeconds(15, 16), 1);
  // Consumption is capped by the partitions: 3 ready pods, 2 partitions.
  EXPECT_DOUBLE_EQ(d.Capacity(1, 10), 20);
  EXPECT_EQ(d.scale_events(), 1);
}

TEST(SimDeploymentTest, ScaleDownRemovesStartingPodsFirst) {
  SimClock clock;
  SimDeployment d({.messages_per_second = 10, .startup_seconds = 10, .rebalance_seconds = 5},
                  /*partitions=*/8, /*initial_replicas=*/3, clock);
  clock.Set(20);
  ASSERT_TRUE(d.SetReplicas(5));  // 2 starting
  clock.Set(21);
  ASSERT_TRUE(d.SetReplicas(4));  // one starting pod goes: no rebalance
  EXPECT_EQ(d.ready(), 3);
  EXPECT_EQ(d.ConsumingSeconds(21, 22), 1);
  ASSERT_TRUE(d.SetReplicas(2));  // the other starting pod, then one ready pod: rebalance
  EXPECT_EQ(d.pods(), 2);
  EXPECT_EQ(d.ready(), 2);
  EXPECT_EQ(d.ConsumingSeconds(21, 26), 0);
  EXPECT_EQ(d.ConsumingSeconds(26, 27), 1);
  d.Advance(40);  // nothing was left starting
  EXPECT_EQ(d.ready(), 2);
  ASSERT_TRUE(d.SetReplicas(2));  // no change, no event
  EXPECT_EQ(d.scale_events(), 3);
  EXPECT_FALSE(d.SetReplicas(-1));
}

TEST(SimTopicTest, OffsetsSplitEvenlyAndSumToTheBacklog) {
  SimClock clock;
  clock.Set(42);
  FifoBacklog q;
  q.Produce(0, 1003);
  ASSERT_EQ(q.Consume(1, 498, nullptr), 498);
  SimTopic topic(q, 4, clock);
  auto obs = topic.Fetch();
  ASSERT_TRUE(obs);
  EXPECT_TRUE(obs->group_mode);
  EXPECT_EQ(obs->partition_count, 4);
  EXPECT_EQ(obs->backlog, 505);
  EXPECT_EQ(obs->at, clock.Now());
  int64_t high = 0, committed = 0, lag = 0;
  for (const auto& p : obs->partitions) {
    ASSERT_TRUE(p.committed);
    EXPECT_LE(*p.committed, p.high);
    EXPECT_EQ(p.lag, p.high - *p.committed);
    high += p.high;
    committed += *p.committed;
    lag += p.lag;
  }
  EXPECT_EQ(high, 1003);
  EXPECT_EQ(committed, 498);
  EXPECT_EQ(lag, 505);
}

}  // namespace
}  // namespace kafka_autoscaler::sim
