// SharedObserver: one Kafka client serving every target of one cluster (many-targets mode).
//
// A pass asks for the observations of a batch of targets at once. It reads the cluster's
// metadata once (one Metadata request for all topics in the batch), asks each leader broker for
// the watermarks of the union of the batch's partitions (deduplicated: two targets on one topic
// cost one ask), and each consumer group for its commits once (one OffsetFetch per group, even
// when several targets share the group), then derives every target's Observation with the same
// rules as KafkaMetricSource (kafka/lag.h). One target's failure (unknown topic, group not
// authorized) fails only that target's result.
//
// Groups: librdkafka 2.0.2's admin ListConsumerGroupOffsets dereferences a null consumer group
// when the broker answers NOT_COORDINATOR and the handle has no group.id of its own
// (librdkafka#5040). The shared client therefore carries a group.id of its own that it never
// joins (see the implementation for how this is proven on that fault).
//
// Thread-safety: Observe() is not reentrant (one pass at a time); stats() from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/result.h"
#include "config/config.h"
#include "kafka/observation.h"
#include "kafka/properties.h"

namespace kafka_autoscaler::kafka {

struct ClusterOptions {
  std::string name = "default";                      // KafkaScaler spec.kafkaCluster
  std::string bootstrap_servers = "localhost:9092";
  ClientProperties properties;                        // librdkafka properties (TLS, SASL, ...)
  std::chrono::milliseconds timeout{10'000};          // deadline of one pass
};

// What one target watches.
struct TargetQuery {
  std::string key;                         // "namespace/name" of the KafkaScaler
  std::vector<std::string> topics;         // explicit topics
  std::optional<std::string> topic_pattern;  // regex (without "re:"), instead of topics
  std::optional<std::string> group;        // consumer group; unset = topic mode
  config::OffsetResetPolicy offset_reset = config::OffsetResetPolicy::kLatest;
};

// Requests sent by the observer, by Kafka API, since creation (for /metrics and the benchmark).
struct RequestCounts {
  int64_t metadata = 0;
  int64_t list_offsets = 0;
  int64_t offset_fetch = 0;
  int64_t passes = 0;
};

class SharedObserver {
 public:
  [[nodiscard]] static Result<std::unique_ptr<SharedObserver>> Create(ClusterOptions options,
                                                                      const Clock& clock,
                                                                      Logger* logger = nullptr);
  virtual ~SharedObserver() = default;

  // One pass for `targets` (see the file comment): a result per target key, each an
  // Observation or that target's Error.
  [[nodiscard]] virtual std::map<std::string, Result<Observation>> Observe(
      const std::vector<TargetQuery>& targets) = 0;

  virtual RequestCounts stats() const = 0;
};

}  // namespace kafka_autoscaler::kafka
