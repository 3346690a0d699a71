// Clock: the time seam. Everything that needs "now" or waits takes a Clock&, so tests and the
// simulator run in simulated time (FakeClock in tests/fakes) and the daemon in real time.
//
// Now() is monotonic (for intervals, deadlines and lease expiry); WallNow() is wall-clock time
// (for log and telemetry timestamps only, never for durations). SleepUntil() waits in the
// clock's own time, so a loop driven by a FakeClock waits until the test advances it.
// SystemClock is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

namespace kafka_autoscaler {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

// A one-shot stop signal that sleeping threads can wait on. Stop() wakes every waiter.
class StopToken {
 public:
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  bool Stopped() const {
    std::lock_guard lock(mu_);
    return stopped_;
  }
  // Sleeps up to `d` of real time; returns true when stopped (early or already).
  bool WaitFor(Duration d) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, d, [this] { return stopped_; });
  }
  // Sleeps until stopped or `ready()` holds, re-checking `ready` on every Wake(); returns true
  // when stopped. For clocks whose time moves by other means than the passing of real time.
  bool WaitUntil(const std::function<bool()>& ready) const {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopped_ || ready(); });
    return stopped_;
  }
  // Wakes the waiters of WaitUntil() so that they re-check their condition.
  void Wake() const {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopped_ = false;
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time; never goes backwards.
  virtual SteadyTime Now() const = 0;
  // Wall-clock time, for timestamps shown to people and telemetry.
  virtual WallTime WallNow() const = 0;
  // Waits until Now() >= `deadline` or `stop` is stopped; returns true when stopped. The
  // default waits in real time (right for clocks that follow the steady clock).
  virtual bool SleepUntil(SteadyTime deadline, const StopToken& stop) const {
    const SteadyTime now = Now();
    return stop.WaitFor(deadline > now ? deadline - now : Duration::zero());
  }
};

class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
};

// Seconds between two steady times, as a double.
inline double SecondsBetween(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace kafka_autoscaler
