#include "kafka/time_lag.h"

#include <gtest/gtest.h>

namespace kafka_autoscaler::kafka {
namespace {

SteadyTime At(double seconds) {
  return SteadyTime(
      std::chrono::duration_cast<SteadyTime::duration>(std::chrono::duration<double>(seconds)));
}

// One partition "t"/0 at `seconds` with high watermark `high` and committed offset `committed`.
Observation One(double seconds, int64_t high, int64_t committed, int32_t partition = 0) {
  Observation o;
  o.at = At(seconds);
  o.group_mode = true;
  o.partitions.push_back({.topic = "t",
                          .partition = partition,
                          .low = 0,
                          .high = high,
                          .committed = committed,
                          .lag = high - committed});
  o.partition_count = 1;
  o.backlog = high - committed;
  return o;
}

// Samples (0 s, 100), (10 s, 200), (20 s, 400), (30 s, 400), (40 s, 500); at 40 s the group has
// committed 300: the high watermark was 300 halfway between 10 s (200) and 20 s (400), at 15 s,
// so the oldest unread message is 40 − 15 = 25 s old. Exact, not a bound.
TEST(TimeLagTest, InterpolatesBetweenTheTwoSamplesAroundTheCommit) {
  TimeLagTracker tracker;
  (void)tracker.Update(One(0, 100, 100));
  (void)tracker.Update(One(10, 200, 150));
  (void)tracker.Update(One(20, 400, 200));
  (void)tracker.Update(One(30, 400, 250));
  const TimeLag lag = tracker.Update(One(40, 500, 300));
  ASSERT_EQ(lag.partitions.size(), 1u);
  EXPECT_DOUBLE_EQ(lag.partitions[0].seconds, 25.0);
  EXPECT_FALSE(lag.partitions[0].lower_bound);
  EXPECT_DOUBLE_EQ(lag.max_seconds, 25.0);
  EXPECT_FALSE(lag.max_lower_bound);
}

// On a flat stretch the message at the commit was written after the last sample that still
// had it as the end: committed 400 at 40 s; high was 400 at 20 s and at 30 s, 500 at 40 s.
// Linear between (30 s, 400) and (40 s, 500): t = 30 s, lag 10 s (not 20 s from the first
// flat sample). A commit exactly on a sample: committed 200 → t = 10 s, lag 30 s.
TEST(TimeLagTest, FlatStretchUsesItsLastSample) {
  for (const auto& [committed, want] : {std::pair<int64_t, double>{400, 10.0}, {200, 30.0}}) {
    TimeLagTracker tracker;
    (void)tracker.Update(One(0, 100, 100));
    (void)tracker.Update(One(10, 200, 200));
    (void)tracker.Update(One(20, 400, 200));
    (void)tracker.Update(One(30, 400, 200));
    const TimeLag lag = tracker.Update(One(40, 500, committed));
    EXPECT_DOUBLE_EQ(lag.partitions[0].seconds, want) << "committed " << committed;
    EXPECT_FALSE(lag.partitions[0].lower_bound);
  }
}

TEST(TimeLagTest, NoLagIsZeroSeconds) {
  TimeLagTracker tracker;
  (void)tracker.Update(One(0, 100, 0));
  const TimeLag lag = tracker.Update(One(60, 200, 200));
  EXPECT_EQ(lag.partitions[0].seconds, 0.0);
  EXPECT_FALSE(lag.partitions[0].lower_bound);
  EXPECT_EQ(lag.max_seconds, 0.0);
}

// The commit is below the oldest sample (the table starts at 100 at 0 s): the message is older
// than anything sampled, so 50 s (now − oldest) is a lower bound, and marked as one.
TEST(TimeLagTest, CommitOlderThanTheTableIsALowerBound) {
  TimeLagTracker tracker;
  (void)tracker.Update(One(0, 100, 20));
  (void)tracker.Update(One(20, 300, 20));
  const TimeLag lag = tracker.Update(One(50, 400, 20));
  EXPECT_DOUBLE_EQ(lag.partitions[0].seconds, 50.0);
  EXPECT_TRUE(lag.partitions[0].lower_bound);
  EXPECT_TRUE(lag.max_lower_bound);
  // The first tick knows nothing older than itself: lower bound 0.
  TimeLagTracker fresh;
  const TimeLag first = fresh.Update(One(7, 100, 20));
  EXPECT_EQ(first.partitions[0].seconds, 0.0);
  EXPECT_TRUE(first.partitions[0].lower_bound);
}

// At most max_samples per partition: with 4, after ten rising samples (0..90 s, high 0..900)
// the table holds 60..90 s; a commit at 650 interpolates (60 s, 600)-(70 s, 700) → 65 s, lag
// 25 s; a commit at 500, pushed out, is a lower bound of 90 − 60 = 30 s. Flat runs compress:
// twenty more samples at the same high add one sample, not twenty.
TEST(TimeLagTest, MemoryIsBoundedPerPartition) {
  TimeLagTracker tracker(4);
  for (int i = 0; i < 9; ++i) (void)tracker.Update(One(10.0 * i, 100 * i, 0));
  TimeLag lag = tracker.Update(One(90, 900, 650));
  EXPECT_EQ(tracker.SampleCount("t", 0), 4u);
  EXPECT_DOUBLE_EQ(lag.partitions[0].seconds, 25.0);
  EXPECT_FALSE(lag.partitions[0].lower_bound);

  TimeLagTracker pushed(4);
  for (int i = 0; i < 9; ++i) (void)pushed.Update(One(10.0 * i, 100 * i, 0));
  lag = pushed.Update(One(90, 900, 500));
  EXPECT_DOUBLE_EQ(lag.partitions[0].seconds, 30.0);
  EXPECT_TRUE(lag.partitions[0].lower_bound);

  TimeLagTracker flat;
  (void)flat.Update(One(0, 100, 0));
  for (int i = 1; i <= 20; ++i) (void)flat.Update(One(10.0 * i, 200, 0));
  EXPECT_EQ(flat.SampleCount("t", 0), 3u);  // (0, 100), (10, 200), (200, 200)
  // Commit 150 is still interpolated within the compressed table: written at 5 s, lag 205 s.
  lag = flat.Update(One(210, 200, 150));
  EXPECT_DOUBLE_EQ(lag.partitions[0].seconds, 205.0);
  EXPECT_FALSE(lag.partitions[0].lower_bound);
}

// A partition missing from an observation is dropped; a new one starts with a fresh table.
// The maximum is over partitions: partition 1 at 30 s beats partition 0 at 0 s.
TEST(TimeLagTest, DisappearedPartitionsAreDroppedAndTheMaxIsOverPartitions) {
  TimeLagTracker tracker;
  Observation a = One(0, 100, 100);
  a.partitions.push_back({.topic = "t", .partition = 1, .high = 100, .committed = 100});
  (void)tracker.Update(a);
  EXPECT_EQ(tracker.PartitionCount(), 2u);
  Observation b = One(60, 100, 100);
  b.partitions.push_back({.topic = "t", .partition = 1, .high = 700, .committed = 400, .lag = 300});
  const TimeLag lag = tracker.Update(b);
  // Partition 1: high 100 at 0 s, 700 at 60 s; commit 400 → written at 30 s → lag 30 s.
  EXPECT_DOUBLE_EQ(lag.partitions[1].seconds, 30.0);
  EXPECT_DOUBLE_EQ(lag.max_seconds, 30.0);
  (void)tracker.Update(One(120, 100, 100));
  EXPECT_EQ(tracker.PartitionCount(), 1u);
  EXPECT_EQ(tracker.SampleCount("t", 1), 0u);
}

// A high watermark that goes backwards (topic recreated) restarts the partition's table: the
// old samples would otherwise place the commit in a history that no longer exists.
TEST(TimeLagTest, HighWatermarkGoingBackwardsRestartsTheTable) {
  TimeLagTracker tracker;
  (void)tracker.Update(One(0, 1000, 1000));
  (void)tracker.Update(One(10, 2000, 2000));
  (void)tracker.Update(One(20, 50, 0));
  EXPECT_EQ(tracker.SampleCount("t", 0), 1u);
  const TimeLag lag = tracker.Update(One(30, 150, 100));
  // (20 s, 50)-(30 s, 150): commit 100 → 25 s → lag 5 s.
  EXPECT_DOUBLE_EQ(lag.partitions[0].seconds, 5.0);
}

}  // namespace
}  // namespace kafka_autoscaler::kafka
