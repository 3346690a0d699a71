#include "many/controller.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <functional>
#include <sstream>
#include <utility>

#include "controller/learned_state_keeper.h"
#include "controller/loop.h"
#include "kube/guarded_scale_target.h"
#include "many/options.h"
#include "telemetry/metrics.h"

namespace kafka_autoscaler::many {
namespace {

using nlohmann::json;

// Span attribute naming the KafkaScaler a tick belongs to ("namespace/name").
constexpr char kAttrKafkaScaler[] = "kafka_autoscaler.kafkascaler";
// How often a refused target's status is looked at again (a failed status write is retried).
constexpr Duration kRefusedRecheck = std::chrono::seconds(10);

// The Reconciler's MetricSource: the observation the pass fetched for this target, once.
class PassSource final : public kafka::MetricSource {
 public:
  void Set(Result<kafka::Observation> r) { next_ = std::move(r); }
  Result<kafka::Observation> Fetch() override {
    if (!next_) return MakeError(ErrorCode::kInternal, "no observation was fetched for this pass");
    Result<kafka::Observation> r = std::move(*next_);
    next_.reset();
    return r;
  }

 private:
  std::optional<Result<kafka::Observation>> next_;
};

// spec.paused: the target reads as paused, so the Reconciler observes and decides but never
// writes (Action::kPaused), as with the kafka-autoscaler/paused annotation.
class SpecPausable final : public kube::ScaleTarget {
 public:
  SpecPausable(kube::ScaleTarget& inner, bool paused) : inner_(inner), paused_(paused) {}
  Result<kube::ScaleState> Get() override {
    auto s = inner_.Get();
    if (s && paused_) s->paused = true;
    return s;
  }
  Status SetReplicas(int32_t replicas) override { return inner_.SetReplicas(replicas); }

 private:
  kube::ScaleTarget& inner_;
  const bool paused_;
};

// Each Event goes to the workload and to the KafkaScaler; the first failure is returned.
// `may_write` (the target's fence) is asked right before; refused = nothing sent.
class FanOutRecorder final : public kube::EventRecorder {
 public:
  FanOutRecorder(std::vector<kube::EventRecorder*> to, std::function<bool()> may_write)
      : to_(std::move(to)), may_write_(std::move(may_write)) {}
  Status Record(kube::EventType type, const std::string& reason,
                const std::string& message) override {
    if (may_write_ && !may_write_()) {
      return MakeError(ErrorCode::kFailedPrecondition, "not the owner of this target any more");
    }
    Status first = OkStatus();
    for (kube::EventRecorder* r : to_) {
      if (r == nullptr) continue;
      Status s = r->Record(type, reason, message);
      if (!s && first) first = s;
    }
    return first;
  }

 private:
  std::vector<kube::EventRecorder*> to_;
  std::function<bool()> may_write_;
};

// The instance's tracer, with every span of a target naming its KafkaScaler.
class NamedTracer final : public controller::TickTracer {
 public:
  NamedTracer(controller::TickTracer& inner, std::string key)
      : inner_(inner), key_(std::move(key)) {}
  std::unique_ptr<controller::TickSpan> StartSpan(std::string_view name,
                                                  controller::SpanKind kind) override {
    auto span = inner_.StartSpan(name, kind);
    span->SetAttribute(kAttrKafkaScaler, key_);
    return span;
  }

 private:
  controller::TickTracer& inner_;
  const std::string key_;
};

// "namespace/name", as kube::ObjectKey (the informer's key).
std::string KeyOf(const json& object) {
  const json meta = object.value("metadata", json::object());
  const std::string ns = meta.value("namespace", "");
  return ns.empty() ? meta.value("name", "") : ns + "/" + meta.value("name", "");
}

// Upper bounds (seconds) of the pass-duration histogram's buckets; +Inf follows.
prometheus::Histogram::BucketBoundaries PassBuckets() {
  return {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

// JSON text of a parsed object (never throws: it came from a parser, and bad UTF-8 is replaced).
std::string Compact(const json& object) {
  std::string text = object.dump(-1, ' ', false, json::error_handler_t::replace);
  text.shrink_to_fit();  // dump() grows its buffer by doubling; this is kept per target
  return text;
}

// status.learnedState: what the wait policy learned, as the JSON text of policy::SaveLearned.
constexpr char kLearnedField[] = "learnedState";

// The status.learnedState an object carries, or null.
const json* SavedLearned(const json& object) {
  auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return nullptr;
  auto saved = status->find(kLearnedField);
  return saved == status->end() ? nullptr : &*saved;
}

// The status as compared and patched at each tick: without learnedState, which only a save
// writes (and which is far larger than the rest).
std::string StatusText(const json& status) {
  json s = status;
  s.erase(kLearnedField);
  return Compact(s);
}

std::string Joined(const Error& e) {
  std::string out = e.message;
  for (const auto& d : e.details) out += (out.empty() ? "" : "; ") + d;
  return out;
}

}  // namespace

void PruneKafkaScaler(json& object) {
  object = kube::KeepOnly(object, {{"apiVersion"},
                                   {"kind"},
                                   {"metadata", "name"},
                                   {"metadata", "namespace"},
                                   {"metadata", "uid"},
                                   {"metadata", "generation"},
                                   {"metadata", "resourceVersion"},
                                   {"spec"},
                                   {"status"}});
}

struct Controller::Target {
  ScalerRef ref;
  std::string key;
  int64_t generation = 0;
  // The status as last written (or found on the object), as compact JSON text like `object`;
  // parsed once per tick of this target.
  std::string written_status = "{}";
  std::optional<Refusal> refusal;
  bool spec_paused = false;
  Duration interval = std::chrono::seconds(60);
  kafka::SharedObserver* observer = nullptr;
  kafka::TargetQuery query;
  std::shared_ptr<std::atomic<bool>> deleted;
  controller::ReconcilerOptions options;
  PassSource source;
  TargetKube kube;
  std::unique_ptr<SpecPausable> pausable;
  std::unique_ptr<kube::GuardedScaleTarget> guarded;
  std::unique_ptr<kube::EventRecorder> scaler_events;
  std::unique_ptr<FanOutRecorder> events;
  std::unique_ptr<NamedTracer> tracer;
  std::unique_ptr<controller::Reconciler> reconciler;
  SteadyTime next_due{};
  std::optional<WallTime> last_scale_time;
  int64_t ticks = 0;
  // The latest KafkaScaler the informer delivered (a rebuild on a shard hand-over starts here),
  // as compact JSON text: parsed only for that rebuild, and several times smaller than the
  // parsed object (one map node per field) across thousands of targets.
  std::string object;
  bool owned = false;  // at the last pass
  // Shards: another replica owns it, so only what a rebuild needs is kept (key, object, fence);
  // the spec, clients, trackers and reconciler are built when this replica gains it.
  bool dormant = false;
  bool handover_announced = false;
  // Settings of the spec that work against each other (config::Warnings, with the spec's field
  // names): logged at each build, posted once as Warning events by the replica that writes.
  std::vector<std::string> warnings;
  bool warnings_posted = false;
  // The wait policy's learned state is kept in status.learnedState (learned_state_every set):
  // the next save is due then.
  bool keeps_learned = false;
  SteadyTime next_learned_save{};
  // Another policy runs now and the status still holds a state a `wait` policy saved: no policy
  // here can use it, so the owner's next status write removes it.
  bool drops_learned = false;
};

Controller::Controller(ControllerOptions options, const Clock& clock, Logger& log,
                       controller::TickTracer& tracer, KubeFactory kube_factory,
                       ScalerEventsFactory scaler_events, StatusWriter& status_writer)
    : options_(std::move(options)),
      clock_(clock),
      log_(log),
      tracer_(tracer),
      kube_factory_(std::move(kube_factory)),
      scaler_events_(std::move(scaler_events)),
      status_writer_(status_writer),
      pass_duration_(prometheus::BuildHistogram()
                         .Name(std::string(telemetry::kMetricPassDuration))
                         .Help("Wall time of a pass that ticked at least one target (observe the "
                               "due targets, decide, act, write status).")
                         .Register(pass_registry_)
                         .Add({}, PassBuckets())),
      collector_(std::make_shared<telemetry::Collector>([this] { return Families(); })) {}

// First: a collection in flight finishes before any member goes, and later ones get nothing.
Controller::~Controller() { collector_->Detach(); }

void Controller::Apply(const kube::Change& change) {
  std::lock_guard lock(mu_);
  if (change.type == kube::ChangeType::kDeleted) {
    // Fence now: a tick in flight on the pass thread must not write for a deleted target.
    if (auto it = fences_.find(KeyOf(change.object)); it != fences_.end()) {
      it->second->store(true);
    }
  }
  queue_.push_back(change);
}

void Controller::ApplyQueued() {
  std::vector<kube::Change> changes;
  {
    std::lock_guard lock(mu_);
    changes.swap(queue_);
  }
  for (const auto& c : changes) {
    const std::string key = KeyOf(c.object);
    if (c.type != kube::ChangeType::kDeleted) {
      Build(c.object);
      continue;
    }
    if (targets_.erase(key) > 0)
      log_.Info("kafkascaler deleted; not scaling it any more", {{"kafkascaler", key}});
    std::lock_guard lock(mu_);
    fences_.erase(key);
    summaries_.erase(key);
  }
}

void Controller::Build(const json& object, bool fresh) {
  const std::string key = KeyOf(object);
  const json meta = object.value("metadata", json::object());
  ScalerRef ref{meta.value("namespace", ""), meta.value("name", ""), meta.value("uid", "")};
  const int64_t generation = meta.value("generation", int64_t{0});
  auto existing = targets_.find(key);
  if (!fresh && existing != targets_.end() && existing->second->generation == generation &&
      existing->second->ref.uid == ref.uid) {
    existing->second->object = Compact(object);  // kept for a rebuild on a shard hand-over
    return;  // a status change (ours coming back) or metadata only: nothing to rebuild
  }
  auto t = std::make_unique<Target>();
  t->ref = ref;
  t->key = key;
  t->generation = generation;
  t->object = Compact(object);
  if (existing != targets_.end() && existing->second->ref.uid == ref.uid) {
    t->owned = existing->second->owned;
  }
  if (!fresh && existing != targets_.end() && existing->second->ref.uid == ref.uid) {
    t->written_status = existing->second->written_status;
    t->last_scale_time = existing->second->last_scale_time;
  } else if (object.contains("status") && object["status"].is_object()) {
    t->written_status = StatusText(object["status"]);  // keeps transition times across restarts
  }
  t->deleted = std::make_shared<std::atomic<bool>>(false);
  {
    std::lock_guard lock(mu_);
    fences_[key] = t->deleted;
  }
  t->next_due = clock_.Now();
  if (!Owns(key)) {
    t->dormant = true;
    Install(std::move(t));
    return;
  }

  auto spec = config::FromKafkaScaler(object, options_.instance_env);
  if (!spec) {
    t->refusal = Refusal{"InvalidSpec", Joined(spec.error())};
  } else if (options_.clusters.count(spec->kafka_cluster) == 0) {
    std::string known;
    for (const auto& [name, observer] : options_.clusters) {
      (void)observer;
      known += (known.empty() ? "" : ", ") + name;
    }
    t->refusal = Refusal{"UnknownCluster", "spec.kafkaCluster \"" + spec->kafka_cluster +
                                               "\" is not a Kafka cluster of this instance "
                                               "(known: " +
                                               known + ")"};
  }
  if (spec) {
    t->spec_paused = spec->paused;
    t->interval = spec->config.scale_interval;
  }
  if (!t->refusal) {
    auto kube = kube_factory_(ref, *spec);
    if (!kube) {
      t->refusal = Refusal{"InvalidTarget", kube.error().message};
    } else {
      t->kube = std::move(*kube);
    }
  }
  if (t->refusal) {
    log_.Warn(
        "kafkascaler refused; it will not scale",
        {{"kafkascaler", key}, {"reason", t->refusal->reason}, {"error", t->refusal->message}});
  } else {
    const config::Config& cfg = spec->config;
    t->warnings = config::Warnings(
        cfg, [](std::string_view v) { return "spec." + config::SpecFieldName(v); });
    for (const auto& warning : t->warnings) {
      log_.Warn("kafkascaler configuration",
                {{"kafkascaler", key}, {"generation", generation}, {"warning", warning}});
    }
    t->observer = options_.clusters.at(spec->kafka_cluster);
    t->query = {.key = key,
                .topics = cfg.kafka_topics,
                .topic_pattern = cfg.kafka_topic_pattern,
                .group = cfg.kafka_consumer_group,
                .offset_reset = cfg.offset_reset};
    t->options = ReconcilerOptionsFrom(cfg);
    t->pausable = std::make_unique<SpecPausable>(*t->kube.scale, spec->paused);
    auto fence = t->deleted;
    auto may_write = options_.may_write;
    auto owns = options_.owns;
    auto target_may_write = [fence, may_write, owns, key] {
      return !fence->load() && (!may_write || may_write()) && (!owns || owns(key));
    };
    t->guarded = std::make_unique<kube::GuardedScaleTarget>(
        *t->pausable, kube::WriteGuard{.min_replicas = cfg.policy.idle_replicas,
                                       .max_replicas = cfg.policy.max_replicas,
                                       .may_write = target_may_write});
    if (scaler_events_) t->scaler_events = scaler_events_(ref);
    t->events = std::make_unique<FanOutRecorder>(
        std::vector<kube::EventRecorder*>{t->kube.events.get(), t->scaler_events.get()},
        target_may_write);
    t->tracer = std::make_unique<NamedTracer>(tracer_, key);
    t->reconciler = std::make_unique<controller::Reconciler>(
        t->options, clock_, t->source, *t->guarded, t->events.get(), log_, *t->tracer);
    if (options_.learned_state_every && cfg.policy.kind == policy::PolicyKind::kWait) {
      t->keeps_learned = true;
      const bool replaces =
          !fresh && existing != targets_.end() && existing->second->ref.uid == ref.uid;
      RestoreLearned(*t, replaces ? existing->second.get() : nullptr, object);
    } else if (options_.learned_state_every) {
      t->drops_learned = SavedLearned(object) != nullptr;
    }
    const bool was_dormant = existing != targets_.end() && existing->second->dormant;
    log_.Info(existing == targets_.end() ? "kafkascaler added"
              : was_dormant              ? "kafkascaler owned here; built"
                                         : "kafkascaler changed; rebuilt",
              {{"kafkascaler", key},
               {"generation", generation},
               {"target", spec->target_kind + "/" + cfg.deployment_name},
               {"topic", t->options.topics},
               {"group", t->options.group},
               {"interval_seconds", static_cast<int64_t>(cfg.scale_interval.count())}});
  }
  Install(std::move(t));
}

void Controller::RestoreLearned(Target& t, const Target* replaced, const json& object) {
  nlohmann::json saved;
  std::string from;
  if (replaced != nullptr && replaced->keeps_learned && replaced->reconciler) {
    // A spec change: what the target it replaces learned is newer than any save.
    saved = replaced->reconciler->SaveLearned();
    from = "the previous spec";
    t.next_learned_save = replaced->next_learned_save;
  } else {
    const int64_t every = std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(*options_.learned_state_every).count());
    const auto phase = static_cast<int64_t>(std::hash<std::string>{}(t.key) % every);
    t.next_learned_save = clock_.Now() + std::chrono::seconds(phase);
    const json* saved_text = SavedLearned(object);
    if (saved_text == nullptr) return;
    from = std::string("status.") + kLearnedField;
    const json& text = *saved_text;
    if (text.is_string()) saved = json::parse(text.get<std::string>(), nullptr, false);
    if (!text.is_string() || saved.is_discarded()) {
      log_.Warn("learned state not restored; starting cold",
                {{"kafkascaler", t.key}, {"from", from}, {"error", std::string("not JSON text")}});
      return;
    }
  }
  if (Status s = t.reconciler->RestoreLearned(saved); !s) {
    // Another target's state (the spec changed the workload, topics or group) is not a fault.
    log_.Log(s.error().code == ErrorCode::kFailedPrecondition ? LogLevel::kInfo : LogLevel::kWarn,
             "learned state not restored; starting cold",
             {{"kafkascaler", t.key}, {"from", from}, {"error", s.error().message}});
    return;
  }
  Fields fields{{"kafkascaler", t.key}, {"from", from}};
  for (Field& f : controller::DescribeLearned(saved, clock_.WallNow())) {
    fields.push_back(std::move(f));
  }
  log_.Info("restored learned state", std::move(fields));
}

void Controller::Install(std::unique_ptr<Target> t) {
  {
    std::lock_guard lock(mu_);
    TargetSummary& s = summaries_[t->key];
    s = TargetSummary{};
    s.namespace_name = t->ref.namespace_name;
    s.name = t->ref.name;
  }
  const std::string key = t->key;
  targets_[key] = std::move(t);
}

int Controller::Pass() {
  const SteadyTime started = clock_.Now();
  const int ticked = PassOnce();
  if (ticked > 0) {
    pass_duration_.Observe(SecondsBetween(started, clock_.Now()));
  }
  return ticked;
}

int Controller::PassOnce() {
  ApplyQueued();
  const bool may_act = options_.may_act ? options_.may_act() : true;
  // Shards: a target gained after it ticked here starts over from the latest object (another
  // replica may have scaled it and written its status meanwhile); every gained one ticks now.
  // A target lost goes dormant (rebuilt from its object without the per-target machinery).
  std::vector<json> handed_back, lost;
  size_t owned = 0;
  for (auto& [key, t] : targets_) {
    const bool owns = Owns(key);
    owned += owns ? 1 : 0;
    if (owns == t->owned && owns != t->dormant) continue;
    t->owned = owns;
    if (!owns) {
      if (!t->dormant) {
        log_.Info("kafkascaler no longer owned here", {{"kafkascaler", key}});
        lost.push_back(json::parse(t->object));
      }
      continue;
    }
    if (t->ticks > 0 || t->dormant) {
      handed_back.push_back(json::parse(t->object));
    } else if (json object = json::parse(t->object);
               object.contains("status") && object["status"].is_object()) {
      t->written_status = StatusText(object["status"]);  // the previous owner's, for the patch
    }
    t->next_due = clock_.Now();
  }
  owned_count_.store(owned);
  for (const json& object : handed_back) {
    Build(object, /*fresh=*/true);
    targets_[KeyOf(object)]->owned = true;
  }
  for (const json& object : lost) Build(object, /*fresh=*/true);
  const SteadyTime now = clock_.Now();
  std::map<kafka::SharedObserver*, std::vector<Target*>> batches;
  for (auto& [key, t] : targets_) {
    if (!t->owned || t->dormant) continue;
    if (now < t->next_due) continue;
    if (t->refusal) {
      t->next_due = now + kRefusedRecheck;
      Finish(*t, nullptr, may_act);
      continue;
    }
    batches[t->observer].push_back(t.get());
  }
  int ticked = 0;
  for (auto& [observer, batch] : batches) {
    TickBatch(batch, observer, may_act);
    ticked += static_cast<int>(batch.size());
  }
  return ticked;
}

void Controller::TickBatch(std::vector<Target*>& batch, kafka::SharedObserver* observer,
                           bool may_act) {
  std::vector<kafka::TargetQuery> queries;
  queries.reserve(batch.size());
  for (const Target* t : batch) queries.push_back(t->query);
  auto results = observer->Observe(queries);
  for (Target* t : batch) {
    auto it = results.find(t->key);
    if (it == results.end()) {
      t->source.Set(MakeError(ErrorCode::kInternal, "the shared observer gave no answer"));
    } else {
      t->source.Set(std::move(it->second));
    }
    const controller::TickReport report = t->reconciler->Tick(may_act);
    ++t->ticks;
    if (report.action == controller::Action::kScaled ||
        report.action == controller::Action::kFallback) {
      t->last_scale_time = report.wall_time;
    }
    // Fixed rate per target, as controller::Loop: one interval after the last due time, later
    // when the API server asked to back off (at most two intervals), never in a burst.
    Duration wait_extra{};
    for (const auto& e : report.errors) {
      if (e.error.retry_after) wait_extra = std::max<Duration>(wait_extra, *e.error.retry_after);
    }
    wait_extra = std::min<Duration>(wait_extra, controller::MaxRetryAfter(t->interval));
    const SteadyTime after = clock_.Now();
    t->next_due = std::max({t->next_due + t->interval, after, after + wait_extra});
    Finish(*t, &report, may_act);
  }
}

void Controller::Finish(Target& t, const controller::TickReport* report, bool may_act) {
  StatusInput in{.generation = t.generation,
                 .refusal = t.refusal,
                 .report = report,
                 .options = &t.options,
                 .spec_paused = t.spec_paused,
                 .last_scale_time = t.last_scale_time,
                 .now = clock_.WallNow()};
  const json written_status = json::parse(t.written_status);
  json status = ComputeStatus(written_status, in);
  if (!options_.identity.empty()) status["reconciledBy"] = options_.identity;
  {
    std::lock_guard lock(mu_);
    TargetSummary& s = summaries_[t.key];
    s.ready = FindCondition(status, "Ready").value("status", "") == "True";
    s.backlog =
        status.contains("backlog") ? std::optional<int64_t>(status["backlog"]) : std::nullopt;
    s.current_replicas = status.contains("currentReplicas")
                             ? std::optional<int32_t>(status["currentReplicas"])
                             : std::nullopt;
    s.desired_replicas = status.contains("desiredReplicas")
                             ? std::optional<int32_t>(status["desiredReplicas"])
                             : std::nullopt;
    s.ticks = t.ticks;
  }
  // A follower never writes; a deleted KafkaScaler has no status to write; a target whose
  // shard was lost since the pass began is fenced right before the write.
  const bool may_write = may_act && !t.deleted->load() && Owns(t.key);
  if (may_write && !t.warnings_posted && t.scaler_events) {
    t.warnings_posted = true;
    for (const auto& warning : t.warnings) {
      if (auto s =
              t.scaler_events->Record(kube::EventType::kWarning, "ConfigurationWarning", warning);
          !s) {
        log_.Warn("could not post the configuration warning",
                  {{"kafkascaler", t.key}, {"error", s.error().message}});
      }
    }
  }
  const bool save_learned = may_write && t.keeps_learned && clock_.Now() >= t.next_learned_save;
  const bool drop_learned = may_write && t.drops_learned;
  if ((status == written_status && !save_learned && !drop_learned) || !may_write) return;
  const std::string previous = written_status.value("reconciledBy", "");
  if (!t.handover_announced && t.scaler_events && !options_.identity.empty() && !previous.empty() &&
      previous != options_.identity) {
    t.handover_announced = true;
    if (auto s = t.scaler_events->Record(
            kube::EventType::kNormal, "TargetHandedOver",
            "Reconciled by " + options_.identity + " now (was " + previous + ")");
        !s) {
      log_.Warn("could not post the hand-over event",
                {{"kafkascaler", t.key}, {"error", s.error().message}});
    }
  }
  json patch = status == written_status ? json{{"status", json::object()}}
                                        : StatusMergePatch(written_status, status);
  if (save_learned) patch["status"][kLearnedField] = t.reconciler->SaveLearned().dump();
  if (drop_learned) patch["status"][kLearnedField] = nullptr;  // merge patch: remove
  Status written = status_writer_.Write(t.ref, patch);
  if (!written) {
    if (written.error().code != ErrorCode::kNotFound) {
      log_.Warn("could not write kafkascaler status",
                {{"kafkascaler", t.key}, {"error", written.error().message}});
    }
    return;  // written_status and the save unchanged: the next tick tries again
  }
  t.written_status = Compact(status);
  if (save_learned) t.next_learned_save = clock_.Now() + *options_.learned_state_every;
  t.drops_learned = false;
}

size_t Controller::SaveLearnedNow(SteadyTime deadline) {
  if (!options_.learned_state_every || (options_.may_act && !options_.may_act())) return 0;
  size_t saved = 0, left = 0;
  for (auto& [key, t] : targets_) {
    if (!t->keeps_learned || t->dormant || t->deleted->load() || !Owns(key)) continue;
    if (clock_.Now() >= deadline) {
      ++left;
      continue;
    }
    const json patch = {{"status", {{kLearnedField, t->reconciler->SaveLearned().dump()}}}};
    if (Status s = status_writer_.Write(t->ref, patch); !s) {
      if (s.error().code != ErrorCode::kNotFound) {
        log_.Warn("could not save the learned state",
                  {{"kafkascaler", key}, {"error", s.error().message}});
      }
      continue;
    }
    ++saved;
  }
  if (left > 0) {
    log_.Warn(
        "the stop's deadline came before every learned state was saved; the others keep "
        "their last periodic save",
        {{"saved", static_cast<int64_t>(saved)}, {"left", static_cast<int64_t>(left)}});
  }
  return saved;
}

size_t Controller::TargetCount() const {
  std::lock_guard lock(mu_);
  return summaries_.size();
}

std::vector<TargetSummary> Controller::Summaries() const {
  std::lock_guard lock(mu_);
  std::vector<TargetSummary> out;
  out.reserve(summaries_.size());
  for (const auto& [key, s] : summaries_) {
    (void)key;
    out.push_back(s);
  }
  return out;
}

std::string Controller::PrometheusText() const {
  return prometheus::TextSerializer().Serialize(collector_->Collect());
}

std::vector<prometheus::MetricFamily> Controller::Families() const {
  using prometheus::MetricType;
  using telemetry::AddSample;
  using telemetry::MakeFamily;
  const std::vector<TargetSummary> all = Summaries();
  std::vector<prometheus::MetricFamily> out;
  AddSample(
      out.emplace_back(MakeFamily(telemetry::kMetricTargets,
                                  "KafkaScalers this instance reconciles.", MetricType::Gauge)),
      {}, static_cast<double>(all.size()));
  AddSample(out.emplace_back(MakeFamily(telemetry::kMetricTargetsOwned,
                                        "KafkaScalers whose shard this replica owns.",
                                        MetricType::Gauge)),
            {}, static_cast<double>(OwnedCount()));
  struct Series {
    std::string_view name;
    std::string_view help;
    std::function<std::optional<int64_t>(const TargetSummary&)> value;
  };
  const Series series[] = {
      {telemetry::kMetricTargetBacklog, "The target's backlog in messages at its last tick.",
       [](const TargetSummary& s) { return s.backlog; }},
      {telemetry::kMetricTargetReplicas, "The target's spec.replicas after its last tick.",
       [](const TargetSummary& s) -> std::optional<int64_t> { return s.current_replicas; }},
      {telemetry::kMetricTargetDesiredReplicas, "The replicas the target's last tick decided.",
       [](const TargetSummary& s) -> std::optional<int64_t> { return s.desired_replicas; }},
      {telemetry::kMetricTargetReady, "1 when the target's Ready condition is True.",
       [](const TargetSummary& s) -> std::optional<int64_t> { return s.ready ? 1 : 0; }},
  };
  for (const Series& m : series) {
    prometheus::MetricFamily& f = out.emplace_back(MakeFamily(m.name, m.help, MetricType::Gauge));
    for (const TargetSummary& s : all) {
      if (const auto v = m.value(s)) {
        AddSample(f, {{"namespace", s.namespace_name}, {"name", s.name}}, static_cast<double>(*v));
      }
    }
  }
  for (prometheus::MetricFamily& f : pass_registry_.Collect()) out.push_back(std::move(f));
  prometheus::MetricFamily& requests = out.emplace_back(
      MakeFamily(telemetry::kMetricKafkaRequests,
                 "Requests the cluster's shared Kafka client sent, by API.", MetricType::Counter));
  for (const auto& [cluster, observer] : options_.clusters) {
    const kafka::RequestCounts c = observer->stats();
    for (const auto& [api, n] : {std::pair<const char*, int64_t>{"Metadata", c.metadata},
                                 {"ListOffsets", c.list_offsets},
                                 {"OffsetFetch", c.offset_fetch}}) {
      AddSample(requests, {{"cluster", cluster}, {"api", api}}, static_cast<double>(n));
    }
  }
  return out;
}

std::vector<prometheus::MetricFamily> ShardFamilies(size_t held, int shards) {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  telemetry::AddSample(
      out.emplace_back(telemetry::MakeFamily(
          telemetry::kMetricShardsHeld, "Shard Leases this replica holds.", MetricType::Gauge)),
      {}, static_cast<double>(held));
  telemetry::AddSample(out.emplace_back(telemetry::MakeFamily(
                           telemetry::kMetricShards,
                           "Shards the KafkaScalers are split into (SHARDS).", MetricType::Gauge)),
                       {}, shards);
  return out;
}

}  // namespace kafka_autoscaler::many
