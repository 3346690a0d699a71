// Observation: what one look at Kafka saw — per partition offsets and the derived backlog —
// and MetricSource, the seam that produces it (librdkafka in the daemon, a fake in tests,
// a simulated topic in `simulate`). Plain data; safe to copy between threads.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace kafka_autoscaler::kafka {

struct PartitionOffsets {
  std::string topic;
  int32_t partition = 0;
  int64_t low = 0;                   // earliest offset still held (low watermark)
  int64_t high = 0;                  // next offset to be written (high watermark)
  std::optional<int64_t> committed;  // the group's committed offset; absent when none
  int64_t lag = 0;                   // this partition's share of the backlog
};

struct Observation {
  SteadyTime at;                          // when the answer arrived (monotonic)
  std::vector<PartitionOffsets> partitions;  // every partition of every watched topic
  int64_t backlog = 0;                    // Σ lag (topic mode: Σ high − low)
  int32_t partition_count = 0;
  bool group_mode = false;                // lag is a consumer group's (KAFKA_CONSUMER_GROUP)
};

// How many partitions have lag > 0 (LIMIT_TO_PARTITIONS_WITH_LAG); absent when the observation
// carries no per-partition offsets.
inline std::optional<int32_t> PartitionsWithLag(const Observation& observation) {
  if (observation.partitions.empty()) return std::nullopt;
  return static_cast<int32_t>(std::count_if(observation.partitions.begin(),
                                            observation.partitions.end(),
                                            [](const PartitionOffsets& p) { return p.lag > 0; }));
}

// A commit beyond the end of its partition (committed > high; topic recreated, offsets reset
// past the end): invalid, the offset-reset policy applies to the partition (kafka/lag.h).
inline bool IsInvalidCommit(int64_t high, std::optional<int64_t> committed) {
  return committed.has_value() && *committed > high;
}

// Group mode (KAFKA_CONSUMER_GROUP): partitions whose commit is invalid, and partitions the group
// has no commit on. Both 0 in topic mode. On /metrics as
// kafka_autoscaler_invalid_commit_partitions and kafka_autoscaler_uncommitted_partitions.
inline int32_t InvalidCommitPartitions(const Observation& observation) {
  if (!observation.group_mode) return 0;
  return static_cast<int32_t>(std::count_if(
      observation.partitions.begin(), observation.partitions.end(),
      [](const PartitionOffsets& p) { return IsInvalidCommit(p.high, p.committed); }));
}
inline int32_t UncommittedPartitions(const Observation& observation) {
  if (!observation.group_mode) return 0;
  return static_cast<int32_t>(
      std::count_if(observation.partitions.begin(), observation.partitions.end(),
                    [](const PartitionOffsets& p) { return !p.committed.has_value(); }));
}
// A group that never committed: group mode, and no partition has a commit.
inline bool NoPartitionCommitted(const Observation& observation) {
  return observation.group_mode && !observation.partitions.empty() &&
         UncommittedPartitions(observation) == static_cast<int32_t>(observation.partitions.size());
}

class MetricSource {
 public:
  virtual ~MetricSource() = default;
  // One complete observation of every partition of the watched topics, within the source's
  // deadline. On any failure (unknown topic, missing partition, authorization, timeout) returns
  // an Error and never a partial or zero observation.
  [[nodiscard]] virtual Result<Observation> Fetch() = 0;
};

// The failure of an observation that found `topic` with fewer partitions than before: a broker's
// stale metadata or a recreated topic (KafkaMetricSource and SharedObserver fail once on it).
inline Error ShrunkTopicError(const std::string& topic, int32_t now, int32_t before) {
  return Error{ErrorCode::kIncomplete,
               "metadata says topic '" + topic + "' has " + std::to_string(now) + " partitions, " +
                   std::to_string(before) + " before (stale metadata, or the topic was recreated)",
               {},
               std::nullopt};
}

}  // namespace kafka_autoscaler::kafka
