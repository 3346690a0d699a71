// The Kubernetes side of many-targets mode in the daemon, on the API client:
//   - ScalerEventRecorder: core/v1 Events whose involvedObject is a KafkaScaler
//     (kafka-autoscaler.io/v1alpha1), next to the Events the workload gets;
//   - KubeStatusWriter: merge PATCH of .../kafkascalers/NAME/status;
//   - MakeKubeFactory: the workload of a KafkaScaler's scaleTargetRef (Deployment or
//     StatefulSet) as a kube::CachedScaleTarget and CachedEventRecorder: reads come from the
//     watch cache (kube::ScaleCache), so a pass makes API requests only for writes.
// All keep a reference to the Client, which must outlive them; thread-safe as the Client is.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "kube/client.h"
#include "kube/scale_cache.h"
#include "many/controller.h"

namespace kafka_autoscaler::many {

inline constexpr char kKafkaScalerApiVersion[] = "kafka-autoscaler.io/v1alpha1";
inline constexpr char kKafkaScalersPath[] = "/apis/kafka-autoscaler.io/v1alpha1";

class ScalerEventRecorder final : public kube::EventRecorder {
 public:
  ScalerEventRecorder(kube::Client& client, ScalerRef ref, const Clock& clock,
                      std::string reporting_instance);
  // Posts one Event on the KafkaScaler (its uid as the informer saw it). Errors as Client::Call.
  [[nodiscard]] Status Record(kube::EventType type, const std::string& reason,
                              const std::string& message) override;

 private:
  kube::Client& client_;
  const ScalerRef ref_;
  const Clock& clock_;
  const std::string reporting_instance_;
  std::mutex mu_;
  uint64_t sequence_ = 0;  // guarded by mu_; keeps event names unique within a nanosecond
};

class KubeStatusWriter final : public StatusWriter {
 public:
  explicit KubeStatusWriter(kube::Client& client) : client_(client) {}
  [[nodiscard]] Status Write(const ScalerRef& ref, const nlohmann::json& merge_patch) override;

 private:
  kube::Client& client_;
};

// The KubeFactory of the daemon, on `cache` (which must outlive the targets).
// `reporting_instance` names this instance in Events.
KubeFactory MakeKubeFactory(kube::Client& client, kube::ScaleCache& cache, const Clock& clock,
                            std::string reporting_instance);

// The collection path of KafkaScalers: all namespaces ("" ) or one.
std::string KafkaScalersPath(const std::string& namespace_name);

}  // namespace kafka_autoscaler::many
