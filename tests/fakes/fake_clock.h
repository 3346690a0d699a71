// FakeClock: a Clock that only moves when a test calls Advance(). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>

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
  void Advance(Duration d) { now_ns_ += std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

 private:
  // Starts well past zero so that "time_point{}" never equals a real reading.
  std::atomic<int64_t> now_ns_{std::chrono::nanoseconds(std::chrono::hours(1)).count()};
};

}  // namespace kafka_autoscaler::testing
