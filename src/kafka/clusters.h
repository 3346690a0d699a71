// Named Kafka clusters for many-targets mode: KAFKA_CLUSTERS_FILE, a YAML file (mounted from a
// Secret, since it may carry credentials) defining the clusters a KafkaScaler may name in
// spec.kafkaCluster besides `default` (which always comes from KAFKA_BOOTSTRAP_SERVERS and
// KAFKA_CONFIG_FILE). Clusters are the instance's: application namespaces only pick one by name.
//
//   clusters:
//     - name: analytics                      # DNS label, unique, not "default"
//       bootstrapServers: "kafka-a:9092,kafka-b:9092"
//       properties:                          # optional librdkafka properties (TLS, SASL, ...)
//         security.protocol: SASL_SSL
//         sasl.mechanism: SCRAM-SHA-512
//         sasl.username: autoscaler
//         sasl.password: "..."
//
// Every problem is reported at once (kInvalidArgument, one detail line each, naming the entry and
// field: "clusters[1].name: \"default\" is reserved ..."); property values are never echoed, and
// librdkafka checks each property name and value (ValidateProperties) before anything connects.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "kafka/shared_observer.h"

namespace kafka_autoscaler::kafka {

// Parses the file's text; each cluster starts from `base` (timeouts, request shaping) with its
// name, bootstrap servers and properties set. `source` names the file in errors.
[[nodiscard]] Result<std::vector<ClusterOptions>> ParseClusters(std::string_view yaml,
                                                                std::string_view source,
                                                                const ClusterOptions& base);

// Reads and parses the file. kNotFound when it cannot be read.
[[nodiscard]] Result<std::vector<ClusterOptions>> LoadClustersFile(const std::string& path,
                                                                   const ClusterOptions& base);

}  // namespace kafka_autoscaler::kafka
