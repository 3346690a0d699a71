// Informer: list+watch of one Kubernetes collection, kept as a local cache (client-go's
// reflector + store, reduced to what kafka-autoscaler needs).
//
// Run() lists the collection (in pages of InformerOptions::page_size; a continue token the
// server has expired, 410, falls back to one list without a limit, as client-go's pager does),
// then watches it from the list's resourceVersion with
// allowWatchBookmarks=true and timeoutSeconds; when the server ends a watch it resumes from the
// last resourceVersion seen (an event's or a bookmark's). A 410 Gone (an ERROR event carrying a
// Status with code 410, or a 410 answer) starts over with a fresh list, and the difference
// between the old cache and the new list is delivered as changes (kAdded/kModified/kDeleted),
// so a consumer never misses a deletion that happened while it was not watching. Other failures
// (transport, 5xx, 403) back off exponentially from `backoff_initial` to `backoff_max` and
// retry; they are logged once per episode.
//
// The watch holds its HTTP connection open, so the informer owns its own kube::Client (one
// libcurl handle) and never delays the requests of others.
//
// Thread-safety: Run() on one thread; Get/Snapshot/synced/stats from any thread. The change
// handler is called on Run()'s thread after the cache was updated, without the lock held.
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

namespace kafka_autoscaler::kube {

struct InformerOptions {
  // The collection, e.g. "/apis/kafka-autoscaler.io/v1alpha1/kafkascalers" (all namespaces) or
  // "/apis/apps/v1/namespaces/NS/deployments".
  std::string path;
  std::string label_selector;               // optional labelSelector
  std::string field_selector;               // optional fieldSelector
  std::string what = "objects";             // for logs and errors: "kafkascalers", "deployments"
  std::chrono::seconds watch_timeout{300};  // timeoutSeconds of each watch request
  // Items per list request (limit; the rest follows metadata.continue, as client-go's pager
  // does), so neither side holds a list of thousands of objects in one answer. 0 = one request.
  int64_t page_size = 500;
  Duration backoff_initial = std::chrono::seconds(1);
  Duration backoff_max = std::chrono::seconds(30);
  // Trims each listed or watched object before it is cached and delivered (client-go's
  // transform), so a cache of thousands of objects holds only what its reader uses. It must keep
  // metadata.name, metadata.namespace and metadata.resourceVersion. Empty: the whole object.
  std::function<void(nlohmann::json&)> prune;
  // The cache keeps only each object's metadata name, namespace, uid and resourceVersion (what
  // telling changes apart needs); changes still carry the (pruned) object, and a deletion found
  // by a re-list carries that metadata. For a consumer that keeps its own copy of each object
  // (many::Controller), so the objects are not held twice. Get() and Snapshot() answer the
  // metadata only.
  bool cache_metadata_only = false;
};

enum class ChangeType { kAdded, kModified, kDeleted };
std::string_view ChangeTypeName(ChangeType type);

struct Change {
  ChangeType type = ChangeType::kAdded;
  nlohmann::json object;  // after the change; for kDeleted the last state known
};

// A copy of `object` with only the values at `paths` (each a list of keys); the rest of the
// object is dropped. Where a path meets a value that is not an object before its end, that value
// is kept whole, so a reader (kube::Field) finds the same value, or the same wrong type, as in
// the original. A non-object `object` is returned unchanged.
nlohmann::json KeepOnly(const nlohmann::json& object,
                        const std::vector<std::vector<std::string>>& paths);

// "namespace/name" of an object (just "name" when it has no namespace).
std::string ObjectKey(const nlohmann::json& object);

class Informer {
 public:
  struct Stats {
    int64_t lists = 0;    // successful lists
    int64_t pages = 0;    // list requests answered (more than lists when paged)
    int64_t expired_continues = 0;  // paged lists started over in one request (410 Expired)
    int64_t watches = 0;  // watch requests started
    int64_t events = 0;   // ADDED/MODIFIED/DELETED events applied
    int64_t bookmarks = 0;
    int64_t relists_after_gone = 0;
    int64_t errors = 0;  // failed requests (each followed by a backoff)
  };

  // `client_options` configure the informer's own client; its `timeout` is raised to cover a
  // whole watch. Errors: those of Client::Create.
  [[nodiscard]] static Result<std::unique_ptr<Informer>> Create(ClientOptions client_options,
                                                                InformerOptions options,
                                                                const Clock& clock, Logger& log);
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Sets the handler for changes; call before Run().
  void OnChange(std::function<void(const Change&)> handler);

  // Lists and watches until `stop` is signalled (see the file comment). A watch in flight is
  // ended within about a second of the stop.
  void Run(const StopToken& stop);

  bool synced() const;                                              // true once a list succeeded
  std::optional<nlohmann::json> Get(const std::string& key) const;  // by ObjectKey
  std::vector<nlohmann::json> Snapshot() const;                     // sorted by key
  Stats stats() const;

 private:
  struct Impl;
  explicit Informer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kafka_autoscaler::kube
