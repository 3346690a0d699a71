// StuckTracker, hand-computed: STUCK_AFTER_SECONDS = 300, a tick every 15 s on a FakeClock.
#include "controller/stuck.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace kafka_autoscaler::controller {
namespace {

using std::chrono::seconds;
using testing::FakeClock;

struct Offsets {
  int64_t high = 0;
  std::optional<int64_t> committed;
};

// A group-mode observation of topic "orders", partition i = offsets[i]; lag = high − committed.
kafka::Observation Group(const std::vector<Offsets>& offsets) {
  kafka::Observation o;
  o.group_mode = true;
  for (size_t i = 0; i < offsets.size(); ++i) {
    const int64_t lag = offsets[i].committed ? offsets[i].high - *offsets[i].committed : 0;
    o.partitions.push_back({.topic = "orders",
                            .partition = static_cast<int32_t>(i),
                            .low = 0,
                            .high = offsets[i].high,
                            .committed = offsets[i].committed,
                            .lag = lag});
    o.backlog += lag;
  }
  o.partition_count = static_cast<int32_t>(offsets.size());
  return o;
}

struct Fixture {
  // t=0: partition 0 at commit 100 of 150, partition 1 at 1000 of 1050.
  Fixture() { tracker.Observe(Group({{150, 100}, {1050, 1000}}), clock.Now()); }
  FakeClock clock;
  const SteadyTime start = clock.Now();  // t=0 (FakeClock starts at 1 h)
  StuckTracker tracker{seconds(300)};
  int64_t advancing = 1000;  // partition 1's commit, +10 a tick
  // Ticks until `at` seconds (a tick every 15 s), partition 0 held at commit 100 with `high0`,
  // partition 1 advancing when `others_advance`. Returns the last report.
  StuckReport RunUntil(int64_t at, int64_t high0 = 150, bool others_advance = true) {
    StuckReport r;
    while (clock.Now() - start < seconds(at)) {
      clock.Advance(seconds(15));
      r = Tick(high0, others_advance);
    }
    return r;
  }
  StuckReport Tick(int64_t high0, bool others_advance, int64_t commit0 = 100) {
    if (others_advance) advancing += 10;
    return tracker.Observe(Group({{high0, commit0}, {advancing + 50, advancing}}), clock.Now());
  }
};

TEST(StuckTrackerTest, StuckAfterThresholdWhileOthersAdvanceLoggedOncePerEpisode) {
  Fixture f;  // t=0: the timer starts
  StuckReport r = f.RunUntil(285);
  EXPECT_TRUE(r.stuck.empty()) << "285 s < 300 s";
  f.clock.Advance(seconds(15));
  r = f.Tick(150, true);  // t=300
  ASSERT_EQ(r.stuck.size(), 1u);
  EXPECT_EQ(r.stuck[0].topic, "orders");
  EXPECT_EQ(r.stuck[0].partition, 0);
  EXPECT_EQ(r.stuck[0].committed, 100);
  EXPECT_EQ(r.stuck[0].lag, 50);
  EXPECT_EQ(r.stuck[0].since, f.start);
  EXPECT_EQ(r.stuck_lag, 50);
  ASSERT_EQ(r.started.size(), 1u);
  f.clock.Advance(seconds(15));
  r = f.Tick(170, true);  // lag grows to 70: still the same episode
  EXPECT_EQ(r.stuck.size(), 1u);
  EXPECT_EQ(r.stuck_lag, 70);
  EXPECT_TRUE(r.started.empty());
  EXPECT_TRUE(r.ended.empty());
}

TEST(StuckTrackerTest, NothingIsStuckWhenNoOtherPartitionAdvances) {
  Fixture f;
  StuckReport r = f.RunUntil(900, 150, /*others_advance=*/false);
  EXPECT_TRUE(r.stuck.empty()) << "the whole group stopped: Burrow's STOP, not a stuck partition";
  EXPECT_TRUE(f.tracker.Observe(Group({{150, 100}}), f.clock.Now()).stuck.empty());
}

TEST(StuckTrackerTest, ZeroLagRestartsTheTimer) {
  Fixture f;
  f.RunUntil(200, /*high0=*/100);        // ticks to t=210 with commit 100 at the end: lag 0
  StuckReport r = f.RunUntil(510, 150);  // messages from t=225 → timer from 225
  EXPECT_TRUE(r.stuck.empty()) << "285 s of lag only";
  r = f.RunUntil(525, 150);
  ASSERT_EQ(r.stuck.size(), 1u);
  EXPECT_EQ(r.stuck[0].since - f.start, seconds(225));
}

TEST(StuckTrackerTest, EpisodeEndsWhenTheCommitMovesAndTheTimerRestarts) {
  Fixture f;
  f.RunUntil(300);
  ASSERT_EQ(f.tracker.Current().size(), 1u);
  f.clock.Advance(seconds(15));
  StuckReport r = f.Tick(150, true, /*commit0=*/101);
  EXPECT_TRUE(r.stuck.empty());
  ASSERT_EQ(r.ended.size(), 1u);
  EXPECT_EQ(r.ended[0].committed, 100);
  while (f.clock.Now() - f.start < seconds(600)) {
    f.clock.Advance(seconds(15));
    r = f.Tick(150, true, 101);
  }
  EXPECT_TRUE(r.stuck.empty()) << "285 s at 101";
  f.clock.Advance(seconds(15));
  r = f.Tick(150, true, 101);
  ASSERT_EQ(r.started.size(), 1u) << "a new episode at 101";
  EXPECT_EQ(r.started[0].committed, 101);
}

TEST(StuckTrackerTest, StaysStuckWhenTheOthersStopLater) {
  Fixture f;
  f.RunUntil(300);
  StuckReport r = f.RunUntil(1200, 150, /*others_advance=*/false);
  EXPECT_EQ(r.stuck.size(), 1u);
  EXPECT_TRUE(r.ended.empty());
}

TEST(StuckTrackerTest, LagZeroOrDisappearingPartitionEndsTheEpisode) {
  Fixture f;
  f.RunUntil(300);
  f.clock.Advance(seconds(15));
  StuckReport r = f.Tick(100, true);  // high 100 = commit 100: lag 0
  EXPECT_TRUE(r.stuck.empty());
  EXPECT_EQ(r.ended.size(), 1u);

  Fixture g;
  g.RunUntil(300);
  g.clock.Advance(seconds(15));
  r = g.tracker.Observe(Group({}), g.clock.Now());
  EXPECT_EQ(r.ended.size(), 1u);
}

TEST(StuckTrackerTest, TopicModeAndUncommittedPartitionsAreNeverStuck) {
  Fixture f;
  f.RunUntil(300);
  kafka::Observation topic_mode = Group({{150, 100}, {2000, 1900}});
  topic_mode.group_mode = false;
  f.clock.Advance(seconds(15));
  StuckReport r = f.tracker.Observe(topic_mode, f.clock.Now());
  EXPECT_TRUE(r.stuck.empty());
  EXPECT_EQ(r.ended.size(), 1u);

  Fixture g;
  int64_t c = 0;
  StuckReport last;
  for (int t = 0; t <= 600; t += 15) {
    c += 10;
    g.clock.Advance(seconds(15));
    last = g.tracker.Observe(Group({{150, std::nullopt}, {c + 50, c}}), g.clock.Now());
  }
  EXPECT_TRUE(last.stuck.empty()) << "no commit: the reset policy's business, not stuck";
}

}  // namespace
}  // namespace kafka_autoscaler::controller
