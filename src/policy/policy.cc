#include "policy/policy.h"

#include <algorithm>
#include <cmath>

namespace kafka_autoscaler::policy {

std::string_view PolicyKindName(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kMessages: return "messages";
    case PolicyKind::kRate: return "rate";
    case PolicyKind::kWait:
      return "wait";
  }
  return "messages";
}

std::string_view ReasonName(Reason reason) {
  switch (reason) {
    case Reason::kBacklog: return "backlog";
    case Reason::kNoChange: return "no_change";
    case Reason::kIdle: return "idle";
    case Reason::kIdlePending: return "idle_pending";
    case Reason::kPartitionCap: return "partition_cap";
    case Reason::kClampedMin: return "clamped_min";
    case Reason::kClampedMax: return "clamped_max";
    case Reason::kStabilized: return "stabilized";
    case Reason::kStepLimitedUp: return "step_limited_up";
    case Reason::kStepLimitedDown: return "step_limited_down";
    case Reason::kRate: return "rate";
    case Reason::kWait:
      return "wait";
    case Reason::kPredicted:
      return "predicted";
    case Reason::kBelowActivation: return "below_activation";
    case Reason::kLagPartitionCap: return "lag_partition_cap";
    case Reason::kEvenPartitions: return "even_partitions";
    case Reason::kStuckExcluded:
      return "stuck_excluded";
    case Reason::kTimeLag:
      return "time_lag";
    case Reason::kInvalidCommit:
      return "invalid_commit";
    case Reason::kUncommitted:
      return "uncommitted";
  }
  return "backlog";
}

int64_t RecommendedPods(int64_t backlog, int64_t messages_per_pod) {
  if (backlog <= 0 || messages_per_pod <= 0) return 0;
  return backlog / messages_per_pod + (backlog % messages_per_pod != 0 ? 1 : 0);
}

int32_t TimeLagPods(const PolicyInput& in, const PolicyConfig& c, PolicyState& st) {
  if (c.target_lag.count() <= 0 || !in.max_lag_seconds) return 0;  // off, or unknown
  const double target = static_cast<double>(c.target_lag.count());
  const double lag = *in.max_lag_seconds;
  const int32_t current = std::max(in.current_replicas, 0);
  const bool behind = lag > target / 2;
  // While the group is behind, every ready pod is busy: consumed / ready is one pod's rate. Not
  // with a stuck partition: its consumer is blocked, not busy (and what was learned is dropped).
  if (in.stuck_partitions > 0) st.lag_per_pod_rate.reset();
  if (behind && in.stuck_partitions == 0 && in.ready_replicas > 0 && in.consumed_per_minute &&
      *in.consumed_per_minute > 0) {
    const double sample = *in.consumed_per_minute / 60.0 / in.ready_replicas;
    st.lag_per_pod_rate = st.lag_per_pod_rate ? (*st.lag_per_pod_rate + sample) / 2 : sample;
  }
  if (lag > target) {
    const double base = std::max(in.ready_replicas, 1);
    return std::max(current, static_cast<int32_t>(std::min(std::ceil(base * lag / target), 1e6)));
  }
  if (behind) return current;
  // Below half the target: scale down no further than the pods that keep up with the arrivals
  // (10 % headroom), once one pod's rate was learned; before that, no opinion. Never up from
  // here: the lag is fine.
  if (!st.lag_per_pod_rate || *st.lag_per_pod_rate <= 0 || !in.produced_per_minute) return 0;
  const double keep_up = *in.produced_per_minute / 60.0 * 1.1 / *st.lag_per_pod_rate;
  return std::min(current, static_cast<int32_t>(std::min(std::ceil(keep_up - 1e-9), 1e6)));
}

namespace {

struct Candidate {
  int32_t replicas;
  Reason reason;
};

// Steps 2-4 of the seed rule, applied to a raw pod count from any policy. `all_backlog` is the
// whole backlog (with stuck lag), which decides idle and activation; `in` may exclude stuck lag.
Candidate Bound(int64_t raw, const PolicyInput& in, const PolicyConfig& c, PolicyState& st,
                Reason raw_reason, int64_t all_backlog) {
  // Idle means no backlog; for the rate policy also no arrivals (a consumer group that keeps
  // up with its load often reads a backlog of 0 while messages keep coming).
  // A pre-scale ahead of a predicted burst is not idle either.
  const bool arriving =
      (c.kind != PolicyKind::kMessages && in.produced_per_minute.value_or(0) > 0) ||
      raw_reason == Reason::kPredicted;
  if (all_backlog <= 0 && !arriving && in.invalid_commit_partitions > 0) {
    // The reset policy's 0 is no proof of an idle group: hold, never go idle.
    st.zero_backlog_since.reset();
    return {std::min(std::max(in.current_replicas, c.min_replicas), c.max_replicas),
            Reason::kInvalidCommit};
  }
  if (all_backlog <= 0 && !arriving && c.kind != PolicyKind::kMessages && !in.produced_per_minute &&
      raw_reason != Reason::kPredicted) {
    // The first tick of a process: no interval yet, so whether messages arrive is unknown, and
    // a group that keeps up reads a backlog of 0 while they do. Not idle on that alone (a
    // restarted daemon took such a group to min_replicas): hold; the next tick knows. The idle
    // timer starts, as the backlog was 0.
    if (!st.zero_backlog_since) st.zero_backlog_since = in.now;
    const int32_t held = std::clamp(in.current_replicas, c.idle_replicas, c.max_replicas);
    return {held, held < in.current_replicas   ? Reason::kClampedMax
                  : held > in.current_replicas ? Reason::kClampedMin
                                               : Reason::kNoChange};
  }
  if (all_backlog <= 0 && !arriving) {
    if (!st.zero_backlog_since) st.zero_backlog_since = in.now;
    const bool ttl_passed = in.now - *st.zero_backlog_since >= c.min_ttl;
    if (ttl_passed || in.current_replicas <= c.idle_replicas) {
      return {c.idle_replicas, Reason::kIdle};
    }
    return {c.min_replicas, Reason::kIdlePending};
  }
  st.zero_backlog_since.reset();
  // Activation: a trickle does not wake an idle Deployment (a predicted burst does).
  if (c.activation_backlog > 0 && in.current_replicas <= c.idle_replicas &&
      in.invalid_commit_partitions == 0 && all_backlog <= c.activation_backlog &&
      raw_reason != Reason::kPredicted) {
    return {c.idle_replicas, Reason::kBelowActivation};
  }
  if (in.no_commits && !c.scale_on_uncommitted) {
    return {std::min(std::max(c.min_replicas, 1), c.max_replicas), Reason::kUncommitted};
  }
  if (c.even_partition_distribution && raw > 0) {
    // The smallest divisor of the partition count in [raw, max_replicas]; raw when none.
    const double slack = (c.max_replicas + 0.5) / static_cast<double>(raw) - 1;
    const int64_t even = SnapToPartitionDivisor(raw, in.partition_count, slack);
    if (even != raw) {
      raw = even;
      raw_reason = Reason::kEvenPartitions;
    }
  }
  Candidate out{static_cast<int32_t>(std::min<int64_t>(raw, c.max_replicas + int64_t{1})),
                raw_reason};
  if (c.limit_to_partitions && in.partition_count > 0 && out.replicas > in.partition_count) {
    out = {in.partition_count, Reason::kPartitionCap};
  }
  if (c.limit_to_partitions_with_lag && in.backlog > 0 && in.partitions_with_lag &&
      out.replicas > *in.partitions_with_lag) {
    out = {*in.partitions_with_lag, Reason::kLagPartitionCap};
  }
  if (out.replicas < c.min_replicas) out = {c.min_replicas, Reason::kClampedMin};
  if (out.replicas > c.max_replicas) out = {c.max_replicas, Reason::kClampedMax};
  return out;
}

// Steps 5-6: stabilization window for scale-down, then step limits.
Candidate Smooth(Candidate cand, const PolicyInput& in, const PolicyConfig& c, PolicyState& st) {
  // After an outage the window starts again from what runs now (ForgetUnobserved).
  if (st.window_restart) st.recent.push_back({in.now, in.current_replicas});
  st.window_restart = false;
  // Record this recommendation and forget those older than the window.
  st.recent.push_back({in.now, cand.replicas});
  while (!st.recent.empty() && in.now - st.recent.front().at > c.scale_down_stabilization) {
    st.recent.pop_front();
  }
  const int32_t current = in.current_replicas;
  if (cand.replicas < current && c.scale_down_stabilization.count() > 0) {
    int32_t highest = cand.replicas;
    for (const auto& r : st.recent) highest = std::max(highest, r.replicas);
    highest = std::min(highest, current);
    if (highest > cand.replicas) cand = {highest, Reason::kStabilized};
  }
  if (cand.replicas > current && c.scale_up_max_step > 0 &&
      cand.replicas - current > c.scale_up_max_step) {
    int32_t limited = current + c.scale_up_max_step;
    // Backlog always brings the Deployment to min_replicas at once.
    if (in.backlog > 0) limited = std::max(limited, c.min_replicas);
    if (limited < cand.replicas) cand = {limited, Reason::kStepLimitedUp};
  }
  if (cand.replicas < current && c.scale_down_max_step > 0 &&
      current - cand.replicas > c.scale_down_max_step) {
    cand = {current - c.scale_down_max_step, Reason::kStepLimitedDown};
  }
  return cand;
}

}  // namespace

void ForgetUnobserved(PolicyState& state) {
  state.zero_backlog_since.reset();
  state.recent.clear();
  state.window_restart = true;
  state.rate_recent.clear();
  state.rate_since.reset();
}

// Defined in rate_policy.cc: the raw pod count of the rate policy.
int64_t RatePolicyRawPods(const PolicyInput& in, const PolicyConfig& c, PolicyState& st);
// Defined in wait_policy.cc: the raw pod count of the wait policy, and what it concluded.
int64_t WaitPolicyRawPods(const PolicyInput& in, const PolicyConfig& c, PolicyState& st,
                          WaitDetail& detail);

Decision Decide(const PolicyInput& all, const PolicyState& state, const PolicyConfig& c) {
  Decision d;
  d.next_state = state;
  // Step 1b: the scale-up rule's view of the observation (EXCLUDE_STUCK_LAG).
  PolicyInput in = all;
  const bool excluding = c.exclude_stuck_lag && all.stuck_lag > 0;
  if (excluding) {
    in.backlog = std::max<int64_t>(0, all.backlog - all.stuck_lag);
    if (in.partitions_with_lag) {
      in.partitions_with_lag = std::max(0, *in.partitions_with_lag - all.stuck_partitions);
    }
  }
  d.recommended_raw = RecommendedPods(in.backlog, c.messages_per_pod);
  int64_t raw = d.recommended_raw;
  Reason raw_reason = Reason::kBacklog;
  if (c.kind == PolicyKind::kRate) {
    raw = RatePolicyRawPods(in, c, d.next_state);
    raw_reason = Reason::kRate;
  } else if (c.kind == PolicyKind::kWait) {
    WaitDetail detail;
    raw = WaitPolicyRawPods(in, c, d.next_state, detail);
    // A count held for the next of repeating bursts (6b) is a prediction too: not idle while
    // nothing arrives between them.
    raw_reason =
        detail.why == "prescale" || detail.why == "prescale_day" || detail.why == "burst_hold"
            ? Reason::kPredicted
            : Reason::kWait;
    d.wait = detail;
  }
  if (excluding) {
    // A stuck partition keeps one consumer on it (never idle); the rule sees the rest.
    const int64_t with_stuck = RecommendedPods(all.backlog, c.messages_per_pod);
    if (c.kind == PolicyKind::kMessages && raw < with_stuck) raw_reason = Reason::kStuckExcluded;
    raw = std::max<int64_t>(raw, 1);
  }
  // TARGET_LAG_SECONDS: the higher of the two counts (max_lag_seconds leaves stuck partitions
  // out when they are excluded; the reconciler computes it so).
  d.lag_replicas = TimeLagPods(in, c, d.next_state);
  if (d.lag_replicas > raw) {
    raw = d.lag_replicas;
    raw_reason = Reason::kTimeLag;
  }
  Candidate cand = Bound(raw, in, c, d.next_state, raw_reason, all.backlog);
  d.recommended = cand.replicas;
  cand = Smooth(cand, all, c, d.next_state);
  d.desired = cand.replicas;
  d.scale = d.desired != in.current_replicas;
  // What the wait policy's next tick compares spec.replicas with: a change to this count was
  // ordered here, and its M runs from here (wait_policy.cc, 6).
  if (c.kind == PolicyKind::kWait) d.next_state.wait.ordered = d.desired;
  d.reason = d.scale || cand.reason != raw_reason ? cand.reason : Reason::kNoChange;
  if (all.backlog > c.message_count_threshold) {
    d.warning = ThresholdWarning{all.backlog, c.message_count_threshold, d.recommended_raw,
                                 d.recommended_raw > c.max_replicas};
  }
  return d;
}

}  // namespace kafka_autoscaler::policy
