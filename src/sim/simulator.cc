#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <variant>

#include "common/log.h"
#include "controller/reconciler.h"
#include "controller/tick_tracer.h"
#include "sim/keda_hpa.h"
#include "sim/sim_world.h"

namespace kafka_autoscaler::sim {

const std::vector<std::string>& KnownPolicies() {
  static const std::vector<std::string> kNames = {"messages", "keda-hpa",     "rate",
                                                  "wait",     "wait-predict", "reactive-bound"};
  return kNames;
}

namespace {

// A standard normal deviate from a portable generator (std::normal_distribution's output
// differs between standard libraries; golden files must not).
class Noise {
 public:
  explicit Noise(uint64_t seed) : rng_(seed) {}
  double Normal() {
    if (spare_) {
      const double v = *spare_;
      spare_.reset();
      return v;
    }
    double u1 = Uniform(), u2 = Uniform();
    while (u1 <= 0) u1 = Uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 2.0 * M_PI * u2;
    spare_ = r * std::sin(a);
    return r * std::cos(a);
  }

 private:
  double Uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
  std::mt19937_64 rng_;
  std::optional<double> spare_;
};

// One simulation step's controller: the Reconciler or the KEDA + HPA model.
class Controller {
 public:
  virtual ~Controller() = default;
  virtual void Step(int64_t step, double now_seconds) = 0;
  // The daemon restarts (Scenario::restart_after_history): a new process, with what the
  // policy learned when `keep_learned`.
  virtual void Restart(bool /*keep_learned*/) {}
  // The decision records of the run so far (PolicyRun::decisions), moved out.
  virtual std::vector<DecisionRecord> TakeDecisions() { return {}; }
};

// The Reconciler's tracer in the simulator: keeps the attributes of each `reconcile` span (the
// tick's decision), stamped with the simulated time; every other span is dropped.
class DecisionRecorder final : public controller::TickTracer {
 public:
  explicit DecisionRecorder(const SimClock& clock) : clock_(clock) {}
  std::unique_ptr<controller::TickSpan> StartSpan(std::string_view name,
                                                  controller::SpanKind) override {
    return std::make_unique<Span>(name == controller::kSpanReconcile ? this : nullptr);
  }
  std::vector<DecisionRecord> Take() { return std::move(records_); }

 private:
  struct Span final : controller::TickSpan {
    explicit Span(DecisionRecorder* owner) : owner_(owner) {
      if (owner_) record_.t_seconds = owner_->clock_.seconds();
    }
    ~Span() override {
      if (owner_) owner_->records_.push_back(std::move(record_));
    }
    void SetAttribute(std::string_view key, FieldValue value) override {
      if (owner_) record_.attributes.emplace_back(std::string(key), Text(value));
    }
    void SetError(std::string_view message) override {
      if (owner_) record_.attributes.emplace_back("error", std::string(message));
    }
    static std::string Text(const FieldValue& v) {
      if (const auto* s = std::get_if<std::string>(&v)) return *s;
      if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
      if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.6g", std::get<double>(v));
      return buf;
    }
    DecisionRecorder* owner_;
    DecisionRecord record_;
  };
  const SimClock& clock_;
  std::vector<DecisionRecord> records_;
};

policy::PolicyConfig WithPredict(policy::PolicyConfig c, bool predict) {
  c.predict = predict;
  return c;
}

// The Deployment as the wait policy needs it: status.replicas reports the READY pods. Until
// ScaleState carries status.readyReplicas (issue 13 item 9), this is how the simulator feeds
// the ready count to PolicyInput::ready_replicas; `messages` and `rate` keep status.replicas
// = pods that exist, as /scale reports it today.
class ReadyScaleTarget final : public kube::ScaleTarget {
 public:
  explicit ReadyScaleTarget(SimDeployment& d) : d_(d) {}
  [[nodiscard]] Result<kube::ScaleState> Get() override {
    auto s = d_.Get();
    if (s) s->status_replicas = d_.ready();
    return s;
  }
  [[nodiscard]] Status SetReplicas(int32_t replicas) override { return d_.SetReplicas(replicas); }

 private:
  SimDeployment& d_;
};

class ReconcilerController final : public Controller {
 public:
  ReconcilerController(const Scenario& s, policy::PolicyKind kind, const SimClock& clock,
                       kafka::MetricSource& source, SimDeployment& deployment, bool predict = false)
      : ready_target_(deployment),
        null_out_(nullptr),
        log_(clock, null_out_, LogLevel::kError, LogFormat::kText),
        tracer_(clock),
        interval_ticks_(s.IntervalTicks()),
        options_{.policy = WithPredict(PolicyConfigFor(s, kind), predict),
                 .topics = "sim",
                 .group = "sim",
                 .namespace_name = "sim",
                 .deployment_name = s.name,
                 .stuck_after = std::chrono::seconds(s.autoscaler.stuck_after_seconds)},
        clock_(clock),
        source_(source),
        target_(kind == policy::PolicyKind::kWait ? static_cast<kube::ScaleTarget&>(ready_target_)
                                                  : deployment) {
    Start();
  }
  void Step(int64_t step, double) override {
    if (step % interval_ticks_ == 0) (void)reconciler_->Tick();
  }
  void Restart(bool keep_learned) override {
    const nlohmann::json kept = reconciler_->SaveLearned();
    Start();
    if (keep_learned) (void)reconciler_->RestoreLearned(kept);
  }
  std::vector<DecisionRecord> TakeDecisions() override { return tracer_.Take(); }

 private:
  void Start() { reconciler_.emplace(options_, clock_, source_, target_, nullptr, log_, tracer_); }
  ReadyScaleTarget ready_target_;
  std::ostream null_out_;
  Logger log_;
  DecisionRecorder tracer_;
  int64_t interval_ticks_;
  controller::ReconcilerOptions options_;
  const SimClock& clock_;
  kafka::MetricSource& source_;
  kube::ScaleTarget& target_;
  std::optional<controller::Reconciler> reconciler_;
};

class KedaHpaController final : public Controller {
 public:
  KedaHpaController(const Scenario& s, kafka::MetricSource& source, kube::ScaleTarget& target)
      : model_(KedaHpaConfig{.lag_threshold = s.autoscaler.messages_per_pod,
                             .min_replicas = s.autoscaler.min_replicas,
                             .max_replicas = s.autoscaler.max_replicas,
                             .partitions = s.partitions},
               source, target, s.keda_phase_seconds) {}
  void Step(int64_t, double now_seconds) override { (void)model_.Step(now_seconds); }

 private:
  KedaHpaModel model_;
};

// The reactive-bound reference (simulator.h): the rate rule fed with the truth of the moment.
class ReactiveBoundController final : public Controller {
 public:
  ReactiveBoundController(const Scenario& s, const Workload& w,
                          const ReactiveBoundSettings& settings, const FifoBacklog& backlog,
                          SimDeployment& deployment)
      : s_(s), w_(w), k_(settings), backlog_(backlog), deployment_(deployment) {}
  void Step(int64_t step, double now) override {
    if (step % s_.IntervalTicks() != 0) return;
    const auto& a = s_.autoscaler;
    const double mu = w_.pod_rate[static_cast<size_t>(step)];
    const double lambda = s_.RateAt(now) * (1.0 + k_.headroom);
    const double b = static_cast<double>(backlog_.size());
    const int32_t cap = std::max(a.min_replicas, std::min(a.max_replicas, s_.partitions));
    auto pods_for = [&](double per_second) {
      return std::clamp(static_cast<int32_t>(std::min(1e6, std::ceil(per_second / mu - 1e-9))),
                        a.min_replicas, cap);
    };
    const int32_t current = deployment_.pods();
    const double capacity_now = mu * std::min(deployment_.ready(), s_.partitions);
    // The backlog when new pods would consume: the shortfall during start-up and the arrivals
    // during the rebalance the change causes.
    const double ahead = b + std::max(0.0, lambda - capacity_now) * s_.pod.startup_seconds +
                         lambda * s_.pod.rebalance_seconds;
    const int32_t up = pods_for(lambda + ahead / k_.drain_seconds);
    const int32_t down = pods_for(lambda + b / k_.drain_seconds);
    recent_.push_back({now, down});
    while (!recent_.empty() && now - recent_.front().first > k_.hold_seconds) recent_.pop_front();
    int32_t target = current;
    if (pods_for(lambda + b / k_.drain_seconds) > current) {
      target = up;
    } else {
      int32_t highest = down;
      for (const auto& r : recent_) highest = std::max(highest, r.second);
      if (highest < current) target = highest;
    }
    if (target != current) {
      (void)deployment_.SetReplicas(target);
      recent_.push_back({now, target});
    }
  }

 private:
  const Scenario& s_;
  const Workload& w_;
  ReactiveBoundSettings k_;
  const FifoBacklog& backlog_;
  SimDeployment& deployment_;
  std::deque<std::pair<double, int32_t>> recent_;
};

}  // namespace

const std::vector<ReactiveBoundSettings>& ReactiveBoundSweep() {
  static const std::vector<ReactiveBoundSettings> kSweep = [] {
    std::vector<ReactiveBoundSettings> v;
    for (double drain : {10.0, 30.0, 60.0}) {
      for (double hold : {30.0, 120.0, 300.0}) {
        for (double headroom : {-0.1, 0.0, 0.2}) v.push_back({drain, hold, headroom});
      }
    }
    return v;
  }();
  return kSweep;
}

size_t PickReactiveBound(const std::vector<Metrics>& sweep, const Metrics& keda) {
  // Within keda-hpa's pod-seconds and scale events, the lowest p99 (then the lowest cost);
  // when none fits, within its pod-seconds; when none fits that either, the cheapest.
  auto better = [](const Metrics& x, const Metrics& y) {
    return x.p99_wait_seconds != y.p99_wait_seconds ? x.p99_wait_seconds < y.p99_wait_seconds
                                                    : x.pod_seconds < y.pod_seconds;
  };
  for (int pass = 0; pass < 2; ++pass) {
    std::optional<size_t> best;
    for (size_t i = 0; i < sweep.size(); ++i) {
      const Metrics& m = sweep[i];
      if (m.pod_seconds > keda.pod_seconds) continue;
      if (pass == 0 && m.scale_events > keda.scale_events) continue;
      if (!best || better(m, sweep[*best])) best = i;
    }
    if (best) return *best;
  }
  size_t cheapest = 0;
  for (size_t i = 1; i < sweep.size(); ++i) {
    if (sweep[i].pod_seconds < sweep[cheapest].pod_seconds) cheapest = i;
  }
  return cheapest;
}

Workload BuildWorkload(const Scenario& s) {
  Workload w;
  const int64_t n = s.HistoryTicks() + s.TickCount();
  const double dt = s.tick_seconds;
  w.arrivals.resize(static_cast<size_t>(n));
  w.pod_rate.resize(static_cast<size_t>(n));
  w.clairvoyant.resize(static_cast<size_t>(n));
  Noise noise(s.seed);
  // The pods' factor (Scenario pod.rate_noise) has a stream of its own, so that the load of a
  // seed is the same with and without it.
  Noise pod_noise(s.seed ^ 0x9e3779b97f4a7c15ULL);
  double pod_factor = 1.0;
  int64_t pod_block = -1;
  double carry = 0;
  const auto& a = s.autoscaler;
  const int32_t cap = std::max(a.min_replicas, std::min(a.max_replicas, s.partitions));
  double oracle_backlog = 0;
  for (int64_t k = 0; k < n; ++k) {
    if (s.pod.rate_noise > 0) {
      const auto block =
          static_cast<int64_t>(std::floor(static_cast<double>(k) * dt / s.pod.rate_noise_seconds));
      if (block != pod_block) {
        pod_block = block;
        pod_factor =
            std::max(0.1, 1.0 + s.pod.rate_noise * std::clamp(pod_noise.Normal(), -3.0, 3.0));
      }
    }
    const double per_pod = s.PodRateAt(static_cast<double>(k) * dt) * pod_factor;
    w.pod_rate[static_cast<size_t>(k)] = per_pod;
    const double per_pod_step = per_pod * dt;
    double factor = 1.0;
    if (s.noise > 0) factor = std::max(0.0, 1.0 + s.noise * std::clamp(noise.Normal(), -3.0, 3.0));
    const double expected = s.RateAt(static_cast<double>(k) * dt) * factor * dt + carry;
    const auto produced = static_cast<int64_t>(std::floor(expected));
    carry = expected - static_cast<double>(produced);
    w.arrivals[static_cast<size_t>(k)] = produced;

    const double work = oracle_backlog + static_cast<double>(produced);
    const auto need =
        static_cast<int32_t>(std::min<double>(std::ceil(work / per_pod_step - 1e-9), 1e6));
    const int32_t pods = std::clamp(need, a.min_replicas, cap);
    oracle_backlog = std::max(0.0, work - std::min(pods, s.partitions) * per_pod_step);
    w.clairvoyant[static_cast<size_t>(k)] = pods;
    if (k >= s.HistoryTicks()) w.clairvoyant_pod_seconds += pods * dt;
  }
  return w;
}

Workload MeasuredPart(const Scenario& s, const Workload& w) {
  const auto from = static_cast<ptrdiff_t>(
      std::min<size_t>(static_cast<size_t>(s.HistoryTicks()), w.arrivals.size()));
  return Workload{.arrivals = {w.arrivals.begin() + from, w.arrivals.end()},
                  .pod_rate = {w.pod_rate.begin() + from, w.pod_rate.end()},
                  .clairvoyant = {w.clairvoyant.begin() + from, w.clairvoyant.end()},
                  .clairvoyant_pod_seconds = w.clairvoyant_pod_seconds};
}

policy::PolicyConfig PolicyConfigFor(const Scenario& s, policy::PolicyKind kind) {
  policy::PolicyConfig c;
  c.kind = kind;
  c.messages_per_pod = s.autoscaler.messages_per_pod;
  c.min_replicas = s.autoscaler.min_replicas;
  c.max_replicas = s.autoscaler.max_replicas;
  c.idle_replicas = s.autoscaler.idle_replicas;
  c.min_ttl = std::chrono::seconds(s.autoscaler.min_ttl_seconds);
  c.message_count_threshold = s.autoscaler.message_count_threshold;
  c.activation_backlog = s.autoscaler.activation_backlog;
  c.exclude_stuck_lag = s.autoscaler.exclude_stuck_lag;
  c.target_lag = std::chrono::seconds(s.autoscaler.target_lag_seconds);
  c.target_wait = std::chrono::seconds(s.autoscaler.target_wait_seconds);
  c.cost_ceiling = s.autoscaler.cost_ceiling;
  if (s.autoscaler.target_drain_seconds) {
    c.target_drain = std::chrono::seconds(*s.autoscaler.target_drain_seconds);
  }
  if (s.autoscaler.scale_down_window_seconds) {
    c.rate_scale_down_window = std::chrono::seconds(*s.autoscaler.scale_down_window_seconds);
  }
  return c;
}

namespace {

// One replay. `settings` is used by reactive-bound only.
Result<PolicyRun> RunOnce(const Scenario& s, const Workload& w, std::string_view policy,
                          const ReactiveBoundSettings& settings) {
  SimClock clock;
  FifoBacklog backlog;
  SimTopic topic(backlog, s.partitions, clock);
  FifoBacklog lane;  // the stuck partition's messages (scenario stuck_partition only)
  const std::optional<StuckEpisode>& stuck = s.stuck_partition;
  if (stuck) topic.SetStuckLane(lane, stuck->partition);
  int64_t produced = 0;
  SimDeployment deployment(s.pod, s.partitions, s.initial_replicas, clock);
  std::unique_ptr<Controller> controller;
  if (policy == "messages") {
    controller = std::make_unique<ReconcilerController>(s, policy::PolicyKind::kMessages, clock,
                                                        topic, deployment);
  } else if (policy == "rate") {
    controller = std::make_unique<ReconcilerController>(s, policy::PolicyKind::kRate, clock, topic,
                                                        deployment);
  } else if (policy == "wait" || policy == "wait-predict") {
    controller = std::make_unique<ReconcilerController>(s, policy::PolicyKind::kWait, clock, topic,
                                                        deployment, policy == "wait-predict");
  } else if (policy == "keda-hpa") {
    controller = std::make_unique<KedaHpaController>(s, topic, deployment);
  } else if (policy == "reactive-bound") {
    controller = std::make_unique<ReactiveBoundController>(s, w, settings, backlog, deployment);
  } else {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "unknown policy \"" + std::string(policy) +
            "\" (known: messages, keda-hpa, rate, wait, wait-predict, reactive-bound)");
  }

  PolicyRun run;
  run.policy = std::string(policy);
  // Steps [0, start) are the history (Scenario::history_cycles): run, not measured.
  const int64_t start = s.HistoryTicks();
  const int64_t n = start + s.TickCount();
  const double dt = s.tick_seconds;
  const double offset = static_cast<double>(start) * dt;
  run.replicas.resize(static_cast<size_t>(n - start));
  run.backlog.resize(static_cast<size_t>(n - start));
  WaitHistogram waits(dt);
  waits.CountFrom(offset - 1e-9);
  Metrics& m = run.metrics;
  int64_t events_before = 0;
  int64_t produced_before = 0;
  double capacity_carry = 0;
  for (int64_t k = 0; k < n; ++k) {
    const double t = static_cast<double>(k) * dt;
    if (k == start) {
      events_before = deployment.scale_events();
      produced_before = produced;
      if (start > 0 && s.restart_after_history != Scenario::Restart::kNone) {
        controller->Restart(s.restart_after_history == Scenario::Restart::kKept);
      }
    }
    clock.Set(t);
    deployment.Advance(t);
    const int64_t arrivals = w.arrivals[static_cast<size_t>(k)];
    if (stuck) {
      // The stuck partition's share of everything produced so far, split P ways.
      auto share = [&](int64_t total) {
        return total / s.partitions + (stuck->partition < total % s.partitions ? 1 : 0);
      };
      const int64_t to_lane = share(produced + arrivals) - share(produced);
      lane.Produce(t, to_lane);
      backlog.Produce(t, arrivals - to_lane);
    } else {
      backlog.Produce(t, arrivals);
    }
    produced += arrivals;
    controller->Step(k, t);
    deployment.Advance(t);  // pods with no startup delay are ready at once
    const double capacity = deployment.Capacity(deployment.ConsumingSeconds(t, t + dt),
                                                w.pod_rate[static_cast<size_t>(k)]) +
                            capacity_carry;
    const auto can = static_cast<int64_t>(std::floor(capacity + 1e-9));
    const bool blocked =
        stuck && t >= offset + stuck->from_seconds && t < offset + stuck->until_seconds;
    const int64_t done =
        stuck ? ConsumeOldestFirst(backlog, blocked ? nullptr : &lane, t + dt, can, &waits)
              : backlog.Consume(t + dt, can, &waits);
    capacity_carry = done == can ? std::max(0.0, capacity - static_cast<double>(can)) : 0.0;

    if (k < start) continue;
    const int64_t size = backlog.size() + lane.size();
    m.max_backlog = std::max(m.max_backlog, size);
    if (size > s.autoscaler.message_count_threshold) m.seconds_above_threshold += dt;
    m.pod_seconds += deployment.pods() * dt;
    run.replicas[static_cast<size_t>(k - start)] = deployment.pods();
    run.backlog[static_cast<size_t>(k - start)] = size;
  }
  backlog.AddPendingWaits(static_cast<double>(n) * dt, waits);
  lane.AddPendingWaits(static_cast<double>(n) * dt, waits);
  m.p50_wait_seconds = waits.Percentile(0.50);
  m.p99_wait_seconds = waits.Percentile(0.99);
  m.max_wait_seconds = waits.Max();
  m.scale_events = deployment.scale_events() - events_before;
  m.clairvoyant_pod_seconds = w.clairvoyant_pod_seconds;
  m.messages = produced - produced_before;
  for (auto& d : controller->TakeDecisions()) {
    if (d.t_seconds < offset - 1e-9) continue;
    d.t_seconds -= offset;
    run.decisions.push_back(std::move(d));
  }
  return run;
}

}  // namespace

Result<PolicyRun> RunPolicy(const Scenario& s, const Workload& w, std::string_view policy) {
  if (policy != "reactive-bound") return RunOnce(s, w, policy, {});
  auto keda = RunOnce(s, w, "keda-hpa", {});
  if (!keda) return keda;
  std::vector<PolicyRun> runs;
  std::vector<Metrics> metrics;
  for (const auto& k : ReactiveBoundSweep()) {
    auto run = RunOnce(s, w, policy, k);
    if (!run) return run;
    metrics.push_back(run->metrics);
    runs.push_back(std::move(*run));
  }
  const size_t best = PickReactiveBound(metrics, keda->metrics);
  const auto& k = ReactiveBoundSweep()[best];
  PolicyRun out = std::move(runs[best]);
  char buf[128];
  std::snprintf(buf, sizeof buf, "drain %.0f s, hold %.0f s, headroom %.0f %%", k.drain_seconds,
                k.hold_seconds, k.headroom * 100);
  out.detail = buf;
  return out;
}

}  // namespace kafka_autoscaler::sim
