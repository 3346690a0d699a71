// ShardCoordinator: splits many targets between active replicas with coordination.k8s.io
// Leases, so that each target is reconciled and written by exactly one replica at a time
// (issue 16; docs/many-targets.md, "Active-active").
//
// Targets map to a fixed number of shards by a stable hash of "namespace/name" (ShardOf). Each
// shard is a Lease "<prefix>-shard-<NN>"; each replica also holds a membership Lease
// "<prefix>-member-<identity>" so that a replica holding no shard yet is visible to the others.
// One Step() (every retry period, and at the expiry of another replica's Lease):
//   1. lists the Leases of the namespace once and records, for every Lease, when this replica
//      first saw its current record (local monotonic time, as client-go's elector: a Lease is
//      alive until that observation + leaseDurationSeconds; remote timestamps are never compared
//      with the local clock). A watch (Observe) sees a change as it happens, the list up to a
//      retry period later; the earlier sighting counts;
//   2. renews its membership Lease and the shard Leases it holds (a conditional update each);
//   3. computes its quota from the live members, sorted by identity: SHARDS / members each, the
//      first SHARDS % members one more, so holdings differ by at most one when all are healthy;
//   4. releases its highest shards above the quota (empty holder, leaseDurationSeconds 1, so the
//      next holder need not wait), and while under it takes free (empty holder) or expired shard
//      Leases with an update conditional on the listed resourceVersion (two replicas racing:
//      one gets 409 and tries again next step), creating a shard Lease that does not exist yet.
// Owning: Owns(shard) is true only while the last successful renew of that shard is younger than
// renew_deadline (10 s by default), which is shorter than lease_duration (15 s): a replica cut
// off from the API server stops writing before any other may take its shards. Callers check
// Owns() immediately before every write (the fencing rule of docs/reliability.md).
// Stop: ReleaseAll() gives up every shard and the membership, so the others take over within a
// step instead of a lease duration.
//
// Thread-safety: Step/ReleaseAll/Run serialize on an internal mutex; Owns/Held/Members from any
// thread without blocking on the network.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/result.h"
#include "kube/client.h"
#include "kube/leader_elector.h"
#include "kube/lease_lock.h"

namespace kafka_autoscaler::kube {

// The shard of a target key ("namespace/name"): FNV-1a 64 of the key, modulo `shards`. Stable
// across processes, builds and versions (it decides who owns what during a rolling update).
int ShardOf(std::string_view key, int shards);

struct ShardOptions {
  int shards = 16;             // SHARDS
  std::string namespace_name;  // where the Leases live (POD_NAMESPACE)
  std::string lease_prefix = "kafka-autoscaler";
  std::string identity;         // this replica (POD_NAME)
  LeaderElectionTiming timing;  // client-go's 15 / 10 / 2 s
};

class ShardCoordinator {
 public:
  // Called from Step's thread when this replica gains (true) or loses (false) a shard.
  using OnChange = std::function<void(int shard, bool held)>;

  // Errors: kInvalidArgument for shards outside 1..1024, an empty identity or namespace, or a
  // timing that breaks lease_duration > renew_deadline > 1.2 × retry_period > 0.
  [[nodiscard]] static Result<std::unique_ptr<ShardCoordinator>> Create(Client& client,
                                                                        ShardOptions options,
                                                                        const Clock& clock,
                                                                        Logger& log,
                                                                        OnChange on_change = {});

  // One round (see the file comment). Errors: the list failed (nothing else was attempted;
  // held shards stay owned until their renew deadline passes).
  Status Step();
  // Releases every held shard and the membership. Errors: the first failed release.
  Status ReleaseAll();
  // Step until `stop`, then ReleaseAll. Real time. Steps at NextStep(), and sooner (at most
  // every quarter retry period) when Observe() saw a Lease released.
  void Run(const StopToken& stop);

  // A Lease as a watch delivered it (main.cc runs an informer on the namespace's Leases): when
  // its record changes, that moment is its observation, so a dead holder's Lease expires a lease
  // duration after its last renewal was seen here rather than after the next list saw it (up to
  // a retry period later). `deleted`: the Lease is gone. Leases not of this prefix are ignored.
  // Any thread; never blocks on the network.
  void Observe(const nlohmann::json& lease, bool deleted = false);
  // When the next Step is due: a retry period after the last one began, or sooner when a Lease
  // held by another replica expires before that (so a dead replica's shards are taken at their
  // expiry, not up to a retry period later).
  SteadyTime NextStep() const;
  // Whether a Step is due at `now`: NextStep() has come, or a release was observed and a quarter
  // retry period has passed since the last Step began.
  bool Due(SteadyTime now) const;

  bool Owns(int shard) const;
  bool OwnsKey(std::string_view key) const { return Owns(ShardOf(key, options_.shards)); }
  std::vector<int> Held() const;  // owned now, ascending
  int members() const;            // live members in the last step, this one included
  int quota() const;              // this replica's share in the last step
  const ShardOptions& options() const { return options_; }
  std::string ShardLeaseName(int shard) const;
  std::string MemberLeaseName() const;

 private:
  ShardCoordinator(Client& client, ShardOptions options, const Clock& clock, Logger& log,
                   OnChange on_change);
  struct Seen {
    LeaderElectionRecord record;
    std::string resource_version;
    SteadyTime observed{};  // when the record last changed, as seen here
  };
  bool Alive(const Seen& seen, SteadyTime now) const;
  Result<std::string> Put(const std::string& name, const std::string& resource_version,
                          const LeaderElectionRecord& record, bool create);
  LeaderElectionRecord Holding(const std::optional<LeaderElectionRecord>& before,
                               WallTime now) const;
  void SetHeld(int shard, std::optional<SteadyTime> renewed_at);
  SteadyTime NextStepLocked() const;  // NextStep with step_mu_ held

  Client& client_;
  const ShardOptions options_;
  const Clock& clock_;
  Logger& log_;
  const OnChange on_change_;

  mutable std::mutex step_mu_;
  std::map<std::string, Seen> seen_;  // by Lease name; guarded by step_mu_
  SteadyTime stepped_{};              // when the last Step began; guarded by step_mu_

  std::mutex watch_mu_;
  std::map<std::string, Seen> watched_;     // by Lease name, from Observe; guarded by watch_mu_
  std::atomic<bool> released_seen_{false};  // Observe saw a Lease released since the last Step

  mutable std::mutex state_mu_;
  std::map<int, SteadyTime> renewed_;  // held shards: start of the last successful renew
  int members_ = 1;
  int quota_ = 0;
};

}  // namespace kafka_autoscaler::kube
