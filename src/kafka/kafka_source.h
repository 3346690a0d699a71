// KafkaMetricSource: the MetricSource of the daemon and of `check`, backed by librdkafka.
//
// One Fetch() asks Kafka, within one deadline, for every partition of the watched topics:
//   - partition lists from a Metadata request at every Fetch (so partitions added to a topic
//     count on the next tick; see RefreshMetadata), read again when an offsets answer says
//     they are stale (unknown partition, leader moved); with a topic pattern, one Metadata
//     request for all topics, matched against the pattern;
//   - high and low watermarks, batched: one ListOffsets request per leader broker for each of
//     "latest" and "earliest" (rd_kafka_offsets_for_times with the −1/−2 sentinels, which
//     honours its timeout even when a leader is down, unlike query_watermark_offsets);
//   - with a group, its committed offsets in one OffsetFetch (ListConsumerGroupOffsets with the
//     explicit partition list), sent first so that it overlaps the ListOffsets round trips.
// It then derives lag and backlog with the pure rules of lag.h.
//
// Failure is an Error, never a zero or partial observation: kNotFound (topic does not exist),
// kPermissionDenied (topic or group authorization), kUnauthenticated (SASL), kTimeout
// (deadline passed), kUnavailable (brokers unreachable or leaders moving), kIncomplete (a
// partition missing from an answer), kProtocol (any other broker error). Transient "leader
// moved" answers are retried inside the deadline after a metadata refresh.
//
// Recovery: librdkafka 2.0.2 clients were seen to keep timing out after every broker had been
// down and came back (reconnect backoff, stale broker state). After a retryable failure the
// next Fetch() starts from a new librdkafka client, so the first tick after the brokers return
// succeeds.
//
// Secrets from the properties never appear in errors or logs. Thread-safety: Fetch() is not
// reentrant; call it from one thread at a time (the reconcile loop). librdkafka's own threads
// are owned by the source and stopped when it is destroyed.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/result.h"
#include "config/config.h"
#include "config/topic_pattern.h"
#include "kafka/observation.h"
#include "kafka/properties.h"

namespace kafka_autoscaler::kafka {

struct KafkaSourceOptions {
  std::string bootstrap_servers = "localhost:9092";  // KAFKA_BOOTSTRAP_SERVERS
  std::vector<std::string> topics;                   // KAFKA_TOPIC, comma list summed
  std::optional<std::string> group;                  // KAFKA_CONSUMER_GROUP; unset = topic mode
  config::OffsetResetPolicy offset_reset = config::OffsetResetPolicy::kLatest;
  // KAFKA_TOPIC=re:<regex> (config/topic_pattern.h), without the prefix: instead of `topics`,
  // every topic of the cluster whose name matches, re-read at each Fetch.
  std::optional<std::string> topic_pattern;
  // librdkafka properties (KAFKA_CONFIG_FILE), applied before bootstrap.servers, which always
  // comes from `bootstrap_servers`.
  ClientProperties properties;
  std::chrono::milliseconds timeout{10'000};  // deadline of one Fetch(); default 10 s
  // Request shaping. librdkafka 2.0.2 matches every answered partition to its request list by
  // a linear search, so one request for n partitions costs O(n²) client CPU (~0.65 s for
  // 10,000 partitions); and every request wakes librdkafka's broker threads, which then walk
  // all the partitions they lead (O(partitions) per request). Offsets are asked in chunks of
  // `chunk_partitions` (still one request per leader per chunk), `parallel_requests` chunks at
  // a time. 250 balances the two: a tick at 1,000 partitions takes 53 M instructions
  // (callgrind) against 127 M with chunks of 1,000 and 40 M with 100; at 10,000 partitions
  // ~0.2 s of CPU against ~0.25 s with 1,000 and ~0.3 s with 100 (docs/performance.md).
  size_t chunk_partitions = 250;
  size_t parallel_requests = 4;
  // Not owned; null: none. Once stopped (SIGTERM), Fetch sends no further round of requests
  // (no retry after stale metadata). A request in flight is not interrupted: librdkafka 2.0.2's
  // offset calls are synchronous and end at the Fetch deadline; main's shutdown budget bounds
  // the exit.
  const StopToken* stop = nullptr;
};

// Builds options from the typed configuration: topics, group, reset policy, bootstrap, the
// tick deadline as timeout, and the properties file when KAFKA_CONFIG_FILE is set.
// Errors: kNotFound (file unreadable), kInvalidArgument (malformed file).
[[nodiscard]] Result<KafkaSourceOptions> OptionsFromConfig(const config::Config& config);

// Checks every property against librdkafka (names and values) without connecting anywhere.
// kInvalidArgument with librdkafka's own error text ("No such configuration property: ...");
// secret values are never echoed.
[[nodiscard]] Status ValidateProperties(const ClientProperties& properties);

class KafkaClient;  // RAII wrapper of an rd_kafka_t; private to src/kafka.

class KafkaMetricSource final : public MetricSource {
 public:
  // Validates the options and creates the librdkafka client (no network I/O yet).
  // kInvalidArgument for no topics, an invalid topic pattern or a property librdkafka rejects.
  [[nodiscard]] static Result<std::unique_ptr<KafkaMetricSource>> Create(KafkaSourceOptions options,
                                                                         const Clock& clock,
                                                                         Logger* logger = nullptr);
  ~KafkaMetricSource() override;
  KafkaMetricSource(const KafkaMetricSource&) = delete;
  KafkaMetricSource& operator=(const KafkaMetricSource&) = delete;

  // See the file comment. `at` is the source clock's Now() when the answer arrived.
  [[nodiscard]] Result<Observation> Fetch() override;

  // Number of librdkafka clients created so far (1 after Create; grows on recovery).
  int clients_created() const { return clients_created_; }
  // Number of successful Metadata refreshes so far (one per Fetch, more after stale answers).
  int metadata_refreshes() const { return metadata_refreshes_; }
  // The topics of the last successful refresh (with a pattern: the matching ones, sorted).
  std::vector<std::string> topics_in_use() const;

 private:
  struct TopicLayout {
    std::string topic;
    int32_t partitions = 0;
  };
  KafkaMetricSource(KafkaSourceOptions options, const Clock& clock, Logger* logger);

  [[nodiscard]] Status EnsureClient();
  [[nodiscard]] Status RefreshMetadata(SteadyTime deadline);
  [[nodiscard]] Result<std::vector<TopicLayout>> ListedTopics(SteadyTime deadline);
  [[nodiscard]] Result<std::vector<TopicLayout>> MatchingTopics(SteadyTime deadline);
  bool Matches(const std::string& topic);
  [[nodiscard]] Status CheckNoShrink(const std::vector<TopicLayout>& layout);
  void LogChanges(const std::vector<TopicLayout>& layout);
  [[nodiscard]] Result<Observation> FetchOnce(SteadyTime deadline);

  KafkaSourceOptions options_;
  const Clock& clock_;
  Logger* logger_;
  std::unique_ptr<KafkaClient> client_;
  bool recreate_client_ = false;                 // set after a retryable failure
  bool stale_ = false;                           // the last FetchOnce saw stale metadata
  std::optional<config::TopicPattern> pattern_;  // from options_.topic_pattern
  std::vector<TopicLayout> layout_;              // of this Fetch; empty = unknown
  // Partition counts of the last accepted refresh (they only grow in Kafka), and a smaller
  // count seen once, accepted if the next refresh repeats it (see CheckNoShrink).
  std::map<std::string, int32_t> partitions_seen_;
  std::map<std::string, int32_t> shrink_seen_;
  // pattern_'s verdict per topic name.
  std::unordered_map<std::string, bool> match_cache_;
  std::optional<std::vector<std::string>> topics_logged_;  // pattern mode: last set logged
  int clients_created_ = 0;
  int metadata_refreshes_ = 0;
};

// Builds the daemon's source from the configuration (OptionsFromConfig + Create).
// `stop` (may be null) is KafkaSourceOptions::stop.
[[nodiscard]] Result<std::unique_ptr<MetricSource>> MakeKafkaMetricSource(
    const config::Config& config, const Clock& clock, Logger* logger,
    const StopToken* stop = nullptr);

// `kafka-autoscaler check`: probes Kafka once — brokers (metadata), every topic's partitions,
// offsets and, with a group, its commits — and returns a human-readable multi-line report, or
// the Error of the first step that failed (context says which step).
[[nodiscard]] Result<std::string> ProbeKafka(const KafkaSourceOptions& options, const Clock& clock);

}  // namespace kafka_autoscaler::kafka
