#include "controller/history.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "controller/status_board.h"

namespace kafka_autoscaler::controller {

namespace {

int64_t UnixMillis(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json Condition(std::string_view type, bool status, std::string_view reason,
                         const std::string& message) {
  return {{"type", type},
          {"status", status ? "True" : "False"},
          {"reason", reason},
          {"message", message}};
}

// The conditions of issue 15's KafkaScaler status, from the latest tick.
nlohmann::json Conditions(const std::optional<LastTick>& last) {
  nlohmann::json c = nlohmann::json::array();
  if (!last) {
    c.push_back(Condition("Ready", false, "NoTick", "no tick finished yet"));
    return c;
  }
  const LastTick& r = *last;
  std::string kafka_error, kube_error;
  for (const auto& [kind, message] : r.errors) {
    if (kind.rfind("kafka_", 0) == 0) kafka_error = message;
    if (kind.rfind("kube_", 0) == 0) kube_error = message;
  }
  if (!r.kafka_ok) {
    c.push_back(Condition("Ready", false, "KafkaFailed", kafka_error));
  } else if (!r.kube_ok) {
    c.push_back(Condition("Ready", false, r.read_deployment ? "ScaleRefused" : "KubernetesFailed",
                          kube_error));
  } else {
    c.push_back(Condition("Ready", true, "Observed", "Kafka and the Deployment were read"));
  }
  const bool active = r.backlog && *r.backlog > 0;
  c.push_back(Condition("Active", active, active ? "Backlog" : "NoBacklog",
                        r.backlog ? std::to_string(*r.backlog) + " messages" : "backlog unknown"));
  c.push_back(Condition("Fallback", r.fallback, r.fallback ? "ObservationsFailing" : "Observing",
                        std::to_string(r.consecutive_failures) + " failed observations in a row"));
  c.push_back(Condition("Paused", r.paused, r.paused ? "Annotation" : "NotPaused",
                        r.paused ? "annotation kafka-autoscaler/paused is set" : ""));
  std::string stuck;
  for (const std::string& s : r.stuck) stuck += (stuck.empty() ? "" : "; ") + s;
  if (r.stuck_count > static_cast<int32_t>(r.stuck.size())) stuck += "; ...";
  c.push_back(Condition("StuckPartitions", r.stuck_count > 0,
                        r.stuck_count > 0 ? "CommitNotMoving" : "NoneStuck", stuck));
  return c;
}

nlohmann::json Summary(const TargetHistory& h, size_t sparkline_points) {
  const TargetInfo& i = h.info();
  const auto& last = h.last();
  const LastTick none;
  const LastTick& l = last ? *last : none;
  nlohmann::json j;
  j["namespace"] = i.namespace_name;
  j["name"] = i.name;
  j["kind"] = i.kind;
  j["topics"] = i.topics;
  j["group"] = i.group.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.group);
  j["min_replicas"] = i.min_replicas;
  j["max_replicas"] = i.max_replicas;
  j["ready"] = last && l.kafka_ok && l.kube_ok;
  j["time"] = last ? nlohmann::json(UnixMillis(l.time)) : nlohmann::json(nullptr);
  j["backlog"] = OrNull(l.backlog);
  j["partitions"] = OrNull(l.partitions);
  j["lag_seconds"] = OrNull(l.lag_seconds);
  j["lag_seconds_lower_bound"] = l.lag_lower_bound;
  j["replicas"] = OrNull(l.replicas);
  j["desired"] = OrNull(l.desired);
  j["produced_per_minute"] = OrNull(l.produced_per_minute);
  j["consumed_per_minute"] = OrNull(l.consumed_per_minute);
  j["reason"] = l.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(l.reason);
  j["action"] = last ? nlohmann::json(l.action) : nlohmann::json(nullptr);
  j["consecutive_failures"] = l.consecutive_failures;
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& [kind, message] : l.errors)
    errors.push_back({{"kind", kind}, {"message", message}});
  j["errors"] = errors;
  j["conditions"] = Conditions(last);
  j["stuck_partitions"] = l.stuck_count;
  // The backlog of the ring in at most `sparkline_points` buckets (the latest point of each).
  nlohmann::json spark = nlohmann::json::array();
  const auto& pts = h.points();
  const size_t n = pts.size();
  const size_t buckets = std::min(n, sparkline_points);
  for (size_t b = 0; b < buckets; ++b)
    spark.push_back(OrNull(pts[(b + 1) * n / buckets - 1].backlog));
  j["sparkline"] = spark;
  return j;
}

LastTick Reduce(const TickReport& r) {
  LastTick l{.time = r.wall_time,
             .kafka_ok = r.kafka_ok,
             .kube_ok = KubeOk(r),
             .read_deployment = r.kube_ok,
             .produced_per_minute = r.throughput.produced_per_minute,
             .consumed_per_minute = r.throughput.consumed_per_minute,
             .reason = r.decision ? std::string(policy::ReasonName(r.decision->reason)) : "",
             .action = std::string(ActionName(r.action)),
             .consecutive_failures = r.consecutive_failures,
             .paused = r.scale && r.scale->paused,
             .fallback = r.action == Action::kFallback};
  if (r.observation) {
    l.backlog = r.observation->backlog;
    l.partitions = r.observation->partition_count;
    if (r.time_lag) {
      l.lag_seconds = r.time_lag->max_seconds;
      l.lag_lower_bound = r.time_lag->max_lower_bound;
    }
  }
  if (r.replicas_after >= 0) l.replicas = r.replicas_after;
  if (r.decision) l.desired = r.decision->desired;
  for (const auto& e : r.errors) l.errors.emplace_back(e.kind, e.error.message);
  l.stuck_count = static_cast<int32_t>(r.stuck.size());
  for (const StuckPartition& s : r.stuck) {
    if (l.stuck.size() >= kMaxStuckShown) break;
    l.stuck.push_back(s.topic + "/" + std::to_string(s.partition) + " at committed offset " +
                      std::to_string(s.committed) + ", lag " + std::to_string(s.lag));
  }
  return l;
}

}  // namespace

TargetHistory::TargetHistory(TargetInfo info, size_t capacity, size_t max_decisions)
    : info_(std::move(info)), capacity_(capacity), max_decisions_(max_decisions) {}

void TargetHistory::Add(const TickReport& r) {
  LastTick l = Reduce(r);
  points_.push_back({.time = l.time,
                     .backlog = l.backlog,
                     .replicas = l.replicas,
                     .desired = l.desired,
                     .produced_per_minute = l.produced_per_minute,
                     .consumed_per_minute = l.consumed_per_minute});
  while (points_.size() > capacity_) points_.pop_front();

  DecisionRecord d{.time = l.time,
                   .from = r.scale ? r.scale->spec_replicas : -1,
                   .desired = l.desired.value_or(-1),
                   .backlog = l.backlog.value_or(-1),
                   .reason = l.reason,
                   .action = l.action};
  for (const auto& [kind, message] : l.errors) d.errors.push_back(kind + ": " + message);
  // A decision log, not a tick log: a tick that repeats the previous decision (same action,
  // reason and replicas) updates it instead of pushing the others out.
  if (!decisions_.empty()) {
    DecisionRecord& prev = decisions_.back();
    if (prev.action == d.action && prev.reason == d.reason && prev.from == d.from &&
        prev.desired == d.desired) {
      prev.time = d.time;
      prev.backlog = d.backlog;
      prev.errors = std::move(d.errors);
      ++prev.repeated;
      last_ = std::move(l);
      return;
    }
  }
  decisions_.push_back(std::move(d));
  while (decisions_.size() > max_decisions_) decisions_.pop_front();
  last_ = std::move(l);
}

History::History(HistoryOptions options)
    : options_(options),
      capacity_(
          std::clamp<size_t>(static_cast<size_t>((options.window + options.interval - Duration(1)) /
                                                 std::max(options.interval, Duration(1))),
                             2, std::max<size_t>(options.max_points, 2))) {}

void History::AddTarget(const TargetInfo& info) {
  std::lock_guard lock(mu_);
  targets_.try_emplace(Key{info.namespace_name, info.name}, info, capacity_,
                       options_.max_decisions);
}

void History::RemoveTarget(const std::string& namespace_name, const std::string& name) {
  std::lock_guard lock(mu_);
  targets_.erase(Key{namespace_name, name});
}

void History::Record(const TargetInfo& info, const TickReport& report) {
  std::lock_guard lock(mu_);
  auto [it, added] = targets_.try_emplace(Key{info.namespace_name, info.name}, info, capacity_,
                                          options_.max_decisions);
  it->second.Add(report);
}

nlohmann::json History::TargetsJson() const {
  std::lock_guard lock(mu_);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [key, h] : targets_) list.push_back(Summary(h, options_.sparkline_points));
  return {{"targets", std::move(list)}};
}

nlohmann::json History::TargetHistoryJson(const std::string& namespace_name,
                                          const std::string& name) const {
  std::lock_guard lock(mu_);
  const auto it = targets_.find(Key{namespace_name, name});
  if (it == targets_.end()) return nullptr;
  const TargetHistory& h = it->second;
  nlohmann::json j = Summary(h, options_.sparkline_points);
  j["interval_seconds"] = std::chrono::duration<double>(options_.interval).count();
  j["capacity"] = h.capacity();
  nlohmann::json t = nlohmann::json::array(), backlog = nlohmann::json::array(),
                 replicas = nlohmann::json::array(), desired = nlohmann::json::array(),
                 produced = nlohmann::json::array(), consumed = nlohmann::json::array();
  for (const auto& p : h.points()) {
    t.push_back(UnixMillis(p.time));
    backlog.push_back(OrNull(p.backlog));
    replicas.push_back(OrNull(p.replicas));
    desired.push_back(OrNull(p.desired));
    produced.push_back(OrNull(p.produced_per_minute));
    consumed.push_back(OrNull(p.consumed_per_minute));
  }
  j["points"] = {{"t", t},
                 {"backlog", backlog},
                 {"replicas", replicas},
                 {"desired", desired},
                 {"produced_per_minute", produced},
                 {"consumed_per_minute", consumed}};
  nlohmann::json decisions = nlohmann::json::array();
  for (const auto& d : h.decisions()) {
    decisions.push_back(
        {{"time", UnixMillis(d.time)},
         {"from", d.from < 0 ? nlohmann::json(nullptr) : nlohmann::json(d.from)},
         {"desired", d.desired < 0 ? nlohmann::json(nullptr) : nlohmann::json(d.desired)},
         {"backlog", d.backlog < 0 ? nlohmann::json(nullptr) : nlohmann::json(d.backlog)},
         {"reason", d.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(d.reason)},
         {"action", d.action},
         {"repeated", d.repeated},
         {"errors", d.errors}});
  }
  j["decisions"] = decisions;
  return j;
}

}  // namespace kafka_autoscaler::controller
