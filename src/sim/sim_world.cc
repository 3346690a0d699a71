#include "sim/sim_world.h"

#include <algorithm>
#include <cmath>

namespace kafka_autoscaler::sim {

namespace {
// Simulated time starts well past the steady clock's epoch, like FakeClock.
constexpr std::chrono::hours kBase{1};
constexpr std::chrono::seconds kWallBase{1'700'000'000};
}  // namespace

SteadyTime SimClock::Now() const {
  return SteadyTime(kBase) +
         std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds_));
}

WallTime SimClock::WallNow() const {
  return WallTime(kWallBase) +
         std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(seconds_));
}

void WaitHistogram::Add(double wait_seconds, int64_t count) {
  if (count <= 0) return;
  const auto bin =
      static_cast<size_t>(std::max<long long>(0, std::llround(wait_seconds / resolution_)));
  if (bin >= bins_.size()) bins_.resize(std::max(bin + 1, bins_.size() * 2), 0);
  bins_[bin] += count;
  count_ += count;
}

double WaitHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  // Nearest rank: the smallest wait with at least ceil(q × n) messages at or below it.
  const auto rank =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * static_cast<double>(count_) - 1e-9)));
  int64_t seen = 0;
  for (size_t i = 0; i < bins_.size(); ++i) {
    seen += bins_[i];
    if (seen >= rank) return static_cast<double>(i) * resolution_;
  }
  return Max();
}

double WaitHistogram::Max() const {
  for (size_t i = bins_.size(); i-- > 0;) {
    if (bins_[i] > 0) return static_cast<double>(i) * resolution_;
  }
  return 0;
}

void FifoBacklog::Produce(double stamp_seconds, int64_t count) {
  if (count <= 0) return;
  chunks_.push_back({stamp_seconds, count});
  produced_ += count;
}

int64_t FifoBacklog::Consume(double done_seconds, int64_t count, WaitHistogram* waits) {
  int64_t done = 0;
  while (count > done && !chunks_.empty()) {
    Chunk& c = chunks_.front();
    const int64_t take = std::min(c.count, count - done);
    if (waits != nullptr) waits->AddDone(c.stamp_seconds, done_seconds, take);
    c.count -= take;
    done += take;
    if (c.count == 0) chunks_.pop_front();
  }
  consumed_ += done;
  return done;
}

std::optional<double> FifoBacklog::OldestStamp() const {
  if (chunks_.empty()) return std::nullopt;
  return chunks_.front().stamp_seconds;
}

int64_t ConsumeOldestFirst(FifoBacklog& a, FifoBacklog* b, double done_seconds, int64_t count,
                           WaitHistogram* waits) {
  int64_t done = 0;
  while (done < count) {
    const auto sa = a.OldestStamp();
    const auto sb = b != nullptr ? b->OldestStamp() : std::nullopt;
    if (!sa && !sb) break;
    FifoBacklog& from = (sb && (!sa || *sb < *sa)) ? *b : a;
    done += from.Consume(done_seconds, std::min(count - done, from.FrontCount()), waits);
  }
  return done;
}

void FifoBacklog::AddPendingWaits(double now_seconds, WaitHistogram& waits) const {
  for (const Chunk& c : chunks_) waits.AddDone(c.stamp_seconds, now_seconds, c.count);
}

Result<kafka::Observation> SimTopic::Fetch() {
  kafka::Observation o;
  o.at = clock_.Now();
  o.group_mode = true;
  o.partition_count = partitions_;
  o.partitions.reserve(static_cast<size_t>(partitions_));
  const int64_t high = backlog_.produced();
  const int64_t committed = backlog_.consumed();
  // Partition p's share of a total split P ways; non-decreasing in the total for every p, so
  // each partition's committed offset stays at or below its high watermark.
  auto share = [this](int64_t total, int32_t p) {
    return total / partitions_ + (p < total % partitions_ ? 1 : 0);
  };
  if (lane_ != nullptr && partitions_ > 1) {
    // The main FIFO over the other P − 1 partitions; the stuck partition is its lane.
    auto share_others = [this](int64_t total, int32_t i) {
      const int32_t n = partitions_ - 1;
      return total / n + (i < total % n ? 1 : 0);
    };
    for (int32_t p = 0; p < partitions_; ++p) {
      const int32_t i = p < lane_partition_ ? p : p - 1;
      const int64_t h = p == lane_partition_ ? lane_->produced() : share_others(high, i);
      const int64_t c = p == lane_partition_ ? lane_->consumed() : share_others(committed, i);
      o.partitions.push_back(
          {.topic = "sim", .partition = p, .low = 0, .high = h, .committed = c, .lag = h - c});
    }
    o.backlog = high - committed + lane_->size();
    return o;
  }
  for (int32_t p = 0; p < partitions_; ++p) {
    const int64_t h = share(high, p);
    const int64_t c = share(committed, p);
    o.partitions.push_back(
        {.topic = "sim", .partition = p, .low = 0, .high = h, .committed = c, .lag = h - c});
  }
  o.backlog = high - committed;
  return o;
}

SimDeployment::SimDeployment(const PodModel& model, int32_t partitions, int32_t initial_replicas,
                             const SimClock& clock)
    : model_(model), partitions_(partitions), clock_(clock), ready_(initial_replicas) {}

Result<kube::ScaleState> SimDeployment::Get() {
  kube::ScaleState s;
  s.spec_replicas = pods();
  s.status_replicas = pods();
  s.ready_replicas = ready();
  s.selector = "app=sim";
  s.uid = "sim";
  return s;
}

Status SimDeployment::SetReplicas(int32_t replicas) {
  if (replicas < 0) return MakeError(ErrorCode::kInvalidArgument, "negative replicas");
  const int32_t before = pods();
  if (replicas == before) return OkStatus();
  ++scale_events_;
  const double now = clock_.seconds();
  for (int32_t i = before; i < replicas; ++i) starting_.push_back(now + model_.startup_seconds);
  int32_t remove = before - replicas;
  while (remove > 0 && !starting_.empty()) {  // not-ready pods first, newest first
    starting_.pop_back();
    --remove;
  }
  if (remove > 0) {
    ready_ -= remove;
    Rebalance(now);
  }
  return OkStatus();
}

void SimDeployment::Advance(double now_seconds) {
  bool changed = false;
  while (!starting_.empty() && starting_.front() <= now_seconds + 1e-9) {
    starting_.pop_front();
    ++ready_;
    changed = true;
  }
  if (changed) Rebalance(now_seconds);
}

void SimDeployment::Rebalance(double at_seconds) {
  paused_until_ = std::max(paused_until_, at_seconds + model_.rebalance_seconds);
}

double SimDeployment::ConsumingSeconds(double from_seconds, double to_seconds) const {
  return std::max(0.0, to_seconds - std::max(from_seconds, paused_until_));
}

double SimDeployment::Capacity(double seconds, double per_pod) const {
  return static_cast<double>(std::min(ready_, partitions_)) * per_pod * seconds;
}

}  // namespace kafka_autoscaler::sim
