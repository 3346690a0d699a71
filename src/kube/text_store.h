// TextStore: somewhere one string survives the process (kube::ConfigMapStore; tests use a fake).
#pragma once

#include <optional>
#include <string>

#include "common/result.h"

namespace kafka_autoscaler::kube {

class TextStore {
 public:
  virtual ~TextStore() = default;
  // The stored string; nullopt when nothing was stored yet.
  [[nodiscard]] virtual Result<std::optional<std::string>> Load() = 0;
  [[nodiscard]] virtual Status Save(const std::string& value) = 0;
  // "configmap ns/name", for logs.
  virtual std::string Describe() const = 0;
};

}  // namespace kafka_autoscaler::kube
