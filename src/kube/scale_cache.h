// ScaleCache: the scale state of many workloads (Deployments and StatefulSets) and the
// HorizontalPodAutoscalers next to them, kept up to date by list+watch (kube::Informer), so that
// reading a target's state makes no API request. A pass over thousands of targets then costs API
// requests only for what changes: /scale PATCHes, Events, status writes (issue 15, item 4).
//
// The informers keep only the fields read below (Informer's prune), not whole objects: a
// Deployment's pod template and managedFields are most of its size.
//
// One Informer per collection and namespace: deployments, statefulsets and
// horizontalpodautoscalers, either across all namespaces (three informers; a ClusterRole with
// list+watch on them) or in each namespace of `namespaces` (WATCH_NAMESPACES; Roles suffice).
//
// CachedScaleTarget is the ScaleTarget of one workload on the cache, answering exactly what
// DeploymentScaleTarget answers from three GETs:
//   spec_replicas      spec.replicas (absent: 1, the API server's default)
//   status_replicas    status.replicas
//   ready_replicas     status.readyReplicas (absent: 0)
//   selector           spec.selector rendered as a label selector string, as /scale's
//                      status.selector ("app=web,tier in (a,b)"; requirements sorted by key)
//   paused             annotation kafka-autoscaler/paused == "true"
//   uid, resource_version   of the workload (the /scale's resourceVersion is the workload's)
//   other_autoscalers  "HorizontalPodAutoscaler NS/NAME" of each HPA whose scaleTargetRef
//                      (apps/*) names this workload
// SetReplicas() sends one /scale merge patch conditional on the resourceVersion the last Get()
// returned (kube::PatchScale, shared with DeploymentScaleTarget): a 409 is kConflict, never
// re-sent. A write's answer (the Scale) is laid over the cached workload until the cache holds a
// version other than the one the write was based on, so a Get() right after a write sees it
// before the watch event arrives.
//
// CachedEventRecorder posts Events on the workload with the uid from the cache (no GET).
//
// Errors of Get(): kUnavailable until every informer has listed once (they keep retrying with
// backoff; list/watch failures are logged by the informers); kNotFound when the cache has no such
// workload; kInvalidArgument for a kind other than Deployment/StatefulSet or a namespace outside
// `namespaces`; kProtocol for a workload of an unexpected shape.
//
// Thread-safety: Run() on one thread (it starts one per informer and joins them); everything else
// from any thread. The cache must outlive its targets and recorders; the Client passed to them
// must outlive them too.
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
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/result.h"
#include "kube/client.h"
#include "kube/deployment_target.h"
#include "kube/informer.h"
#include "kube/scale_target.h"

namespace kafka_autoscaler::kube {

struct ScaleCacheOptions {
  std::vector<std::string> namespaces;      // empty: all namespaces
  std::chrono::seconds watch_timeout{300};  // timeoutSeconds of each watch
  Duration backoff_initial = std::chrono::seconds(1);
  Duration backoff_max = std::chrono::seconds(30);
};

// The label selector string of a LabelSelector (matchLabels, matchExpressions), as
// metav1.LabelSelectorAsSelector(...).String() renders it. kProtocol on a malformed one.
[[nodiscard]] Result<std::string> LabelSelectorString(const nlohmann::json& selector);

class ScaleCache {
 public:
  // Errors: those of Informer::Create.
  [[nodiscard]] static Result<std::unique_ptr<ScaleCache>> Create(const ClientOptions& client,
                                                                  ScaleCacheOptions options,
                                                                  const Clock& clock, Logger& log);
  ~ScaleCache();
  ScaleCache(const ScaleCache&) = delete;
  ScaleCache& operator=(const ScaleCache&) = delete;

  // Called (on an informer's thread) with the workload a change concerns: the workload itself,
  // or the target of a changed HorizontalPodAutoscaler. Set before Run().
  void OnChange(std::function<void(const WorkloadRef&)> handler);

  // Lists and watches (one thread per informer) until `stop`; returns when all have ended.
  void Run(const StopToken& stop);

  bool synced() const;  // every informer listed once
  // The state of `ref` from the cache (see the file comment); no API request.
  [[nodiscard]] Result<ScaleState> Get(const WorkloadRef& ref) const;
  // Lays the answer of a successful /scale write (a Scale) over the cached workload while the
  // cache still holds `based_on`, the version the write was conditional on.
  void Wrote(const WorkloadRef& ref, const std::string& based_on, const nlohmann::json& scale);
  Informer::Stats stats() const;  // summed over the informers

 private:
  struct Watched {
    std::string resource;        // "deployments", "statefulsets", "horizontalpodautoscalers"
    std::string namespace_name;  // "" = all
    std::unique_ptr<Informer> informer;
  };
  struct Overlay {
    std::string based_on;
    std::string resource_version;
    int32_t spec_replicas = 0;
    int32_t status_replicas = 0;
  };
  ScaleCache() = default;
  const Informer* InformerFor(const std::string& resource, const std::string& ns) const;
  std::vector<std::string> OtherAutoscalers(const WorkloadRef& ref) const;

  std::vector<Watched> watched_;
  std::function<void(const WorkloadRef&)> handler_;
  std::atomic<uint64_t> hpa_changes_{0};  // bumped after each HPA change reached an informer
  mutable std::mutex mu_;
  mutable uint64_t hpa_index_at_ = UINT64_MAX;  // guarded by mu_; hpa_changes_ it was built at
  // "Kind/ns/name" -> "HorizontalPodAutoscaler ns/hpa"...; guarded by mu_
  mutable std::map<std::string, std::vector<std::string>> hpa_index_;
  mutable std::map<std::string, Overlay> overlays_;  // "Kind/ns/name"; guarded by mu_
};

class CachedScaleTarget final : public ScaleTarget {
 public:
  CachedScaleTarget(ScaleCache& cache, Client& client, WorkloadRef ref);

  [[nodiscard]] Result<ScaleState> Get() override;
  [[nodiscard]] Status SetReplicas(int32_t replicas) override;

 private:
  ScaleCache& cache_;
  Client& client_;
  const WorkloadRef ref_;
  std::mutex mu_;
  std::string resource_version_;  // guarded by mu_; from the last Get()
};

class CachedEventRecorder final : public EventRecorder {
 public:
  CachedEventRecorder(const ScaleCache& cache, Client& client, WorkloadRef ref, const Clock& clock,
                      std::string reporting_instance);
  // Posts a core/v1 Event on the workload, its uid from the cache. Errors: those of
  // ScaleCache::Get and Client::Call, with the context "event".
  [[nodiscard]] Status Record(EventType type, const std::string& reason,
                              const std::string& message) override;

 private:
  const ScaleCache& cache_;
  Client& client_;
  const WorkloadRef ref_;
  const Clock& clock_;
  const std::string reporting_instance_;
  std::mutex mu_;
  uint64_t sequence_ = 0;  // guarded by mu_
};

}  // namespace kafka_autoscaler::kube
