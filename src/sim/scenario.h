// Scenario: a workload to replay in `simulate` (SPEC.md section 7), loaded from YAML and
// validated like configuration: every problem is listed at once (Error::details, one line per
// problem naming the key, the value and what is allowed), so `simulate` can print them all and
// exit 2. Plain data, copyable; no I/O after loading.
//
// Optional keys beyond SPEC §7 (each with its default):
//   threshold                      MESSAGE_COUNT_THRESHOLD for "seconds above threshold";
//                                  default 1000 (the seed's default). Also accepted as
//                                  autoscaler.message_count_threshold (not both).
//   autoscaler.idle_replicas       IDLE_REPLICAS; default = min_replicas, so that no policy goes
//                                  below the floor KEDA's minReplicaCount keeps.
//   autoscaler.min_ttl_seconds     MIN_TTL_SECONDS; default 300.
//   autoscaler.target_drain_seconds TARGET_DRAIN_SECONDS of the rate policy; default: its own.
//   autoscaler.scale_down_window_seconds  RATE_SCALE_DOWN_WINDOW_SECONDS; default: its own.
//   autoscaler.activation_backlog  ACTIVATION_BACKLOG; default 0 (any backlog wakes idle).
//   autoscaler.stuck_after_seconds STUCK_AFTER_SECONDS; default 300.
//   autoscaler.exclude_stuck_lag   EXCLUDE_STUCK_LAG (true|false); default false.
//   stuck_partition                {partition, from_seconds, until_seconds}: a stuck partition
//                                  (sim_world.h, "Stuck partition"); default none.
//   autoscaler.target_lag_seconds  TARGET_LAG_SECONDS; default 0 (off).
//   autoscaler.target_wait_seconds TARGET_WAIT_SECONDS of `wait` / `wait-predict`; default 20.
//   autoscaler.cost_ceiling        COST_CEILING of `wait` / `wait-predict`; default 0.9 (0 = off).
//   history_cycles                 cycles of the same load replayed before the measured one
//                                  (also `simulate --history N`); default 0.
//   pod.rate_changes               [[t_seconds, messages_per_second], ...]: one pod's rate
//                                  from each t on (steps); default none.
//   pod.rate_noise                 σ of a factor on every pod's rate (0..0.3), shared by all pods
//                                  (a slower downstream slows them all); default 0.
//   pod.rate_noise_seconds         how long each draw of that factor holds; default 30.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace kafka_autoscaler::sim {

inline constexpr int64_t kDefaultThreshold = 1000;  // MESSAGE_COUNT_THRESHOLD's seed default

struct LoadPoint {
  double t_seconds = 0;
  double messages_per_second = 0;
};

struct PodModel {
  double messages_per_second = 0;  // what one ready pod processes
  double startup_seconds = 0;      // from creation to ready
  double rebalance_seconds = 0;    // consumption pauses on every change of the consumer set
  // Steps of that rate (a new image, a slower downstream): from each t_seconds of the measured
  // cycle on, one pod processes its messages_per_second. Strictly increasing t; empty: none.
  std::vector<LoadPoint> rate_changes;
  // What consumption really does: every pod's rate times a factor 1 + rate_noise × N(0, 1)
  // (clamped to ±3σ), drawn anew every rate_noise_seconds (seeded by the scenario's seed, apart
  // from the load's noise) and shared by all pods. 0: none.
  double rate_noise = 0;
  double rate_noise_seconds = 30;
};

struct AutoscalerKnobs {
  int64_t messages_per_pod = 0;  // MESSAGES_PER_POD; keda-hpa's lagThreshold
  int32_t min_replicas = 1;
  int32_t max_replicas = 1;
  int64_t interval_seconds = 0;  // our reconcile interval; keda-hpa keeps 30 s / 15 s
  int64_t message_count_threshold = kDefaultThreshold;
  int32_t idle_replicas = 1;
  int64_t min_ttl_seconds = 300;
  std::optional<int64_t> target_drain_seconds;
  std::optional<int64_t> scale_down_window_seconds;
  int64_t activation_backlog = 0;  // ACTIVATION_BACKLOG (0 = any backlog wakes an idle target)
  int64_t stuck_after_seconds = 300;  // STUCK_AFTER_SECONDS
  bool exclude_stuck_lag = false;     // EXCLUDE_STUCK_LAG
  int64_t target_lag_seconds = 0;     // TARGET_LAG_SECONDS (0 = off)
  int64_t target_wait_seconds = 20;   // TARGET_WAIT_SECONDS of the wait policy
  double cost_ceiling = 0.9;          // COST_CEILING of the wait policy (0 = off)
};

// One partition whose consumer stops committing (a poison message) in [from, until).
struct StuckEpisode {
  int32_t partition = 0;
  double from_seconds = 0;
  double until_seconds = 0;
};

struct Scenario {
  std::string name;
  double duration_seconds = 0;
  double tick_seconds = 1;
  int32_t partitions = 0;
  int32_t initial_replicas = 0;
  PodModel pod;
  std::vector<LoadPoint> load;  // strictly increasing t; linear between points, flat outside
  double noise = 0;             // multiplicative, standard deviation of the factor (seeded)
  uint64_t seed = 0;
  AutoscalerKnobs autoscaler;
  // When the keda-hpa peer's clocks run (keda_hpa.phase_seconds, 0 <= phase < 30, a whole
  // number of ticks): KEDA polls at phase + 30 k and the HPA syncs at phase + 15 k seconds of
  // the run, for every whole k (negative too). A real HPA's sync runs on the
  // controller manager's clock, in no fixed phase with the load or with our own ticks; 0 (the
  // default) has it sync on the same seconds as our reconciler's 15 s ticks.
  double keda_phase_seconds = 0;
  std::optional<StuckEpisode> stuck_partition;
  // A daemon that has run before: the load repeats every duration_seconds, and the replay runs
  // this many cycles of it before the measured one. The policies run through them and keep
  // what they learned; every measure, the timeline and the decisions cover the last cycle only,
  // on its own clock (0 .. duration_seconds). 0 = the daemon starts with the measured cycle.
  int32_t history_cycles = 0;
  // `simulate --restart cold|kept` (with history): the daemon restarts between the history and
  // the measured cycle, starting cold or with the learned state it kept (LEARNED_STATE_CONFIGMAP,
  // policy/learned_state.h). Policies that run through the Reconciler only (keda-hpa and
  // reactive-bound keep their state).
  enum class Restart { kNone, kCold, kKept };
  Restart restart_after_history = Restart::kNone;

  // The noise-free production rate at `t_seconds` (linear interpolation); with history_cycles,
  // `t_seconds` is taken within its cycle.
  [[nodiscard]] double RateAt(double t_seconds) const;
  // What one ready pod processes at `t_seconds` of the replay (history included): the last of
  // pod.rate_changes at or before it, on the measured cycle's clock (history runs at the
  // base rate), else pod.messages_per_second.
  [[nodiscard]] double PodRateAt(double t_seconds) const;
  int64_t TickCount() const;      // simulation steps in one cycle: the measured window
  int64_t HistoryTicks() const;   // steps before it: history_cycles × TickCount()
  int64_t IntervalTicks() const;  // steps between two ticks of our reconciler
};

inline constexpr int32_t kMaxHistoryCycles = 100;
// Sets history_cycles; kInvalidArgument (naming `what`) outside 0..kMaxHistoryCycles or when the
// whole replay would exceed 1e7 steps.
[[nodiscard]] Result<void> SetHistoryCycles(Scenario& s, int64_t cycles, const std::string& what);

inline constexpr double kKedaPhaseLimit = 30;  // KEDA's polling interval
// Sets keda_phase_seconds; kInvalidArgument (naming `what`) outside [0, kKedaPhaseLimit) or when
// not a whole number of tick_seconds.
[[nodiscard]] Result<void> SetKedaPhase(Scenario& s, double seconds, const std::string& what);

// Parses YAML text. `base_dir` resolves a relative load_csv path. On failure: kInvalidArgument
// with one detail line per problem.
[[nodiscard]] Result<Scenario> ParseScenario(const std::string& yaml_text,
                                             const std::filesystem::path& base_dir);
// The scenario as YAML that ParseScenario reads back to an equal Scenario (numbers written
// exactly; load inline; every autoscaler knob explicit). `simulate --generate` writes each
// generated scenario this way so that any one of them can be replayed alone.
[[nodiscard]] std::string ScenarioYaml(const Scenario& s);
// Reads and parses a file (kNotFound when it cannot be read).
[[nodiscard]] Result<Scenario> LoadScenario(const std::filesystem::path& path);

}  // namespace kafka_autoscaler::sim
