// wait_state: the memory one `wait` target's policy state holds (issue 18; what the many-targets
// daemon keeps per target, docs/many-targets.md "Memory"). A target is run through Decide at a
// tick of --tick seconds on a load that rises and falls (a sine of ±75 % around 200 msg/s over a
// 63-minute period, pods of 100 msg/s that are ready when ordered), with COST_CEILING at its
// default 0.9, so that the ceiling's replay of the lag rule is on; after the first hour, while
// its log of ticks is full, and after the second, once the log is dropped, it prints:
//   sizeof_state   sizeof(PolicyState), the part held inline
//   heap_bytes     the heap a copy of the state allocates (malloc_usable_size of each block)
//   replay_bytes   ... of which the replay of the lag rule (its shadows at the rule's clock
//                  phases, their vectors, the log, the rule on our lag)
//   log_ticks      ticks in the replay's log
// Usage: wait_state [--tick 15,30,60] [--ceiling 0.9]
// (the ctest, label bench: `bench.wait_state` runs --tick 30).
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace {
std::size_t g_live = 0;  // heap bytes allocated through operator new and not yet freed
}  // namespace

// Counting allocator: the bench binary's own replacement of the global operator new.
void* operator new(std::size_t size) {
  if (void* p = std::malloc(size == 0 ? 1 : size)) {
    g_live += malloc_usable_size(p);
    return p;
  }
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  if (p != nullptr) g_live -= malloc_usable_size(p);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace {

using kafka_autoscaler::SteadyTime;
using namespace kafka_autoscaler::policy;

// The heap a copy of `value` allocates (its own bytes, held inline, not counted).
template <typename T>
std::size_t HeapOfCopy(const T& value) {
  const std::size_t before = g_live;
  const T copy(value);
  return g_live - before;
}

void Run(int tick, double ceiling) {
  PolicyConfig c;
  c.kind = PolicyKind::kWait;
  c.max_replicas = 30;
  c.messages_per_pod = 1000;
  c.cost_ceiling = ceiling;
  PolicyState state;
  PolicyInput in;
  in.partition_count = 24;
  in.current_replicas = in.ready_replicas = 2;
  constexpr double kPodRate = 100;
  double backlog = 0;
  const int ticks = 2 * 3600 / tick;
  for (int k = 0; k <= ticks; ++k) {
    in.now = SteadyTime{} + std::chrono::seconds(static_cast<int64_t>(k) * tick);
    const double rate = 200 + 150 * std::sin(k * tick / 600.0);
    const double drain = kPodRate * in.ready_replicas;
    const double consumed = std::min(drain, rate + backlog / tick);
    backlog = std::max(0.0, backlog + (rate - drain) * tick);
    in.backlog = static_cast<int64_t>(backlog);
    if (k > 0) {
      in.produced_per_minute = rate * 60;
      in.consumed_per_minute = consumed * 60;
    }
    const Decision d = Decide(in, state, c);
    state = d.next_state;
    in.current_replicas = in.ready_replicas = d.desired;
    const int seconds = (k + 1) * tick;
    if (seconds == 3600 || k == ticks) {
      const LagReplay* replay = state.wait.replay.get();
      std::printf("%6d %7d %12zu %10zu %12zu %9zu\n", tick, seconds, sizeof(PolicyState),
                  HeapOfCopy(state), replay != nullptr ? HeapOfCopy(*replay) + sizeof(LagReplay) : 0,
                  replay != nullptr ? replay->fed.size() : 0);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> ticks{15, 30, 60};
  double ceiling = 0.9;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--tick") == 0) {
      ticks.clear();
      std::stringstream list(argv[i + 1]);
      for (std::string item; std::getline(list, item, ',');) ticks.push_back(std::stoi(item));
    } else if (std::strcmp(argv[i], "--ceiling") == 0) {
      ceiling = std::stod(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: wait_state [--tick 15,30,60] [--ceiling 0.9]\n");
      return 2;
    }
  }
  std::printf("  tick  after_s sizeof_state heap_bytes replay_bytes log_ticks\n");
  for (const int tick : ticks) {
    if (tick <= 0 || 3600 % tick != 0) {
      std::fprintf(stderr, "--tick %d: must divide 3600\n", tick);
      return 2;
    }
    Run(tick, ceiling);
  }
  return 0;
}
