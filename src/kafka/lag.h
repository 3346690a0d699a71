// Lag math: how much of a partition's content a consumer group (or nobody) still has to read.
// Pure functions over offsets; no I/O, no clock. KafkaMetricSource fills an Observation's
// offsets and calls ComputeBacklog(); tests prove retention and reset-policy handling here
// because librdkafka's mock cluster cannot move a low watermark.
//
// Rules (SPEC.md section 3):
//   topic mode  lag = max(0, high − low)
//   group mode  lag = max(0, high − max(committed, low))   — a commit below the low watermark
//               (records deleted by retention) counts only what is still held;
//               a commit above the high watermark (topic recreated, offsets reset past the
//               end) is invalid, not "lag 0": the reset policy applies, as it does for the
//               consumer, which gets OFFSET_OUT_OF_RANGE there;
//               no commit: kEarliest → max(0, high − low);
//               kLatest   → 1 while the partition holds messages (high > low), else 0, enough to
//               wake one consumer from zero so that it can commit (KEDA's behaviour).
// Negative offsets (librdkafka's "invalid" −1001 or −1) never reach these functions as
// commits: callers pass std::nullopt. Sums saturate at INT64_MAX instead of overflowing.
#pragma once

#include <cstdint>
#include <optional>

#include "config/config.h"
#include "kafka/observation.h"

namespace kafka_autoscaler::kafka {

using config::OffsetResetPolicy;

// Messages held by a partition: max(0, high − low).
[[nodiscard]] int64_t TopicLag(int64_t low, int64_t high);

// IsInvalidCommit() (a commit beyond the end of its partition) is in kafka/observation.h, with
// the per-observation counts the reconciler and /metrics use.

// A consumer group's lag on one partition, following the rules above.
[[nodiscard]] int64_t GroupLag(int64_t low, int64_t high, std::optional<int64_t> committed,
                               OffsetResetPolicy reset);

// Sets every partition's `lag`, and the observation's `backlog`, `partition_count` and
// `group_mode`. In topic mode `committed` is ignored.
void ComputeBacklog(Observation& observation, bool group_mode, OffsetResetPolicy reset);

}  // namespace kafka_autoscaler::kafka
