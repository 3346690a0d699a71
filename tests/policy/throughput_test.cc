#include "policy/throughput.h"

#include <gtest/gtest.h>

#include "fakes/fake_clock.h"

namespace kafka_autoscaler::policy {
namespace {

kafka::Observation Obs(SteadyTime at, std::vector<std::pair<int64_t, std::optional<int64_t>>> parts,
                       bool group = true) {
  kafka::Observation o;
  o.at = at;
  o.group_mode = group;
  int32_t i = 0;
  for (auto [high, committed] : parts) {
    o.partitions.push_back({.topic = "t", .partition = i++, .low = 0, .high = high,
                            .committed = committed});
  }
  o.partition_count = i;
  return o;
}

TEST(ThroughputTest, AbsentOnFirstTick) {
  testing::FakeClock clock;
  auto t = ComputeThroughput(nullptr, Obs(clock.Now(), {{10, 5}}));
  EXPECT_FALSE(t.produced_per_minute);
  EXPECT_FALSE(t.consumed_per_minute);
}

TEST(ThroughputTest, PerMinuteFromDeltas) {
  testing::FakeClock clock;
  auto a = Obs(clock.Now(), {{100, 50}, {200, 100}});
  clock.Advance(std::chrono::seconds(30));
  auto b = Obs(clock.Now(), {{160, 80}, {240, 110}});
  auto t = ComputeThroughput(&a, b);
  ASSERT_TRUE(t.produced_per_minute);
  EXPECT_DOUBLE_EQ(*t.produced_per_minute, 200.0);  // 100 messages in 30 s
  ASSERT_TRUE(t.consumed_per_minute);
  EXPECT_DOUBLE_EQ(*t.consumed_per_minute, 80.0);  // 40 in 30 s
}

TEST(ThroughputTest, AddedPartitionsAreNotASpike) {
  testing::FakeClock clock;
  auto a = Obs(clock.Now(), {{100, std::nullopt}}, false);
  clock.Advance(std::chrono::seconds(60));
  auto b = Obs(clock.Now(), {{110, std::nullopt}, {1'000'000, std::nullopt}}, false);
  auto t = ComputeThroughput(&a, b);
  ASSERT_TRUE(t.produced_per_minute);
  EXPECT_DOUBLE_EQ(*t.produced_per_minute, 10.0);
  EXPECT_FALSE(t.consumed_per_minute);  // topic mode: no consumed figure
}

TEST(ThroughputTest, BackwardsCountersGiveNoFigure) {
  testing::FakeClock clock;
  auto a = Obs(clock.Now(), {{100, 90}});
  clock.Advance(std::chrono::seconds(60));
  auto b = Obs(clock.Now(), {{120, 10}});  // committed offset reset backwards
  auto t = ComputeThroughput(&a, b);
  ASSERT_TRUE(t.produced_per_minute);
  EXPECT_DOUBLE_EQ(*t.produced_per_minute, 20.0);
  EXPECT_FALSE(t.consumed_per_minute);
}

TEST(ThroughputTest, NoTimePassedGivesNoFigure) {
  testing::FakeClock clock;
  auto a = Obs(clock.Now(), {{100, 90}});
  auto t = ComputeThroughput(&a, a);
  EXPECT_FALSE(t.produced_per_minute);
}

}  // namespace
}  // namespace kafka_autoscaler::policy
