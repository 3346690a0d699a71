#include "kafka/time_lag.h"

#include <algorithm>
#include <set>

namespace kafka_autoscaler::kafka {

TimeLagTracker::TimeLagTracker(size_t max_samples)
    : max_samples_(std::max<size_t>(max_samples, 2)) {}

void TimeLagTracker::Add(Table& table, Sample sample) const {
  if (!table.empty()) {
    Sample& last = table.back();
    if (sample.high < last.high) {
      table.clear();  // the high watermark went backwards: a recreated topic, a new history
    } else if (sample.at <= last.at) {
      last.high = sample.high;  // no time passed: the newer answer replaces the sample
      return;
    } else if (table.size() >= 2 && last.high == sample.high &&
               table[table.size() - 2].high == sample.high) {
      last.at = sample.at;  // a flat run keeps its first and last sample only
      return;
    }
  }
  table.push_back(sample);
  if (table.size() > max_samples_) {
    table.erase(table.begin(),
                table.begin() + static_cast<std::ptrdiff_t>(table.size() - max_samples_));
  }
}

PartitionTimeLag TimeLagTracker::Estimate(const Table& table, const PartitionOffsets& p,
                                          SteadyTime now) {
  PartitionTimeLag out{.topic = p.topic, .partition = p.partition};
  if (p.lag <= 0 || table.empty()) return out;
  const int64_t position = p.high - p.lag;  // the next offset the consumer reads
  // The newest sample at or below the position; the one after it is above (the newest sample
  // is the current high, above the position since lag > 0).
  size_t l = table.size();
  for (size_t i = table.size(); i-- > 0;) {
    if (table[i].high <= position) {
      l = i;
      break;
    }
  }
  if (l == table.size() || l + 1 >= table.size()) {
    out.seconds = SecondsBetween(table.front().at, now);
    out.lower_bound = true;
    return out;
  }
  const Sample& a = table[l];
  const Sample& b = table[l + 1];
  const double fraction =
      static_cast<double>(position - a.high) / static_cast<double>(b.high - a.high);
  const double written_after_a = fraction * SecondsBetween(a.at, b.at);
  out.seconds = std::max(0.0, SecondsBetween(a.at, now) - written_after_a);
  return out;
}

TimeLag TimeLagTracker::Update(const Observation& observation) {
  std::set<std::pair<std::string, int32_t>> seen;
  for (const auto& p : observation.partitions) {
    seen.insert({p.topic, p.partition});
    Add(tables_[{p.topic, p.partition}], Sample{observation.at, p.high});
  }
  std::erase_if(tables_, [&](const auto& entry) { return !seen.contains(entry.first); });

  TimeLag out;
  out.partitions.reserve(observation.partitions.size());
  for (const auto& p : observation.partitions) {
    PartitionTimeLag t = Estimate(tables_.at({p.topic, p.partition}), p, observation.at);
    if (t.seconds > out.max_seconds || (t.seconds == out.max_seconds && t.lower_bound)) {
      out.max_seconds = t.seconds;
      out.max_lower_bound = t.lower_bound;
    }
    out.partitions.push_back(std::move(t));
  }
  return out;
}

size_t TimeLagTracker::SampleCount(const std::string& topic, int32_t partition) const {
  const auto it = tables_.find({topic, partition});
  return it == tables_.end() ? 0 : it->second.size();
}

}  // namespace kafka_autoscaler::kafka
