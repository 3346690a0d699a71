// Fuzzes configuration parsing: config::Load and telemetry::LoadOptions over an environment
// built from the input, and, when it loads, the printed configuration (check --print-config).
// Input: lines "NAME=value"; a line without '=' is the value of the known variable whose index
// is the line number, so short inputs reach every variable.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "telemetry/options.h"

namespace ka = kafka_autoscaler;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  ka::config::Env env;
  const auto& known = ka::config::KnownVariables();
  size_t start = 0;
  size_t line_no = 0;
  while (start <= input.size()) {
    size_t nl = input.find('\n', start);
    if (nl == std::string::npos) nl = input.size();
    const std::string line = input.substr(start, nl - start);
    const size_t eq = line.find('=');
    if (eq != std::string::npos && eq > 0) {
      env[line.substr(0, eq)] = line.substr(eq + 1);
    } else if (!known.empty()) {
      env[known[line_no % known.size()]] = line;
    }
    ++line_no;
    start = nl + 1;
  }
  auto cfg = ka::config::Load(env);
  if (cfg) {
    (void)cfg->TickDeadline();
    (void)cfg->ToJson().dump(2);  // what `check --print-config` prints
  } else {
    (void)cfg.error().ToString();
  }
  auto otel = ka::telemetry::LoadOptions(env, "0.0.0-fuzz");
  if (otel) (void)otel->Describe();
  return 0;
}
