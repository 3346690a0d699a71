// StatusBoard: the latest state of the daemon, written by the loop thread after every tick and
// read by HTTP handlers at any time. Readers get a copy (Snapshot) under a mutex held only for
// the copy, so endpoints never wait on Kafka or the API server. Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/clock.h"
#include "controller/reconciler.h"

namespace kafka_autoscaler::controller {

// The Kubernetes side of a tick worked: the Deployment was read and no scale was refused.
inline bool KubeOk(const TickReport& r) { return r.kube_ok && r.action != Action::kScaleFailed; }

struct StatusSnapshot {
  SteadyTime started;                        // when the daemon started
  std::optional<SteadyTime> last_tick_start;  // latest tick start (monotonic)
  // The latest tick as a summary: its observation keeps the totals (backlog, partition count)
  // but not the per-partition offsets.
  std::optional<TickReport> last_tick;
  std::optional<WallTime> last_kafka_ok;     // wall time of the latest good observation
  std::optional<WallTime> last_kube_ok;
  std::optional<std::string> last_kafka_error;
  std::optional<std::string> last_kube_error;
  bool leader = true;                        // false while a follower under leader election
  bool leader_election = false;
  int64_t ticks = 0;
};

class StatusBoard {
 public:
  StatusBoard(const Clock& clock, Duration interval, bool leader_election);

  void TickStarted();
  void Record(const TickReport& report);
  void SetLeader(bool leader);
  StatusSnapshot Snapshot() const;

  // Liveness: a tick started within 3 intervals (or the daemon started less than 3 ago).
  bool Alive() const;
  // Readiness: the latest Kafka observation and Kubernetes read both succeeded, and the scale
  // the tick decided on (if any) was not refused: a 403 or a conflict storm on the patch leaves
  // the daemon unable to do its job, which readiness must show. Not ready either while another
  // writer holds it back (TickReport::other_writer: a foreign write, an HPA on the Deployment).
  bool Ready() const;
  // The JSON document of `GET /` (labels for the deployment and topics come from `options`).
  nlohmann::json StatusJson(const ReconcilerOptions& options) const;

 private:
  const Clock& clock_;
  const Duration interval_;
  mutable std::mutex mu_;
  StatusSnapshot s_;
};

}  // namespace kafka_autoscaler::controller
