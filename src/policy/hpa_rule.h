// The lag rule as KEDA's Kafka scaler and a HorizontalPodAutoscaler run it: the rule most of our
// users run today. Two users: the simulator's keda-hpa peer (sim/keda_hpa.h, which lists each
// rule and where it comes from) and the wait policy's cost ceiling (COST_CEILING,
// policy/wait_policy.cc "10."), which replays the rule on the load it measured to know what it
// would have spent. Pure and not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace kafka_autoscaler::policy {

struct HpaRule {
  int64_t lag_threshold = 0;  // lagThreshold = MESSAGES_PER_POD
  int32_t min_replicas = 1;   // minReplicaCount
  int32_t max_replicas = 1;   // maxReplicaCount
  int32_t partitions = 0;     // of the topic, for the partition cap
  bool allow_idle_consumers = false;
  double polling_seconds = 30;    // pollingInterval
  double cooldown_seconds = 300;  // cooldownPeriod (only with min_replicas 0)
  double hpa_sync_seconds = 15;
  double tolerance = 0.1;
  double scale_down_window_seconds = 300;
  double scale_up_period_seconds = 15;
  int32_t scale_up_pods = 4;
  double scale_up_percent = 100;
  bool cached_metrics = false;  // useCachedMetrics
};

// One HPA's memory: its recommendations within the scale-down window and its changes within
// the scale-up period (both bounded by window / sync period: 21 and 2 at the defaults), oldest
// first. Vectors, not deques: a deque's first block is 512 bytes however little it holds, and
// the wait policy's replay carries one of these per phase of the rule's clock.
struct HpaMemory {
  struct Recommendation {
    double at;
    int32_t replicas;
  };
  std::vector<Recommendation> recommendations;
  struct ScaleEvent {
    double at;
    int32_t change;  // + added, − removed
  };
  std::vector<ScaleEvent> events;
};

// The metric KEDA reports for a total lag (the partition cap, sim/keda_hpa.h rule 2).
[[nodiscard]] int64_t HpaCappedLag(const HpaRule& rule, int64_t total_lag);
// The HPA's replica proposal for a metric value and the current spec (rule 5).
[[nodiscard]] int32_t HpaProposal(const HpaRule& rule, int64_t metric, int32_t spec_replicas);
// One HPA sync at `now` (seconds): the count it sets (rules 5-7), remembered as a change when
// it differs from `current`. Not for spec 0 (the HPA is disabled there).
[[nodiscard]] int32_t HpaSync(const HpaRule& rule, HpaMemory& memory, double now, int64_t metric,
                              int32_t current);
// What an HPA of this rule would keep for a group whose metric and count are `metric` and
// `current` at `now`, when the count is not its to change: the proposal, held down by the
// highest recommendation still in the scale-down window (rules 5 and 6, no rate limits; the
// recommendation is remembered), within minReplicaCount (at least 1) and maxReplicaCount.
[[nodiscard]] int32_t HpaStabilized(const HpaRule& rule, HpaMemory& memory, double now,
                                    int64_t metric, int32_t current);

// The lag rule replayed on the load the wait policy measured (COST_CEILING; wait_policy.cc
// "10."): a fluid queue fed the arrivals each tick saw, drained by the pods the rule would have
// had — they start, pause the group on every change and consume at the learned rate one pod
// has, as the simulator's deployment does (sim/sim_world.h) — with KEDA's poll and the HPA's
// sync on their own periods. It keeps the pod-seconds the rule would have spent and the ones
// the policy spent, both weighted down by exp(−age / τ). Bounded: `starting` holds at most one
// group per HPA sync within a start-up.
struct LagShadow {
  double t = 0;      // seconds since the replay began
  double phase = 0;  // the second of the rule's first HPA sync and KEDA poll (its clock's phase)
  double queue = 0;  // messages waiting under the rule's pods
  int32_t ready = 0;
  std::vector<std::pair<double, int32_t>> starting;  // (ready at, pods), oldest first
  double paused_until = 0;
  double next_poll = 0;
  double next_sync = 0;
  double active_at = 0;  // KEDA's last poll that saw lag (minReplicaCount 0 only)
  // The queue already holds the arrivals of second t: it began from a reading of the lag, which
  // counts what has arrived up to the reading (a daemon's tick; the simulator reads after the
  // second's arrivals, before its consumption). The first second adds none, so that the rule's
  // syncs read the lag of the second they are in, as the rule does, not a second's arrivals
  // ahead of it (where the rule's lag sits on a threshold, that second's arrivals ordered a pod).
  bool arrived = false;
  HpaMemory hpa;
  double rule_pod_seconds = 0;  // weighted
  double own_pod_seconds = 0;   // weighted
  [[nodiscard]] int32_t pods() const;
};

// What one tick tells the replay.
struct LagShadowStep {
  double seconds = 0;       // since the previous tick
  double arrival_rate = 0;  // msg/s over them
  double pod_rate = 0;      // one pod's rate (msg/s)
  double startup = 0;       // a new pod's start-up (s)
  double rebalance = 0;     // the pause a change of the ready set causes (s)
  int32_t own_pods = 0;     // the policy's pods over those seconds
  double tau = 0;           // weighting time constant (s)
};

// Starts the replay from the group as it is: `backlog` waiting, `pods` of which `ready` are.
// `read`: the backlog is a reading of the lag at second 0 (LagShadow::arrived); otherwise the
// replay starts before second 0's arrivals. The rule first syncs and polls at second `phase`.
void StartLagShadow(int64_t backlog, int32_t pods, int32_t ready, double startup, LagShadow& shadow,
                    bool read = false, double phase = 0);
// Runs the rule second by second over the step's seconds (at most kMaxLagShadowSeconds).
void AdvanceLagShadow(const HpaRule& rule, const LagShadowStep& step, LagShadow& shadow);
inline constexpr double kMaxLagShadowSeconds = 3600;
// The pod-seconds the rule is bound to spend over the next `seconds` whatever the load does
// from now on: its scale-down window keeps the highest recommendation within it — `proposal`,
// the one its next sync makes, among them — so its count (at most the higher of its pods and
// that proposal) falls only as they age out, and never below minReplicaCount (the HPA's floor
// of 1 included).
[[nodiscard]] double LagShadowCommitted(const HpaRule& rule, const LagShadow& shadow,
                                        int32_t proposal, double seconds);
// What the rule's next sync (at most a sync period away) proposes for the replay's lag.
[[nodiscard]] int32_t LagShadowProposal(const HpaRule& rule, const LagShadow& shadow);

// The replay with what it was fed over its first kLagReplayLogSeconds, so that it can run again
// from its start when the start-up and pause it ran with were a prior or a bracket's lower end
// (the wait policy learns them from its own scale-ups, wait_policy.cc 3 and 3c). The rule's
// first minutes — when its pods came, what its window then held — set what it spends for the
// rest of the run. Each tick keeps the per-pod rate it was fed (a rate learned later is not
// applied to the past: under the pods' own noise it moves tick to tick). After those seconds
// the log is dropped and the replay runs on with each new timing from where it is.
// The rule's clocks are not ours: an HPA syncs every 15 s from when its controller started,
// KEDA polls from when its operator did, and where a burst falls between two syncs sets what
// the rule orders for it (a sync that reads a burst's lag at its height orders more pods than
// one that reads it after the pods drained part of it, and its window keeps them). The replay
// runs the rule at kLagReplayPhases phases spread over its sync period, each fed the same
// ticks; the cost ceiling spends against the cheapest (CheapestLagShadow).
// Bounded: one entry of 16 bytes per tick of the log's seconds, and the phases' shadows.
inline constexpr std::size_t kLagReplayPhases = 3;
struct LagReplay {
  struct Fed {
    float seconds = 0;
    float arrival_rate = 0;
    float pod_rate = 0;
    int32_t own_pods = 0;
  };
  std::array<LagShadow, kLagReplayPhases> shadows;  // phase k: k / kLagReplayPhases of a sync
  int64_t backlog = 0;  // the group when the replay began
  int32_t pods = 0;
  int32_t ready = 0;
  double tau = 0;      // the shadow's weighting time constant (s)
  double startup = 0;  // the timing the shadow ran with
  double rebalance = 0;
  std::vector<Fed> fed;  // the ticks since it began; empty once closed
  double fed_seconds = 0;
  bool closed = false;
  // The rule's recommendations for the policy's own lag over its scale-down window, in the
  // shadow's seconds (HpaStabilized; one a tick): what the rule would keep for the lag the
  // policy has, which a re-run of the shadow does not change.
  HpaMemory on_our_lag;
};
inline constexpr double kLagReplayLogSeconds = 3600;
// A change of the start-up or pause smaller than this does not run the replay again.
inline constexpr double kLagReplayRetimeSeconds = 1;
// Starts the replay from the group as it is (StartLagShadow), with a first timing, its shadows'
// phases spread over the rule's sync period.
void StartLagReplay(const HpaRule& rule, int64_t backlog, int32_t pods, int32_t ready,
                    double startup, double rebalance, double tau, LagReplay& replay);
// Runs a tick (its seconds, arrivals, per-pod rate and our pods; the start-up and pause are the
// replay's own) and logs it while the log is open.
void AdvanceLagReplay(const HpaRule& rule, const LagReplay::Fed& tick, LagReplay& replay);
// The timing learned by now. While the log is open, a timing that differs from the replay's by
// kLagReplayRetimeSeconds or more runs the replay again from its start on what it was fed
// (returns whether it did); a smaller change waits until the difference adds up. Once the log
// has closed, the timing applies from now on.
bool RetimeLagReplay(const HpaRule& rule, double startup, double rebalance, LagReplay& replay);
// The phase whose shadow has spent (weighted), and is bound to spend over the next `seconds`
// (LagShadowCommitted with its next proposal), the least; the first of equals. With that
// proposal and that spend, so that the ceiling does not reckon them again.
struct CheapestShadow {
  const LagShadow* shadow = nullptr;
  int32_t proposal = 0;  // LagShadowProposal
  double spend = 0;      // rule_pod_seconds + LagShadowCommitted(proposal, seconds)
};
[[nodiscard]] CheapestShadow CheapestLagShadow(const HpaRule& rule, const LagReplay& replay,
                                               double seconds);

// The ratio of the replay's spend the cost ceiling allows, from COST_CEILING c. A c below 1 is
// a margin for the replay's error; the pods' own noise (σ_μ, relative to μ) makes the replay err
// low — it drains at the mean rate while the rule's lag grows in the pods' slow spells and
// orders more — so the margin narrows by kNoiseMarginPerSigma · σ_μ, never past 1. A c of 1 or
// above is the user's and is kept.
inline constexpr double kNoiseMarginPerSigma = 0.25;
[[nodiscard]] double CeilingRatio(double cost_ceiling, double mu_sigma);

}  // namespace kafka_autoscaler::policy
