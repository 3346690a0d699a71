// Decide(): the scaling rule. Pure: everything it needs arrives in its arguments (including
// `now`), and everything it concludes leaves in the Decision (including the next PolicyState).
// It reads no clock, logs nothing and does no I/O. The daemon, `demo` and `simulate` all call
// this one function; there is no second copy of the rule anywhere.
//
// The seed rule (PolicyKind::kMessages), in order:
//   1. recommended = ceil(backlog / messages_per_pod)                      (reason: backlog)
//   2. idle: backlog 0 for min_ttl (or the Deployment already at/below idle_replicas with
//      backlog 0) → idle_replicas; backlog 0 for less → min_replicas;
//      any backlog → at least min_replicas at once                         (idle, idle_pending)
//      activation (activation_backlog > 0): a Deployment at/below idle_replicas stays there
//      while 0 < backlog <= activation_backlog (a predicted burst still wakes it)
//                                                                          (below_activation)
//      invalid commit (invalid_commit_partitions > 0): never idle — with zero backlog hold at
//      the current count, never below min_replicas, and no activation hold; the idle timer
//      restarts when the commits are valid again                           (invalid_commit)
//      never committed (no_commits, unless scale_on_uncommitted): with backlog, hold at
//      min_replicas (at least 1: a consumer must run to make the first commit)
//                                                                          (uncommitted)
//   2b. even distribution (even_partition_distribution): round up to the smallest divisor of
//      the partition count within [count, max_replicas] (SnapToPartitionDivisor) (even_partitions)
//   1b. stuck lag (exclude_stuck_lag): steps 1, 2b-4 (and the rate/wait rules) see the backlog
//      minus stuck partitions' lag, and the partitions with lag minus the stuck ones; idle and
//      activation (step 2) still see the whole backlog, and stuck lag keeps at least one pod
//                                                                          (stuck_excluded)
//   3. partition cap (limit_to_partitions): at most one consumer per partition, but never below
//      min_replicas — the user's floor wins over the cap                    (partition_cap)
//      lag cap (limit_to_partitions_with_lag): with backlog, at most one consumer per partition
//      with lag > 0, again never below min_replicas                      (lag_partition_cap)
//   4. clamp to [min_replicas, max_replicas]                        (clamped_min, clamped_max)
//   5. scale-down stabilization: while going down, take the highest recommendation seen within
//      the window (as the HPA does), never above current                   (stabilized)
//   6. step limits per direction; a step limit never keeps a Deployment with backlog below
//      min_replicas                                                        (step_limited_*)
// Time lag (target_lag > 0, TARGET_LAG_SECONDS; any policy): with L the maximum time lag over
// partitions, T the target, λ the produced rate and μ one pod's rate, the lag rule asks for
//      L > T        max(current, ceil(max(ready, 1) × L / T))   up in proportion
//      T/2 < L ≤ T  current                                      hold (no scale-down)
//      L ≤ T/2      min(current, ceil(1.1 × λ / μ))              down to the pods that keep up
//                   (nothing, before μ is known: the policy's own count decides alone)
// μ is learned (mean of the previous estimate and the new sample) from consumed / ready while
// L > T/2: then every ready pod is busy, so what they consume is what they can. A stuck
// partition (controller/stuck.h) blocks its consumer rather than keeping it busy: while there is
// one, μ is neither learned nor kept.
// Step 1's count becomes the higher of the policy's and the lag rule's (reason time_lag when the
// lag rule wins); steps 2-6 then apply as usual (idle, activation, caps, MIN/MAX, windows).
// Why this shape: the oldest message gets younger only as fast as the consumers drain, so a rule
// proportional to L alone sheds pods as soon as L dips and oscillates; and a small L does not
// say how many pods are spare. The band between T/2 and T is a dead zone (hysteresis), and below
// it the count goes down only to what the measured arrivals need, not to what a small lag
// suggests. Scaling up multiplies the READY pods, so pods still starting are not counted twice
// while the lag keeps growing (it never asks for less than the current count while L > T/2).
// The rate policy (PolicyKind::kRate, SCALING_POLICY=rate; rate_policy.cc) replaces step 1 by
// a count from measured arrival and per-pod consumption rates, keeps its own fast/slow windows
// in PolicyState, and counts as idle (step 2) only with no backlog AND no arrivals.
// Design trade-off: stabilization keeps the history of recommendations (after steps 1-4) in the
// state, trimmed to the window, so its size is bounded by window / tick interval.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "common/clock.h"
#include "policy/hpa_rule.h"
#include "policy/policy_config.h"

namespace kafka_autoscaler::policy {

// What one tick observed; the "observation" Decide works on.
struct PolicyInput {
  SteadyTime now;
  int64_t backlog = 0;          // messages waiting (topic count or group lag)
  int32_t partition_count = 0;  // partitions of the watched topics; 0 = unknown (no cap)
  int32_t current_replicas = 0;  // spec.replicas of the Deployment now
  int32_t ready_replicas = 0;    // status.readyReplicas (pods ready), for rate estimates
  std::optional<double> produced_per_minute;  // absent on the first tick
  std::optional<double> consumed_per_minute;  // absent without a group, or on the first tick
  std::optional<int32_t> partitions_with_lag;  // partitions with lag > 0; absent = unknown
  int64_t stuck_lag = 0;                       // Σ lag of stuck partitions (part of `backlog`)
  int32_t stuck_partitions = 0;                // how many partitions are stuck (each has lag > 0)
  std::optional<double> max_lag_seconds;       // largest time lag over partitions; absent = unknown
  // Consumer-group commits (kafka/observation.h): partitions whose commit lies beyond the high
  // watermark, and whether the group has no commit on any partition (never committed).
  int32_t invalid_commit_partitions = 0;
  bool no_commits = false;
};

// The daily shape (PREDICT=true, policy/wait_policy.cc "9."): one bucket per kBucketSeconds
// of a kDaySeconds day (phase = steady time modulo the day), each with an EWMA across days of
// the bucket's mean arrival rate and of its within-bucket spread, the days seen, and how far
// (in σ) the last day's mean was from the profile. Fixed size; no heap.
struct DailyProfile {
  static constexpr int32_t kDaySeconds = 86400;
  static constexpr int32_t kBucketSeconds = 300;
  static constexpr size_t kBuckets = kDaySeconds / kBucketSeconds;
  std::array<float, kBuckets> mean{};     // msg/s
  std::array<float, kBuckets> spread{};   // msg/s (σ of the samples within the bucket)
  std::array<float, kBuckets> last_z{};   // |last day's mean − profile| in σ, before the update
  std::array<uint16_t, kBuckets> days{};  // days seen (capped)
  int64_t bucket = -1;  // absolute bucket (steady seconds / kBucketSeconds) being accumulated
  double sum = 0;       // its samples so far
  double sum_squares = 0;
  int32_t samples = 0;
  float today_z = 1e9;        // last finished bucket's z (1e9: unknown, not the previous bucket)
  int64_t today_bucket = -1;  // ... its absolute bucket
};

// A T made by the first tick that needs one, so targets that never do not carry it (thousands
// of them in many-targets mode): the daily profile (~4 KiB, PREDICT=true only) and the lag
// rule's replay (five deques, and 16 bytes a tick over its first hour: COST_CEILING once one
// pod's rate is known). Copies are deep: a copied PolicyState learns on its own.
template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(const Boxed& other) { *this = other; }
  Boxed& operator=(const Boxed& other) {
    if (this != &other) p_ = other.p_ ? std::make_unique<T>(*other.p_) : nullptr;
    return *this;
  }
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(Boxed&&) noexcept = default;
  T& Make() {
    if (!p_) p_ = std::make_unique<T>();
    return *p_;
  }
  const T* get() const { return p_.get(); }

 private:
  std::unique_ptr<T> p_;
};
using DailyProfileBox = Boxed<DailyProfile>;

// Bursts of one kind in a row (wait_policy.cc 1a, 1b): how many (capped at
// WaitMemory::kShortOnsets), the smallest of their highest samples (msg/s) and the largest of
// their volumes above the rate before them (messages).
struct BurstRow {
  int32_t in_a_row = 0;
  double peak_rate = 0;
  double volume = 0;
};

// The wait policy's memory (policy/wait_policy.cc); bounded (`recent` by kMaxRecent there).
struct WaitMemory {
  // Limits of what is learned (also what a restored state must respect: policy/learned_state.h).
  static constexpr double kMaxStartupSeconds = 900;    // a start-up sample is capped at this
  static constexpr double kMaxRebalanceSeconds = 300;  // a pause sample is capped at this
  static constexpr int32_t kShortOnsets = 2;           // short bursts in a row, to doubt an onset
  static constexpr double kMaxMuSigma = 10;            // σ_μ (relative) restored at most
  std::optional<SteadyTime> last_tick;  // previous tick seen by the wait policy
  bool has_level = false;
  double level = 0;          // Holt level of the arrival rate (msg/s)
  double trend = 0;          // Holt trend (msg/s per s)
  double sigma = 0;          // EWMA of |residual| of the rate (msg/s)
  int32_t drop_ticks = 0;    // consecutive ticks with a residual below −threshold
  int32_t rise_jumps = 0;    // consecutive rise jumps whose steps agree (a rise too steep to learn)
  double rise_step = 0;      // ... the last one's step above the level (msg/s)
  std::optional<double> mu;  // one pod's rate (msg/s)
  bool mu_exact = false;     // measured while saturated (or a probe fell behind)
  bool mu_restored = false;  // μ came from a saved state: the first saturated sample replaces it
  // The noise of one pod's rate, relative to μ: RMS EWMA of (sample − μ) / μ over saturated
  // samples against an exact μ, jumps included (consumption that is not steady: a downstream
  // whose speed varies). 0 until measured.
  double mu_sigma = 0;
  // When μ was last measured exact (a saturated interval, or a probe that fell behind; the
  // first tick after a restore): an exact μ older than wait_policy.cc's kMuConfirmedFor is a
  // lower bound again, so that pods that became faster are found by a probe.
  std::optional<SteadyTime> mu_confirmed_at;
  // A jump of μ down to a stall's depth (wait_policy.cc, 2b) that the next intervals may undo:
  // when it was taken, and μ and σ_μ before it; and when a stall was last undone (one per
  // kMuConfirmedFor). Not saved: a restarted daemon takes the jump as it stands.
  std::optional<SteadyTime> jumped_at;
  double jumped_from_mu = 0;
  double jumped_from_sigma = 0;
  std::optional<SteadyTime> stall_undone_at;
  // 2c. A stall-sized drop within kMuConfirmedFor of an undone stall: since when the pods have
  // been that slow, and the rate they showed then.
  std::optional<SteadyTime> slow_since;
  double slow_mu = 0;
  std::optional<SteadyTime> probe_at;  // last scale-down made while μ was a lower bound
  int32_t probe_count = 0;             // ... and the count it went to
  double startup = 30;       // start-up estimate (s); prior 30 s
  bool startup_measured = false;
  std::optional<SteadyTime> up_at;      // the scale-up whose start-up is being timed, decided at
  int32_t up_target = 0;                // ... to this many pods
  int32_t up_from = 0;                  // ... from this many
  // The up being timed when this tick's up took its place (3): put back when the cost ceiling
  // (10) holds this tick's up to the count it came from, no pod ordered, so that the earlier
  // up's pods are still timed. Only read within the tick that wrote it.
  std::optional<SteadyTime> replaced_up_at;
  int32_t replaced_up_target = 0;
  int32_t replaced_up_from = 0;
  std::optional<double> rebalance;      // learned rebalance pause (s); until then the prior
  // The cost ceiling's replay (wait_policy.cc 3c): a least-squares fit of the start-up S and
  // the pause R over the intervals in which an up's pods joined a saturated group, each giving
  // (k − m) S + k R = y (m consumers before, k after, y from the count consumed). Means of
  // u², u·v, v², u·y, v·y for u = k − m, v = k over about the last 8 joins (`samples`, capped).
  // Not saved: a restarted daemon learns it again.
  struct JoinFit {
    double uu = 0, uv = 0, vv = 0, uy = 0, vy = 0;
    int32_t samples = 0;
  } join_fit;
  // A join whose interval consumed no more than the pods before it could alone (their pause
  // may reach past its end): timed with the interval after it too, at the next tick (wait
  // 3d). a and b: the bracket's ends, seconds after the order; consumed: messages over (a, b].
  struct PendingJoin {
    double a = 0, b = 0, consumed = 0;
    int32_t m = 0, k = 0;
  };
  std::optional<PendingJoin> join_pending;
  std::optional<SteadyTime> down_at;    // the scale-down whose pause is being timed, decided at
  int32_t down_target = 0;              // ... to this many pods
  double down_consumed = 0;             // messages consumed since down_at
  std::optional<double> down_prior;     // the measured pause before this timing, if any
  // The last change of spec.replicas: when this policy ordered it (the previous tick, when it
  // asked for that count), else the tick that saw it.
  std::optional<SteadyTime> change_at;
  int32_t ordered = -1;                 // the count the previous tick's decision asked for
  int32_t prev_replicas = -1;           // spec.replicas at the previous tick
  int32_t prev_ready = -1;              // ready pods at the previous tick
  int32_t prev_prev_ready = -1;         // ... and the tick before
  std::optional<SteadyTime> ready_changed_at;  // the last tick that saw the ready count change
  // That change's pause may still be on: every interval since consumed nothing with work waiting.
  bool pause_on = false;
  int64_t prev_backlog = -1;
  std::deque<std::pair<SteadyTime, double>> recent;  // (tick, λ) within max(M, W + dt)
  // The burst whose onset was seen within the last kShortTicks ticks (wait_policy.cc 1a): its
  // highest sample so far, and the ticks since its onset.
  std::optional<double> onset_sample;
  int32_t onset_age = 0;
  double onset_base = 0;    // the rate before the burst being timed (msg/s)
  double onset_volume = 0;  // messages it brought above that rate so far
  BurstRow short_bursts;    // bursts over (a drop) within kShortTicks, in a row
  // 1b. A burst that outlived kShortTicks, followed to its drop (within the lag rule's window):
  // its highest sample, the rate before it, the messages it brought above that and its age.
  std::optional<double> long_peak;
  double long_base = 0;
  double long_volume_now = 0;
  double long_seconds = 0;
  BurstRow long_bursts;  // such bursts that ended so, in a row
  // Prediction (PREDICT=true): the last kOnsets burst onsets (ring; `onset_count` ever seen)
  // and the most pods each burst had within 2M of its onset.
  static constexpr size_t kOnsets = 8;
  std::array<SteadyTime, kOnsets> onsets{};
  std::array<int32_t, kOnsets> onset_pods{};
  int32_t onset_count = 0;
  DailyProfileBox day;  // the daily shape (PREDICT=true only)
  // COST_CEILING: the lag rule replayed on the load seen, and the pod-seconds each spent, with
  // its first hour's ticks (wait_policy.cc "10."). Not saved: a restarted daemon starts it again.
  Boxed<LagReplay> replay;
};

// What Decide remembers between ticks. Start with a default-constructed one.
struct PolicyState {
  std::optional<SteadyTime> zero_backlog_since;  // when the backlog was last seen turning 0
  struct Recommendation {
    SteadyTime at;
    int32_t replicas;
  };
  std::deque<Recommendation> recent;  // recommendations within the stabilization window
  // Rate policy memory (policy/rate_policy.cc), rates in messages per second.
  std::optional<double> arrival_rate_ewma;  // the previous tick's measured arrival rate
  std::optional<double> per_pod_rate_ewma;  // learned processing rate of one consumer
  std::optional<SteadyTime> per_pod_confirmed_at;  // last saturated sample that confirmed it
  std::optional<SteadyTime> last_scale_at;  // when the rate policy last changed the count
  std::optional<int64_t> previous_backlog;  // backlog seen on the previous tick
  int32_t previous_replicas = -1;           // spec.replicas on the previous tick; -1 = none
  std::deque<Recommendation> rate_recent;   // rate recommendations within the slow window
  std::optional<SteadyTime> rate_since;     // first tick with measured rates (window history)
  std::optional<SteadyTime> rate_probe_at;  // last scale-down while μ was unconfirmed (a probe)
  int32_t rate_probe_count = 0;             // ... and the count it went to
  WaitMemory wait;                          // wait policy memory (policy/wait_policy.cc)
  // TARGET_LAG_SECONDS: one pod's rate (msg/s), learned while the group is behind (L > T/2).
  std::optional<double> lag_per_pod_rate;
  // Set by ForgetUnobserved(): the next Decide restarts the stabilization window from the
  // current count, so a scale-down needs a full window of observed recommendations.
  bool window_restart = false;
};

// A tick without an observation (Kafka failed): what was seen before it no longer counts
// towards going idle or scaling down. Resets the idle timer (idle only after min_ttl of zero
// backlog observed from now on) and the stabilization history of both policies (the seed
// rule's window restarts from the current count; the rate policy's slow window refills before
// it scales down, as on a cold start). Call it for every failed observation.
void ForgetUnobserved(PolicyState& state);

enum class Reason {
  kBacklog,          // proportional to the backlog
  kNoChange,         // desired equals current
  kIdle,             // backlog 0 for min_ttl: idle_replicas
  kIdlePending,      // backlog 0, idle timer running: min_replicas
  kPartitionCap,     // capped at the partition count
  kClampedMin,       // raised to min_replicas
  kClampedMax,       // held at max_replicas
  kStabilized,       // scale-down held by the stabilization window
  kStepLimitedUp,    // scale-up limited by scale_up_max_step
  kStepLimitedDown,  // scale-down limited by scale_down_max_step
  kRate,             // rate policy: arrival rate and drain-time target
  kWait,             // wait policy: predicted wait against TARGET_WAIT_SECONDS
  kPredicted,        // wait policy: pre-scaled ahead of (PREDICT), or held for, a predicted burst
  kBelowActivation,  // at idle, backlog not above ACTIVATION_BACKLOG: stays idle
  kLagPartitionCap,  // capped at the number of partitions with lag > 0
  kEvenPartitions,   // rounded up to a divisor of the partition count
  kStuckExcluded,    // EXCLUDE_STUCK_LAG: stuck partitions' lag left out of the count
  kTimeLag,          // TARGET_LAG_SECONDS asked for more than the policy's own count
  kInvalidCommit,    // backlog 0 with a commit beyond a partition's end: hold, never idle
  kUncommitted,      // the group never committed: min_replicas (at least 1)
};
std::string_view ReasonName(Reason reason);

// Present when the backlog is above message_count_threshold.
struct ThresholdWarning {
  int64_t backlog = 0;
  int64_t threshold = 0;
  int64_t recommended_pods = 0;   // unclamped ceil(backlog / messages_per_pod)
  bool held_back_by_max = false;  // recommended_pods > max_replicas
};

// What the wait policy concluded this tick (for the decision span and logs).
struct WaitDetail {
  double predicted_peak_wait_s = 0;  // of "keep the current count"
  double lambda = 0;                 // learned arrival rate (msg/s)
  double sigma = 0;                  // its noise (msg/s)
  double mu = 0;                     // one pod's rate (msg/s); 0 = not measured yet
  double mu_sigma = 0;               // its noise, relative to it (0 until measured)
  double startup_s = 0;              // start-up estimate (s)
  double rebalance_s = 0;            // rebalance pause estimate (s)
  std::string_view why;              // seed_rule | hold | up | up_later | cancel | down | ...
  // COST_CEILING (`ceiling` false while off or before one pod's rate is known): the lag rule's
  // count the ceiling holds to (the highest of its pods in its replay on the same load, its next
  // sync's proposal and what it would keep for our own lag; the replay's pods alone on a
  // pre-scale), and the pod-seconds it and this policy spent (weighted over a day;
  // policy/wait_policy.cc "10.").
  bool ceiling = false;
  int32_t lag_rule_replicas = 0;
  double lag_rule_pod_seconds = 0;
  double pod_seconds = 0;
  // The start-up and pause that replay runs with (policy/wait_policy.cc "3c.").
  double lag_rule_startup_s = 0;
  double lag_rule_rebalance_s = 0;
  // The phase of the rule's clock (its first HPA sync, seconds after the replay began) whose
  // replay the ceiling spends against: the cheapest (policy/hpa_rule.h LagReplay).
  double lag_rule_phase_s = 0;
};

struct Decision {
  int32_t desired = 0;          // the replica count to set
  int64_t recommended_raw = 0;  // ceil(backlog / messages_per_pod), before any bound
  int32_t recommended = 0;      // after idle rule, partition cap and clamp (before window/steps)
  Reason reason = Reason::kBacklog;  // the rule that decided `desired`
  bool scale = false;                // desired != current
  std::optional<ThresholdWarning> warning;
  std::optional<WaitDetail> wait;  // SCALING_POLICY=wait only
  int32_t lag_replicas = 0;        // the time-lag rule's count; 0 = off or no opinion
  PolicyState next_state;
};

// The policy chosen by config.kind. See the header comment for the seed rule.
[[nodiscard]] Decision Decide(const PolicyInput& input, const PolicyState& state,
                              const PolicyConfig& config);

// The time-lag rule's count (see "Time lag" above); 0 when off, unknown, or L <= T/2 before a
// pod's rate is known.
// Learns one pod's rate into `state` while the group is behind (L > T/2).
int32_t TimeLagPods(const PolicyInput& input, const PolicyConfig& config, PolicyState& state);

// ceil(backlog / messages_per_pod) without overflow; 0 for backlog <= 0.
int64_t RecommendedPods(int64_t backlog, int64_t messages_per_pod);

// Pods that consume with `pods` in the group: each partition has one consumer, so at most
// `partitions` of them (all when partitions <= 0, unknown).
constexpr int32_t ConsumingPods(int32_t pods, int32_t partitions) {
  return partitions > 0 ? std::min(pods, partitions) : pods;
}

// Rate policy helper (rate_policy.cc): the smallest divisor d of `partitions` with
// n <= d <= n × (1 + slack), else n; n itself when n >= partitions or partitions <= 0.
int64_t SnapToPartitionDivisor(int64_t n, int32_t partitions, double slack);

}  // namespace kafka_autoscaler::policy
