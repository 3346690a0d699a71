// The rate policy (SCALING_POLICY=rate): size the consumer group to the measured load, not to
// a backlog-per-pod guess. Called by Decide() (policy.cc) for PolicyKind::kRate; it returns the
// raw pod count, which Decide then bounds (idle rule, partition cap, min/max) like any policy.
// Pure: all memory lives in PolicyState.
//
// Per tick, with λ the measured arrival rate, μ the learned per-pod processing rate, B the
// backlog, T = TARGET_DRAIN_SECONDS, R = RATE_REBALANCE_SECONDS:
//   1. λ = produced/minute ÷ 60 over the last interval. A rise of more than 10 % (beyond the
//      noise of an interval's average) is trusted at once and extrapolated by one more
//      interval: λ_up = λ + (λ − λ_previous). This is the fast burst window. A fall is only
//      believed through the slow window (step 5).
//   2. μ is learned from consumed offsets: consumed/s ÷ min(pods, partitions) is a lower bound
//      of what one pod can do, and equals it while the group is saturated (backlog at both ends
//      of the interval). μ jumps up to any higher sample; a saturated sample near μ confirms
//      it; a lower saturated sample long after the last scale (kSettle) pulls it down by ¼ per
//      tick (pods that really got slower). An over-provisioned group never saturates, so μ
//      would stay a low bound for ever; while μ is unconfirmed (none in kConfirmTtl),
//      scale-down assumes pods are kProbe × faster: a probe. If they are not, the group
//      saturates, and the next samples confirm the true μ. A probe stands until the pods show
//      it wrong: for kSettle after it, at its count and with no backlog beyond what is in
//      flight, the up below is judged with the pods it assumed (μ × kProbe), so that an interval
//      at the probe's count can raise μ first; judged with μ, the next tick undid every probe
//      and pods that became faster were probed for ever (8 ↔ 12 every 90 s). Until the first
//      consumed figure, the seed's rule (backlog / MESSAGES_PER_POD) decides.
//   3. Up: when ceil((λ_up + B/T) / μ) exceeds the current count (beyond a 0.05-pod rounding
//      slack), scale to ceil((λ_up + B_ahead / T) / μ), B_ahead = B + (λ_up − n·μ)·S + λ_up·R
//      with S = RATE_POD_STARTUP_SECONDS: carry the arrivals and drain, within T, the backlog
//      as it will be when the new pods consume — including what piles up while they start and
//      during the rebalance the change itself causes. B counts only beyond kInFlightSeconds of
//      arrivals (messages in flight are not a shortage).
//   4. Down: the recommendation ceil((λ + B/T) / μ_down) is recorded every tick; scale-down goes
//      to the highest one within RATE_SCALE_DOWN_WINDOW_SECONDS (the slow window), and only when
//      that removes at least 10 % of the group (or one pod of a group under 10): a smaller
//      change is not worth the rebalance pause it costs every consumer.
//   5. Partition cap without the P−1 trap: counts are snapped up to the nearest divisor of the
//      partition count when that costs at most 10 % more pods, so partitions spread evenly
//      (in particular P−1 → P, where an HPA's 10 % tolerance leaves one consumer with two
//      partitions for ever). Decide's cap then limits the count to P.
#include <algorithm>
#include <cmath>

#include "policy/policy.h"

namespace kafka_autoscaler::policy {

namespace {

constexpr double kSnapSlack = 0.10;           // extra pods a divisor snap may cost
constexpr double kDownFraction = 0.10;        // smallest scale-down worth a rebalance
constexpr double kRoundingSlack = 0.05;       // need 4.03 pods → 4 (noise), 4.06 → 5
constexpr double kBurstRise = 0.10;           // a rise of λ beyond this fraction is a burst
constexpr double kLearnDown = 0.25;           // how fast μ follows pods that got slower
constexpr double kConfirmNear = 0.95;         // a saturated sample this close to μ confirms it
constexpr double kInFlightSeconds = 5;        // backlog up to this many seconds of λ is in flight
constexpr double kProbe = 1.2;                // optimism of scale-down while μ is unconfirmed
constexpr std::chrono::seconds kSettle{120};  // after a scale, pods may still be starting
constexpr std::chrono::seconds kConfirmTtl{3600};  // how long a confirmation holds

int64_t PodsFor(double messages_per_second, double mu) {
  return static_cast<int64_t>(std::ceil(std::max(0.0, messages_per_second / mu - kRoundingSlack)));
}

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
  const double startup_s = static_cast<double>(c.rate_pod_startup.count());
  const int32_t current = in.current_replicas;
  const int32_t previous_replicas = st.previous_replicas;
  const std::optional<int64_t> previous_backlog = st.previous_backlog;
  const std::optional<double> previous_lambda = st.arrival_rate_ewma;
  st.previous_replicas = current;
  st.previous_backlog = in.backlog;
  // The count changed since the last tick (by us or anyone): pods may be starting.
  if (previous_replicas >= 0 && current != previous_replicas) st.last_scale_at = in.now;

  // 1. Arrival rate.
  std::optional<double> lambda;
  if (in.produced_per_minute) lambda = std::max(0.0, *in.produced_per_minute / 60.0);
  if (lambda) st.arrival_rate_ewma = lambda;

  // 2. Per-pod processing rate.
  const int32_t consumers = ConsumingPods(in.ready_replicas, in.partition_count);
  if (in.consumed_per_minute && consumers > 0 && in.ready_replicas == current) {
    const double sample = *in.consumed_per_minute / 60.0 / consumers;
    const bool no_scale_down_between = previous_replicas < 0 || current >= previous_replicas;
    // Saturated: more than in-flight messages waiting at both ends of the interval (a group
    // that keeps up still shows a lag of what was just produced).
    const double in_flight = kInFlightSeconds * lambda.value_or(0);
    const double in_flight_before = kInFlightSeconds * previous_lambda.value_or(0);
    const bool saturated =
        static_cast<double>(in.backlog) > std::max(1.0, in_flight) &&
        static_cast<double>(previous_backlog.value_or(0)) > std::max(1.0, in_flight_before) &&
        previous_replicas == current;
    const bool settled = !st.last_scale_at || in.now - *st.last_scale_at >= kSettle;
    auto& mu = st.per_pod_rate_ewma;
    if (sample > 0 && (!mu || (sample > *mu && no_scale_down_between))) mu = sample;
    if (mu && saturated && (settled || sample >= kConfirmNear * *mu)) {
      // Long after a change, a saturated sample is what a pod does: follow it (down, since
      // a higher one was taken above). Soon after one, pods may still be starting: a sample
      // near μ confirms it, a lower one says nothing.
      if (settled) *mu += kLearnDown * (sample - *mu);
      st.per_pod_confirmed_at = in.now;
    }
  }
  if (!st.per_pod_rate_ewma || !lambda) {
    // No measured rates yet: the seed's rule, and at least one pod while messages arrive.
    const bool arriving = lambda && *lambda > 0;
    return std::max<int64_t>(RecommendedPods(in.backlog, c.messages_per_pod), arriving ? 1 : 0);
  }
  if (!st.rate_since) st.rate_since = in.now;
  const double mu = *st.per_pod_rate_ewma;
  const bool confirmed = st.per_pod_confirmed_at && in.now - *st.per_pod_confirmed_at < kConfirmTtl;
  const double mu_down = confirmed ? mu : mu * kProbe;

  const double backlog = static_cast<double>(std::max<int64_t>(0, in.backlog));
  // A backlog of a few seconds of arrivals is messages in flight, not a shortage.
  const double excess = std::max(0.0, backlog - *lambda * kInFlightSeconds);
  const double rise = *lambda - previous_lambda.value_or(*lambda);
  const double lambda_up = *lambda + (rise > kBurstRise * previous_lambda.value_or(0) ? rise : 0.0);
  const int64_t floor_pods = (in.backlog > 0 || *lambda > 0) ? 1 : 0;

  // 4. The scale-down recommendation, recorded for the slow window.
  const int64_t down =
      std::max(floor_pods, SnapToPartitionDivisor(PodsFor(*lambda + excess / drain_s, mu_down),
                                                  in.partition_count, kSnapSlack));
  while (!st.rate_recent.empty() && in.now - st.rate_recent.front().at > c.rate_scale_down_window) {
    st.rate_recent.pop_front();
  }

  int64_t out = current;
  // 3. Up, sized to absorb the rebalance it causes. While a probe stands (2), judged with the
  // pods it assumed.
  const bool probe_stands = !confirmed && st.rate_probe_at &&
                            in.now - *st.rate_probe_at < kSettle &&
                            current == st.rate_probe_count && excess == 0;
  const double mu_up = probe_stands ? mu_down : mu;
  if (std::max(floor_pods, SnapToPartitionDivisor(PodsFor(lambda_up + excess / drain_s, mu_up),
                                                  in.partition_count, kSnapSlack)) > current) {
    // What will have piled up when the new pods consume: the shortfall of the pods there now
    // over their startup, and every arrival during the rebalance.
    const double capacity_now = mu * ConsumingPods(current, in.partition_count);
    const double ahead =
        excess + std::max(0.0, lambda_up - capacity_now) * startup_s + lambda_up * rebalance_s;
    const double with_pause = lambda_up + ahead / drain_s;
    out = std::max(floor_pods,
                   SnapToPartitionDivisor(PodsFor(with_pause, mu), in.partition_count, kSnapSlack));
    st.rate_probe_at.reset();
  } else if (in.now - *st.rate_since >= c.rate_scale_down_window) {
    // (Only once the window holds a full window of history: no scale-down on a cold start.)
    int64_t highest = down;
    for (const auto& r : st.rate_recent) highest = std::max<int64_t>(highest, r.replicas);
    if (highest < current) {
      const int64_t removed = current - highest;
      if (removed >= std::max(1.0, kDownFraction * current)) {
        out = highest;
        if (!confirmed) {
          st.rate_probe_at = in.now;
          st.rate_probe_count = static_cast<int32_t>(std::min<int64_t>(out, INT32_MAX));
        }
      }
    }
  }
  // The window remembers what this tick asked for: a scale-up holds for the whole window.
  st.rate_recent.push_back({in.now, static_cast<int32_t>(std::min<int64_t>(
                                        std::max(down, out > current ? out : 0), INT32_MAX))});
  return out;
}

}  // namespace kafka_autoscaler::policy
