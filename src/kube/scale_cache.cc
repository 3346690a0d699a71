#include "kube/scale_cache.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "kube/json_field.h"

namespace kafka_autoscaler::kube {
namespace {

constexpr char kHpas[] = "horizontalpodautoscalers";

std::string RefKey(const WorkloadRef& ref) {
  return ref.kind + "/" + ref.namespace_name + "/" + ref.name;
}

std::string KindOf(const std::string& resource) {
  return resource == "deployments" ? "Deployment" : "StatefulSet";
}

// The workload an HPA scales, when it is an apps/* one.
std::optional<WorkloadRef> HpaTarget(const nlohmann::json& hpa) {
  auto kind = Field<std::string>(hpa, {"spec", "scaleTargetRef", "kind"}, "");
  auto name = Field<std::string>(hpa, {"spec", "scaleTargetRef", "name"}, "");
  auto api_version = Field<std::string>(hpa, {"spec", "scaleTargetRef", "apiVersion"}, "apps/v1");
  auto ns = Field<std::string>(hpa, {"metadata", "namespace"}, "");
  if (!kind || !name || !api_version || !ns || api_version->rfind("apps/", 0) != 0) {
    return std::nullopt;
  }
  return WorkloadRef{*ns, *name, *kind};
}

// What Get() and the HPA index read; the cache keeps nothing else of an object (a Deployment's
// pod template, managedFields, conditions: most of its size).
void PruneWorkload(nlohmann::json& object) {
  object = KeepOnly(object, {{"metadata", "name"},
                             {"metadata", "namespace"},
                             {"metadata", "uid"},
                             {"metadata", "resourceVersion"},
                             {"metadata", "annotations", kPausedAnnotation},
                             {"spec", "replicas"},
                             {"spec", "selector"},
                             {"status", "replicas"},
                             {"status", "readyReplicas"}});
}
void PruneHpa(nlohmann::json& object) {
  object = KeepOnly(object, {{"metadata", "name"},
                             {"metadata", "namespace"},
                             {"metadata", "resourceVersion"},
                             {"spec", "scaleTargetRef"}});
}

}  // namespace

Result<std::string> LabelSelectorString(const nlohmann::json& selector) {
  auto bad = [](const std::string& what) {
    return MakeError(ErrorCode::kProtocol, "unexpected spec.selector: " + what);
  };
  if (selector.is_null()) return std::string();
  if (!selector.is_object()) return bad("not an object");
  std::vector<std::pair<std::string, std::string>> requirements;  // key, rendered
  if (selector.contains("matchLabels") && !selector["matchLabels"].is_null()) {
    if (!selector["matchLabels"].is_object()) return bad("matchLabels is not an object");
    for (const auto& [key, value] : selector["matchLabels"].items()) {
      if (!value.is_string()) return bad("matchLabels." + key + " is not a string");
      requirements.emplace_back(key, key + "=" + value.get<std::string>());
    }
  }
  if (selector.contains("matchExpressions") && !selector["matchExpressions"].is_null()) {
    if (!selector["matchExpressions"].is_array()) return bad("matchExpressions is not an array");
    for (const auto& e : selector["matchExpressions"]) {
      auto key = Field<std::string>(e, {"key"}, "");
      auto op = Field<std::string>(e, {"operator"}, "");
      if (!key || !op || key->empty()) return bad("a matchExpression without key or operator");
      std::vector<std::string> values;
      if (e.contains("values") && e["values"].is_array()) {
        for (const auto& v : e["values"]) {
          if (!v.is_string()) return bad("matchExpressions values must be strings");
          values.push_back(v.get<std::string>());
        }
      }
      std::sort(values.begin(), values.end());
      std::string list;
      for (const auto& v : values) list += (list.empty() ? "" : ",") + v;
      if (*op == "In") {
        requirements.emplace_back(*key, *key + " in (" + list + ")");
      } else if (*op == "NotIn") {
        requirements.emplace_back(*key, *key + " notin (" + list + ")");
      } else if (*op == "Exists") {
        requirements.emplace_back(*key, *key);
      } else if (*op == "DoesNotExist") {
        requirements.emplace_back(*key, "!" + *key);
      } else {
        return bad("operator " + *op);
      }
    }
  }
  std::stable_sort(requirements.begin(), requirements.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [key, rendered] : requirements) out += (out.empty() ? "" : ",") + rendered;
  return out;
}

Result<std::unique_ptr<ScaleCache>> ScaleCache::Create(const ClientOptions& client,
                                                       ScaleCacheOptions options,
                                                       const Clock& clock, Logger& log) {
  std::unique_ptr<ScaleCache> cache(new ScaleCache());
  ScaleCache* self = cache.get();
  std::vector<std::string> namespaces = options.namespaces;
  if (namespaces.empty()) namespaces.push_back("");
  for (const std::string resource : {"deployments", "statefulsets", kHpas}) {
    const std::string group = resource == kHpas ? "/apis/autoscaling/v2" : "/apis/apps/v1";
    for (const auto& ns : namespaces) {
      InformerOptions informer_options{
          .path = group + (ns.empty() ? "" : "/namespaces/" + ns) + "/" + resource,
          .what = resource,
          .watch_timeout = options.watch_timeout,
          .backoff_initial = options.backoff_initial,
          .backoff_max = options.backoff_max,
          .prune = resource == kHpas ? PruneHpa : PruneWorkload};
      auto informer = Informer::Create(client, std::move(informer_options), clock, log);
      if (!informer) return MakeError(informer.error());
      if (resource == kHpas) {
        (*informer)->OnChange([self](const Change& change) {
          ++self->hpa_changes_;
          auto target = HpaTarget(change.object);
          if (target && self->handler_) self->handler_(*target);
        });
      } else {
        (*informer)->OnChange([self, kind = KindOf(resource)](const Change& change) {
          if (!self->handler_) return;
          self->handler_(
              {Field<std::string>(change.object, {"metadata", "namespace"}, "").value_or(""),
               Field<std::string>(change.object, {"metadata", "name"}, "").value_or(""), kind});
        });
      }
      cache->watched_.push_back({resource, ns, std::move(*informer)});
    }
  }
  return cache;
}

ScaleCache::~ScaleCache() = default;

void ScaleCache::OnChange(std::function<void(const WorkloadRef&)> handler) {
  handler_ = std::move(handler);
}

void ScaleCache::Run(const StopToken& stop) {
  std::vector<std::thread> threads;
  for (auto& w : watched_) {
    threads.emplace_back([&w, &stop] { w.informer->Run(stop); });
  }
  for (auto& t : threads) t.join();
}

bool ScaleCache::synced() const {
  return std::all_of(watched_.begin(), watched_.end(),
                     [](const Watched& w) { return w.informer->synced(); });
}

Informer::Stats ScaleCache::stats() const {
  Informer::Stats sum;
  for (const auto& w : watched_) {
    const Informer::Stats s = w.informer->stats();
    sum.lists += s.lists;
    sum.watches += s.watches;
    sum.events += s.events;
    sum.bookmarks += s.bookmarks;
    sum.relists_after_gone += s.relists_after_gone;
    sum.errors += s.errors;
  }
  return sum;
}

const Informer* ScaleCache::InformerFor(const std::string& resource, const std::string& ns) const {
  for (const auto& w : watched_) {
    if (w.resource == resource && (w.namespace_name.empty() || w.namespace_name == ns)) {
      return w.informer.get();
    }
  }
  return nullptr;
}

std::vector<std::string> ScaleCache::OtherAutoscalers(const WorkloadRef& ref) const {
  std::lock_guard lock(mu_);
  // Rebuilt after HPA changes only (rare): a Get() costs a map lookup, not a scan of every HPA.
  const uint64_t changes = hpa_changes_.load();
  if (hpa_index_at_ != changes) {
    hpa_index_.clear();
    for (const auto& w : watched_) {
      if (w.resource != kHpas) continue;
      for (const auto& hpa : w.informer->Snapshot()) {
        auto target = HpaTarget(hpa);
        if (!target) continue;
        hpa_index_[RefKey(*target)].push_back(
            "HorizontalPodAutoscaler " + target->namespace_name + "/" +
            Field<std::string>(hpa, {"metadata", "name"}, "?").value_or("?"));
      }
    }
    hpa_index_at_ = changes;
  }
  auto it = hpa_index_.find(RefKey(ref));
  return it == hpa_index_.end() ? std::vector<std::string>{} : it->second;
}

Result<ScaleState> ScaleCache::Get(const WorkloadRef& ref) const {
  const std::string resource = WorkloadResource(ref.kind);
  const std::string what =
      "kubernetes: " + ref.kind + " " + ref.namespace_name + "/" + ref.name + ": ";
  if (resource.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     what + "kind " + ref.kind + " is not Deployment or StatefulSet");
  }
  const Informer* workloads = InformerFor(resource, ref.namespace_name);
  const Informer* hpas = InformerFor(kHpas, ref.namespace_name);
  if (workloads == nullptr || hpas == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, what + "namespace " + ref.namespace_name +
                                                      " is not watched (WATCH_NAMESPACES)");
  }
  if (!workloads->synced() || !hpas->synced()) {
    return MakeError(
        ErrorCode::kUnavailable,
        what + "the cache of " + resource + " and horizontalpodautoscalers is not synced yet");
  }
  auto object = workloads->Get(ref.namespace_name + "/" + ref.name);
  if (!object) {
    return MakeError(ErrorCode::kNotFound, "kubernetes: " + resource + ".apps \"" + ref.name +
                                               "\" not found in namespace " + ref.namespace_name);
  }
  // Every field through Field(): an object of any shape is a kProtocol error, never a throw.
  auto uid = Field<std::string>(*object, {"metadata", "uid"}, "");
  auto paused = Field<std::string>(*object, {"metadata", "annotations", kPausedAnnotation}, "");
  auto version = Field<std::string>(*object, {"metadata", "resourceVersion"}, "");
  auto spec_replicas = Field<int32_t>(*object, {"spec", "replicas"}, 1);
  auto status_replicas = Field<int32_t>(*object, {"status", "replicas"}, 0);
  auto ready_replicas = Field<int32_t>(*object, {"status", "readyReplicas"}, 0);
  const nlohmann::json no_selector;
  const nlohmann::json& spec = object->contains("spec") ? (*object)["spec"] : no_selector;
  auto selector = LabelSelectorString(
      spec.is_object() && spec.contains("selector") ? spec["selector"] : no_selector);
  const Error* bad = nullptr;
  auto check = [&bad](const auto& field) {
    if (!field && bad == nullptr) bad = &field.error();
  };
  check(uid);
  check(paused);
  check(version);
  check(spec_replicas);
  check(status_replicas);
  check(ready_replicas);
  check(selector);
  if (bad != nullptr) return MakeError(bad->WithContext(what + "cached object"));
  ScaleState state;
  state.uid = *uid;
  state.paused = *paused == "true";
  state.resource_version = *version;
  state.spec_replicas = *spec_replicas;
  state.status_replicas = *status_replicas;
  state.ready_replicas = *ready_replicas;
  state.selector = *selector;
  {
    std::lock_guard lock(mu_);
    auto it = overlays_.find(RefKey(ref));
    if (it != overlays_.end() && it->second.based_on == state.resource_version) {
      state.resource_version = it->second.resource_version;
      state.spec_replicas = it->second.spec_replicas;
      state.status_replicas = it->second.status_replicas;
    } else if (it != overlays_.end()) {
      overlays_.erase(it);  // the cache has moved past the write
    }
  }
  state.other_autoscalers = OtherAutoscalers(ref);
  return state;
}

void ScaleCache::Wrote(const WorkloadRef& ref, const std::string& based_on,
                       const nlohmann::json& scale) {
  Overlay overlay;
  overlay.based_on = based_on;
  overlay.resource_version =
      Field<std::string>(scale, {"metadata", "resourceVersion"}, "").value_or("");
  auto spec = Field<int32_t>(scale, {"spec", "replicas"}, -1);
  auto status = Field<int32_t>(scale, {"status", "replicas"}, 0);
  if (overlay.resource_version.empty() || !spec || *spec < 0 || !status) return;
  overlay.spec_replicas = *spec;
  overlay.status_replicas = *status;
  std::lock_guard lock(mu_);
  overlays_[RefKey(ref)] = std::move(overlay);
}

CachedScaleTarget::CachedScaleTarget(ScaleCache& cache, Client& client, WorkloadRef ref)
    : cache_(cache), client_(client), ref_(std::move(ref)) {}

Result<ScaleState> CachedScaleTarget::Get() {
  auto state = cache_.Get(ref_);
  if (!state) return state;
  std::lock_guard lock(mu_);
  resource_version_ = state->resource_version;
  return state;
}

Status CachedScaleTarget::SetReplicas(int32_t replicas) {
  std::lock_guard lock(mu_);
  const std::string read_version = resource_version_;
  auto answer = PatchScale(client_, ref_, resource_version_, replicas);
  if (!answer) return MakeError(answer.error());
  cache_.Wrote(ref_, read_version, *answer);
  return OkStatus();
}

CachedEventRecorder::CachedEventRecorder(const ScaleCache& cache, Client& client, WorkloadRef ref,
                                         const Clock& clock, std::string reporting_instance)
    : cache_(cache),
      client_(client),
      ref_(std::move(ref)),
      clock_(clock),
      reporting_instance_(std::move(reporting_instance)) {}

Status CachedEventRecorder::Record(EventType type, const std::string& reason,
                                   const std::string& message) {
  auto state = cache_.Get(ref_);
  if (!state) return MakeError(state.error().WithContext("event"));
  std::lock_guard lock(mu_);
  return PostEvent(client_, WorkloadObjectRef(ref_, state->uid), type, reason, message,
                   clock_.WallNow(), sequence_++, reporting_instance_);
}

}  // namespace kafka_autoscaler::kube
