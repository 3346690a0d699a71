#include "controller/stuck.h"

#include <limits>

namespace kafka_autoscaler::controller {

StuckReport StuckTracker::Observe(const kafka::Observation& observation, SteadyTime now) {
  std::map<Key, Track> next;
  if (observation.group_mode) {
    for (const kafka::PartitionOffsets& p : observation.partitions) {
      Key key{p.topic, p.partition};
      auto prev = tracks_.find(key);
      Track t = prev != tracks_.end() ? prev->second : Track{};
      const bool known = prev != tracks_.end();
      const bool moved = known && t.commit != p.committed;
      if (moved) t.moved_at = now;
      t.commit = p.committed;
      t.lag = p.lag;
      if (!p.committed || p.lag <= 0) {
        t.lag_since.reset();  // Burrow: any zero lag in the window is OK
        t.stuck = false;
      } else if (moved || !t.lag_since) {
        t.lag_since = now;
        t.stuck = false;
      }
      next[std::move(key)] = t;
    }
  }
  StuckReport report;
  for (auto& [key, t] : next) {
    if (!t.lag_since || t.stuck || now - *t.lag_since < stuck_after_) continue;
    for (const auto& [other_key, other] : next) {
      if (other_key != key && other.moved_at && now - *other.moved_at <= stuck_after_) {
        t.stuck = true;
        break;
      }
    }
  }
  for (const auto& [key, t] : next) {
    if (!t.stuck) continue;
    StuckPartition s{key.first, key.second, *t.commit, t.lag, *t.lag_since};
    report.stuck_lag = s.lag > std::numeric_limits<int64_t>::max() - report.stuck_lag
                           ? std::numeric_limits<int64_t>::max()
                           : report.stuck_lag + s.lag;
    auto prev = tracks_.find(key);
    if (prev == tracks_.end() || !prev->second.stuck) report.started.push_back(s);
    report.stuck.push_back(std::move(s));
  }
  for (const StuckPartition& s : current_) {
    auto it = next.find({s.topic, s.partition});
    if (it == next.end() || !it->second.stuck) report.ended.push_back(s);
  }
  tracks_ = std::move(next);
  current_ = report.stuck;
  return report;
}

}  // namespace kafka_autoscaler::controller
