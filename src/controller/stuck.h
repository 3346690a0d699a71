// StuckTracker: which partitions of a consumer group are *stuck* — a poison message, a consumer
// thread wedged on one partition — so that their lag can be reported, and, with
// EXCLUDE_STUCK_LAG=true, left out of the scale-up rule (more pods cannot help a partition that
// one consumer cannot get past; KEDA's `excludePersistentLag`).
//
// The rule (STUCK_AFTER_SECONDS = T). A partition is stuck when all hold:
//   a. the group has a commit on it and its lag is > 0;
//   b. its committed offset has not moved, with lag > 0 on every observation, for at least T
//      (the timer starts at the first observation that saw this commit with lag > 0, so a commit
//      that sat at the end of an empty partition for an hour is not stuck when a message comes);
//   c. another partition of the observation (any watched topic) moved its commit within the last
//      T: the group is alive and making progress elsewhere.
// A stuck partition stays stuck (one episode) until its commit moves, its lag reaches 0, or it
// leaves the observation — even if the other partitions then stop (they may have run dry).
//
// Burrow's consumer lag evaluation rules are the reference
// (github.com/linkedin/Burrow/wiki/Consumer-Lag-Evaluation-Rules). Followed: "any zero lag in the
// window is OK" (b: lag 0 restarts the timer) and STALLED ("the committed offset does not change
// over the window while the lag is fixed or increasing": b, as lag cannot shrink while the commit
// stands still). Different: our window is time (T), not the last N commits — the daemon sees
// committed offsets at each tick, not each commit with its timestamp, so it cannot tell a
// consumer re-committing the same offset (Burrow's STALL) from one not committing at all
// (Burrow's STOP). We therefore require (c) instead of STOP's timestamp rule: a whole group that
// stops is not a stuck partition (scaling is the answer to that), and a group with one
// partition can never have a stuck one. Observations carry no group membership (no
// DescribeGroups call), so "the group has members" is not used; (c) stands for it. Burrow's
// WARNING ("offsets increasing but lag growing") is what scaling itself answers, and its REWIND
// (a commit moving backwards) simply ends an episode here, like any move.
//
// A failed observation is never passed in: the state is kept as it was (no partition turns stuck
// or unstuck on a tick that saw nothing). Because a partition's high watermark never goes back,
// the same commit with lag > 0 on both sides of a gap means lag > 0 all along.
// Pure apart from its own state: `now` arrives with each call. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "kafka/observation.h"

namespace kafka_autoscaler::controller {

struct StuckPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t committed = 0;  // the offset the group has not moved from
  int64_t lag = 0;        // its lag now (messages)
  SteadyTime since{};     // first observation of this commit with lag > 0
};

struct StuckReport {
  std::vector<StuckPartition> stuck;    // every stuck partition now, by (topic, partition)
  std::vector<StuckPartition> started;  // episodes that began with this observation
  std::vector<StuckPartition> ended;    // episodes that ended (commit moved, lag 0, gone)
  int64_t stuck_lag = 0;                // Σ lag of `stuck` (saturating)
};

class StuckTracker {
 public:
  // STUCK_AFTER_SECONDS; must be > 0.
  explicit StuckTracker(Duration stuck_after) : stuck_after_(stuck_after) {}

  // One successful observation at `now`. Topic mode (no group) has no commits: nothing is stuck.
  StuckReport Observe(const kafka::Observation& observation, SteadyTime now);

  // The stuck partitions as of the last successful observation.
  const std::vector<StuckPartition>& Current() const { return current_; }

 private:
  struct Track {
    std::optional<int64_t> commit;        // as last observed
    std::optional<SteadyTime> lag_since;  // this commit seen with lag > 0 since
    std::optional<SteadyTime> moved_at;   // last observation that saw the commit change
    int64_t lag = 0;                      // as last observed
    bool stuck = false;
  };
  using Key = std::pair<std::string, int32_t>;

  Duration stuck_after_;
  std::map<Key, Track> tracks_;
  std::vector<StuckPartition> current_;
};

}  // namespace kafka_autoscaler::controller
