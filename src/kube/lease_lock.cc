#include "kube/lease_lock.h"

#include <utility>

#include "kube/deployment_target.h"

namespace kafka_autoscaler::kube {
namespace {

Result<LeaderElectionRecord> FromLease(const nlohmann::json& lease) {
  LeaderElectionRecord record;
  try {
    const auto spec = lease.value("spec", nlohmann::json::object());
    record.holder_identity = spec.value("holderIdentity", "");
    record.lease_duration_seconds = spec.value("leaseDurationSeconds", 0);
    record.leader_transitions = spec.value("leaseTransitions", 0);
    if (spec.contains("acquireTime") && spec["acquireTime"].is_string()) {
      auto t = ParseTime(spec["acquireTime"]);
      if (!t) return MakeError(t.error());
      record.acquire_time = *t;
    }
    if (spec.contains("renewTime") && spec["renewTime"].is_string()) {
      auto t = ParseTime(spec["renewTime"]);
      if (!t) return MakeError(t.error());
      record.renew_time = *t;
    }
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kProtocol, std::string("unexpected Lease shape: ") + e.what());
  }
  return record;
}

}  // namespace

KubeLeaseLock::KubeLeaseLock(Client& client, std::string namespace_name, std::string name,
                             std::string identity)
    : client_(client),
      namespace_name_(std::move(namespace_name)),
      name_(std::move(name)),
      identity_(std::move(identity)) {}

nlohmann::json KubeLeaseLock::ToLease(const LeaderElectionRecord& record) const {
  nlohmann::json spec = {{"holderIdentity", record.holder_identity},
                         {"leaseDurationSeconds", record.lease_duration_seconds},
                         {"acquireTime", FormatMicroTime(record.acquire_time)},
                         {"renewTime", FormatMicroTime(record.renew_time)},
                         {"leaseTransitions", record.leader_transitions}};
  nlohmann::json meta = {{"name", name_}, {"namespace", namespace_name_}};
  if (!resource_version_.empty()) meta["resourceVersion"] = resource_version_;
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", meta},
          {"spec", spec}};
}

Result<LeaderElectionRecord> KubeLeaseLock::Get() {
  std::lock_guard lock(mu_);
  auto lease = client_.Call(
      "GET", "/apis/coordination.k8s.io/v1/namespaces/" + namespace_name_ + "/leases/" + name_,
      {"get", "leases", namespace_name_, name_});
  if (!lease) return MakeError(lease.error().WithContext("lease"));
  resource_version_ =
      lease->value("metadata", nlohmann::json::object()).value("resourceVersion", "");
  return FromLease(*lease);
}

Status KubeLeaseLock::Create(const LeaderElectionRecord& record) {
  std::lock_guard lock(mu_);
  resource_version_.clear();
  nlohmann::json body = ToLease(record);
  auto lease =
      client_.Call("POST", "/apis/coordination.k8s.io/v1/namespaces/" + namespace_name_ + "/leases",
                   {"create", "leases", namespace_name_, name_}, &body);
  if (!lease) return MakeError(lease.error().WithContext("lease"));
  resource_version_ =
      lease->value("metadata", nlohmann::json::object()).value("resourceVersion", "");
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
  resource_version_ =
      lease->value("metadata", nlohmann::json::object()).value("resourceVersion", "");
  return OkStatus();
}

}  // namespace kafka_autoscaler::kube
