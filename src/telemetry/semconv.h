// Names shared by the reconcile loop and the telemetry it emits: span names (the seed's, a
// contract: seed/original-readme.md "Key Traces"), span attribute keys (OpenTelemetry semantic
// conventions where one exists, `kafka_autoscaler.*` otherwise), label values of metrics, and the
// error kinds counted on /metrics, logged and set on spans.
//
// Constants and pure functions only; no state. Safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kafka_autoscaler::telemetry {

// --- span names ---
inline constexpr std::string_view kSpanReconcile = "reconcile";  // root, INTERNAL, one per tick
inline constexpr std::string_view kSpanCheckKafkaHealth = "check_kafka_health";            // CLIENT
inline constexpr std::string_view kSpanGetTopicLength = "get_topic_length";  // INTERNAL: backlog, throughput
inline constexpr std::string_view kSpanCheckKubernetesHealth = "check_kubernetes_health";  // CLIENT
inline constexpr std::string_view kSpanScaleDeployment = "scale_deployment";  // CLIENT, acts only

// --- span attribute keys: semantic conventions ---
inline constexpr std::string_view kAttrMessagingSystem = "messaging.system";  // value "kafka"
inline constexpr std::string_view kMessagingSystemKafka = "kafka";
inline constexpr std::string_view kAttrMessagingDestinationName = "messaging.destination.name";
inline constexpr std::string_view kAttrMessagingConsumerGroupName = "messaging.consumer.group.name";
inline constexpr std::string_view kAttrK8sNamespaceName = "k8s.namespace.name";
inline constexpr std::string_view kAttrK8sDeploymentName = "k8s.deployment.name";
inline constexpr std::string_view kAttrErrorType = "error.type";  // ErrorKind() of a failure

// --- span attribute keys: kafka-autoscaler's own, all under `kafka_autoscaler.*` ---
// Never inside an OpenTelemetry namespace (`k8s.*`, `messaging.*`, ...): a key there that the
// conventions do not define may be defined differently later. export_test checks every key a
// real tick emits against the official registry.
inline constexpr std::string_view kAttrBacklog = "kafka_autoscaler.backlog";  // messages (int)
// "group_lag" (KAFKA_CONSUMER_GROUP set) or "topic_messages".
inline constexpr std::string_view kAttrBacklogMode = "kafka_autoscaler.backlog.mode";
inline constexpr std::string_view kAttrPartitions = "kafka_autoscaler.partitions";  // int
// Partitions with lag, when LIMIT_TO_PARTITIONS_WITH_LAG caps the decision (int).
inline constexpr std::string_view kAttrPartitionsWithLag = "kafka_autoscaler.partitions_with_lag";
// Consumer group mode (root span): partitions whose commit lies beyond the high watermark
// (reason invalid_commit holds instead of going idle), and partitions with no commit (all of
// them: reason uncommitted holds at MIN_REPLICAS) (int).
inline constexpr std::string_view kAttrPartitionsInvalidCommit =
    "kafka_autoscaler.invalid_commit_partitions";
inline constexpr std::string_view kAttrPartitionsUncommitted =
    "kafka_autoscaler.uncommitted_partitions";
// Messages produced / consumed per minute (double); absent on the first tick.
inline constexpr std::string_view kAttrProducedPerMinute = "kafka_autoscaler.produced_per_minute";
inline constexpr std::string_view kAttrConsumedPerMinute = "kafka_autoscaler.consumed_per_minute";
// The Deployment's /scale as read: spec.replicas and status.replicas (int).
inline constexpr std::string_view kAttrCurrentReplicas = "kafka_autoscaler.replicas.current";
inline constexpr std::string_view kAttrStatusReplicas = "kafka_autoscaler.replicas.status";
inline constexpr std::string_view kAttrPaused = "kafka_autoscaler.paused";  // bool: annotation
// The decision (root span): replicas asked for, and the unclamped recommendation.
inline constexpr std::string_view kAttrDesiredReplicas = "kafka_autoscaler.replicas.desired";
inline constexpr std::string_view kAttrRecommendedReplicas =
    "kafka_autoscaler.replicas.recommended";
inline constexpr std::string_view kAttrReason = "kafka_autoscaler.reason";  // ReasonName()
inline constexpr std::string_view kAttrPolicy = "kafka_autoscaler.policy";  // PolicyKindName()
inline constexpr std::string_view kAttrAction = "kafka_autoscaler.action";  // ActionName()
inline constexpr std::string_view kAttrConsecutiveFailures =
    "kafka_autoscaler.consecutive_failures";  // failed observations in a row (int)
// SCALING_POLICY=wait (root span): what its model concluded (policy/wait_policy.cc).
inline constexpr std::string_view kAttrWaitPredictedPeakSeconds =
    "kafka_autoscaler.wait.predicted_peak_seconds";
inline constexpr std::string_view kAttrWaitArrivalRate = "kafka_autoscaler.wait.arrival_rate";
inline constexpr std::string_view kAttrWaitArrivalSigma = "kafka_autoscaler.wait.arrival_sigma";
inline constexpr std::string_view kAttrWaitPerPodRate = "kafka_autoscaler.wait.per_pod_rate";
// σ_μ: the noise of one pod's rate, relative to it (0.1 = 10 %).
inline constexpr std::string_view kAttrWaitPerPodRateNoise =
    "kafka_autoscaler.wait.per_pod_rate_noise";
inline constexpr std::string_view kAttrWaitStartupSeconds = "kafka_autoscaler.wait.startup_seconds";
inline constexpr std::string_view kAttrWaitRebalanceSeconds =
    "kafka_autoscaler.wait.rebalance_seconds";
inline constexpr std::string_view kAttrWaitWhy = "kafka_autoscaler.wait.why";
// COST_CEILING (while on, once one pod's rate is known): the lag rule's count in its replay on
// the same load (int), and the pod-seconds it and the policy spent, weighted over a day (double).
inline constexpr std::string_view kAttrWaitLagRuleReplicas =
    "kafka_autoscaler.wait.lag_rule.replicas";
inline constexpr std::string_view kAttrWaitLagRulePodSeconds =
    "kafka_autoscaler.wait.lag_rule.pod_seconds";
inline constexpr std::string_view kAttrWaitPodSeconds = "kafka_autoscaler.wait.pod_seconds";
// ... and the start-up and rebalance pause the replay runs with (double, seconds; timed from the
// ups' joins: policy/wait_policy.cc "3c.").
inline constexpr std::string_view kAttrWaitLagRuleStartupSeconds =
    "kafka_autoscaler.wait.lag_rule.startup_seconds";
inline constexpr std::string_view kAttrWaitLagRuleRebalanceSeconds =
    "kafka_autoscaler.wait.lag_rule.rebalance_seconds";
// ... and the phase of the rule's clock whose replay stood: the second of its first HPA sync
// after the replay began (double; 0, 5 or 10 for a 15 s sync period, the cheapest of the three:
// policy/hpa_rule.h LagReplay).
inline constexpr std::string_view kAttrWaitLagRulePhaseSeconds =
    "kafka_autoscaler.wait.lag_rule.phase_seconds";
// Stuck partitions (root span, controller/stuck.h): how many (int, every successful tick); and
// while any: their summed lag (int), "topic/partition@committed,..." (string), and whether
// EXCLUDE_STUCK_LAG left that lag out of the decision (bool).
inline constexpr std::string_view kAttrStuckPartitions = "kafka_autoscaler.stuck.partitions";
inline constexpr std::string_view kAttrStuckLag = "kafka_autoscaler.stuck.lag";
inline constexpr std::string_view kAttrStuckList = "kafka_autoscaler.stuck.list";
inline constexpr std::string_view kAttrStuckExcluded = "kafka_autoscaler.stuck.excluded";
// Time lag (root span, every successful observation; kafka/time_lag.h): the largest age of the
// oldest unconsumed message over partitions (double, seconds), whether that figure is only a
// lower bound (bool: older than the sampled history), and, with TARGET_LAG_SECONDS, the count
// the time-lag rule asked for (int; 0 = no opinion).
inline constexpr std::string_view kAttrLagSeconds = "kafka_autoscaler.lag_seconds";
inline constexpr std::string_view kAttrLagSecondsLowerBound =
    "kafka_autoscaler.lag_seconds.lower_bound";
inline constexpr std::string_view kAttrLagReplicas = "kafka_autoscaler.replicas.time_lag";
// The write (scale_deployment span): spec.replicas before and after (int).
inline constexpr std::string_view kAttrFromReplicas = "kafka_autoscaler.replicas.from";
inline constexpr std::string_view kAttrToReplicas = "kafka_autoscaler.replicas.to";

// --- error kinds: one vocabulary for the `kind` label of kafka_autoscaler_errors_total, the
// `error_kind` field of logs and the error.type attribute of spans ---
// A kind is "<domain>_<ErrorCodeName>": "kafka_timeout", "kube_conflict", "event_forbidden"...
// The reconciler makes every kind with ErrorKind(); Metrics pre-creates AllErrorKinds() at zero.
enum class ErrorDomain {
  kKafka,  // reading the backlog from Kafka
  kKube,   // reading or writing the Deployment's /scale
  kEvent,  // posting a Kubernetes Event
};
inline constexpr ErrorDomain kAllErrorDomains[] = {ErrorDomain::kKafka, ErrorDomain::kKube,
                                                   ErrorDomain::kEvent};

constexpr std::string_view ErrorDomainName(ErrorDomain domain) {
  switch (domain) {
    case ErrorDomain::kKafka:
      return "kafka";
    case ErrorDomain::kKube:
      return "kube";
    case ErrorDomain::kEvent:
      return "event";
  }
  return "unknown";
}

inline std::string ErrorKind(ErrorDomain domain, ErrorCode code) {
  return std::string(ErrorDomainName(domain)) + "_" + std::string(ErrorCodeName(code));
}

// Every kind ErrorKind() can return, domain by domain.
inline std::vector<std::string> AllErrorKinds() {
  std::vector<std::string> kinds;
  for (ErrorDomain d : kAllErrorDomains) {
    for (ErrorCode c : kAllErrorCodes) kinds.push_back(ErrorKind(d, c));
  }
  return kinds;
}

// --- metric label values ---
inline constexpr std::string_view kDirectionUp = "up";
inline constexpr std::string_view kDirectionDown = "down";

}  // namespace kafka_autoscaler::telemetry
