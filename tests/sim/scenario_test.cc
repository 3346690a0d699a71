// Scenario loading and validation: the shared traces load; bad files list every problem.
#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace kafka_autoscaler::sim {
namespace {

const std::filesystem::path kTraces = std::filesystem::path(KA_SCENARIO_DIR);
const std::filesystem::path kTestdata = KA_SIM_TESTDATA_DIR;

constexpr const char* kGood = R"(
name: good
duration_seconds: 600
tick_seconds: 1
partitions: 6
initial_replicas: 1
pod: {messages_per_second: 10, startup_seconds: 5, rebalance_seconds: 1}
load: [[0, 10], [100, 50]]
autoscaler: {messages_per_pod: 100, min_replicas: 1, max_replicas: 6, interval_seconds: 15}
)";

bool Mentions(const Error& e, const std::string& text) {
  return std::any_of(e.details.begin(), e.details.end(),
                     [&](const std::string& d) { return d.find(text) != std::string::npos; });
}

TEST(ScenarioTest, EverySharedTraceLoads) {
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kTraces)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    auto s = LoadScenario(entry.path());
    ASSERT_TRUE(s) << s.error().ToString();
    EXPECT_EQ(s->name, entry.path().stem().string());
    EXPECT_GT(s->TickCount(), 0);
    ++loaded;
  }
  EXPECT_EQ(loaded, 7);  // the five reference shapes, stuck-partition and time-lag
}

TEST(ScenarioTest, ReadsEveryField) {
  auto s = LoadScenario(kTraces / "flash-crowd.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->duration_seconds, 3600);
  EXPECT_EQ(s->partitions, 24);
  EXPECT_EQ(s->initial_replicas, 1);
  EXPECT_EQ(s->pod.messages_per_second, 50);
  EXPECT_EQ(s->pod.startup_seconds, 30);
  EXPECT_EQ(s->pod.rebalance_seconds, 5);
  EXPECT_EQ(s->noise, 0.1);
  EXPECT_EQ(s->seed, 42u);
  EXPECT_EQ(s->autoscaler.messages_per_pod, 1500);
  EXPECT_EQ(s->autoscaler.max_replicas, 30);
  EXPECT_EQ(s->autoscaler.interval_seconds, 15);
  EXPECT_EQ(s->autoscaler.message_count_threshold, kDefaultThreshold);
  EXPECT_EQ(s->autoscaler.idle_replicas, 1);  // defaults to min_replicas
  EXPECT_EQ(s->autoscaler.activation_backlog, 0);  // off by default
  EXPECT_EQ(s->autoscaler.target_lag_seconds, 0);  // off by default
  EXPECT_EQ(s->autoscaler.target_wait_seconds, 20);  // TARGET_WAIT_SECONDS' default
  EXPECT_EQ(s->autoscaler.cost_ceiling, 0.9);        // COST_CEILING's default
  EXPECT_EQ(s->IntervalTicks(), 15);
  // Linear between points, flat outside them.
  EXPECT_DOUBLE_EQ(s->RateAt(0), 20);
  EXPECT_DOUBLE_EQ(s->RateAt(605), 510);
  EXPECT_DOUBLE_EQ(s->RateAt(700), 1000);
  EXPECT_DOUBLE_EQ(s->RateAt(99999), 20);
}

TEST(ScenarioTest, LoadsACsvRelativeToTheFile) {
  auto s = LoadScenario(kTestdata / "slow-sine.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  ASSERT_GT(s->load.size(), 100u);
  EXPECT_DOUBLE_EQ(s->RateAt(0), 500);
  EXPECT_NEAR(s->RateAt(450), 900, 1e-6);
}

TEST(ScenarioTest, ListsEveryProblemAtOnce) {
  auto s = ParseScenario(R"(
duration_seconds: abc
tick_seconds: 2
partitions: 0
pod: {messages_per_second: -1, startup: 3}
load: [[0, 10], [0, 20], [5, -1]]
nosie: 0.1
autoscaler: {messages_per_pod: 0, min_replicas: 5, max_replicas: 2, interval_seconds: 15}
)",
                         ".");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  for (const char* want :
       {"name: missing", "duration_seconds=abc", "partitions=0", "pod.messages_per_second=-1",
        "pod.startup: unknown key", "load[1]: t_seconds must be greater",
        "load[2]: messages_per_second must be within", "nosie: unknown key",
        "autoscaler.messages_per_pod=0", "autoscaler.min_replicas: must be <= max_replicas",
        "autoscaler.interval_seconds=15: must be a whole multiple of tick_seconds"}) {
    EXPECT_TRUE(Mentions(s.error(), want)) << want << "\n" << s.error().ToString();
  }
  EXPECT_EQ(s.error().details.size(), 11u) << s.error().ToString();
}

TEST(ScenarioTest, RejectsOneProblemAtATime) {
  struct Case {
    std::string name;
    std::string from;  // replaced in kGood...
    std::string to;    // ...by this
    std::string want;  // in one detail line
  };
  const std::vector<Case> cases = {
      {.name = "no load", .from = "load: [[0, 10], [100, 50]]", .to = "", .want = "load: missing"},
      {.name = "load and csv",
       .from = "load: [[0, 10], [100, 50]]",
       .to = "load: [[0, 1]]\nload_csv: x.csv",
       .want = "not both"},
      {.name = "missing csv",
       .from = "load: [[0, 10], [100, 50]]",
       .to = "load_csv: nope.csv",
       .want = "nope.csv: cannot be read"},
      {.name = "load not pairs",
       .from = "[100, 50]",
       .to = "[100]",
       .want = "load[1]: must be a pair"},
      {.name = "empty load", .from = "[[0, 10], [100, 50]]", .to = "[]", .want = "at least one"},
      {.name = "noise above 1",
       .from = "name: good",
       .to = "name: good\nnoise: 2",
       .want = "noise=2"},
      {.name = "negative seed",
       .from = "name: good",
       .to = "name: good\nseed: -4",
       .want = "seed=-4"},
      {.name = "no pod",
       .from = "pod: {messages_per_second: 10, startup_seconds: 5, rebalance_seconds: 1}",
       .to = "",
       .want = "pod: missing"},
      {.name = "pod not a map",
       .from = "pod: {messages_per_second: 10, startup_seconds: 5, rebalance_seconds: 1}",
       .to = "pod: 7",
       .want = "pod: must be a map"},
      {.name = "no autoscaler",
       .from = "autoscaler: {messages_per_pod: 100, min_replicas: 1, max_replicas: 6, "
               "interval_seconds: 15}",
       .to = "",
       .want = "autoscaler: missing"},
      {.name = "idle above min",
       .from = "interval_seconds: 15}",
       .to = "interval_seconds: 15, idle_replicas: 3}",
       .want = "autoscaler.idle_replicas: must be <= min_replicas"},
      {.name = "negative activation",
       .from = "interval_seconds: 15}",
       .to = "interval_seconds: 15, activation_backlog: -1}",
       .want = "autoscaler.activation_backlog"},
      {.name = "negative target lag",
       .from = "interval_seconds: 15}",
       .to = "interval_seconds: 15, target_lag_seconds: -5}",
       .want = "autoscaler.target_lag_seconds"},
      {.name = "zero target wait",
       .from = "interval_seconds: 15}",
       .to = "interval_seconds: 15, target_wait_seconds: 0}",
       .want = "autoscaler.target_wait_seconds=0: must be an integer number of seconds within 1.."},
      {.name = "negative cost ceiling",
       .from = "interval_seconds: 15}",
       .to = "interval_seconds: 15, cost_ceiling: -1}",
       .want = "autoscaler.cost_ceiling=-1: must be a number within 0..10 (0 = off)"},
      {.name = "threshold twice",
       .from = "interval_seconds: 15}",
       .to = "interval_seconds: 15, message_count_threshold: 5}\nthreshold: 7",
       .want = "not both"},
      {.name = "tick zero",
       .from = "tick_seconds: 1",
       .to = "tick_seconds: 0",
       .want = "tick_seconds=0"},
      {.name = "too many steps",
       .from = "duration_seconds: 600\ntick_seconds: 1",
       .to = "duration_seconds: 2000000\ntick_seconds: 0.1",
       .want = "more than 1e7 steps"},
      {.name = "empty name", .from = "name: good", .to = "name: ''", .want = "name: must be"},
      {.name = "stuck partition out of range",
       .from = "name: good",
       .to = "name: good\nstuck_partition: {partition: 9, from_seconds: 10, until_seconds: 20}",
       .want = "stuck_partition.partition: must be below partitions"},
      {.name = "stuck partition ends before it starts",
       .from = "name: good",
       .to = "name: good\nstuck_partition: {partition: 1, from_seconds: 30, until_seconds: 20}",
       .want = "stuck_partition.until_seconds: must be after from_seconds"},
      {.name = "stuck partition unknown key",
       .from = "name: good",
       .to = "name: good\nstuck_partition: {partition: 1, from_seconds: 1, until_seconds: 2, x: 1}",
       .want = "stuck_partition.x: unknown key"},
      {.name = "pod rate change to zero",
       .from = "rebalance_seconds: 1}",
       .to = "rebalance_seconds: 1, rate_changes: [[60, 20], [120, 0]]}",
       .want = "pod.rate_changes[1]: messages_per_second must be > 0"},
      {.name = "pod rate changes out of order",
       .from = "rebalance_seconds: 1}",
       .to = "rebalance_seconds: 1, rate_changes: [[60, 20], [30, 10]]}",
       .want = "pod.rate_changes[1]: t_seconds must be greater than the previous point's"},
      {.name = "pod rate change not a pair",
       .from = "rebalance_seconds: 1}",
       .to = "rebalance_seconds: 1, rate_changes: [[60]]}",
       .want = "pod.rate_changes[0]: must be a pair of numbers"},
      {.name = "pod rate noise too large",
       .from = "rebalance_seconds: 1}",
       .to = "rebalance_seconds: 1, rate_noise: 0.5}",
       .want = "pod.rate_noise=0.5: must be a number within 0..0.3"},
      {.name = "pod rate noise held for no time",
       .from = "rebalance_seconds: 1}",
       .to = "rebalance_seconds: 1, rate_noise: 0.1, rate_noise_seconds: 0}",
       .want = "pod.rate_noise_seconds=0: must be a number of seconds > 0"},
      {.name = "stuck after zero",
       .from = "interval_seconds: 15}",
       .to = "interval_seconds: 15, stuck_after_seconds: 0}",
       .want = "autoscaler.stuck_after_seconds"},
      {.name = "exclude stuck lag not a bool",
       .from = "interval_seconds: 15}",
       .to = "interval_seconds: 15, exclude_stuck_lag: maybe}",
       .want = "autoscaler.exclude_stuck_lag: must be true or false"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string text = kGood;
    const auto at = text.find(c.from);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, c.from.size(), c.to);
    auto s = ParseScenario(text, kTestdata);
    ASSERT_FALSE(s);
    EXPECT_TRUE(Mentions(s.error(), c.want)) << s.error().ToString();
  }
}

TEST(ScenarioTest, ReadsTheStuckPartition) {
  auto s = LoadScenario(kTraces / "stuck-partition.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  ASSERT_TRUE(s->stuck_partition);
  EXPECT_EQ(s->stuck_partition->partition, 2);
  EXPECT_EQ(s->stuck_partition->from_seconds, 600);
  EXPECT_EQ(s->stuck_partition->until_seconds, 2400);
  EXPECT_EQ(s->autoscaler.stuck_after_seconds, 120);
  EXPECT_TRUE(s->autoscaler.exclude_stuck_lag);
  auto flash = LoadScenario(kTraces / "flash-crowd.yaml");
  ASSERT_TRUE(flash);
  EXPECT_FALSE(flash->stuck_partition);
  EXPECT_EQ(flash->autoscaler.stuck_after_seconds, 300);
  EXPECT_FALSE(flash->autoscaler.exclude_stuck_lag);
}

// history_cycles: the load repeats every duration_seconds; bounded so a replay stays small.
TEST(ScenarioTest, HistoryCyclesRepeatTheLoadAndAreBounded) {
  auto s = ParseScenario(std::string(kGood) + "history_cycles: 2\n", ".");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->history_cycles, 2);
  EXPECT_EQ(s->TickCount(), 600);
  EXPECT_EQ(s->HistoryTicks(), 1200);
  for (double t : {50.0, 650.0, 1250.0}) EXPECT_DOUBLE_EQ(s->RateAt(t), 30) << t;
  EXPECT_DOUBLE_EQ(s->RateAt(600), 10);  // the next cycle starts over
  auto back = ParseScenario(ScenarioYaml(*s), ".");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->history_cycles, 2);
  auto none = ParseScenario(kGood, ".");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->history_cycles, 0);
  EXPECT_DOUBLE_EQ(none->RateAt(650), 50);  // without history: flat after the last point
  EXPECT_EQ(ScenarioYaml(*none).find("history_cycles"), std::string::npos);

  for (const char* bad : {"-1", "101", "two"}) {
    auto b = ParseScenario(std::string(kGood) + "history_cycles: " + bad + "\n", ".");
    ASSERT_FALSE(b) << bad;
    EXPECT_TRUE(Mentions(b.error(), std::string("history_cycles=") + bad + ": must be an integer"))
        << b.error().ToString();
  }
  std::string month = kGood;
  month.replace(month.find("duration_seconds: 600"), 21, "duration_seconds: 2678400");
  auto big = ParseScenario(month + "history_cycles: 3\n", ".");
  ASSERT_FALSE(big);
  EXPECT_TRUE(Mentions(big.error(), "history_cycles=3: too many")) << big.error().ToString();
  Scenario ok = *none;
  EXPECT_FALSE(SetHistoryCycles(ok, 101, "--history"));
  EXPECT_EQ(ok.history_cycles, 0);
  ASSERT_TRUE(SetHistoryCycles(ok, 100, "--history"));
  EXPECT_EQ(ok.history_cycles, 100);
}

// pod.rate_changes: one pod's rate in steps, on the measured cycle's clock (history runs at the
// base rate), written back as read.
TEST(ScenarioTest, PodRateChangesAreStepsOnTheMeasuredCyclesClock) {
  std::string text = kGood;
  text.replace(text.find("rebalance_seconds: 1}"), 21,
               "rebalance_seconds: 1, rate_changes: [[100, 20], [300, 5]]}");
  auto s = ParseScenario(text, ".");
  ASSERT_TRUE(s) << s.error().ToString();
  ASSERT_EQ(s->pod.rate_changes.size(), 2u);
  for (auto [t, want] : {std::pair{0.0, 10.0},
                         {99.9, 10.0},
                         {100.0, 20.0},
                         {299.0, 20.0},
                         {300.0, 5.0},
                         {599.0, 5.0}}) {
    EXPECT_DOUBLE_EQ(s->PodRateAt(t), want) << t;
  }
  auto back = ParseScenario(ScenarioYaml(*s), ".");
  ASSERT_TRUE(back) << back.error().ToString();
  ASSERT_EQ(back->pod.rate_changes.size(), 2u);
  EXPECT_DOUBLE_EQ(back->pod.rate_changes[1].messages_per_second, 5);
  ASSERT_TRUE(SetHistoryCycles(*s, 1, "--history"));
  EXPECT_DOUBLE_EQ(s->PodRateAt(350), 10) << "the history cycle: the base rate";
  EXPECT_DOUBLE_EQ(s->PodRateAt(600 + 350), 5) << "the measured cycle";
  auto plain = ParseScenario(kGood, ".");
  ASSERT_TRUE(plain);
  EXPECT_DOUBLE_EQ(plain->PodRateAt(500), 10);
  EXPECT_EQ(ScenarioYaml(*plain).find("rate_changes"), std::string::npos);
}

TEST(ScenarioTest, PodRateNoiseIsReadAndWrittenBack) {
  std::string text = kGood;
  text.replace(text.find("rebalance_seconds: 1}"), 21,
               "rebalance_seconds: 1, rate_noise: 0.15, rate_noise_seconds: 45}");
  auto s = ParseScenario(text, ".");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_DOUBLE_EQ(s->pod.rate_noise, 0.15);
  EXPECT_DOUBLE_EQ(s->pod.rate_noise_seconds, 45);
  auto back = ParseScenario(ScenarioYaml(*s), ".");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_DOUBLE_EQ(back->pod.rate_noise, 0.15);
  EXPECT_DOUBLE_EQ(back->pod.rate_noise_seconds, 45);
  auto plain = ParseScenario(kGood, ".");
  ASSERT_TRUE(plain);
  EXPECT_DOUBLE_EQ(plain->pod.rate_noise, 0);
  EXPECT_DOUBLE_EQ(plain->pod.rate_noise_seconds, 30);
  EXPECT_EQ(ScenarioYaml(*plain).find("rate_noise"), std::string::npos);
}

TEST(ScenarioTest, KedaPhaseIsReadCheckedAndWrittenBack) {
  auto s = ParseScenario(std::string(kGood) + "keda_hpa: {phase_seconds: 7}\n", ".");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_DOUBLE_EQ(s->keda_phase_seconds, 7);
  auto back = ParseScenario(ScenarioYaml(*s), ".");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_DOUBLE_EQ(back->keda_phase_seconds, 7);
  auto plain = ParseScenario(kGood, ".");
  ASSERT_TRUE(plain);
  EXPECT_DOUBLE_EQ(plain->keda_phase_seconds, 0);
  EXPECT_EQ(ScenarioYaml(*plain).find("keda_hpa"), std::string::npos);
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"keda_hpa: {phase_seconds: 30}",
            "keda_hpa.phase_seconds=30: must be a number of seconds, at least 0 and below 30"},
           {"keda_hpa: {phase_seconds: -1}",
            "keda_hpa.phase_seconds=-1: must be a number of seconds"},
           {"keda_hpa: {phase_seconds: 2.5}",
            "keda_hpa.phase_seconds=2.5: must be a whole multiple of tick_seconds"},
           {"keda_hpa: {phase: 7}", "keda_hpa.phase: unknown key"},
           {"keda_hpa: 7", "keda_hpa: must be a map with phase_seconds"}}) {
    auto bad = ParseScenario(std::string(kGood) + text + "\n", ".");
    ASSERT_FALSE(bad) << text;
    EXPECT_TRUE(Mentions(bad.error(), want)) << text << ": " << bad.error().ToString();
  }
}

TEST(ScenarioTest, GoodScenarioParsesAndThresholdIsReadFromEitherPlace) {
  auto s = ParseScenario(std::string(kGood) + "threshold: 777\n", ".");
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->autoscaler.message_count_threshold, 777);
  EXPECT_DOUBLE_EQ(s->RateAt(50), 30);
}

TEST(ScenarioTest, BadCsvLinesAreListed) {
  const auto dir = std::filesystem::temp_directory_path() / "ka_sim_csv_test";
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "bad.csv");
    f << "t_seconds,messages_per_second\n0,10\nten,20\n30,5,7\n20,4\n";
  }
  std::string text = kGood;
  const std::string from = "load: [[0, 10], [100, 50]]";
  text.replace(text.find(from), from.size(), "load_csv: bad.csv");
  auto s = ParseScenario(text, dir);
  ASSERT_FALSE(s);
  EXPECT_TRUE(Mentions(s.error(), "load_csv line 3")) << s.error().ToString();
  EXPECT_TRUE(Mentions(s.error(), "load_csv line 4")) << s.error().ToString();
  std::filesystem::remove_all(dir);
}

TEST(ScenarioTest, NotYamlOrNotAMap) {
  auto a = ParseScenario("name: [unclosed", ".");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().code, ErrorCode::kInvalidArgument);
  auto b = ParseScenario("- 1\n- 2\n", ".");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
  auto c = LoadScenario("/nonexistent/scenario.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace kafka_autoscaler::sim
