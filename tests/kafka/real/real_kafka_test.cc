// Against real Apache Kafka (one combined KRaft node shared by every test of this binary):
//   - the lag oracle: KafkaMetricSource's backlog equals what Kafka's own tools say
//     (ConsumerGroupCommand --describe's LAG column; GetOffsetShell's offsets in topic mode);
//   - end to end: the daemon binary scales a Deployment 1 → N → idle from a real producer and
//     real consumers, and in MODE=many serves two KafkaScalers by their own real backlog;
//   - librdkafka 2.0.2's SCRAM failing against Kafka 4.x (security itself: real_kafka_secure_test).
#include "real_kafka.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "apiserver/test_apiserver.h"
#include "common/clock.h"
#include "e2e/consumer_world.h"
#include "e2e/process.h"
#include "faults/harness.h"
#include "kafka/kafka_source.h"
#include "kafka/shared_observer.h"
#include "test_macros.h"

namespace kafka_autoscaler::kafka::testing {
namespace {

using config::OffsetResetPolicy;
using kafka_autoscaler::testing::ConsumerWorld;
using kafka_autoscaler::testing::Eventually;
using kafka_autoscaler::testing::ExpectWaitPolicyJumpedOnceAndSaidWhy;
using kafka_autoscaler::testing::FreePort;
using kafka_autoscaler::testing::Harness;
using kafka_autoscaler::testing::HarnessOptions;
using kafka_autoscaler::testing::Process;
using kafka_autoscaler::testing::RunShell;
using kafka_autoscaler::testing::TestApiServer;
using kafka_autoscaler::testing::TokenGrant;
using kafka_autoscaler::testing::WaitRun;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

RealKafka* kafka = nullptr;  // the binary's Kafka (KafkaEnvironment)

constexpr char kScalerUser[] = "scaler";
constexpr char kScalerPassword[] = "scaler-Pw-0d1f9e";

class KafkaEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto k = RealKafka::Start(
        {.name = "single",
         .brokers = 1,
         .secure = true,
         .scram_users = {{"admin", "admin-secret"}, {kScalerUser, kScalerPassword}}});
    ASSERT_TRUE(k) << k.error().message;
    owned_ = std::move(*k);
    kafka = owned_.get();
    std::cout << "real kafka: one combined KRaft node (format + start + ready) in "
              << kafka->startup_time().count() << " ms\n";
  }
  void TearDown() override {
    kafka = nullptr;
    owned_.reset();
  }

 private:
  std::unique_ptr<RealKafka> owned_;
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new KafkaEnvironment);

struct ToolLag {
  int64_t lag_sum = 0;  // Σ LAG over the listed partitions
  std::set<std::pair<std::string, int>> listed;
};

// Kafka's consumer-groups tool: Σ of the LAG column over `topics`, and which partitions it listed.
ToolLag DescribeGroup(const std::string& group, const std::set<std::string>& topics) {
  auto out =
      kafka->Tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                  {"--bootstrap-server", kafka->bootstrap(), "--describe", "--group", group});
  EXPECT_TRUE(out) << out.error().message;
  ToolLag r;
  if (!out) return r;
  std::cout << *out;
  std::istringstream in(*out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::vector<std::string> cols;
    for (std::string c; f >> c;) cols.push_back(c);
    // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
    if (cols.size() < 6 || cols[0] != group || !topics.count(cols[1])) continue;
    r.listed.insert({cols[1], std::stoi(cols[2])});
    if (cols[5] != "-") r.lag_sum += std::stoll(cols[5]);
  }
  return r;
}

// Kafka's GetOffsetShell: topic:partition → offset at `time` (-1 latest, -2 earliest).
std::map<std::pair<std::string, int>, int64_t> Offsets(const std::string& topic_regex,
                                                       const char* time) {
  auto out = kafka->Tool(
      "org.apache.kafka.tools.GetOffsetShell",
      {"--bootstrap-server", kafka->bootstrap(), "--topic", topic_regex, "--time", time});
  EXPECT_TRUE(out) << out.error().message;
  std::map<std::pair<std::string, int>, int64_t> r;
  if (!out) return r;
  std::istringstream in(*out);
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find(':'), b = line.rfind(':');
    if (a == std::string::npos || a == b) continue;
    r[{line.substr(0, a), std::stoi(line.substr(a + 1, b - a - 1))}] =
        std::stoll(line.substr(b + 1));
  }
  return r;
}

Result<Observation> Observe(const std::vector<std::string>& topics,
                            std::optional<std::string> group, OffsetResetPolicy reset) {
  static SystemClock clock;
  KafkaSourceOptions o;
  o.bootstrap_servers = kafka->bootstrap();
  o.topics = topics;
  o.group = std::move(group);
  o.offset_reset = reset;
  o.timeout = seconds(20);
  auto source = KafkaMetricSource::Create(o, clock);
  if (!source) return MakeError(source.error());
  return (*source)->Fetch();
}

void ProducePer(const std::string& topic, const std::vector<int>& counts) {
  for (size_t p = 0; p < counts.size(); ++p) {
    if (counts[p] > 0) {
      auto s = kafka->client().Produce(topic, static_cast<int32_t>(p), counts[p]);
      ASSERT_TRUE(s) << s.error().message;
    }
  }
}

TEST(RealKafkaLag, BacklogEqualsKafkaToolsInBothPoliciesOverSeveralTopics) {
  auto& c = kafka->client();
  ASSERT_OK(c.CreateTopic("oracle-a", 3, 1));
  ASSERT_OK(c.CreateTopic("oracle-b", 2, 1));
  ProducePer("oracle-a", {7, 0, 12});
  ProducePer("oracle-b", {5, 9});
  // Records below offset 3 of oracle-b/0 deleted: its low watermark moves to 3.
  ASSERT_OK(c.DeleteRecords("oracle-b", 0, 3));
  // "full" commits every partition (above the low watermarks); "partial" leaves two
  // partitions without a commit, where the reset policy decides.
  ASSERT_OK(c.Commit("oracle-full", {{"oracle-a", 0, 3},
                                     {"oracle-a", 1, 0},
                                     {"oracle-a", 2, 5},
                                     {"oracle-b", 0, 4},
                                     {"oracle-b", 1, 9}}));
  ASSERT_OK(c.Commit("oracle-partial", {{"oracle-a", 0, 7}, {"oracle-b", 1, 2}}));
  // A real consumer's commits as well: it reads 10 of oracle-a's 19 records.
  auto consumed =
      ConsumeAndCommit(kafka->bootstrap(), "oracle-consumer", "oracle-a", 10, seconds(60));
  ASSERT_TRUE(consumed) << consumed.error().message;
  ASSERT_EQ(*consumed, 10);

  const std::vector<std::string> topics = {"oracle-a", "oracle-b"};
  const std::set<std::string> topic_set(topics.begin(), topics.end());
  const auto high = Offsets("oracle-.*", "-1");
  const auto low = Offsets("oracle-.*", "-2");
  ASSERT_EQ(high.size(), 5u);
  ASSERT_EQ(low.size(), 5u);
  EXPECT_EQ((low.at({"oracle-b", 0})), 3);

  // Topic mode: Σ(high − low) from GetOffsetShell.
  int64_t held = 0;
  for (const auto& [tp, h] : high) held += h - low.at(tp);
  auto topic_obs = Observe(topics, std::nullopt, OffsetResetPolicy::kEarliest);
  ASSERT_TRUE(topic_obs) << topic_obs.error().message;
  std::cout << "lag oracle, topic mode: ours " << topic_obs->backlog
            << ", GetOffsetShell sum(high-low) " << held << "\n";
  EXPECT_EQ(topic_obs->backlog, held);

  for (const std::string group : {"oracle-full", "oracle-partial", "oracle-consumer"}) {
    const auto tool = DescribeGroup(group, topic_set);
    // Partitions the tool does not list have no commit: earliest counts what they hold,
    // latest counts 1 when they hold anything (lag.h).
    int64_t uncommitted_earliest = 0, uncommitted_latest = 0;
    for (const auto& [tp, h] : high) {
      if (tool.listed.count(tp)) continue;
      uncommitted_earliest += h - low.at(tp);
      uncommitted_latest += h > low.at(tp) ? 1 : 0;
    }
    for (auto reset : {OffsetResetPolicy::kEarliest, OffsetResetPolicy::kLatest}) {
      const bool earliest = reset == OffsetResetPolicy::kEarliest;
      auto obs = Observe(topics, group, reset);
      ASSERT_TRUE(obs) << obs.error().message;
      const int64_t expected =
          tool.lag_sum + (earliest ? uncommitted_earliest : uncommitted_latest);
      std::cout << "lag oracle, group " << group << " (" << (earliest ? "earliest" : "latest")
                << "): ours " << obs->backlog << ", ConsumerGroupCommand sum(LAG) " << tool.lag_sum
                << " + uncommitted partitions "
                << (earliest ? uncommitted_earliest : uncommitted_latest) << " = " << expected
                << "\n";
      EXPECT_EQ(obs->backlog, expected) << group;
    }
  }
}

// Records deleted below the group's commit (DeleteRecords; retention does the same) are never
// counted: lag = high − max(committed, low). Kafka's own tool counts high − committed.
TEST(RealKafkaLag, RecordsDeletedBelowTheCommitAreNotCounted) {
  auto& c = kafka->client();
  ASSERT_OK(c.CreateTopic("deleted-records", 2, 1));
  ProducePer("deleted-records", {10, 10});
  ASSERT_OK(c.Commit("deleted-records-g", {{"deleted-records", 0, 2}, {"deleted-records", 1, 9}}));
  ASSERT_OK(c.DeleteRecords("deleted-records", 0, 6));  // low 6 > commit 2 on partition 0
  auto obs = Observe({"deleted-records"}, "deleted-records-g", OffsetResetPolicy::kEarliest);
  ASSERT_TRUE(obs) << obs.error().message;
  EXPECT_EQ(obs->backlog, (10 - 6) + (10 - 9));
  const auto tool = DescribeGroup("deleted-records-g", {"deleted-records"});
  std::cout << "deleted records below the commit: ours " << obs->backlog
            << ", ConsumerGroupCommand sum(LAG) " << tool.lag_sum << "\n";
  EXPECT_EQ(tool.lag_sum, (10 - 2) + (10 - 9)) << "Kafka's tool counts from the commit";
}

// A topic deleted and created again: the real broker drops the group's commits of the deleted
// partitions (the mock keeps them), so the new topic's records count as uncommitted.
TEST(RealKafkaLag, TopicRecreatedAfterDeletionStartsWithoutOldCommits) {
  auto& c = kafka->client();
  ASSERT_OK(c.CreateTopic("recreated", 2, 1));
  ProducePer("recreated", {10, 10});
  ASSERT_OK(c.Commit("recreated-g", {{"recreated", 0, 10}, {"recreated", 1, 10}}));
  ASSERT_OK(c.DeleteTopic("recreated"));
  ASSERT_OK(c.CreateTopic("recreated", 2, 1));
  ProducePer("recreated", {3, 4});
  ASSERT_TRUE(Eventually(
      [&] {
        auto obs = Observe({"recreated"}, "recreated-g", OffsetResetPolicy::kEarliest);
        if (obs) std::cout << "recreated topic: backlog " << obs->backlog << "\n";
        return obs && obs->backlog == 7;
      },
      seconds(60)));
  auto latest = Observe({"recreated"}, "recreated-g", OffsetResetPolicy::kLatest);
  ASSERT_TRUE(latest) << latest.error().message;
  EXPECT_EQ(latest->backlog, 2);  // one per partition that holds records (lag.h)
}

// A commit beyond the end of its partition (a tool reset offsets past the end, or the group
// committed against an older incarnation of the topic): the real broker stores it as given, and
// it is an invalid commit, not "lag 0" — the reset policy applies to that partition (lag.h).
TEST(RealKafkaLag, CommitBeyondTheEndIsInvalidNotZeroLag) {
  auto& c = kafka->client();
  ASSERT_OK(c.CreateTopic("beyond-end", 2, 1));
  ProducePer("beyond-end", {10, 10});
  ASSERT_OK(c.Commit("beyond-end-g", {{"beyond-end", 0, 500}, {"beyond-end", 1, 9}}));
  auto earliest = Observe({"beyond-end"}, "beyond-end-g", OffsetResetPolicy::kEarliest);
  ASSERT_TRUE(earliest) << earliest.error().message;
  ASSERT_EQ(earliest->partitions.size(), 2u);
  for (const auto& p : earliest->partitions) {
    if (p.partition == 0) {
      EXPECT_EQ(p.committed, std::optional<int64_t>(500)) << "the broker stored the commit";
      EXPECT_EQ(p.high, 10);
    }
  }
  EXPECT_EQ(earliest->backlog, 10 + 1) << "partition 0 counts from the low watermark";
  auto latest = Observe({"beyond-end"}, "beyond-end-g", OffsetResetPolicy::kLatest);
  ASSERT_TRUE(latest) << latest.error().message;
  EXPECT_EQ(latest->backlog, 1 + 1) << "partition 0 counts one, enough to wake a consumer";
  const auto tool = DescribeGroup("beyond-end-g", {"beyond-end"});
  std::cout << "commit beyond the end: ours (earliest) " << earliest->backlog
            << ", ConsumerGroupCommand sum(LAG) " << tool.lag_sum << "\n";
}

// The daemon binary against the real broker: a real producer fills the topic, the Deployment
// goes 1 → 5; real consumers drain it in two steps, 5 → 2 → 1 → idle (0).
TEST(RealKafkaEndToEnd, ScalesUpFromRealProducerDownFromRealConsumersThenIdle) {
  constexpr int kParts = 6;
  ASSERT_OK(kafka->client().CreateTopic("e2e-orders", kParts, 1));
  Harness h("real-e2e", HarnessOptions{.partitions = kParts,
                                       .bootstrap = kafka->bootstrap(),
                                       .client = &kafka->client(),
                                       .topic = "e2e-orders",
                                       .group = "e2e-workers"});
  ASSERT_TRUE(h.ok()) << h.error();
  ASSERT_TRUE(h.Produce(8));  // 48 records, commits at 0: ceil(48/10) = 5
  auto daemon = h.Start({{"MIN_TTL_SECONDS", "3"}});
  ASSERT_TRUE(Eventually([&] { return h.Replicas() == 5; }, seconds(60)))
      << "replicas " << h.Replicas() << "\n"
      << daemon->Stderr();

  auto consumed =
      ConsumeAndCommit(kafka->bootstrap(), "e2e-workers", "e2e-orders", 30, seconds(60));
  ASSERT_TRUE(consumed) << consumed.error().message;
  ASSERT_EQ(*consumed, 30);  // lag 18 → 2
  ASSERT_TRUE(Eventually([&] { return h.Replicas() == 2; }, seconds(60))) << h.Replicas();

  consumed = ConsumeAndCommit(kafka->bootstrap(), "e2e-workers", "e2e-orders", 18, seconds(60));
  ASSERT_TRUE(consumed) << consumed.error().message;
  ASSERT_EQ(*consumed, 18);  // lag 0 → 1, then idle after MIN_TTL_SECONDS
  ASSERT_TRUE(Eventually([&] { return h.Replicas() <= 1; }, seconds(60))) << h.Replicas();
  ASSERT_TRUE(Eventually([&] { return h.Replicas() == 0; }, seconds(60))) << h.Replicas();
  Harness::ExpectScaledWithin(*daemon, 0, 5);
  EXPECT_LE(h.ErrorCount("kafka_unavailable"), 0);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(10)), 0);
}

// SCALING_POLICY=wait against a real broker: the emulated group of
// E2eTest.WaitPolicyLearnsThePodsRateAndSettlesWhereTheyKeepUp (40 msg/s; pods of 16 msg/s,
// ready 3 s after they are asked for), its messages and commits on real Kafka: the rates the
// policy learns come from real offsets and commits.
TEST(RealKafkaEndToEnd, WaitPolicyLearnsThePodsRateFromRealOffsetsAndCommits) {
  constexpr int kParts = 6;
  ASSERT_OK(kafka->client().CreateTopic("wait-orders", kParts, 1));
  Harness h("real-wait", HarnessOptions{.partitions = kParts,
                                        .bootstrap = kafka->bootstrap(),
                                        .client = &kafka->client(),
                                        .topic = "wait-orders",
                                        .group = "wait-workers"});
  ASSERT_TRUE(h.ok()) << h.error();
  auto daemon = h.Start(WaitRun::Env());
  ConsumerWorld world(kafka->client(), h.api(),
                      {.topic = "wait-orders",
                       .group = "wait-workers",
                       .ns = kafka_autoscaler::testing::kNamespace,
                       .deployment = kafka_autoscaler::testing::kDeployment,
                       .partitions = kParts,
                       .arrivals = WaitRun::kArrivals,
                       .pod_rate = WaitRun::kPodRate});
  world.RunUntilAtRest(WaitRun::kNeeded, seconds(20), seconds(150));
  WaitRun::ExpectAtRest(world);
  ExpectWaitPolicyJumpedOnceAndSaidWhy(Harness::LogLines(*daemon, "scaled deployment"),
                                       h.api().Events(kafka_autoscaler::testing::kNamespace),
                                       WaitRun::kArrivals, WaitRun::kPodRate, WaitRun::kNeeded);
  EXPECT_LE(h.ErrorCount("kafka_unavailable"), 0);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(10)), 0);
}

// Partitions added mid-run (CreatePartitions, which the 2.0.2 mock cannot do) are counted on the
// next tick, not after the 5-minute partition-list cache (docs/reliability.md's known bug 6, fixed;
// before the fix: "backlog 30 after 30 ticks").
TEST(RealKafkaFaults, PartitionsAddedMidRunAreCountedOnTheNextTick) {
  ASSERT_OK(kafka->client().CreateTopic("grown-orders", 6, 1));
  Harness h("real-grown", HarnessOptions{.partitions = 6,
                                         .bootstrap = kafka->bootstrap(),
                                         .client = &kafka->client(),
                                         .topic = "grown-orders",
                                         .group = "grown-workers"});
  ASSERT_TRUE(h.ok()) << h.error();
  ASSERT_TRUE(h.Produce(5));  // 30 → 3 replicas
  auto daemon = h.Start();
  ASSERT_TRUE(h.WaitSteady(3, seconds(90))) << h.Status().dump() << "\n" << daemon->Stderr();
  ASSERT_OK(kafka->client().CreatePartitions("grown-orders", 8));
  ASSERT_OK(kafka->client().Produce("grown-orders", 6, 10));
  ASSERT_OK(kafka->client().Produce("grown-orders", 7, 10));  // 50 → 5 replicas
  const int64_t added_at = h.Ticks();
  auto backlog = [&] {
    const auto s = h.Status();
    return s.is_object() && s["last_decision"].is_object() ? s["last_decision"].value("backlog", -1)
                                                           : -1;
  };
  ASSERT_TRUE(Eventually([&] { return backlog() == 50; }, seconds(30)))
      << "backlog " << backlog() << " after " << h.Ticks() - added_at << " ticks";
  EXPECT_LE(h.Ticks() - added_at, 3) << "counted only after " << h.Ticks() - added_at << " ticks";
  EXPECT_TRUE(Eventually([&] { return h.Replicas() == 5; }, seconds(30))) << h.Replicas();
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(10)), 0);
}

// Many-targets mode on a real broker: a topic deleted and recreated with fewer partitions. The
// shared observer's first pass that reads the smaller count fails that target (kIncomplete: a
// broker's stale metadata would look the same and would drop partitions' backlog for a tick);
// the next pass with the same count takes it as a recreated topic.
TEST(RealKafkaFaults, SharedObserverFailsOnceOnAShrunkTopicThenUsesIt) {
  static SystemClock clock;
  auto& c = kafka->client();
  ASSERT_OK(c.CreateTopic("shrunk", 4, 1));
  ProducePer("shrunk", {1, 1, 1, 1});
  auto observer = SharedObserver::Create(
      {.bootstrap_servers = kafka->bootstrap(), .timeout = seconds(20)}, clock);
  ASSERT_TRUE(observer) << observer.error().message;
  const std::vector<TargetQuery> targets = {{.key = "prod/shrunk", .topics = {"shrunk"}}};
  auto before = (*observer)->Observe(targets).at("prod/shrunk");
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(before->partitions.size(), 4u);

  ASSERT_OK(c.DeleteTopic("shrunk"));
  ASSERT_OK(c.CreateTopic("shrunk", 2, 1));
  ProducePer("shrunk", {3, 4});
  // Until the metadata shows the new topic, passes fail (unknown topic, no leader yet); the first
  // one that reads 2 partitions fails as shrunk; a later one uses the 2 partitions.
  int shrunk_errors = 0;
  std::optional<Observation> after;
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = (*observer)->Observe(targets).at("prod/shrunk");
        if (r) {
          after = *r;
          return true;
        }
        std::cout << "pass: " << r.error().message << "\n";
        if (r.error().message.find("has 2 partitions, 4 before") != std::string::npos) {
          EXPECT_EQ(r.error().code, ErrorCode::kIncomplete);
          ++shrunk_errors;
        }
        return false;
      },
      seconds(60)));
  EXPECT_EQ(shrunk_errors, 1);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->partitions.size(), 2u);
  EXPECT_EQ(after->backlog, 7);  // topic mode: what the new topic holds
}

// Many-targets mode end to end on the real broker: the daemon binary with MODE=many serves two
// KafkaScalers that kubectl creates in two namespaces; a real producer fills their topics and each
// Deployment goes to its own count; real consumers drain one, and only that one scales down. The
// status reads the backlog the broker holds (end offsets less the group's real commits).
TEST(RealKafkaMany, KafkaScalersInTwoNamespacesScaleByTheirOwnRealBacklog) {
  struct Workload {
    std::string ns, scaler, deployment, topic, group;
    int partitions;
  };
  const Workload orders{"team-a", "orders", "orders-worker", "many-orders", "g-many-orders", 6};
  const Workload audit{"team-b", "audit", "audit-worker", "many-audit", "g-many-audit", 3};
  const auto dir =
      std::filesystem::temp_directory_path() / ("ka-real-many-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto api = TestApiServer::Start({.tls = true,
                                   .cert_dir = (dir / "tls").string(),
                                   .tokens = {TokenGrant{.token = "real-many-token"}}});
  ASSERT_TRUE(api) << api.error().message;
  const std::string kubeconfig = (dir / "kubeconfig").string();
  ASSERT_TRUE((*api)->WriteKubeconfig(kubeconfig, "real-many-token", "default"));
  auto kubectl = [&](const std::string& args) {
    return RunShell("HOME='" + dir.string() + "' KUBECONFIG='" + kubeconfig + "' " + KA_KUBECTL +
                    " --cache-dir='" + dir.string() + "/cache' --request-timeout=20s " + args +
                    " 2>&1");
  };
  auto& c = kafka->client();
  for (const Workload& w : {orders, audit}) {
    ASSERT_OK(c.CreateTopic(w.topic, w.partitions, 1));
    std::vector<CommitOffset> zero;
    for (int p = 0; p < w.partitions; ++p) zero.push_back({w.topic, p, 0});
    ASSERT_OK(c.Commit(w.group, zero));  // the group has committed: lag = messages
    (*api)->AddDeployment(w.ns, w.deployment, 1);
  }
  ASSERT_OK(c.ProduceEach(orders.topic, orders.partitions, 8));  // 48: ceil(48/10) = 5
  ASSERT_OK(c.ProduceEach(audit.topic, audit.partitions, 7));    // 21: 3

  const int port = FreePort();
  Process daemon({KA_BINARY, "run"}, {{"MODE", "many"},
                                      {"KAFKA_BOOTSTRAP_SERVERS", kafka->bootstrap()},
                                      {"HEALTH_CHECK_PORT", std::to_string(port)},
                                      {"KUBECONFIG", kubeconfig},
                                      {"KUBERNETES_SERVICE_HOST", ""},
                                      {"OTEL_SDK_DISABLED", "true"},
                                      {"LOG_FORMAT", "json"},
                                      {"LOG_LEVEL", "info"}});
  ASSERT_GT(daemon.pid(), 0);
  for (const Workload& w : {orders, audit}) {
    const std::string file = (dir / (w.scaler + ".yaml")).string();
    std::ofstream(file) << "apiVersion: kafka-autoscaler.io/v1alpha1\nkind: KafkaScaler\n"
                        << "metadata: {name: " << w.scaler << ", namespace: " << w.ns << "}\n"
                        << "spec:\n  scaleTargetRef: {kind: Deployment, name: " << w.deployment
                        << "}\n  topics: [" << w.topic << "]\n  consumerGroup: " << w.group
                        << "\n  messagesPerPod: 10\n  minReplicas: 1\n  maxReplicas: 5\n"
                        << "  scaleIntervalSeconds: 1\n  scaleDownStabilizationSeconds: 1\n";
    auto r = kubectl("create --validate=false -f " + file);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  auto replicas = [&](const Workload& w) {
    auto d = (*api)->Deployment(w.ns, w.deployment);
    return d ? (*d)["spec"]["replicas"].get<int>() : -1;
  };
  auto status = [&](const Workload& w) {
    auto r = kubectl("get ks " + w.scaler + " -n " + w.ns + " -o json");
    const json j = r.exit_code == 0 ? json::parse(r.output, nullptr, false) : json();
    return j.is_object() && j.contains("status") ? j["status"] : json::object();
  };
  ASSERT_TRUE(
      Eventually([&] { return replicas(orders) == 5 && replicas(audit) == 3; }, seconds(60)))
      << replicas(orders) << " " << replicas(audit) << "\n"
      << daemon.Stderr();
  EXPECT_TRUE(Eventually([&] { return status(orders).value("backlog", -1) == 48; }, seconds(30)))
      << status(orders).dump();
  EXPECT_EQ(status(orders).value("partitions", -1), 6);
  EXPECT_TRUE(Eventually([&] { return status(audit).value("backlog", -1) == 21; }, seconds(30)))
      << status(audit).dump();

  auto consumed = ConsumeAndCommit(kafka->bootstrap(), orders.group, orders.topic, 30, seconds(60));
  ASSERT_TRUE(consumed) << consumed.error().message;
  ASSERT_EQ(*consumed, 30);  // lag 48 → 18: 2
  EXPECT_TRUE(Eventually([&] { return replicas(orders) == 2; }, seconds(60))) << replicas(orders);
  EXPECT_TRUE(Eventually([&] { return status(orders).value("backlog", -1) == 18; }, seconds(30)))
      << status(orders).dump();
  EXPECT_EQ(replicas(audit), 3) << "the other KafkaScaler's backlog did not move";
  EXPECT_EQ(status(audit).value("backlog", -1), 21);
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.Wait(seconds(20)), 0) << daemon.Stderr();
  std::filesystem::remove_all(dir);
}

// Issue 17 item 6 on a real broker: KAFKA_TOPIC=re:<regex> picks up a topic created between two
// Fetches, drops a deleted one, never counts the group's commits on other topics, and never
// matches Kafka's own __consumer_offsets (which exists here) unless the pattern names it.
TEST(RealKafkaPattern, PicksUpCreatedTopicsDropsDeletedOnesAndSkipsInternalTopics) {
  auto& c = kafka->client();
  ASSERT_OK(c.CreateTopic("pat-a", 2, 1));
  ASSERT_OK(c.CreateTopic("pat-other", 1, 1));
  ASSERT_OK(c.WaitForTopic("pat-a", 2, seconds(30)));
  ASSERT_OK(c.WaitForTopic("pat-other", 1, seconds(30)));
  ASSERT_OK(c.ProduceEach("pat-a", 2, 5));   // 10
  ASSERT_OK(c.Produce("pat-other", 0, 40));  // the group's lag there: 40
  ASSERT_OK(c.Commit("pat-group", {{"pat-a", 0, 0}, {"pat-a", 1, 0}, {"pat-other", 0, 0}}));
  static SystemClock clock;
  KafkaSourceOptions o;
  o.bootstrap_servers = kafka->bootstrap();
  o.topic_pattern = "pat-[a-z]";
  o.group = "pat-group";
  o.offset_reset = OffsetResetPolicy::kEarliest;
  o.timeout = seconds(20);
  auto source = KafkaMetricSource::Create(o, clock);
  ASSERT_TRUE(source) << source.error().message;
  auto first = (*source)->Fetch();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->backlog, 10) << "pat-other does not match; its group lag must not count";

  ASSERT_OK(c.CreateTopic("pat-b", 3, 1));
  ASSERT_OK(c.WaitForTopic("pat-b", 3, seconds(30)));
  ASSERT_OK(c.ProduceEach("pat-b", 3, 3));  // 9, no commits: earliest counts them
  auto grown = (*source)->Fetch();
  ASSERT_TRUE(grown) << grown.error().message;
  EXPECT_EQ(grown->backlog, 19);
  EXPECT_EQ((*source)->topics_in_use(), (std::vector<std::string>{"pat-a", "pat-b"}));

  ASSERT_OK(c.DeleteTopic("pat-b"));
  // Deletion is asynchronous: until it is done a Fetch may fail, but a success is 19 or 10.
  ASSERT_TRUE(Eventually(
      [&] {
        auto obs = (*source)->Fetch();
        if (obs) {
          EXPECT_TRUE(obs->backlog == 19 || obs->backlog == 10) << obs->backlog;
        }
        return obs && obs->backlog == 10;
      },
      seconds(60)));
  EXPECT_EQ((*source)->topics_in_use(), std::vector<std::string>{"pat-a"});

  // Internal topics: `.*` never reads __consumer_offsets; a pattern starting with __ does.
  o.group.reset();
  o.topic_pattern = ".*";
  auto all = KafkaMetricSource::Create(o, clock);
  ASSERT_TRUE(all) << all.error().message;
  auto everything = (*all)->Fetch();
  ASSERT_TRUE(everything) << everything.error().message;
  for (const auto& p : everything->partitions) ASSERT_FALSE(p.topic.starts_with("__")) << p.topic;
  o.topic_pattern = "__consumer_offsets";
  auto internal = KafkaMetricSource::Create(o, clock);
  ASSERT_TRUE(internal) << internal.error().message;
  auto offsets_topic = (*internal)->Fetch();
  ASSERT_TRUE(offsets_topic) << offsets_topic.error().message;
  EXPECT_GT(offsets_topic->partition_count, 0);
}

// librdkafka 2.0.2 cannot authenticate with SCRAM to Kafka 4.x, even with the right password:
// it repeats the client nonce in its client-final message, which 4.x rejects (fixed in librdkafka
// 2.6.1, confluentinc/librdkafka#4895; the Java client passes). The daemon reports it as
// kafka_unauthenticated and holds. When librdkafka is upgraded this test fails: then move the
// SCRAM tests (real_kafka_secure_test.cc) to Kafka 4.x and delete this one.
TEST(RealKafkaScram, Librdkafka202CannotAuthenticateToKafka4WithScram) {
  ASSERT_OK(kafka->client().CreateTopic("scram4-orders", 6, 1));
  const std::string who = std::string("User:") + kScalerUser;
  ASSERT_OK(kafka->client().CreateAcls(
      {{RD_KAFKA_RESOURCE_TOPIC, "scram4-orders", who, RD_KAFKA_ACL_OPERATION_DESCRIBE},
       {RD_KAFKA_RESOURCE_GROUP, "scram4-workers", who, RD_KAFKA_ACL_OPERATION_DESCRIBE}}));
  Harness h("real-scram4", HarnessOptions{.partitions = 6,
                                          .bootstrap = kafka->secure_bootstrap(),
                                          .client = &kafka->client(),
                                          .topic = "scram4-orders",
                                          .group = "scram4-workers"});
  ASSERT_TRUE(h.ok()) << h.error();
  ASSERT_TRUE(h.Produce(5));
  const auto file = h.dir() / "kafka.properties";
  std::ofstream(file) << "security.protocol=SASL_SSL\nsasl.mechanisms=SCRAM-SHA-512\n"
                      << "sasl.username=" << kScalerUser << "\nsasl.password=" << kScalerPassword
                      << "\nssl.ca.location=" << kafka->ca_file() << "\n";
  auto daemon = h.Start({{"KAFKA_CONFIG_FILE", file.string()}});
  ASSERT_TRUE(Eventually([&] { return h.ErrorCount("kafka_unauthenticated") > 0; }, seconds(90)))
      << h.Status().dump() << "\n"
      << daemon->Stderr();
  EXPECT_EQ(h.Patches(), 0);
  EXPECT_EQ(h.Replicas(), 1);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(10)), 0);
}

}  // namespace
}  // namespace kafka_autoscaler::kafka::testing
