#include "controller/status_board.h"

#include <nlohmann/json.hpp>

#include "controller/history.h"

namespace kafka_autoscaler::controller {

namespace {
std::string Rfc3339(WallTime t) {
  const auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

StatusBoard::StatusBoard(const Clock& clock, Duration interval, bool leader_election)
    : clock_(clock), interval_(interval) {
  s_.started = clock.Now();
  s_.leader_election = leader_election;
  s_.leader = !leader_election;
}

void StatusBoard::TickStarted() {
  std::lock_guard lock(mu_);
  s_.last_tick_start = clock_.Now();
}

void StatusBoard::Record(const TickReport& report) {
  std::lock_guard lock(mu_);
  ++s_.ticks;
  if (report.kafka_ok) {
    s_.last_kafka_ok = report.wall_time;
    s_.last_kafka_error.reset();
  }
  if (report.kube_ok) {
    s_.last_kube_ok = report.wall_time;
    s_.last_kube_error.reset();
  }
  for (const auto& e : report.errors) {
    if (e.kind.rfind("kafka_", 0) == 0) s_.last_kafka_error = e.error.message;
    if (e.kind.rfind("kube_", 0) == 0 && (!report.kube_ok || report.action == Action::kScaleFailed)) {
      s_.last_kube_error = e.error.message;
    }
  }
  // A summary, not the observation: with thousands of partitions the per-partition offsets would
  // be copied on every Record and every Snapshot (each HTTP request). Totals stay.
  s_.last_tick = report;
  if (s_.last_tick->observation) {
    s_.last_tick->observation->partitions.clear();
    s_.last_tick->observation->partitions.shrink_to_fit();
  }
  if (s_.last_tick->time_lag) {  // the largest lag stays
    s_.last_tick->time_lag->partitions.clear();
    s_.last_tick->time_lag->partitions.shrink_to_fit();
  }
}

void StatusBoard::SetLeader(bool leader) {
  std::lock_guard lock(mu_);
  s_.leader = leader;
}

StatusSnapshot StatusBoard::Snapshot() const {
  std::lock_guard lock(mu_);
  return s_;
}

bool StatusBoard::Alive() const {
  std::lock_guard lock(mu_);
  const SteadyTime since = s_.last_tick_start.value_or(s_.started);
  return clock_.Now() - since <= 3 * interval_;
}

bool StatusBoard::Ready() const {
  std::lock_guard lock(mu_);
  return s_.last_tick && s_.last_tick->kafka_ok && KubeOk(*s_.last_tick) &&
         s_.last_tick->other_writer.empty();
}

nlohmann::json StatusBoard::StatusJson(const ReconcilerOptions& options) const {
  const StatusSnapshot s = Snapshot();
  const bool ready = Ready();
  const bool alive = Alive();
  nlohmann::ordered_json j;
  j["status"] = ready && alive ? "ok" : (s.last_tick ? "degraded" : "starting");
  j["live"] = alive;
  j["ready"] = ready;
  j["deployment"] = {{"namespace", options.namespace_name}, {"name", options.deployment_name}};
  j["kafka"] = {{"topics", options.topics},
                {"group", options.group.empty() ? nlohmann::json(nullptr) : nlohmann::json(options.group)},
                {"ok", s.last_tick && s.last_tick->kafka_ok},
                {"last_ok", s.last_kafka_ok ? nlohmann::json(Rfc3339(*s.last_kafka_ok)) : nlohmann::json(nullptr)},
                {"error", s.last_kafka_error ? nlohmann::json(*s.last_kafka_error) : nlohmann::json(nullptr)}};
  j["kubernetes"] = {{"ok", s.last_tick && KubeOk(*s.last_tick)},
                     {"last_ok", s.last_kube_ok ? nlohmann::json(Rfc3339(*s.last_kube_ok)) : nlohmann::json(nullptr)},
                     {"error", s.last_kube_error ? nlohmann::json(*s.last_kube_error) : nlohmann::json(nullptr)}};
  // Why another writer holds the daemon back (foreign write, HPA); null when none.
  j["other_writer"] = s.last_tick && !s.last_tick->other_writer.empty()
                          ? nlohmann::json(s.last_tick->other_writer)
                          : nlohmann::json(nullptr);
  // Stuck partitions (controller/stuck.h) as of the latest good observation; at most 20 listed.
  nlohmann::json stuck = nlohmann::json::array();
  if (s.last_tick) {
    for (const StuckPartition& p : s.last_tick->stuck) {
      if (stuck.size() >= kMaxStuckShown) break;
      stuck.push_back(
          {{"topic", p.topic},
           {"partition", p.partition},
           {"committed", p.committed},
           {"lag", p.lag},
           {"stuck_seconds",
            std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - p.since).count()}});
    }
  }
  j["stuck_partition_count"] = s.last_tick ? s.last_tick->stuck.size() : 0;
  j["stuck_partitions"] = stuck;
  j["leader_election"] = s.leader_election;
  j["leader"] = s.leader;
  j["ticks"] = s.ticks;
  if (s.last_tick) {
    const TickReport& r = *s.last_tick;
    nlohmann::ordered_json t;
    t["time"] = Rfc3339(r.wall_time);
    t["duration_seconds"] = std::chrono::duration<double>(r.duration).count();
    if (r.observation) {
      t["backlog"] = r.observation->backlog;
      t["partitions"] = r.observation->partition_count;
      if (r.time_lag) {
        t["lag_seconds"] = r.time_lag->max_seconds;
        t["lag_seconds_lower_bound"] = r.time_lag->max_lower_bound;
      }
    }
    if (r.throughput.produced_per_minute) t["produced_per_minute"] = *r.throughput.produced_per_minute;
    if (r.throughput.consumed_per_minute) t["consumed_per_minute"] = *r.throughput.consumed_per_minute;
    if (r.scale) {
      t["replicas"] = r.scale->spec_replicas;
      t["paused"] = r.scale->paused;
    }
    if (r.decision) {
      t["desired"] = r.decision->desired;
      t["recommended"] = r.decision->recommended_raw;
      t["reason"] = policy::ReasonName(r.decision->reason);
    }
    t["action"] = ActionName(r.action);
    t["replicas_after"] = r.replicas_after;
    t["consecutive_failures"] = r.consecutive_failures;
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& e : r.errors) errors.push_back({{"kind", e.kind}, {"message", e.error.message}});
    t["errors"] = errors;
    j["last_decision"] = t;
  } else {
    j["last_decision"] = nullptr;
  }
  return j;
}

}  // namespace kafka_autoscaler::controller
