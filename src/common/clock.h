// Clock: the time seam. Everything that needs "now" or waits takes a Clock&, so tests and the
// simulator run in simulated time (FakeClock in tests/fakes) and the daemon in real time.
//
// Now() is monotonic (for intervals, deadlines and lease expiry); WallNow() is wall-clock time
// (for log and telemetry timestamps only, never for durations). SystemClock is thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace kafka_autoscaler {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time; never goes backwards.
  virtual SteadyTime Now() const = 0;
  // Wall-clock time, for timestamps shown to people and telemetry.
  virtual WallTime WallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  WallTime WallNow() const override { return std::chrono::system_clock::now(); }
};

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

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopped_ = false;
};

// Seconds between two steady times, as a double.
inline double SecondsBetween(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace kafka_autoscaler
