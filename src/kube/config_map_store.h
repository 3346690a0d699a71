// ConfigMapStore: one string kept under one key of a ConfigMap, for what the daemon learned
// and should not lose on a restart (LEARNED_STATE_CONFIGMAP; policy/learned_state.h).
//
// Load() reads it (absent ConfigMap or key: nullopt). Save() writes it with optimistic
// concurrency: an update carrying the resourceVersion last seen, or a create when none was
// seen; when the update conflicts (someone else wrote the ConfigMap) or the create finds one,
// it reads the ConfigMap again and tries once more, and when the update finds none (deleted
// meanwhile) it creates it. Other keys, labels and annotations of the ConfigMap are kept.
// Not thread-safe: one thread loads and saves.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"
#include "kube/client.h"
#include "kube/text_store.h"

namespace kafka_autoscaler::kube {

class ConfigMapStore final : public TextStore {
 public:
  // `client` must outlive the store.
  ConfigMapStore(Client& client, std::string namespace_name, std::string name, std::string key);

  [[nodiscard]] Result<std::optional<std::string>> Load() override;
  [[nodiscard]] Status Save(const std::string& value) override;
  std::string Describe() const override { return "configmap " + namespace_ + "/" + name_; }

 private:
  Status Write(const std::string& value);
  std::string Path() const;

  Client& client_;
  std::string namespace_;
  std::string name_;
  std::string key_;
  std::optional<nlohmann::json> known_;  // the ConfigMap as last read or written
};

}  // namespace kafka_autoscaler::kube
