// Generated scenarios and the generalisation report (`simulate --generate FAMILY --count N
// --seed S`). The five shared scenarios are what policies are tuned on; these are what they are
// judged on. Each family draws its parameters from a seeded generator, so the same
// (family, count, seed) always gives the same scenarios, on every platform (mt19937_64 and our
// own uniform; no std distributions, whose output differs between standard libraries).
//
// Families (every scenario: 3600 s at 1 s steps, autoscaler interval 15 s, min 1 pod, max =
// partitions, MESSAGES_PER_POD = per-pod rate × U(10, 60) s — what a user might set — and a
// per-pod rate, start-up and rebalance drawn per scenario; C = partitions × per-pod rate is the
// capacity the partitions allow):
//   heavy-tail      base U(5, 20) % of C; bursts at exponential gaps (mean U(200, 600) s), each
//                   base × Pareto(α 1.5) (capped at 2 C), lasting U(10, 120) s
//   jitter          a slow sine around U(20, 60) % of C; noise 0.1, 0.25 or 0.5 (by index)
//   idle-gaps       on (U(10, 60) % of C for U(120, 600) s) / off (0 for U(120, 900) s)
//   periodic        batches of U(50, 300) % of C for U(5, 30) s every U(300, 1200) s
//   overload        base U(20, 50) % of C, then U(110, 180) % of C for U(120, 600) s, then back
//   slow-start      random levels (a new level U(5, 80) % of C every U(120, 600) s); start-up
//                   U(60, 180) s
//   fast-start      random levels; start-up U(1, 8) s
//   few-partitions  random levels; 1 to 4 partitions
//   many-partitions random levels; 64, 96 or 128 partitions
// `all` deals the count round-robin over the nine families above (unchanged since the first
// report, so every documented seed replays the same). `more` (added in round 16, with `wait`
// frozen at c1676f2) deals over five load shapes that none of the policies was ever looked at
// on; the common draws are the same:
//   ramps           linear moves between random levels (U(5, 80) % of C), each over U(120, 900) s,
//                   held U(0, 300) s
//   spike-decay     base U(5, 20) % of C; at exponential gaps (mean U(400, 1200) s) a jump to
//                   U(50, 150) % of C that decays back exponentially (time constant U(20, 200) s)
//   sawtooth        linear rises from U(5, 20) % to U(40, 100) % of C over U(300, 900) s, each
//                   followed by a drop back within 2 s
//   trend           the hour grows from U(5, 20) % to U(50, 100) % of C (or shrinks, one time in
//                   two), with a wave of ±U(0, 20) % over U(600, 1800) s on it
//   mixed           a wave ±40 % around U(20, 50) % of C (period U(1200, 3600) s) with batches of
//                   U(50, 200) % of C for U(5, 30) s every U(300, 900) s on top
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace kafka_autoscaler::sim {

const std::vector<std::string>& GeneratorFamilies();  // what "all" deals over
const std::vector<std::string>& MoreFamilies();       // what "more" deals over
// Families in neither (pod-shift: one pod's rate changes within the hour), so that "all" and
// "more" keep the scenarios of their seeds.
const std::vector<std::string>& StandaloneFamilies();

// `count` scenarios of `family` (or "all", "more") from `seed`. kInvalidArgument for an unknown
// family.
[[nodiscard]] Result<std::vector<Scenario>> GenerateScenarios(const std::string& family, int count,
                                                              uint64_t seed);

// One replay in the report's table: a generated scenario, a noise seed, a policy.
struct CaseResult {
  std::string scenario;  // name; the family is the part before the last '-'
  std::string policy;
  int noise_seed = 0;
  Metrics metrics;
};

// Against keda-hpa, per policy. Per scenario, each measure is the median over its noise seeds;
// a scenario is a win when the policy's p99, pod-seconds and scale events are ALL strictly
// lower than keda-hpa's. Ratios are policy ÷ keda-hpa per scenario (scale events: both + 1,
// so that 0 vs 0 is 1); median and worst (largest) over scenarios.
struct PolicySummary {
  std::string policy;
  int scenarios = 0;
  int wins = 0;             // beats keda-hpa on all three
  int pod_s_over_5pct = 0;  // pod-seconds more than 5 % above keda-hpa's
  double p99_median = 0, p99_worst = 0;
  double pod_s_median = 0, pod_s_worst = 0;
  double events_median = 0, events_worst = 0;
  std::map<std::string, std::pair<int, int>> family_wins;  // family → (wins, scenarios)
};
[[nodiscard]] std::vector<PolicySummary> SummarizeAgainstKeda(const std::vector<CaseResult>& table);
[[nodiscard]] std::string ReportTable(const std::vector<PolicySummary>& summaries);

// Replays every scenario × noise seed (seed, seed + 1, ...) × policy. keda-hpa is always run.
[[nodiscard]] Result<std::vector<CaseResult>> RunGenerated(
    const std::vector<Scenario>& scenarios, int noise_seeds,
    const std::vector<std::string>& policies);

// The median of `v` (the mean of the two middle values for an even count); 0 when empty.
double Median(std::vector<double> v);

}  // namespace kafka_autoscaler::sim
