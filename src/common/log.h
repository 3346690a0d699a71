// Structured logging: one record per event, written as a JSON line (default) or a text line to
// stdout, and handed to any extra LogSink (the OTLP log exporter adds one).
//
// A record carries its time, level, message, typed fields (topic, backlog, replicas, reason...)
// and, when a span is active on the calling thread, its trace and span ids (see
// CurrentTraceContext). Logger is thread-safe: Write() may be called from any thread; sinks are
// added before logging starts and are owned by the caller, who keeps them alive.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/clock.h"

namespace kafka_autoscaler {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kJson, kText };

std::string_view LogLevelName(LogLevel level);  // "debug", "info", "warn", "error"

using FieldValue = std::variant<std::string, int64_t, double, bool>;
struct Field {
  std::string key;
  FieldValue value;
};
using Fields = std::vector<Field>;

// Trace identity of the span active on this thread; all zero when none is.
struct TraceContext {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  bool valid() const { return span_id != std::array<uint8_t, 8>{}; }
};
// The calling thread's active span context (set by telemetry's span scopes).
TraceContext& CurrentTraceContext();
std::string HexId(const uint8_t* bytes, size_t size);

struct LogRecord {
  WallTime time;
  LogLevel level = LogLevel::kInfo;
  std::string message;
  Fields fields;
  TraceContext trace;
};

class LogSink {
 public:
  virtual ~LogSink() = default;
  // Receives every record at or above the logger's level. Must not block for long.
  virtual void Write(const LogRecord& record) = 0;
};

class Logger {
 public:
  // Writes to `out` (stdout in the daemon) in `format`, dropping records below `min_level`.
  Logger(const Clock& clock, std::ostream& out, LogLevel min_level, LogFormat format);

  void AddSink(LogSink* sink);  // not owned; call before logging starts
  bool Enabled(LogLevel level) const { return level >= min_level_; }

  void Log(LogLevel level, std::string message, Fields fields = {});
  void Debug(std::string message, Fields fields = {}) { Log(LogLevel::kDebug, std::move(message), std::move(fields)); }
  void Info(std::string message, Fields fields = {}) { Log(LogLevel::kInfo, std::move(message), std::move(fields)); }
  void Warn(std::string message, Fields fields = {}) { Log(LogLevel::kWarn, std::move(message), std::move(fields)); }
  void Error(std::string message, Fields fields = {}) { Log(LogLevel::kError, std::move(message), std::move(fields)); }

  // Formats one record as the JSON line or text line this logger writes (no newline).
  static std::string FormatJson(const LogRecord& record);
  static std::string FormatText(const LogRecord& record);

 private:
  const Clock& clock_;
  std::ostream& out_;
  LogLevel min_level_;
  LogFormat format_;
  std::mutex mu_;
  std::vector<LogSink*> sinks_;
};

}  // namespace kafka_autoscaler
