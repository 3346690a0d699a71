#include "kafka/lag.h"

#include <gtest/gtest.h>

#include <limits>

namespace kafka_autoscaler::kafka {
namespace {

using config::OffsetResetPolicy;

struct GroupLagCase {
  const char* name;
  int64_t low = 0;
  int64_t high = 0;
  std::optional<int64_t> committed;
  OffsetResetPolicy reset = OffsetResetPolicy::kLatest;
  int64_t want = 0;
};

TEST(GroupLagTest, FollowsTheSpecRules) {
  const GroupLagCase cases[] = {
      {.name = "committed in range", .low = 0, .high = 100, .committed = 40, .want = 60},
      {.name = "caught up", .low = 0, .high = 100, .committed = 100, .want = 0},
      // Issue 13 item 1: a commit beyond the end (topic recreated, offsets reset past the end)
      // is invalid: the reset policy applies, as it does for a consumer (OFFSET_OUT_OF_RANGE).
      {.name = "commit past high, earliest: everything held",
       .low = 0,
       .high = 100,
       .committed = 150,
       .reset = OffsetResetPolicy::kEarliest,
       .want = 100},
      {.name = "commit past high, latest: 1 to wake a consumer",
       .low = 0,
       .high = 100,
       .committed = 150,
       .reset = OffsetResetPolicy::kLatest,
       .want = 1},
      {.name = "commit past high of an empty partition",
       .low = 0,
       .high = 0,
       .committed = 150,
       .reset = OffsetResetPolicy::kEarliest,
       .want = 0},
      {.name = "commit below low (retention) counts what is held",
       .low = 500,
       .high = 800,
       .committed = 100,
       .want = 300},
      {.name = "commit equal to low", .low = 500, .high = 800, .committed = 500, .want = 300},
      {.name = "commit zero on an empty partition", .low = 0, .high = 0, .committed = 0, .want = 0},
      {.name = "commit zero after retention emptied it",
       .low = 70,
       .high = 70,
       .committed = 0,
       .want = 0},
      {.name = "no commit, earliest: everything held",
       .low = 10,
       .high = 110,
       .reset = OffsetResetPolicy::kEarliest,
       .want = 100},
      {.name = "no commit, earliest, empty",
       .low = 10,
       .high = 10,
       .reset = OffsetResetPolicy::kEarliest,
       .want = 0},
      {.name = "no commit, latest, messages held: 1 to wake a consumer",
       .low = 10,
       .high = 110,
       .reset = OffsetResetPolicy::kLatest,
       .want = 1},
      {.name = "no commit, latest, one message",
       .low = 0,
       .high = 1,
       .reset = OffsetResetPolicy::kLatest,
       .want = 1},
      {.name = "no commit, latest, empty partition",
       .low = 0,
       .high = 0,
       .reset = OffsetResetPolicy::kLatest,
       .want = 0},
      {.name = "no commit, latest, all deleted by retention",
       .low = 900,
       .high = 900,
       .reset = OffsetResetPolicy::kLatest,
       .want = 0},
      {.name = "commit wins over the reset policy",
       .low = 0,
       .high = 10,
       .committed = 4,
       .reset = OffsetResetPolicy::kEarliest,
       .want = 6},
      {.name = "commit wins over latest",
       .low = 0,
       .high = 10,
       .committed = 4,
       .reset = OffsetResetPolicy::kLatest,
       .want = 6},
      {.name = "inconsistent low above high counts nothing",
       .low = 20,
       .high = 10,
       .committed = 0,
       .want = 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(GroupLag(c.low, c.high, c.committed, c.reset), c.want);
  }
}

TEST(TopicLagTest, IsHighMinusLowClamped) {
  EXPECT_EQ(TopicLag(0, 0), 0);
  EXPECT_EQ(TopicLag(0, 42), 42);
  EXPECT_EQ(TopicLag(1000, 1042), 42);  // retention moved the low watermark
  EXPECT_EQ(TopicLag(50, 40), 0);
}

struct BacklogCase {
  const char* name;
  std::vector<PartitionOffsets> partitions;
  bool group_mode = false;
  OffsetResetPolicy reset = OffsetResetPolicy::kLatest;
  std::vector<int64_t> want_lags;
  int64_t want_backlog = 0;
};

TEST(ComputeBacklogTest, SumsPerPartitionLag) {
  const BacklogCase cases[] = {
      {.name = "topic mode ignores commits",
       .partitions = {{.topic = "a", .partition = 0, .low = 0, .high = 10, .committed = 10},
                      {.topic = "a", .partition = 1, .low = 5, .high = 8}},
       .want_lags = {10, 3},
       .want_backlog = 13},
      {.name = "group mode, mixed commits, latest",
       .partitions = {{.topic = "a", .partition = 0, .low = 0, .high = 10, .committed = 4},
                      {.topic = "a", .partition = 1, .low = 0, .high = 8},
                      {.topic = "a", .partition = 2, .low = 0, .high = 0},
                      {.topic = "b", .partition = 0, .low = 30, .high = 50, .committed = 10}},
       .group_mode = true,
       .want_lags = {6, 1, 0, 20},
       .want_backlog = 27},
      {.name = "group mode, mixed commits, earliest",
       .partitions = {{.topic = "a", .partition = 0, .low = 0, .high = 10, .committed = 4},
                      {.topic = "a", .partition = 1, .low = 2, .high = 8}},
       .group_mode = true,
       .reset = OffsetResetPolicy::kEarliest,
       .want_lags = {6, 6},
       .want_backlog = 12},
      {.name = "empty observation", .partitions = {}, .want_lags = {}, .want_backlog = 0},
      {.name = "sum saturates instead of overflowing",
       .partitions =
           {{.topic = "a", .partition = 0, .low = 0, .high = std::numeric_limits<int64_t>::max()},
            {.topic = "a", .partition = 1, .low = 0, .high = 5}},
       .want_lags = {std::numeric_limits<int64_t>::max(), 5},
       .want_backlog = std::numeric_limits<int64_t>::max()},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Observation obs{.partitions = c.partitions};
    ComputeBacklog(obs, c.group_mode, c.reset);
    EXPECT_EQ(obs.backlog, c.want_backlog);
    EXPECT_EQ(obs.partition_count, static_cast<int32_t>(c.partitions.size()));
    EXPECT_EQ(obs.group_mode, c.group_mode);
    ASSERT_EQ(obs.partitions.size(), c.want_lags.size());
    for (size_t i = 0; i < c.want_lags.size(); ++i)
      EXPECT_EQ(obs.partitions[i].lag, c.want_lags[i]);
  }
}

// Issue 13 items 1 and 7: what /metrics and the policy count per observation.
TEST(CommitCountsTest, InvalidAndMissingCommitsPerObservation) {
  Observation obs{.partitions = {{.topic = "a", .partition = 0, .high = 10, .committed = 4},
                                 {.topic = "a", .partition = 1, .high = 0, .committed = 500},
                                 {.topic = "b", .partition = 0, .high = 7}}};
  ComputeBacklog(obs, /*group_mode=*/true, OffsetResetPolicy::kEarliest);
  EXPECT_EQ(InvalidCommitPartitions(obs), 1);
  EXPECT_EQ(UncommittedPartitions(obs), 1);
  EXPECT_FALSE(NoPartitionCommitted(obs));
  for (auto& p : obs.partitions) p.committed.reset();
  EXPECT_EQ(InvalidCommitPartitions(obs), 0);
  EXPECT_EQ(UncommittedPartitions(obs), 3);
  EXPECT_TRUE(NoPartitionCommitted(obs));
  ComputeBacklog(obs, /*group_mode=*/false, OffsetResetPolicy::kEarliest);  // topic mode
  EXPECT_EQ(UncommittedPartitions(obs), 0);
  EXPECT_FALSE(NoPartitionCommitted(obs));
  EXPECT_FALSE(NoPartitionCommitted(Observation{.group_mode = true}));
}

}  // namespace
}  // namespace kafka_autoscaler::kafka
