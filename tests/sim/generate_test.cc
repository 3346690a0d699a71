// The generalisation machinery: generated scenarios are a pure function of (family, count,
// seed) and valid; the report's arithmetic on a hand-made table; the reactive-bound pick; the
// --seeds table.
#include "sim/generate.h"

#include <gtest/gtest.h>

#include <sstream>

#include "sim/simulate.h"

namespace kafka_autoscaler::sim {
namespace {

bool SameScenario(const Scenario& a, const Scenario& b) {
  if (a.name != b.name || a.partitions != b.partitions || a.noise != b.noise ||
      a.pod.messages_per_second != b.pod.messages_per_second ||
      a.pod.startup_seconds != b.pod.startup_seconds ||
      a.pod.rebalance_seconds != b.pod.rebalance_seconds ||
      a.autoscaler.messages_per_pod != b.autoscaler.messages_per_pod ||
      a.load.size() != b.load.size() || a.pod.rate_changes.size() != b.pod.rate_changes.size()) {
    return false;
  }
  for (size_t i = 0; i < a.pod.rate_changes.size(); ++i) {
    if (a.pod.rate_changes[i].t_seconds != b.pod.rate_changes[i].t_seconds ||
        a.pod.rate_changes[i].messages_per_second != b.pod.rate_changes[i].messages_per_second) {
      return false;
    }
  }
  for (size_t i = 0; i < a.load.size(); ++i) {
    if (a.load[i].t_seconds != b.load[i].t_seconds ||
        a.load[i].messages_per_second != b.load[i].messages_per_second) {
      return false;
    }
  }
  return true;
}

TEST(GenerateTest, SameSeedSameScenariosOtherSeedOthers) {
  auto a = GenerateScenarios("all", 27, 7);
  auto b = GenerateScenarios("all", 27, 7);
  auto c = GenerateScenarios("all", 27, 8);
  ASSERT_TRUE(a && b && c);
  ASSERT_EQ(a->size(), 27u);
  int differ = 0;
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_TRUE(SameScenario((*a)[i], (*b)[i])) << (*a)[i].name;
    differ += SameScenario((*a)[i], (*c)[i]) ? 0 : 1;
  }
  EXPECT_EQ(differ, 27);
}

TEST(GenerateTest, EveryFamilyGivesValidScenariosOfItsKind) {
  std::vector<std::string> families = GeneratorFamilies();
  families.insert(families.end(), MoreFamilies().begin(), MoreFamilies().end());
  families.insert(families.end(), StandaloneFamilies().begin(), StandaloneFamilies().end());
  for (const auto& family : families) {
    SCOPED_TRACE(family);
    auto got = GenerateScenarios(family, 6, 1);
    ASSERT_TRUE(got);
    for (const auto& s : *got) {
      EXPECT_EQ(s.name.rfind(family + "-", 0), 0u);
      ASSERT_FALSE(s.load.empty());
      for (size_t i = 1; i < s.load.size(); ++i) {
        ASSERT_LT(s.load[i - 1].t_seconds, s.load[i].t_seconds);
      }
      for (const auto& p : s.load) ASSERT_GE(p.messages_per_second, 0);
      EXPECT_GT(s.pod.messages_per_second, 0);
      EXPECT_EQ(s.autoscaler.max_replicas, s.partitions);
      const double cap = s.partitions * s.pod.messages_per_second;
      double peak = 0;
      for (const auto& p : s.load) peak = std::max(peak, p.messages_per_second);
      if (family == "overload") {
        EXPECT_GT(peak, cap);
      }
      if (family == "few-partitions") {
        EXPECT_LE(s.partitions, 4);
      }
      if (family == "many-partitions") {
        EXPECT_GE(s.partitions, 64);
      }
      if (family == "slow-start") {
        EXPECT_GE(s.pod.startup_seconds, 60);
      }
      if (family == "fast-start") {
        EXPECT_LE(s.pod.startup_seconds, 8);
      }
      if (family == "trend") {  // several-fold from the first minute to the last
        const double first = s.load.front().messages_per_second;
        const double last = s.load.back().messages_per_second;
        EXPECT_GT(std::max(first, last), 2 * std::min(first, last));
      }
      if (family == "sawtooth" || family == "ramps") {
        EXPECT_LE(peak, cap);
      }
      if (family == "pod-shift") {  // one or two steps of one pod's rate, each by 0.5..2
        ASSERT_GE(s.pod.rate_changes.size(), 1u);
        ASSERT_LE(s.pod.rate_changes.size(), 2u);
        double before = s.pod.messages_per_second, at = 0;
        for (const auto& c : s.pod.rate_changes) {
          EXPECT_GT(c.t_seconds, at);
          EXPECT_LT(c.t_seconds, s.duration_seconds);
          EXPECT_GE(c.messages_per_second, 0.5 * before - 1);
          EXPECT_LE(c.messages_per_second, 2 * before + 1);
          before = c.messages_per_second;
          at = c.t_seconds;
        }
      } else {
        EXPECT_TRUE(s.pod.rate_changes.empty());
      }
    }
  }
  EXPECT_FALSE(GenerateScenarios("square", 1, 1));
}

// `all` keeps dealing the nine first families (documented seeds replay the same); `more` deals
// the later five, round-robin.
TEST(GenerateTest, AllAndMoreDealTheirOwnFamilies) {
  for (const auto& [group, families] :
       {std::pair{"all", GeneratorFamilies()}, std::pair{"more", MoreFamilies()}}) {
    auto got = GenerateScenarios(group, 2 * static_cast<int>(families.size()), 5);
    ASSERT_TRUE(got);
    for (size_t i = 0; i < got->size(); ++i) {
      EXPECT_EQ((*got)[i].name, families[i % families.size()] + "-" + std::to_string(i));
    }
  }
}

// A generated scenario written out (ScenarioYaml, what --generate saves) reads back equal, and
// replays to the same figures: any row of the report can be replayed alone.
TEST(GenerateTest, AWrittenScenarioReadsBackAndReplaysTheSame) {
  auto got = GenerateScenarios("all", 18, 3);
  ASSERT_TRUE(got);
  auto shifted = GenerateScenarios("pod-shift", 3, 3);
  ASSERT_TRUE(shifted);
  got->insert(got->end(), shifted->begin(), shifted->end());
  for (Scenario s : *got) {
    SCOPED_TRACE(s.name);
    s.autoscaler.target_wait_seconds = 37;  // a knob off its default survives too
    s.stuck_partition = StuckEpisode{.partition = 0, .from_seconds = 60.5, .until_seconds = 90};
    auto back = ParseScenario(ScenarioYaml(s), ".");
    ASSERT_TRUE(back) << back.error().ToString() << "\n" << ScenarioYaml(s);
    EXPECT_TRUE(SameScenario(s, *back));
    EXPECT_EQ(back->duration_seconds, s.duration_seconds);
    EXPECT_EQ(back->seed, s.seed);
    EXPECT_EQ(back->initial_replicas, s.initial_replicas);
    EXPECT_EQ(back->autoscaler.target_wait_seconds, 37);
    EXPECT_EQ(back->autoscaler.idle_replicas, s.autoscaler.idle_replicas);
    ASSERT_TRUE(back->stuck_partition);
    EXPECT_EQ(back->stuck_partition->from_seconds, 60.5);
    const Workload w = BuildWorkload(s);
    auto a = RunPolicy(s, w, "wait");
    auto b = RunPolicy(*back, BuildWorkload(*back), "wait");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->metrics.p99_wait_seconds, b->metrics.p99_wait_seconds);
    EXPECT_EQ(a->metrics.pod_seconds, b->metrics.pod_seconds);
    EXPECT_EQ(a->metrics.scale_events, b->metrics.scale_events);
  }
}

// --target-wait: a number for every scenario, or what each one's MESSAGES_PER_POD stands for.
TEST(GenerateTest, TargetWaitOverridesEachScenariosOwn) {
  Scenario s;
  s.pod.messages_per_second = 40;
  s.autoscaler.messages_per_pod = 1000;  // 25 s of one pod's work
  ASSERT_TRUE(ApplyTargetWait(s, ""));
  EXPECT_EQ(s.autoscaler.target_wait_seconds, 20);
  ASSERT_TRUE(ApplyTargetWait(s, "lag-threshold"));
  EXPECT_EQ(s.autoscaler.target_wait_seconds, 25);
  ASSERT_TRUE(ApplyTargetWait(s, "45"));
  EXPECT_EQ(s.autoscaler.target_wait_seconds, 45);
  for (const char* bad : {"0", "-3", "12s", "1e3", "604801", "lag"}) {
    SCOPED_TRACE(bad);
    auto r = ApplyTargetWait(s, bad);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("--target-wait"), std::string::npos);
  }
  EXPECT_EQ(s.autoscaler.target_wait_seconds, 45);  // nothing half-applied
}

Metrics M(double p99, double pod_s, int64_t events) {
  Metrics m;
  m.p99_wait_seconds = p99;
  m.pod_seconds = pod_s;
  m.scale_events = events;
  return m;
}

TEST(GenerateTest, ReportMathOnAHandMadeTable) {
  // Two scenarios × three seeds. Medians: s-1: keda (40, 1000, 10), x (20, 900, 4) → a win;
  // s-2: keda (10, 100, 2), x (5, 200, 1) → no win (pod-seconds 2× keda's).
  std::vector<CaseResult> t = {
      {"s-1", "keda-hpa", 0, M(40, 1000, 10)}, {"s-1", "keda-hpa", 1, M(50, 900, 12)},
      {"s-1", "keda-hpa", 2, M(30, 1100, 9)},  {"s-1", "x", 0, M(20, 900, 4)},
      {"s-1", "x", 1, M(10, 800, 4)},          {"s-1", "x", 2, M(90, 950, 3)},
      {"s-2", "keda-hpa", 0, M(10, 100, 2)},   {"s-2", "keda-hpa", 1, M(10, 100, 2)},
      {"s-2", "keda-hpa", 2, M(10, 100, 2)},   {"s-2", "x", 0, M(5, 200, 1)},
      {"s-2", "x", 1, M(5, 200, 1)},           {"s-2", "x", 2, M(5, 200, 1)},
  };
  const auto r = SummarizeAgainstKeda(t);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].policy, "x");
  EXPECT_EQ(r[0].scenarios, 2);
  EXPECT_EQ(r[0].wins, 1);
  EXPECT_EQ(r[0].pod_s_over_5pct, 1);
  // p99 ratios 0.5 and 0.5; pod-seconds 0.9 and 2; events (4+1)/(10+1) and (1+1)/(2+1).
  EXPECT_DOUBLE_EQ(r[0].p99_median, 0.5);
  EXPECT_DOUBLE_EQ(r[0].p99_worst, 0.5);
  EXPECT_DOUBLE_EQ(r[0].pod_s_median, (0.9 + 2.0) / 2);
  EXPECT_DOUBLE_EQ(r[0].pod_s_worst, 2.0);
  EXPECT_DOUBLE_EQ(r[0].events_worst, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(r[0].events_median, (5.0 / 11.0 + 2.0 / 3.0) / 2);
  EXPECT_EQ(r[0].family_wins.at("s"), std::make_pair(1, 2));
  const std::string table = ReportTable(r);
  EXPECT_NE(table.find("50.0%"), std::string::npos) << table;
}

// The generated report's targets (issue 18) on the seeds of docs/simulator.md "The report now",
// run as `simulate --generate` runs them (3 noise seeds each): `wait` beats keda-hpa on all three
// measures on at least 70 % of the scenarios, its pod-seconds are nowhere more than 5 % above
// keda-hpa's, and its median pod-seconds are below keda-hpa's. Documented there: `all` 157
// 79.7 % / 0 / 0.80, `more` 125 93.2 % / 0 / 0.76 (forty-eighth round). A change to `wait` that fails here changes
// what the report says; the rounds in docs/simulator-rounds.md say how a change is judged (on
// seeds no change was tuned on: this pair is no longer such).
TEST(GeneratedReportTest, WaitMeetsTheTargetsOnTheDocumentedSeeds) {
  struct Case {
    std::string family;
    int count;
    uint64_t seed;
  };
  for (const Case& c : {Case{.family = "all", .count = 207, .seed = 157},
                        Case{.family = "more", .count = 205, .seed = 125}}) {
    SCOPED_TRACE(c.family);
    auto scenarios = GenerateScenarios(c.family, c.count, c.seed);
    ASSERT_TRUE(scenarios) << scenarios.error().ToString();
    auto table = RunGenerated(*scenarios, 3, {"wait"});
    ASSERT_TRUE(table) << table.error().ToString();
    const auto summaries = SummarizeAgainstKeda(*table);
    ASSERT_EQ(summaries.size(), 1u);
    const PolicySummary& wait = summaries.front();
    EXPECT_EQ(wait.scenarios, c.count);
    EXPECT_GE(wait.wins * 10, wait.scenarios * 7) << ReportTable(summaries);
    EXPECT_EQ(wait.pod_s_over_5pct, 0) << ReportTable(summaries);
    EXPECT_LT(wait.pod_s_median, 1.0) << ReportTable(summaries);
  }
}

TEST(GenerateTest, MedianOfOddAndEvenCounts) {
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(Median({}), 0);
}

TEST(ReactiveBoundTest, PicksLowestP99WithinKedaCostAndEvents) {
  const Metrics keda = M(60, 1000, 10);
  // 0: best p99 but too costly; 1: within cost, too many events; 2 and 3 fit, 3 is better.
  EXPECT_EQ(PickReactiveBound({M(10, 2000, 1), M(20, 900, 11), M(40, 900, 5), M(30, 950, 5)}, keda),
            3u);
  // None within events: the best p99 within cost.
  EXPECT_EQ(PickReactiveBound({M(10, 2000, 1), M(20, 900, 11), M(15, 990, 12)}, keda), 2u);
  // None within cost: the cheapest.
  EXPECT_EQ(PickReactiveBound({M(10, 2000, 1), M(20, 1500, 11)}, keda), 1u);
}

TEST(ReactiveBoundTest, IsReplayedAndNamesItsSetting) {
  auto s = GenerateScenarios("overload", 1, 3);
  ASSERT_TRUE(s);
  const Workload w = BuildWorkload(s->front());
  auto run = RunPolicy(s->front(), w, "reactive-bound");
  ASSERT_TRUE(run) << run.error().ToString();
  EXPECT_NE(run->detail.find("drain"), std::string::npos);
  EXPECT_GT(run->metrics.pod_seconds, 0);
}

TEST(SeedsTableTest, MedianAndWorstSeedPerMeasure) {
  auto runs = [](double p99, double pod_s, int64_t events) {
    PolicyRun r;
    r.policy = "rate";
    r.metrics = M(p99, pod_s, events);
    return std::vector<PolicyRun>{r};
  };
  const std::string t = SeedsTable({runs(10, 100, 3), runs(30, 300, 1), runs(20, 200, 2)});
  EXPECT_NE(t.find("20.0/30.0"), std::string::npos) << t;
  EXPECT_NE(t.find("200/300"), std::string::npos) << t;
  EXPECT_NE(t.find("2/3"), std::string::npos) << t;
}

}  // namespace
}  // namespace kafka_autoscaler::sim
