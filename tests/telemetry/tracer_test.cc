#include "telemetry/tracer.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "fakes/fake_clock.h"
#include "telemetry/semconv.h"

namespace kafka_autoscaler::telemetry {
namespace {

using testing::FakeClock;

class RecordingSink final : public SpanSink {
 public:
  void OnEnd(SpanData span) override { spans.push_back(std::move(span)); }
  std::vector<SpanData> spans;
};

TEST(TracerTest, ChildrenShareTheTraceAndPointAtTheirParent) {
  FakeClock clock;
  RecordingSink sink;
  Tracer tracer(clock, &sink);
  TraceContext root_ctx, child_ctx;
  {
    Span root = tracer.StartSpan(kSpanReconcile, SpanKind::kInternal);
    SpanScope root_scope(root);
    root_ctx = root.context();
    EXPECT_EQ(CurrentTraceContext().span_id, root_ctx.span_id);
    clock.Advance(std::chrono::milliseconds(5));
    {
      Span child = tracer.StartSpan(kSpanGetTopicLength, SpanKind::kClient);
      SpanScope child_scope(child);
      child_ctx = child.context();
      EXPECT_EQ(CurrentTraceContext().span_id, child_ctx.span_id);
      clock.Advance(std::chrono::milliseconds(7));
    }
    EXPECT_EQ(CurrentTraceContext().span_id, root_ctx.span_id);  // restored
  }
  EXPECT_FALSE(CurrentTraceContext().valid());

  ASSERT_EQ(sink.spans.size(), 2u);
  const SpanData& child = sink.spans[0];  // ends first
  const SpanData& root = sink.spans[1];
  EXPECT_EQ(child.name, "get_topic_length");
  EXPECT_EQ(child.kind, SpanKind::kClient);
  EXPECT_EQ(child.trace_id, root.trace_id);
  EXPECT_EQ(child.parent_span_id, root.span_id);
  EXPECT_EQ(root.parent_span_id, SpanId{});
  EXPECT_NE(child.span_id, root.span_id);
  EXPECT_EQ(child.end - child.start, std::chrono::milliseconds(7));
  EXPECT_EQ(root.end - root.start, std::chrono::milliseconds(12));
}

TEST(TracerTest, AttributesStatusAndEnd) {
  FakeClock clock;
  RecordingSink sink;
  Tracer tracer(clock, &sink);
  Span s = tracer.StartSpan("x", SpanKind::kClient, TraceContext{});
  s.SetAttribute("str", "v");
  s.SetAttribute("int", 42);
  s.SetAttribute("size", size_t{7});
  s.SetAttribute("double", 1.5);
  s.SetAttribute("bool", true);
  s.SetAttribute("int", 43);  // replaces
  s.SetError("kafka: timed out");
  s.End();
  s.End();                    // no second report
  s.SetAttribute("late", 1);  // ignored after End
  ASSERT_EQ(sink.spans.size(), 1u);
  const SpanData& d = sink.spans[0];
  ASSERT_EQ(d.attributes.size(), 5u);
  EXPECT_EQ(std::get<std::string>(d.attributes[0].value), "v");
  EXPECT_EQ(std::get<int64_t>(d.attributes[1].value), 43);
  EXPECT_EQ(std::get<int64_t>(d.attributes[2].value), 7);
  EXPECT_EQ(std::get<double>(d.attributes[3].value), 1.5);
  EXPECT_EQ(std::get<bool>(d.attributes[4].value), true);
  EXPECT_EQ(d.status, SpanStatusCode::kError);
  EXPECT_EQ(d.status_message, "kafka: timed out");

  Span ok = tracer.StartSpan("y");
  ok.SetOk();
  ok.SetError("too late: OK is final");
  ok.End();
  EXPECT_EQ(sink.spans.back().status, SpanStatusCode::kOk);
  EXPECT_EQ(sink.spans.back().status_message, "");
}

TEST(TracerTest, IdsAreRandomAndNeverZero) {
  FakeClock clock;
  RecordingSink sink;
  Tracer tracer(clock, &sink);
  std::set<TraceId> traces;
  std::set<SpanId> spans;
  for (int i = 0; i < 500; ++i) {
    Span s = tracer.StartSpan("s", SpanKind::kInternal, TraceContext{});
    traces.insert(s.context().trace_id);
    spans.insert(s.context().span_id);
    EXPECT_TRUE(s.context().valid());
  }
  EXPECT_EQ(traces.size(), 500u);
  EXPECT_EQ(spans.size(), 500u);
  EXPECT_EQ(traces.count(TraceId{}), 0u);
}

TEST(TracerTest, DisabledTracerHandsOutNonRecordingSpans) {
  FakeClock clock;
  Tracer tracer(clock, nullptr);
  Span s = tracer.StartSpan(kSpanReconcile);
  SpanScope scope(s);
  EXPECT_FALSE(s.recording());
  EXPECT_FALSE(CurrentTraceContext().valid());
  s.SetAttribute("a", 1);
  s.End();
}

TEST(TracerTest, LogRecordsCarryTheCurrentSpan) {
  FakeClock clock;
  RecordingSink sink;
  Tracer tracer(clock, &sink);
  std::ostringstream out;
  Logger logger(clock, out, LogLevel::kInfo, LogFormat::kJson);
  Span s = tracer.StartSpan(kSpanScaleDeployment, SpanKind::kClient);
  {
    SpanScope scope(s);
    logger.Info("scaling", {{"replicas", int64_t{3}}});
  }
  logger.Info("after");
  const std::string lines = out.str();
  const std::string trace_hex = HexId(s.context().trace_id.data(), 16);
  const std::string span_hex = HexId(s.context().span_id.data(), 8);
  const std::string first = lines.substr(0, lines.find('\n'));
  const std::string second = lines.substr(lines.find('\n') + 1);
  EXPECT_NE(first.find(trace_hex), std::string::npos) << first;
  EXPECT_NE(first.find(span_hex), std::string::npos) << first;
  EXPECT_EQ(second.find("trace_id"), std::string::npos) << second;
}

TEST(TracerTest, ActiveSpanIsCurrentForItsLifetime) {
  FakeClock clock;
  RecordingSink sink;
  Tracer tracer(clock, &sink);
  {
    ActiveSpan root(tracer, kSpanReconcile);
    {
      ActiveSpan child(tracer, kSpanCheckKafkaHealth, SpanKind::kClient);
      EXPECT_EQ(CurrentTraceContext().span_id, child->context().span_id);
      child->SetAttribute(kAttrMessagingSystem, kMessagingSystemKafka);
    }
    EXPECT_EQ(CurrentTraceContext().span_id, root->context().span_id);
    EXPECT_EQ(sink.spans.size(), 1u);  // the child ended with its scope
  }
  EXPECT_FALSE(CurrentTraceContext().valid());
  ASSERT_EQ(sink.spans.size(), 2u);
  EXPECT_EQ(sink.spans[0].parent_span_id, sink.spans[1].span_id);
  EXPECT_EQ(sink.spans[0].kind, SpanKind::kClient);
}

TEST(TracerTest, MovedSpanEndsOnce) {
  FakeClock clock;
  RecordingSink sink;
  Tracer tracer(clock, &sink);
  {
    Span a = tracer.StartSpan("a");
    Span b = std::move(a);
    Span c = tracer.StartSpan("c");
    c = std::move(b);  // ends "c"
  }
  ASSERT_EQ(sink.spans.size(), 2u);
  EXPECT_EQ(sink.spans[0].name, "c");
  EXPECT_EQ(sink.spans[1].name, "a");
}

}  // namespace
}  // namespace kafka_autoscaler::telemetry
