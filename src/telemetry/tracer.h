// A tiny tracing API: Tracer starts Spans; a finished Span becomes SpanData handed to a SpanSink
// (the exporter). SpanScope makes a span the calling thread's current one, so that child spans
// and log records (common/log.h CurrentTraceContext) pick up its trace and span ids.
//
// Usage, on one thread (ActiveSpan below bundles a Span with its SpanScope):
//   Span tick = tracer.StartSpan(kSpanReconcile, SpanKind::kInternal);  // parent: current ctx
//   SpanScope tick_scope(tick);
//   { Span s = tracer.StartSpan(kSpanGetTopicLength, SpanKind::kClient);
//     SpanScope scope(s);
//     s.SetAttribute(kAttrBacklog, backlog);
//     if (!result) s.SetError(result.error().message); }   // ends at scope exit
//
// Ids are random (128-bit trace, 64-bit span; never all zero). A Tracer built without a sink
// (telemetry disabled) hands out non-recording spans: their context is invalid, they cost a
// few bytes and nothing is exported.
//
// Thread-safety: Tracer is thread-safe. A Span is owned and used by one thread at a time;
// SpanScope must be destroyed on the thread that created it, in reverse order of creation.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/clock.h"
#include "common/log.h"

namespace kafka_autoscaler::telemetry {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

enum class SpanKind { kInternal, kServer, kClient, kProducer, kConsumer };
enum class SpanStatusCode { kUnset, kOk, kError };

// A span attribute: same value types as a log field (string, int64, double, bool).
using Attribute = Field;

// A finished span, plain data.
struct SpanData {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zero for a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  WallTime start;
  WallTime end;
  std::vector<Attribute> attributes;
  SpanStatusCode status = SpanStatusCode::kUnset;
  std::string status_message;  // set only with kError
};

class SpanSink {
 public:
  virtual ~SpanSink() = default;
  // Receives each span once, when it ends. Must not block (the exporter only enqueues).
  virtual void OnEnd(SpanData span) = 0;
};

class Tracer;

class Span {
 public:
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span();  // ends the span if End() was not called

  bool recording() const { return tracer_ != nullptr && !ended_; }
  // This span's ids as a log/trace context (invalid when not recording).
  TraceContext context() const;

  // Adds or replaces an attribute. Integers of any width become int64.
  void SetAttribute(std::string_view key, std::string_view value);
  void SetAttribute(std::string_view key, const char* value) {
    SetAttribute(key, std::string_view(value));
  }
  void SetAttribute(std::string_view key, const std::string& value) {
    SetAttribute(key, std::string_view(value));
  }
  void SetAttribute(std::string_view key, double value);
  void SetAttribute(std::string_view key, bool value);
  template <typename T>
  requires(std::is_integral_v<T> &&
           !std::is_same_v<T, bool>) void SetAttribute(std::string_view key, T value) {
    SetValue(key, static_cast<int64_t>(value));
  }

  // Status per the OTel API: ERROR carries a message; OK is final (a later SetError is ignored).
  void SetOk();
  void SetError(std::string_view message);

  // Records the end time and hands the span to the sink. Later calls do nothing.
  void End();

 private:
  friend class Tracer;
  Span(Tracer* tracer, SpanData data) : tracer_(tracer), data_(std::move(data)) {}
  void SetValue(std::string_view key, FieldValue value);

  Tracer* tracer_ = nullptr;  // null: non-recording
  bool ended_ = false;
  SpanData data_;
};

// Makes `span` the current span of the calling thread until destroyed, then restores the
// previous context. A non-recording span clears the context for the scope's duration.
class SpanScope {
 public:
  explicit SpanScope(const Span& span);
  ~SpanScope();
  SpanScope(const SpanScope&) = delete;
  SpanScope& operator=(const SpanScope&) = delete;

 private:
  TraceContext saved_;
};

// A span that is current on this thread for its lifetime: a Span plus its SpanScope.
//   ActiveSpan s(tracer, kSpanGetTopicLength, SpanKind::kClient);
//   s->SetAttribute(kAttrBacklog, backlog);
// At destruction the previous context is restored, then the span ends.
class ActiveSpan {
 public:
  ActiveSpan(Tracer& tracer, std::string_view name, SpanKind kind = SpanKind::kInternal);
  ActiveSpan(const ActiveSpan&) = delete;
  ActiveSpan& operator=(const ActiveSpan&) = delete;

  Span& span() { return span_; }
  Span* operator->() { return &span_; }

 private:
  Span span_;
  SpanScope scope_;
};

class Tracer {
 public:
  // `sink` receives finished spans; null makes every span non-recording. Both must outlive
  // the Tracer and every Span it starts. Timestamps come from clock.WallNow().
  Tracer(const Clock& clock, SpanSink* sink);

  // Starts a span whose parent is the calling thread's current span (a root span if none).
  Span StartSpan(std::string_view name, SpanKind kind = SpanKind::kInternal);
  // Starts a span with an explicit parent (invalid `parent` → a root span).
  Span StartSpan(std::string_view name, SpanKind kind, const TraceContext& parent);

  bool enabled() const { return sink_ != nullptr; }

 private:
  friend class Span;
  void Finish(SpanData data);
  TraceId NewTraceId();
  SpanId NewSpanId();

  const Clock& clock_;
  SpanSink* sink_;
  std::mutex mu_;
  std::mt19937_64 rng_;  // guarded by mu_
};

}  // namespace kafka_autoscaler::telemetry
