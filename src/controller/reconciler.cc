#include "controller/reconciler.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <string>
#include <utility>

namespace kafka_autoscaler::controller {

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kNone: return "none";
    case Action::kScaled: return "scaled";
    case Action::kDryRun: return "dry_run";
    case Action::kPaused: return "paused";
    case Action::kNotLeader: return "not_leader";
    case Action::kFallback: return "fallback";
    case Action::kHeld: return "held";
    case Action::kScaleFailed: return "scale_failed";
    case Action::kOtherWriter: return "other_writer";
  }
  return "none";
}

namespace {

using telemetry::ErrorDomain;

std::string Kind(ErrorDomain domain, const Error& e) {
  return telemetry::ErrorKind(domain, e.code);
}

// The largest time lag the scaling rule sees (TARGET_LAG_SECONDS): with EXCLUDE_STUCK_LAG the
// stuck partitions are left out, as their message lag is, or their growing age would undo it.
double PolicyMaxLagSeconds(const kafka::TimeLag& lag, const std::vector<StuckPartition>& stuck,
                           bool exclude_stuck) {
  if (!exclude_stuck || stuck.empty()) return lag.max_seconds;
  double max_seconds = 0;
  for (const auto& p : lag.partitions) {
    const bool is_stuck = std::any_of(stuck.begin(), stuck.end(), [&](const StuckPartition& s) {
      return s.topic == p.topic && s.partition == p.partition;
    });
    if (!is_stuck) max_seconds = std::max(max_seconds, p.seconds);
  }
  return max_seconds;
}

}  // namespace

Reconciler::Reconciler(ReconcilerOptions options, const Clock& clock, kafka::MetricSource& source,
                       kube::ScaleTarget& target, kube::EventRecorder* events, Logger& log,
                       TickTracer& tracer)
    : options_(std::move(options)),
      clock_(clock),
      source_(source),
      target_(target),
      events_(events),
      log_(log),
      tracer_(tracer),
      stuck_(options_.stuck_after) {}

std::optional<kafka::Observation> Reconciler::Observe(TickReport& report) {
  Result<kafka::Observation> obs = [&] {
    auto span = tracer_.StartSpan(kSpanCheckKafkaHealth, SpanKind::kClient);
    span->SetAttribute(telemetry::kAttrMessagingSystem,
                       std::string(telemetry::kMessagingSystemKafka));
    span->SetAttribute(telemetry::kAttrMessagingDestinationName, options_.topics);
    if (!options_.group.empty()) {
      span->SetAttribute(telemetry::kAttrMessagingConsumerGroupName, options_.group);
    }
    auto r = source_.Fetch();
    if (!r) {
      span->SetError(r.error().message);
      span->SetAttribute(telemetry::kAttrErrorType, Kind(ErrorDomain::kKafka, r.error()));
    }
    return r;
  }();
  if (!obs) {
    report.errors.push_back({Kind(ErrorDomain::kKafka, obs.error()), obs.error()});
    log_.Error("kafka observation failed; holding replicas",
               {{"topic", options_.topics},
                {"group", options_.group},
                {"error_kind", Kind(ErrorDomain::kKafka, obs.error())},
                {"error", obs.error().message}});
    return std::nullopt;
  }
  report.kafka_ok = true;
  {
    auto span = tracer_.StartSpan(kSpanGetTopicLength, SpanKind::kInternal);
    span->SetAttribute(telemetry::kAttrMessagingDestinationName, options_.topics);
    span->SetAttribute(telemetry::kAttrBacklog, obs->backlog);
    span->SetAttribute(telemetry::kAttrPartitions, int64_t{obs->partition_count});
    span->SetAttribute(telemetry::kAttrBacklogMode,
                       std::string(obs->group_mode ? "group_lag" : "topic_messages"));
    report.throughput = policy::ComputeThroughput(previous_ ? &*previous_ : nullptr, *obs);
    if (report.throughput.produced_per_minute) {
      span->SetAttribute(telemetry::kAttrProducedPerMinute, *report.throughput.produced_per_minute);
    }
    if (report.throughput.consumed_per_minute) {
      span->SetAttribute(telemetry::kAttrConsumedPerMinute, *report.throughput.consumed_per_minute);
    }
  }
  return std::move(*obs);
}

TickReport Reconciler::Tick(bool may_act) {
  TickReport report;
  report.started = clock_.Now();
  report.wall_time = clock_.WallNow();
  auto root = tracer_.StartSpan(kSpanReconcile, SpanKind::kInternal);
  root->SetAttribute(telemetry::kAttrMessagingSystem,
                     std::string(telemetry::kMessagingSystemKafka));
  root->SetAttribute(telemetry::kAttrMessagingDestinationName, options_.topics);
  if (!options_.group.empty())
    root->SetAttribute(telemetry::kAttrMessagingConsumerGroupName, options_.group);
  root->SetAttribute(telemetry::kAttrK8sNamespaceName, options_.namespace_name);
  root->SetAttribute(telemetry::kAttrK8sDeploymentName, options_.deployment_name);

  report.observation = Observe(report);

  {
    auto span = tracer_.StartSpan(kSpanCheckKubernetesHealth, SpanKind::kClient);
    span->SetAttribute(telemetry::kAttrK8sNamespaceName, options_.namespace_name);
    span->SetAttribute(telemetry::kAttrK8sDeploymentName, options_.deployment_name);
    auto scale = target_.Get();
    if (scale) {
      report.kube_ok = true;
      report.scale = *scale;
      report.replicas_after = scale->spec_replicas;
      span->SetAttribute(telemetry::kAttrCurrentReplicas, int64_t{scale->spec_replicas});
      span->SetAttribute(telemetry::kAttrStatusReplicas, int64_t{scale->status_replicas});
      span->SetAttribute(telemetry::kAttrPaused, scale->paused);
      CheckOtherWriters(report, may_act);
    } else {
      span->SetError(scale.error().message);
      span->SetAttribute(telemetry::kAttrErrorType, Kind(ErrorDomain::kKube, scale.error()));
      report.errors.push_back({Kind(ErrorDomain::kKube, scale.error()), scale.error()});
      log_.Error("kubernetes read failed; holding replicas",
                 {{"namespace", options_.namespace_name},
                  {"deployment", options_.deployment_name},
                  {"error_kind", Kind(ErrorDomain::kKube, scale.error())},
                  {"error", scale.error().message}});
    }
  }

  const auto& pc = options_.policy;
  report.stuck = stuck_.Current();  // a failed observation changes nothing
  if (!report.observation) {
    report.consecutive_failures = ++consecutive_failures_;
    report.action = Action::kHeld;
    policy::ForgetUnobserved(state_);
    root->SetAttribute(telemetry::kAttrConsecutiveFailures, int64_t{consecutive_failures_});
    const bool fallback_due =
        options_.fallback_replicas && consecutive_failures_ >= options_.fallback_after_failures;
    const bool fallback_moves =
        report.scale && report.scale->spec_replicas != options_.fallback_replicas.value_or(-1) &&
        (!options_.fallback_if_higher || options_.fallback_replicas > report.scale->spec_replicas);
    if (fallback_due && fallback_moves) {
      const int32_t from = report.scale->spec_replicas;
      const int32_t to = *options_.fallback_replicas;
      if (report.scale->paused) {
        report.action = Action::kPaused;
      } else if (!may_act) {
        report.action = Action::kNotLeader;
      } else if (!report.other_writer.empty()) {
        report.action = Action::kOtherWriter;
      } else if (options_.dry_run) {
        report.action = Action::kDryRun;
        log_.Warn("dry run: would apply fallback replicas",
                  {{"deployment", options_.deployment_name}, {"from", int64_t{from}},
                   {"to", int64_t{to}}, {"failures", int64_t{consecutive_failures_}}});
      } else {
        Act(report, from, to, /*fallback=*/true);
      }
    }
    root->SetAttribute(telemetry::kAttrAction, std::string(ActionName(report.action)));
    root->SetError(report.errors.front().error.message);
    report.duration = clock_.Now() - report.started;
    return report;
  }
  consecutive_failures_ = 0;
  const kafka::Observation& obs = *report.observation;
  previous_ = obs;
  report.time_lag = time_lag_.Update(obs);
  root->SetAttribute(telemetry::kAttrLagSeconds, report.time_lag->max_seconds);
  root->SetAttribute(telemetry::kAttrLagSecondsLowerBound, report.time_lag->max_lower_bound);
  root->SetAttribute(telemetry::kAttrBacklog, obs.backlog);
  root->SetAttribute(telemetry::kAttrPartitions, int64_t{obs.partition_count});
  const StuckReport stuck = stuck_.Observe(obs, clock_.Now());
  report.stuck = stuck.stuck;
  ReportStuck(stuck, may_act);
  root->SetAttribute(telemetry::kAttrStuckPartitions, static_cast<int64_t>(stuck.stuck.size()));
  if (!stuck.stuck.empty()) {
    std::string list;
    for (const auto& s : stuck.stuck) {
      list += (list.empty() ? "" : ",") + s.topic + "/" + std::to_string(s.partition) + "@" +
              std::to_string(s.committed);
    }
    root->SetAttribute(telemetry::kAttrStuckLag, stuck.stuck_lag);
    root->SetAttribute(telemetry::kAttrStuckList, list);
    root->SetAttribute(telemetry::kAttrStuckExcluded, pc.exclude_stuck_lag);
  }

  if (!report.scale) {
    report.action = Action::kHeld;
    root->SetAttribute(telemetry::kAttrAction, std::string(ActionName(report.action)));
    root->SetError(report.errors.front().error.message);
    report.duration = clock_.Now() - report.started;
    return report;
  }

  const policy::PolicyInput input{.now = clock_.Now(),
                                  .backlog = obs.backlog,
                                  .partition_count = obs.partition_count,
                                  .current_replicas = report.scale->spec_replicas,
                                  .ready_replicas = report.scale->ready_replicas,
                                  .produced_per_minute = report.throughput.produced_per_minute,
                                  .consumed_per_minute = report.throughput.consumed_per_minute,
                                  .partitions_with_lag = kafka::PartitionsWithLag(obs),
                                  .stuck_lag = stuck.stuck_lag,
                                  .stuck_partitions = static_cast<int32_t>(stuck.stuck.size()),
                                  .max_lag_seconds = PolicyMaxLagSeconds(
                                      *report.time_lag, stuck.stuck, pc.exclude_stuck_lag),
                                  .invalid_commit_partitions = kafka::InvalidCommitPartitions(obs),
                                  .no_commits = kafka::NoPartitionCommitted(obs)};
  CheckCommits(obs, input.current_replicas);
  policy::Decision d = policy::Decide(input, state_, pc);
  state_ = d.next_state;
  report.decision = d;
  const std::string reason(policy::ReasonName(d.reason));
  root->SetAttribute(telemetry::kAttrCurrentReplicas, int64_t{input.current_replicas});
  root->SetAttribute(telemetry::kAttrDesiredReplicas, int64_t{d.desired});
  root->SetAttribute(telemetry::kAttrRecommendedReplicas, d.recommended_raw);
  root->SetAttribute(telemetry::kAttrReason, reason);
  root->SetAttribute(telemetry::kAttrPolicy, std::string(policy::PolicyKindName(pc.kind)));
  if (input.partitions_with_lag) {
    root->SetAttribute(telemetry::kAttrPartitionsWithLag, int64_t{*input.partitions_with_lag});
  }
  if (pc.target_lag.count() > 0) {
    root->SetAttribute(telemetry::kAttrLagReplicas, int64_t{d.lag_replicas});
  }
  if (obs.group_mode) {  // why an invalid_commit / uncommitted hold held
    root->SetAttribute(telemetry::kAttrPartitionsInvalidCommit,
                       int64_t{input.invalid_commit_partitions});
    root->SetAttribute(telemetry::kAttrPartitionsUncommitted,
                       int64_t{kafka::UncommittedPartitions(obs)});
  }
  if (d.wait) {  // SCALING_POLICY=wait: what its model concluded
    root->SetAttribute(telemetry::kAttrWaitPredictedPeakSeconds, d.wait->predicted_peak_wait_s);
    root->SetAttribute(telemetry::kAttrWaitArrivalRate, d.wait->lambda);
    root->SetAttribute(telemetry::kAttrWaitArrivalSigma, d.wait->sigma);
    root->SetAttribute(telemetry::kAttrWaitPerPodRate, d.wait->mu);
    root->SetAttribute(telemetry::kAttrWaitPerPodRateNoise, d.wait->mu_sigma);
    root->SetAttribute(telemetry::kAttrWaitStartupSeconds, d.wait->startup_s);
    root->SetAttribute(telemetry::kAttrWaitRebalanceSeconds, d.wait->rebalance_s);
    root->SetAttribute(telemetry::kAttrWaitWhy, std::string(d.wait->why));
    if (d.wait->ceiling) {
      root->SetAttribute(telemetry::kAttrWaitLagRuleReplicas, int64_t{d.wait->lag_rule_replicas});
      root->SetAttribute(telemetry::kAttrWaitLagRulePodSeconds, d.wait->lag_rule_pod_seconds);
      root->SetAttribute(telemetry::kAttrWaitPodSeconds, d.wait->pod_seconds);
      root->SetAttribute(telemetry::kAttrWaitLagRuleStartupSeconds, d.wait->lag_rule_startup_s);
      root->SetAttribute(telemetry::kAttrWaitLagRuleRebalanceSeconds, d.wait->lag_rule_rebalance_s);
      root->SetAttribute(telemetry::kAttrWaitLagRulePhaseSeconds, d.wait->lag_rule_phase_s);
    }
  }

  if (d.warning) {
    log_.Warn("backlog above threshold",
              {{"topic", options_.topics},
               {"backlog", d.warning->backlog},
               {"threshold", d.warning->threshold},
               {"recommended_pods", d.warning->recommended_pods},
               {"max_replicas", int64_t{pc.max_replicas}},
               {"held_back_by_max", d.warning->held_back_by_max}});
  }

  const int32_t from = input.current_replicas;
  if (!d.scale) {
    report.action = Action::kNone;
    log_.Debug("no scaling needed", {{"deployment", options_.deployment_name},
                                     {"backlog", obs.backlog},
                                     {"replicas", int64_t{from}},
                                     {"reason", reason}});
  } else if (report.scale->paused) {
    report.action = Action::kPaused;
    log_.Info("deployment paused by annotation; not scaling",
              {{"deployment", options_.deployment_name}, {"from", int64_t{from}},
               {"desired", int64_t{d.desired}}, {"reason", reason}});
  } else if (!may_act) {
    report.action = Action::kNotLeader;
    log_.Debug("not the leader; not scaling",
               {{"deployment", options_.deployment_name}, {"desired", int64_t{d.desired}}});
  } else if (!report.other_writer.empty()) {
    report.action = Action::kOtherWriter;
    log_.Info("another writer is active; not scaling", {{"deployment", options_.deployment_name},
                                                        {"from", int64_t{from}},
                                                        {"desired", int64_t{d.desired}},
                                                        {"why", report.other_writer}});
  } else if (options_.dry_run) {
    report.action = Action::kDryRun;
    log_.Info("dry run: would scale deployment",
              {{"deployment", options_.deployment_name}, {"from", int64_t{from}},
               {"to", int64_t{d.desired}}, {"backlog", obs.backlog}, {"reason", reason}});
  } else {
    Act(report, from, d.desired, /*fallback=*/false);
  }
  root->SetAttribute(telemetry::kAttrAction, std::string(ActionName(report.action)));
  if (!report.errors.empty()) root->SetError(report.errors.front().error.message);
  report.duration = clock_.Now() - report.started;
  return report;
}

void Reconciler::Act(TickReport& report, int32_t from, int32_t to, bool fallback) {
  auto span = tracer_.StartSpan(kSpanScaleDeployment, SpanKind::kClient);
  span->SetAttribute(telemetry::kAttrK8sNamespaceName, options_.namespace_name);
  span->SetAttribute(telemetry::kAttrK8sDeploymentName, options_.deployment_name);
  span->SetAttribute(telemetry::kAttrFromReplicas, int64_t{from});
  span->SetAttribute(telemetry::kAttrToReplicas, int64_t{to});
  const int64_t backlog = report.observation ? report.observation->backlog : -1;
  const int64_t partitions = report.observation ? report.observation->partition_count : -1;
  const std::string reason =
      fallback ? "fallback"
               : std::string(policy::ReasonName(report.decision ? report.decision->reason
                                                                : policy::Reason::kBacklog));
  // The range and leadership checks live in the target's decorator (kube::GuardedScaleTarget).
  Status status = target_.SetReplicas(to);
  if (!status && status.error().code == ErrorCode::kFailedPrecondition) {
    report.action = Action::kNotLeader;  // fenced: deposed mid-tick, or shutting down
    span->SetAttribute("kafka_autoscaler.fenced", true);
    log_.Info("not the leader any more, or stopping; not scaling",
              {{"deployment", options_.deployment_name},
               {"from", int64_t{from}},
               {"to", int64_t{to}},
               {"why", status.error().message}});
    return;
  }
  if (!status) {
    unconfirmed_ = to;  // a timed-out write may still have landed: not a foreign write then
    report.action = Action::kScaleFailed;
    report.errors.push_back({Kind(ErrorDomain::kKube, status.error()), status.error()});
    span->SetError(status.error().message);
    span->SetAttribute(telemetry::kAttrErrorType, Kind(ErrorDomain::kKube, status.error()));
    log_.Error("scaling failed", {{"deployment", options_.deployment_name},
                                  {"namespace", options_.namespace_name},
                                  {"from", int64_t{from}},
                                  {"to", int64_t{to}},
                                  {"error_kind", Kind(ErrorDomain::kKube, status.error())},
                                  {"error", status.error().message}});
    if (events_ != nullptr) {
      (void)events_->Record(kube::EventType::kWarning, "ScaleFailed",
                            "from " + std::to_string(from) + " to " + std::to_string(to) + ": " +
                                status.error().message);
    }
    return;
  }
  report.action = fallback ? Action::kFallback : Action::kScaled;
  report.replicas_after = to;
  known_replicas_ = to;
  std::string message = "from " + std::to_string(from) + " to " + std::to_string(to) + ": ";
  if (fallback) {
    message += std::to_string(report.consecutive_failures) + " failed observations in a row";
  } else {
    message += "backlog " + std::to_string(backlog) + " over " + std::to_string(partitions) +
               " partitions";
  }
  Fields fields = {{"deployment", options_.deployment_name},
                   {"namespace", options_.namespace_name},
                   {"topic", options_.topics},
                   {"from", int64_t{from}},
                   {"to", int64_t{to}},
                   {"backlog", backlog},
                   {"partitions", partitions},
                   {"lag_seconds", report.time_lag ? report.time_lag->max_seconds : 0.0},
                   {"reason", reason}};
  // SCALING_POLICY=wait: what its model concluded, as on the reconcile span, so that the log
  // line and the Event (kubectl describe) say why without a trace backend.
  const auto& wait = report.decision ? report.decision->wait : std::nullopt;
  if (!fallback && wait) {
    const std::string why(wait->why);
    fields.push_back({"why", why});
    fields.push_back({"predicted_peak_wait_seconds", wait->predicted_peak_wait_s});
    fields.push_back({"arrival_rate", wait->lambda});
    fields.push_back({"per_pod_rate", wait->mu});
    fields.push_back({"startup_seconds", wait->startup_s});
    char buf[200];
    if (wait->mu > 0) {
      std::snprintf(buf, sizeof buf,
                    "; wait policy: %s (predicted peak wait %.0f s at replicas=%d; arrivals "
                    "%.1f msg/s, one pod %.1f msg/s, start-up %.0f s)",
                    why.c_str(), wait->predicted_peak_wait_s, from, wait->lambda, wait->mu,
                    wait->startup_s);
    } else {
      std::snprintf(buf, sizeof buf, "; wait policy: %s (one pod's rate not measured yet)",
                    why.c_str());
    }
    message += buf;
    if (why == "cost_ceiling") {
      fields.push_back({"lag_rule_replicas", int64_t{wait->lag_rule_replicas}});
      fields.push_back({"lag_rule_pod_seconds", wait->lag_rule_pod_seconds});
      fields.push_back({"pod_seconds", wait->pod_seconds});
      std::snprintf(buf, sizeof buf,
                    "; held to COST_CEILING: %.0f pod-seconds spent against the lag rule's %.0f "
                    "(its replica count %d)",
                    wait->pod_seconds, wait->lag_rule_pod_seconds, wait->lag_rule_replicas);
      message += buf;
    }
  }
  log_.Info(fallback ? "applied fallback replicas" : "scaled deployment", std::move(fields));
  const char* event_reason = fallback ? "FallbackActive" : (to > from ? "ScaledUp" : "ScaledDown");
  if (Status ev = PostEvent(fallback ? kube::EventType::kWarning : kube::EventType::kNormal,
                            event_reason, message);
      !ev) {
    report.errors.push_back({Kind(ErrorDomain::kEvent, ev.error()), ev.error()});
  }
}

Status Reconciler::PostEvent(kube::EventType type, const std::string& reason,
                             const std::string& message) {
  if (events_ == nullptr) return OkStatus();
  Status ev = events_->Record(type, reason, message);
  if (!ev) log_.Warn("could not post event", {{"reason", reason}, {"error", ev.error().message}});
  return ev;
}

void Reconciler::ReportStuck(const StuckReport& stuck, bool may_act) {
  const int64_t after_s =
      std::chrono::duration_cast<std::chrono::seconds>(options_.stuck_after).count();
  for (const StuckPartition& s : stuck.started) {
    const int64_t for_s =
        std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - s.since).count();
    log_.Warn("partition stuck", {{"topic", s.topic},
                                  {"partition", int64_t{s.partition}},
                                  {"group", options_.group},
                                  {"committed", s.committed},
                                  {"lag", s.lag},
                                  {"stuck_seconds", for_s},
                                  {"stuck_after_seconds", after_s},
                                  {"excluded", options_.policy.exclude_stuck_lag}});
    if (!may_act) continue;  // the leader posts, once per episode
    const std::string message =
        "partition " + s.topic + "/" + std::to_string(s.partition) + " of group " + options_.group +
        " stuck at committed offset " + std::to_string(s.committed) + " for " +
        std::to_string(for_s) + " s with lag " + std::to_string(s.lag) +
        " while other partitions advance" +
        (options_.policy.exclude_stuck_lag ? "; its lag is left out of scaling (EXCLUDE_STUCK_LAG)"
                                           : "");
    (void)PostEvent(kube::EventType::kWarning, "StuckPartition", message);
  }
  for (const StuckPartition& s : stuck.ended) {
    log_.Info("partition no longer stuck", {{"topic", s.topic},
                                            {"partition", int64_t{s.partition}},
                                            {"group", options_.group},
                                            {"committed", s.committed}});
  }
}

void Reconciler::CheckCommits(const kafka::Observation& obs, int32_t current) {
  std::set<std::pair<std::string, int32_t>> invalid;
  for (const auto& p : obs.partitions) {
    if (!obs.group_mode || !kafka::IsInvalidCommit(p.high, p.committed)) continue;
    invalid.insert({p.topic, p.partition});
    if (invalid_warned_.count({p.topic, p.partition}) != 0) continue;
    log_.Warn("committed offset beyond the end of the partition",
              {{"topic", p.topic},
               {"partition", int64_t{p.partition}},
               {"group", options_.group},
               {"committed", *p.committed},
               {"high", p.high},
               {"lag", p.lag},
               {"why", std::string("topic recreated or offsets reset past the end: the offset "
                                   "reset policy counts the partition, and the Deployment "
                                   "never goes idle until the commit is valid again")}});
  }
  invalid_warned_ = std::move(invalid);  // re-armed for partitions whose commit is valid again

  if (!kafka::NoPartitionCommitted(obs)) {
    uncommitted_warned_ = false;
    return;
  }
  if (uncommitted_warned_) return;
  uncommitted_warned_ = true;
  const auto& pc = options_.policy;
  log_.Warn(
      "consumer group has no committed offset",
      {{"group", options_.group},
       {"topic", options_.topics},
       {"partitions", int64_t{obs.partition_count}},
       {"backlog", obs.backlog},
       {"replicas", int64_t{current}},
       {"why", pc.scale_on_uncommitted
                   ? std::string("SCALE_ON_UNCOMMITTED=true: scaling on the offset reset "
                                 "policy's lag")
                   : "holding at MIN_REPLICAS (" + std::to_string(std::max(pc.min_replicas, 1)) +
                         " while the topic holds messages) until the group's first "
                         "commit; SCALE_ON_UNCOMMITTED=true scales on the offset reset "
                         "policy's lag instead"}});
}

void Reconciler::CheckOtherWriters(TickReport& report, bool may_act) {
  const kube::ScaleState& scale = *report.scale;
  const SteadyTime now = clock_.Now();
  const int32_t found = scale.spec_replicas;
  if (scale.uid != known_uid_) {
    // A new object (first read, or the Deployment was deleted and recreated): nothing to
    // compare with; its replicas are adopted, not a foreign write.
    known_uid_ = scale.uid;
    known_replicas_.reset();
    unconfirmed_.reset();
    foreign_since_.reset();
  }
  const std::string hold_seconds = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(options_.other_writer_hold).count());
  if (!may_act || scale.paused) {
    // A follower sees the leader's writes, and a paused Deployment belongs to a person.
    known_replicas_.reset();
    unconfirmed_.reset();
    foreign_since_.reset();
  } else {
    if (known_replicas_ && found != *known_replicas_ && !(unconfirmed_ && found == *unconfirmed_)) {
      report.foreign_write = TickReport::ForeignWrite{*known_replicas_, found};
      foreign_what_ = "spec.replicas changed from " + std::to_string(*known_replicas_) + " to " +
                      std::to_string(found) + " by another writer";
      foreign_last_ = now;
      const bool new_episode = !foreign_since_;
      if (new_episode) foreign_since_ = now;
      log_.Warn("replicas changed by another writer", {{"deployment", options_.deployment_name},
                                                       {"namespace", options_.namespace_name},
                                                       {"expected", int64_t{*known_replicas_}},
                                                       {"found", int64_t{found}},
                                                       {"hold_seconds", hold_seconds}});
      if (new_episode) {
        (void)PostEvent(kube::EventType::kWarning, "OtherWriter",
                        foreign_what_ + "; kafka-autoscaler holds until it is left alone for " +
                            hold_seconds + " s (annotate kafka-autoscaler/paused=true to keep it)");
      }
    }
    known_replicas_ = found;
    unconfirmed_.reset();
    if (foreign_since_ && !report.foreign_write &&
        now - foreign_last_ >= options_.other_writer_hold) {
      log_.Info("replicas left alone by other writers; scaling again",
                {{"deployment", options_.deployment_name}, {"replicas", int64_t{found}}});
      foreign_since_.reset();
    }
    if (foreign_since_) {
      report.other_writer =
          foreign_what_ + "; holding until it is left alone for " + hold_seconds + " s";
    }
  }
  if (scale.other_autoscalers.empty()) {
    autoscaler_warned_ = false;
    return;
  }
  std::string names;
  for (const auto& a : scale.other_autoscalers) names += (names.empty() ? "" : ", ") + a;
  const std::string what =
      names + " also scales this Deployment; not scaling (remove one of the two autoscalers)";
  report.other_writer = report.other_writer.empty() ? what : report.other_writer + "; " + what;
  if (autoscaler_warned_) return;
  autoscaler_warned_ = true;
  log_.Warn("another autoscaler targets the deployment; not scaling",
            {{"deployment", options_.deployment_name},
             {"namespace", options_.namespace_name},
             {"autoscalers", names}});
  (void)PostEvent(kube::EventType::kWarning, "OtherAutoscaler", what);
}

std::string Reconciler::LearnedTarget() const {
  return options_.namespace_name + "/" + options_.deployment_name + " topics=" + options_.topics +
         " group=" + options_.group;
}

nlohmann::json Reconciler::SaveLearned() const {
  return policy::SaveLearned(state_.wait, LearnedTarget(), clock_.Now(), clock_.WallNow());
}

Status Reconciler::RestoreLearned(const nlohmann::json& saved) {
  return policy::RestoreLearned(saved, LearnedTarget(), clock_.Now(), clock_.WallNow(),
                                state_.wait);
}

}  // namespace kafka_autoscaler::controller
