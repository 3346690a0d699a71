// Simulator: replays one scenario against one policy in simulated time and measures it.
//
//   messages, rate  run through the daemon's own controller::Reconciler::Tick (and so Decide),
//                   every autoscaler.interval_seconds, against SimTopic and SimDeployment.
//   keda-hpa        runs KedaHpaModel (sim/keda_hpa.h) on its own 30 s / 15 s schedule.
//
// The workload (arrivals per step, with seeded noise) is built once per scenario and shared by
// every policy, so they all face exactly the same messages. The clairvoyant bound is computed
// from it too: at each step the pods the load needed ignoring startup and rebalances, i.e.
// ceil(arrivals of the step / (per-pod rate × tick)), within [min_replicas, max_replicas] and
// at most the partition count; when that cap binds, the oracle also carries the messages it
// could not process and keeps the capped pods until they are done. Its pod-seconds are the
// cost limit any real policy is measured against.
// Pure computation; no I/O; one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "policy/policy_config.h"
#include "sim/scenario.h"

namespace kafka_autoscaler::sim {

// The policies `simulate` knows, in their default order.
const std::vector<std::string>& KnownPolicies();

struct Workload {
  std::vector<int64_t> arrivals;     // messages produced in each step
  std::vector<int32_t> clairvoyant;  // the oracle's pods in each step
  double clairvoyant_pod_seconds = 0;
};
[[nodiscard]] Workload BuildWorkload(const Scenario& scenario);

struct Metrics {
  double p50_wait_seconds = 0;  // over every message produced; those still queued at the end
  double p99_wait_seconds = 0;  // count with their wait so far
  double max_wait_seconds = 0;
  int64_t max_backlog = 0;
  double pod_seconds = 0;              // Σ pods that exist (ready or starting) × tick
  int64_t scale_events = 0;            // changes of spec.replicas
  double seconds_above_threshold = 0;  // backlog > message_count_threshold
  double clairvoyant_pod_seconds = 0;
  int64_t messages = 0;  // produced in total
};

struct PolicyRun {
  std::string policy;
  Metrics metrics;
  std::vector<int32_t> replicas;  // spec.replicas at the end of each step
  std::vector<int64_t> backlog;   // backlog at the end of each step
};

// The PolicyConfig the scenario's knobs give our policies (`kind` set by the caller).
[[nodiscard]] policy::PolicyConfig PolicyConfigFor(const Scenario& scenario,
                                                   policy::PolicyKind kind);

// Runs `policy` (one of KnownPolicies()) over the scenario. kInvalidArgument for an unknown name.
[[nodiscard]] Result<PolicyRun> RunPolicy(const Scenario& scenario, const Workload& workload,
                                          std::string_view policy);

}  // namespace kafka_autoscaler::sim
