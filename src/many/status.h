// KafkaScaler status: what one target's latest tick (or its refusal) looks like in the
// resource's `status` (deploy/many/kafkascaler-crd.yaml, status schema).
//
// ComputeStatus() is pure: the previous status (as last written) and what happened give the new
// status. The controller writes it through the status subresource only when it differs from
// the previous one, so an idle target costs no API request.
//
// Fields: observedGeneration, backlog, partitions (absent while Kafka cannot be observed),
// currentReplicas (spec.replicas after the tick), readyReplicas, desiredReplicas (the
// decision's count; the current count when the tick could not decide), lastScaleTime,
// lastDecision (the decision's reason, as on the decision span), and the conditions below.
// (learnedState is not computed here: the controller writes it on its own period, and removes
// it once the policy is no longer `wait`.)
//   Ready     True  Reconciled        observed, read the target, acted (or had nothing to do)
//             False InvalidSpec       the spec is refused (message lists every problem)
//             False UnknownCluster    spec.kafkaCluster names no cluster of this instance
//             False InvalidTarget     the target cannot be scaled by this instance
//             False KafkaError        the observation failed (missing topic, ACL, timeout)
//             False TargetError       the workload could not be read (404, 403, ...)
//             False ScaleFailed       the scale was refused
//             False OtherWriter       another writer or autoscaler changed the replicas
//   Active    True  BacklogPresent / False NoBacklog; Unknown NotObserved (no observation)
//   Fallback  True  FallbackActive (FALLBACK_REPLICAS applied after failures) / False
//             ObservationsSucceeding or ObservationsFailing (failing, fallback not reached)
//   Paused    True  SpecPaused (spec.paused) or AnnotationPaused (kafka-autoscaler/paused on
//             the workload) / False NotPaused
// A condition's lastTransitionTime changes only when its status flips; a new reason or message
// with the same status keeps it (as meta.k8s.io/v1 Condition requires).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "controller/reconciler.h"

namespace kafka_autoscaler::many {

// Why a target is not reconciled at all (it never scales): a Ready=False reason and message.
struct Refusal {
  std::string reason;   // "InvalidSpec", "UnknownCluster", "InvalidTarget"
  std::string message;  // for a person: every problem, with the spec's field paths
};

struct StatusInput {
  int64_t generation = 0;                                  // metadata.generation acted on
  std::optional<Refusal> refusal;                          // set: the target does not run
  const controller::TickReport* report = nullptr;          // the latest tick (unset when refused)
  const controller::ReconcilerOptions* options = nullptr;  // with `report`
  bool spec_paused = false;                                // spec.paused
  std::optional<WallTime> last_scale_time;                 // the latest write of replicas by us
  WallTime now;                                            // transition time of flipped conditions
};

// The new status. `previous` is the status as last written (null or {} for none).
nlohmann::json ComputeStatus(const nlohmann::json& previous, const StatusInput& input);

// A merge patch body {"status": ...} that turns `previous` into `next`: fields `previous` had
// and `next` lacks are sent as null, so a merge patch removes them.
nlohmann::json StatusMergePatch(const nlohmann::json& previous, const nlohmann::json& next);

// The condition of `type` in a status, or null.
nlohmann::json FindCondition(const nlohmann::json& status, const std::string& type);

}  // namespace kafka_autoscaler::many
