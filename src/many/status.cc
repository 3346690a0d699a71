#include "many/status.h"

#include <string>
#include <utility>

#include "kube/deployment_target.h"
#include "policy/policy.h"

namespace kafka_autoscaler::many {
namespace {

using nlohmann::json;

struct Condition {
  std::string type;
  bool status = false;
  std::optional<bool> known = true;  // nullopt: "Unknown"
  std::string reason;
  std::string message;
};

Condition Cond(std::string type, bool status, std::string reason, std::string message) {
  return {std::move(type), status, true, std::move(reason), std::move(message)};
}

std::string Plural(int64_t n, const std::string& what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// The first error of a domain in the report ("kafka_..." or "kube_..." kinds).
const Error* FirstError(const controller::TickReport& r, const std::string& prefix) {
  for (const auto& e : r.errors) {
    if (e.kind.rfind(prefix, 0) == 0) return &e.error;
  }
  return r.errors.empty() ? nullptr : &r.errors.front().error;
}

std::string WhatHappened(const controller::TickReport& r) {
  using controller::Action;
  // Only what stays true while nothing changes (a scale itself shows in lastScaleTime): a
  // steady target must compute the same status tick after tick.
  const int32_t desired = r.decision ? r.decision->desired : r.replicas_after;
  switch (r.action) {
    case Action::kDryRun:
      return "dry run: would scale to " + std::to_string(desired);
    case Action::kPaused:
      return "paused: would scale to " + std::to_string(desired);
    case Action::kNotLeader:
      return "not the leader: would scale to " + std::to_string(desired);
    default:
      return Plural(r.replicas_after, "replica");
  }
}

Condition Ready(const StatusInput& in) {
  if (in.refusal) return Cond("Ready", false, in.refusal->reason, in.refusal->message);
  const controller::TickReport& r = *in.report;
  if (!r.kafka_ok) {
    const Error* e = FirstError(r, "kafka");
    return Cond("Ready", false, "KafkaError",
                "cannot observe Kafka: " + (e ? e->message : std::string("unknown error")));
  }
  if (!r.kube_ok) {
    const Error* e = FirstError(r, "kube");
    return Cond("Ready", false, "TargetError",
                "cannot read the target: " + (e ? e->message : std::string("unknown error")));
  }
  if (r.action == controller::Action::kScaleFailed) {
    const Error* e = FirstError(r, "kube");
    return Cond("Ready", false, "ScaleFailed",
                "the scale was refused: " + (e ? e->message : std::string("unknown error")));
  }
  if (!r.other_writer.empty()) return Cond("Ready", false, "OtherWriter", r.other_writer);
  const auto& obs = *r.observation;
  return Cond("Ready", true, "Reconciled",
              "backlog " + std::to_string(obs.backlog) + " over " +
                  Plural(obs.partition_count, "partition") + "; " + WhatHappened(r));
}

Condition Active(const StatusInput& in) {
  if (in.refusal || !in.report->observation) {
    Condition c = Cond("Active", false, "NotObserved", "no current observation of Kafka");
    c.known = std::nullopt;
    return c;
  }
  const auto& obs = *in.report->observation;
  if (obs.backlog > 0) {
    return Cond("Active", true, "BacklogPresent",
                Plural(obs.backlog, "message") + " waiting over " +
                    Plural(obs.partition_count, "partition"));
  }
  return Cond("Active", false, "NoBacklog", "no message is waiting");
}

Condition Fallback(const StatusInput& in) {
  if (in.refusal) return Cond("Fallback", false, "NotRunning", "the target is not reconciled");
  const controller::TickReport& r = *in.report;
  const int32_t after = in.options->fallback_after_failures;
  if (r.consecutive_failures == 0) {
    return Cond("Fallback", false, "ObservationsSucceeding", "Kafka observations succeed");
  }
  const std::string failing = Plural(r.consecutive_failures, "failed observation") + " in a row";
  if (in.options->fallback_replicas && r.consecutive_failures >= after) {
    return Cond("Fallback", true, "FallbackActive",
                failing + "; fallbackReplicas " + std::to_string(*in.options->fallback_replicas) +
                    " applies");
  }
  return Cond("Fallback", false, "ObservationsFailing",
              failing + (in.options->fallback_replicas ? "; fallback after " + std::to_string(after)
                                                       : "; no fallbackReplicas set, holding"));
}

Condition Paused(const StatusInput& in) {
  if (in.spec_paused) {
    return Cond("Paused", true, "SpecPaused", "spec.paused is true: observing, never scaling");
  }
  if (!in.refusal && in.report->scale && in.report->scale->paused) {
    return Cond("Paused", true, "AnnotationPaused",
                std::string("the target has the annotation ") + kube::kPausedAnnotation +
                    "=true: observing, never scaling");
  }
  return Cond("Paused", false, "NotPaused", "scaling is not paused");
}

json ConditionJson(const Condition& c, const json& previous_status, WallTime now,
                   int64_t generation) {
  const std::string status = !c.known ? "Unknown" : (c.status ? "True" : "False");
  const json before = FindCondition(previous_status, c.type);
  std::string since = kube::FormatTime(now);
  if (before.is_object() && before.value("status", "") == status &&
      before.contains("lastTransitionTime")) {
    since = before["lastTransitionTime"];
  }
  return {{"type", c.type},
          {"status", status},
          {"observedGeneration", generation},
          {"lastTransitionTime", since},
          {"reason", c.reason},
          {"message", c.message.size() > 32768 ? c.message.substr(0, 32768) : c.message}};
}

}  // namespace

json FindCondition(const json& status, const std::string& type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) {
    return nullptr;
  }
  for (const auto& c : status["conditions"]) {
    if (c.is_object() && c.value("type", "") == type) return c;
  }
  return nullptr;
}

json ComputeStatus(const json& previous, const StatusInput& in) {
  json s = json::object();
  s["observedGeneration"] = in.generation;
  if (!in.refusal && in.report != nullptr) {
    const controller::TickReport& r = *in.report;
    if (r.observation) {
      s["backlog"] = r.observation->backlog;
      s["partitions"] = r.observation->partition_count;
    }
    if (r.replicas_after >= 0) s["currentReplicas"] = r.replicas_after;
    if (r.scale) s["readyReplicas"] = r.scale->ready_replicas;
    if (r.decision) {
      s["desiredReplicas"] = r.decision->desired;
      s["lastDecision"] = std::string(policy::ReasonName(r.decision->reason));
    } else if (r.replicas_after >= 0) {
      s["desiredReplicas"] = r.replicas_after;  // held: what it stays at
    }
  }
  if (in.last_scale_time) s["lastScaleTime"] = kube::FormatTime(*in.last_scale_time);
  json conditions = json::array();
  for (const Condition& c : {Ready(in), Active(in), Fallback(in), Paused(in)}) {
    conditions.push_back(ConditionJson(c, previous, in.now, in.generation));
  }
  s["conditions"] = std::move(conditions);
  return s;
}

json StatusMergePatch(const json& previous, const json& next) {
  json status = next;
  if (previous.is_object()) {
    for (const auto& [key, value] : previous.items()) {
      (void)value;
      if (!status.contains(key)) status[key] = nullptr;
    }
  }
  return {{"status", status}};
}

}  // namespace kafka_autoscaler::many
