// DeploymentScaleTarget and DeploymentEventRecorder: the ScaleTarget and EventRecorder of the
// daemon, acting on one Deployment through the API client.
//
// Get() reads the Deployment (annotations, uid, status.readyReplicas) and its /scale subresource
// (spec.replicas, status.replicas, status.selector). SetReplicas() sends a merge patch
// {"metadata":{"resourceVersion":RV},"spec":{"replicas":N}} to /scale, RV being the version the
// last Get() saw: a change made since (another writer, or someone pausing the Deployment) is a
// 409, after which it re-reads and retries up to `max_conflict_retries` times; if the re-read
// shows the Deployment paused it stops with kConflict and patches nothing. 429/5xx/timeouts
// come back as retryable errors (backoff is the caller's loop's job).
//
// Both classes are thread-safe (an internal mutex guards the cached resourceVersion/uid) and
// keep a reference to the Client, which must outlive them.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "kube/client.h"
#include "kube/scale_target.h"

namespace kafka_autoscaler::kube {

inline constexpr char kPausedAnnotation[] = "kafka-autoscaler/paused";
inline constexpr char kEventComponent[] = "kafka-autoscaler";

struct DeploymentRef {
  std::string namespace_name;
  std::string name;
};

class DeploymentScaleTarget final : public ScaleTarget {
 public:
  // `max_conflict_retries`: re-reads after a 409 before giving up (default 3).
  DeploymentScaleTarget(Client& client, DeploymentRef ref, int max_conflict_retries = 3);

  [[nodiscard]] Result<ScaleState> Get() override;
  [[nodiscard]] Status SetReplicas(int32_t replicas) override;

 private:
  Result<ScaleState> GetLocked();
  Client& client_;
  const DeploymentRef ref_;
  const int max_conflict_retries_;
  std::mutex mu_;
  std::string resource_version_;  // guarded by mu_; from the last Get()
};

class DeploymentEventRecorder final : public EventRecorder {
 public:
  // `reporting_instance`: who reports (the pod name; may be empty). Timestamps come from
  // `clock.WallNow()`.
  DeploymentEventRecorder(Client& client, DeploymentRef ref, const Clock& clock,
                          std::string reporting_instance);

  // Posts a core/v1 Event whose involvedObject is the Deployment, with the uid read just
  // before (events are rare, and a recreated Deployment has a new uid). Errors as Client::Call.
  [[nodiscard]] Status Record(EventType type, const std::string& reason,
                              const std::string& message) override;

 private:
  Result<std::string> Uid();
  Client& client_;
  const DeploymentRef ref_;
  const Clock& clock_;
  const std::string reporting_instance_;
  std::mutex mu_;
  uint64_t sequence_ = 0;  // guarded by mu_; keeps event names unique within a nanosecond
};

// "2026-11-28T11:00:00Z" (metav1.Time) and "2026-11-28T11:00:00.123456Z" (metav1.MicroTime).
std::string FormatTime(WallTime t);
std::string FormatMicroTime(WallTime t);
// Parses either format; kProtocol on anything else.
[[nodiscard]] Result<WallTime> ParseTime(const std::string& s);

}  // namespace kafka_autoscaler::kube
