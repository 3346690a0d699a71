// The simulated world `simulate` replays a scenario in: a clock, a topic with an exact FIFO
// backlog, and a Deployment of consumer pods. SimTopic and SimDeployment implement the daemon's
// seams (kafka::MetricSource, kube::ScaleTarget) so that the very same Reconciler::Tick and
// Decide run against them.
//
// Model (SPEC.md section 7):
//   - Time advances in steps of tick_seconds; step k covers [k·dt, (k+1)·dt). Within a step:
//     pods that finished starting become ready; the step's arrivals are produced; the
//     controller (when due) observes and acts; pods with no startup delay become ready; the
//     ready pods consume.
//   - Messages produced during step k are stamped k·dt; messages consumed during step k are
//     done at (k+1)·dt. A message's wait is done − stamp, so waits are exact to one tick and
//     never below one tick. The backlog is a FIFO of (stamp, count) chunks, not one entry per
//     message, so memory is bounded by the number of steps with arrivals still queued.
//   - A pod is created when the Deployment scales up and is ready startup_seconds later (at the
//     first step boundary at or after that). Scale-down removes pods that are not ready first,
//     then the newest ready ones (the ReplicaSet controller's order).
//   - Every change of the consumer set (a pod becoming ready, a ready pod removed) pauses all
//     consumption for rebalance_seconds (an eager rebalance); overlapping pauses extend.
//   - Consumption per step = min(ready, partitions) × messages_per_second × unpaused seconds,
//     FIFO. Fractional capacity carries to the next step while the queue is not empty.
//   - The topic's partitions share offsets evenly (high and committed of partition p are the
//     totals split P ways), and the group commits everything it consumed, so the observation
//     is in group mode and consumed throughput is measurable, as with KAFKA_CONSUMER_GROUP.
//   - Stuck partition (scenario `stuck_partition`, issue 17 item 2): partition p then has its
//     own lane, a FifoBacklog holding its share of every step's arrivals (split P ways, as the
//     topic's offsets are); the other P − 1 partitions split the main FIFO. The group consumes
//     both oldest first (ConsumeOldestFirst), except that the lane is blocked in [from, until):
//     its committed offset stands still while the others advance, what the daemon's
//     StuckTracker detects. The capacity stays min(ready, P) × rate (the blocked consumer's
//     share goes to the others: an optimistic simplification).
// Not thread-safe: one simulation runs on one thread.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "kafka/observation.h"
#include "kube/scale_target.h"
#include "sim/scenario.h"

namespace kafka_autoscaler::sim {

// A Clock the simulation sets; Now() is the scenario's time on a fixed base.
class SimClock final : public Clock {
 public:
  SteadyTime Now() const override;
  WallTime WallNow() const override;
  void Set(double seconds) { seconds_ = seconds; }
  double seconds() const { return seconds_; }

 private:
  double seconds_ = 0;
};

// Exact percentiles of waits that are whole multiples of a resolution (the tick).
class WaitHistogram {
 public:
  explicit WaitHistogram(double resolution_seconds) : resolution_(resolution_seconds) {}
  void Add(double wait_seconds, int64_t count);
  // Adds the wait of `count` messages produced at `stamp_seconds` and done at `done_seconds`,
  // unless they were produced before CountFrom's time (the history before a measured window).
  void AddDone(double stamp_seconds, double done_seconds, int64_t count) {
    if (stamp_seconds >= count_from_seconds_) Add(done_seconds - stamp_seconds, count);
  }
  void CountFrom(double stamp_seconds) { count_from_seconds_ = stamp_seconds; }
  // Nearest-rank percentile, q in (0, 1]; 0 when empty.
  double Percentile(double q) const;
  double Max() const;
  int64_t count() const { return count_; }

 private:
  double resolution_;
  double count_from_seconds_ = -1e300;
  std::vector<int64_t> bins_;  // bins_[i]: messages that waited i × resolution
  int64_t count_ = 0;
};

class FifoBacklog {
 public:
  void Produce(double stamp_seconds, int64_t count);
  // Consumes up to `count` messages done at `done_seconds`, oldest first; adds their waits to
  // `waits` (may be null). Returns how many were consumed.
  int64_t Consume(double done_seconds, int64_t count, WaitHistogram* waits);
  // Adds the waits so far of everything still queued, as if done at `now_seconds`.
  void AddPendingWaits(double now_seconds, WaitHistogram& waits) const;
  int64_t size() const { return produced_ - consumed_; }
  // The stamp and size of the oldest chunk; nullopt / 0 when empty.
  std::optional<double> OldestStamp() const;
  int64_t FrontCount() const { return chunks_.empty() ? 0 : chunks_.front().count; }
  int64_t produced() const { return produced_; }
  int64_t consumed() const { return consumed_; }

 private:
  struct Chunk {
    double stamp_seconds;
    int64_t count;
  };
  std::deque<Chunk> chunks_;
  int64_t produced_ = 0;
  int64_t consumed_ = 0;
};

// Consumes up to `count` messages from `a` and `b` (may be null: blocked), oldest chunk first.
int64_t ConsumeOldestFirst(FifoBacklog& a, FifoBacklog* b, double done_seconds, int64_t count,
                           WaitHistogram* waits);

// The watched topic in group mode, over a FifoBacklog.
class SimTopic final : public kafka::MetricSource {
 public:
  SimTopic(const FifoBacklog& backlog, int32_t partitions, const SimClock& clock)
      : backlog_(backlog), partitions_(partitions), clock_(clock) {}
  [[nodiscard]] Result<kafka::Observation> Fetch() override;
  // Partition `partition` reads its offsets from `lane` (the stuck-partition model, above).
  void SetStuckLane(const FifoBacklog& lane, int32_t partition) {
    lane_ = &lane;
    lane_partition_ = partition;
  }

 private:
  const FifoBacklog& backlog_;
  int32_t partitions_;
  const SimClock& clock_;
  const FifoBacklog* lane_ = nullptr;
  int32_t lane_partition_ = -1;
};

// The consumer Deployment and its pods.
class SimDeployment final : public kube::ScaleTarget {
 public:
  SimDeployment(const PodModel& model, int32_t partitions, int32_t initial_replicas,
                const SimClock& clock);
  // spec_replicas = status_replicas = pods that exist (ready or starting), as /scale reports;
  // ready_replicas = pods whose startup finished, as the Deployment's status.readyReplicas.
  [[nodiscard]] Result<kube::ScaleState> Get() override;
  // Creates or removes pods at the clock's time; counts a scale event when the count changes.
  [[nodiscard]] Status SetReplicas(int32_t replicas) override;

  // Marks the pods whose startup finished by `now_seconds` ready (a rebalance each time).
  void Advance(double now_seconds);
  // Seconds of [from, to) in which the group consumes (not paused by a rebalance).
  double ConsumingSeconds(double from_seconds, double to_seconds) const;
  // Messages the ready pods can process in `seconds` of consumption at `per_pod` msg/s each.
  double Capacity(double seconds, double per_pod) const;

  int32_t pods() const { return static_cast<int32_t>(starting_.size()) + ready_; }
  int32_t ready() const { return ready_; }
  int64_t scale_events() const { return scale_events_; }
  double paused_until() const { return paused_until_; }

 private:
  void Rebalance(double at_seconds);

  PodModel model_;
  int32_t partitions_;
  const SimClock& clock_;
  std::deque<double> starting_;  // ready-at times of pods not ready yet, oldest first
  int32_t ready_ = 0;
  double paused_until_ = -1;
  int64_t scale_events_ = 0;
};

}  // namespace kafka_autoscaler::sim
