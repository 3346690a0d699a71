#include "kube/config_map_store.h"

#include <utility>

namespace kafka_autoscaler::kube {

ConfigMapStore::ConfigMapStore(Client& client, std::string namespace_name, std::string name,
                               std::string key)
    : client_(client),
      namespace_(std::move(namespace_name)),
      name_(std::move(name)),
      key_(std::move(key)) {}

std::string ConfigMapStore::Path() const {
  return "/api/v1/namespaces/" + namespace_ + "/configmaps";
}

Result<std::optional<std::string>> ConfigMapStore::Load() {
  auto cm = client_.Call("GET", Path() + "/" + name_, {"get", "configmaps", namespace_, name_});
  if (!cm) {
    if (cm.error().code != ErrorCode::kNotFound) return MakeError(cm.error());
    known_.reset();
    return std::optional<std::string>();
  }
  if (!cm->is_object()) {
    return MakeError(ErrorCode::kProtocol, "kubernetes: configmap " + name_ + ": not an object");
  }
  known_ = *cm;
  auto data = cm->find("data");
  if (data == cm->end() || data->is_null()) return std::optional<std::string>();
  if (!data->is_object()) {
    return MakeError(ErrorCode::kProtocol,
                     "kubernetes: configmap " + name_ + ": data is not an object");
  }
  auto value = data->find(key_);
  if (value == data->end()) return std::optional<std::string>();
  if (!value->is_string()) {
    return MakeError(ErrorCode::kProtocol,
                     "kubernetes: configmap " + name_ + ": data." + key_ + " is not a string");
  }
  return std::optional<std::string>(value->get<std::string>());
}

Status ConfigMapStore::Write(const std::string& value) {
  if (known_) {
    nlohmann::json body = *known_;
    if (!body.contains("data") || !body["data"].is_object())
      body["data"] = nlohmann::json::object();
    body["data"][key_] = value;
    auto cm = client_.Call("PUT", Path() + "/" + name_, {"update", "configmaps", namespace_, name_},
                           &body);
    if (!cm) return MakeError(cm.error());
    known_ = std::move(*cm);
    return OkStatus();
  }
  nlohmann::json body = {{"apiVersion", "v1"},
                         {"kind", "ConfigMap"},
                         {"metadata",
                          {{"name", name_},
                           {"namespace", namespace_},
                           {"labels", {{"app.kubernetes.io/managed-by", "kafka-autoscaler"}}}}},
                         {"data", {{key_, value}}}};
  auto cm = client_.Call("POST", Path(), {"create", "configmaps", namespace_, name_}, &body);
  if (!cm) return MakeError(cm.error());
  known_ = std::move(*cm);
  return OkStatus();
}

Status ConfigMapStore::Save(const std::string& value) {
  auto s = Write(value);
  if (s) return s;
  const ErrorCode code = s.error().code;
  // Someone else wrote it (409 on update), it exists already (409 on create: AlreadyExists),
  // or it was deleted (404 on update): read it again and try once more.
  if (code != ErrorCode::kConflict && code != ErrorCode::kNotFound) return s;
  if (auto reread = Load(); !reread) return MakeError(reread.error());
  return Write(value);
}

}  // namespace kafka_autoscaler::kube
