#include "telemetry/tracer.h"

#include <algorithm>
#include <cstring>

namespace kafka_autoscaler::telemetry {

namespace {

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; });
}

}  // namespace

Span::Span(Span&& other) noexcept
    : tracer_(other.tracer_), ended_(other.ended_), data_(std::move(other.data_)) {
  other.tracer_ = nullptr;
  other.ended_ = true;
}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    tracer_ = other.tracer_;
    ended_ = other.ended_;
    data_ = std::move(other.data_);
    other.tracer_ = nullptr;
    other.ended_ = true;
  }
  return *this;
}

Span::~Span() { End(); }

TraceContext Span::context() const {
  TraceContext ctx;
  if (tracer_ == nullptr) return ctx;
  ctx.trace_id = data_.trace_id;
  ctx.span_id = data_.span_id;
  return ctx;
}

void Span::SetValue(std::string_view key, FieldValue value) {
  if (!recording()) return;
  for (Attribute& a : data_.attributes) {
    if (a.key == key) {
      a.value = std::move(value);
      return;
    }
  }
  data_.attributes.push_back(Attribute{std::string(key), std::move(value)});
}

void Span::SetAttribute(std::string_view key, std::string_view value) {
  SetValue(key, std::string(value));
}
void Span::SetAttribute(std::string_view key, double value) { SetValue(key, value); }
void Span::SetAttribute(std::string_view key, bool value) { SetValue(key, value); }

void Span::SetOk() {
  if (!recording()) return;
  data_.status = SpanStatusCode::kOk;
  data_.status_message.clear();
}

void Span::SetError(std::string_view message) {
  if (!recording() || data_.status == SpanStatusCode::kOk) return;
  data_.status = SpanStatusCode::kError;
  data_.status_message = std::string(message);
}

void Span::End() {
  if (!recording()) return;
  ended_ = true;
  tracer_->Finish(std::move(data_));
}

SpanScope::SpanScope(const Span& span) : saved_(CurrentTraceContext()) {
  CurrentTraceContext() = span.context();
}

SpanScope::~SpanScope() { CurrentTraceContext() = saved_; }

ActiveSpan::ActiveSpan(Tracer& tracer, std::string_view name, SpanKind kind)
    : span_(tracer.StartSpan(name, kind)), scope_(span_) {}

Tracer::Tracer(const Clock& clock, SpanSink* sink)
    : clock_(clock), sink_(sink), rng_(std::random_device{}()) {}

Span Tracer::StartSpan(std::string_view name, SpanKind kind) {
  return StartSpan(name, kind, CurrentTraceContext());
}

Span Tracer::StartSpan(std::string_view name, SpanKind kind, const TraceContext& parent) {
  if (sink_ == nullptr) return Span(nullptr, SpanData{});
  SpanData data;
  if (parent.valid() && !AllZero(parent.trace_id)) {
    data.trace_id = parent.trace_id;
    data.parent_span_id = parent.span_id;
  } else {
    data.trace_id = NewTraceId();
  }
  data.span_id = NewSpanId();
  data.name = std::string(name);
  data.kind = kind;
  data.start = clock_.WallNow();
  return Span(this, std::move(data));
}

void Tracer::Finish(SpanData data) {
  data.end = std::max(clock_.WallNow(), data.start);
  sink_->OnEnd(std::move(data));
}

TraceId Tracer::NewTraceId() {
  TraceId id{};
  std::lock_guard lock(mu_);
  while (AllZero(id)) {
    const uint64_t hi = rng_(), lo = rng_();
    std::memcpy(id.data(), &hi, 8);
    std::memcpy(id.data() + 8, &lo, 8);
  }
  return id;
}

SpanId Tracer::NewSpanId() {
  SpanId id{};
  std::lock_guard lock(mu_);
  while (AllZero(id)) {
    const uint64_t v = rng_();
    std::memcpy(id.data(), &v, 8);
  }
  return id;
}

}  // namespace kafka_autoscaler::telemetry
