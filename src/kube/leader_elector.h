// LeaderElector: leader election over a LeaseLock, following client-go's
// tools/leaderelection algorithm and defaults, so that with LEADER_ELECTION on only one
// replica of the daemon scales while the others observe and report.
//
// Algorithm (one TryAcquireOrRenew step, as client-go's tryAcquireOrRenew):
//   - A leader first updates the lease optimistically with the version it last wrote.
//   - Otherwise it reads the lease (creating it when absent). When the record differs from the
//     one observed before, the observation time is reset to the *local monotonic* Now(): the
//     lease is "held" until observed_time + leaseDurationSeconds on this host's clock. Remote
//     timestamps (renewTime) are never compared with local time, so clock skew between hosts
//     does not matter; only rate differences over one lease duration do.
//   - A free or expired lease is taken with an update conditional on its resourceVersion, so of
//     two candidates racing only one wins (the other gets a 409 and stays a follower).
// Leading and losing (Step, which Run calls every retry period):
//   - A successful step makes the candidate leader and stamps the renew time (taken *before*
//     the request is sent, to be conservative).
//   - A leader that has not renewed within renew_deadline stops leading. Since
//     renew_deadline < lease_duration, it stops before any other candidate may consider the
//     lease expired (they wait a full lease_duration from their last observation of a change).
//     IsLeader() checks the deadline itself, so it turns false on time even while a slow
//     request is in flight.
//   - Release() (called by Run on stop) writes an empty holder with leaseDurationSeconds 1 so
//     a successor takes over at once instead of waiting out the lease.
// Timing is validated up front as client-go does: lease_duration > renew_deadline >
// 1.2 × retry_period > 0.
//
// Thread-safety: Step, Release and Run serialize on an internal mutex; IsLeader() may be called
// from any thread at any time and never blocks on the network. The LeaseLock and Clock must
// outlive the elector.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>

#include "common/clock.h"
#include "common/result.h"
#include "kube/lease_lock.h"

namespace kafka_autoscaler::kube {

struct LeaderElectionTiming {
  Duration lease_duration = std::chrono::seconds(15);  // default 15 s (client-go)
  Duration renew_deadline = std::chrono::seconds(10);  // default 10 s
  Duration retry_period = std::chrono::seconds(2);     // default 2 s
};

class LeaderElector {
 public:
  // Called with true when this candidate starts leading and false when it stops (from the
  // thread running Step/Run). May be empty.
  using OnChange = std::function<void(bool leading)>;

  // Errors: kInvalidArgument when the timing breaks the rule above or the identity is empty.
  [[nodiscard]] static Result<std::unique_ptr<LeaderElector>> Create(LeaseLock& lock,
                                                                     const Clock& clock,
                                                                     LeaderElectionTiming timing,
                                                                     OnChange on_change = {});

  // One attempt to acquire or renew the lease (client-go's tryAcquireOrRenew). Returns true
  // when this candidate holds the lease after it. Does not change leading state; Step does.
  bool TryAcquireOrRenew();

  // TryAcquireOrRenew plus the leading state machine described above. Returns IsLeader().
  bool Step();

  // True while leading and the last successful renew is younger than renew_deadline.
  bool IsLeader() const;

  // Gives the lease up when this candidate holds it (empty holder, leaseDurationSeconds 1)
  // and stops leading. OK when not leading. Errors: the lock's.
  [[nodiscard]] Status Release();

  // Steps every retry_period (with client-go's 1.2 jitter while not leading) until `stop`,
  // then releases the lease. Blocks the calling thread; real time (stop.WaitFor).
  void Run(const StopToken& stop);

  const LeaderElectionTiming& timing() const { return timing_; }

 private:
  LeaderElector(LeaseLock& lock, const Clock& clock, LeaderElectionTiming timing,
                OnChange on_change);
  bool TryAcquireOrRenewLocked();
  void SetObserved(const LeaderElectionRecord& record);
  bool ObservedHolderIsUs() const;
  bool LeaseValid(SteadyTime now) const;
  void SetLeading(bool leading, std::optional<SteadyTime> renewed_at);

  LeaseLock& lock_;
  const Clock& clock_;
  const LeaderElectionTiming timing_;
  const OnChange on_change_;

  std::mutex step_mu_;                            // serializes Step/Release/TryAcquireOrRenew
  std::optional<LeaderElectionRecord> observed_;  // guarded by step_mu_
  SteadyTime observed_time_{};                    // guarded by step_mu_
  std::minstd_rand rng_;                          // guarded by step_mu_; jitter

  mutable std::mutex state_mu_;
  bool leading_ = false;     // guarded by state_mu_
  SteadyTime renewed_at_{};  // guarded by state_mu_
};

}  // namespace kafka_autoscaler::kube
