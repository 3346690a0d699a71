// KafkaScaler (kafka-autoscaler.io/v1alpha1, deploy/many/kafkascaler-crd.yaml) → Config.
//
// A KafkaScaler's spec carries the per-target environment variables of env-var mode in
// camelCase (MESSAGES_PER_POD → messagesPerPod). FromKafkaScaler() turns the spec back into
// those variables and runs the same Load(), so both modes share one set of defaults, bounds and
// cross-field rules; problems are reported with the spec's field paths
// ("spec.minReplicas=5: must be <= spec.maxReplicas (2)"), ready for a status condition.
//
// Instance-wide variables (Kafka connection, health server, leader election, logging) never come
// from a KafkaScaler: they are taken from the instance's environment. Per-target variables in the
// instance's environment are ignored here: every KafkaScaler starts from the product's defaults.
// Pure functions; no I/O.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/config.h"

namespace kafka_autoscaler::config {

// Variables that belong to the instance, not to a target (a subset of KnownVariables()).
const std::vector<std::string>& InstanceVariables();

// "MIN_TTL_SECONDS" → "minTtlSeconds".
std::string SpecFieldName(std::string_view variable);

// One KafkaScaler, read.
struct KafkaScalerTarget {
  std::string name;           // metadata.name
  std::string target_kind;    // spec.scaleTargetRef.kind: Deployment or StatefulSet
  std::string kafka_cluster;  // spec.kafkaCluster (default "default")
  bool paused = false;        // spec.paused: observe and report, never write
  Config config;              // namespace = metadata.namespace, deployment = target name
};

// Builds the target from a KafkaScaler object and the instance's environment. Errors:
// kInvalidArgument with one detail per problem, each naming the spec field (unknown fields,
// wrong JSON types, and everything Load() refuses).
[[nodiscard]] Result<KafkaScalerTarget> FromKafkaScaler(const nlohmann::json& object,
                                                        const Env& instance_env);

}  // namespace kafka_autoscaler::config
