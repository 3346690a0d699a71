// KedaHpaModel: a model of what most of our users run today, KEDA's Kafka scaler feeding a
// Kubernetes HorizontalPodAutoscaler, so `simulate` can compare our policies against it. It is
// not our policy and does not go through Decide(): it is the peer, modelled rule by rule.
//
// Each rule and where it comes from (KEDA v2 `pkg/scalers/kafka_scaler.go` and docs
// keda.sh/docs/latest/scalers/apache-kafka; Kubernetes `pkg/controller/podautoscaler/
// horizontal.go`, `replica_calculator.go`, and the autoscaling/v2 defaults of HPAScalingRules):
//   1. Metric: total consumer-group lag over the topic's partitions (kafka_scaler getTotalLag,
//      per partition latest − committed).
//   2. Partition cap: with allowIdleConsumers=false (default) and limitToPartitionsWithLag=false
//      (default), if totalLag / lagThreshold (integer division) > partitions, totalLag becomes
//      partitions × lagThreshold, so the HPA never asks for more pods than partitions.
//   3. The ScaledObject exposes it as an External metric with target type AverageValue =
//      lagThreshold (= the scenario's messages_per_pod).
//   4. KEDA's own loop polls every pollingInterval (default 30 s): it decides activity
//      (lag > activationLagThreshold, default 0) and scales 0 ↔ 1 only when minReplicaCount is 0
//      (back to 0 after cooldownPeriod, default 300 s, of inactivity). The HPA reads the metric
//      through KEDA's metrics server on each of its syncs; with useCachedMetrics=false (default)
//      that read queries Kafka live. `cached_metrics` models useCachedMetrics=true (the value
//      from the last poll).
//   5. The HPA syncs every 15 s (kube-controller-manager --horizontal-pod-autoscaler-sync-period).
//      replica_calculator GetExternalPerPodMetricReplicas: usageRatio = usage / (target ×
//      specReplicas); if |1 − usageRatio| <= 0.1 (--horizontal-pod-autoscaler-tolerance) keep
//      specReplicas, else ceil(usage / target). No sync acts while spec is 0 (HPA disabled).
//   6. horizontal.go stabilizeRecommendationWithBehaviors: scale-up window 0 s; scale-down
//      window 300 s, taking the highest recommendation recorded within it (the current one
//      included).
//   7. convertDesiredReplicasWithBehaviorRate, default rules: scale-up at most
//      max(+4 pods, +100 %) per 15 s period counted from the replicas at the period's start
//      (selectPolicy Max); scale-down at most 100 % per 15 s (no practical limit); then clamp
//      to [minReplicaCount, maxReplicaCount].
// Rules 2 and 5-7 are policy/hpa_rule.h's, shared with the wait policy's cost ceiling.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "policy/hpa_rule.h"
#include "sim/sim_world.h"

namespace kafka_autoscaler::sim {

using KedaHpaConfig = policy::HpaRule;

class KedaHpaModel {
 public:
  // `phase_seconds`: KEDA polls at phase + k × pollingInterval and the HPA syncs at phase +
  // k × its sync period, for every whole k, negative too: the clocks ran before the run began
  // (Scenario::keda_phase_seconds).
  KedaHpaModel(KedaHpaConfig config, kafka::MetricSource& source, kube::ScaleTarget& target,
               double phase_seconds = 0)
      : config_(config), phase_(phase_seconds), source_(source), target_(target) {}

  // Runs whatever KEDA and the HPA would do at `now_seconds` (call once per simulation step,
  // with steps that land on the phase plus every multiple of the poll and sync periods).
  [[nodiscard]] Status Step(double now_seconds);

  // The metric value KEDA reports for a total lag (rule 2).
  [[nodiscard]] int64_t CappedLag(int64_t total_lag) const {
    return policy::HpaCappedLag(config_, total_lag);
  }
  // The HPA's replica proposal for a metric value and the current spec (rule 5).
  [[nodiscard]] int32_t Proposal(int64_t metric, int32_t spec_replicas) const {
    return policy::HpaProposal(config_, metric, spec_replicas);
  }

 private:
  [[nodiscard]] Status HpaSync(double now, int64_t metric);
  [[nodiscard]] bool Due(double now, double period) const;

  KedaHpaConfig config_;
  double phase_;
  kafka::MetricSource& source_;
  kube::ScaleTarget& target_;
  std::optional<int64_t> cached_metric_;
  std::optional<double> last_active_at_;
  policy::HpaMemory hpa_;
};

}  // namespace kafka_autoscaler::sim
