#include "kube/guarded_scale_target.h"

#include <string>
#include <utility>

namespace kafka_autoscaler::kube {

GuardedScaleTarget::GuardedScaleTarget(ScaleTarget& inner, WriteGuard guard)
    : inner_(inner), guard_(std::move(guard)) {}

Result<ScaleState> GuardedScaleTarget::Get() { return inner_.Get(); }

Status GuardedScaleTarget::SetReplicas(int32_t replicas) {
  if (replicas < guard_.min_replicas || replicas > guard_.max_replicas) {
    return MakeError(ErrorCode::kInternal, "refusing to scale to " + std::to_string(replicas) +
                                               ": outside IDLE_REPLICAS..MAX_REPLICAS (" +
                                               std::to_string(guard_.min_replicas) + ".." +
                                               std::to_string(guard_.max_replicas) + ")");
  }
  if (guard_.may_write && !guard_.may_write()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "not writing: no longer the leader, or shutting down (fenced)");
  }
  return inner_.SetReplicas(replicas);
}

}  // namespace kafka_autoscaler::kube
