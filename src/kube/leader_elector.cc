#include "kube/leader_elector.h"

#include <functional>
#include <string>
#include <utility>

namespace kafka_autoscaler::kube {
namespace {

constexpr double kJitterFactor = 1.2;  // client-go's JitterFactor

}  // namespace

Result<std::unique_ptr<LeaderElector>> LeaderElector::Create(LeaseLock& lock, const Clock& clock,
                                                             LeaderElectionTiming timing,
                                                             OnChange on_change) {
  using std::chrono::duration;
  if (timing.retry_period <= Duration::zero()) {
    return MakeError(ErrorCode::kInvalidArgument, "leader election: retry period must be > 0");
  }
  if (timing.lease_duration < std::chrono::seconds(1)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "leader election: lease duration must be at least 1 s");
  }
  if (timing.lease_duration <= timing.renew_deadline) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "leader election: lease duration must be greater than renew deadline");
  }
  if (duration<double>(timing.renew_deadline) <=
      duration<double>(timing.retry_period) * kJitterFactor) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "leader election: renew deadline must be greater than 1.2 x retry period");
  }
  if (lock.Identity().empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "leader election: identity must not be empty");
  }
  return std::unique_ptr<LeaderElector>(
      new LeaderElector(lock, clock, timing, std::move(on_change)));
}

LeaderElector::LeaderElector(LeaseLock& lock, const Clock& clock, LeaderElectionTiming timing,
                             OnChange on_change)
    : lock_(lock),
      clock_(clock),
      timing_(timing),
      on_change_(std::move(on_change)),
      rng_(static_cast<unsigned>(std::hash<std::string>{}(lock.Identity()))) {}

void LeaderElector::SetObserved(const LeaderElectionRecord& record) {
  observed_ = record;
  observed_time_ = clock_.Now();
}

bool LeaderElector::ObservedHolderIsUs() const {
  return observed_ && observed_->holder_identity == lock_.Identity();
}

bool LeaderElector::LeaseValid(SteadyTime now) const {
  if (!observed_) return false;
  return observed_time_ + std::chrono::seconds(observed_->lease_duration_seconds) > now;
}

bool LeaderElector::TryAcquireOrRenew() {
  std::lock_guard lock(step_mu_);
  return TryAcquireOrRenewLocked();
}

bool LeaderElector::TryAcquireOrRenewLocked() {
  const SteadyTime now = clock_.Now();
  const WallTime wall = clock_.WallNow();
  LeaderElectionRecord record{
      .holder_identity = lock_.Identity(),
      .lease_duration_seconds = static_cast<int>(
          std::chrono::duration_cast<std::chrono::seconds>(timing_.lease_duration).count()),
      .acquire_time = wall,
      .renew_time = wall,
  };
  // 1. Fast path: the leader updates with the version it last wrote.
  if (ObservedHolderIsUs() && LeaseValid(now)) {
    record.acquire_time = observed_->acquire_time;
    record.leader_transitions = observed_->leader_transitions;
    if (lock_.Update(record)) {
      SetObserved(record);
      return true;
    }
  }
  // 2. Read the lease, or create it.
  auto current = lock_.Get();
  if (!current) {
    if (current.error().code != ErrorCode::kNotFound) return false;
    if (!lock_.Create(record)) return false;
    SetObserved(record);
    return true;
  }
  // 3. A changed record restarts the expiry countdown on our clock.
  if (!observed_ || !(*observed_ == *current)) SetObserved(*current);
  if (!current->holder_identity.empty() && LeaseValid(now) && !ObservedHolderIsUs()) {
    return false;
  }
  // 4. Free, expired, or ours: take it, conditional on the version just read.
  if (ObservedHolderIsUs()) {
    record.acquire_time = current->acquire_time;
    record.leader_transitions = current->leader_transitions;
  } else {
    record.leader_transitions = current->leader_transitions + 1;
  }
  if (!lock_.Update(record)) return false;
  SetObserved(record);
  return true;
}

void LeaderElector::SetLeading(bool leading, std::optional<SteadyTime> renewed_at) {
  bool changed;
  {
    std::lock_guard lock(state_mu_);
    changed = leading_ != leading;
    leading_ = leading;
    if (renewed_at) renewed_at_ = *renewed_at;
  }
  if (changed && on_change_) on_change_(leading);
}

bool LeaderElector::Step() {
  std::lock_guard lock(step_mu_);
  const SteadyTime started = clock_.Now();
  if (TryAcquireOrRenewLocked()) {
    SetLeading(true, started);
  } else {
    bool was_leading;
    SteadyTime renewed_at;
    {
      std::lock_guard state(state_mu_);
      was_leading = leading_;
      renewed_at = renewed_at_;
    }
    const bool taken = observed_ && !ObservedHolderIsUs();
    if (was_leading && (taken || clock_.Now() - renewed_at >= timing_.renew_deadline)) {
      SetLeading(false, std::nullopt);
    }
  }
  return IsLeader();
}

bool LeaderElector::IsLeader() const {
  std::lock_guard lock(state_mu_);
  return leading_ && clock_.Now() - renewed_at_ < timing_.renew_deadline;
}

Status LeaderElector::Release() {
  std::lock_guard lock(step_mu_);
  if (!ObservedHolderIsUs()) {
    SetLeading(false, std::nullopt);
    return OkStatus();
  }
  const WallTime wall = clock_.WallNow();
  LeaderElectionRecord record{
      .holder_identity = "",
      .lease_duration_seconds = 1,
      .acquire_time = wall,
      .renew_time = wall,
      .leader_transitions = observed_->leader_transitions,
  };
  SetLeading(false, std::nullopt);
  auto status = lock_.Update(record);
  if (!status) return MakeError(status.error().WithContext("leader election: release"));
  SetObserved(record);
  return OkStatus();
}

void LeaderElector::Run(const StopToken& stop) {
  while (!stop.Stopped()) {
    const bool leading = Step();
    Duration wait = timing_.retry_period;
    if (!leading) {
      std::lock_guard lock(step_mu_);
      std::uniform_real_distribution<double> jitter(0.0, kJitterFactor);
      wait += std::chrono::duration_cast<Duration>(
          std::chrono::duration<double>(timing_.retry_period) * jitter(rng_));
    }
    if (stop.WaitFor(wait)) break;
  }
  (void)Release();  // best effort: a failed release just leaves the lease to expire
}

}  // namespace kafka_autoscaler::kube
