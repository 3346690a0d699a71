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
//   - a paused Deployment, a dry run, or a follower (not the leader) decides but never patches;
//   - other writers are detected and never fought (docs/reliability.md, "Other writers"): when
//     spec.replicas differs from what this leader last read or wrote and it did not write it,
//     the tick reports a foreign write (log, metric, one Warning Event per episode, readiness)
//     and holds until the value has been left alone for `other_writer_hold`, then resumes from
//     the value found. An autoscaler on the same Deployment (an HPA, KEDA's HPA) holds for as
//     long as it exists. The writes themselves go through kube::GuardedScaleTarget (range,
//     leadership); a write it fences reports kNotLeader;
//   - stuck partitions (controller/stuck.h) are tracked across ticks here, from successful
//     observations only; each episode is logged once, posted as one Warning Event
//     `StuckPartition` (leader only) naming topic, partition and committed offset, and its lag
//     is passed to Decide (EXCLUDE_STUCK_LAG leaves it out of the scale-up rule).
// Not thread-safe: one thread calls Tick(); copy the returned report to share it.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/result.h"
#include "controller/stuck.h"
#include "controller/tick_tracer.h"
#include "kafka/observation.h"
#include "kafka/time_lag.h"
#include "kube/scale_target.h"
#include "policy/learned_state.h"
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
  // OTHER_WRITER_HOLD_SECONDS (default 300 s, the HPA's default scale-down window): after a
  // foreign write, hold until spec.replicas has been left alone this long. 0: hold only the
  // tick that saw it.
  Duration other_writer_hold = std::chrono::minutes(5);
  // STUCK_AFTER_SECONDS (default 300 s): see controller/stuck.h.
  Duration stuck_after = std::chrono::minutes(5);
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
  kOtherWriter,  // would have scaled; another writer changed the replicas, or an HPA targets it
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
  std::optional<kafka::TimeLag> time_lag;  // per partition, with the observation
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
  // spec.replicas as read differs from what this leader last read or wrote, and it did not
  // write it: {expected, found}. Counted in kafka_autoscaler_foreign_writes_total.
  struct ForeignWrite {
    int32_t expected = 0;
    int32_t found = 0;
  };
  std::optional<ForeignWrite> foreign_write;
  // Non-empty while another writer holds this daemon back (a recent foreign write, another
  // autoscaler on the Deployment): why, for /readyz and logs. Readiness is false meanwhile.
  std::string other_writer;
  // Stuck partitions as of the last successful observation (kept through failed ones).
  std::vector<StuckPartition> stuck;

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

  // What the wait policy has learned (policy/learned_state.h), to keep it across restarts,
  // and putting it back (refused whole, with the field, when it does not fit this target).
  // The target is named by namespace, Deployment, topics and group.
  nlohmann::json SaveLearned() const;
  Status RestoreLearned(const nlohmann::json& saved);
  std::string LearnedTarget() const;

 private:
  std::optional<kafka::Observation> Observe(TickReport& report);
  void Act(TickReport& report, int32_t from, int32_t to, bool fallback);
  // Foreign-write and other-autoscaler bookkeeping on a successful read; fills
  // report.foreign_write and report.other_writer.
  void CheckOtherWriters(TickReport& report, bool may_act);
  // Posts an Event when a recorder is set; a failure is logged as "could not post event" and
  // returned, never fatal to the tick.
  Status PostEvent(kube::EventType type, const std::string& reason, const std::string& message);
  // Logs and posts the episodes that began or ended with this observation.
  void ReportStuck(const StuckReport& stuck, bool may_act);
  // Consumer-group commits: one warning per episode for a commit beyond the end of a partition
  // (per topic/partition, re-armed once it is valid again) and for a group that never
  // committed (re-armed by its first commit). The holds themselves are policy rules.
  void CheckCommits(const kafka::Observation& obs, int32_t current);

  ReconcilerOptions options_;
  const Clock& clock_;
  kafka::MetricSource& source_;
  kube::ScaleTarget& target_;
  kube::EventRecorder* events_;
  Logger& log_;
  TickTracer& tracer_;

  policy::PolicyState state_;
  std::optional<kafka::Observation> previous_;
  kafka::TimeLagTracker time_lag_;  // (time, high watermark) samples per partition
  int32_t consecutive_failures_ = 0;
  StuckTracker stuck_;

  // Other writers (leader only; reset while following or paused).
  std::string known_uid_;                    // the Deployment object known_replicas_ belongs to
  std::optional<int32_t> known_replicas_;    // spec.replicas as last read or written by us
  std::optional<int32_t> unconfirmed_;       // a write whose outcome we did not learn
  std::optional<SteadyTime> foreign_since_;  // start of the current foreign-write episode
  SteadyTime foreign_last_{};                // the latest foreign change seen
  std::string foreign_what_;                 // "from 5 to 8 at ..."
  bool autoscaler_warned_ = false;           // Warning Event posted for the current HPA(s)

  // Commit warnings already logged for the current episode (CheckCommits).
  std::set<std::pair<std::string, int32_t>> invalid_warned_;  // (topic, partition)
  bool uncommitted_warned_ = false;
};

}  // namespace kafka_autoscaler::controller
