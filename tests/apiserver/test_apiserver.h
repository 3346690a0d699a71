// TestApiServer: an in-process Kubernetes API server for tests, faithful enough that the real
// kubectl and our API client accept it (see SPEC §8). Built on cpp-httplib.
//
// It serves: discovery (/version, /api, /apis, /api/v1, /apis/apps/v1,
// /apis/coordination.k8s.io/v1; plain APIVersions/APIGroupList JSON even when the client asks
// for aggregated discovery first, which kubectl accepts, or with `aggregated_discovery` the
// apidiscovery.k8s.io/v2 document it asks for), Deployments and StatefulSets (apps/v1: get,
// list and watch in a namespace or across namespaces, update, merge patch) and their /scale
// subresource (get, update, merge patch) with resourceVersion and real 409 Status bodies,
// KafkaScalers (kafka-autoscaler.io/v1alpha1: create, get, list
// across namespaces, watch with bookmarks and 410 Gone, update, merge patch, delete, the status
// subresource, generation, defaults
// and schema from the CRD, a Table with its printer columns for kubectl), Events (create, get, list
// with fieldSelector), Leases (get, list, watch, create, update, delete), ConfigMaps (core v1:
// create, get, list and watch in a namespace or across namespaces, update, merge patch, delete;
// data/binaryData validated as the real server does: config keys, string values, at most
// 1048576 bytes in all, `immutable`), an empty ReplicaSet/Pod list,
// autoscaling/v2 HorizontalPodAutoscalers (list, watch), bearer-token authentication (401), a
// per-token RBAC-like allow list (403 worded like the real one), optional TLS with a CA generated
// at start-up, and /openapi/v3(/<group-version>) from a schema directory.
//
// Watch (?watch=true) works the same way on every watchable collection (Deployments,
// StatefulSets, HorizontalPodAutoscalers, KafkaScalers, Leases, ConfigMaps): resourceVersion
// ""/"0" starts with an ADDED event per object, a number resumes after it (an ERROR event with a
// 410 Status when the history no longer reaches back), allowWatchBookmarks=true adds a BOOKMARK
// each idle second, timeoutSeconds ends the stream. Every change of an object (any write, a
// /scale write, a /_test patch or ready change, a recreation = DELETED + ADDED) is an event with
// a new resourceVersion. List and watch of these collections take a labelSelector (k=v, k==v, k!=v,
// k, !k, k in (a,b), k notin (a,b)) and a fieldSelector (metadata.name, metadata.namespace with
// =, ==, !=); under a selector a watch shows an object that starts matching as ADDED and one that
// stops matching as DELETED, as the real server does.
//
// Tests drive it through this class or over HTTP under /_test/ (no authentication), so an
// end-to-end test of the daemon binary can do the same:
//   GET    /_test/requests                  request log [{method,path,query,status,user}]
//   DELETE /_test/requests                  clears the log
//   POST   /_test/faults                    {"kind":"conflict|server_error|too_many_requests|
//                                            delay|drop|body","method":"PATCH","path_contains":
//                                            "/scale","times":2,"retry_after_seconds":3,
//                                            "delay_ms":500,"status":200,"body":"{..."}
//   DELETE /_test/faults                    clears pending faults
//   POST   /_test/deployments               {"namespace","name","replicas","annotations"}:
//                                            creates or recreates (new uid)
//   GET    /_test/deployments/NS/NAME       the Deployment object
//   PATCH  /_test/deployments/NS/NAME       merge patch, as another writer would
//   DELETE /_test/deployments/NS/NAME       deletes it
//   POST   /_test/deployments/NS/NAME/ready {"ready":N} at most N pods ready ({"ready":null}:
//                                            all, the default instant controller)
//   .../_test/statefulsets...               the same five for StatefulSets
//   POST   /_test/horizontalpodautoscalers  {"namespace","name","target","target_kind"}
//                                            (target_kind default "Deployment")
//   DELETE /_test/horizontalpodautoscalers/NS/NAME
//   POST   /_test/tokens                    {"token","user","rules":[{verbs,resources,
//                                            resourceNames}]} (no "rules": allow everything)
//   POST   /_test/tokens/rotate             {"old","new"}: the old token now gets 401
//   GET    /_test/events/NS                 the Events of a namespace
//
// Thread-safety: every public method may be called from any thread while the server runs;
// state is guarded by one mutex. The destructor stops the server and joins its threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace kafka_autoscaler::testing {

// One allow rule, as an RBAC PolicyRule: "*" matches anything; resources name subresources as
// "deployments/scale"; empty resource_names allows every name.
struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
};

struct TokenGrant {
  std::string token;
  std::string user = "system:serviceaccount:default:kafka-autoscaler";
  bool allow_all = true;  // false: only `rules`
  std::vector<PolicyRule> rules;
};

// "TOKEN" (allow all) or "TOKEN:RULE;RULE" with RULE = "verb,verb=resource,resource[@name,name]",
// e.g. "t0k3n:get=deployments,deployments/scale;patch=deployments/scale;create=events".
[[nodiscard]] Result<TokenGrant> ParseTokenFlag(const std::string& flag);
// {"tokens":[{"token","user","rules":[{"verbs","resources","resourceNames"}]}]} in JSON or
// YAML. A token without "rules" is allowed everything.
[[nodiscard]] Result<std::vector<TokenGrant>> ParsePolicy(const std::string& text);
[[nodiscard]] Result<TokenGrant> TokenGrantFromJson(const nlohmann::json& j);

// kBody answers `status` with `body` verbatim (application/json): hostile or malformed answers
// (truncated JSON, wrong types, enormous bodies) for bad-input tests.
enum class FaultKind { kConflict, kServerError, kTooManyRequests, kDelay, kDrop, kBody };

// A fault answers the next `times` matching requests (method "" = any; path_contains "" =
// any) instead of, or (kDelay) before, the normal handler. Admin paths are never affected.
struct Fault {
  FaultKind kind = FaultKind::kServerError;
  std::string method;
  std::string path_contains;
  int times = 1;
  int retry_after_seconds = 1;         // kTooManyRequests
  std::chrono::milliseconds delay{0};  // kDelay
  int status = 200;                    // kBody
  std::string body;                    // kBody
};
[[nodiscard]] Result<Fault> FaultFromJson(const nlohmann::json& j);

struct LoggedRequest {
  std::string method;
  std::string path;
  std::string query;  // decoded "k=v&k=v"
  int status = 0;     // 0: connection dropped
  std::string user;   // authenticated user, "" when anonymous/refused
  std::string content_type;
  std::string accept;
  // The user was partitioned (Partition) when this request arrived: it was held, never applied,
  // and its connection dropped at Heal (status 0). Logged at arrival.
  bool held = false;
  // ApiServerOptions::fencing_lease named a Lease for this write: its spec.holderIdentity when
  // the write was applied (under the same lock), "" when free or absent. Proves fencing.
  std::optional<std::string> lease_holder;
  // When it was logged: after the handler ran, or on arrival when `held` or refused (401/403);
  // for hand-over times.
  std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now();
};

struct ApiServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  bool tls = false;
  std::string cert_dir;            // TLS files go here; empty: a temporary directory
  std::vector<TokenGrant> tokens;  // empty: no authentication
  std::string openapi_dir;         // empty: /openapi/v3 answers 404
  // Answer /api and /apis with apidiscovery.k8s.io/v2 APIGroupDiscoveryList when the client's
  // Accept asks for it (kubectl 1.32 does). Off: plain APIVersions/APIGroupList, which kubectl
  // also accepts and which makes it fetch /api/v1, /apis/apps/v1... one by one.
  bool aggregated_discovery = false;
  // The KafkaScaler CRD (YAML) whose resources are served under kafka-autoscaler.io/v1alpha1,
  // validated with its schema, defaulted, and printed as a Table with its columns. Empty: the
  // repository's deploy/many/kafkascaler-crd.yaml.
  std::string kafkascaler_crd_file;
  // For fencing proofs: the Lease ("namespace/name") that must be held to write `path`
  // (a PATCH/PUT/POST), "" for none. Each such applied write logs that Lease's holder.
  std::function<std::string(const std::string& path)> fencing_lease;
};

struct TlsFiles {
  std::string ca_cert;
  std::string ca_key;
  std::string server_cert;
  std::string server_key;
};
// Generates a CA and a server certificate for 127.0.0.1/localhost in `dir` (openssl CLI,
// P-256 keys, valid two days). Errors: kInternal with the openssl output.
[[nodiscard]] Result<TlsFiles> GenerateTlsFiles(const std::string& dir);

// The workload kinds with a /scale subresource that the server serves (apps/v1).
enum class WorkloadKind { kDeployment, kStatefulSet };

class TestApiServer {
 public:
  // Binds, then serves on a background thread. Errors: bind failure, TLS generation failure,
  // unreadable openapi_dir.
  [[nodiscard]] static Result<std::unique_ptr<TestApiServer>> Start(ApiServerOptions options);
  ~TestApiServer();
  TestApiServer(const TestApiServer&) = delete;
  TestApiServer& operator=(const TestApiServer&) = delete;

  const std::string& url() const { return url_; }  // "https://127.0.0.1:PORT"
  int port() const { return port_; }
  const std::string& ca_file() const { return tls_.ca_cert; }  // "" without TLS
  const std::string& cert_dir() const { return cert_dir_; }

  // Writes a kubeconfig (server, CA file, token, namespace) for kubectl and our client.
  [[nodiscard]] Status WriteKubeconfig(const std::string& path, const std::string& token,
                                       const std::string& namespace_name) const;

  // --- objects ---
  // Creates (or recreates with a new uid: a DELETED then an ADDED watch event) a Deployment or
  // StatefulSet with labels/selector app=NAME; returns it.
  nlohmann::json AddWorkload(WorkloadKind kind, const std::string& ns, const std::string& name,
                             int32_t replicas,
                             const std::map<std::string, std::string>& annotations = {});
  bool DeleteWorkload(WorkloadKind kind, const std::string& ns, const std::string& name);
  std::optional<nlohmann::json> Workload(WorkloadKind kind, const std::string& ns,
                                         const std::string& name) const;
  // Pods become ready at once by default (status.readyReplicas = spec.replicas). With a limit,
  // at most `ready` of them are ready, as while new pods start or fail their readiness probes:
  // status.readyReplicas/availableReplicas drop to the limit (absent at 0, as the real API
  // server omits them) and (Deployment) unavailableReplicas counts the rest. std::nullopt lifts
  // the limit.
  bool SetWorkloadReadyLimit(WorkloadKind kind, const std::string& ns, const std::string& name,
                             std::optional<int32_t> ready);
  // Applies a JSON merge patch as another writer would (bumps resourceVersion).
  bool PatchWorkload(WorkloadKind kind, const std::string& ns, const std::string& name,
                     const nlohmann::json& merge_patch);
  // The Deployment forms of the five above.
  nlohmann::json AddDeployment(const std::string& ns, const std::string& name, int32_t replicas,
                               const std::map<std::string, std::string>& annotations = {}) {
    return AddWorkload(WorkloadKind::kDeployment, ns, name, replicas, annotations);
  }
  bool DeleteDeployment(const std::string& ns, const std::string& name) {
    return DeleteWorkload(WorkloadKind::kDeployment, ns, name);
  }
  std::optional<nlohmann::json> Deployment(const std::string& ns, const std::string& name) const {
    return Workload(WorkloadKind::kDeployment, ns, name);
  }
  bool SetReadyLimit(const std::string& ns, const std::string& name, std::optional<int32_t> ready) {
    return SetWorkloadReadyLimit(WorkloadKind::kDeployment, ns, name, ready);
  }
  bool PatchDeployment(const std::string& ns, const std::string& name,
                       const nlohmann::json& merge_patch) {
    return PatchWorkload(WorkloadKind::kDeployment, ns, name, merge_patch);
  }
  std::vector<nlohmann::json> Events(const std::string& ns) const;
  std::optional<nlohmann::json> Lease(const std::string& ns, const std::string& name) const;
  // The ConfigMap ns/name as stored (apiVersion, kind, metadata, data, binaryData...).
  std::optional<nlohmann::json> ConfigMap(const std::string& ns, const std::string& name) const;
  // Creates or replaces the ConfigMap metadata.namespace ("default" when absent)/metadata.name
  // as another writer would, without validation: apiVersion, kind, uid and creationTimestamp
  // are filled in (a replacement keeps the stored uid and creationTimestamp), resourceVersion
  // is assigned (an ADDED or MODIFIED watch event). Returns it as stored.
  nlohmann::json PutConfigMap(nlohmann::json object);
  // Creates (or replaces) an autoscaling/v2 HorizontalPodAutoscaler whose scaleTargetRef is
  // `target_kind` (apps/v1) `target` in `ns`; returns it. Listed and watched at
  // /apis/autoscaling/v2/(namespaces/NS/)horizontalpodautoscalers.
  nlohmann::json AddHorizontalPodAutoscaler(const std::string& ns, const std::string& name,
                                            const std::string& target,
                                            const std::string& target_kind = "Deployment");
  bool DeleteHorizontalPodAutoscaler(const std::string& ns, const std::string& name);

  // --- authentication ---
  void SetToken(TokenGrant grant);
  // The grant of `old_token` moves to `new_token`; `old_token` is refused from now on.
  void RotateToken(const std::string& old_token, const std::string& new_token);

  // --- faults and the request log ---
  // Forgets the change history of a watchable collection ("deployments", "statefulsets",
  // "horizontalpodautoscalers", "kafkascalers", "leases", "configmaps"), so a watch from an older
  // resourceVersion gets 410 Gone (as after etcd's compaction).
  void CompactHistory(const std::string& resource);
  void CompactKafkaScalerHistory() { CompactHistory("kafkascalers"); }
  // The next chunked list of `resource` that carries a continue token is answered 410 Expired,
  // as when etcd compacted the revision of its first chunk between two requests.
  void ExpireNextContinue(const std::string& resource);

  void InjectFault(Fault fault);
  void ClearFaults();
  // A network partition between `user` and the server: from now on its requests (and the
  // events of its open watches) are held, never answered nor applied. Heal ends it: every held
  // request and open watch of that user is dropped (the connection closes without an answer),
  // as connections reset when a real partition heals; the client's own timeout usually ended
  // them before. Nothing a partitioned client sent is ever applied.
  void Partition(const std::string& user);
  void Heal(const std::string& user);
  std::vector<LoggedRequest> Requests() const;
  void ClearRequests();
  // Requests whose method equals `method` ("" any) and whose path contains `path_contains`.
  int CountRequests(const std::string& method, const std::string& path_contains) const;

 private:
  explicit TestApiServer(ApiServerOptions options);
  struct Route;  // parsed resource path
  void Handle(const httplib::Request& req, httplib::Response& res);
  void HandleAdmin(const httplib::Request& req, httplib::Response& res);
  void HandleLocked(const httplib::Request& req, httplib::Response& res, const Route& route,
                    const std::string& user);
  // One watchable collection: its objects and its recent changes (for watches).
  struct WatchEvent {
    uint64_t resource_version;
    std::string type;  // ADDED, MODIFIED, DELETED
    nlohmann::json object;
    nlohmann::json old_object;  // MODIFIED: the object before (for selector transitions)
  };
  struct Collection {
    std::string resource;                           // "deployments"
    std::string api_version;                        // "apps/v1"
    std::string kind;                               // "Deployment"
    std::map<std::string, nlohmann::json> objects;  // "ns/name"
    std::vector<WatchEvent> events;                 // the last changes, oldest first
    uint64_t history_from = 0;                      // older resourceVersions are gone (410)
  };
  Collection& WorkloadsLocked(WorkloadKind kind);
  const Collection& WorkloadsLocked(WorkloadKind kind) const;
  // Stores (or, `deleted`, removes) `object` with a new resourceVersion, records the change
  // for watches and wakes them; returns the object as stored.
  // ADDED when new, MODIFIED when it exists.
  nlohmann::json ChangeLocked(Collection& collection, nlohmann::json object, bool deleted = false);
  // List (with selectors) of a collection, or its watch; `tables`: kubectl may ask for Tables.
  void ListOrWatch(const httplib::Request& req, httplib::Response& res, const Route& route,
                   const Collection& collection, bool tables);
  void Watch(const httplib::Request& req, httplib::Response& res, const Route& route,
             const Collection& collection, bool tables);
  void HandleWorkloads(const httplib::Request& req, httplib::Response& res, const Route& route,
                       WorkloadKind kind);
  void HandleEvents(const httplib::Request& req, httplib::Response& res, const Route& route);
  void HandleLeases(const httplib::Request& req, httplib::Response& res, const Route& route);
  void HandleConfigMaps(const httplib::Request& req, httplib::Response& res, const Route& route);
  void HandleKafkaScalers(const httplib::Request& req, httplib::Response& res, const Route& route);
  nlohmann::json KafkaScalerTableLocked(const nlohmann::json& items) const;
  bool Discovery(const httplib::Request& req, httplib::Response& res);
  // A new status (the instant controller) and a MODIFIED event for a changed workload.
  nlohmann::json TouchWorkloadLocked(WorkloadKind kind, nlohmann::json workload, bool spec_changed);
  std::string NextResourceVersionLocked();
  std::string NewUidLocked();
  void Log(const httplib::Request& req, int status, const std::string& user);
  // The grant of `req`'s bearer token (nullptr when none or unknown), under mu_.
  const TokenGrant* GrantLocked(const httplib::Request& req) const;
  // The authenticated user of `req` ("" when none), under mu_.
  std::string UserLocked(const httplib::Request& req) const;

  const ApiServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string url_;
  int port_ = 0;
  std::string cert_dir_;
  bool owns_cert_dir_ = false;
  TlsFiles tls_;
  std::map<std::string, std::string> openapi_docs_;  // "apis/apps/v1" -> document

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;                     // guarded by mu_
  std::map<std::string, TokenGrant> tokens_;  // guarded by mu_
  bool auth_enabled_ = false;                 // guarded by mu_
  // The watchable collections; guarded by mu_.
  Collection deployments_{"deployments", "apps/v1", "Deployment"};
  Collection statefulsets_{"statefulsets", "apps/v1", "StatefulSet"};
  Collection hpas_{"horizontalpodautoscalers", "autoscaling/v2", "HorizontalPodAutoscaler"};
  Collection kafkascalers_{"kafkascalers", "kafka-autoscaler.io/v1alpha1", "KafkaScaler"};
  std::condition_variable changed_;  // a change in any collection, or stopping
  // "deployments/ns/name", "statefulsets/ns/name"; guarded by mu_
  std::map<std::string, int32_t> ready_limits_;
  Collection leases_{"leases", "coordination.k8s.io/v1", "Lease"};  // guarded by mu_
  Collection configmaps_{"configmaps", "v1", "ConfigMap"};          // guarded by mu_
  nlohmann::json kafkascaler_version_;  // the CRD's served version (schema, printer columns)
  std::map<std::string, std::vector<nlohmann::json>> events_;  // by namespace; guarded by mu_
  std::vector<Fault> faults_;                                  // guarded by mu_
  std::set<std::string> partitioned_;                          // users; guarded by mu_
  std::set<std::string> expire_next_continue_;                 // resources; guarded by mu_
  std::vector<LoggedRequest> log_;                             // guarded by mu_
  uint64_t resource_version_ = 1000;                           // guarded by mu_
  std::mt19937_64 rng_{20261128};                              // guarded by mu_; uids
};

}  // namespace kafka_autoscaler::testing
