#include "kube/informer.h"

#include <algorithm>
#include <utility>

#include "kube/json_field.h"

namespace kafka_autoscaler::kube {
namespace {

std::string ResourceVersionOf(const nlohmann::json& object) {
  return Field<std::string>(object, {"metadata", "resourceVersion"}, "").value_or("");
}

// How a list or watch request ended, besides success.
enum class Outcome { kOk, kGone, kFailed };

}  // namespace

std::string_view ChangeTypeName(ChangeType type) {
  switch (type) {
    case ChangeType::kAdded:
      return "ADDED";
    case ChangeType::kModified:
      return "MODIFIED";
    case ChangeType::kDeleted:
      return "DELETED";
  }
  return "?";
}

nlohmann::json KeepOnly(const nlohmann::json& object,
                        const std::vector<std::vector<std::string>>& paths) {
  if (!object.is_object()) return object;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& path : paths) {
    const nlohmann::json* from = &object;
    nlohmann::json* to = &out;
    for (size_t i = 0; i < path.size(); ++i) {
      auto it = from->find(path[i]);
      if (it == from->end()) break;
      const bool last = i + 1 == path.size();
      if (last || !it->is_object()) {
        (*to)[path[i]] = *it;
        break;
      }
      from = &*it;
      nlohmann::json& next = (*to)[path[i]];
      if (!next.is_object()) next = nlohmann::json::object();
      to = &next;
    }
  }
  return out;
}

std::string ObjectKey(const nlohmann::json& object) {
  const std::string ns = Field<std::string>(object, {"metadata", "namespace"}, "").value_or("");
  const std::string name = Field<std::string>(object, {"metadata", "name"}, "").value_or("");
  return ns.empty() ? name : ns + "/" + name;
}

struct Informer::Impl {
  Impl(std::unique_ptr<Client> lists, std::unique_ptr<Client> watches, InformerOptions o, Logger& l)
      : list_client(std::move(lists)),
        watch_client(std::move(watches)),
        options(std::move(o)),
        log(l) {}

  std::string Query(bool watch) const {
    std::string q;
    auto add = [&q](const std::string& key, const std::string& value) {
      q += (q.empty() ? "?" : "&") + key + "=" + UrlEncode(value);
    };
    if (!options.label_selector.empty()) add("labelSelector", options.label_selector);
    if (!options.field_selector.empty()) add("fieldSelector", options.field_selector);
    if (watch) {
      add("watch", "true");
      add("allowWatchBookmarks", "true");
      add("resourceVersion", resource_version);
      add("timeoutSeconds", std::to_string(options.watch_timeout.count()));
    }
    return q;
  }

  // What the cache holds of `object` (see InformerOptions::cache_metadata_only).
  nlohmann::json Cached(const nlohmann::json& object) const {
    if (!options.cache_metadata_only) return object;
    return KeepOnly(object, {{"metadata", "name"},
                             {"metadata", "namespace"},
                             {"metadata", "uid"},
                             {"metadata", "resourceVersion"}});
  }

  void Deliver(const std::vector<Change>& changes) {
    if (!handler) return;
    for (const Change& change : changes) handler(change);
  }

  // One list request: a page of `limit` items (0 = all) after `token`. Adds the (pruned) items
  // to `fresh`; sets `version` and `token` (empty when no page follows).
  Outcome ListPage(int64_t limit, std::string& token, std::string& version,
                   std::map<std::string, nlohmann::json>& fresh, Error& error) {
    std::string query = Query(false);
    auto add = [&query](const std::string& key, const std::string& value) {
      query += (query.empty() ? "?" : "&") + key + "=" + UrlEncode(value);
    };
    if (limit > 0) add("limit", std::to_string(limit));
    if (!token.empty()) add("continue", token);
    auto list = list_client->Call("GET", options.path + query, {"list", options.what, "", ""});
    if (!list) {
      error = list.error();
      const bool expired = !token.empty() && std::find(error.details.begin(), error.details.end(),
                                                       "http_status: 410") != error.details.end();
      return expired ? Outcome::kGone : Outcome::kFailed;
    }
    nlohmann::json* items = list->contains("items") ? &(*list)["items"] : nullptr;
    if (items != nullptr && !items->is_array() && !items->is_null()) {
      error = Error{ErrorCode::kProtocol,
                    "list of " + options.what + ": items is not an array",
                    {},
                    std::nullopt};
      return Outcome::kFailed;
    }
    if (items != nullptr && items->is_array()) {
      for (auto& item : *items) {
        if (options.prune) options.prune(item);
        std::string key = ObjectKey(item);
        fresh[std::move(key)] = std::move(item);
      }
    }
    version = Field<std::string>(*list, {"metadata", "resourceVersion"}, "").value_or("");
    std::string next = Field<std::string>(*list, {"metadata", "continue"}, "").value_or("");
    if (!next.empty() && next == token) {  // a broken server would page for ever
      error = Error{ErrorCode::kProtocol,
                    "list of " + options.what + ": the server repeated its continue token",
                    {},
                    std::nullopt};
      return Outcome::kFailed;
    }
    token = std::move(next);
    std::lock_guard lock(mu);
    ++stats.pages;
    return Outcome::kOk;
  }

  // Lists the collection and replaces the cache, delivering the difference as changes.
  Outcome List(Error& error) {
    std::map<std::string, nlohmann::json> fresh;
    std::string token, version;
    int64_t limit = std::max<int64_t>(0, options.page_size);
    for (;;) {
      const Outcome page = ListPage(limit, token, version, fresh, error);
      if (page == Outcome::kGone) {
        // The snapshot the pages came from is compacted: start over in one request.
        log.Info("continue token of the list of " + options.what +
                 " expired (410); listing again without a limit");
        fresh.clear();
        token.clear();
        limit = 0;
        std::lock_guard lock(mu);
        ++stats.expired_continues;
        continue;
      }
      if (page != Outcome::kOk) return page;
      if (token.empty()) break;
    }
    std::vector<Change> changes;
    {
      std::lock_guard lock(mu);
      for (const auto& [key, object] : fresh) {
        auto old = cache.find(key);
        if (old == cache.end()) {
          changes.push_back({ChangeType::kAdded, object});
        } else if (ResourceVersionOf(old->second) != ResourceVersionOf(object)) {
          changes.push_back({ChangeType::kModified, object});
        }
      }
      for (const auto& [key, object] : cache) {
        if (!fresh.count(key)) changes.push_back({ChangeType::kDeleted, object});
      }
      if (options.cache_metadata_only) {
        for (auto& [key, object] : fresh) object = Cached(object);
      }
      cache = std::move(fresh);
      synced = true;
      ++stats.lists;
    }
    resource_version = version;
    Deliver(changes);
    return Outcome::kOk;
  }

  // Applies one watch event line. Returns false to end the stream (410, error, bad line).
  bool Apply(std::string_view line, Outcome& outcome, Error& error) {
    auto event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const std::string type = Field<std::string>(event, {"type"}, "").value_or("");
    if (event.is_discarded() || type.empty() || !event.contains("object") ||
        !event["object"].is_object()) {
      outcome = Outcome::kFailed;
      error = Error{ErrorCode::kProtocol,
                    "watch of " + options.what + ": unreadable event",
                    {},
                    std::nullopt};
      return false;
    }
    nlohmann::json& object = event["object"];
    if (type == "ERROR") {
      const int32_t code = Field<int32_t>(object, {"code"}, 0).value_or(0);
      if (code == 410) {
        outcome = Outcome::kGone;
        return false;
      }
      outcome = Outcome::kFailed;
      error = Error{ErrorCode::kUnavailable,
                    "watch of " + options.what + ": " +
                        Field<std::string>(object, {"message"}, "").value_or("error event"),
                    {},
                    std::nullopt};
      return false;
    }
    const std::string rv = ResourceVersionOf(object);
    if (type == "BOOKMARK") {
      if (!rv.empty()) resource_version = rv;
      std::lock_guard lock(mu);
      ++stats.bookmarks;
      return true;
    }
    if (options.prune) options.prune(object);
    Change change;
    {
      std::lock_guard lock(mu);
      const std::string key = ObjectKey(object);
      if (type == "ADDED" || type == "MODIFIED") {
        change.type = cache.count(key) ? ChangeType::kModified : ChangeType::kAdded;
        cache[key] = Cached(object);
      } else if (type == "DELETED") {
        change.type = ChangeType::kDeleted;
        cache.erase(key);
      } else {
        return true;  // an event type of a newer server: skip it
      }
      ++stats.events;
    }
    change.object = std::move(object);
    if (!rv.empty()) resource_version = rv;
    if (handler) handler(change);
    return true;
  }

  // One watch request from resource_version until the server ends it (kOk), a 410 (kGone) or
  // a failure.
  Outcome Watch(const StopToken& stop, Error& error) {
    {
      std::lock_guard lock(mu);
      ++stats.watches;
    }
    Outcome outcome = Outcome::kOk;
    std::string pending;
    auto on_data = [&](std::string_view data) {
      pending.append(data);
      size_t start = 0;
      for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(pending.data() + start, nl - start);
        if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
        if (!Apply(line, outcome, error)) return false;
      }
      pending.erase(0, start);
      return !stop.Stopped();
    };
    auto response = watch_client->Stream(options.path + Query(true), on_data,
                                         [&stop] { return stop.Stopped(); });
    if (!response) {
      error = response.error();
      return Outcome::kFailed;
    }
    if (response->status == 410) return Outcome::kGone;
    if (response->status < 200 || response->status >= 300) {
      error = ErrorFromResponse(*response, {"watch", options.what, "", ""});
      return Outcome::kFailed;
    }
    return outcome;
  }

  void Run(const StopToken& stop) {
    Duration backoff = options.backoff_initial;
    bool failing = false;
    while (!stop.Stopped()) {
      Error error;
      Outcome outcome = resource_version.empty() ? List(error) : Outcome::kOk;
      if (outcome == Outcome::kOk && !stop.Stopped()) outcome = Watch(stop, error);
      if (outcome == Outcome::kOk) {
        if (failing) log.Info("watch of " + options.what + " recovered");
        failing = false;
        backoff = options.backoff_initial;
        continue;
      }
      if (outcome == Outcome::kGone) {
        // The history no longer reaches back: list again (no wait; the server is healthy).
        log.Info("watch of " + options.what + " expired (410 Gone); listing again");
        resource_version.clear();
        std::lock_guard lock(mu);
        ++stats.relists_after_gone;
        continue;
      }
      // A stop that ends the watch before the server answered leaves no status (curl's
      // progress callback ended it): our doing, not the server's failure.
      if (stop.Stopped()) break;
      {
        std::lock_guard lock(mu);
        ++stats.errors;
      }
      if (!failing) {
        log.Warn("list/watch of " + options.what + " failed; retrying with backoff",
                 {{"error", error.message}});
      }
      failing = true;
      if (stop.WaitFor(backoff)) break;
      backoff = std::min(2 * backoff, options.backoff_max);
    }
  }

  std::unique_ptr<Client> list_client;
  std::unique_ptr<Client> watch_client;
  const InformerOptions options;
  Logger& log;
  std::function<void(const Change&)> handler;
  std::string resource_version;  // Run()'s thread only

  mutable std::mutex mu;
  std::map<std::string, nlohmann::json> cache;  // guarded by mu
  bool synced = false;                          // guarded by mu
  Stats stats;                                  // guarded by mu
};

Result<std::unique_ptr<Informer>> Informer::Create(ClientOptions client_options,
                                                   InformerOptions options, const Clock& clock,
                                                   Logger& log) {
  auto lists = Client::Create(client_options, clock);
  if (!lists) return MakeError(lists.error());
  // A watch lasts up to timeoutSeconds; give the transfer that long plus the request timeout.
  client_options.timeout +=
      std::chrono::duration_cast<std::chrono::milliseconds>(options.watch_timeout);
  auto watches = Client::Create(std::move(client_options), clock);
  if (!watches) return MakeError(watches.error());
  return std::unique_ptr<Informer>(new Informer(
      std::make_unique<Impl>(std::move(*lists), std::move(*watches), std::move(options), log)));
}

Informer::Informer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Informer::~Informer() = default;

void Informer::OnChange(std::function<void(const Change&)> handler) {
  impl_->handler = std::move(handler);
}

void Informer::Run(const StopToken& stop) { impl_->Run(stop); }

bool Informer::synced() const {
  std::lock_guard lock(impl_->mu);
  return impl_->synced;
}

std::optional<nlohmann::json> Informer::Get(const std::string& key) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->cache.find(key);
  if (it == impl_->cache.end()) return std::nullopt;
  return it->second;
}

std::vector<nlohmann::json> Informer::Snapshot() const {
  std::lock_guard lock(impl_->mu);
  std::vector<nlohmann::json> out;
  out.reserve(impl_->cache.size());
  for (const auto& [key, object] : impl_->cache) out.push_back(object);
  return out;
}

Informer::Stats Informer::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace kafka_autoscaler::kube
