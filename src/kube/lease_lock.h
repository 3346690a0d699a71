// LeaseLock: the small lock interface leader election is built on (client-go's
// resourcelock.Interface), and LeaseLockImpl over a coordination.k8s.io/v1 Lease.
//
// A lock remembers the object it last read or wrote; Update() writes with that object's
// resourceVersion, so a concurrent writer makes it fail with kConflict (optimistic
// concurrency). Times in the record are wall-clock and informational: expiry is judged by the
// elector on its own monotonic clock, never by comparing another host's timestamps.
// KubeLeaseLock is thread-safe (a mutex guards the remembered version).
#pragma once

#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "kube/client.h"

namespace kafka_autoscaler::kube {

// The Lease's spec, as client-go's LeaderElectionRecord.
struct LeaderElectionRecord {
  std::string holder_identity;  // empty: released
  int lease_duration_seconds = 0;
  WallTime acquire_time{};
  WallTime renew_time{};
  int leader_transitions = 0;

  bool operator==(const LeaderElectionRecord&) const = default;
};

// The record of a Lease object (API answer of any shape: kProtocol, never a throw).
[[nodiscard]] Result<LeaderElectionRecord> RecordOfLease(const nlohmann::json& lease);
// A coordination.k8s.io/v1 Lease object holding `record`; `resource_version` may be empty.
nlohmann::json LeaseObject(const std::string& namespace_name, const std::string& name,
                           const std::string& resource_version, const LeaderElectionRecord& record);

class LeaseLock {
 public:
  virtual ~LeaseLock() = default;
  // Reads the lease. kNotFound when it does not exist; other errors as the transport's.
  [[nodiscard]] virtual Result<LeaderElectionRecord> Get() = 0;
  // Creates the lease holding `record`. kConflict when it already exists.
  [[nodiscard]] virtual Status Create(const LeaderElectionRecord& record) = 0;
  // Replaces the lease's record, conditional on the version last read or written.
  // kConflict when someone wrote in between; kInvalidArgument when nothing was read yet.
  [[nodiscard]] virtual Status Update(const LeaderElectionRecord& record) = 0;
  // Who this candidate is (written into holderIdentity).
  virtual const std::string& Identity() const = 0;
  // "namespace/name", for logs.
  virtual std::string Describe() const = 0;
};

class KubeLeaseLock final : public LeaseLock {
 public:
  // Lease `name` in `namespace_name`, held as `identity`. `client` must outlive the lock.
  KubeLeaseLock(Client& client, std::string namespace_name, std::string name, std::string identity);

  [[nodiscard]] Result<LeaderElectionRecord> Get() override;
  [[nodiscard]] Status Create(const LeaderElectionRecord& record) override;
  [[nodiscard]] Status Update(const LeaderElectionRecord& record) override;
  const std::string& Identity() const override { return identity_; }
  std::string Describe() const override { return namespace_name_ + "/" + name_; }

 private:
  nlohmann::json ToLease(const LeaderElectionRecord& record) const;
  Client& client_;
  const std::string namespace_name_;
  const std::string name_;
  const std::string identity_;
  std::mutex mu_;
  std::string resource_version_;  // guarded by mu_
};

}  // namespace kafka_autoscaler::kube
