#include "sim/keda_hpa.h"

#include <algorithm>
#include <cmath>

namespace kafka_autoscaler::sim {

bool KedaHpaModel::Due(double now, double period) const {
  const double since = now - phase_;
  const double k = std::round(since / period);
  return std::fabs(since - k * period) < 1e-6;  // k < 0 too: the clocks ran before the run
}

Status KedaHpaModel::Step(double now) {
  const bool poll = Due(now, config_.polling_seconds);
  const bool sync = Due(now, config_.hpa_sync_seconds);
  if (!poll && !sync) return OkStatus();
  auto obs = source_.Fetch();
  if (!obs) return MakeError(obs.error().WithContext("keda-hpa"));
  const int64_t live = CappedLag(obs->backlog);
  if (poll) {
    cached_metric_ = live;
    // KEDA's activation loop (only matters with minReplicaCount 0).
    const bool active = obs->backlog > 0;
    if (active) last_active_at_ = now;
    if (config_.min_replicas == 0) {
      auto scale = target_.Get();
      if (!scale) return MakeError(scale.error());
      if (active && scale->spec_replicas == 0) {
        RETURN_IF_ERROR(target_.SetReplicas(1));
      } else if (!active && scale->spec_replicas > 0 &&
                 now - last_active_at_.value_or(0) >= config_.cooldown_seconds) {
        RETURN_IF_ERROR(target_.SetReplicas(0));
      }
    }
  }
  if (sync) return HpaSync(now, config_.cached_metrics ? cached_metric_.value_or(live) : live);
  return OkStatus();
}

Status KedaHpaModel::HpaSync(double now, int64_t metric) {
  auto scale = target_.Get();
  if (!scale) return MakeError(scale.error());
  const int32_t current = scale->spec_replicas;
  if (current == 0) return OkStatus();  // the HPA is disabled at 0; KEDA activates

  const int32_t desired = policy::HpaSync(config_, hpa_, now, metric, current);
  if (desired == current) return OkStatus();
  return target_.SetReplicas(desired);
}

}  // namespace kafka_autoscaler::sim
