// DeploymentScaleTarget and DeploymentEventRecorder: the ScaleTarget and EventRecorder of the
// daemon, acting on one Deployment through the API client. Both take a WorkloadRef whose kind
// may also be StatefulSet (apps/v1; the same /scale subresource and status fields), read
// "Deployment" below as "the workload".
//
// Get() reads the Deployment (annotations, uid, status.readyReplicas), its /scale subresource
// (spec.replicas, status.replicas, status.selector), and the autoscaling/v2
// HorizontalPodAutoscalers of the namespace, naming those whose scaleTargetRef is this Deployment
// in ScaleState::other_autoscalers (Role: `list` on horizontalpodautoscalers.autoscaling; without
// it Get() fails with kPermissionDenied naming that verb, since scaling next to an HPA would
// fight it). SetReplicas() sends one merge patch {"metadata":{"resourceVersion":RV},"spec":
// {"replicas":N}} to /scale, RV being the version the last Get() saw: a change made since
// (another writer, someone pausing the Deployment) is a 409, returned as kConflict at once —
// never re-read and re-sent, because the target was decided from the old state; the caller's
// next tick decides again. 429/5xx/timeouts come back as retryable errors (backoff is the
// caller's loop's job).
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

// A workload with a /scale subresource: kind "Deployment" or "StatefulSet" (apps/v1).
struct WorkloadRef {
  std::string namespace_name;
  std::string name;
  std::string kind = "Deployment";
};
using DeploymentRef = WorkloadRef;  // its name from the Deployment-only days

// "deployments" or "statefulsets" for a kind; "" for a kind without /scale support here.
std::string WorkloadResource(const std::string& kind);
// "/apis/apps/v1/namespaces/NS/deployments/NAME".
std::string WorkloadPath(const WorkloadRef& ref);
// The involvedObject of an Event about the workload.
nlohmann::json WorkloadObjectRef(const WorkloadRef& ref, const std::string& uid);

// The write of every ScaleTarget on the API: one merge patch {"metadata":{"resourceVersion":
// RV},"spec":{"replicas":N}} to the workload's /scale, RV = `resource_version` (the version the
// decision was made from). Returns the answer (the Scale after the write) and moves
// `resource_version` to the answer's (empty when the answer carries none: the next write waits
// for a fresh read). Errors: kConflict at once when RV is empty (no read to be conditional on)
// or on a 409 (someone wrote since; never re-sent), which also clears `resource_version`; others
// as Client::Call, leaving it as it was.
[[nodiscard]] Result<nlohmann::json> PatchScale(Client& client, const WorkloadRef& ref,
                                                std::string& resource_version, int32_t replicas);

class DeploymentScaleTarget final : public ScaleTarget {
 public:
  DeploymentScaleTarget(Client& client, DeploymentRef ref);

  [[nodiscard]] Result<ScaleState> Get() override;
  [[nodiscard]] Status SetReplicas(int32_t replicas) override;

 private:
  Result<std::vector<std::string>> OtherAutoscalers();
  Client& client_;
  const DeploymentRef ref_;
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

// Posts one core/v1 Event about `involved_object` ({apiVersion, kind, name, namespace, uid}),
// stamped `now`; `sequence` keeps event names unique within a nanosecond. Errors as
// Client::Call, with the context "event".
[[nodiscard]] Status PostEvent(Client& client, const nlohmann::json& involved_object,
                               EventType type, const std::string& reason,
                               const std::string& message, WallTime now, uint64_t sequence,
                               const std::string& reporting_instance);

// "2026-11-28T11:00:00Z" (metav1.Time) and "2026-11-28T11:00:00.123456Z" (metav1.MicroTime).
std::string FormatTime(WallTime t);
std::string FormatMicroTime(WallTime t);
// Parses either format; kProtocol on anything else.
[[nodiscard]] Result<WallTime> ParseTime(const std::string& s);

}  // namespace kafka_autoscaler::kube
