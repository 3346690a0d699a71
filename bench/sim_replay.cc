// sim_replay: how long `simulate` takes to replay one policy over a one-hour scenario at 1 s
// ticks (issue 7's target: under 1 s per policy). Each shared trace of one hour is replayed
// through the same RunPolicy the command uses (the Reconciler tick and Decide for `messages`
// and `rate`, the KEDA + HPA model for `keda-hpa`); the workload is built once, outside the
// timed loop, as `simulate` builds it once per scenario.
// Usage: sim_replay [google-benchmark flags], e.g. --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "sim/scenario.h"
#include "sim/simulator.h"

namespace {

namespace sim = kafka_autoscaler::sim;

void BM_Replay(benchmark::State& state, const std::string& trace, const std::string& policy) {
  auto scenario = sim::LoadScenario(std::filesystem::path(KA_SCENARIO_DIR) / trace);
  if (!scenario) {
    state.SkipWithError(scenario.error().ToString().c_str());
    return;
  }
  const sim::Workload workload = sim::BuildWorkload(*scenario);
  for (auto _ : state) {
    auto run = sim::RunPolicy(*scenario, workload, policy);
    benchmark::DoNotOptimize(run);
  }
  state.counters["steps"] = static_cast<double>(scenario->TickCount());
  state.counters["steps/s"] = benchmark::Counter(static_cast<double>(scenario->TickCount()),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void Register() {
  for (const char* trace : {"flash-crowd.yaml", "ramp.yaml", "batch-dumps.yaml"}) {
    for (const auto& policy : sim::KnownPolicies()) {
      benchmark::RegisterBenchmark((std::string("replay/") + trace + "/" + policy).c_str(),
                                   BM_Replay, std::string(trace), policy)
          ->Unit(benchmark::kMillisecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Register();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
