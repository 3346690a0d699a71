// Throughput: messages per minute from two successive observations. Pure functions.
//
// Produced = Δ Σ high watermark / Δt; consumed = Δ Σ committed offset / Δt (group mode). Only
// partitions present in both observations count, so partitions added between two ticks never
// show up as a burst of "produced" messages; a counter that went backwards (a reset or a
// recreated topic) yields no figure rather than a negative one.
#pragma once

#include <optional>

#include "kafka/observation.h"

namespace kafka_autoscaler::policy {

struct Throughput {
  std::optional<double> produced_per_minute;
  std::optional<double> consumed_per_minute;
};

// Absent figures when `previous` is null (first tick), when no time passed, or when the
// counters went backwards.
[[nodiscard]] Throughput ComputeThroughput(const kafka::Observation* previous,
                                           const kafka::Observation& current);

}  // namespace kafka_autoscaler::policy
