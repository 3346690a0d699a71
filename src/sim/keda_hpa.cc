#include "sim/keda_hpa.h"

#include <algorithm>
#include <cmath>

namespace kafka_autoscaler::sim {

bool KedaHpaModel::Due(double now, double period) {
  const double k = std::round(now / period);
  return std::fabs(now - k * period) < 1e-6;
}

int64_t KedaHpaModel::CappedLag(int64_t total_lag) const {
  if (config_.allow_idle_consumers || config_.partitions <= 0) return total_lag;
  const int64_t upper = config_.partitions;
  if (total_lag / config_.lag_threshold > upper) return upper * config_.lag_threshold;
  return total_lag;
}

int32_t KedaHpaModel::Proposal(int64_t metric, int32_t spec) const {
  const double target = static_cast<double>(config_.lag_threshold);
  const double usage = static_cast<double>(metric);
  const double ratio = usage / (target * static_cast<double>(spec));
  if (std::fabs(1.0 - ratio) <= config_.tolerance) return spec;
  return static_cast<int32_t>(std::min<double>(std::ceil(usage / target), 1e6));
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

  const int32_t proposal = Proposal(metric, current);

  // Rule 6: stabilization. Scale-up window 0 (the proposal itself); scale-down: the highest
  // recommendation within the window, this one included.
  while (!recommendations_.empty() &&
         recommendations_.front().at <= now - config_.scale_down_window_seconds) {
    recommendations_.pop_front();
  }
  int32_t down = proposal;
  for (const auto& r : recommendations_) down = std::max(down, r.replicas);
  recommendations_.push_back({now, proposal});
  int32_t desired = current;
  if (desired < proposal) desired = proposal;
  if (desired > down) desired = down;

  // Rule 7: rate limits relative to the replicas at the start of the period.
  while (!events_.empty() && events_.front().at <= now - config_.scale_up_period_seconds) {
    events_.pop_front();
  }
  int32_t changed_in_period = 0;
  for (const auto& e : events_) changed_in_period += e.change;
  const int32_t period_start = current - changed_in_period;
  if (desired > current) {
    const int32_t by_pods = period_start + config_.scale_up_pods;
    const auto by_percent =
        static_cast<int32_t>(std::ceil(period_start * (1.0 + config_.scale_up_percent / 100.0)));
    desired = std::min(desired, std::max(by_pods, by_percent));
  }
  desired = std::clamp(desired, std::max(config_.min_replicas, 1), config_.max_replicas);
  if (desired == current) return OkStatus();
  RETURN_IF_ERROR(target_.SetReplicas(desired));
  events_.push_back({now, desired - current});
  return OkStatus();
}

}  // namespace kafka_autoscaler::sim
