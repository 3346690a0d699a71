// Helpers of the telemetry tests: the independent decoder (node + the official OTLP schema), the
// official semantic-conventions registry, temporary files, and lookups in decoded OTLP JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

namespace kafka_autoscaler::testing {

// Runs decoder/decode.js on `body`; returns its output ({"request", "unknownFieldBytes",
// "jsonMismatches"}). Adds a test failure and returns null on any error.
nlohmann::json DecodeOtlp(std::string_view signal, std::string_view content_type,
                          const std::string& body);

// The keys among `keys` that the official OpenTelemetry semantic conventions define, stable or
// incubating (decoder/semconv.js reads @opentelemetry/semantic-conventions, pinned in
// decoder/package.json). Adds a test failure and returns {} on any error.
std::set<std::string> OfficialAttributeKeys(const std::set<std::string>& keys);

// Runs `command` through the shell; returns its exit status and what it printed (2>&1).
struct CommandResult {
  int exit_status = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& command);

// A fresh empty directory under the test temp dir.
std::string MakeTempDir(std::string_view prefix);
std::string WriteTempFile(std::string_view name, const std::string& contents);

// The AnyValue of attribute `key` in an OTLP attribute list (null json when absent).
nlohmann::json Attr(const nlohmann::json& attributes, std::string_view key);

}  // namespace kafka_autoscaler::testing
