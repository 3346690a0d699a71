// ScaleTarget and EventRecorder: the seams through which the controller acts on Kubernetes
// (the API client in the daemon, a simulated Deployment in `demo`/`simulate`, fakes in tests).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace kafka_autoscaler::kube {

struct ScaleState {
  int32_t spec_replicas = 0;    // desired replicas now (spec.replicas of /scale)
  int32_t status_replicas = 0;  // pods that exist (status.replicas of /scale)
  // Pods ready to consume: the Deployment's status.readyReplicas (absent = 0; /scale does not
  // carry it). Below status_replicas while new pods start or old ones fail their probes.
  int32_t ready_replicas = 0;
  std::string selector;         // status.selector of /scale
  bool paused = false;          // annotation kafka-autoscaler/paused: "true"
  std::string uid;              // the Deployment's metadata.uid (for Events)
  std::string resource_version;
  // Other autoscalers that target this Deployment ("HorizontalPodAutoscaler NS/NAME"): while
  // any exists, the controller holds instead of fighting it.
  std::vector<std::string> other_autoscalers;
};

class ScaleTarget {
 public:
  virtual ~ScaleTarget() = default;
  // Reads the current scale and the pause annotation. Errors: kNotFound (no such Deployment),
  // kPermissionDenied/kUnauthenticated (naming the refused verb and resource), retryable codes.
  [[nodiscard]] virtual Result<ScaleState> Get() = 0;
  // Sets spec.replicas, conditional on the state the last Get() read: one attempt, never a
  // retry with a stale target (a conflict means someone else wrote; the caller decides again
  // from a fresh Get()). Returns OK once the API server accepted it; on error nothing changed
  // (except after a timeout, when the write may have landed).
  [[nodiscard]] virtual Status SetReplicas(int32_t replicas) = 0;
};

enum class EventType { kNormal, kWarning };

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // Posts an Event on the target Deployment, e.g. reason "ScaledUp", message
  // "from 1 to 3: backlog 250 over 12 partitions". Failure is reported, never retried here.
  [[nodiscard]] virtual Status Record(EventType type, const std::string& reason,
                                      const std::string& message) = 0;
};

}  // namespace kafka_autoscaler::kube
