#include "sim/simulator.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <ostream>
#include <random>

#include "common/log.h"
#include "controller/reconciler.h"
#include "controller/tick_tracer.h"
#include "sim/keda_hpa.h"
#include "sim/sim_world.h"

namespace kafka_autoscaler::sim {

const std::vector<std::string>& KnownPolicies() {
  static const std::vector<std::string> kNames = {"messages", "keda-hpa", "rate"};
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
};

class ReconcilerController final : public Controller {
 public:
  ReconcilerController(const Scenario& s, policy::PolicyKind kind, const SimClock& clock,
                       kafka::MetricSource& source, kube::ScaleTarget& target)
      : null_out_(nullptr),
        log_(clock, null_out_, LogLevel::kError, LogFormat::kText),
        interval_ticks_(s.IntervalTicks()),
        reconciler_(controller::ReconcilerOptions{.policy = PolicyConfigFor(s, kind),
                                                  .topics = "sim",
                                                  .group = "sim",
                                                  .namespace_name = "sim",
                                                  .deployment_name = s.name},
                    clock, source, target, nullptr, log_, tracer_) {}
  void Step(int64_t step, double) override {
    if (step % interval_ticks_ == 0) (void)reconciler_.Tick();
  }

 private:
  std::ostream null_out_;
  Logger log_;
  controller::NullTickTracer tracer_;
  int64_t interval_ticks_;
  controller::Reconciler reconciler_;
};

class KedaHpaController final : public Controller {
 public:
  KedaHpaController(const Scenario& s, kafka::MetricSource& source, kube::ScaleTarget& target)
      : model_(KedaHpaConfig{.lag_threshold = s.autoscaler.messages_per_pod,
                             .min_replicas = s.autoscaler.min_replicas,
                             .max_replicas = s.autoscaler.max_replicas,
                             .partitions = s.partitions},
               source, target) {}
  void Step(int64_t, double now_seconds) override { (void)model_.Step(now_seconds); }

 private:
  KedaHpaModel model_;
};

}  // namespace

Workload BuildWorkload(const Scenario& s) {
  Workload w;
  const int64_t n = s.TickCount();
  const double dt = s.tick_seconds;
  w.arrivals.resize(static_cast<size_t>(n));
  w.clairvoyant.resize(static_cast<size_t>(n));
  Noise noise(s.seed);
  double carry = 0;
  const auto& a = s.autoscaler;
  const int32_t cap = std::max(a.min_replicas, std::min(a.max_replicas, s.partitions));
  const double per_pod_step = s.pod.messages_per_second * dt;
  double oracle_backlog = 0;
  for (int64_t k = 0; k < n; ++k) {
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
    w.clairvoyant_pod_seconds += pods * dt;
  }
  return w;
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
  if (s.autoscaler.target_drain_seconds) {
    c.target_drain = std::chrono::seconds(*s.autoscaler.target_drain_seconds);
  }
  if (s.autoscaler.scale_down_window_seconds) {
    c.rate_scale_down_window = std::chrono::seconds(*s.autoscaler.scale_down_window_seconds);
  }
  return c;
}

Result<PolicyRun> RunPolicy(const Scenario& s, const Workload& w, std::string_view policy) {
  SimClock clock;
  FifoBacklog backlog;
  SimTopic topic(backlog, s.partitions, clock);
  SimDeployment deployment(s.pod, s.partitions, s.initial_replicas, clock);
  std::unique_ptr<Controller> controller;
  if (policy == "messages") {
    controller = std::make_unique<ReconcilerController>(s, policy::PolicyKind::kMessages, clock,
                                                        topic, deployment);
  } else if (policy == "rate") {
    controller = std::make_unique<ReconcilerController>(s, policy::PolicyKind::kRate, clock, topic,
                                                        deployment);
  } else if (policy == "keda-hpa") {
    controller = std::make_unique<KedaHpaController>(s, topic, deployment);
  } else {
    return MakeError(ErrorCode::kInvalidArgument, "unknown policy \"" + std::string(policy) +
                                                      "\" (known: messages, keda-hpa, rate)");
  }

  PolicyRun run;
  run.policy = std::string(policy);
  const int64_t n = s.TickCount();
  const double dt = s.tick_seconds;
  run.replicas.resize(static_cast<size_t>(n));
  run.backlog.resize(static_cast<size_t>(n));
  WaitHistogram waits(dt);
  Metrics& m = run.metrics;
  double capacity_carry = 0;
  for (int64_t k = 0; k < n; ++k) {
    const double t = static_cast<double>(k) * dt;
    clock.Set(t);
    deployment.Advance(t);
    backlog.Produce(t, w.arrivals[static_cast<size_t>(k)]);
    controller->Step(k, t);
    deployment.Advance(t);  // pods with no startup delay are ready at once
    const double capacity =
        deployment.Capacity(deployment.ConsumingSeconds(t, t + dt)) + capacity_carry;
    const auto can = static_cast<int64_t>(std::floor(capacity + 1e-9));
    const int64_t done = backlog.Consume(t + dt, can, &waits);
    capacity_carry = done == can ? std::max(0.0, capacity - static_cast<double>(can)) : 0.0;

    const int64_t size = backlog.size();
    m.max_backlog = std::max(m.max_backlog, size);
    if (size > s.autoscaler.message_count_threshold) m.seconds_above_threshold += dt;
    m.pod_seconds += deployment.pods() * dt;
    run.replicas[static_cast<size_t>(k)] = deployment.pods();
    run.backlog[static_cast<size_t>(k)] = size;
  }
  backlog.AddPendingWaits(static_cast<double>(n) * dt, waits);
  m.p50_wait_seconds = waits.Percentile(0.50);
  m.p99_wait_seconds = waits.Percentile(0.99);
  m.max_wait_seconds = waits.Max();
  m.scale_events = deployment.scale_events();
  m.clairvoyant_pod_seconds = w.clairvoyant_pod_seconds;
  m.messages = backlog.produced();
  return run;
}

}  // namespace kafka_autoscaler::sim
