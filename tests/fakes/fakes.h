// Fakes for the controller's seams: each records every call so a test can assert the exact
// sequence. Not thread-safe unless noted; tests drive them from one thread.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "kafka/observation.h"
#include "kube/scale_target.h"

namespace kafka_autoscaler::testing {

// Returns queued results in order; once the queue is empty, repeats the last one.
class FakeMetricSource final : public kafka::MetricSource {
 public:
  void Push(Result<kafka::Observation> r) { queue_.push_back(std::move(r)); }
  // A topic-mode observation of `partitions` partitions holding `backlog` messages in total.
  static kafka::Observation Backlog(int64_t backlog, int32_t partitions = 12,
                                    SteadyTime at = SteadyTime{}) {
    kafka::Observation o;
    o.at = at;
    o.backlog = backlog;
    o.partition_count = partitions;
    for (int32_t p = 0; p < partitions; ++p) {
      const int64_t share = backlog / partitions + (p < backlog % partitions ? 1 : 0);
      o.partitions.push_back({.topic = "orders", .partition = p, .low = 0, .high = share,
                              .committed = std::nullopt, .lag = share});
    }
    return o;
  }
  Result<kafka::Observation> Fetch() override {
    ++fetches;
    if (on_fetch) on_fetch();
    if (!queue_.empty()) {
      last_ = std::move(queue_.front());
      queue_.pop_front();
    }
    return last_;
  }
  int fetches = 0;
  std::function<void()> on_fetch;  // runs inside every Fetch (e.g. leadership lost meanwhile)

 private:
  std::deque<Result<kafka::Observation>> queue_;
  Result<kafka::Observation> last_ = MakeError(ErrorCode::kInternal, "fake: nothing queued");
};

class FakeScaleTarget final : public kube::ScaleTarget {
 public:
  // Pods exist and are ready at once (set state.ready_replicas to hold some back).
  explicit FakeScaleTarget(int32_t replicas) {
    state.spec_replicas = state.status_replicas = state.ready_replicas = replicas;
  }
  Result<kube::ScaleState> Get() override {
    calls.push_back("get");
    if (get_error) return MakeError(*get_error);
    return state;
  }
  Status SetReplicas(int32_t replicas) override {
    calls.push_back("set " + std::to_string(replicas));
    if (set_error) return MakeError(*set_error);
    state.spec_replicas = replicas;
    state.status_replicas = replicas;
    state.ready_replicas = replicas;
    return OkStatus();
  }
  kube::ScaleState state;
  std::optional<Error> get_error;
  std::optional<Error> set_error;
  std::vector<std::string> calls;  // "get", "set 3", ...
  // Only the "set N" calls.
  std::vector<std::string> Sets() const {
    std::vector<std::string> out;
    for (const auto& c : calls) {
      if (c.rfind("set ", 0) == 0) out.push_back(c);
    }
    return out;
  }
};

class FakeEventRecorder final : public kube::EventRecorder {
 public:
  struct Event {
    kube::EventType type;
    std::string reason;
    std::string message;
  };
  Status Record(kube::EventType type, const std::string& reason, const std::string& message) override {
    events.push_back({type, reason, message});
    return OkStatus();
  }
  std::vector<Event> events;
};

}  // namespace kafka_autoscaler::testing
