#include "http/health_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "controller/loop.h"
#include "fakes/fake_clock.h"
#include "fakes/fakes.h"

namespace kafka_autoscaler::http {
namespace {

using namespace controller;
using testing::FakeClock;
using testing::FakeMetricSource;
using testing::FakeScaleTarget;

struct Harness {
  Harness() : target(1), board(clock, std::chrono::seconds(10), false) {
    opts.policy.messages_per_pod = 10;
    opts.topics = "orders";
    opts.namespace_name = "default";
    opts.deployment_name = "workers";
    reconciler = std::make_unique<Reconciler>(opts, clock, source, target, nullptr, log, tracer);
    server = std::make_unique<HealthServer>(HealthServerOptions{.host = "127.0.0.1", .port = 0},
                                            board, opts, [] { return std::string("m 1\n"); });
    EXPECT_TRUE(server->Start());
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
  }
  void Tick(Result<kafka::Observation> obs) {
    clock.Advance(std::chrono::seconds(10));
    if (obs) obs->at = clock.Now();
    source.Push(std::move(obs));
    board.TickStarted();
    board.Record(reconciler->Tick());
  }
  FakeClock clock;
  FakeMetricSource source;
  FakeScaleTarget target;
  std::ostringstream out;
  Logger log{clock, out, LogLevel::kDebug, LogFormat::kJson};
  NullTickTracer tracer;
  ReconcilerOptions opts;
  StatusBoard board;
  std::unique_ptr<Reconciler> reconciler;
  std::unique_ptr<HealthServer> server;
  std::unique_ptr<httplib::Client> client;
};

TEST(HealthServerTest, NotReadyBeforeFirstTick) {
  Harness h;
  auto r = h.client->Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(h.client->Get("/healthz")->status, 200);
  auto root = h.client->Get("/");
  EXPECT_EQ(root->status, 503);
  EXPECT_EQ(nlohmann::json::parse(root->body)["status"], "starting");
}

TEST(HealthServerTest, ReadyAndStatusAfterGoodTick) {
  Harness h;
  h.Tick(FakeMetricSource::Backlog(35));
  EXPECT_EQ(h.client->Get("/readyz")->status, 200);
  auto root = h.client->Get("/");
  ASSERT_EQ(root->status, 200);
  auto j = nlohmann::json::parse(root->body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["last_decision"]["backlog"], 35);
  EXPECT_EQ(j["last_decision"]["desired"], 4);
  EXPECT_EQ(j["last_decision"]["action"], "scaled");
  EXPECT_EQ(j["last_decision"]["reason"], "backlog");
  EXPECT_EQ(j["deployment"]["name"], "workers");
  EXPECT_EQ(h.client->Get("/metrics")->body, "m 1\n");
}

TEST(HealthServerTest, KafkaFailureMakesNotReadyWithReason) {
  Harness h;
  h.Tick(FakeMetricSource::Backlog(35));
  h.Tick(MakeError(ErrorCode::kTimeout, "kafka: list offsets: timed out after 800 ms"));
  auto r = h.client->Get("/readyz");
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("timed out"), std::string::npos);
  auto j = nlohmann::json::parse(h.client->Get("/")->body);
  EXPECT_EQ(j["status"], "degraded");
  EXPECT_EQ(j["kafka"]["ok"], false);
  EXPECT_EQ(j["kubernetes"]["ok"], true);
}

TEST(HealthServerTest, RefusedScaleMakesNotReadyWithReason) {
  Harness h;
  h.target.set_error = Error{ErrorCode::kPermissionDenied,
                             "kubernetes: forbidden: need patch on deployments/scale"};
  h.Tick(FakeMetricSource::Backlog(35));  // wants 4, refused
  auto r = h.client->Get("/readyz");
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("kubernetes: kubernetes: forbidden: need patch"), std::string::npos)
      << r->body;
  auto j = nlohmann::json::parse(h.client->Get("/")->body);
  EXPECT_EQ(j["kubernetes"]["ok"], false);
  EXPECT_EQ(j["last_decision"]["action"], "scale_failed");
  // Allowed again: the next tick scales and the daemon is ready.
  h.target.set_error.reset();
  h.Tick(FakeMetricSource::Backlog(35));
  EXPECT_EQ(h.client->Get("/readyz")->status, 200);
  EXPECT_EQ(nlohmann::json::parse(h.client->Get("/")->body)["kubernetes"]["error"], nullptr);
}

TEST(HealthServerTest, LivenessFailsWhenLoopStalls) {
  Harness h;
  h.Tick(FakeMetricSource::Backlog(1));
  h.clock.Advance(std::chrono::seconds(31));  // > 3 intervals of 10 s
  EXPECT_EQ(h.client->Get("/healthz")->status, 503);
}

TEST(LoopTest, RunsMaxTicksThenReturns) {
  Harness h;
  h.source.Push(FakeMetricSource::Backlog(20));
  Loop loop({.interval = std::chrono::milliseconds(1), .max_ticks = 3}, *h.reconciler, h.board,
            [] { return true; }, {});
  StopToken stop;
  EXPECT_EQ(loop.Run(stop), 3);
  EXPECT_EQ(h.board.Snapshot().ticks, 3);
}

TEST(LoopTest, StopsPromptlyWhenSignalled) {
  Harness h;
  h.source.Push(FakeMetricSource::Backlog(20));
  Loop loop({.interval = std::chrono::seconds(3600)}, *h.reconciler, h.board, nullptr, {});
  StopToken stop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    stop.Stop();
  });
  EXPECT_EQ(loop.Run(stop), 1);  // a loop deaf to Stop waits the hour: the ctest timeout
  t.join();
}

TEST(LoopTest, HugeRetryAfterWaitsAtMostTwoIntervals) {
  Harness h;
  h.source.Push(FakeMetricSource::Backlog(20));
  // A hostile or broken server asks for a 1000-hour pause; the loop waits two intervals.
  h.target.get_error = Error{.code = ErrorCode::kResourceExhausted,
                             .message = "kubernetes: throttled",
                             .retry_after = std::chrono::hours(1000)};
  Loop loop({.interval = std::chrono::milliseconds(50), .max_ticks = 3}, *h.reconciler, h.board,
            nullptr, {});
  StopToken stop;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(loop.Run(stop), 3);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(190));  // 2 waits of 2 intervals: backed off
  // Uncapped, the 1000-hour wait would hang until the ctest timeout.
}

TEST(LoopTest, FollowerNeverPatches) {
  Harness h;
  h.source.Push(FakeMetricSource::Backlog(80));
  Loop loop({.interval = std::chrono::milliseconds(1), .max_ticks = 2}, *h.reconciler, h.board,
            [] { return false; }, {});
  StopToken stop;
  loop.Run(stop);
  EXPECT_TRUE(h.target.Sets().empty());
  EXPECT_FALSE(h.board.Snapshot().leader);
}

}  // namespace
}  // namespace kafka_autoscaler::http
