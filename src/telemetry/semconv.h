// Names shared by the reconcile loop and the telemetry it emits: span names (the seed's, a
// contract: seed/original-readme.md "Key Traces"), span attribute keys (OpenTelemetry semantic
// conventions where one exists, `kafka_autoscaler.*` otherwise) and label values of metrics.
//
// Constants only; no state. Safe from any thread.
#pragma once

#include <string_view>

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
inline constexpr std::string_view kAttrErrorType = "error.type";  // ErrorCodeName() of a failure

// --- span attribute keys: the decision ---
inline constexpr std::string_view kAttrBacklog = "kafka_autoscaler.backlog";  // messages (int)
inline constexpr std::string_view kAttrPartitions = "kafka_autoscaler.partitions";  // int
// Messages produced per minute (double); absent on the first tick.
inline constexpr std::string_view kAttrThroughput = "kafka_autoscaler.throughput_per_minute";
inline constexpr std::string_view kAttrCurrentReplicas = "kafka_autoscaler.replicas.current";
inline constexpr std::string_view kAttrDesiredReplicas = "kafka_autoscaler.replicas.desired";
inline constexpr std::string_view kAttrRecommendedReplicas =
    "kafka_autoscaler.replicas.recommended";
inline constexpr std::string_view kAttrReason = "kafka_autoscaler.reason";   // the rule (string)
inline constexpr std::string_view kAttrDryRun = "kafka_autoscaler.dry_run";  // bool

// --- metric label values ---
inline constexpr std::string_view kDirectionUp = "up";
inline constexpr std::string_view kDirectionDown = "down";

}  // namespace kafka_autoscaler::telemetry
