// SCALING_POLICY=wait: what its model concluded reaches the tick's root span.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "controller/reconciler.h"
#include "fakes/fake_clock.h"
#include "fakes/fakes.h"

namespace kafka_autoscaler::controller {
namespace {

// Keeps the attributes of every span, by span name (the last value wins).
class RecordingTracer final : public TickTracer {
 public:
  std::unique_ptr<TickSpan> StartSpan(std::string_view name, SpanKind) override {
    return std::make_unique<Span>(attributes[std::string(name)]);
  }
  std::map<std::string, std::map<std::string, FieldValue>> attributes;

 private:
  struct Span final : TickSpan {
    explicit Span(std::map<std::string, FieldValue>& a) : attrs(a) {}
    void SetAttribute(std::string_view key, FieldValue value) override {
      attrs[std::string(key)] = std::move(value);
    }
    void SetError(std::string_view) override {}
    std::map<std::string, FieldValue>& attrs;
  };
};

TEST(WaitSpanTest, DecisionSpanCarriesTheWaitModel) {
  testing::FakeClock clock;
  testing::FakeMetricSource source;
  testing::FakeScaleTarget target(1);
  testing::FakeEventRecorder events;
  std::ostringstream out;
  Logger log{clock, out, LogLevel::kError, LogFormat::kJson};
  RecordingTracer tracer;
  ReconcilerOptions o;
  o.policy.kind = policy::PolicyKind::kWait;
  o.policy.messages_per_pod = 10;
  o.policy.max_replicas = 10;
  o.topics = "orders";
  o.namespace_name = "default";
  o.deployment_name = "workers";
  Reconciler reconciler(o, clock, source, target, &events, log, tracer);
  auto obs = testing::FakeMetricSource::Backlog(45);
  obs.at = clock.Now();
  source.Push(std::move(obs));
  (void)reconciler.Tick(true);
  const auto& root = tracer.attributes[std::string(kSpanReconcile)];
  ASSERT_TRUE(root.count("kafka_autoscaler.wait.why")) << "no wait attributes on the root span";
  EXPECT_EQ(std::get<std::string>(root.at("kafka_autoscaler.wait.why")), "seed_rule");
  for (const char* key :
       {"kafka_autoscaler.wait.predicted_peak_seconds", "kafka_autoscaler.wait.arrival_rate",
        "kafka_autoscaler.wait.arrival_sigma", "kafka_autoscaler.wait.per_pod_rate",
        "kafka_autoscaler.wait.startup_seconds"}) {
    EXPECT_TRUE(root.count(key)) << key;
  }
  EXPECT_EQ(std::get<std::string>(root.at("kafka_autoscaler.policy")), "wait");
}

}  // namespace
}  // namespace kafka_autoscaler::controller
