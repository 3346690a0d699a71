// Loop: runs the Reconciler every interval until stopped (SIGTERM/SIGINT) or after max_ticks.
//
// It owns timing and the policy around failures, so Tick() stays free of them: a tick that the
// API server throttled (429 with Retry-After) delays the next one by that much, at most two
// intervals (MaxRetryAfter: a hostile or huge Retry-After must not stop the loop, and liveness
// wants a tick within three intervals); other failures wait for the next interval (no retry
// storm). After each tick it records the report on the
// StatusBoard and hands it to the listeners (metrics). Leadership is asked through `may_act`
// right before each tick. Run() blocks the calling thread; Stop comes through the StopToken.
// All time comes from the Clock (now and the waits between ticks), so tests drive the loop
// with a FakeClock and no real sleeps.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "common/clock.h"
#include "controller/reconciler.h"
#include "controller/status_board.h"

namespace kafka_autoscaler::controller {

class TickListener {
 public:
  virtual ~TickListener() = default;
  virtual void OnTick(const TickReport& report) = 0;
};

// The longest extra wait a Retry-After can impose before the next tick: two intervals.
constexpr Duration MaxRetryAfter(Duration interval) { return 2 * interval; }

struct LoopOptions {
  Duration interval = std::chrono::seconds(60);  // SCALE_INTERVAL_SECONDS
  std::optional<int64_t> max_ticks;              // run --max-ticks N; unset = forever
};

class Loop {
 public:
  Loop(LoopOptions options, const Clock& clock, Reconciler& reconciler, StatusBoard& board,
       std::function<bool()> may_act, std::vector<TickListener*> listeners);

  // Ticks until `stop` is signalled or max_ticks ticks ran. Returns the number of ticks.
  int64_t Run(const StopToken& stop);

 private:
  LoopOptions options_;
  const Clock& clock_;
  Reconciler& reconciler_;
  StatusBoard& board_;
  std::function<bool()> may_act_;
  std::vector<TickListener*> listeners_;
};

}  // namespace kafka_autoscaler::controller
