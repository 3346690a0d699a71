// Controller: many-targets mode. One instance reconciles every KafkaScaler it watches, each with
// today's per-target code unchanged in meaning: a controller::Reconciler (observe → Decide →
// act, other writers, stuck partitions, fallback) over a GuardedScaleTarget (range, leadership,
// and "this KafkaScaler still exists"), with Events on the workload and on the KafkaScaler.
//
// Changes come from a KafkaScaler informer (Apply(), any thread); they are queued and applied
// at the start of the next pass, on the pass thread, which alone owns the targets:
//   - added, or a new metadata.generation (spec change) or uid (recreated): the target is
//     (re)built from config::FromKafkaScaler() with the new options; policy state starts over.
//     A spec Load() refuses → Ready=False InvalidSpec (message lists every problem with its
//     field path); spec.kafkaCluster naming no cluster of this instance → UnknownCluster; a
//     workload this instance cannot scale → InvalidTarget. Such a target never scales.
//   - deleted: the target's writes are fenced at once (its may_write turns false from the
//     informer thread, so a tick in flight cannot PATCH), and it is dropped at the next pass.
// Status-only changes (our own status writes coming back) change nothing.
//
// Pass(): the targets whose own interval is due are batched per Kafka cluster, each cluster's
// SharedObserver answers for its whole batch in one Observe(), and each due target then Ticks
// with a MetricSource that hands the Reconciler the observation this pass fetched for it. The
// next tick of a target is one interval after this one started (later after a Retry-After, at
// most two intervals, as controller::Loop does). After a tick the target's status is computed
// (many/status.h) and written through the status subresource only when it changed. One
// target's failure (missing topic, 403 on its Deployment, invalid spec) shows in that target's
// status only.
//
// Learned state (`learned_state_every`): a target of the wait policy keeps what the policy
// learned (one pod's rate, start-up, pause, noise, burst onsets, daily profile) in its
// status.learnedState, so an instance restart, a shard moving to another replica or a spec
// change does not start it cold. A target built here restores it: on a spec change from the
// target it replaces (its state in memory is the newest), otherwise from the status on the
// object the informer delivered (the previous owner's last save). A state learned for another
// workload, topics or group (the spec changed them) is not used and is overwritten at the next
// save; a state that is not valid is logged and overwritten too. The status comparison above
// leaves learnedState out, so a save is the only write it causes.
//
// Leadership: `may_act` is asked once per pass. A follower ticks (so its state is warm) but
// neither scales, posts Events, nor writes status.
//
// Shards (active-active, docs/many-targets.md): `owns(key)` is asked for every target once per
// pass and again right before each of its writes (scale, status, Events). A target not owned
// is not ticked at all. A target whose ownership comes (back) to this replica after it had
// ticked here is rebuilt from the latest KafkaScaler the informer delivered, so its policy and
// other-writer state start fresh (another replica may have scaled it meanwhile) and its status
// starts from what the previous owner wrote; it ticks at that pass. When the previous owner
// named in status.reconciledBy is another replica, a Normal Event `TargetHandedOver` is posted
// on the KafkaScaler. status.reconciledBy is `identity` when set.
//
// Metrics: collectable() (a telemetry::Collector, registered by main.cc with
// telemetry::Metrics::AddCollectable, so `/metrics` and OTLP carry them) gives
// kafka_autoscaler_targets and _targets_owned, the per-target gauges labelled {namespace, name}
// read from the summaries at collection time, the pass-duration histogram (a prometheus-cpp
// Histogram the pass observes), and each cluster's Kafka requests by API read from
// SharedObserver::stats(). Lifetime: the controller detaches its collector first thing in its
// destructor, so a collection still holding it (a scrape, an OTLP export) gets nothing rather
// than a destroyed controller; the clusters must outlive the controller.
//
// Thread-safety: Apply() and the read-only accessors (TargetCount, Summaries, collectable,
// PrometheusText) from any thread; Pass() from one thread (main.cc runs a pass each second).
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <atomic>
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
#include "config/config.h"
#include "config/kafka_scaler.h"
#include "controller/reconciler.h"
#include "controller/tick_tracer.h"
#include "kafka/shared_observer.h"
#include "kube/informer.h"
#include "kube/scale_target.h"
#include "many/status.h"
#include "telemetry/collector.h"

namespace kafka_autoscaler::many {

// What one KafkaScaler needs from Kubernetes: its workload's /scale and an Event recorder
// (the controller adds the Events on the KafkaScaler itself).
struct TargetKube {
  std::unique_ptr<kube::ScaleTarget> scale;
  std::unique_ptr<kube::EventRecorder> events;  // may be null: no Events on the workload
};

// The identity of a KafkaScaler, for Events and status writes.
struct ScalerRef {
  std::string namespace_name;
  std::string name;
  std::string uid;
};

// Builds the Kubernetes side of a target; an Error refuses the target (InvalidTarget, with the
// error's message). Called on the pass thread.
using KubeFactory =
    std::function<Result<TargetKube>(const ScalerRef& ref, const config::KafkaScalerTarget& spec)>;
// An Event recorder whose involvedObject is the KafkaScaler `ref`.
using ScalerEventsFactory = std::function<std::unique_ptr<kube::EventRecorder>(const ScalerRef&)>;

// Writes a KafkaScaler's status subresource.
class StatusWriter {
 public:
  virtual ~StatusWriter() = default;
  // Sends `merge_patch` ({"status": {...}}) to .../kafkascalers/NAME/status. Errors: those of
  // the API client (kNotFound once the KafkaScaler is gone, kPermissionDenied, ...).
  [[nodiscard]] virtual Status Write(const ScalerRef& ref, const nlohmann::json& merge_patch) = 0;
};

struct ControllerOptions {
  // The instance's environment (config::FromKafkaScaler takes the instance-wide settings).
  config::Env instance_env;
  // The Kafka clusters by name (spec.kafkaCluster); not owned.
  std::map<std::string, kafka::SharedObserver*> clusters;
  // Leadership, asked once per pass; empty = always the leader.
  std::function<bool()> may_act;
  // Asked right before every write of replicas (with the per-target deletion fence); e.g.
  // leadership and "not stopping". Empty = allowed.
  std::function<bool()> may_write;
  // Shards: whether this replica owns the target "namespace/name" now (asked once per pass and
  // right before every write of that target). Empty = owns every target.
  std::function<bool(const std::string& key)> owns;
  // This replica, written to status.reconciledBy; empty = not written.
  std::string identity;
  // What the wait policy learned is kept in each such target's status.learnedState (the JSON of
  // policy::SaveLearned, as a string), written by the target's writer every this often (the
  // first time at a point of the interval fixed by the target's key, so that thousands of
  // targets do not all write in one pass). Unset: nothing is kept or restored.
  std::optional<Duration> learned_state_every;
};

// One target as /metrics and logs see it (copied under a lock).
struct TargetSummary {
  std::string namespace_name;
  std::string name;
  bool ready = false;
  std::optional<int64_t> backlog;
  std::optional<int32_t> current_replicas;
  std::optional<int32_t> desired_replicas;
  int64_t ticks = 0;
};

// The parts of a KafkaScaler the controller reads (metadata name, namespace, uid, generation,
// resourceVersion; spec; status): the KafkaScaler informer's prune, so its cache and the
// controller's copy do not hold managedFields, annotations or labels of thousands of objects.
void PruneKafkaScaler(nlohmann::json& object);

class Controller {
 public:
  Controller(ControllerOptions options, const Clock& clock, Logger& log,
             controller::TickTracer& tracer, KubeFactory kube_factory,
             ScalerEventsFactory scaler_events, StatusWriter& status_writer);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Queues a KafkaScaler change (the informer's handler). A deletion fences the target's
  // writes at once. Any thread.
  void Apply(const kube::Change& change);

  // One pass (see the file comment). Returns the number of targets that ticked.
  int Pass();

  // Writes the learned state of every wait target this replica owns and may write now (a
  // graceful stop, after the last pass and before the Leases are given up), until `deadline`;
  // those left keep the state of their last periodic save. Returns how many were written.
  // Pass thread.
  size_t SaveLearnedNow(SteadyTime deadline);

  size_t TargetCount() const;
  // Targets this replica owned at the last pass (all of them without `owns`).
  size_t OwnedCount() const { return owned_count_.load(); }
  std::vector<TargetSummary> Summaries() const;  // sorted by namespace/name
  // kafka_autoscaler_targets and per-target series labelled namespace/name; the duration of
  // passes (a histogram; a pass that ticked no target is not counted) and each cluster's Kafka
  // requests by API (SharedObserver::stats, counters labelled cluster and api). Only a weak_ptr
  // is handed out (see the file comment on lifetime).
  std::weak_ptr<prometheus::Collectable> collectable() const { return collector_; }
  // The Prometheus text of collectable() alone (prometheus-cpp's TextSerializer).
  std::string PrometheusText() const;

 private:
  struct Target;
  int PassOnce();                                          // Pass() without its duration
  std::vector<prometheus::MetricFamily> Families() const;  // collectable()'s
  void ApplyQueued();
  // `fresh`: rebuild even when the generation is unchanged, with the status found on `object`.
  void Build(const nlohmann::json& object, bool fresh = false);
  void Install(std::unique_ptr<Target> t);
  // Puts the learned state back into `t`'s new reconciler: `replaced`'s (a spec change), else
  // the one in `object`'s status; logs the outcome. Sets t.next_learned_save.
  void RestoreLearned(Target& t, const Target* replaced, const nlohmann::json& object);
  bool Owns(const std::string& key) const { return !options_.owns || options_.owns(key); }
  void TickBatch(std::vector<Target*>& batch, kafka::SharedObserver* observer, bool may_act);
  void Finish(Target& t, const controller::TickReport* report, bool may_act);
  void WriteStatus(Target& t, const StatusInput& input, bool may_act);

  ControllerOptions options_;
  const Clock& clock_;
  Logger& log_;
  controller::TickTracer& tracer_;
  KubeFactory kube_factory_;
  ScalerEventsFactory scaler_events_;
  StatusWriter& status_writer_;

  std::map<std::string, std::unique_ptr<Target>> targets_;  // pass thread only
  std::atomic<size_t> owned_count_{0};

  mutable std::mutex mu_;
  std::vector<kube::Change> queue_;                                   // guarded by mu_
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> fences_;  // guarded by mu_
  std::map<std::string, TargetSummary> summaries_;                    // guarded by mu_
  // Durations of the passes that ticked at least one target (kafka_autoscaler_pass_duration_
  // seconds); prometheus-cpp metrics are thread-safe.
  prometheus::Registry pass_registry_;
  prometheus::Histogram& pass_duration_;
  std::shared_ptr<telemetry::Collector> collector_;  // calls Families(); detached in ~Controller
};

// kafka_autoscaler_shards_held and kafka_autoscaler_shards (main.cc's shard Leases, active-active).
std::vector<prometheus::MetricFamily> ShardFamilies(size_t held, int shards);

}  // namespace kafka_autoscaler::many
