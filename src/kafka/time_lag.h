// Time lag: per partition, the age of the oldest message the consumer has not read yet, estimated
// from the (time, high watermark) samples the daemon takes at every successful tick — the way
// kafka-lag-exporter does (its LookupTable), with no extra request to Kafka.
//
// Each partition keeps a table of samples (when, high). The position the consumer reads next is
// `high − lag` (the partition's lag from ComputeBacklog: the committed offset in group mode, the
// low watermark in topic mode, the reset policy when there is no valid commit). The message at
// that position was written when the high watermark passed it, so:
//   - lag 0 → 0 s (exact);
//   - otherwise take the newest sample whose high is <= position (l) and the one after it (r,
//     whose high is > position: the newest sample is the current high) and interpolate linearly
//     the time the high watermark was at the position:
//        t = t_l + (position − high_l) × (t_r − t_l) / (high_r − high_l);   seconds = now − t.
//     This is exact to the sampling interval while the position is within the table;
//   - position below the oldest sample's high: the message is older than the table, so the
//     figure is a lower bound, now − t_oldest, and `lower_bound` is set.
// A flat run of samples (no message produced) keeps only its first and last sample, as in
// kafka-lag-exporter, so an idle partition does not push its history out of the table. A high
// watermark that goes backwards (topic recreated) restarts that partition's table.
//
// Memory is bounded: at most `max_samples` (default kDefaultTimeLagSamples = 60; 16 bytes each,
// about 1 KiB per partition) per partition, held in a vector that grows with the samples (an idle
// partition's flat run costs 2 samples, not a deque's 576-byte first block: many-targets mode
// keeps one tracker per target), and a partition that is missing from an observation
// (deleted, or a topic no longer watched) is dropped at once. With 60 s ticks and a steady
// producer the table covers one hour; lags older than that are lower bounds.
//
// Pure computation over the observations it is given (no clock, no I/O). Not thread-safe: the
// reconciler's thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "kafka/observation.h"

namespace kafka_autoscaler::kafka {

inline constexpr size_t kDefaultTimeLagSamples = 60;

struct PartitionTimeLag {
  std::string topic;
  int32_t partition = 0;
  double seconds = 0;        // age of the oldest unconsumed message; 0 without lag
  bool lower_bound = false;  // older than the oldest sample: at least `seconds`
};

struct TimeLag {
  std::vector<PartitionTimeLag> partitions;  // in the observation's order
  double max_seconds = 0;                    // the largest of `partitions` (0 when none)
  bool max_lower_bound = false;              // that largest figure is a lower bound
};

class TimeLagTracker {
 public:
  explicit TimeLagTracker(size_t max_samples = kDefaultTimeLagSamples);

  // Records the observation's high watermarks (at observation.at), drops partitions it does not
  // list, and returns every partition's time lag as of observation.at.
  TimeLag Update(const Observation& observation);

  // Samples held for one partition (tests: the memory bound); 0 when unknown.
  size_t SampleCount(const std::string& topic, int32_t partition) const;
  size_t PartitionCount() const { return tables_.size(); }

 private:
  struct Sample {
    SteadyTime at;
    int64_t high = 0;
  };
  using Table = std::vector<Sample>;  // oldest first
  void Add(Table& table, Sample sample) const;
  static PartitionTimeLag Estimate(const Table& table, const PartitionOffsets& p, SteadyTime now);

  size_t max_samples_;
  std::map<std::pair<std::string, int32_t>, Table> tables_;
};

}  // namespace kafka_autoscaler::kafka
