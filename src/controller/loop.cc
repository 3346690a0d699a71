#include "controller/loop.h"

#include <algorithm>

namespace kafka_autoscaler::controller {

Loop::Loop(LoopOptions options, const Clock& clock, Reconciler& reconciler, StatusBoard& board,
           std::function<bool()> may_act, std::vector<TickListener*> listeners)
    : options_(options),
      clock_(clock),
      reconciler_(reconciler),
      board_(board),
      may_act_(std::move(may_act)),
      listeners_(std::move(listeners)) {}

int64_t Loop::Run(const StopToken& stop) {
  int64_t ticks = 0;
  SteadyTime next = clock_.Now();
  while (!stop.Stopped()) {
    if (options_.max_ticks && ticks >= *options_.max_ticks) break;
    board_.TickStarted();
    const bool leader = may_act_ ? may_act_() : true;
    board_.SetLeader(leader);
    TickReport report = reconciler_.Tick(leader);
    ++ticks;
    board_.Record(report);
    for (TickListener* l : listeners_) l->OnTick(report);
    if (options_.max_ticks && ticks >= *options_.max_ticks) break;

    // Fixed rate: the next tick is one interval after this one started, later if the API
    // server asked us to back off.
    next += options_.interval;
    Duration wait_extra{};
    for (const auto& e : report.errors) {
      if (e.error.retry_after) wait_extra = std::max<Duration>(wait_extra, *e.error.retry_after);
    }
    wait_extra = std::min<Duration>(wait_extra, MaxRetryAfter(options_.interval));
    const SteadyTime now = clock_.Now();
    if (next < now) next = now;  // an overrun tick: start the next one at once, no burst
    const auto wake = std::max(next, now + wait_extra);
    if (clock_.SleepUntil(wake, stop)) break;
  }
  return ticks;
}

}  // namespace kafka_autoscaler::controller
