// The simulator end to end: hand-computed model cases, the KEDA + HPA model's rules, the
// `simulate` command, and golden summaries of the shared traces per policy.
#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "controller/reconciler.h"
#include "fakes/fakes.h"
#include "sim/generate.h"
#include "sim/keda_hpa.h"
#include "sim/simulate.h"
#include "sim/svg_chart.h"

namespace kafka_autoscaler::sim {
namespace {

const std::filesystem::path kTraces = std::filesystem::path(KA_SCENARIO_DIR);
const std::filesystem::path kGolden = KA_SIM_GOLDEN_DIR;

// Replays tests/sim/testdata/<name> against each of `policies`, in order. A scenario that does
// not load or a policy that does not run fails the test and gives no runs.
std::vector<PolicyRun> RunTestdata(const std::string& name,
                                   const std::vector<std::string>& policies) {
  auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / name);
  if (!s) {
    ADD_FAILURE() << name << ": " << s.error().ToString();
    return {};
  }
  const Workload w = BuildWorkload(*s);
  std::vector<PolicyRun> runs;
  for (const auto& p : policies) {
    auto run = RunPolicy(*s, w, p);
    if (!run) {
      ADD_FAILURE() << name << ", " << p << ": " << run.error().ToString();
      return {};
    }
    runs.push_back(std::move(*run));
  }
  return runs;
}

// A noise-free scenario with constant load `rate`, for hand-computed expectations.
Scenario Constant(double rate, double per_pod, int32_t partitions) {
  Scenario s;
  s.name = "constant";
  s.duration_seconds = 1800;
  s.partitions = partitions;
  s.initial_replicas = 1;
  s.pod = {.messages_per_second = per_pod, .startup_seconds = 10, .rebalance_seconds = 2};
  s.load = {{0, rate}};
  s.autoscaler = {.messages_per_pod = 1000,
                  .min_replicas = 1,
                  .max_replicas = partitions,
                  .interval_seconds = 15,
                  .idle_replicas = 1};
  return s;
}

TEST(SimulatorTest, ConstantLoadSettlesAtRateOverPerPod) {
  struct Case {
    std::string name;
    double rate;
    double per_pod;
    int32_t partitions;
    int32_t want;  // ceil(rate / per_pod)
  };
  const std::vector<Case> cases = {
      {.name = "exact", .rate = 200, .per_pod = 50, .partitions = 60, .want = 4},
      {.name = "rounds up", .rate = 210, .per_pod = 50, .partitions = 60, .want = 5},
      {.name = "many pods", .rate = 1000, .per_pod = 50, .partitions = 60, .want = 20},
      {.name = "fractional", .rate = 33, .per_pod = 10, .partitions = 60, .want = 4},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const Scenario s = Constant(c.rate, c.per_pod, c.partitions);
    const Workload w = BuildWorkload(s);
    EXPECT_EQ(w.clairvoyant.back(), c.want);
    EXPECT_DOUBLE_EQ(w.clairvoyant_pod_seconds, c.want * s.duration_seconds);
    auto run = RunPolicy(s, w, "rate");
    ASSERT_TRUE(run) << run.error().ToString();
    // The second half of the run holds ceil(rate / per-pod) pods, and keeps up.
    for (size_t k = run->replicas.size() / 2; k < run->replicas.size(); ++k) {
      ASSERT_EQ(run->replicas[k], c.want) << "at step " << k;
    }
    // Keeping up: what waits is in flight, a few seconds of arrivals at most.
    EXPECT_LE(run->backlog.back(), static_cast<int64_t>(5 * c.rate));
    EXPECT_EQ(run->metrics.messages, static_cast<int64_t>(c.rate * s.duration_seconds));
  }
}

TEST(SimulatorTest, StepWaitsForStartupPlusRebalance) {
  // No pods until messages appear at t=50; the scaler (every second) sees them at once, the pod
  // is ready startup_seconds later and consumes after the rebalance. Pods are fast enough to
  // drain everything in one step, so the first queued message has the longest wait.
  struct Case {
    std::string name;
    std::string policy;
    double startup;
    double rebalance;
  };
  const std::vector<Case> cases = {
      {.name = "messages", .policy = "messages", .startup = 20, .rebalance = 0},
      {.name = "rate", .policy = "rate", .startup = 20, .rebalance = 0},
      {.name = "with rebalance", .policy = "messages", .startup = 30, .rebalance = 5},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Scenario s;
    s.name = "step";
    s.duration_seconds = 200;
    s.partitions = 4;
    s.initial_replicas = 0;
    s.pod = {.messages_per_second = 100000,
             .startup_seconds = c.startup,
             .rebalance_seconds = c.rebalance};
    s.load = {{0, 0}, {49, 0}, {50, 100}, {51, 0}};
    s.autoscaler = {.messages_per_pod = 100,
                    .min_replicas = 0,
                    .max_replicas = 4,
                    .interval_seconds = 1,
                    .idle_replicas = 0};
    const Workload w = BuildWorkload(s);
    auto run = RunPolicy(s, w, c.policy);
    ASSERT_TRUE(run) << run.error().ToString();
    EXPECT_EQ(run->metrics.messages, 100);
    EXPECT_NEAR(run->metrics.max_wait_seconds, c.startup + c.rebalance, s.tick_seconds);
    EXPECT_EQ(run->replicas[49], 0);
    EXPECT_EQ(run->replicas[50], 1);
  }
}

TEST(SimulatorTest, SameSeedSameWorkloadAndNoiseAveragesOut) {
  Scenario s = Constant(200, 50, 12);
  s.noise = 0.2;
  s.seed = 7;
  const Workload a = BuildWorkload(s);
  const Workload b = BuildWorkload(s);
  EXPECT_EQ(a.arrivals, b.arrivals);
  s.seed = 8;
  const Workload c = BuildWorkload(s);
  EXPECT_NE(a.arrivals, c.arrivals);
  int64_t total = 0;
  for (int64_t n : a.arrivals) total += n;
  EXPECT_NEAR(static_cast<double>(total) / s.duration_seconds, 200, 5);
}

// pod.rate_noise: one factor for all pods, held for rate_noise_seconds, from a stream of its own
// (the load of a seed is the same with and without it), averaging out to the pod's rate.
TEST(SimulatorTest, PodRateNoiseIsHeldSharedAndLeavesTheLoadAlone) {
  Scenario s = Constant(200, 50, 12);
  s.duration_seconds = 3600;
  s.noise = 0.2;
  s.seed = 7;
  const Workload plain = BuildWorkload(s);
  for (double r : plain.pod_rate) ASSERT_DOUBLE_EQ(r, 50);
  s.pod.rate_noise = 0.2;
  s.pod.rate_noise_seconds = 30;
  const Workload noisy = BuildWorkload(s);
  EXPECT_EQ(noisy.arrivals, plain.arrivals);
  ASSERT_EQ(noisy.pod_rate.size(), 3600u);
  double sum = 0, lowest = 1e9, highest = 0;
  for (size_t k = 0; k < noisy.pod_rate.size(); ++k) {
    if (k % 30 != 0) {
      ASSERT_EQ(noisy.pod_rate[k], noisy.pod_rate[k - 1]) << k;
    }
    sum += noisy.pod_rate[k];
    lowest = std::min(lowest, noisy.pod_rate[k]);
    highest = std::max(highest, noisy.pod_rate[k]);
  }
  // 120 draws of σ = 10 msg/s: their mean within 3 standard errors (2.7).
  EXPECT_NEAR(sum / 3600, 50, 3);
  EXPECT_LT(lowest, 45);
  EXPECT_GT(highest, 55);
  EXPECT_GE(lowest, 5);  // clamped at ±3σ
  // The consumption follows it: with a pod's rate below the load's share, the same count
  // falls behind where the noise-free pods kept up.
  auto quiet = RunPolicy(s, plain, "messages");
  auto rough = RunPolicy(s, noisy, "messages");
  ASSERT_TRUE(quiet && rough);
  EXPECT_GT(rough->metrics.max_backlog, quiet->metrics.max_backlog);
}

// A daemon that has run before (Scenario::history_cycles): the earlier cycles are replayed, not
// measured. On a constant load the measured cycle is the steady state: the count the load needs
// all the time, no change, each message of the cycle counted once, decisions on the cycle's clock.
TEST(SimulatorTest, HistoryIsReplayedButNotMeasured) {
  Scenario s = Constant(190, 50, 12);  // 4 pods
  s.duration_seconds = 600;
  auto cold = RunPolicy(s, BuildWorkload(s), "rate");
  ASSERT_TRUE(cold) << cold.error().ToString();
  EXPECT_GT(cold->metrics.scale_events, 0);  // 1 pod at first
  ASSERT_TRUE(SetHistoryCycles(s, 2, "history_cycles"));
  const Workload w = BuildWorkload(s);
  ASSERT_EQ(w.arrivals.size(), 1800u);
  const Workload measured = MeasuredPart(s, w);
  ASSERT_EQ(measured.arrivals.size(), 600u);
  EXPECT_TRUE(
      std::equal(measured.arrivals.begin(), measured.arrivals.end(), w.arrivals.begin() + 1200));
  EXPECT_DOUBLE_EQ(w.clairvoyant_pod_seconds, 4 * 600);
  for (const char* policy : {"rate", "wait", "keda-hpa"}) {
    SCOPED_TRACE(policy);
    auto run = RunPolicy(s, w, policy);
    ASSERT_TRUE(run) << run.error().ToString();
    EXPECT_EQ(run->metrics.messages, 190 * 600);
    ASSERT_EQ(run->replicas.size(), 600u);
    ASSERT_EQ(run->backlog.size(), 600u);
    EXPECT_DOUBLE_EQ(run->metrics.clairvoyant_pod_seconds, 4 * 600);
    if (std::string(policy) == "keda-hpa") continue;  // it lets a backlog build, then drains it
    EXPECT_EQ(run->metrics.scale_events, 0);
    EXPECT_EQ(run->replicas.front(), 4);
    EXPECT_EQ(std::count(run->replicas.begin(), run->replicas.end(), 4), 600);
    EXPECT_DOUBLE_EQ(run->metrics.pod_seconds, 4 * 600);
    EXPECT_LE(run->metrics.p99_wait_seconds, 1);
    ASSERT_EQ(run->decisions.size(), 40u);  // one per 15 s tick of the measured cycle
    EXPECT_DOUBLE_EQ(run->decisions.front().t_seconds, 0);
    EXPECT_DOUBLE_EQ(run->decisions.back().t_seconds, 585);
  }
}

// A scenario that leaves a knob out runs the daemon's default for it: scenario.h repeats those
// defaults as literals (it does not include the policy's headers), and this ties them together.
// Left out: messages_per_pod and max_replicas, which every scenario must state, and min/idle
// replicas, whose scenario defaults (1, 1) are chosen for a replay, not the daemon's (1, 0).
TEST(SimulatorTest, AScenariosKnobsDefaultToTheDaemonsDefaults) {
  const policy::PolicyConfig daemon;
  const policy::PolicyConfig replayed = PolicyConfigFor(Scenario{}, policy::PolicyKind::kWait);
  EXPECT_EQ(replayed.min_ttl, daemon.min_ttl);
  EXPECT_EQ(replayed.message_count_threshold, daemon.message_count_threshold);
  EXPECT_EQ(replayed.activation_backlog, daemon.activation_backlog);
  EXPECT_EQ(replayed.exclude_stuck_lag, daemon.exclude_stuck_lag);
  EXPECT_EQ(replayed.target_lag, daemon.target_lag);
  EXPECT_EQ(replayed.target_wait, daemon.target_wait);
  EXPECT_EQ(replayed.cost_ceiling, daemon.cost_ceiling);
  EXPECT_EQ(std::chrono::seconds(Scenario{}.autoscaler.stuck_after_seconds),
            controller::ReconcilerOptions{}.stuck_after);
}

TEST(SimulatorTest, UnknownPolicyIsRefused) {
  const Scenario s = Constant(10, 10, 2);
  auto run = RunPolicy(s, BuildWorkload(s), "magic");
  ASSERT_FALSE(run);
  EXPECT_EQ(run.error().code, ErrorCode::kInvalidArgument);
}

TEST(KedaHpaModelTest, PartitionCapAndTolerance) {
  testing::FakeMetricSource source;
  testing::FakeScaleTarget target(1);
  KedaHpaModel m({.lag_threshold = 1000, .min_replicas = 1, .max_replicas = 30, .partitions = 24},
                 source, target);
  EXPECT_EQ(m.CappedLag(100000), 24000);  // 100 > 24 partitions: capped
  EXPECT_EQ(m.CappedLag(24999), 24999);   // 24 (integer division) is not above 24
  EXPECT_EQ(m.Proposal(24000, 23), 23);   // the P−1 trap: 24/23 is within the 0.1 tolerance
  EXPECT_EQ(m.Proposal(24000, 20), 24);
  EXPECT_EQ(m.Proposal(5450, 5), 5);  // 1.09: within tolerance
  EXPECT_EQ(m.Proposal(5600, 5), 6);
  EXPECT_EQ(m.Proposal(0, 5), 0);
  KedaHpaModel idle_ok({.lag_threshold = 1000,
                        .min_replicas = 1,
                        .max_replicas = 30,
                        .partitions = 24,
                        .allow_idle_consumers = true},
                       source, target);
  EXPECT_EQ(idle_ok.CappedLag(100000), 100000);
}

TEST(KedaHpaModelTest, ScaleUpLimitsAndScaleDownWindow) {
  testing::FakeMetricSource source;
  testing::FakeScaleTarget target(1);
  KedaHpaModel m({.lag_threshold = 1000, .min_replicas = 1, .max_replicas = 30, .partitions = 200},
                 source, target);
  source.Push(testing::FakeMetricSource::Backlog(100000, 200));
  auto at = [&](double t) { ASSERT_TRUE(m.Step(t)); };
  at(0);  // proposal 100; max(1 + 4, 2 × 1) = 5
  EXPECT_EQ(target.state.spec_replicas, 5);
  at(1);  // not a sync
  EXPECT_EQ(target.state.spec_replicas, 5);
  at(15);  // max(5 + 4, 10) = 10
  EXPECT_EQ(target.state.spec_replicas, 10);
  at(30);
  EXPECT_EQ(target.state.spec_replicas, 20);
  at(45);  // 40, clamped to maxReplicaCount
  EXPECT_EQ(target.state.spec_replicas, 30);
  source.Push(testing::FakeMetricSource::Backlog(0, 200));
  for (double t = 60; t <= 330; t += 15) at(t);
  EXPECT_EQ(target.state.spec_replicas, 30);  // the proposal of 100 at t=45 still in the window
  at(345);
  EXPECT_EQ(target.state.spec_replicas, 1);  // window passed: down at once, to minReplicaCount
  EXPECT_EQ(target.Sets(),
            (std::vector<std::string>{"set 5", "set 10", "set 20", "set 30", "set 1"}));
}

TEST(KedaHpaModelTest, ActivatesFromZeroOnlyWithMinZero) {
  testing::FakeMetricSource source;
  testing::FakeScaleTarget target(0);
  KedaHpaModel m({.lag_threshold = 1000, .min_replicas = 0, .max_replicas = 10, .partitions = 10},
                 source, target);
  source.Push(testing::FakeMetricSource::Backlog(0, 10));
  ASSERT_TRUE(m.Step(0));
  EXPECT_EQ(target.state.spec_replicas, 0);
  source.Push(testing::FakeMetricSource::Backlog(5, 10));
  ASSERT_TRUE(m.Step(15));  // an HPA sync, but the HPA is off at 0 and KEDA has not polled
  EXPECT_EQ(target.state.spec_replicas, 0);
  ASSERT_TRUE(m.Step(30));  // KEDA's poll: active → 1
  EXPECT_EQ(target.state.spec_replicas, 1);
  source.Push(testing::FakeMetricSource::Backlog(0, 10));
  for (double t = 45; t < 330; t += 15) ASSERT_TRUE(m.Step(t));
  EXPECT_EQ(target.state.spec_replicas, 1);  // cooldown 300 s from the last active poll (30)
  ASSERT_TRUE(m.Step(330));
  EXPECT_EQ(target.state.spec_replicas, 0);
}

// keda_hpa.phase_seconds: the HPA syncs at phase + 15 k (k < 0 too) and KEDA polls at phase +
// 30 k; at any other second the model does nothing.
TEST(KedaHpaModelTest, ItsClocksRunInThePhaseGiven) {
  testing::FakeMetricSource source;
  testing::FakeScaleTarget target(0);
  KedaHpaModel m({.lag_threshold = 1000, .min_replicas = 0, .max_replicas = 30, .partitions = 200},
                 source, target, /*phase_seconds=*/20);
  source.Push(testing::FakeMetricSource::Backlog(100000, 200));
  for (double t = 0; t < 20; t += 1) ASSERT_TRUE(m.Step(t));
  EXPECT_EQ(target.state.spec_replicas, 0);  // no poll before 20 (5 was a sync: off at 0)
  ASSERT_TRUE(m.Step(20));                   // a poll (active → 1) and a sync (1 → 5)
  EXPECT_EQ(target.state.spec_replicas, 5);
  for (double t = 21; t < 35; t += 1) ASSERT_TRUE(m.Step(t));
  EXPECT_EQ(target.state.spec_replicas, 5);
  ASSERT_TRUE(m.Step(35));
  EXPECT_EQ(target.state.spec_replicas, 10);
  EXPECT_EQ(target.Sets(), (std::vector<std::string>{"set 1", "set 5", "set 10"}));

  testing::FakeScaleTarget early(1);
  KedaHpaModel n({.lag_threshold = 1000, .min_replicas = 1, .max_replicas = 30, .partitions = 200},
                 source, early, /*phase_seconds=*/20);
  for (double t = 0; t < 5; t += 1) ASSERT_TRUE(n.Step(t));
  EXPECT_EQ(early.state.spec_replicas, 1);
  ASSERT_TRUE(n.Step(5));  // 20 − 15: the HPA's clock ran before the run
  EXPECT_EQ(early.state.spec_replicas, 5);
}

// The same load against the peer at two phases: its first scale-up comes at its first sync.
TEST(SimulatorTest, TheKedaHpaPeerRunsInTheScenariosPhase) {
  Scenario s = Constant(400, 100, 8);
  s.duration_seconds = 120;
  const Workload w = BuildWorkload(s);
  auto first_up = [&](double phase) {
    s.keda_phase_seconds = phase;
    auto run = RunPolicy(s, w, "keda-hpa");
    EXPECT_TRUE(run) << run.error().ToString();
    if (!run) return -1.0;
    for (size_t k = 0; k < run->replicas.size(); ++k) {
      if (run->replicas[k] > 1) return static_cast<double>(k) * s.tick_seconds;
    }
    return -1.0;
  };
  const double aligned = first_up(0);
  const double late = first_up(7);
  EXPECT_EQ(std::fmod(aligned, 15), 0) << aligned;
  EXPECT_EQ(std::fmod(late - 7, 15), 0) << late;
  EXPECT_NE(aligned, late);
}

TEST(SvgChartTest, HasAxesLabelsAndLegend) {
  Chart c;
  c.title = "t <1>";
  c.panels = {{"backlog", "messages", {{"rate", {0, 5, 10, 2}}, {"keda-hpa", {1, 1, 1, 1}}}},
              {"replicas", "pods", {{"rate", {1, 2, 2, 1}, "", false, true}}}};
  const std::string svg = RenderSvg(c);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("t &lt;1&gt;"), std::string::npos);  // escaped
  EXPECT_NE(svg.find(">messages</text>"), std::string::npos);
  EXPECT_NE(svg.find(">pods</text>"), std::string::npos);
  EXPECT_NE(svg.find(">keda-hpa</text>"), std::string::npos);
  EXPECT_NE(svg.find(">time (s)</text>"), std::string::npos);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos;
       at = svg.find("<polyline", at + 1))
    ++lines;
  EXPECT_EQ(lines, 3u);
  EXPECT_EQ(NiceStep(3600, 10), 500);
  EXPECT_EQ(NiceStep(37, 5), 10);
  EXPECT_EQ(NiceStep(0.9, 5), 0.2);
}

TEST(SimulateCommandTest, WritesTableCsvAndSvg) {
  const auto out_dir = std::filesystem::temp_directory_path() / "ka_simulate_test";
  std::filesystem::remove_all(out_dir);
  std::ostringstream out, err;
  const int rc = RunSimulate({.scenario = kTraces / "flash-crowd.yaml",
                              .policies = {"messages", "keda-hpa", "rate"},
                              .out_dir = out_dir},
                             out, err);
  ASSERT_EQ(rc, kExitOk) << err.str();
  EXPECT_NE(out.str().find("keda-hpa"), std::string::npos);
  EXPECT_NE(out.str().find("p99_wait_s"), std::string::npos);
  for (const char* f : {"flash-crowd.csv", "flash-crowd-timeline.csv", "flash-crowd.svg",
                        "flash-crowd-decisions.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(out_dir / f)) << f;
  }
  std::ifstream csv(out_dir / "flash-crowd.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header.rfind("scenario,policy,p50_wait_s,p99_wait_s", 0), 0u);
  std::filesystem::remove_all(out_dir);
}

// The decisions of a policy run through the Reconciler are its `reconcile` spans, one per tick:
// each row's desired count is the spec.replicas the tick left; keda-hpa (a model, not the
// Reconciler) has none. DecisionsCsv puts every attribute in its own column, quoted when needed.
TEST(SimulateCommandTest, DecisionsAreTheReconcileSpanOfEachTick) {
  auto s = LoadScenario(kTraces / "flash-crowd.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  const Workload w = BuildWorkload(*s);
  auto wait = RunPolicy(*s, w, "wait");
  auto keda = RunPolicy(*s, w, "keda-hpa");
  ASSERT_TRUE(wait && keda);
  EXPECT_TRUE(keda->decisions.empty());
  ASSERT_EQ(wait->decisions.size(),
            static_cast<size_t>(s->duration_seconds / s->autoscaler.interval_seconds));
  auto attribute = [](const DecisionRecord& d, std::string_view key) -> std::string {
    for (const auto& [k, v] : d.attributes) {
      if (k == key) return v;
    }
    return "(missing)";
  };
  std::set<std::string> whys;
  for (const auto& d : wait->decisions) {
    const auto step = static_cast<size_t>(std::lround(d.t_seconds / s->tick_seconds));
    ASSERT_LT(step, wait->replicas.size());
    EXPECT_EQ(attribute(d, "kafka_autoscaler.replicas.desired"),
              std::to_string(wait->replicas[step]))
        << "t=" << d.t_seconds;
    whys.insert(attribute(d, "kafka_autoscaler.wait.why"));
  }
  // flash-crowd's burst is met by a scale-up: `up`, or `cost_ceiling` where the ceiling sized it
  const auto up = std::find_if(wait->decisions.begin(), wait->decisions.end(), [&](const auto& d) {
    return std::stoi(attribute(d, "kafka_autoscaler.replicas.desired")) >
           std::stoi(attribute(d, "kafka_autoscaler.replicas.current"));
  });
  ASSERT_NE(up, wait->decisions.end()) << "flash-crowd's burst is met by a scale-up";
  EXPECT_TRUE(attribute(*up, "kafka_autoscaler.wait.why") == "up" ||
              attribute(*up, "kafka_autoscaler.wait.why") == "cost_ceiling")
      << attribute(*up, "kafka_autoscaler.wait.why");
  EXPECT_TRUE(whys.count("down"));
  EXPECT_FALSE(whys.count("(missing)"));

  const std::string csv = DecisionsCsv({*keda, *wait});
  std::istringstream lines(csv);
  std::string header, line;
  std::getline(lines, header);
  EXPECT_EQ(header.rfind("t_seconds,policy,", 0), 0u) << header;
  EXPECT_NE(header.find(",kafka_autoscaler.wait.why"), std::string::npos) << header;
  size_t rows = 0;
  while (std::getline(lines, line)) {
    ++rows;
    EXPECT_EQ(std::count(line.begin(), line.end(), ','),
              std::count(header.begin(), header.end(), ','))
        << line;
    EXPECT_EQ(line.substr(line.find(',') + 1, 5), "wait,") << line;
  }
  EXPECT_EQ(rows, wait->decisions.size());

  PolicyRun quoted{.policy = "rate"};
  quoted.decisions.push_back(
      {.t_seconds = 15, .attributes = {{"list", "a,b"}, {"q", "say \"hi\""}}});
  quoted.decisions.push_back({.t_seconds = 30, .attributes = {{"q", "x"}}});
  EXPECT_EQ(DecisionsCsv({quoted}),
            "t_seconds,policy,list,q\n15.0,rate,\"a,b\",\"say \"\"hi\"\"\"\n30.0,rate,,x\n");
}

// --generate writes the report's CSV and every scenario as replayed (with --target-wait
// applied); one written scenario replayed alone with --scenario gives that scenario's rows.
TEST(SimulateCommandTest, GenerateWritesEachScenarioForReplay) {
  const auto dir = std::filesystem::temp_directory_path() / "ka_simulate_generate";
  std::filesystem::remove_all(dir);
  std::ostringstream out, err;
  ASSERT_EQ(RunSimulate({.policies = {"keda-hpa", "wait"},
                         .out_dir = dir,
                         .seeds = 1,
                         .generate = "jitter",
                         .count = 2,
                         .generate_seed = 4,
                         .target_wait = "33",
                         .keda_phase = 7},
                        out, err),
            kExitOk)
      << err.str();
  EXPECT_NE(out.str().find("2 scenarios in"), std::string::npos) << out.str();
  auto written = LoadScenario(dir / "scenarios" / "jitter-1.yaml");
  ASSERT_TRUE(written) << written.error().ToString();
  EXPECT_EQ(written->autoscaler.target_wait_seconds, 33);
  EXPECT_EQ(written->keda_phase_seconds, 7);
  std::ifstream csv(dir / "generated-jitter.csv");
  std::string line, want, want_keda;
  while (std::getline(csv, line)) {
    if (line.rfind("jitter-1,0,wait,", 0) == 0) want = line;
    if (line.rfind("jitter-1,0,keda-hpa,", 0) == 0) want_keda = line;
  }
  ASSERT_FALSE(want.empty());
  ASSERT_FALSE(want_keda.empty());
  std::ostringstream out2, err2;
  ASSERT_EQ(RunSimulate({.scenario = dir / "scenarios" / "jitter-1.yaml",
                         .policies = {"keda-hpa", "wait"},
                         .out_dir = dir / "one"},
                        out2, err2),
            kExitOk)
      << err2.str();
  EXPECT_NE(out2.str().find("; keda-hpa's poll and sync 7 s into their periods"), std::string::npos)
      << out2.str();
  // The report's row of `policy` on noise seed 0, replayed from the written scenario (keda-hpa
  // in its phase).
  const auto row_of = [&](const std::string& policy) {
    auto one = RunPolicy(*written, BuildWorkload(*written), policy);
    EXPECT_TRUE(one) << policy;
    if (!one) return std::string();
    char row[128];
    std::snprintf(row, sizeof row, "jitter-1,0,%s,%.1f,%.0f,%lld", policy.c_str(),
                  one->metrics.p99_wait_seconds, one->metrics.pod_seconds,
                  static_cast<long long>(one->metrics.scale_events));
    return std::string(row);
  };
  EXPECT_EQ(want, row_of("wait"));
  EXPECT_EQ(want_keda, row_of("keda-hpa"));
  std::ostringstream out4, err4;
  EXPECT_EQ(
      RunSimulate({.out_dir = dir / "bad", .generate = "jitter", .count = 1, .keda_phase = 30},
                  out4, err4),
      kExitInvalid);
  EXPECT_NE(err4.str().find("--keda-phase=30: must be"), std::string::npos) << err4.str();
  std::ostringstream out3, err3;
  EXPECT_EQ(
      RunSimulate({.out_dir = dir / "bad", .generate = "jitter", .count = 1, .target_wait = "0"},
                  out3, err3),
      kExitInvalid);
  EXPECT_NE(err3.str().find("--target-wait 0: must be"), std::string::npos) << err3.str();
  EXPECT_FALSE(std::filesystem::exists(dir / "bad"));
  std::filesystem::remove_all(dir);
}

// --history N: the table says the cycle was measured after history; the timeline and the
// decisions cover that cycle only, on its own clock; a count out of range exits 2.
TEST(SimulateCommandTest, HistoryIsSaidAndOnlyTheMeasuredCycleIsWritten) {
  const auto out_dir = std::filesystem::temp_directory_path() / "ka_simulate_history";
  std::filesystem::remove_all(out_dir);
  std::ostringstream out, err;
  ASSERT_EQ(RunSimulate({.scenario = kTraces / "steady.yaml",
                         .policies = {"keda-hpa", "wait"},
                         .out_dir = out_dir,
                         .history = 2},
                        out, err),
            kExitOk)
      << err.str();
  EXPECT_NE(out.str().find("measured after 2 earlier cycles of the same load"), std::string::npos)
      << out.str();
  const auto lines = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<std::string> v;
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  };
  auto scenario = LoadScenario(kTraces / "steady.yaml");
  ASSERT_TRUE(scenario);
  const auto timeline = lines(out_dir / "steady-timeline.csv");
  ASSERT_EQ(timeline.size(), static_cast<size_t>(scenario->TickCount()) + 1);
  EXPECT_EQ(timeline[1].rfind("0.0,", 0), 0u) << timeline[1];
  const auto decisions = lines(out_dir / "steady-decisions.csv");
  ASSERT_GT(decisions.size(), 2u);
  EXPECT_EQ(decisions[1].rfind("0.0,wait,", 0), 0u) << decisions[1];
  EXPECT_EQ(decisions.size() - 1,
            static_cast<size_t>(scenario->TickCount() / scenario->IntervalTicks()));

  std::ostringstream out2, err2;
  EXPECT_EQ(RunSimulate({.scenario = kTraces / "steady.yaml", .out_dir = out_dir, .history = 101},
                        out2, err2),
            kExitInvalid);
  EXPECT_NE(err2.str().find("--history=101: must be an integer within 0..100"), std::string::npos)
      << err2.str();
  // --restart needs a history to restart after, and says which restarts there are.
  for (const auto& [history, restart, said] :
       std::vector<std::tuple<int64_t, std::string, std::string>>{
           {-1, "kept", "--restart kept: restarts between the history and the measured cycle"},
           {1, "warm", "--restart warm: must be cold or kept"}}) {
    std::ostringstream out3, err3;
    EXPECT_EQ(RunSimulate({.scenario = kTraces / "steady.yaml",
                           .out_dir = out_dir,
                           .history = history,
                           .restart = restart},
                          out3, err3),
              kExitInvalid);
    EXPECT_NE(err3.str().find(said), std::string::npos) << err3.str();
  }
  std::filesystem::remove_all(out_dir);
}

TEST(SimulateCommandTest, InvalidScenarioOrPolicyExitsTwoWithEveryProblem) {
  const auto dir = std::filesystem::temp_directory_path() / "ka_simulate_bad";
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "bad.yaml");
    f << "name: bad\npartitions: -3\nload: [[0, 1]]\n";
  }
  std::ostringstream out, err;
  EXPECT_EQ(RunSimulate({.scenario = dir / "bad.yaml", .out_dir = dir / "out"}, out, err),
            kExitInvalid);
  for (const char* want :
       {"partitions=-3", "duration_seconds: missing", "pod: missing", "autoscaler: missing"}) {
    EXPECT_NE(err.str().find(want), std::string::npos) << want << "\n" << err.str();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  std::ostringstream out2, err2;
  EXPECT_EQ(RunSimulate(
                {.scenario = kTraces / "steady.yaml", .policies = {"hpa"}, .out_dir = dir / "out"},
                out2, err2),
            kExitInvalid);
  EXPECT_NE(err2.str().find("unknown policy \"hpa\""), std::string::npos);
  std::filesystem::remove_all(dir);
}

// Shapes of our own (not the shared five): the rate policy must still wait less than keda-hpa,
// for fewer pod-seconds and no more scale events, and stay near the clairvoyant bound.
TEST(SimulatorTest, RatePolicyGeneralisesToOtherLoadShapes) {
  for (const char* name : {"sawtooth.yaml", "slow-sine.yaml"}) {
    SCOPED_TRACE(name);
    const auto runs = RunTestdata(name, {"keda-hpa", "rate"});
    ASSERT_EQ(runs.size(), 2u);
    const PolicyRun& keda = runs[0];
    const PolicyRun& rate = runs[1];
    EXPECT_LT(rate.metrics.p99_wait_seconds, 0.6 * keda.metrics.p99_wait_seconds);
    EXPECT_LE(rate.metrics.pod_seconds, keda.metrics.pod_seconds);
    EXPECT_LE(rate.metrics.scale_events, keda.metrics.scale_events);
    EXPECT_LE(rate.metrics.pod_seconds, 1.7 * rate.metrics.clairvoyant_pod_seconds);
  }
}

// Short batches (hand-made, tests/sim/testdata/short-batches.yaml): a batch lands within 5 s
// and is gone by the next tick; pods ordered when it is seen start after one pod has nearly
// drained it, so they buy no wait. `wait` must cancel such pods while they are still starting
// (no rebalance: they never joined) instead of keeping them until its quiet time has passed.
TEST(SimulatorTest, WaitCancelsPodsOrderedForABatchThatIsAlreadyGone) {
  const auto runs = RunTestdata("short-batches.yaml", {"keda-hpa", "wait"});
  ASSERT_EQ(runs.size(), 2u);
  const PolicyRun& keda = runs[0];
  const PolicyRun& wait = runs[1];
  EXPECT_LE(wait.metrics.p99_wait_seconds, keda.metrics.p99_wait_seconds);
  // A batch is seen at one tick and its end at the next: extra pods for at most two intervals
  // per batch (6 batches × 2 × 15 s), not until the quiet time of a scale-down has passed.
  const auto extra =
      std::count_if(wait.replicas.begin(), wait.replicas.end(), [](int32_t r) { return r > 1; });
  EXPECT_LE(extra, 6 * 2 * 15);
  // And after two batches each over by the next tick it doubts the next onset of that size:
  // pods only when the rate stays up at the next tick, or when they would cut the wait by more
  // than W/4. Before (an order and a cancel at every batch): 12 events, 4,710 pod-seconds.
  EXPECT_LE(wait.metrics.scale_events, 4);  // the first two batches teach it
  EXPECT_LE(wait.metrics.pod_seconds, 1.15 * keda.metrics.pod_seconds);
}

// Pods that become faster while they keep up (tests/sim/testdata/pods-faster.yaml, three hours;
// pod.rate_changes: 20 msg/s, 40 from t = 1,800 s, under 190 msg/s). They never saturate again,
// so nothing measured says so: `wait` held the 10 pods of the old rate for good (108,030
// pod-seconds, 3 events); now an hour after its last measurement its μ is a lower bound again,
// probes find the faster pods and it ends at the 5 that keep up (74,670, 9). `rate`, whose
// confirmation also lasts an hour, probed and was undone at the next tick by an up on its
// unconfirmed rate, before an interval at the probe's count could raise it: 8 ↔ 12 every 90 s
// from t = 3,720 s, 162 scale events, 121,530 pod-seconds (keda-hpa 97,515). A probe stands
// now until the pods show it wrong: 17 events, 77,760.
TEST(SimulatorTest, PodsThatBecameFasterAreFoundAndNoProbeIsUndoneBeforeItsAnswer) {
  const auto runs = RunTestdata("pods-faster.yaml", {"keda-hpa", "rate", "wait"});
  ASSERT_EQ(runs.size(), 3u);
  const PolicyRun& keda = runs[0];
  const PolicyRun& rate = runs[1];
  const PolicyRun& wait = runs[2];
  EXPECT_EQ(wait.replicas.back(), 5);
  EXPECT_LE(wait.metrics.scale_events, 12);
  EXPECT_LE(wait.metrics.p99_wait_seconds, 20);
  EXPECT_LT(wait.metrics.pod_seconds, 0.8 * keda.metrics.pod_seconds);
  EXPECT_LE(rate.metrics.scale_events, 20);
  EXPECT_LE(rate.replicas.back(), 6);
  EXPECT_LT(rate.metrics.pod_seconds, keda.metrics.pod_seconds);
}

// Pods that become slower (tests/sim/testdata/pods-slower.yaml: 190 msg/s, pods of 40 msg/s that
// do 20 from t = 1,200 s). They fall behind at once and the saturated intervals say by how much;
// `wait` averaged each into μ (40 → 30 → 25 → 20.3), ordered 8, then 13 pods, and its p99 was
// 29 s against its target of 20. A saturated sample more than 10 % off μ (the arrival rate's
// jump threshold) now replaces it: 19 s.
TEST(SimulatorTest, PodsThatBecameSlowerAreFollowedAtTheFirstSaturatedInterval) {
  const auto runs = RunTestdata("pods-slower.yaml", {"keda-hpa", "wait"});
  ASSERT_EQ(runs.size(), 2u);
  const PolicyRun& keda = runs[0];
  const PolicyRun& wait = runs[1];
  EXPECT_LE(wait.metrics.p99_wait_seconds, 20);
  EXPECT_LT(wait.metrics.pod_seconds, keda.metrics.pod_seconds);
  EXPECT_LE(wait.metrics.scale_events, 8);
}

// Dumps above what the partitions drain at once (hand-made,
// tests/sim/testdata/dumps-above-partitions.yaml): when the backlog is nearly empty its messages
// have waited about a minute. `wait` must not remove pods before they are consumed (that made
// them the p99: 83 s against reactive-bound's 73 s), and still go down once they are.
TEST(SimulatorTest, WaitKeepsThePodsUntilMessagesOlderThanTheTargetAreConsumed) {
  const auto runs = RunTestdata("dumps-above-partitions.yaml", {"reactive-bound", "wait"});
  ASSERT_EQ(runs.size(), 2u);
  const PolicyRun& bound = runs[0];
  const PolicyRun& wait = runs[1];
  EXPECT_LE(wait.metrics.p99_wait_seconds, 1.05 * bound.metrics.p99_wait_seconds);
  EXPECT_LE(wait.metrics.pod_seconds, bound.metrics.pod_seconds);
  EXPECT_LE(wait.metrics.scale_events, bound.metrics.scale_events);
}

// Short batches, but a smaller onset than those seen may be the first part of a batch straddling
// the tick (tests/sim/testdata/short-batches-straddle.yaml: the tick at 1410 s sees 1,500 of 10,000
// messages): its pods are ordered at once, not a tick later (p99 67 s then, 63 s now).
TEST(SimulatorTest, WaitDoesNotDoubtAnOnsetSmallerThanTheShortBatchesSeen) {
  auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / "short-batches-straddle.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  const Workload w = BuildWorkload(*s);
  auto wait = RunPolicy(*s, w, "wait");
  ASSERT_TRUE(wait);
  const auto step = static_cast<size_t>(1411 / s->tick_seconds);
  ASSERT_LT(step, wait->replicas.size());
  EXPECT_GT(wait->replicas[step], 1);
  EXPECT_LE(wait->metrics.p99_wait_seconds, 64);
}

// Short batches whose phase against the tick drifts (tests/sim/testdata/short-batches-drift.yaml):
// one straddles two ticks, seen in two parts and gone at the third. It is a short batch too:
// after it the onsets are doubted, not ordered and cancelled. Before (only a batch gone at the
// next tick counted): 10 events, 3,885 pod-seconds; keda-hpa 0 and 3,600, the same p99 (31 s).
TEST(SimulatorTest, WaitCountsABatchStraddlingTwoTicksAsShort) {
  const auto runs = RunTestdata("short-batches-drift.yaml", {"keda-hpa", "wait"});
  ASSERT_EQ(runs.size(), 2u);
  const PolicyRun& keda = runs[0];
  const PolicyRun& wait = runs[1];
  EXPECT_LE(wait.metrics.p99_wait_seconds, keda.metrics.p99_wait_seconds);
  EXPECT_LE(wait.metrics.scale_events, 6);  // an order and a cancel at the first three batches
  EXPECT_LE(wait.metrics.pod_seconds, 1.06 * keda.metrics.pod_seconds);
}

// Bursts that repeat within the lag rule's 300 s window (issue 18, fortieth round): a 5 s
// spike every 120 s (tests/sim/testdata/repeating-spikes.yaml, one tick each), a 20 s batch
// every 90 s (repeating-batches.yaml, over two ticks) and a 60 s one every 120 s
// (repeating-long-batches.yaml, four ticks: 1b follows it to its end). Once three onsets give
// the period, the count between bursts is the one that keeps the next burst under the target
// (6b), not one pod cycled up for each burst and down after it: before, 58, 78 and 87 scale
// events an hour against keda-hpa's 38, 40 and 48. With PREDICT on, the bursts are not
// pre-scaled either (pre-scaling each and coming down after made 85, 114 and 87 events).
TEST(SimulatorTest, WaitHoldsThroughBurstsThatRepeatWithinTheRulesWindow) {
  for (const char* name :
       {"repeating-spikes.yaml", "repeating-batches.yaml", "repeating-long-batches.yaml"}) {
    SCOPED_TRACE(name);
    auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / name);
    ASSERT_TRUE(s) << s.error().ToString();
    const Workload w = BuildWorkload(*s);
    auto keda = RunPolicy(*s, w, "keda-hpa");
    auto wait = RunPolicy(*s, w, "wait");
    auto ahead = RunPolicy(*s, w, "wait-predict");
    ASSERT_TRUE(keda && wait && ahead);
    for (const PolicyRun* run : {&*wait, &*ahead}) {
      EXPECT_LE(run->metrics.scale_events,
                10);  // the first three bursts' ups and downs, a few more
      EXPECT_LT(run->metrics.p99_wait_seconds, keda->metrics.p99_wait_seconds);
      EXPECT_LT(run->metrics.pod_seconds, keda->metrics.pod_seconds);
    }
    // The decision span names the hold, at a count above the floor.
    int held = 0;
    for (const auto& d : wait->decisions) {
      std::map<std::string, std::string> a(d.attributes.begin(), d.attributes.end());
      if (a["kafka_autoscaler.wait.why"] != "burst_hold") continue;
      ++held;
      EXPECT_GT(std::stoi(a["kafka_autoscaler.replicas.desired"]), 1);
    }
    EXPECT_GT(held, 0);
  }
}

// COST_CEILING (issue 18, twenty-seventh round; tests/sim/testdata/ceiling-few-partitions.yaml):
// where holding the target costs 1.17x keda-hpa's pod-seconds, the ceiling holds `wait` to what
// the lag rule spends, at no worse a wait than keda-hpa's and no more changes; without it the
// wait rule alone spends more than 10 % above.
TEST(SimulatorTest, TheCostCeilingHoldsWaitToTheLagRulesSpend) {
  auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / "ceiling-few-partitions.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  const Workload w = BuildWorkload(*s);
  auto keda = RunPolicy(*s, w, "keda-hpa");
  auto wait = RunPolicy(*s, w, "wait");
  Scenario off = *s;
  off.autoscaler.cost_ceiling = 0;
  auto alone = RunPolicy(off, w, "wait");
  ASSERT_TRUE(keda && wait && alone);
  EXPECT_LE(wait->metrics.pod_seconds, 1.05 * keda->metrics.pod_seconds);
  EXPECT_GT(alone->metrics.pod_seconds, 1.10 * keda->metrics.pod_seconds);
  EXPECT_LE(wait->metrics.p99_wait_seconds, 1.05 * keda->metrics.p99_wait_seconds);
  EXPECT_LE(wait->metrics.scale_events, keda->metrics.scale_events);
  // The decision span says so, with the replay's count and both pod-seconds, and the start-up
  // and pause the replay ran with: within the tick-wide bracket of the learned start-up.
  int held = 0;
  double rule_pod_s = 0;
  double own_pod_s = 0;
  for (const auto& d : wait->decisions) {
    std::map<std::string, std::string> a(d.attributes.begin(), d.attributes.end());
    if (a["kafka_autoscaler.wait.why"] != "cost_ceiling") continue;
    ++held;
    EXPECT_GE(std::stoi(a["kafka_autoscaler.wait.lag_rule.replicas"]), 1);
    rule_pod_s = std::stod(a["kafka_autoscaler.wait.lag_rule.pod_seconds"]);
    own_pod_s = std::stod(a["kafka_autoscaler.wait.pod_seconds"]);
    const double startup = std::stod(a["kafka_autoscaler.wait.startup_seconds"]);
    const double replay_startup = std::stod(a["kafka_autoscaler.wait.lag_rule.startup_seconds"]);
    EXPECT_LE(replay_startup, startup);
    EXPECT_GE(replay_startup, startup - s->autoscaler.interval_seconds);
    EXPECT_GE(std::stod(a["kafka_autoscaler.wait.lag_rule.rebalance_seconds"]), 0);
  }
  EXPECT_GT(held, 0);
  EXPECT_GT(rule_pod_s, 0);
  EXPECT_GT(own_pod_s, 0);
  EXPECT_LE(own_pod_s, wait->metrics.pod_seconds);
}

// The lag rule as a scenario's keda-hpa runs it (KEDA's defaults otherwise).
policy::HpaRule LagRuleOf(const Scenario& s) {
  return {.lag_threshold = s.autoscaler.messages_per_pod,
          .min_replicas = s.autoscaler.min_replicas,
          .max_replicas = s.autoscaler.max_replicas,
          .partitions = s.partitions};
}

// The ceiling holds `wait` no lower than the lag rule keeps for `wait`'s own lag (issue 18,
// thirty-third round; tests/sim/testdata/ceiling-noisy-pods.yaml): under the pods' noise μ is
// learned at 100-112 msg/s for pods of 74, the replay's queue drains faster than ours, and its
// rule sat at 3 pods while our backlog grew to 33,304 (p99 150 s; keda-hpa 7,077 and 21 s).
// The rule's count for our lag is its proposal held by its scale-down window, as an HPA on our
// group would keep it (policy::HpaStabilized, from the ceiling's first tick). Checked on the
// count the ceiling holds to (the span's lag_rule.replicas) at every tick: since 2c (a stall
// that recurs is noise) μ here no longer runs high enough for the ceiling to bind on this seed.
TEST(SimulatorTest, TheCostCeilingHoldsWaitNoLowerThanTheLagRuleOnItsOwnLag) {
  auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / "ceiling-noisy-pods.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  const Workload w = BuildWorkload(*s);
  auto wait = RunPolicy(*s, w, "wait");
  ASSERT_TRUE(wait);
  const policy::HpaRule rule = LagRuleOf(*s);
  policy::HpaMemory on_our_lag;
  std::optional<double> began;
  int held = 0;
  for (const auto& d : wait->decisions) {
    std::map<std::string, std::string> a(d.attributes.begin(), d.attributes.end());
    if (!a.contains("kafka_autoscaler.wait.lag_rule.replicas")) continue;
    if (!began) began = d.t_seconds;
    const int32_t current = std::stoi(a["kafka_autoscaler.replicas.current"]);
    const int64_t backlog = std::stoll(a["kafka_autoscaler.backlog"]);
    const int32_t kept =
        policy::HpaStabilized(rule, on_our_lag, d.t_seconds - *began,
                              policy::HpaCappedLag(rule, backlog), std::max(1, current));
    // The count the ceiling holds to (never below it when it binds: wait_policy.cc 10).
    ++held;
    EXPECT_GE(std::stoi(a["kafka_autoscaler.wait.lag_rule.replicas"]), kept)
        << "at " << d.t_seconds << " s, backlog " << backlog;
  }
  EXPECT_GT(held, 0);
  EXPECT_LT(wait->metrics.max_backlog, 20000);
}

// Where the cost ceiling holds `wait` to the lag rule's count, `wait`'s p99 is about the rule's.
// Since the forty-eighth round (issue 18) the rule it holds to is the cheapest of three phases
// of the rule's clock, whose p99 may sit a second or two above keda-hpa's on its own phase: on
// three of these scenarios, found as cost rows, `wait`'s median p99 went from below keda-hpa's
// to 1.00-1.02x it (and on ceiling-replay-phase.yaml from 1.28x to 1.02x). Since the forty-ninth
// round the replay runs with the start-up the joins timed where a capped up had dropped it, and
// on ceiling-young-loan-rule-carries.yaml `wait`'s median p99 went from 0.98x keda-hpa's to
// 1.00x (56 -> 57 s against 57). Those five are held within this of keda-hpa's; the others
// still below it.
constexpr double kP99AtTheRule = 1.05;

// `wait` against keda-hpa on one testdata scenario over the generated report's 3 noise seeds,
// as the report judges it (sim/generate.h); nullopt, with a failure added, if it cannot run.
std::optional<PolicySummary> WaitAsTheReportJudgesIt(const std::string& name) {
  auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / name);
  if (!s) {
    ADD_FAILURE() << name << ": " << s.error().ToString();
    return std::nullopt;
  }
  const auto table = RunGenerated({*s}, 3, {"wait"});
  if (!table) {
    ADD_FAILURE() << name << ": " << table.error().ToString();
    return std::nullopt;
  }
  auto summary = SummarizeAgainstKeda(*table);
  if (summary.size() != 1) {
    ADD_FAILURE() << name << ": " << summary.size() << " summaries";
    return std::nullopt;
  }
  return summary[0];
}

// The cost ceiling's scale-downs (`why` = cost_ceiling) of a run that the next change undid by an
// up within 120 s, described; `downs` counts every such scale-down.
std::vector<std::string> CeilingDownsUndone(const PolicyRun& run, int& downs) {
  struct Change {
    double t;
    int32_t from, to;
    std::string why;
  };
  std::vector<Change> changes;
  for (const auto& d : run.decisions) {
    std::map<std::string, std::string> a(d.attributes.begin(), d.attributes.end());
    const int32_t from = std::stoi(a["kafka_autoscaler.replicas.current"]);
    const int32_t to = std::stoi(a["kafka_autoscaler.replicas.desired"]);
    if (from != to) changes.push_back({d.t_seconds, from, to, a["kafka_autoscaler.wait.why"]});
  }
  std::vector<std::string> undone;
  downs = 0;
  for (size_t i = 0; i < changes.size(); ++i) {
    if (changes[i].why != "cost_ceiling" || changes[i].to >= changes[i].from) continue;
    ++downs;
    if (i + 1 < changes.size()) {
      const Change& next = changes[i + 1];
      if (next.to > next.from && next.t - changes[i].t <= 120) {
        undone.push_back("the ceiling's down at " + std::to_string(changes[i].t) + " s (" +
                         std::to_string(changes[i].from) + " -> " + std::to_string(changes[i].to) +
                         ") undone at " + std::to_string(next.t) + " s");
      }
    }
  }
  return undone;
}

// The ceiling does not scale down into a rise (issue 18, thirty-fourth round;
// tests/sim/testdata/ceiling-sawtooth.yaml): on each climb of the saw the lag rule lets its lag
// grow before it adds a pod, and the ceiling took `wait` down to the rule's count, which fell
// behind the load within a minute: each such down was undone by an up within two minutes, 5 of
// 28 scale events (keda-hpa 16). While the arrival rate rises beyond its noise over M, a down
// the ceiling forces stops at the count that carries the rate M ahead.
TEST(SimulatorTest, TheCostCeilingDoesNotScaleDownIntoARise) {
  const auto runs = RunTestdata("ceiling-sawtooth.yaml", {"keda-hpa", "wait"});
  ASSERT_EQ(runs.size(), 2U);
  const PolicyRun& keda = runs[0];
  const PolicyRun& wait = runs[1];
  int ceiling_downs = 0;
  for (const auto& undone : CeilingDownsUndone(wait, ceiling_downs)) ADD_FAILURE() << undone;
  EXPECT_LT(wait.metrics.scale_events, keda.metrics.scale_events) << ceiling_downs;
  EXPECT_LT(wait.metrics.pod_seconds, keda.metrics.pod_seconds);
  EXPECT_LT(wait.metrics.p99_wait_seconds, keda.metrics.p99_wait_seconds);
}

// ... as far as the budget pays for it without its margin (tests/sim/testdata/
// ceiling-lean-trend.yaml): through a climb of the whole hour the rule runs lean, and held
// above its count through every rise `wait` spent 1.056x keda-hpa's pod-seconds (medians over
// the report's 3 noise seeds) where the issue allows 1.05. Judged as the generated report
// judges it (sim/generate.h).
TEST(SimulatorTest, TheCostCeilingHoldsARiseOnlyAsFarAsTheRulesSpendPays) {
  const auto summary = WaitAsTheReportJudgesIt("ceiling-lean-trend.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
}

// Nor below the load (tests/sim/testdata/ceiling-below-the-load.yaml, issue 18, thirty-seventh
// round): a climb too gentle for the rise test (the rate's trend over M within its noise), and
// the ceiling took `wait` down to the lag rule's count below what carried the rate then — 6 -> 5
// -> 4 pods at 354 msg/s of pods of 57 — each down undone within a minute; p99 76 s against
// keda-hpa's 68, 29 scale events against 9. A down the ceiling forces stops at the count that
// keeps up with the rate now (less its noise band), as far as the rule's spend pays for it:
// 5 of those downs were undone within 120 s, now one, where it did not pay (3 -> 2 at 990 s,
// our spend 15 % above the replay's; keda-hpa itself went 3 -> 2 -> 3 there).
TEST(SimulatorTest, TheCostCeilingDoesNotScaleDownBelowTheLoad) {
  const auto runs = RunTestdata("ceiling-below-the-load.yaml", {"keda-hpa", "wait"});
  ASSERT_EQ(runs.size(), 2U);
  const PolicyRun& keda = runs[0];
  const PolicyRun& wait = runs[1];
  int ceiling_downs = 0;
  const auto undone = CeilingDownsUndone(wait, ceiling_downs);
  EXPECT_LE(undone.size(), 1U) << ::testing::PrintToString(undone);
  EXPECT_LT(wait.metrics.p99_wait_seconds, keda.metrics.p99_wait_seconds);
  EXPECT_LT(wait.metrics.scale_events, 2 * keda.metrics.scale_events) << ceiling_downs;
}

// A loan lends less once our spend is above the rule's (tests/sim/testdata/
// ceiling-loan-heavy-tail.yaml, issue 18, thirty-seventh round): each burst's up borrowed
// against the rule's scale-down window, reckoned with `wait` back at one pod after it, while
// the steady base kept three; our weighted spend stayed above the replay's at 237 of 239 ticks
// and `wait` spent 1.078x keda-hpa's pod-seconds. The ratio a loan may reach falls by as much as
// our spend so far is above the rule's. Judged as the generated report judges it.
TEST(SimulatorTest, TheCostCeilingLendsLessWhileOurSpendIsAboveTheRules) {
  const auto summary = WaitAsTheReportJudgesIt("ceiling-loan-heavy-tail.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
  EXPECT_LT(summary->p99_median, kP99AtTheRule) << "p99 " << summary->p99_median << "x keda-hpa's";
}

// The lag rule's clock is not ours (tests/sim/testdata/ceiling-replay-phase.yaml, issue 18,
// forty-eighth round): keda-hpa's HPA syncs 5 s after our ticks, and the ceiling's replay of
// the rule, syncing on our ticks, spent 1.08-1.09x keda-hpa's pod-seconds on two of the three
// noise seeds, `wait` with it (1.077x, the median). The replay runs the rule at three phases
// of its 15 s sync and the ceiling spends against the cheapest. Judged as the generated report
// judges it.
TEST(SimulatorTest, TheCostCeilingSpendsAgainstTheRulesCheapestClock) {
  const auto summary = WaitAsTheReportJudgesIt("ceiling-replay-phase.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
  EXPECT_LT(summary->p99_median, kP99AtTheRule) << "p99 " << summary->p99_median << "x keda-hpa's";
  // The decision span names the phase that stood: one of the three, not always the first.
  const auto runs = RunTestdata("ceiling-replay-phase.yaml", {"wait"});
  ASSERT_EQ(runs.size(), 1U);
  std::map<double, int> stood;
  for (const auto& d : runs[0].decisions) {
    std::map<std::string, std::string> a(d.attributes.begin(), d.attributes.end());
    if (!a.contains("kafka_autoscaler.wait.lag_rule.phase_seconds")) continue;
    ++stood[std::stod(a["kafka_autoscaler.wait.lag_rule.phase_seconds"])];
  }
  for (const auto& [phase, ticks] : stood) {
    EXPECT_TRUE(phase == 0 || phase == 5 || phase == 10) << phase;
  }
  EXPECT_GT(stood[5] + stood[10], 0) << ::testing::PrintToString(stood);
}

// A loan is counted against the part of the rule's window a run is likely to reach (tests/sim/
// testdata/ceiling-loan-end-of-hour.yaml, issue 18, thirty-eighth round): the last spike comes
// 155 s before the run ends, and its up borrowed against the rule's whole 300 s scale-down window,
// the rule holding its count while ours came down; the run ended before that repaid it (22 pods
// against keda-hpa's 10 at 3480 s, 1.059x keda-hpa's pod-seconds). A loan now counts the window's
// first 200 s only, once the replay has run two windows and outside a rise. Judged as the
// generated report judges it.
TEST(SimulatorTest, ALoanCountsOnlyTheRulesWindowARunIsLikelyToReach) {
  const auto summary = WaitAsTheReportJudgesIt("ceiling-loan-end-of-hour.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
  EXPECT_LT(summary->p99_median, 1) << "p99 " << summary->p99_median << "x keda-hpa's";
  EXPECT_LT(summary->pod_s_median, 1.045) << "x keda-hpa's";
}

// In a climb too (tests/sim/testdata/ceiling-loan-climb-end-of-hour.yaml, issue 18, forty-first
// round): a loan counted the rule's whole window while the rate rose, the rule's count climbing
// with the load; the last climb ends with the run, whose end the loan did not see repaid (8
// pods against the rule's 6 at 3,360 s, 1.067x keda-hpa's pod-seconds). A loan counts the
// window's first 200 s in a climb as elsewhere, once the replay has run two windows.
TEST(SimulatorTest, ALoanInAClimbCountsOnlyTheRulesWindowARunIsLikelyToReach) {
  const auto summary = WaitAsTheReportJudgesIt("ceiling-loan-climb-end-of-hour.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
  EXPECT_LT(summary->p99_median, kP99AtTheRule) << "p99 " << summary->p99_median << "x keda-hpa's";
}

// A young loan where the rule already carries the load
// (tests/sim/testdata/ceiling-young-loan-rule-carries.yaml, issue 18, forty-second round): the
// loan was reckoned with our count at minReplicaCount after M, but the rule's count (2) carried
// the rate and the load kept ours there too, so the rule's window never repaid it (5 pods for
// 75 s at the cold start, 1.054-1.057x keda-hpa's pod-seconds). Where the rule's count carries
// the rate and the rule run on would not climb, the loan is reckoned with our count at what
// carries the rate, and the backlog drains about as the rule drains it.
TEST(SimulatorTest, AYoungLoanWhereTheRuleCarriesTheLoadCountsOurFloorAtTheLoad) {
  const auto summary = WaitAsTheReportJudgesIt("ceiling-young-loan-rule-carries.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
  EXPECT_LT(summary->pod_s_median, 1.03) << "x keda-hpa's";
  EXPECT_LT(summary->p99_median, kP99AtTheRule) << "p99 " << summary->p99_median << "x keda-hpa's";
}

// An up the cost ceiling holds to the count already ordered orders no pod, and does not drop the
// timing of the up before it (tests/sim/testdata/ceiling-capped-up-timing.yaml, issue 18,
// forty-ninth round): `wait` went 1 -> 5 at 30 s, held there by the ceiling, and asked for 6 at
// each tick while those pods started; each such up took the place of the one being timed and,
// held to 5, dropped it. No start-up was timed in the hour, the replay ran with the 30 s prior
// (the pods took 25 s) and spent 1.11x keda-hpa's pod-seconds, and `wait`, held to it, spent
// 1.073-1.085x. The replay now runs with what the joins timed.
TEST(SimulatorTest, AnUpTheCeilingHoldsKeepsTheTimingOfTheUpBeforeIt) {
  const auto summary = WaitAsTheReportJudgesIt("ceiling-capped-up-timing.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
  EXPECT_LT(summary->p99_median, 1) << "p99 " << summary->p99_median << "x keda-hpa's";
  const auto runs = RunTestdata("ceiling-capped-up-timing.yaml", {"wait"});
  ASSERT_EQ(runs.size(), 1U);
  ASSERT_FALSE(runs[0].decisions.empty());
  std::map<std::string, std::string> last(runs[0].decisions.back().attributes.begin(),
                                          runs[0].decisions.back().attributes.end());
  ASSERT_TRUE(last.contains("kafka_autoscaler.wait.lag_rule.startup_seconds"));
  // The pods start in 25 s; the tick (15 s) brackets it, the joins' consumption times it.
  EXPECT_NEAR(std::stod(last["kafka_autoscaler.wait.lag_rule.startup_seconds"]), 25, 2);
}

// The lag rule's replay in a run of `wait` on a testdata scenario against the simulator's
// keda-hpa on the same load: the replay's weighted spend at the run's last tick over keda-hpa's
// over the replay's seconds, weighted as it weighs them (exp(−age / 1 day)), and the start-up
// the replay last ran with. `seed`: the noise seed, if not the scenario's own.
struct ReplayedSpend {
  double ratio = 0;
  double startup = 0;
};
std::optional<ReplayedSpend> ReplayedAgainstKeda(const std::string& name,
                                                 std::optional<uint64_t> seed = std::nullopt) {
  auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / name);
  if (!s) {
    ADD_FAILURE() << name << ": " << s.error().ToString();
    return std::nullopt;
  }
  if (seed) s->seed = *seed;
  const Workload w = BuildWorkload(*s);
  auto keda = RunPolicy(*s, w, "keda-hpa");
  auto wait = RunPolicy(*s, w, "wait");
  if (!keda || !wait) {
    ADD_FAILURE() << name << ": a run failed";
    return std::nullopt;
  }
  std::optional<double> began;
  double end = 0;
  ReplayedSpend out;
  double replayed = 0;
  for (const auto& d : wait->decisions) {
    std::map<std::string, std::string> a(d.attributes.begin(), d.attributes.end());
    if (!a.contains("kafka_autoscaler.wait.lag_rule.pod_seconds")) continue;
    if (!began) began = d.t_seconds;
    end = d.t_seconds;
    replayed = std::stod(a["kafka_autoscaler.wait.lag_rule.pod_seconds"]);
    out.startup = std::stod(a["kafka_autoscaler.wait.lag_rule.startup_seconds"]);
  }
  if (!began) {
    ADD_FAILURE() << name << ": the replay never ran";
    return std::nullopt;
  }
  double spent = 0;
  for (auto k = static_cast<size_t>(*began); k < static_cast<size_t>(end); ++k) {
    spent += keda->replicas[k] * std::exp(-(end - 1 - static_cast<double>(k)) / 86400);
  }
  out.ratio = replayed / spent;
  return out;
}

// The replay learns as the policy does: its first ticks run with the 30 s start-up prior while
// the pods here take 128 s. Re-timed from its start once the scale-ups have timed them
// (hpa_rule.h LagReplay), it spends what the simulator's keda-hpa did over the same seconds,
// weighted as it weighs them (2.4 % above); run on from where the prior had taken it, 14.5 %
// below.
TEST(SimulatorTest, TheLagRulesReplayIsRetimedByWhatWasLearnedLater) {
  const auto replayed = ReplayedAgainstKeda("replay-slow-start.yaml");
  ASSERT_TRUE(replayed);
  EXPECT_NEAR(replayed->startup, 128, 15);
  EXPECT_NEAR(replayed->ratio, 1, 0.04);
}

// The replay reads the lag as the rule does (tests/sim/testdata/ceiling-threshold-edge.yaml,
// issue 18, forty-first round): begun from the daemon's reading, which counts the second's
// arrivals, it added them again before its first sync, and so read every later lag a second's
// arrivals ahead of the rule. On a load whose lag sits on the rule's threshold that ordered a
// third pod twice where keda-hpa kept two: on noise seed 1 the replay spent 10.0 % above
// keda-hpa (weighted as it weighs), and `wait`, let follow the rule's count, 1.080x keda-hpa's
// pod-seconds over the three seeds the report runs. Now 0.0 % and 1.038x.
TEST(SimulatorTest, TheLagRulesReplayReadsTheLagAsTheRuleDoes) {
  const auto replayed = ReplayedAgainstKeda("ceiling-threshold-edge.yaml", 1);
  ASSERT_TRUE(replayed);
  EXPECT_NEAR(replayed->ratio, 1, 0.03);
  const auto summary = WaitAsTheReportJudgesIt("ceiling-threshold-edge.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
  EXPECT_LT(summary->p99_median, kP99AtTheRule) << "p99 " << summary->p99_median << "x keda-hpa's";
}

// The replay assumes no pause it has not timed (tests/sim/testdata/ceiling-pause-untimed.yaml,
// issue 18, forty-fourth round): with RATE_REBALANCE_SECONDS' 5 s where the pods pause 2 s, the
// rule's replayed lag crossed the HPA's tolerance where keda-hpa's did not, and the replay spent
// 1.098x keda-hpa's pod-seconds (weighted as it weighs), `wait` 1.065x over the three seeds the
// report runs. Taking the smallest pause the joins allow, it spends what keda-hpa does.
TEST(SimulatorTest, TheLagRulesReplayAssumesNoPauseItHasNotTimed) {
  const auto replayed = ReplayedAgainstKeda("ceiling-pause-untimed.yaml");
  ASSERT_TRUE(replayed);
  EXPECT_NEAR(replayed->ratio, 1, 0.03);
  const auto summary = WaitAsTheReportJudgesIt("ceiling-pause-untimed.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
}

// Nor a start-up it has not timed later than its bracket's lower end
// (tests/sim/testdata/ceiling-long-tick.yaml, issue 18, forty-sixth round): with a 60 s tick the
// bracket is a minute wide and no join timed S within it for most of the hour; at the bracket's
// middle (30 s, the pods' 10) the replay spent 1.226x keda-hpa's pod-seconds on noise seed 1
// (weighted as it weighs) and `wait` 1.100x over the three seeds the report runs.
TEST(SimulatorTest, TheLagRulesReplayTakesAStartupItHasNotTimedAtItsBracketsLowerEnd) {
  const auto replayed = ReplayedAgainstKeda("ceiling-long-tick.yaml", 1);
  ASSERT_TRUE(replayed);
  EXPECT_LT(replayed->ratio, 1.1);
  const auto summary = WaitAsTheReportJudgesIt("ceiling-long-tick.yaml");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->pod_s_over_5pct, 0) << summary->pod_s_median << "x keda-hpa's";
}

// The lag rule's replay (policy/hpa_rule.h LagShadow), given each second's true arrivals and
// pod rate, spends what the simulator's keda-hpa does on the same load: the ceiling's reference
// is the peer's model, not a second opinion of it: the same count every second.
TEST(SimulatorTest, TheLagRuleReplayedSpendsWhatKedaHpaDoes) {
  for (const char* name : {"steady", "flash-crowd", "ramp", "batch-dumps"}) {
    SCOPED_TRACE(name);
    auto s = LoadScenario(kTraces / (std::string(name) + ".yaml"));
    ASSERT_TRUE(s) << s.error().ToString();
    ASSERT_EQ(s->tick_seconds, 1);
    const Workload w = BuildWorkload(*s);
    auto keda = RunPolicy(*s, w, "keda-hpa");
    ASSERT_TRUE(keda);
    const policy::HpaRule rule = LagRuleOf(*s);
    policy::LagShadow shadow;
    policy::StartLagShadow(0, s->initial_replicas, s->initial_replicas, 0, shadow);
    int differ = 0;  // seconds whose pods differ
    for (size_t k = 0; k < w.arrivals.size(); ++k) {
      policy::AdvanceLagShadow(rule,
                               {.seconds = 1,
                                .arrival_rate = static_cast<double>(w.arrivals[k]),
                                .pod_rate = w.pod_rate[k],
                                .startup = s->pod.startup_seconds,
                                .rebalance = s->pod.rebalance_seconds},
                               shadow);
      if (shadow.pods() != keda->replicas[k]) ++differ;
    }
    EXPECT_EQ(differ, 0);
    EXPECT_NEAR(shadow.rule_pod_seconds, keda->metrics.pod_seconds, 1e-6);
  }
}

// Just above one pod (hand-made, tests/sim/testdata/just-above-one-pod.yaml): 220 msg/s against
// 200 per pod. One pod's wait stays under the target over the prediction's horizon but grows
// without end; `wait` must not go down to it (and come back up) again and again.
TEST(SimulatorTest, WaitNeverScalesDownToACountThatFallsBehind) {
  auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / "just-above-one-pod.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  const Workload w = BuildWorkload(*s);
  auto wait = RunPolicy(*s, w, "wait");
  ASSERT_TRUE(wait);
  EXPECT_LE(wait->metrics.scale_events, 3);
  EXPECT_LE(wait->metrics.p99_wait_seconds, 20);
}

// A minimum above the initial count (tests/sim/testdata/min-above-initial.yaml): the first tick
// changes the count, and while the load piles up every later tick does too. `wait` must still
// learn one pod's rate (a lower bound) and jump to the pods the load needs, as it does when the
// minimum is the initial count — not climb by the seed rule's backlog ÷ MESSAGES_PER_POD.
TEST(SimulatorTest, WaitLearnsThePodsRateWhileTheCountChangesAtEveryTick) {
  auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / "min-above-initial.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  Scenario from_one = *s;
  from_one.autoscaler.min_replicas = 1;
  const Workload w = BuildWorkload(*s);
  auto at_two = RunPolicy(*s, w, "wait");
  auto at_one = RunPolicy(from_one, w, "wait");
  ASSERT_TRUE(at_two && at_one);
  EXPECT_LE(at_two->metrics.p99_wait_seconds, at_one->metrics.p99_wait_seconds + 5);
  EXPECT_LE(at_two->metrics.p99_wait_seconds, 30);
}

// A rebalance pause longer than the target and than RATE_REBALANCE_SECONDS' default
// (tests/sim/testdata/long-rebalance.yaml: 32 s). `wait` measures it from its first scale-down
// and stops the down-pause-up cycle that cost 22 scale events in 30 minutes before.
TEST(SimulatorTest, WaitLearnsALongRebalancePauseAndStopsFlapping) {
  const auto runs = RunTestdata("long-rebalance.yaml", {"keda-hpa", "wait"});
  ASSERT_EQ(runs.size(), 2u);
  const PolicyRun& keda = runs[0];
  const PolicyRun& wait = runs[1];
  EXPECT_LE(wait.metrics.scale_events, 6);
  EXPECT_LT(wait.metrics.p99_wait_seconds, keda.metrics.p99_wait_seconds);
  // Each scale-down would break the target for a whole pause: the pods are kept (at most 5 %
  // above keda-hpa's pod-seconds, which scales down and piles up 84 s of wait).
  EXPECT_LE(wait.metrics.pod_seconds, 1.05 * keda.metrics.pod_seconds);
}

// autoscaler.target_wait_seconds is TARGET_WAIT_SECONDS: the same load replayed with a target of
// 20 s (the default) and of 60 s. The longer target is kept, and it is cheaper. The wait rule
// alone: the cost ceiling holds the count to the lag rule's replay where the budget is spent,
// and then the wait is the rule's at worst (diurnal with it, over 5 noise seeds: p99 21-23 s,
// keda-hpa's 50-51 s; the golden files hold the default).
TEST(SimulatorTest, WaitKeepsTheScenariosTargetWait) {
  auto s = LoadScenario(kTraces / "diurnal.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  ASSERT_EQ(s->autoscaler.target_wait_seconds, 20);
  s->autoscaler.cost_ceiling = 0;
  Scenario relaxed = *s;
  relaxed.autoscaler.target_wait_seconds = 60;
  const Workload w = BuildWorkload(*s);
  auto strict = RunPolicy(*s, w, "wait");
  auto loose = RunPolicy(relaxed, w, "wait");
  ASSERT_TRUE(strict && loose);
  EXPECT_LE(strict->metrics.p99_wait_seconds, 20);
  EXPECT_GT(loose->metrics.p99_wait_seconds, strict->metrics.p99_wait_seconds);
  EXPECT_LE(loose->metrics.p99_wait_seconds, 60);
  EXPECT_LT(loose->metrics.pod_seconds, strict->metrics.pod_seconds);
}

// The daily profile (PREDICT, 4 real days, docs/simulator.md "The daily profile"): identical to
// `wait` while it learns (days 1-2), ready pods before the 08:00 rise on day 3 and a smaller
// backlog in it, at about the same cost; a day that breaks the pattern costs little.
TEST(SimulatorTest, DailyProfilePreScalesTheLearnedRiseAndAWrongDayCostsLittle) {
  // {wait, wait-predict} on a scenario of tests/sim/testdata.
  const auto runs = [](const char* name) -> std::pair<PolicyRun, PolicyRun> {
    auto s = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / name);
    if (!s) return {};
    const Workload w = BuildWorkload(*s);
    auto wait = RunPolicy(*s, w, "wait");
    auto predict = RunPolicy(*s, w, "wait-predict");
    if (!wait || !predict) return {};
    return {*wait, *predict};
  };
  const auto [wait, predict] = runs("daily-4d.yaml");
  constexpr size_t kDay = 86400;
  constexpr size_t kRise = 8 * 3600;
  ASSERT_EQ(predict.replicas.size(), 4 * kDay);
  for (size_t t = 0; t < 2 * kDay; ++t) ASSERT_EQ(wait.replicas[t], predict.replicas[t]) << t;
  EXPECT_LE(wait.replicas[2 * kDay + kRise - 5], 3);
  EXPECT_GE(predict.replicas[2 * kDay + kRise - 5], 15);
  const auto peak = [&](const PolicyRun& r) {
    return *std::max_element(r.backlog.begin() + 2 * kDay + kRise,
                             r.backlog.begin() + 2 * kDay + kRise + 600);
  };
  EXPECT_LT(peak(predict), peak(wait) / 2);
  EXPECT_LE(predict.metrics.pod_seconds, 1.01 * wait.metrics.pod_seconds);

  const auto [wait_b, predict_b] = runs("daily-break.yaml");
  ASSERT_EQ(predict_b.replicas.size(), 4 * kDay);
  EXPECT_LE(predict_b.metrics.pod_seconds, 1.01 * wait_b.metrics.pod_seconds);
  // Scale events within 5 % of `wait`'s over the four days: 537 against 517 (before the
  // thirty-eighth round's loan reach, 540 against 563: `wait` alone changed).
  EXPECT_LE(predict_b.metrics.scale_events, 1.05 * wait_b.metrics.scale_events);
  EXPECT_LE(predict_b.metrics.p99_wait_seconds, wait_b.metrics.p99_wait_seconds);
}

// Issue 18's PREDICT target on batch-dumps: p99 at least 40 % below keda-hpa's. From a cold
// start no predictor that learns from history meets it (the first dumps have none:
// docs/simulator.md, "Why the batch-dumps target needs foresight"); a daemon that ran the hour
// before pre-scales every dump, within keda-hpa's pod-seconds and scale events. Without
// prediction the same history does not get there: the foresight is what does it.
TEST(SimulatorTest, PredictionAfterAnHourOfHistoryMeetsTheBatchDumpsTarget) {
  auto s = LoadScenario(kTraces / "batch-dumps.yaml");
  ASSERT_TRUE(s) << s.error().ToString();
  const auto measure = [](const Scenario& sc) {
    std::map<std::string, Metrics> m;
    const Workload w = BuildWorkload(sc);
    for (const char* p : {"keda-hpa", "wait", "wait-predict"}) {
      auto run = RunPolicy(sc, w, p);
      if (!run) {
        ADD_FAILURE() << p << ": " << run.error().ToString();
        continue;
      }
      m[p] = run->metrics;
    }
    return m;
  };
  auto cold = measure(*s);
  EXPECT_GT(cold["wait-predict"].p99_wait_seconds, 0.6 * cold["keda-hpa"].p99_wait_seconds);
  ASSERT_TRUE(SetHistoryCycles(*s, 1, "history_cycles"));
  auto warm = measure(*s);
  const Metrics& keda = warm["keda-hpa"];
  const Metrics& predict = warm["wait-predict"];
  EXPECT_LE(predict.p99_wait_seconds, 0.6 * keda.p99_wait_seconds);
  EXPECT_LE(predict.pod_seconds, keda.pod_seconds);
  EXPECT_LE(predict.scale_events, keda.scale_events);
  EXPECT_GT(warm["wait"].p99_wait_seconds, 0.6 * keda.p99_wait_seconds);
  EXPECT_EQ(predict.messages, cold["wait-predict"].messages);

  // A restart between the hours (a rolling upgrade): started cold it loses what the history
  // taught; with the learned state kept (LEARNED_STATE_CONFIGMAP) it keeps the warm hour's gain.
  s->restart_after_history = Scenario::Restart::kCold;
  auto restarted_cold = measure(*s);
  EXPECT_GT(restarted_cold["wait-predict"].p99_wait_seconds, 0.6 * keda.p99_wait_seconds);
  s->restart_after_history = Scenario::Restart::kKept;
  auto restarted_kept = measure(*s);
  EXPECT_LE(restarted_kept["wait-predict"].p99_wait_seconds, 0.6 * keda.p99_wait_seconds);
  EXPECT_LE(restarted_kept["wait-predict"].pod_seconds, keda.pod_seconds);
  EXPECT_EQ(restarted_kept["keda-hpa"].p99_wait_seconds, keda.p99_wait_seconds);  // not restarted
}

// The speed of a one-hour replay is measured by bench/sim_replay (not here: a loaded machine
// would break an upper time bound).

// `got` equals the committed file at `path`; with KA_UPDATE_GOLDEN set, (re)writes it instead.
void CompareWithGolden(const std::filesystem::path& path, const std::string& got) {
  if (std::getenv("KA_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << got;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << "missing " << path << "; run with KA_UPDATE_GOLDEN=1";
  std::stringstream want;
  want << in.rdbuf();
  EXPECT_EQ(got, want.str()) << "regenerate with KA_UPDATE_GOLDEN=1 if the change is intended";
}

// Every shared trace replays to the committed summary, per policy. A policy or model change
// that moves a number shows up here and in review. Regenerate with KA_UPDATE_GOLDEN=1.
TEST(GoldenTest, SharedTracesReplayToTheCommittedSummaries) {
  const bool update = std::getenv("KA_UPDATE_GOLDEN") != nullptr;
  int checked = 0;
  for (const char* name : {"batch-dumps", "diurnal", "flash-crowd", "ramp", "steady"}) {
    SCOPED_TRACE(name);
    auto s = LoadScenario(kTraces / (std::string(name) + ".yaml"));
    ASSERT_TRUE(s) << s.error().ToString();
    const Workload w = BuildWorkload(*s);
    std::vector<PolicyRun> runs;
    for (const auto& p : KnownPolicies()) {
      auto run = RunPolicy(*s, w, p);
      ASSERT_TRUE(run) << run.error().ToString();
      runs.push_back(std::move(*run));
    }
    CompareWithGolden(kGolden / (std::string(name) + ".csv"), SummaryCsv(*s, runs));
    if (!update) ++checked;
  }
  if (!update) {
    EXPECT_EQ(checked, 5);
  }
}

// Issue 17 item 7: a trickle after idle. The scenario's activation_backlog (20) keeps the
// Deployment at 0 while the trickle piles up and wakes it only past 20 messages; the same
// scenario with activation_backlog 0 (the seed's rule) wakes a pod at the first message and
// keeps it for the whole trickle. Both rows are committed (KA_UPDATE_GOLDEN=1 regenerates).
TEST(GoldenTest, TrickleAfterIdleShowsActivation) {
  auto with = LoadScenario(std::filesystem::path(KA_SIM_TESTDATA_DIR) / "trickle-after-idle.yaml");
  ASSERT_TRUE(with) << with.error().ToString();
  ASSERT_EQ(with->autoscaler.activation_backlog, 20);
  Scenario without = *with;
  without.autoscaler.activation_backlog = 0;
  const Workload w = BuildWorkload(*with);
  auto off = RunPolicy(without, w, "messages");
  auto on = RunPolicy(*with, w, "messages");
  ASSERT_TRUE(off && on);
  off->policy = "messages activation_backlog=0";
  on->policy = "messages activation_backlog=20";
  // The trickle (1200-3000 s) at 0 pods with activation; without, one pod from its first message.
  auto pods_at = [](const PolicyRun& r, size_t t) { return r.replicas.at(t); };
  EXPECT_EQ(pods_at(*on, 1300), 0);
  EXPECT_EQ(pods_at(*off, 1300), 1);
  EXPECT_LT(on->metrics.pod_seconds, off->metrics.pod_seconds);
  EXPECT_GT(on->metrics.max_wait_seconds, off->metrics.max_wait_seconds);  // the price

  CompareWithGolden(kGolden / "trickle-after-idle.csv", SummaryCsv(*with, {*off, *on}));
}

// Issue 17 items 2 and 7: a stuck partition (scenarios/stuck-partition.yaml). Partition 2 stops
// committing from 600 s to 2400 s while the others advance; its lag grows 10 msg/s. With
// exclude_stuck_lag the daemon's StuckTracker (stuck_after_seconds 120) takes it out of the
// scale-up rule and the Deployment goes back to min_replicas (3), which carries the rest; without
// it (the seed's rule) the stuck lag holds max_replicas (6) for the rest of the episode. Before
// detection (600-720 s) the stuck lag still counts in both runs: they reach 6 there alike.
// Both rows are committed (KA_UPDATE_GOLDEN=1 regenerates).
TEST(GoldenTest, StuckPartitionShowsExcludeStuckLag) {
  auto with = LoadScenario(kTraces / "stuck-partition.yaml");
  ASSERT_TRUE(with) << with.error().ToString();
  ASSERT_TRUE(with->autoscaler.exclude_stuck_lag);
  Scenario without = *with;
  without.autoscaler.exclude_stuck_lag = false;
  const Workload w = BuildWorkload(*with);
  auto off = RunPolicy(without, w, "messages");
  auto on = RunPolicy(*with, w, "messages");
  ASSERT_TRUE(off && on);
  off->policy = "messages exclude_stuck_lag=false";
  on->policy = "messages exclude_stuck_lag=true";
  auto max_between = [](const PolicyRun& r, size_t from, size_t to) {
    return *std::max_element(r.replicas.begin() + static_cast<std::ptrdiff_t>(from),
                             r.replicas.begin() + static_cast<std::ptrdiff_t>(to));
  };
  // Before the episode both runs are the same.
  EXPECT_EQ(max_between(*on, 0, 600), max_between(*off, 0, 600));
  // Stuck from 600 s, detected by 600 + 120 + one interval; then 1,000 s later:
  EXPECT_EQ(max_between(*off, 1000, 2400), 6) << "the seed's rule: the stuck lag holds max";
  EXPECT_EQ(max_between(*on, 1000, 2400), 3) << "excluded: min_replicas carries the others";
  // The pile of the stuck partition (~18,000) is in the backlog either way, and drains after.
  EXPECT_GT(on->backlog.at(2399), 17000);
  EXPECT_LT(on->metrics.pod_seconds, off->metrics.pod_seconds);

  CompareWithGolden(kGolden / "stuck-partition.csv", SummaryCsv(*with, {*off, *on}));
}

// Issue 17 item 1: TARGET_LAG_SECONDS. scenarios/time-lag.yaml (a generous MESSAGES_PER_POD)
// replayed with its target_lag_seconds (20) and without (0, the message rule alone): the target
// keeps message waits lower at the price of more pod-seconds. Both rows are committed
// (KA_UPDATE_GOLDEN=1 regenerates).
TEST(GoldenTest, TimeLagTargetKeepsTheOldestMessageYounger) {
  auto with = LoadScenario(kTraces / "time-lag.yaml");
  ASSERT_TRUE(with) << with.error().ToString();
  ASSERT_EQ(with->autoscaler.target_lag_seconds, 20);
  Scenario without = *with;
  without.autoscaler.target_lag_seconds = 0;
  const Workload w = BuildWorkload(*with);
  auto off = RunPolicy(without, w, "messages");
  auto on = RunPolicy(*with, w, "messages");
  ASSERT_TRUE(off && on);
  off->policy = "messages target_lag_seconds=0";
  on->policy = "messages target_lag_seconds=20";
  EXPECT_LT(on->metrics.p99_wait_seconds, off->metrics.p99_wait_seconds);
  EXPECT_LT(on->metrics.max_wait_seconds, off->metrics.max_wait_seconds);
  EXPECT_GT(on->metrics.pod_seconds, off->metrics.pod_seconds);  // the price

  CompareWithGolden(kGolden / "time-lag.csv", SummaryCsv(*with, {*off, *on}));
}

}  // namespace
}  // namespace kafka_autoscaler::sim
