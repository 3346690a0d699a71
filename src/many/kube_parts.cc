#include "many/kube_parts.h"

#include <utility>

#include "kube/deployment_target.h"
#include "kube/scale_cache.h"

namespace kafka_autoscaler::many {

ScalerEventRecorder::ScalerEventRecorder(kube::Client& client, ScalerRef ref, const Clock& clock,
                                         std::string reporting_instance)
    : client_(client),
      ref_(std::move(ref)),
      clock_(clock),
      reporting_instance_(std::move(reporting_instance)) {}

Status ScalerEventRecorder::Record(kube::EventType type, const std::string& reason,
                                   const std::string& message) {
  std::lock_guard lock(mu_);
  const nlohmann::json involved = {{"apiVersion", kKafkaScalerApiVersion},
                                   {"kind", "KafkaScaler"},
                                   {"name", ref_.name},
                                   {"namespace", ref_.namespace_name},
                                   {"uid", ref_.uid}};
  return kube::PostEvent(client_, involved, type, reason, message, clock_.WallNow(), sequence_++,
                         reporting_instance_);
}

std::string KafkaScalersPath(const std::string& namespace_name) {
  return std::string(kKafkaScalersPath) +
         (namespace_name.empty() ? "" : "/namespaces/" + namespace_name) + "/kafkascalers";
}

Status KubeStatusWriter::Write(const ScalerRef& ref, const nlohmann::json& merge_patch) {
  const std::string path = KafkaScalersPath(ref.namespace_name) + "/" + ref.name + "/status";
  auto r =
      client_.Call("PATCH", path, {"patch", "kafkascalers/status", ref.namespace_name, ref.name},
                   &merge_patch, "application/merge-patch+json");
  if (!r) return MakeError(r.error().WithContext("kafkascaler status"));
  return OkStatus();
}

KubeFactory MakeKubeFactory(kube::Client& client, kube::ScaleCache& cache, const Clock& clock,
                            std::string reporting_instance) {
  return [&client, &cache, &clock, reporting_instance](
             const ScalerRef&, const config::KafkaScalerTarget& spec) -> Result<TargetKube> {
    const kube::WorkloadRef workload{spec.config.namespace_name, spec.config.deployment_name,
                                     spec.target_kind};
    if (kube::WorkloadResource(spec.target_kind).empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "spec.scaleTargetRef.kind " + spec.target_kind +
                                                        ": must be Deployment or StatefulSet");
    }
    TargetKube k;
    k.scale = std::make_unique<kube::CachedScaleTarget>(cache, client, workload);
    k.events = std::make_unique<kube::CachedEventRecorder>(cache, client, workload, clock,
                                                           reporting_instance);
    return k;
  };
}

}  // namespace kafka_autoscaler::many
