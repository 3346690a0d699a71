// History: what the status page (GET /ui) draws, a bounded in-memory record of the recent ticks
// of every target. Per target it keeps a ring of the last hour of ticks (time, backlog, current
// and desired replicas, produced and consumed rates) and the last decisions that changed
// something or changed their reason, plus the latest tick's errors and readiness.
//
// Memory is fixed per target: the ring holds min(window / interval, max_points) points (one
// hour at 60 s ticks is 60 points; at 1 s ticks the cap of 3,600), each about 48 bytes, and at
// most max_decisions decisions. A target is keyed by namespace and name, so the many-targets
// mode registers one entry per KafkaScaler; the env-var mode has exactly one.
//
// The loop thread writes (Record, through HistoryTickListener); HTTP handlers read JSON copies
// at any time. Thread-safe: one mutex, held for the copy or the append only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "controller/loop.h"
#include "controller/reconciler.h"

namespace kafka_autoscaler::controller {

struct HistoryOptions {
  Duration interval = std::chrono::seconds(60);  // SCALE_INTERVAL_SECONDS: sizes the ring
  Duration window = std::chrono::hours(1);       // how far back the charts reach
  size_t max_points = 3600;                      // cap of the ring per target, points
  size_t max_decisions = 20;                     // decisions kept per target
  size_t sparkline_points = 40;                  // backlog points per target in the list
};

// What the page says about a target besides its numbers (labels; never credentials).
struct TargetInfo {
  std::string namespace_name;
  std::string name;  // the Deployment (scaleTargetRef.name)
  std::string kind = "Deployment";
  std::string topics;        // comma-joined
  std::string group;         // empty when unset
  int32_t min_replicas = 0;  // MIN_REPLICAS
  int32_t max_replicas = 0;  // MAX_REPLICAS
};

// One tick as the charts see it. Missing values (a failed observation) are absent.
struct HistoryPoint {
  WallTime time;
  std::optional<int64_t> backlog;   // messages
  std::optional<int32_t> replicas;  // spec.replicas after the tick
  std::optional<int32_t> desired;   // the decision's replicas
  std::optional<double> produced_per_minute;
  std::optional<double> consumed_per_minute;
};

struct DecisionRecord {
  WallTime time;
  int32_t from = -1;  // spec.replicas before; -1 when unknown
  int32_t desired = -1;
  int64_t backlog = -1;
  std::string reason;               // policy::ReasonName, "" when no decision (failed observation)
  std::string action;               // ActionName
  std::vector<std::string> errors;  // "kind: message"
  int64_t repeated = 0;  // later ticks that made the same decision (time is the latest's)
};

// The latest tick of a target, reduced to what the page shows (not the per-partition detail).
struct LastTick {
  WallTime time;
  bool kafka_ok = false;
  bool kube_ok = false;  // KubeOk(): read the Deployment and no scale refused
  bool read_deployment = false;
  std::optional<int64_t> backlog;
  std::optional<int32_t> partitions;
  // Time lag (kafka/time_lag.h): the largest of the partitions' ages of their oldest unread
  // message, in seconds; a lower bound when the samples reach back less far than the lag.
  std::optional<double> lag_seconds;
  bool lag_lower_bound = false;
  std::optional<int32_t> replicas;
  std::optional<int32_t> desired;
  std::optional<double> produced_per_minute;
  std::optional<double> consumed_per_minute;
  std::string reason;  // "" when no decision
  std::string action;
  int32_t consecutive_failures = 0;
  bool paused = false;
  bool fallback = false;
  std::vector<std::pair<std::string, std::string>> errors;  // kind, message
  // Stuck partitions (controller/stuck.h), "topic/partition at committed offset N, lag L",
  // at most kMaxStuckShown of them.
  std::vector<std::string> stuck;
  int32_t stuck_count = 0;
};
inline constexpr size_t kMaxStuckShown = 20;

// The ring of one target. Not thread-safe (History guards it).
class TargetHistory {
 public:
  TargetHistory(TargetInfo info, size_t capacity, size_t max_decisions);

  void Add(const TickReport& report);
  const TargetInfo& info() const { return info_; }
  size_t capacity() const { return capacity_; }
  const std::deque<HistoryPoint>& points() const { return points_; }
  const std::deque<DecisionRecord>& decisions() const { return decisions_; }
  const std::optional<LastTick>& last() const { return last_; }

 private:
  TargetInfo info_;
  size_t capacity_;
  size_t max_decisions_;
  std::deque<HistoryPoint> points_;
  std::deque<DecisionRecord> decisions_;
  std::optional<LastTick> last_;
};

class History {
 public:
  explicit History(HistoryOptions options);

  // Points per target: ceil(window / interval), at least 2, at most max_points.
  size_t Capacity() const { return capacity_; }

  // Registers a target (idempotent; keeps its history). Unknown targets are registered by Record.
  void AddTarget(const TargetInfo& info);
  void RemoveTarget(const std::string& namespace_name, const std::string& name);
  void Record(const TargetInfo& info, const TickReport& report);

  // GET /api/v1/targets: {"targets": [summary...]}, sorted by namespace then name. A summary
  // has the target's labels, latest values, readiness, errors and a backlog sparkline.
  nlohmann::json TargetsJson() const;
  // GET /api/v1/targets/{ns}/{name}/history: the summary plus the whole ring (columns) and the
  // decisions, newest last. Null when the target is unknown.
  nlohmann::json TargetHistoryJson(const std::string& namespace_name,
                                   const std::string& name) const;

 private:
  using Key = std::pair<std::string, std::string>;
  HistoryOptions options_;
  size_t capacity_;
  mutable std::mutex mu_;
  std::map<Key, TargetHistory> targets_;
};

// Feeds one target's History from the loop's ticks (env-var mode: the only target).
class HistoryTickListener final : public TickListener {
 public:
  HistoryTickListener(History& history, TargetInfo info)
      : history_(history), info_(std::move(info)) {
    history_.AddTarget(info_);
  }
  void OnTick(const TickReport& report) override { history_.Record(info_, report); }

 private:
  History& history_;
  TargetInfo info_;
};

}  // namespace kafka_autoscaler::controller
