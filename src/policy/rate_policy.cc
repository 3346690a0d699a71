// The rate policy (SCALING_POLICY=rate): size the consumer group to the measured load, not to
// a backlog-per-pod guess. Called by Decide() (policy.cc) for PolicyKind::kRate; it returns the
// raw pod count, which Decide then bounds (idle rule, partition cap, min/max) like any policy.
// Pure: all memory lives in PolicyState.
//
// Per tick, with λ the measured arrival rate, μ the learned per-pod processing rate, B the
// backlog, T = TARGET_DRAIN_SECONDS, R = RATE_REBALANCE_SECONDS:
//   1. λ = produced/minute ÷ 60 over the last interval. A rise is trusted at once and
//      extrapolated by one more interval (λ_up = λ + max(0, λ − λ_previous)): the fast burst
//      window. A fall is only believed through the slow window (step 5).
//   2. μ is learned from consumed offsets: consumed/s ÷ min(pods, partitions) is a lower bound
//      of what one pod can do, and equals it while the group is saturated. μ jumps up to any
//      higher sample (throughput proven) and creeps down (¼ per tick) only on saturated ticks
//      (backlog on both ends, no scale within kSettle) — pods that really got slower. Until the
//      first consumed figure exists the seed's rule (backlog / MESSAGES_PER_POD) decides.
//   3. need = (λ_up + (B + λ·R) / T) / μ pods: carry the arrivals, drain the backlog within T,
//      including what piles up during the rebalance the change itself causes.
//   4. Partition cap without the P−1 trap: the count is snapped up to the nearest divisor of
//      the partition count when that costs at most 10 % more pods, so partitions spread evenly
//      (in particular P−1 → P, where an HPA's 10 % tolerance leaves one consumer with two
//      partitions forever). Decide's cap then limits it to P.
//   5. Scale-down takes the highest recommendation within RATE_SCALE_DOWN_WINDOW_SECONDS (the
//      slow window), and only when it removes enough pods to be worth a rebalance: at least
//      10 % of the group, or (for small groups) one pod whose removal keeps λ within capacity.
//      Scale-up needs the recommendation to exceed current capacity by more than noise (the
//      backlog term keeps growing when capacity is truly short, so it always happens).
#include <algorithm>
#include <cmath>

#include "policy/policy.h"

namespace kafka_autoscaler::policy {

namespace {

constexpr double kSnapSlack = 0.10;      // extra pods a divisor snap may cost
constexpr double kDownFraction = 0.10;   // smallest scale-down worth a rebalance
constexpr double kRoundingSlack = 0.05;  // need 4.03 pods → 4 (noise), 4.06 → 5
constexpr double kLearnDown = 0.25;      // how fast μ follows pods that got slower
constexpr std::chrono::seconds kSettle{120};  // after a scale, pods may still be starting

}  // namespace

// The smallest divisor d of `partitions` with n <= d <= n × (1 + slack), else n.
int64_t SnapToPartitionDivisor(int64_t n, int32_t partitions, double slack) {
  if (partitions <= 0 || n <= 0 || n >= partitions) return n;
  const auto limit = static_cast<int64_t>(std::floor(static_cast<double>(n) * (1.0 + slack)));
  for (int64_t d = n; d <= std::min<int64_t>(limit, partitions); ++d) {
    if (partitions % d == 0) return d;
  }
  return n;
}

int64_t RatePolicyRawPods(const PolicyInput& in, const PolicyConfig& c, PolicyState& st) {
  const double drain_s = std::max<double>(1.0, static_cast<double>(c.target_drain.count()));
  const double rebalance_s = static_cast<double>(c.rate_rebalance.count());
  const int32_t current = in.current_replicas;
  const int32_t previous_replicas = st.previous_replicas;
  const std::optional<int64_t> previous_backlog = st.previous_backlog;
  const std::optional<double> previous_lambda = st.arrival_rate_ewma;
  st.previous_replicas = current;
  st.previous_backlog = in.backlog;

  // 1. Arrival rate.
  std::optional<double> lambda;
  if (in.produced_per_minute) lambda = std::max(0.0, *in.produced_per_minute / 60.0);
  if (lambda) st.arrival_rate_ewma = lambda;

  // 2. Per-pod processing rate.
  const int32_t consumers =
      in.partition_count > 0 ? std::min(in.ready_replicas, in.partition_count) : in.ready_replicas;
  if (in.consumed_per_minute && consumers > 0 && in.ready_replicas == current) {
    const double sample = *in.consumed_per_minute / 60.0 / consumers;
    const bool no_scale_down_between = previous_replicas < 0 || current >= previous_replicas;
    const bool settled = !st.last_scale_at || in.now - *st.last_scale_at >= kSettle;
    const bool saturated = in.backlog > 0 && previous_backlog.value_or(0) > 0 &&
                           previous_replicas == current && settled;
    if (sample > 0 && (!st.per_pod_rate_ewma ||
                       (sample > *st.per_pod_rate_ewma && no_scale_down_between))) {
      st.per_pod_rate_ewma = sample;
    } else if (st.per_pod_rate_ewma && saturated && sample < *st.per_pod_rate_ewma) {
      st.per_pod_rate_ewma = *st.per_pod_rate_ewma + kLearnDown * (sample - *st.per_pod_rate_ewma);
    }
  }
  if (!st.per_pod_rate_ewma || !lambda) {
    return RecommendedPods(in.backlog, c.messages_per_pod);
  }
  const double mu = *st.per_pod_rate_ewma;

  // 3. Pods needed: carry arrivals, drain the backlog (plus a rebalance's worth) within T.
  const double lambda_up = *lambda + std::max(0.0, *lambda - previous_lambda.value_or(*lambda));
  const double backlog = static_cast<double>(std::max<int64_t>(0, in.backlog));
  const double need = (lambda_up + (backlog + *lambda * rebalance_s) / drain_s) / mu;
  int64_t rec = static_cast<int64_t>(std::ceil(std::max(0.0, need - kRoundingSlack)));
  if (in.backlog > 0 || *lambda > 0) rec = std::max<int64_t>(rec, 1);

  // 4. Even spread over partitions.
  rec = SnapToPartitionDivisor(rec, in.partition_count, kSnapSlack);

  // 5. Slow window for scale-down; only worthwhile changes.
  st.rate_recent.push_back({in.now, static_cast<int32_t>(std::min<int64_t>(rec, INT32_MAX))});
  while (!st.rate_recent.empty() && in.now - st.rate_recent.front().at > c.rate_scale_down_window) {
    st.rate_recent.pop_front();
  }
  int64_t out = rec;
  if (rec < current) {
    int64_t highest = rec;
    for (const auto& r : st.rate_recent) highest = std::max<int64_t>(highest, r.replicas);
    out = std::min<int64_t>(highest, current);
    const int64_t removed = current - out;
    const bool big_enough = removed >= std::max(1.0, kDownFraction * current);
    // A small group: dropping one pod is worth it when the rest still carry λ.
    if (!big_enough && removed > 0) out = current;
  }
  if (out != current) st.last_scale_at = in.now;
  return out;
}

}  // namespace kafka_autoscaler::policy
