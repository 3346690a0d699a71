// The `simulate` command: load a scenario, replay it against each policy, print a comparison
// table, write <out>/<name>.csv (summary, one row per policy), <out>/<name>-timeline.csv (load,
// backlog and replicas per step), <out>/<name>.svg (one chart: load, backlog, replicas) and,
// when a policy ran through the Reconciler, <out>/<name>-decisions.csv (each tick's decision).
// main.cc wires flags to SimulateOptions and returns RunSimulate's value as the exit status.
// RunSimulate keeps no state between calls; calls on different threads do not interact.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/scenario.h"
#include "sim/simulator.h"

namespace kafka_autoscaler::sim {

struct SimulateOptions {
  std::filesystem::path scenario;             // --scenario FILE.yaml (required)
  std::vector<std::string> policies;          // --policy NAME, repeatable; empty = KnownPolicies()
  std::filesystem::path out_dir = "sim-out";  // --out DIR; created when missing
  // --seeds N: replay N noise seeds (the scenario's seed, +1, ...) and report, per policy and
  // measure, the median and the worst seed. 1 = the scenario's seed only.
  int seeds = 1;
  // --generate FAMILY --count N --seed S: instead of --scenario, generate N scenarios
  // (sim/generate.h), replay each with `seeds` noise seeds (default 3 here) and print the
  // report against keda-hpa; writes <out>/generated-<FAMILY>.csv (one row per replay) and
  // <out>/scenarios/<NAME>.yaml (each scenario as replayed, for --scenario).
  std::string generate;
  int count = 200;
  uint64_t generate_seed = 1;
  // --target-wait SECONDS | lag-threshold: TARGET_WAIT_SECONDS of `wait` / `wait-predict` for
  // every scenario replayed, instead of each scenario's autoscaler.target_wait_seconds.
  // "lag-threshold" gives each scenario the wait its MESSAGES_PER_POD stands for: keda-hpa's
  // lagThreshold ÷ one pod's rate, the seconds of work per pod it lets build before adding one.
  // Empty = each scenario's own.
  std::string target_wait;
  // --history N: every scenario replayed runs N cycles of its load before the measured one (a
  // daemon that has run before; Scenario::history_cycles). -1 = each scenario's own.
  int64_t history = -1;
  // --keda-phase SECONDS: the keda-hpa peer's clocks run in this phase in every scenario
  // replayed (Scenario::keda_phase_seconds). None = each scenario's own.
  std::optional<double> keda_phase;
  // --restart cold|kept: a restart between the history and the measured cycle
  // (Scenario::restart_after_history); needs a history. Empty = none.
  std::string restart;
};

// Applies SimulateOptions::target_wait to `s`; kInvalidArgument for anything but a whole number
// of seconds within 1..604800 or "lag-threshold".
[[nodiscard]] Result<void> ApplyTargetWait(Scenario& s, const std::string& target_wait);

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 2;  // invalid scenario or unknown policy
inline constexpr int kExitIo = 1;       // outputs could not be written

// Runs the command. Returns kExitOk, kExitInvalid (every problem printed on `err`), or kExitIo.
int RunSimulate(const SimulateOptions& options, std::ostream& out, std::ostream& err);

// The --seeds table: per policy, median and worst (highest) seed of p99, pod-seconds, events.
[[nodiscard]] std::string SeedsTable(const std::vector<std::vector<PolicyRun>>& per_seed);

// The decisions of the runs that went through the Reconciler (PolicyRun::decisions): a header
// `t_seconds,policy,<every span attribute seen, in first-seen order>`, then one row per tick per
// policy (an attribute a tick did not set is empty).
[[nodiscard]] std::string DecisionsCsv(const std::vector<PolicyRun>& runs);
// The summary of several runs of one scenario: a header line, then one row per policy.
[[nodiscard]] std::string SummaryCsv(const Scenario& scenario, const std::vector<PolicyRun>& runs);
// The same as an aligned text table.
[[nodiscard]] std::string SummaryTable(const Scenario& scenario,
                                       const std::vector<PolicyRun>& runs);
// The chart of the runs (load, backlog per policy, replicas per policy and the clairvoyant).
[[nodiscard]] std::string ScenarioSvg(const Scenario& scenario, const Workload& workload,
                                      const std::vector<PolicyRun>& runs);

}  // namespace kafka_autoscaler::sim
