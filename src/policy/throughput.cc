#include "policy/throughput.h"

#include <map>
#include <utility>

namespace kafka_autoscaler::policy {

Throughput ComputeThroughput(const kafka::Observation* previous, const kafka::Observation& current) {
  Throughput t;
  if (previous == nullptr) return t;
  const double minutes = SecondsBetween(previous->at, current.at) / 60.0;
  if (minutes <= 0) return t;

  std::map<std::pair<std::string, int32_t>, const kafka::PartitionOffsets*> before;
  for (const auto& p : previous->partitions) before[{p.topic, p.partition}] = &p;

  int64_t produced = 0, consumed = 0;
  bool produced_ok = true, consumed_ok = current.group_mode && previous->group_mode;
  bool any_commit = false;
  for (const auto& p : current.partitions) {
    auto it = before.find({p.topic, p.partition});
    if (it == before.end()) continue;  // a new partition: no rate until the next tick
    const auto& q = *it->second;
    if (p.high < q.high) produced_ok = false;
    produced += p.high - q.high;
    if (p.committed && q.committed) {
      any_commit = true;
      if (*p.committed < *q.committed) consumed_ok = false;
      consumed += *p.committed - *q.committed;
    }
  }
  if (produced_ok) t.produced_per_minute = static_cast<double>(produced) / minutes;
  if (consumed_ok && any_commit) t.consumed_per_minute = static_cast<double>(consumed) / minutes;
  return t;
}

}  // namespace kafka_autoscaler::policy
