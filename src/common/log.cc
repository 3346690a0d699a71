#include "common/log.h"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

namespace kafka_autoscaler {

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

TraceContext& CurrentTraceContext() {
  thread_local TraceContext context;
  return context;
}

std::string HexId(const uint8_t* bytes, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

namespace {

// RFC 3339 UTC with milliseconds: 2026-11-28T10:52:35.123Z
std::string FormatTime(WallTime t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof(out), "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

nlohmann::json ToJson(const FieldValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

std::string ToText(const FieldValue& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          // Quoted (JSON string syntax) when it holds a space, quote, '=', a control character
          // (a newline would forge a second record) or any non-ASCII byte; invalid UTF-8 (a
          // Kafka error text may carry any bytes) becomes U+FFFD instead of a throw.
          const bool plain = !x.empty() && std::all_of(x.begin(), x.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u > 0x20 && u < 0x7f && c != '"' && c != '=';
          });
          return plain ? x
                       : nlohmann::json(x).dump(-1, ' ', false,
                                                nlohmann::json::error_handler_t::replace);
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else {
          std::ostringstream s;
          s << x;
          return s.str();
        }
      },
      v);
}

}  // namespace

Logger::Logger(const Clock& clock, std::ostream& out, LogLevel min_level, LogFormat format)
    : clock_(clock), out_(out), min_level_(min_level), format_(format) {}

void Logger::AddSink(LogSink* sink) {
  std::lock_guard lock(mu_);
  sinks_.push_back(sink);
}

std::string Logger::FormatJson(const LogRecord& r) {
  nlohmann::ordered_json j;
  j["time"] = FormatTime(r.time);
  j["level"] = LogLevelName(r.level);
  j["msg"] = r.message;
  for (const auto& f : r.fields) j[f.key] = ToJson(f.value);
  if (r.trace.valid()) {
    j["trace_id"] = HexId(r.trace.trace_id.data(), r.trace.trace_id.size());
    j["span_id"] = HexId(r.trace.span_id.data(), r.trace.span_id.size());
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Logger::FormatText(const LogRecord& r) {
  std::string line = FormatTime(r.time) + " " + std::string(LogLevelName(r.level));
  line.resize(line.size() < 30 ? 30 : line.size(), ' ');
  line += r.message;
  for (const auto& f : r.fields) line += " " + f.key + "=" + ToText(f.value);
  return line;
}

void Logger::Log(LogLevel level, std::string message, Fields fields) {
  if (!Enabled(level)) return;
  LogRecord record{clock_.WallNow(), level, std::move(message), std::move(fields),
                   CurrentTraceContext()};
  const std::string line = format_ == LogFormat::kJson ? FormatJson(record) : FormatText(record);
  std::lock_guard lock(mu_);
  out_ << line << '\n';
  out_.flush();
  for (LogSink* sink : sinks_) sink->Write(record);
}

}  // namespace kafka_autoscaler
