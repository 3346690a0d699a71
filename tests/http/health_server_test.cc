#include "http/health_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

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

// No host given: one socket on "::" with IPV6_V6ONLY off answers IPv4 and IPv6 clients (an
// IPv6-only cluster probes the pod's IPv6 address; the old "0.0.0.0" never answered it).
TEST(HealthServerBindTest, DefaultIsDualStack) {
  FakeClock clock;
  StatusBoard board(clock, std::chrono::seconds(10), false);
  HealthServer server(HealthServerOptions{.port = 0}, board, ReconcilerOptions{}, nullptr);
  ASSERT_TRUE(server.Start());
  httplib::Client v4("127.0.0.1", server.port());
  auto r4 = v4.Get("/healthz");
  ASSERT_TRUE(r4) << "IPv4 client refused";
  EXPECT_EQ(r4->status, 200);
  if (std::ifstream("/proc/net/if_inet6").peek() == std::ifstream::traits_type::eof()) {
    GTEST_SKIP() << "no IPv6 on this host: the server fell back to " << server.bound_host();
  }
  EXPECT_EQ(server.bound_host(), "::");
  httplib::Client v6("::1", server.port());
  auto r6 = v6.Get("/healthz");
  ASSERT_TRUE(r6) << "IPv6 client refused: bound " << server.bound_host();
  EXPECT_EQ(r6->status, 200);
}

TEST(HealthServerBindTest, HostIsHonouredAndBindFailuresSayWhere) {
  FakeClock clock;
  StatusBoard board(clock, std::chrono::seconds(10), false);
  HealthServer server(HealthServerOptions{.host = "127.0.0.1", .port = 0}, board,
                      ReconcilerOptions{}, nullptr);
  ASSERT_TRUE(server.Start());
  EXPECT_EQ(server.bound_host(), "127.0.0.1");
  HealthServer clash(HealthServerOptions{.host = "127.0.0.1", .port = server.port()}, board,
                     ReconcilerOptions{}, nullptr);
  auto st = clash.Start();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("127.0.0.1 port " + std::to_string(server.port())),
            std::string::npos)
      << st.error().message;
}

// The board keeps a summary of the last tick: totals, not the per-partition offsets that every
// Snapshot (every HTTP request) would otherwise copy.
TEST(StatusBoardTest, KeepsATickSummaryNotEveryPartition) {
  FakeClock clock;
  StatusBoard board(clock, std::chrono::seconds(10), false);
  TickReport report;
  report.kafka_ok = true;
  report.kube_ok = true;
  kafka::Observation obs;
  for (int p = 0; p < 10'000; ++p) {
    obs.partitions.push_back({.topic = "orders", .partition = p, .low = 0, .high = 5});
  }
  obs.backlog = 50'000;
  obs.partition_count = 10'000;
  report.observation = obs;
  report.time_lag = kafka::TimeLag{.partitions = std::vector<kafka::PartitionTimeLag>(10'000),
                                   .max_seconds = 42.5,
                                   .max_lower_bound = true};
  board.Record(report);
  const auto snap = board.Snapshot();
  ASSERT_TRUE(snap.last_tick && snap.last_tick->observation);
  EXPECT_TRUE(snap.last_tick->observation->partitions.empty())
      << snap.last_tick->observation->partitions.size() << " partitions kept";
  EXPECT_EQ(snap.last_tick->observation->backlog, 50'000);
  const auto j = board.StatusJson(ReconcilerOptions{});
  EXPECT_EQ(j["last_decision"]["partitions"], 10'000);
  EXPECT_EQ(j["last_decision"]["backlog"], 50'000);
  ASSERT_TRUE(snap.last_tick->time_lag);
  EXPECT_TRUE(snap.last_tick->time_lag->partitions.empty());
  EXPECT_EQ(j["last_decision"]["lag_seconds"], 42.5);
  EXPECT_EQ(j["last_decision"]["lag_seconds_lower_bound"], true);
}

// Issue 17 item 2: `GET /` lists the stuck partitions with how long they have been stuck.
TEST(StatusBoardTest, ListsStuckPartitions) {
  FakeClock clock;
  StatusBoard board(clock, std::chrono::seconds(10), false);
  TickReport report;
  report.kafka_ok = true;
  report.kube_ok = true;
  const SteadyTime since = clock.Now();
  report.stuck.push_back(
      {.topic = "orders", .partition = 3, .committed = 120, .lag = 60, .since = since});
  board.Record(report);
  clock.Advance(std::chrono::seconds(400));
  auto j = board.StatusJson(ReconcilerOptions{});
  EXPECT_EQ(j["stuck_partition_count"], 1);
  ASSERT_EQ(j["stuck_partitions"].size(), 1u) << j.dump();
  EXPECT_EQ(j["stuck_partitions"][0]["topic"], "orders");
  EXPECT_EQ(j["stuck_partitions"][0]["partition"], 3);
  EXPECT_EQ(j["stuck_partitions"][0]["committed"], 120);
  EXPECT_EQ(j["stuck_partitions"][0]["lag"], 60);
  EXPECT_EQ(j["stuck_partitions"][0]["stuck_seconds"], 400);
  board.Record(TickReport{});
  j = board.StatusJson(ReconcilerOptions{});
  EXPECT_EQ(j["stuck_partition_count"], 0);
  EXPECT_TRUE(j["stuck_partitions"].empty());
}

TEST(LoopTest, RunsMaxTicksThenReturns) {
  Harness h;
  h.source.Push(FakeMetricSource::Backlog(20));
  Loop loop({.interval = std::chrono::seconds(10), .max_ticks = 3}, h.clock, *h.reconciler, h.board,
            [] { return true; }, {});
  StopToken stop;
  std::thread t([&] { EXPECT_EQ(loop.Run(stop), 3); });
  for (int i = 0; i < 2; ++i) {
    const SteadyTime wake = h.clock.AwaitSleepers();
    h.clock.Advance(wake - h.clock.Now());
  }
  t.join();
  EXPECT_EQ(h.board.Snapshot().ticks, 3);
}

// The loop waits in the Clock's time: with a FakeClock it sleeps exactly one interval after
// each tick started, ticks again only when the clock is advanced that far, and no real time
// passes (an hour-long interval in a unit test).
TEST(LoopTest, WaitsOneIntervalOnTheClock) {
  Harness h;
  h.source.Push(FakeMetricSource::Backlog(20));
  Loop loop({.interval = std::chrono::hours(1), .max_ticks = 2}, h.clock, *h.reconciler, h.board,
            nullptr, {});
  StopToken stop;
  const SteadyTime start = h.clock.Now();
  std::thread t([&] { EXPECT_EQ(loop.Run(stop), 2); });
  EXPECT_EQ(h.clock.AwaitSleepers(), start + std::chrono::hours(1));
  EXPECT_EQ(h.board.Snapshot().ticks, 1);
  h.clock.Advance(std::chrono::minutes(59));
  EXPECT_EQ(h.clock.AwaitSleepers(), start + std::chrono::hours(1)) << "woke early";
  EXPECT_EQ(h.board.Snapshot().ticks, 1);
  h.clock.Advance(std::chrono::minutes(1));
  t.join();
  EXPECT_EQ(h.board.Snapshot().ticks, 2);
}

TEST(LoopTest, StopsPromptlyWhenSignalled) {
  Harness h;
  h.source.Push(FakeMetricSource::Backlog(20));
  Loop loop({.interval = std::chrono::seconds(3600)}, h.clock, *h.reconciler, h.board, nullptr, {});
  StopToken stop;
  int64_t ticks = -1;
  std::thread t([&] { ticks = loop.Run(stop); });
  h.clock.AwaitSleepers();
  stop.Stop();  // the clock never moves: only the stop can end the wait
  t.join();
  EXPECT_EQ(ticks, 1);
}

TEST(LoopTest, HugeRetryAfterWaitsAtMostTwoIntervals) {
  Harness h;
  h.source.Push(FakeMetricSource::Backlog(20));
  // A hostile or broken server asks for a 1000-hour pause; the loop waits two intervals.
  h.target.get_error = Error{.code = ErrorCode::kResourceExhausted,
                             .message = "kubernetes: throttled",
                             .retry_after = std::chrono::hours(1000)};
  const auto interval = std::chrono::seconds(50);
  Loop loop({.interval = interval, .max_ticks = 3}, h.clock, *h.reconciler, h.board, nullptr, {});
  StopToken stop;
  std::thread t([&] { EXPECT_EQ(loop.Run(stop), 3); });
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    const SteadyTime now = h.clock.Now();
    EXPECT_EQ(h.clock.AwaitSleepers(), now + 2 * interval);  // backed off, and no more
    h.clock.Advance(2 * interval);
  }
  t.join();
}

TEST(LoopTest, FollowerNeverPatches) {
  Harness h;
  h.source.Push(FakeMetricSource::Backlog(80));
  Loop loop({.interval = std::chrono::seconds(10), .max_ticks = 2}, h.clock, *h.reconciler, h.board,
            [] { return false; }, {});
  StopToken stop;
  std::thread t([&] { loop.Run(stop); });
  h.clock.Advance(h.clock.AwaitSleepers() - h.clock.Now());
  t.join();
  EXPECT_TRUE(h.target.Sets().empty());
  EXPECT_FALSE(h.board.Snapshot().leader);
}

}  // namespace
}  // namespace kafka_autoscaler::http
