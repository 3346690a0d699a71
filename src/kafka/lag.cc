#include "kafka/lag.h"

#include <algorithm>
#include <limits>

namespace kafka_autoscaler::kafka {
namespace {

int64_t SaturatingAdd(int64_t a, int64_t b) {
  // Both are non-negative here.
  if (a > std::numeric_limits<int64_t>::max() - b) return std::numeric_limits<int64_t>::max();
  return a + b;
}

}  // namespace

int64_t TopicLag(int64_t low, int64_t high) { return high > low ? high - low : 0; }

int64_t GroupLag(int64_t low, int64_t high, std::optional<int64_t> committed,
                 OffsetResetPolicy reset) {
  if (committed.has_value() && !IsInvalidCommit(high, committed)) {
    return TopicLag(std::max(*committed, low), high);
  }
  switch (reset) {
    case OffsetResetPolicy::kEarliest:
      return TopicLag(low, high);
    case OffsetResetPolicy::kLatest:
      return high > low ? 1 : 0;
  }
  return 0;
}

void ComputeBacklog(Observation& observation, bool group_mode, OffsetResetPolicy reset) {
  int64_t backlog = 0;
  for (auto& p : observation.partitions) {
    p.lag = group_mode ? GroupLag(p.low, p.high, p.committed, reset) : TopicLag(p.low, p.high);
    backlog = SaturatingAdd(backlog, p.lag);
  }
  observation.backlog = backlog;
  observation.partition_count = static_cast<int32_t>(observation.partitions.size());
  observation.group_mode = group_mode;
}

}  // namespace kafka_autoscaler::kafka
