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

class MetricSource {
 public:
  virtual ~MetricSource() = default;
  // One complete observation of every partition of the watched topics, within the source's
  // deadline. On any failure (unknown topic, missing partition, authorization, timeout) returns
  // an Error and never a partial or zero observation.
  [[nodiscard]] virtual Result<Observation> Fetch() = 0;
};

}  // namespace kafka_autoscaler::kafka
