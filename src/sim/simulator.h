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
//
//   reactive-bound  a reference, not a product: the best a policy that only reacts could do. At
//                   every autoscaler.interval_seconds it is given the truth of the moment — the
//                   noise-free arrival rate at that instant (Scenario::RateAt, not its future),
//                   the exact backlog, the pod's true messages_per_second, startup_seconds and
//                   rebalance_seconds, and the ready/starting pods — and applies the rate rule:
//                   up to ceil((λ' + B_ahead / D) / μ) where λ' = λ × (1 + headroom) and
//                   B_ahead = B + max(0, λ' − ready·μ) × startup + λ' × rebalance; down to the
//                   highest ceil((λ' + B / D) / μ) within the last `hold` seconds. It is replayed
//                   with every setting of ReactiveBoundSweep() and the one PickReactiveBound
//                   chooses is reported (PolicyRun::detail names it).
// Pure computation; no I/O; one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "policy/policy_config.h"
#include "sim/scenario.h"

namespace kafka_autoscaler::sim {

// The policies `simulate` knows, in their default order.
const std::vector<std::string>& KnownPolicies();

// With Scenario::history_cycles, the workload covers the history and the measured cycle;
// clairvoyant_pod_seconds counts the measured cycle only.
struct Workload {
  std::vector<int64_t> arrivals;     // messages produced in each step
  std::vector<double> pod_rate;      // what one ready pod processes per second in each step
  std::vector<int32_t> clairvoyant;  // the oracle's pods in each step
  double clairvoyant_pod_seconds = 0;
};
[[nodiscard]] Workload BuildWorkload(const Scenario& scenario);
// The steps of the measured cycle (all of them without history), for the timeline and chart.
[[nodiscard]] Workload MeasuredPart(const Scenario& scenario, const Workload& workload);

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

// One tick of a policy that runs through the daemon's Reconciler: the attributes of its
// `reconcile` span (the same names and values an OpenTelemetry backend receives from the daemon),
// each value as text.
struct DecisionRecord {
  double t_seconds = 0;
  std::vector<std::pair<std::string, std::string>> attributes;
};

// Metrics, replicas, backlog and decisions cover the measured cycle only (Scenario::
// history_cycles), on its own clock.
struct PolicyRun {
  std::string policy;
  Metrics metrics;
  std::vector<int32_t> replicas;  // spec.replicas at the end of each step
  std::vector<int64_t> backlog;   // backlog at the end of each step
  std::string detail;             // reactive-bound: the chosen setting
  // messages, rate, wait, wait-predict: one record per tick; keda-hpa and reactive-bound: none.
  std::vector<DecisionRecord> decisions;
};

// One setting of the reactive-bound reference.
struct ReactiveBoundSettings {
  double drain_seconds = 30;  // D: the backlog beyond the arrivals drains within this
  double hold_seconds = 120;  // scale-down takes the highest count asked within this
  double headroom = 0;        // fraction added to the true rate (negative: under-provision)
};
// The sweep: drain {10, 30, 60} s × hold {30, 120, 300} s × headroom {−10 %, 0, 20 %}.
const std::vector<ReactiveBoundSettings>& ReactiveBoundSweep();
// The index of the reported setting: among those with pod-seconds and scale events at or below
// keda-hpa's, the lowest p99 (ties: fewer pod-seconds); if none, the same among those within
// keda-hpa's pod-seconds; if none, the cheapest.
[[nodiscard]] size_t PickReactiveBound(const std::vector<Metrics>& sweep, const Metrics& keda);

// The PolicyConfig the scenario's knobs give our policies (`kind` set by the caller).
[[nodiscard]] policy::PolicyConfig PolicyConfigFor(const Scenario& scenario,
                                                   policy::PolicyKind kind);

// Runs `policy` (one of KnownPolicies()) over the scenario. kInvalidArgument for an unknown name.
[[nodiscard]] Result<PolicyRun> RunPolicy(const Scenario& scenario, const Workload& workload,
                                          std::string_view policy);

}  // namespace kafka_autoscaler::sim
