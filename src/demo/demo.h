// `kafka-autoscaler demo`: the whole system on this machine with no setup.
//
// An embedded Kafka (librdkafka's mock cluster: the real wire protocol on loopback ports), a
// producer playing a bursty load, consumer "pods" that really consume from it in one consumer
// group at a fixed per-pod rate (a pod starts consuming after a start-up delay, and every change
// of the group costs a rebalance, as in real life), and the real reconcile loop — the daemon's
// KafkaMetricSource reading group lag over the wire, the same Reconciler and Decide — scaling
// those pods through a ScaleTarget that starts and stops them.
//
// It shows a live view (redrawn in place on a terminal, one plain line per tick otherwise),
// and ends with a summary (peak backlog, message wait p50/p99, pod-seconds, scale events) and
// an SVG chart of load, backlog and replicas, whose path it prints. --speed N runs the same
// story N times faster (all durations divided by N, all rates multiplied by N), so message
// counts and decisions stay comparable.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

#include "common/clock.h"
#include "policy/policy_config.h"

namespace kafka_autoscaler::demo {

struct DemoOptions {
  std::chrono::seconds duration{120};  // demo time (before --speed)
  double speed = 1.0;                  // > 0; 2 = twice as fast
  std::string out_dir = "demo-out";    // chart, CSV and the daemon's JSON log go here
  bool plain = false;                  // one line per tick even on a terminal
  policy::PolicyKind policy = policy::PolicyKind::kMessages;
};

// Runs the demo; returns the process exit status (0 on success, 1 when the embedded Kafka
// could not start). Stops early (with the summary) when `stop` is signalled.
int RunDemo(const DemoOptions& options, const StopToken& stop, std::ostream& out,
            std::ostream& err);

}  // namespace kafka_autoscaler::demo
