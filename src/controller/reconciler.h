// Reconciler: one reconcile tick, observe → decide → act, shared by the daemon, `demo` and
// `simulate`. It holds what must survive between ticks (the policy state, the previous
// observation for throughput, the count of consecutive failed observations) and nothing else.
//
// Tick() re-reads Kafka and the Deployment every time and returns a TickReport describing
// everything it saw and did; retries, backoff, timing and leadership live in the loop around it
// (controller/loop.h). Invariants kept here:
//   - a failed observation never scales (it holds, or applies FALLBACK_REPLICAS after
//     FALLBACK_AFTER_FAILURES consecutive failures; under FALLBACK_MODE=ifHigher only upwards),
//     and what was observed before it no longer counts towards idle or a scale-down
//     (policy::ForgetUnobserved);
//   - replicas are only ever set within [IDLE_REPLICAS, MAX_REPLICAS];
//   - a paused Deployment, a dry run, or a follower (not the leader) decides but never patches.
// Not thread-safe: one thread calls Tick(); copy the returned report to share it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/result.h"
#include "controller/tick_tracer.h"
#include "kafka/observation.h"
#include "kube/scale_target.h"
#include "policy/policy.h"
#include "policy/throughput.h"

namespace kafka_autoscaler::controller {

struct ReconcilerOptions {
  policy::PolicyConfig policy;
  std::optional<int32_t> fallback_replicas;  // FALLBACK_REPLICAS; unset = hold on failures
  int32_t fallback_after_failures = 3;       // FALLBACK_AFTER_FAILURES
  // FALLBACK_MODE: true (ifHigher, default) applies the fallback only when it is above the
  // current count, like KEDA's currentReplicasIfHigher; false (static) sets it either way.
  bool fallback_if_higher = true;
  bool dry_run = false;                      // DRY_RUN
  // For logs, spans and events.
  std::string topics;  // comma-joined KAFKA_TOPIC
  std::string group;   // KAFKA_CONSUMER_GROUP, empty when unset
  std::string namespace_name;
  std::string deployment_name;
};

enum class Action {
  kNone,         // desired == current
  kScaled,       // replicas patched
  kDryRun,       // would have scaled; DRY_RUN
  kPaused,       // would have scaled; annotation kafka-autoscaler/paused
  kNotLeader,    // would have scaled; another instance holds the lease
  kFallback,     // failed observations: FALLBACK_REPLICAS applied
  kHeld,         // failed observation or Kubernetes read: nothing changed
  kScaleFailed,  // the patch was refused; nothing changed
};
std::string_view ActionName(Action action);

struct TickReport {
  WallTime wall_time;
  SteadyTime started;
  Duration duration{};
  bool kafka_ok = false;
  bool kube_ok = false;
  std::optional<kafka::Observation> observation;
  policy::Throughput throughput;
  std::optional<kube::ScaleState> scale;  // as read before acting
  std::optional<policy::Decision> decision;
  Action action = Action::kNone;
  int32_t replicas_after = -1;            // spec.replicas after the tick; -1 when unknown
  int32_t consecutive_failures = 0;       // failed observations in a row, including this one
  // Errors of this tick, each with its kind ("kafka_timeout", "kube_conflict", ...).
  struct KindedError {
    std::string kind;
    Error error;
  };
  std::vector<KindedError> errors;

  bool ok() const { return errors.empty(); }
};

class Reconciler {
 public:
  // All references must outlive the Reconciler. `events` may be null (no Events posted).
  Reconciler(ReconcilerOptions options, const Clock& clock, kafka::MetricSource& source,
             kube::ScaleTarget& target, kube::EventRecorder* events, Logger& log,
             TickTracer& tracer);

  // One tick. `may_act` is false for a follower under leader election.
  TickReport Tick(bool may_act = true);

  const ReconcilerOptions& options() const { return options_; }

 private:
  std::optional<kafka::Observation> Observe(TickReport& report);
  void Act(TickReport& report, int32_t from, int32_t to, bool fallback);

  ReconcilerOptions options_;
  const Clock& clock_;
  kafka::MetricSource& source_;
  kube::ScaleTarget& target_;
  kube::EventRecorder* events_;
  Logger& log_;
  TickTracer& tracer_;

  policy::PolicyState state_;
  std::optional<kafka::Observation> previous_;
  int32_t consecutive_failures_ = 0;
};

}  // namespace kafka_autoscaler::controller
