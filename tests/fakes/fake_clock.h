// FakeClock: a Clock that only moves when a test calls Advance(). Thread-safe.
//
// A thread that waits on it (SleepUntil, e.g. the controller Loop between ticks) stays asleep
// until a test advances the clock past its deadline or stops its token: no real time passes.
// AwaitSleepers() lets a test wait until the code under test has gone to sleep, so it can
// advance deterministically (never "advance and hope the thread was already waiting").
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

#include "common/clock.h"

namespace kafka_autoscaler::testing {

class FakeClock final : public Clock {
 public:
  FakeClock() = default;
  SteadyTime Now() const override { return SteadyTime(Duration(now_ns_.load())); }
  WallTime WallNow() const override {
    return WallTime(std::chrono::duration_cast<WallTime::duration>(
               std::chrono::nanoseconds(now_ns_.load()))) +
           std::chrono::seconds(1'700'000'000);
  }
  // Moves time forward and wakes the sleepers whose deadline it reached; those no longer count
  // as asleep for AwaitSleepers() even before their threads run again.
  void Advance(Duration d) {
    now_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    std::lock_guard lock(mu_);
    const SteadyTime now = Now();
    for (const Sleeper& s : sleepers_) s.stop->Wake();
    std::erase_if(sleepers_, [&](const Sleeper& s) { return s.deadline <= now; });
    changed_.notify_all();
  }

  bool SleepUntil(SteadyTime deadline, const StopToken& stop) const override {
    if (deadline <= Now()) return stop.Stopped();
    {
      std::lock_guard lock(mu_);
      sleepers_.push_back({&stop, deadline});
      changed_.notify_all();
    }
    const bool stopped = stop.WaitUntil([&] { return Now() >= deadline; });
    std::lock_guard lock(mu_);
    auto it = std::find_if(sleepers_.begin(), sleepers_.end(), [&](const Sleeper& s) {
      return s.stop == &stop && s.deadline == deadline;
    });
    if (it != sleepers_.end()) sleepers_.erase(it);
    changed_.notify_all();
    return stopped;
  }

  // Blocks until at least `n` threads sleep on this clock; returns the earliest deadline among
  // them. Waits in real time (bounded by the test's own timeout), never advances the clock.
  SteadyTime AwaitSleepers(size_t n = 1) const {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return sleepers_.size() >= n; });
    SteadyTime earliest = sleepers_.front().deadline;
    for (const Sleeper& s : sleepers_) earliest = std::min(earliest, s.deadline);
    return earliest;
  }
  // Threads asleep on this clock right now.
  size_t Sleepers() const {
    std::lock_guard lock(mu_);
    return sleepers_.size();
  }

 private:
  struct Sleeper {
    const StopToken* stop;
    SteadyTime deadline;
  };
  // Starts well past zero so that "time_point{}" never equals a real reading.
  std::atomic<int64_t> now_ns_{std::chrono::nanoseconds(std::chrono::hours(1)).count()};
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  mutable std::vector<Sleeper> sleepers_;  // guarded by mu_
};

}  // namespace kafka_autoscaler::testing
