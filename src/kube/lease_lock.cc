#include "kube/lease_lock.h"

#include <utility>

#include "kube/deployment_target.h"
#include "kube/json_field.h"

namespace kafka_autoscaler::kube {
// Every field is read through Field(): a Lease answer of any shape is an error, never a throw.
Result<LeaderElectionRecord> RecordOfLease(const nlohmann::json& lease) {
  LeaderElectionRecord record;
  auto holder = Field<std::string>(lease, {"spec", "holderIdentity"}, "");
  if (!holder) return MakeError(holder.error());
  record.holder_identity = *holder;
  auto duration = Field<int32_t>(lease, {"spec", "leaseDurationSeconds"}, 0);
  if (!duration) return MakeError(duration.error());
  record.lease_duration_seconds = *duration;
  auto transitions = Field<int32_t>(lease, {"spec", "leaseTransitions"}, 0);
  if (!transitions) return MakeError(transitions.error());
  record.leader_transitions = *transitions;
  for (auto [key, out] :
       {std::pair<std::string_view, WallTime*>{"acquireTime", &record.acquire_time},
        {"renewTime", &record.renew_time}}) {
    auto text = Field<std::string>(lease, {"spec", key}, "");
    if (!text) return MakeError(text.error());
    if (text->empty()) continue;
    auto t = ParseTime(*text);
    if (!t) return MakeError(t.error());
    *out = *t;
  }
  return record;
}

nlohmann::json LeaseObject(const std::string& namespace_name, const std::string& name,
                           const std::string& resource_version,
                           const LeaderElectionRecord& record) {
  nlohmann::json spec = {{"holderIdentity", record.holder_identity},
                         {"leaseDurationSeconds", record.lease_duration_seconds},
                         {"acquireTime", FormatMicroTime(record.acquire_time)},
                         {"renewTime", FormatMicroTime(record.renew_time)},
                         {"leaseTransitions", record.leader_transitions}};
  nlohmann::json meta = {{"name", name}, {"namespace", namespace_name}};
  if (!resource_version.empty()) meta["resourceVersion"] = resource_version;
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", meta},
          {"spec", spec}};
}

namespace {

// The resourceVersion of a Lease answer (GET, POST or PUT).
Result<std::string> ResourceVersion(const nlohmann::json& lease) {
  return Field<std::string>(lease, {"metadata", "resourceVersion"}, "");
}

}  // namespace

KubeLeaseLock::KubeLeaseLock(Client& client, std::string namespace_name, std::string name,
                             std::string identity)
    : client_(client),
      namespace_name_(std::move(namespace_name)),
      name_(std::move(name)),
      identity_(std::move(identity)) {}

nlohmann::json KubeLeaseLock::ToLease(const LeaderElectionRecord& record) const {
  return LeaseObject(namespace_name_, name_, resource_version_, record);
}

Result<LeaderElectionRecord> KubeLeaseLock::Get() {
  std::lock_guard lock(mu_);
  auto lease = client_.Call(
      "GET", "/apis/coordination.k8s.io/v1/namespaces/" + namespace_name_ + "/leases/" + name_,
      {"get", "leases", namespace_name_, name_});
  if (!lease) return MakeError(lease.error().WithContext("lease"));
  auto version = ResourceVersion(*lease);
  auto record = version ? RecordOfLease(*lease) : MakeError(version.error());
  if (!record) return MakeError(record.error().WithContext("kubernetes: lease"));
  resource_version_ = *version;
  return record;
}

Status KubeLeaseLock::Create(const LeaderElectionRecord& record) {
  std::lock_guard lock(mu_);
  resource_version_.clear();
  nlohmann::json body = ToLease(record);
  auto lease =
      client_.Call("POST", "/apis/coordination.k8s.io/v1/namespaces/" + namespace_name_ + "/leases",
                   {"create", "leases", namespace_name_, name_}, &body);
  if (!lease) return MakeError(lease.error().WithContext("lease"));
  auto version = ResourceVersion(*lease);
  if (!version) {
    resource_version_.clear();  // unknown: the next Update reads the Lease again first
    return MakeError(version.error().WithContext("kubernetes: lease"));
  }
  resource_version_ = *version;
  return OkStatus();
}

Status KubeLeaseLock::Update(const LeaderElectionRecord& record) {
  std::lock_guard lock(mu_);
  if (resource_version_.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "kubernetes: lease: update before get");
  }
  nlohmann::json body = ToLease(record);
  auto lease = client_.Call(
      "PUT", "/apis/coordination.k8s.io/v1/namespaces/" + namespace_name_ + "/leases/" + name_,
      {"update", "leases", namespace_name_, name_}, &body);
  if (!lease) return MakeError(lease.error().WithContext("lease"));
  auto version = ResourceVersion(*lease);
  if (!version) {
    resource_version_.clear();  // unknown: the next Update reads the Lease again first
    return MakeError(version.error().WithContext("kubernetes: lease"));
  }
  resource_version_ = *version;
  return OkStatus();
}

}  // namespace kafka_autoscaler::kube
