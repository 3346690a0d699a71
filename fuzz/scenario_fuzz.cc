// Fuzzes scenario parsing (`simulate --scenario`): sim::ParseScenario on the input as YAML; when
// it loads, the derived values the simulator uses first.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/scenario.h"

namespace ka = kafka_autoscaler;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  auto s = ka::sim::ParseScenario(yaml, "/nonexistent-fuzz-dir");
  if (s) {
    (void)s->TickCount();
    (void)s->IntervalTicks();
    (void)s->RateAt(0);
    (void)s->RateAt(s->duration_seconds / 2);
  } else {
    (void)s.error().ToString();
  }
  return 0;
}
