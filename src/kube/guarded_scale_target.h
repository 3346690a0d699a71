// GuardedScaleTarget: the one decorator around a ScaleTarget that holds the safety checks every
// write must pass (STYLE.md), so no caller can forget one:
//   - the allowed range: never set replicas outside [min_replicas, max_replicas]
//     (IDLE_REPLICAS..MAX_REPLICAS);
//   - fencing: `may_write()` is asked immediately before every write, after the tick observed
//     and decided. It is false for a leader that lost the Lease mid-tick (LeaderElector::
//     IsLeader turns false on its own once the renew deadline passes) and for a daemon that is
//     shutting down, so a deposed or stopping leader never PATCHes.
// Why checking just before the write is enough: IsLeader() is true only within renew_deadline of
// the last successful renewal, and a successor may take the Lease only lease_duration after it
// last saw it change (or after we released it, which main.cc does only once the loop stopped).
// So a write that starts while IsLeader() is true has lease_duration - renew_deadline (5 s with
// the defaults) to reach the API server; main.cc caps the Kubernetes request timeout to that.
//
// Get() passes through. Thread-safety: that of the inner target; `may_write` must be callable
// from the writing thread. The inner target must outlive the decorator.
#pragma once

#include <cstdint>
#include <functional>

#include "kube/scale_target.h"

namespace kafka_autoscaler::kube {

struct WriteGuard {
  int32_t min_replicas = 0;  // IDLE_REPLICAS: the lowest count ever written
  int32_t max_replicas = 0;  // MAX_REPLICAS: the highest count ever written
  // Leadership and "not stopping", asked right before each write; empty = always allowed.
  std::function<bool()> may_write;
};

class GuardedScaleTarget final : public ScaleTarget {
 public:
  GuardedScaleTarget(ScaleTarget& inner, WriteGuard guard);

  // The inner target's Get().
  [[nodiscard]] Result<ScaleState> Get() override;
  // Errors, with nothing sent: kInternal when `replicas` is outside the range (a broken
  // invariant of the policy), kFailedPrecondition when may_write() says no (fenced). Otherwise
  // the inner target's SetReplicas().
  [[nodiscard]] Status SetReplicas(int32_t replicas) override;

 private:
  ScaleTarget& inner_;
  const WriteGuard guard_;
};

}  // namespace kafka_autoscaler::kube
