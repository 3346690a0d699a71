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
// joins (ClusterOptions::observer_group). tests/kafka/shared_observer_test.cc proves it on that
// fault: a death test shows a handle without group.id dying (SIGSEGV) on a NOT_COORDINATOR
// answer, and the observer survives it, asking that group again within the pass's deadline.
//
// Metadata: with explicit topics only (and at most max_listed_topics of them), librdkafka's
// Metadata request names the topics it knows locally — the batch's topics (handles held by the
// observer) plus those in its metadata cache — not every topic of the cluster; with a pattern
// target or more topics, all topics. Requests that go wrong
// because a leader moved are retried (up to 3 rounds, within the deadline) for the targets they
// failed only. A pass in which every target fails retryably (brokers down) makes the next pass
// start from a new librdkafka client, as KafkaMetricSource does. A topic with fewer partitions
// than the observer saw fails its targets once (kIncomplete: stale metadata, or a recreated
// topic, accepted when the next pass repeats the count), as in KafkaMetricSource. The topics a
// pattern matches are logged once per change of the set, per pattern (not per target).
//
// Thread-safety: Observe() is not reentrant (one pass at a time); stats() from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/result.h"
#include "config/config.h"
#include "kafka/observation.h"
#include "kafka/properties.h"

namespace kafka_autoscaler::kafka {

struct ClusterOptions {
  std::string name = "default";  // KafkaScaler spec.kafkaCluster
  std::string bootstrap_servers = "localhost:9092";
  ClientProperties properties;                // librdkafka properties (TLS, SASL, ...)
  std::chrono::milliseconds timeout{10'000};  // deadline of one pass
  // Request shaping, as KafkaSourceOptions: ListOffsets in chunks of `chunk_partitions` (one
  // request per leader per chunk), `parallel_requests` chunks at a time.
  size_t chunk_partitions = 250;
  size_t parallel_requests = 4;
  // The group.id the shared handle carries and never joins (librdkafka#5040, above). Not a
  // group any target observes.
  std::string observer_group = "kafka-autoscaler-observer";
  // A batch naming more distinct topics than this asks the Metadata of all topics (an answer of
  // ~30 bytes a partition of the cluster) instead of holding a librdkafka topic handle per
  // topic: handles make librdkafka keep per-partition state that its threads walk (measured
  // with bench/many_targets at 3,000 topics × 12 partitions: +60 MiB RSS and ~1.1 s of CPU a
  // pass more than asking for all topics).
  size_t max_listed_topics = 100;
  // Optional: librdkafka's statistics JSON, when `properties` set statistics.interval.ms
  // (served at the start of each pass; tests cross-check RequestCounts with it).
  std::function<void(std::string_view)> on_statistics;
};

// What one target watches.
struct TargetQuery {
  std::string key;                           // "namespace/name" of the KafkaScaler
  std::vector<std::string> topics;           // explicit topics
  std::optional<std::string> topic_pattern;  // regex (without "re:"), instead of topics
  std::optional<std::string> group;          // consumer group; unset = topic mode
  config::OffsetResetPolicy offset_reset = config::OffsetResetPolicy::kLatest;
};

// Requests sent by the observer, by Kafka API, since creation (for /metrics and the benchmark).
struct RequestCounts {
  int64_t metadata = 0;
  int64_t list_offsets = 0;
  int64_t offset_fetch = 0;
  int64_t passes = 0;
  int64_t clients_created = 0;  // librdkafka handles created (1, more after recoveries)
};

class SharedObserver {
 public:
  [[nodiscard]] static Result<std::unique_ptr<SharedObserver>> Create(ClusterOptions options,
                                                                      const Clock& clock,
                                                                      Logger* logger = nullptr);
  virtual ~SharedObserver() = default;

  // One pass for `targets` (see the file comment): a result per target key, each an
  // Observation or that target's Error (context "kafka: "). Invalid targets (no topic, bad
  // pattern, empty group) get kInvalidArgument. An empty batch asks Kafka nothing (it only
  // serves librdkafka's callbacks, e.g. on_statistics).
  [[nodiscard]] virtual std::map<std::string, Result<Observation>> Observe(
      const std::vector<TargetQuery>& targets) = 0;

  virtual RequestCounts stats() const = 0;
};

}  // namespace kafka_autoscaler::kafka
