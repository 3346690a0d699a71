// The fault matrix (docs/reliability.md): each case runs the real daemon binary against the
// librdkafka mock cluster, the test API server and (telemetry cases) the test OTLP receiver,
// injects one fault from a steady state and checks the reliability contract (SPEC.md §6):
// replicas stay in range, no scale on a failed observation, the error kind is counted in
// /metrics and logged, /readyz reflects it, and the daemon recovers within 2 ticks of the fault
// clearing. 1 s ticks; every case is its own ctest test, so `ctest -j 2` runs two at a time.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "faults/harness.h"
#include "otlp_receiver.h"

namespace kafka_autoscaler::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Kafka protocol API keys the mock can fail (rdkafka_protocol.h).
constexpr int16_t kApiListOffsets = 2;
constexpr int16_t kApiOffsetFetch = 9;
constexpr size_t kForever = 1'000'000;  // injected errors that last until cleared
constexpr char kInvalidCommitMsg[] = "committed offset beyond the end of the partition";
constexpr char kUncommittedMsg[] = "consumer group has no committed offset";

class FaultMatrix : public ::testing::Test {
 protected:
  // Kafka with 30 messages (6 × 5, the group committed 0 everywhere): lag 30 → 3 replicas, steady.
  void Boot(HarnessOptions options = {}, std::map<std::string, std::string> env = {}) {
    h_ = std::make_unique<Harness>(::testing::UnitTest::GetInstance()->current_test_info()->name(),
                                   std::move(options));
    ASSERT_TRUE(h_->ok()) << h_->error();
    ASSERT_TRUE(h_->Produce(5));
    daemon_ = h_->Start(std::move(env));
    ASSERT_TRUE(h_->WaitSteady(3))
        << "no steady state: replicas " << h_->Replicas() << " " << h_->Status().dump() << "\n"
        << daemon_->Stderr();
  }
  void TearDown() override {
    if (daemon_ && daemon_->Running()) {
      daemon_->Signal(SIGTERM);
      EXPECT_EQ(daemon_->Wait(seconds(8)), 0) << "no clean exit on SIGTERM";
    }
  }
  void Run(const FaultCase& c, int replicas = 3) {
    if (HasFatalFailure()) return;
    RunFaultCase(*h_, *daemon_, replicas, c);
  }
  std::string RequestLog() {
    std::string out;
    for (const auto& r : h_->api().Requests()) {
      out += r.method + " " + r.path + " " + std::to_string(r.status) + " " + r.user + "\n";
    }
    return out;
  }
  void SetAllRtt(int rtt_ms) {
    for (int b = 1; b <= 3; ++b) ASSERT_TRUE(h_->kafka().SetRtt(b, rtt_ms));
  }

  std::unique_ptr<Harness> h_;
  std::unique_ptr<Process> daemon_;
};

// ---------------------------------------------------------------------------------------------
// Kafka

TEST_F(FaultMatrix, KafkaOneBrokerDown) {
  Boot();
  Run({.kind = "kafka_unavailable",
       .inject = [&] { ASSERT_TRUE(h_->kafka().SetBrokerDown(1)); },
       .clear = [&] { ASSERT_TRUE(h_->kafka().SetBrokerUp(1)); }});
}

TEST_F(FaultMatrix, KafkaAllBrokersDownThenBack) {
  Boot();
  Run({.kind = "kafka_unavailable",
       .inject =
           [&] {
             for (int b = 1; b <= 3; ++b) ASSERT_TRUE(h_->kafka().SetBrokerDown(b));
           },
       .clear =
           [&] {
             for (int b = 1; b <= 3; ++b) ASSERT_TRUE(h_->kafka().SetBrokerUp(b));
           }});
}

TEST_F(FaultMatrix, KafkaRttAboveTickDeadline) {
  Boot();
  Run({.kind = "kafka_timeout",
       .inject = [&] { SetAllRtt(1500); },
       .clear = [&] { SetAllRtt(0); }});
  // Slow brokers are a timeout (librdkafka may also drop a connection that outlived its
  // socket timeout: unavailable); never a permission, protocol or missing-topic error.
  for (const auto& j : Harness::LogLines(*daemon_, "kafka observation failed; holding replicas")) {
    const std::string kind = j.value("error_kind", "");
    EXPECT_TRUE(kind == "kafka_timeout" || kind == "kafka_unavailable") << j.dump();
  }
}

TEST_F(FaultMatrix, KafkaGroupAuthorizationFailed) {
  Boot();
  Run({.kind = "kafka_permission_denied",
       .inject =
           [&] {
             h_->kafka().PushRequestErrors(kApiOffsetFetch,
                                           RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, kForever);
           },
       .clear = [&] { h_->kafka().ClearRequestErrors(kApiOffsetFetch); }});
}

TEST_F(FaultMatrix, KafkaTopicDeletedMidRun) {
  Boot();
  Run({.kind = "kafka_not_found",
       .inject =
           [&] {
             // As a real cluster answers for a deleted topic: in Metadata and in ListOffsets (the
             // mock itself fails only Metadata for it).
             h_->kafka().SetTopicError(kTopic, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
             h_->kafka().PushRequestErrors(kApiListOffsets, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                           kForever);
           },
       .clear =
           [&] {
             h_->kafka().SetTopicError(kTopic, RD_KAFKA_RESP_ERR_NO_ERROR);
             h_->kafka().ClearRequestErrors(kApiListOffsets);
           }});
}

TEST_F(FaultMatrix, KafkaTopicAuthorizationFailed) {
  Boot();
  Run({.kind = "kafka_permission_denied",
       .inject =
           [&] {
             h_->kafka().SetTopicError(kTopic, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
             h_->kafka().PushRequestErrors(kApiListOffsets,
                                           RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, kForever);
           },
       .clear =
           [&] {
             h_->kafka().SetTopicError(kTopic, RD_KAFKA_RESP_ERR_NO_ERROR);
             h_->kafka().ClearRequestErrors(kApiListOffsets);
           }});
}

TEST_F(FaultMatrix, KafkaNotLeaderOnListOffsets) {
  Boot();
  Run({.kind = "kafka_unavailable",
       .inject =
           [&] {
             h_->kafka().PushRequestErrors(kApiListOffsets,
                                           RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, kForever);
           },
       .clear = [&] { h_->kafka().ClearRequestErrors(kApiListOffsets); }});
}

TEST_F(FaultMatrix, KafkaCoordinatorLoadInProgress) {
  Boot();
  // The coordinator is loading the group's offsets (after a move): OffsetFetch answers
  // COORDINATOR_LOAD_IN_PROGRESS until it is done. librdkafka keeps retrying within the tick's
  // deadline, so the tick fails as a timeout.
  Run({.kind = "kafka_timeout",
       .inject =
           [&] {
             h_->kafka().PushRequestErrors(
                 kApiOffsetFetch, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, kForever);
           },
       .clear = [&] { h_->kafka().ClearRequestErrors(kApiOffsetFetch); }});
}

// The group's coordinator moved (a broker restart): OffsetFetch answers NOT_COORDINATOR.
// Regression: librdkafka 2.0.2's admin ListConsumerGroupOffsets crashed on that answer (a NULL
// consumer group in rd_kafka_handle_OffsetFetch, upstream librdkafka#5040); the source now reads
// commits with rd_kafka_committed() on a handle that carries group.id.
TEST_F(FaultMatrix, KafkaNotCoordinatorOnOffsetFetch) {
  Boot();
  Run({.kind = "kafka_unavailable",
       .inject =
           [&] {
             h_->kafka().PushRequestErrors(kApiOffsetFetch, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
                                           kForever);
           },
       .clear = [&] { h_->kafka().ClearRequestErrors(kApiOffsetFetch); }});
}

TEST_F(FaultMatrix, KafkaCommittedOffsetMovesBackwards) {
  Boot();
  // The group catches up (lag 0 → MIN_REPLICAS 1), then its offsets are reset to the start
  // (a consumer's offset reset): the lag is the whole topic again, 3 replicas within 2 ticks,
  // and no consumed throughput is made up from the backwards move.
  ASSERT_TRUE(h_->CommitLeaving(5, 0));
  ASSERT_TRUE(h_->WaitSteady(1));
  const int64_t reset_at = h_->Ticks();
  ASSERT_TRUE(h_->CommitLeaving(5, 30));
  int64_t scaled_at = -1;
  ASSERT_TRUE(Eventually(
      [&] {
        if (h_->Replicas() != 3) return false;
        scaled_at = h_->Ticks();
        return true;
      },
      seconds(10)));
  EXPECT_LE(scaled_at - reset_at, 3);
  for (int i = 0; i < 10; ++i) {
    const auto last = h_->Status()["last_decision"];
    if (last.contains("consumed_per_minute")) {
      EXPECT_GE(last["consumed_per_minute"].get<double>(), 0) << last.dump();
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  // A commit beyond the high watermark is invalid (issue 13 item 1): the reset policy
  // (earliest) counts its partition whole, never 0 nor a negative lag that hides the others:
  // partition 0 at 100 (high 5), the rest at 0 → lag 30 → 3 replicas, kept.
  ASSERT_TRUE(h_->kafka().Commit(kGroup, {{kTopic, 0, 100}}));
  const int64_t invalid_at = h_->Ticks();
  EXPECT_TRUE(Eventually(
      [&] {
        return h_->Ticks() >= invalid_at + 3 &&
               h_->Status()["last_decision"].value("backlog", -1) == 30;
      },
      seconds(10)))
      << h_->Status().dump();
  EXPECT_EQ(h_->Replicas(), 3);
  EXPECT_EQ(h_->ReadyStatus(), 200);
  EXPECT_EQ(h_->ErrorCount("kafka_incomplete") + h_->ErrorCount("kafka_protocol"), 0);
  // Counted on /metrics, and one warning for the episode (3 ticks) naming what is wrong.
  EXPECT_EQ(h_->MetricValue("kafka_autoscaler_invalid_commit_partitions"), 1);
  auto warned = Harness::LogLines(*daemon_, kInvalidCommitMsg);
  ASSERT_EQ(warned.size(), 1u);
  EXPECT_EQ(warned[0]["level"], "warn");
  EXPECT_EQ(warned[0]["topic"], kTopic);
  EXPECT_EQ(warned[0]["partition"], 0);
  EXPECT_EQ(warned[0]["committed"], 100);
  EXPECT_EQ(warned[0]["high"], 5);
  // A valid commit ends the episode: the gauge returns to 0.
  ASSERT_TRUE(h_->kafka().Commit(kGroup, {{kTopic, 0, 0}}));
  EXPECT_TRUE(
      Eventually([&] { return h_->MetricValue("kafka_autoscaler_invalid_commit_partitions") == 0; },
                 seconds(10)));
  Harness::ExpectScaledWithin(*daemon_, 0, kMaxReplicas);
}

// Issue 17 item 2: a consumer that stops committing one partition (a poison message) while it
// keeps committing the others. Every round (~300 ms) one message lands on each partition;
// partitions 1-5 are committed to their end, partition 0 stays at offset 5, so its lag grows by
// one a round: 60 rounds take it to 60 (ceil(60/10) = 6 pods: the seed's rule holds
// MAX_REPLICAS 5). With STUCK_AFTER_SECONDS=2 and EXCLUDE_STUCK_LAG=true it is stuck within ~3 s
// (lag ~10) and its lag no longer counts for scale-up: the Deployment never reaches MAX_REPLICAS. One Warning Event
// names topic, partition and committed offset; the gauge shows 1. The control case (same load,
// EXCLUDE_STUCK_LAG=false) shows the load is strong enough to reach MAX without the exclusion.
class StuckPartitionFault : public FaultMatrix {
 protected:
  // Returns the most replicas seen after the stuck episode has begun.
  int RunStuckLoad(bool exclude) {
    Boot({}, {{"STUCK_AFTER_SECONDS", "2"}, {"EXCLUDE_STUCK_LAG", exclude ? "true" : "false"}});
    if (HasFatalFailure()) return -1;
    int64_t high = 5;
    EXPECT_TRUE(h_->CommitLeaving(high, 0));  // every partition at its end: lag 0
    int most = 0;
    for (int round = 0; round < 60; ++round) {
      EXPECT_TRUE(h_->Produce(1));
      high += 1;
      std::vector<kafka::testing::CommitOffset> others;
      for (int p = 1; p < kPartitions; ++p) others.push_back({kTopic, p, high});
      EXPECT_TRUE(h_->kafka().Commit(kGroup, others).has_value());
      std::this_thread::sleep_for(milliseconds(250));
      most = std::max(most, h_->Replicas());
    }
    // Let the daemon see the final lag (60 on partition 0) for a few ticks.
    const int64_t ticks = h_->Ticks();
    EXPECT_TRUE(Eventually(
        [&] {
          most = std::max(most, h_->Replicas());
          return h_->Ticks() >= ticks + 3;
        },
        seconds(15)));
    most = std::max(most, h_->Replicas());
    return most;
  }
  int StuckEvents() {
    int n = 0;
    for (const auto& e : h_->api().Events(kNamespace)) {
      if (e.value("reason", "") != "StuckPartition") continue;
      EXPECT_EQ(e.value("type", ""), "Warning");
      EXPECT_NE(e.value("message", "").find("partition orders/0 of group workers stuck at "
                                            "committed offset 5"),
                std::string::npos)
          << e.dump();
      ++n;
    }
    return n;
  }
};

TEST_F(StuckPartitionFault, ExcludedStuckLagNeverRunsToMaxReplicas) {
  const int most = RunStuckLoad(/*exclude=*/true);
  if (HasFatalFailure()) return;
  const auto status = h_->Status();
  EXPECT_LT(most, kMaxReplicas) << status.dump();
  EXPECT_EQ(StuckEvents(), 1);
  EXPECT_EQ(h_->MetricValue("kafka_autoscaler_stuck_partitions"), 1);
  ASSERT_EQ(status["stuck_partitions"].size(), 1u) << status.dump();
  EXPECT_EQ(status["stuck_partitions"][0]["partition"], 0);
  EXPECT_EQ(status["stuck_partitions"][0]["committed"], 5);
  EXPECT_EQ(Harness::LogLines(*daemon_, "partition stuck").size(), 1u);
  EXPECT_GE(status["last_decision"].value("backlog", int64_t{-1}), 60) << status.dump();
  // The consumer gets past the message: the episode ends, the gauge drops to 0.
  EXPECT_TRUE(h_->CommitLeaving(65, 0));
  EXPECT_TRUE(Eventually(
      [&] { return h_->MetricValue("kafka_autoscaler_stuck_partitions") == 0; }, seconds(10)));
  EXPECT_FALSE(Harness::LogLines(*daemon_, "partition no longer stuck").empty());
  Harness::ExpectScaledWithin(*daemon_, 0, kMaxReplicas);
}

TEST_F(StuckPartitionFault, WithoutExclusionTheStuckLagRunsToMaxReplicas) {
  const int most = RunStuckLoad(/*exclude=*/false);
  if (HasFatalFailure()) return;
  EXPECT_EQ(most, kMaxReplicas) << h_->Status().dump();
  EXPECT_EQ(StuckEvents(), 1);  // reported all the same
  EXPECT_EQ(h_->MetricValue("kafka_autoscaler_stuck_partitions"), 1);
}

// Issue 13 item 7: a group that never committed holds at MIN_REPLICAS (1), not at the
// reset policy's lag (earliest: 30 → 3), warns once and counts its partitions on /metrics, until
// its first commit.
TEST_F(FaultMatrix, GroupThatNeverCommittedHoldsAtMinReplicasUntilItsFirstCommit) {
  h_ = std::make_unique<Harness>(::testing::UnitTest::GetInstance()->current_test_info()->name());
  ASSERT_TRUE(h_->ok()) << h_->error();
  ASSERT_TRUE(h_->Produce(5));  // 30 messages; the group "fresh" has no commit at all
  daemon_ = h_->Start({{"KAFKA_CONSUMER_GROUP", "fresh"}});
  ASSERT_TRUE(Eventually(
      [&] {
        const auto last = h_->Status()["last_decision"];
        return h_->Ticks() >= 3 && last.is_object() && last.value("reason", "") == "uncommitted";
      },
      seconds(20)))
      << h_->Status().dump() << "\n"
      << daemon_->Stderr();
  EXPECT_EQ(h_->Replicas(), 1);
  EXPECT_EQ(h_->Patches(), 0);
  EXPECT_EQ(h_->MetricValue("kafka_autoscaler_uncommitted_partitions"), kPartitions);
  EXPECT_EQ(Harness::LogLines(*daemon_, kUncommittedMsg).size(), 1u);
  // The first commit, on one partition: the lag rules apply again (30 → 3); the other five
  // partitions are still counted.
  ASSERT_TRUE(h_->kafka().Commit("fresh", {{kTopic, 0, 0}}));
  EXPECT_TRUE(Eventually([&] { return h_->Replicas() == 3; }, seconds(10)));
  EXPECT_TRUE(Eventually(
      [&] { return h_->MetricValue("kafka_autoscaler_uncommitted_partitions") == kPartitions - 1; },
      seconds(10)));
}

// ---------------------------------------------------------------------------------------------
// Kubernetes

TEST_F(FaultMatrix, KubeServerErrors) {
  Boot();
  Run({.kind = "kube_unavailable",
       .inject =
           [&] {
             h_->api().InjectFault({.kind = FaultKind::kServerError,
                                    .path_contains = "/deployments/workers",
                                    .times = static_cast<int>(kForever)});
           },
       .clear = [&] { h_->api().ClearFaults(); }});
}

TEST_F(FaultMatrix, KubeConflictStormOnPatch) {
  Boot();
  // Every write conflicts while more backlog asks for 5 replicas: retries re-read, give up,
  // nothing half-applied; once the storm ends the scale goes through.
  Run({.kind = "kube_conflict",
       .inject =
           [&] {
             h_->api().InjectFault({.kind = FaultKind::kConflict,
                                    .method = "PATCH",
                                    .path_contains = "/scale",
                                    .times = static_cast<int>(kForever)});
             ASSERT_TRUE(h_->Produce(2));  // lag 42 → 5
           },
       .clear = [&] { h_->api().ClearFaults(); },
       .patches_allowed = true,
       .replicas_after = 5});
}

// Issue 13 item 3: a 409 is never re-sent within the tick; the next tick reads and decides
// again. So a conflict storm costs one PATCH per tick, each after a fresh read of the scale.
TEST_F(FaultMatrix, KubeConflictIsNeverReSentWithinATick) {
  Boot();
  h_->api().InjectFault({.kind = FaultKind::kConflict,
                         .method = "PATCH",
                         .path_contains = "/scale",
                         .times = static_cast<int>(kForever)});
  h_->api().ClearRequests();
  const int64_t ticks_before = h_->Ticks();
  ASSERT_TRUE(h_->Produce(2));  // lag 42 → 5
  ASSERT_TRUE(Eventually([&] { return h_->Patches() >= 3; }, seconds(15))) << RequestLog();
  const int64_t ticks_after = h_->Ticks();
  h_->api().ClearFaults();
  int patches = 0;
  bool read_since_patch = true;
  for (const auto& r : h_->api().Requests()) {
    if (r.method == "GET" && r.path.find("/scale") != std::string::npos) read_since_patch = true;
    if (r.method != "PATCH") continue;
    ++patches;
    EXPECT_TRUE(read_since_patch) << "a PATCH without a fresh read before it:\n" << RequestLog();
    read_since_patch = false;
  }
  // One tick may still be running at each end of the window.
  EXPECT_LE(patches, ticks_after - ticks_before + 2)
      << "conflicting writes were re-sent within a tick:\n"
      << RequestLog();
  EXPECT_TRUE(Eventually([&] { return h_->Replicas() == 5; }, seconds(10)));
}

// Issue 13 item 3: another writer (kubectl scale, an operator) changes spec.replicas. The
// daemon detects it, counts it, logs it, posts one Warning Event, reports it on /readyz, and
// does not fight: it holds until the value was left alone for OTHER_WRITER_HOLD_SECONDS, then
// works from the value found.
TEST_F(FaultMatrix, OtherWriterIsReportedAndNeverFought) {
  Boot({}, {{"OTHER_WRITER_HOLD_SECONDS", "4"}});
  h_->api().ClearRequests();
  ASSERT_TRUE(h_->api().PatchDeployment(kNamespace, kDeployment, {{"spec", {{"replicas", 5}}}}));
  ASSERT_TRUE(Eventually(
      [&] { return h_->MetricValue("kafka_autoscaler_foreign_writes_total") >= 1; }, seconds(10)))
      << "foreign write not counted; replicas " << h_->Replicas() << "\n"
      << RequestLog();
  EXPECT_EQ(h_->ReadyStatus(), 503);
  const auto [status, body] = HttpGet(h_->port(), "/readyz");
  EXPECT_NE(body.find("other writer: spec.replicas changed from 3 to 5"), std::string::npos)
      << body;
  EXPECT_FALSE(Harness::LogLines(*daemon_, "replicas changed by another writer").empty());
  // Held, not fought, for a few ticks.
  const int64_t ticks = h_->Ticks();
  ASSERT_TRUE(Eventually([&] { return h_->Ticks() >= ticks + 2; }, seconds(10)));
  EXPECT_EQ(h_->Patches(), 0) << RequestLog();
  EXPECT_EQ(h_->Replicas(), 5);
  EXPECT_EQ(h_->MetricValue("kafka_autoscaler_foreign_writes_total"), 1);
  int warnings = 0;
  for (const auto& e : h_->api().Events(kNamespace)) {
    if (e.value("reason", "") == "OtherWriter" && e.value("type", "") == "Warning") ++warnings;
  }
  EXPECT_EQ(warnings, 1);
  // Left alone for 4 s: back to scaling by the backlog (lag 30 → 3), and ready.
  ASSERT_TRUE(
      Eventually([&] { return h_->Replicas() == 3 && h_->ReadyStatus() == 200; }, seconds(15)))
      << h_->Status().dump();
  Harness::ExpectScaledWithin(*daemon_, 0, kMaxReplicas);
}

// Issue 13 item 3: an HPA that targets the same Deployment: hold, warn once, not ready — never
// a tug of war. Deleting the HPA resumes scaling.
TEST_F(FaultMatrix, HorizontalPodAutoscalerOnTheSameDeploymentIsNotFought) {
  Boot();
  h_->api().AddHorizontalPodAutoscaler(kNamespace, "workers-cpu", kDeployment);
  ASSERT_TRUE(Eventually([&] { return h_->ReadyStatus() == 503; }, seconds(10)))
      << h_->Status().dump();
  h_->api().ClearRequests();
  ASSERT_TRUE(h_->Produce(2));  // lag 42 → 5
  const int64_t ticks = h_->Ticks();
  ASSERT_TRUE(Eventually([&] { return h_->Ticks() >= ticks + 3; }, seconds(15)));
  EXPECT_EQ(h_->Patches(), 0) << RequestLog();
  EXPECT_EQ(h_->Replicas(), 3);
  const auto [status, body] = HttpGet(h_->port(), "/readyz");
  EXPECT_EQ(status, 503);
  EXPECT_NE(body.find("HorizontalPodAutoscaler default/workers-cpu also scales this Deployment"),
            std::string::npos)
      << body;
  int warnings = 0;
  for (const auto& e : h_->api().Events(kNamespace)) {
    if (e.value("reason", "") == "OtherAutoscaler" && e.value("type", "") == "Warning") ++warnings;
  }
  EXPECT_EQ(warnings, 1);
  ASSERT_TRUE(h_->api().DeleteHorizontalPodAutoscaler(kNamespace, "workers-cpu"));
  EXPECT_TRUE(
      Eventually([&] { return h_->Replicas() == 5 && h_->ReadyStatus() == 200; }, seconds(10)));
}

TEST_F(FaultMatrix, KubeTooManyRequestsHonoursRetryAfter) {
  Boot();
  const double before = h_->ErrorCount("kube_resource_exhausted");
  h_->api().ClearRequests();
  h_->api().InjectFault({.kind = FaultKind::kTooManyRequests,
                         .method = "GET",
                         .path_contains = "/deployments/workers",
                         .times = static_cast<int>(kForever),
                         .retry_after_seconds = 2});
  ASSERT_TRUE(
      Eventually([&] { return h_->ErrorCount("kube_resource_exhausted") > before; }, seconds(10)));
  EXPECT_TRUE(Harness::LoggedKind(*daemon_, "kube_resource_exhausted"));
  EXPECT_TRUE(Eventually([&] { return h_->ReadyStatus() == 503; }, seconds(5)));
  // Backing off: 1 s ticks, but Retry-After 2 s spaces them out (~2 s apart).
  const int64_t t0 = h_->Ticks();
  std::this_thread::sleep_for(milliseconds(8000));
  const int64_t ticks = h_->Ticks() - t0;
  EXPECT_GE(ticks, 2) << "the loop stopped";
  EXPECT_LE(ticks, 5) << "Retry-After ignored: " << ticks << " ticks in 8 s";
  EXPECT_EQ(h_->Patches(), 0) << RequestLog();
  EXPECT_EQ(h_->Replicas(), 3);
  EXPECT_EQ(HttpGet(h_->port(), "/healthz").first, 200) << "backoff must not fail liveness";
  h_->api().ClearFaults();
  EXPECT_TRUE(Eventually([&] { return h_->ReadyStatus() == 200; }, seconds(8)));
}

TEST_F(FaultMatrix, KubeUnauthorizedAfterTokenRotation) {
  Boot({.token_file = true});
  // The server rotates the token; the file still holds the old one: 401, clear error. Then the
  // kubelet writes the new token to the file: the next tick reads it and succeeds.
  Run({.kind = "kube_unauthenticated",
       .inject = [&] { h_->api().RotateToken(kToken, "rotated-token"); },
       .clear = [&] { ASSERT_TRUE(h_->WriteTokenFile("rotated-token")); }});
  auto lines = Harness::LogLines(*daemon_, "kubernetes read failed; holding replicas");
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().value("error", "").find("unauthorized"), std::string::npos)
      << lines.back().dump();
}

TEST_F(FaultMatrix, KubeTokenRotatedAndFileUpdatedTogether) {
  Boot({.token_file = true});
  // The usual rotation: the file changes first, the old token expires later. The 401 makes the
  // client re-read the file and retry once: no failed tick at all.
  h_->api().ClearRequests();
  ASSERT_TRUE(h_->WriteTokenFile("rotated-token"));
  h_->api().RotateToken(kToken, "rotated-token");
  const int64_t t0 = h_->Ticks();
  ASSERT_TRUE(Eventually([&] { return h_->Ticks() >= t0 + 3; }, seconds(10)));
  EXPECT_EQ(h_->ErrorCount("kube_unauthenticated"), 0);
  EXPECT_EQ(h_->ReadyStatus(), 200);
}

TEST_F(FaultMatrix, KubeForbiddenPatch) {
  Boot();
  Run({.kind = "kube_permission_denied",
       .inject =
           [&] {
             h_->api().SetToken(
                 {.token = kToken,
                  .allow_all = false,
                  .rules = {{.verbs = {"get"}, .resources = {"deployments", "deployments/scale"}},
                            {.verbs = {"list"}, .resources = {"horizontalpodautoscalers"}},
                            {.verbs = {"create", "patch"}, .resources = {"events"}},
                            {.verbs = {"*"}, .resources = {"leases"}}}});
             ASSERT_TRUE(h_->Produce(2));  // lag 42 → 5, refused
           },
       .clear = [&] { h_->api().SetToken({.token = kToken}); },
       .patches_allowed = true,  // refused by the server (403), never applied
       .replicas_after = 5});
  auto lines = Harness::LogLines(*daemon_, "scaling failed");
  ASSERT_FALSE(lines.empty());
  const std::string error = lines.front().value("error", "");
  EXPECT_NE(error.find("patch"), std::string::npos) << error;
  EXPECT_NE(error.find("deployments/scale"), std::string::npos) << error;
}

TEST_F(FaultMatrix, KubeDeploymentDeletedAndRecreated) {
  Boot();
  std::string new_uid;
  Run({.kind = "kube_not_found",
       .inject = [&] { ASSERT_TRUE(h_->api().DeleteDeployment(kNamespace, kDeployment)); },
       .clear =
           [&] {
             // Recreated by someone else at 1 replica: a new uid; the daemon scales it back to 3.
             new_uid = h_->api().AddDeployment(kNamespace, kDeployment, 1)["metadata"]["uid"];
           },
       .replicas_after = 3,
       .replicas_during = -1});  // gone
  // The scale-up of the new Deployment is reported on the new object, not the deleted one.
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& e : h_->api().Events(kNamespace)) {
          if (e["reason"] == "ScaledUp" && e["involvedObject"]["uid"] == new_uid) return true;
        }
        return false;
      },
      seconds(5)));
}

TEST_F(FaultMatrix, KubeApiServerUnreachable) {
  Boot({.insecure_tls = true});
  Run({.kind = "kube_unavailable",
       .inject = [&] { h_->StopApiServer(); },
       .clear = [&] { ASSERT_TRUE(h_->RestartApiServer()); }});
}

TEST_F(FaultMatrix, KubeConnectionDroppedMidResponse) {
  Boot();
  Run({.kind = "kube_unavailable",
       .inject =
           [&] {
             h_->api().InjectFault({.kind = FaultKind::kDrop,
                                    .method = "GET",
                                    .path_contains = "/deployments/workers",
                                    .times = static_cast<int>(kForever)});
           },
       .clear = [&] { h_->api().ClearFaults(); }});
}

TEST_F(FaultMatrix, KubeRequestHangsPastTimeout) {
  Boot();
  Run({.kind = "kube_timeout",
       .inject =
           [&] {
             h_->api().InjectFault({.kind = FaultKind::kDelay,
                                    .method = "GET",
                                    .path_contains = "/deployments/workers",
                                    .times = static_cast<int>(kForever),
                                    .delay = seconds(5)});
           },
       .clear = [&] { h_->api().ClearFaults(); }});
  // The hanging request was cut at the client's timeout: ticks stayed short.
  for (const auto& j : Harness::LogLines(*daemon_, "kubernetes read failed; holding replicas")) {
    EXPECT_EQ(j.value("error_kind", ""), "kube_timeout") << j.dump();
  }
}

TEST_F(FaultMatrix, KubeTlsCaMismatch) {
  h_ = std::make_unique<Harness>("KubeTlsCaMismatch");
  ASSERT_TRUE(h_->ok()) << h_->error();
  ASSERT_TRUE(h_->Produce(5));
  // A kubeconfig trusting another CA: every TLS handshake fails, no request reaches a handler.
  auto other = GenerateTlsFiles((h_->dir()).string());
  ASSERT_TRUE(other) << other.error().message;
  const std::string bad = (h_->dir() / "kubeconfig-bad-ca").string();
  ASSERT_TRUE(h_->WriteKubeconfig(bad, kToken, other->ca_cert));
  daemon_ = h_->Start({{"KUBECONFIG", bad}});
  ASSERT_TRUE(Eventually([&] { return h_->ErrorCount("kube_unavailable") >= 2; }, seconds(15)))
      << h_->Status().dump() << daemon_->Stderr();
  EXPECT_TRUE(Harness::LoggedKind(*daemon_, "kube_unavailable"));
  auto lines = Harness::LogLines(*daemon_, "kubernetes read failed; holding replicas");
  ASSERT_FALSE(lines.empty());
  const std::string error = lines.front().value("error", "");
  EXPECT_TRUE(error.find("certificate") != std::string::npos ||
              error.find("SSL") != std::string::npos || error.find("TLS") != std::string::npos)
      << "the error does not say it is TLS: " << error;
  EXPECT_EQ(h_->ReadyStatus(), 503);
  EXPECT_EQ(HttpGet(h_->port(), "/healthz").first, 200);
  for (const auto& r : h_->api().Requests()) {
    ADD_FAILURE() << "a request got through an untrusted TLS session: " << r.method << " "
                  << r.path;
  }
  EXPECT_EQ(h_->Replicas(), 1);
  // Certificates are read at start-up: the fix is a restart with the right CA.
  daemon_->Signal(SIGTERM);
  ASSERT_EQ(daemon_->Wait(seconds(8)), 0);
  daemon_ = h_->Start();
  EXPECT_TRUE(h_->WaitSteady(3)) << h_->Status().dump();
}

// ---------------------------------------------------------------------------------------------
// Telemetry: the collector's trouble never touches scaling or readiness.

class TelemetryFaults : public FaultMatrix {
 protected:
  std::map<std::string, std::string> OtelEnv(const std::string& endpoint) {
    return {{"OTEL_SDK_DISABLED", "false"},
            {"OTEL_EXPORTER_OTLP_ENDPOINT", endpoint},
            {"OTEL_EXPORTER_OTLP_TIMEOUT", "1000"},
            {"OTEL_METRIC_EXPORT_INTERVAL", "1000"},
            {"OTEL_BSP_SCHEDULE_DELAY", "200"}};
  }
  // Scaling from 3 to 5 on new backlog takes at most 2 ticks with the collector in trouble, and
  // no tick waits on the collector: with `collector_delay`, a tick that waited would last at
  // least that long (the daemon's own deadlines keep a tick near one interval).
  void ExpectScalingUnaffected(std::chrono::milliseconds collector_delay = {}) {
    const int64_t t0 = h_->Ticks();
    ASSERT_TRUE(h_->Produce(2));  // lag 42 → 5
    int64_t t1 = -1;
    ASSERT_TRUE(Eventually(
        [&] {
          if (h_->Replicas() != 5) return false;
          t1 = h_->Ticks();
          return true;
        },
        seconds(10)));
    EXPECT_LE(t1 - t0, 3);
    EXPECT_EQ(h_->ReadyStatus(), 200);
    if (collector_delay.count() > 0) {
      const double duration = h_->Status()["last_decision"].value("duration_seconds", 99.0);
      EXPECT_LT(duration, std::chrono::duration<double>(collector_delay).count())
          << "a tick waited on the collector";
    }
  }
};

TEST_F(TelemetryFaults, CollectorDown) {
  Boot({}, OtelEnv("http://127.0.0.1:" + std::to_string(FreePort())));
  ASSERT_TRUE(Eventually(
      [&] {
        return h_->MetricValue("kafka_autoscaler_telemetry_dropped_total{signal=\"traces\"}") > 0;
      },
      seconds(15)))
      << "drops not counted";
  // The counter moves before the line is written (Exporter::CountDropped): wait for the line too
  // (an ASan run read the counter, then found no line yet).
  EXPECT_TRUE(Eventually(
      [&] {
        return !Harness::LogLines(*daemon_, "telemetry export failed; batch dropped").empty();
      },
      seconds(5)))
      << "drops not logged";
  ExpectScalingUnaffected();
}

TEST_F(TelemetryFaults, Collector503Then200) {
  TestOtlpReceiver receiver;
  std::vector<ScriptedResponse> unavailable(4, ScriptedResponse{.status = 503});
  receiver.Script("/v1/traces", unavailable);
  Boot({}, OtelEnv(receiver.url()));
  // Retried (503 is retryable), then accepted.
  ASSERT_TRUE(receiver.WaitForRequests("/v1/traces", 6, seconds(20)));
  ExpectScalingUnaffected();
  const size_t before = receiver.Requests("/v1/traces").size();
  EXPECT_TRUE(receiver.WaitForRequests("/v1/traces", before + 1, seconds(10)))
      << "export did not resume after the 503s";
}

TEST_F(TelemetryFaults, CollectorSlow) {
  TestOtlpReceiver receiver;
  // Answers after a minute (or when the receiver stops): a tick or a shutdown that waited on it
  // would take that long.
  std::vector<ScriptedResponse> slow(50, ScriptedResponse{.delay = seconds(60)});
  receiver.Script("/v1/traces", slow);
  receiver.Script("/v1/metrics", slow);
  receiver.Script("/v1/logs", slow);
  Boot({}, OtelEnv(receiver.url()));
  ASSERT_TRUE(receiver.WaitForRequests("/v1/traces", 1, seconds(10)));
  ExpectScalingUnaffected(seconds(60));
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(seconds(30)), 0) << "shutdown waited on the collector";
  receiver.Stop();
}

// ---------------------------------------------------------------------------------------------
// Process

TEST_F(FaultMatrix, SigtermMidTick) {
  Boot();
  // Slow brokers make every tick last ~0.8 s (the deadline); the signal lands inside one.
  SetAllRtt(1500);
  ASSERT_TRUE(Eventually([&] { return h_->ErrorCount("kafka_timeout") > 0; }, seconds(10)));
  const size_t lines = daemon_->Lines().size();
  ASSERT_TRUE(daemon_->WaitForLine(
      [](const std::string& l) { return l.find("kafka observation failed") != std::string::npos; },
      seconds(5), lines));
  std::this_thread::sleep_for(milliseconds(300));  // into the next tick's Kafka wait
  h_->api().ClearRequests();
  daemon_->Signal(SIGTERM);
  EXPECT_EQ(daemon_->Wait(seconds(8)), 0);
  EXPECT_FALSE(Harness::LogLines(*daemon_, "stopped").empty());
  EXPECT_EQ(h_->Patches(), 0);
  EXPECT_EQ(h_->Replicas(), 3);
}

class LeaderElection : public FaultMatrix {
 protected:
  std::unique_ptr<Process> StartInstance(const std::string& name, int port,
                                         const std::map<std::string, std::string>& extra = {}) {
    auto env = h_->Env();
    const std::string kubeconfig = (h_->dir() / ("kubeconfig-" + name)).string();
    EXPECT_TRUE(h_->WriteKubeconfig(kubeconfig, "token-" + name));
    env["KUBECONFIG"] = kubeconfig;
    env["HEALTH_CHECK_PORT"] = std::to_string(port);
    env["LEADER_ELECTION"] = "true";
    env["POD_NAME"] = name;
    env["LEASE_DURATION_SECONDS"] = "4";
    env["RENEW_DEADLINE_SECONDS"] = "3";
    env["RETRY_PERIOD_SECONDS"] = "1";
    for (const auto& [k, v] : extra) env[k] = v;
    return h_->StartDaemon(env);
  }
  static std::string User(const std::string& name) {
    return "system:serviceaccount:default:" + name;
  }
  // The users whose PATCHes of /scale the server logged, in order (consecutive duplicates
  // removed).
  std::vector<std::string> Patchers() {
    std::vector<std::string> out;
    for (const auto& r : h_->api().Requests()) {
      if (r.method == "PATCH" && r.path.find("/scale") != std::string::npos &&
          (out.empty() || out.back() != r.user)) {
        out.push_back(r.user);
      }
    }
    return out;
  }
  void Boot2() {
    HarnessOptions o;
    for (const char* n : {"a", "b"}) {
      o.extra_tokens.push_back({.token = std::string("token-") + n, .user = User(n)});
    }
    h_ = std::make_unique<Harness>(::testing::UnitTest::GetInstance()->current_test_info()->name(),
                                   o);
    ASSERT_TRUE(h_->ok()) << h_->error();
    ASSERT_TRUE(h_->Produce(5));
    port_a_ = FreePort();
    a_ = StartInstance("a", port_a_);
    ASSERT_TRUE(Eventually([&] { return h_->Replicas() == 3; }, seconds(20))) << a_->Stderr();
    port_b_ = FreePort();
    b_ = StartInstance("b", port_b_);
    // b runs as a follower: ready (it observes), not leader.
    ASSERT_TRUE(Eventually(
        [&] {
          auto s = h_->Status(port_b_);
          return s.is_object() && s["ticks"].get<int64_t>() >= 2 && s["leader"] == false;
        },
        seconds(15)))
        << h_->Status(port_b_).dump();
  }
  std::unique_ptr<Process> a_, b_;
  int port_a_ = 0, port_b_ = 0;
};

TEST_F(LeaderElection, LeaderKilledFollowerTakesOverNeverBothScale) {
  Boot2();
  ASSERT_EQ(h_->api()
                .Lease(kNamespace, "kafka-autoscaler-workers")
                .value_or(nullptr)["spec"]["holderIdentity"],
            "a");
  a_->Signal(SIGKILL);
  a_->Wait(seconds(5));
  ASSERT_TRUE(h_->Produce(2));  // lag 42 → 5: only a leader may do it
  // Once the 4 s lease expires (the timing itself: kube_test LeaderElector*, on a fake clock).
  ASSERT_TRUE(Eventually([&] { return h_->Status(port_b_)["leader"] == true; }, seconds(10)));
  ASSERT_TRUE(Eventually([&] { return h_->Replicas() == 5; }, seconds(10)));
  EXPECT_EQ(Patchers(), (std::vector<std::string>{User("a"), User("b")}));
  b_->Signal(SIGTERM);
  EXPECT_EQ(b_->Wait(seconds(8)), 0);
}

TEST_F(LeaderElection, SigtermReleasesLeaseForFastHandover) {
  Boot2();
  a_->Signal(SIGTERM);
  EXPECT_EQ(a_->Wait(seconds(8)), 0);
  // Released on exit, so b need not wait for the 4 s lease to expire: the Lease no longer names
  // a as soon as a has exited (either released, or already taken by b).
  EXPECT_NE(h_->api()
                .Lease(kNamespace, "kafka-autoscaler-workers")
                .value_or(nullptr)["spec"]
                .value("holderIdentity", ""),
            "a");
  ASSERT_TRUE(Eventually([&] { return h_->Status(port_b_)["leader"] == true; }, seconds(10)));
  ASSERT_TRUE(h_->Produce(2));
  ASSERT_TRUE(Eventually([&] { return h_->Replicas() == 5; }, seconds(10)));
  EXPECT_EQ(Patchers(), (std::vector<std::string>{User("a"), User("b")}));
  b_->Signal(SIGTERM);
  EXPECT_EQ(b_->Wait(seconds(8)), 0);
}

// Issue 13 item 2: SIGTERM reaches the leader while a slow tick is reading the Deployment, and
// the Deployment becomes scalable during that read (the pause annotation is removed). The old
// leader must not PATCH after the signal, and in particular never after the successor acquired
// the Lease (which a release before the loop stopped would allow at once).
TEST_F(LeaderElection, SigtermDuringSlowTickNeverPatchesAfterSuccessorAcquired) {
  HarnessOptions o;
  for (const char* n : {"a", "b"}) {
    o.extra_tokens.push_back({.token = std::string("token-") + n, .user = User(n)});
  }
  h_ = std::make_unique<Harness>(::testing::UnitTest::GetInstance()->current_test_info()->name(),
                                 o);
  ASSERT_TRUE(h_->ok()) << h_->error();
  // Paused: every tick decides 3 but may not write, until the test unpauses mid-tick.
  h_->api().AddDeployment(kNamespace, kDeployment, 1, {{"kafka-autoscaler/paused", "true"}});
  ASSERT_TRUE(h_->Produce(5));  // lag 30 → 3
  // 10 s ticks (Kubernetes requests may take 4 s), lease 20 s / renew 16 s / retry 1 s.
  const std::map<std::string, std::string> slow = {{"SCALE_INTERVAL_SECONDS", "10"},
                                                   {"LEASE_DURATION_SECONDS", "20"},
                                                   {"RENEW_DEADLINE_SECONDS", "16"},
                                                   {"RETRY_PERIOD_SECONDS", "1"}};
  port_a_ = FreePort();
  a_ = StartInstance("a", port_a_, slow);
  auto holder = [&] {
    const auto lease = h_->api().Lease(kNamespace, "kafka-autoscaler-workers");
    if (!lease || !lease->contains("spec")) return std::string();
    return (*lease)["spec"].value("holderIdentity", std::string());
  };
  ASSERT_TRUE(Eventually([&] { return holder() == "a"; }, seconds(20))) << a_->Stderr();
  auto ticks_a = [&] {
    auto st = h_->Status(port_a_);
    return st.is_object() ? st.value("ticks", int64_t{0}) : int64_t{0};
  };
  ASSERT_TRUE(Eventually([&] { return ticks_a() >= 2; }, seconds(30))) << a_->Stderr();
  // The next tick of a starts one interval after the last one; its read of the Deployment is
  // held for 3.5 s by the API server, and the signal lands 0.8 s into that.
  const int64_t n = ticks_a();
  while (ticks_a() == n) std::this_thread::sleep_for(milliseconds(20));
  const auto tick_ended = std::chrono::steady_clock::now();
  const double tick_seconds =
      h_->Status(port_a_)["last_decision"].value("duration_seconds", 0.0);
  h_->api().InjectFault({.kind = FaultKind::kDelay,
                         .method = "GET",
                         .path_contains = "/deployments/workers",
                         .times = 1,
                         .delay = milliseconds(3500)});
  std::this_thread::sleep_until(
      tick_ended + milliseconds(static_cast<int64_t>((10.0 - tick_seconds) * 1000 + 800)));
  // The successor starts now (so that its own reads do not meet the delay): a follower until a
  // lets the Lease go.
  port_b_ = FreePort();
  b_ = StartInstance("b", port_b_, slow);
  ASSERT_TRUE(h_->api().PatchDeployment(
      kNamespace, kDeployment,
      {{"metadata", {{"annotations", {{"kafka-autoscaler/paused", nullptr}}}}}}));
  const size_t at_signal = h_->api().Requests().size();
  const auto signal_ms = std::chrono::duration_cast<milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  a_->Signal(SIGTERM);
  EXPECT_EQ(a_->Wait(seconds(30)), 0);
  // The signal landed in a tick that then wanted to scale, and the write was fenced (or, once
  // the Kafka read honours the stop, the read was abandoned: a failed observation never scales).
  EXPECT_TRUE(
      !Harness::LogLines(*a_, "not the leader any more, or stopping; not scaling").empty() ||
      !Harness::LogLines(*a_, "kafka observation failed; holding replicas").empty())
      << "the signal (at " << signal_ms % 86'400'000 / 1000.0 << " s of the UTC day) did not land "
      << "in a tick (tick " << tick_seconds << " s)\n" << [&] {
           std::string out;
           for (const auto& l : Harness::LogLines(*a_)) {
             out += l.value("time", std::string()) + " " + l.value("msg", std::string()) + "\n";
           }
           return out;
         }();
  // b takes over and scales (its own slow ticks).
  ASSERT_TRUE(Eventually([&] { return h_->Replicas() == 3; }, seconds(40))) << RequestLog();
  const auto log = h_->api().Requests();
  std::optional<size_t> acquired;
  for (size_t i = 0; i < log.size(); ++i) {
    if (!acquired && log[i].user == User("b") && log[i].method == "PUT" &&
        log[i].path.find("/leases/") != std::string::npos && log[i].status == 200) {
      acquired = i;
    }
  }
  ASSERT_TRUE(acquired) << RequestLog();
  for (size_t i = at_signal; i < log.size(); ++i) {
    if (log[i].method != "PATCH" || log[i].user != User("a")) continue;
    EXPECT_LT(i, *acquired) << "the old leader PATCHed after the successor acquired the Lease:\n"
                            << RequestLog();
    ADD_FAILURE() << "the old leader PATCHed after SIGTERM (request " << i << ")";
  }
  EXPECT_EQ(Patchers(), std::vector<std::string>{User("b")});
  b_->Signal(SIGTERM);
  EXPECT_EQ(b_->Wait(seconds(30)), 0);
}

}  // namespace
}  // namespace kafka_autoscaler::testing
