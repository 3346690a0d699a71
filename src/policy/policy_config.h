// PolicyConfig: the knobs of the scaling policies, as plain data. Built by config::Load from
// the environment in the daemon, and from a scenario's `autoscaler:` block in the simulator, so
// both feed the very same Decide().
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace kafka_autoscaler::policy {

enum class PolicyKind {
  kMessages,  // the seed's rule: ceil(backlog / MESSAGES_PER_POD)
  kRate,      // ours: throughput-aware drain-time target (policy/rate_policy.h)
  kWait,      // ours: wait-time target from a learned model of the system (policy/wait_policy.cc)
};
std::string_view PolicyKindName(PolicyKind kind);

struct PolicyConfig {
  PolicyKind kind = PolicyKind::kMessages;
  int64_t messages_per_pod = 10;    // MESSAGES_PER_POD; backlog one pod is expected to carry
  int32_t min_replicas = 1;         // MIN_REPLICAS
  int32_t max_replicas = 10;        // MAX_REPLICAS
  int32_t idle_replicas = 0;        // IDLE_REPLICAS; where an idle Deployment goes
  std::chrono::seconds min_ttl{300};  // MIN_TTL_SECONDS; zero backlog this long → idle
  // SCALE_DOWN_STABILIZATION_SECONDS: scale-down takes the highest recommendation within this
  // window; 0 (default) scales down at once, as the seed does.
  std::chrono::seconds scale_down_stabilization{0};
  int32_t scale_up_max_step = 0;    // SCALE_UP_MAX_STEP; pods added per tick at most, 0 = no limit
  int32_t scale_down_max_step = 0;  // SCALE_DOWN_MAX_STEP; pods removed per tick, 0 = no limit
  bool limit_to_partitions = true;  // LIMIT_TO_PARTITIONS; never more consumers than partitions
  int64_t message_count_threshold = 1000;  // MESSAGE_COUNT_THRESHOLD; warn above this backlog
  // ACTIVATION_BACKLOG (default 0 = the seed's behaviour): a Deployment at or below
  // idle_replicas wakes only when the backlog exceeds this; above idle the normal rule applies.
  int64_t activation_backlog = 0;
  // LIMIT_TO_PARTITIONS_WITH_LAG (default false; SCALING_POLICY=messages only): with backlog,
  // never more consumers than partitions with lag > 0 (but never below min_replicas).
  bool limit_to_partitions_with_lag = false;
  // EVEN_PARTITION_DISTRIBUTION (default false): round the count up to the next divisor of the
  // partition count that is <= max_replicas, so every consumer gets as many partitions.
  bool even_partition_distribution = false;
  // EXCLUDE_STUCK_LAG (default false): the lag of stuck partitions (controller/stuck.h) is left
  // out of the scale-up rule; it still counts for idle (a stuck partition never lets the
  // Deployment go idle, and keeps at least one consumer).
  bool exclude_stuck_lag = false;
  // TARGET_LAG_SECONDS (default 0 = off): keep the oldest unconsumed message (the maximum time
  // lag over partitions, kafka/time_lag.h) younger than this; the count it asks for is combined
  // with the policy's own by taking the higher (policy.h, "Time lag").
  std::chrono::seconds target_lag{0};
  // SCALE_ON_UNCOMMITTED (default false): a consumer group with no commit on any partition is
  // held at min_replicas (at least 1 while the topic holds messages) until its first commit;
  // true scales on the offset-reset policy's lag instead (earliest: the whole topic).
  bool scale_on_uncommitted = false;

  // Rate policy only (SCALING_POLICY=rate; policy/rate_policy.cc explains the rule):
  // TARGET_DRAIN_SECONDS (default 30 s): the backlog should drain within this time.
  std::chrono::seconds target_drain{30};
  // RATE_SCALE_DOWN_WINDOW_SECONDS (default 60 s): the slow window; scale-down takes the
  // highest rate recommendation within it. Scale-up has no window (the burst is trusted at once).
  std::chrono::seconds rate_scale_down_window{60};
  // RATE_REBALANCE_SECONDS (default 5 s): how long consumption pauses when the consumer set
  // changes (session/rebalance cost). A scale-up adds capacity to absorb the arrivals of that
  // pause, and changes too small to be worth a pause are skipped.
  std::chrono::seconds rate_rebalance{5};
  // RATE_REBALANCE_SECONDS was given. `wait`'s replay of the lag rule (its cost ceiling) uses
  // a pause it has not timed only when the user stated it; else it assumes the smallest the
  // joins allow (policy/wait_policy.cc, step 10).
  bool rate_rebalance_given = false;
  // RATE_POD_STARTUP_SECONDS (default 30 s): how long a new pod takes to become ready. A
  // scale-up is sized for the backlog that will have piled up by the time its pods consume.
  std::chrono::seconds rate_pod_startup{30};

  // Wait policy only (SCALING_POLICY=wait; policy/wait_policy.cc explains the rule):
  // TARGET_WAIT_SECONDS (default 20 s): the longest time a message should wait.
  std::chrono::seconds target_wait{20};
  // PREDICT (default false): learn a repeating burst period and pre-scale ahead of the next
  // burst when the last two intervals between bursts agree; and ahead of a rise of the daily
  // profile when the days agree on it (policy/policy.h DailyProfile).
  bool predict = false;
  // COST_CEILING (default 0.9; 0 = off): the pods the wait target asks for are limited so
  // that the pod-seconds spent stay within this ratio of what the lag rule (KEDA's Kafka scaler
  // and an HPA with lagThreshold = MESSAGES_PER_POD) would have spent on the same load, weighted
  // over the last day (policy/wait_policy.cc "10."). Below 1 by default: the replay is a model
  // of the rule, not the rule, and the margin keeps its error out of what the policy spends; it
  // narrows as the pods' own noise grows (policy/hpa_rule.h CeilingRatio).
  double cost_ceiling = 0.9;
};

}  // namespace kafka_autoscaler::policy
