// End-to-end: the real kafka-autoscaler binary as a process, against librdkafka's mock
// cluster (the real Kafka wire protocol on loopback) and the test API server (HTTPS, bearer
// tokens). The daemon's token gets exactly the rights of deploy/manifest.yaml's Role (rendered
// by kubectl kustomize), so a request the Role does not allow fails with 403 and fails the
// test. Short intervals (1 s ticks) keep each case to seconds.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apiserver/test_apiserver.h"
#include "e2e/consumer_world.h"
#include "e2e/process.h"
#include "e2e/scratch_dir.h"
#include "manifest_yaml.h"
#include "mock_cluster.h"
#include "role_policy.h"

namespace kafka_autoscaler::testing {
namespace {

using kafka::testing::CommitOffset;
using kafka::testing::MockCluster;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kTopic[] = "orders";
constexpr char kGroup[] = "workers";
constexpr int kPartitions = 6;
constexpr char kToken[] = "e2e-token";
// The Deployment deploy/manifest.yaml's Role is restricted to, in its namespace.
constexpr char kNamespace[] = "default";
constexpr char kDeployment[] = "my-deployment";

// The test API server policy for `token` equivalent to the manifest's Role.
nlohmann::json ManifestPolicy(const std::string& token) {
  auto docs = deploy_test::RenderKustomization(KA_KUBECTL, std::string(KA_SOURCE_DIR) + "/deploy");
  EXPECT_TRUE(docs) << docs.error().message;
  if (!docs) return {};
  auto policy = deploy_test::PolicyFromManifest(*docs, token);
  EXPECT_TRUE(policy) << policy.error().message;
  return policy ? *policy : nlohmann::json{};
}

class E2eTest : public ::testing::Test {
 public:  // used by RunWithPolicy below as well
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ka-e2e-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto kafka = MockCluster::Start(3);
    ASSERT_TRUE(kafka) << kafka.error().message;
    kafka_ = std::move(*kafka);
    ASSERT_TRUE(kafka_->CreateTopic(kTopic, kPartitions));
    // The group has committed 0 everywhere (a group that never committed is held at
    // MIN_REPLICAS until its first commit: issue 13 item 7, FaultMatrix tests it).
    std::vector<CommitOffset> zero;
    for (int p = 0; p < kPartitions; ++p) zero.push_back({kTopic, p, 0});
    ASSERT_TRUE(kafka_->Commit(kGroup, zero));
  }

  // Starts the API server with `grant` for our token (default: the manifest's Role).
  void StartApiServer(std::optional<TokenGrant> grant = std::nullopt) {
    if (!grant) {
      auto g = TokenGrantFromJson(ManifestPolicy(kToken)["tokens"][0]);
      ASSERT_TRUE(g) << g.error().message;
      grant = *g;
    }
    TokenGrant g = *grant;
    g.token = kToken;
    auto api =
        TestApiServer::Start({.tls = true, .cert_dir = (dir_ / "tls").string(), .tokens = {g}});
    ASSERT_TRUE(api) << api.error().message;
    api_ = std::move(*api);
    api_->AddDeployment(kNamespace, kDeployment, 1);
    kubeconfig_ = (dir_ / "kubeconfig").string();
    ASSERT_TRUE(api_->WriteKubeconfig(kubeconfig_, kToken, "default"));
  }

  std::map<std::string, std::string> Env() {
    port_ = FreePort();
    return {{"KAFKA_BOOTSTRAP_SERVERS", kafka_->bootstrap()},
            {"KAFKA_TOPIC", kTopic},
            {"KAFKA_CONSUMER_GROUP", kGroup},
            {"KAFKA_OFFSET_RESET_POLICY", "earliest"},
            {"NAMESPACE", kNamespace},
            {"DEPLOYMENT_NAME", kDeployment},
            {"MESSAGES_PER_POD", "10"},
            {"MIN_REPLICAS", "1"},
            {"MAX_REPLICAS", "5"},
            {"IDLE_REPLICAS", "0"},
            {"MIN_TTL_SECONDS", "3"},
            {"SCALE_DOWN_STABILIZATION_SECONDS", "2"},
            {"SCALE_INTERVAL_SECONDS", "1"},
            {"HEALTH_CHECK_PORT", std::to_string(port_)},
            {"KUBECONFIG", kubeconfig_},
            {"KUBERNETES_SERVICE_HOST", ""},
            {"OTEL_SDK_DISABLED", "true"},
            {"LOG_FORMAT", "json"},
            {"LOG_LEVEL", "info"}};
  }

  std::unique_ptr<Process> StartDaemon(std::map<std::string, std::string> env) {
    auto p = std::make_unique<Process>(std::vector<std::string>{KA_BINARY, "run"}, env);
    EXPECT_GT(p->pid(), 0);
    return p;
  }

  int Replicas() {
    auto d = api_->Deployment(kNamespace, kDeployment);
    return d ? (*d)["spec"]["replicas"].get<int>() : -1;
  }
  // Commits offsets so that the group's total lag is `lag`, left on the first partitions.
  void CommitLeaving(const std::vector<int64_t>& highs, int64_t lag) {
    std::vector<CommitOffset> offsets;
    for (int p = 0; p < kPartitions; ++p) {
      const int64_t high = highs[static_cast<size_t>(p)];
      const int64_t keep = std::min(lag, high);
      lag -= keep;
      offsets.push_back({kTopic, p, high - keep});
    }
    ASSERT_EQ(lag, 0) << "not enough messages to leave that lag";
    auto committed = kafka_->Commit(kGroup, offsets);
    ASSERT_TRUE(committed) << committed.error().message;
  }
  // Every stdout line of the daemon must be a JSON object; returns those whose msg matches.
  static std::vector<nlohmann::json> LogLines(const Process& p, const std::string& msg) {
    std::vector<nlohmann::json> out;
    for (const auto& line : p.Lines()) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      EXPECT_TRUE(j.is_object()) << "not a JSON line: " << line;
      if (j.is_object() && j.value("msg", "") == msg) out.push_back(j);
    }
    return out;
  }

  std::filesystem::path dir_;
  ScratchDirCleanup dir_cleanup_{dir_};  // before the members that write there
  std::unique_ptr<MockCluster> kafka_;
  std::unique_ptr<TestApiServer> api_;
  std::string kubeconfig_;
  int port_ = 0;
};

TEST_F(E2eTest, ScalesUpOnBacklogDownAfterWindowThenIdle) {
  StartApiServer();
  // 48 messages over 6 partitions, commits at 0: lag 48 → ceil(48/10) = 5.
  ASSERT_TRUE(kafka_->ProduceEach(kTopic, kPartitions, 8));  // 48 messages
  auto daemon = StartDaemon(Env());
  ASSERT_TRUE(Eventually([&] { return Replicas() == 5; }, seconds(20)))
      << "replicas " << Replicas() << "\n"
      << daemon->Stderr();
  EXPECT_TRUE(Eventually([&] { return HttpGet(port_, "/readyz").first == 200; }, seconds(5)));

  // Drain to a lag of 15: 2 replicas, but only after the 2 s stabilization window.
  const std::vector<int64_t> highs(kPartitions, 8);
  CommitLeaving(highs, 15);
  const auto drained_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return Replicas() == 2; }, seconds(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - drained_at, milliseconds(1500))
      << "scaled down before the stabilization window passed";

  // Drain fully: min replicas (1) until MIN_TTL_SECONDS (3 s) of zero backlog, then idle (0).
  CommitLeaving(highs, 0);
  ASSERT_TRUE(Eventually([&] { return Replicas() == 1; }, seconds(20)));
  const auto zero_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(Eventually([&] { return Replicas() == 0; }, seconds(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - zero_at, milliseconds(1500));

  // Events on the Deployment, and one log line per scale action.
  std::vector<std::string> reasons;
  for (const auto& e : api_->Events(kNamespace)) reasons.push_back(e["reason"]);
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "ScaledUp"), reasons.end());
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "ScaledDown"), reasons.end());
  auto scaled = LogLines(*daemon, "scaled deployment");
  ASSERT_GE(scaled.size(), 3u);
  EXPECT_EQ(scaled[0]["from"], 1);
  EXPECT_EQ(scaled[0]["to"], 5);
  EXPECT_EQ(scaled[0]["deployment"], kDeployment);
  // The manifest's Role was enough: nothing was refused.
  for (const auto& r : api_->Requests()) EXPECT_NE(r.status, 403) << r.method << " " << r.path;

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(5)), 0);
}

// Issue 17 item 6: KAFKA_TOPIC=re:<regex>. A topic created while the daemon runs is picked up
// on the next tick and the Deployment scales for its backlog; a topic the group committed that
// does not match never counts.
TEST_F(E2eTest, TopicPatternPicksUpANewTopicAndScalesForIt) {
  StartApiServer();
  ASSERT_TRUE(kafka_->ProduceEach(kTopic, kPartitions, 1));  // lag 6 → 1 replica
  ASSERT_TRUE(kafka_->CreateTopic("audit", 2));              // outside the pattern
  ASSERT_TRUE(kafka_->ProduceEach("audit", 2, 100));
  auto committed = kafka_->Commit(kGroup, {{"audit", 0, 0}, {"audit", 1, 0}});  // lag 200 there
  ASSERT_TRUE(committed) << committed.error().message;
  auto env = Env();
  env["KAFKA_TOPIC"] = "re:orders(-.*)?";
  auto daemon = StartDaemon(env);
  ASSERT_TRUE(Eventually([&] { return HttpGet(port_, "/readyz").first == 200; }, seconds(20)))
      << daemon->Stderr();
  EXPECT_EQ(Replicas(), 1) << "the group's commits on 'audit' were counted";

  ASSERT_TRUE(kafka_->CreateTopic("orders-new", 4));
  ASSERT_TRUE(kafka_->ProduceEach("orders-new", 4, 10));  // lag 6 + 40 = 46 → 5
  ASSERT_TRUE(Eventually([&] { return Replicas() == 5; }, seconds(20)))
      << "replicas " << Replicas() << "\n"
      << daemon->Stderr();
  const auto changes = LogLines(*daemon, "kafka: topics matching the pattern changed");
  ASSERT_EQ(changes.size(), 2u);  // the first set, then once for the new topic
  EXPECT_EQ(changes[0]["topics"], "orders");
  EXPECT_EQ(changes[1]["topics"], "orders,orders-new");
  EXPECT_EQ(changes[1]["added"], "orders-new");
  // The line follows the PATCH: wait for it. A tick may see the new topic while its messages are
  // still being produced (1 -> 3 -> 5 was seen), so only the path up to 5 is asserted.
  std::vector<nlohmann::json> scaled;
  ASSERT_TRUE(Eventually(
      [&] {
        scaled = LogLines(*daemon, "scaled deployment");
        return !scaled.empty() && scaled.back()["to"] == 5;
      },
      seconds(10)));
  EXPECT_EQ(scaled[0]["from"], 1);
  for (size_t i = 1; i < scaled.size(); ++i) {
    EXPECT_GT(scaled[i]["to"].get<int>(), scaled[i - 1]["to"].get<int>()) << "only upwards";
  }
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(5)), 0);
}

// SCALING_POLICY=wait through the binary: 40 msg/s arrive; each ready pod consumes 16 msg/s,
// and pods the Deployment adds are ready 3 s later (ConsumerWorld). Nothing tells the daemon
// the pods' rate: it learns it from the commits, jumps once when one pod falls behind, and comes
// to rest where the pods keep up (3) — after at most one probe below it while the rate is only
// a lower bound (pods that are not kept busy could be faster), which the backlog answers. The
// log line and the Event say why. (The same against real Kafka: RealKafkaEndToEnd.) With
// LEARNED_STATE_CONFIGMAP, what it learned survives a restart.
TEST_F(E2eTest, WaitPolicyLearnsThePodsRateSettlesAndKeepsItAcrossARestart) {
  // The manifest's Role and the two rules its comment adds for LEARNED_STATE_CONFIGMAP.
  auto grant = TokenGrantFromJson(ManifestPolicy(kToken)["tokens"][0]);
  ASSERT_TRUE(grant) << grant.error().message;
  grant->rules.push_back({.verbs = {"get", "update"},
                          .resources = {"configmaps"},
                          .resource_names = {"workers-learned"}});
  grant->rules.push_back({.verbs = {"create"}, .resources = {"configmaps"}});
  StartApiServer(*grant);
  auto env = Env();
  for (const auto& [key, value] : WaitRun::Env()) env[key] = value;
  env["LEARNED_STATE_CONFIGMAP"] = "workers-learned";
  env["LEARNED_STATE_SAVE_SECONDS"] = "5";
  auto daemon = StartDaemon(env);
  ConsumerWorld world(kafka_->client(), *api_,
                      {.topic = kTopic,
                       .group = kGroup,
                       .ns = kNamespace,
                       .deployment = kDeployment,
                       .partitions = kPartitions,
                       .arrivals = WaitRun::kArrivals,
                       .pod_rate = WaitRun::kPodRate});
  world.RunUntilAtRest(WaitRun::kNeeded, seconds(20), seconds(120));
  WaitRun::ExpectAtRest(world);
  ExpectWaitPolicyJumpedOnceAndSaidWhy(LogLines(*daemon, "scaled deployment"),
                                       api_->Events(kNamespace), WaitRun::kArrivals,
                                       WaitRun::kPodRate, WaitRun::kNeeded);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(5)), 0);

  // What it learned is in the ConfigMap, saved at the stop.
  const auto learned = [&] {
    auto cm = api_->ConfigMap(kNamespace, "workers-learned");
    EXPECT_TRUE(cm) << "no ConfigMap";
    return cm ? nlohmann::json::parse((*cm)["data"]["wait-policy.json"].get<std::string>())
              : nlohmann::json();
  };
  const auto saved = learned();
  ASSERT_TRUE(saved.is_object()) << [&] {
    std::string lines;
    for (const auto& l : daemon->Lines()) {
      if (l.find("learned") != std::string::npos) lines += l + "\n";
    }
    return lines;
  }();
  EXPECT_NEAR(saved["per_pod_rate"]["value"].get<double>(), WaitRun::kPodRate,
              0.25 * WaitRun::kPodRate)
      << saved.dump();
  // Exact when a tick saw the pods saturated, or a probe was answered; a lower bound otherwise
  // (the first jump may come before a saturated sample): timing decides.
  const bool exact = saved["per_pod_rate"]["exact"].get<bool>();
  EXPECT_EQ(saved["startup_seconds"]["measured"], true) << saved.dump();
  EXPECT_LE(saved["startup_seconds"]["value"].get<double>(), 10) << saved.dump();  // 3 s + ticks

  // A new process (a rolling upgrade) restores it and keeps pods that keep up: nothing taken
  // away at its first tick (no rate known yet: not the seed rule, not idle on a backlog of 0,
  // which a group that keeps up often reads), and no probe below them when the rate is exact.
  const int before = world.replicas();
  auto next = StartDaemon(env);
  int lowest = before;
  for (const auto until = std::chrono::steady_clock::now() + seconds(12);
       std::chrono::steady_clock::now() < until;) {
    ASSERT_TRUE(world.Step()) << world.error();
    lowest = std::min(lowest, world.replicas());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto restored = LogLines(*next, "restored learned state");
  ASSERT_EQ(restored.size(), 1u) << next->Stderr();
  EXPECT_NEAR(restored[0]["per_pod_rate"].get<double>(), WaitRun::kPodRate,
              0.25 * WaitRun::kPodRate);
  EXPECT_EQ(restored[0]["per_pod_rate_exact"], exact);
  std::string story;
  for (const auto& l : LogLines(*next, "scaled deployment")) {
    story += l.dump() + "\n";
    EXPECT_NE(l["why"], "seed_rule") << story;
    EXPECT_NE(l["reason"], "idle_pending") << story;
    EXPECT_NE(l["reason"], "idle") << story;
  }
  // A probe (μ only a lower bound) goes one pod below and comes back.
  EXPECT_GE(lowest, WaitRun::kNeeded - (exact ? 0 : 1))
      << "the restarted daemon went below the pods that keep up\n"
      << story;
  if (before == WaitRun::kNeeded && exact) {
    EXPECT_TRUE(story.empty()) << story << world.stalls() << "\nits warnings:\n"
                               << [&] {
                                    std::string warnings;
                                    for (const auto& l : next->Lines()) {
                                      if (l.find(R"("level":"warn)") != std::string::npos)
                                        warnings += l + "\n";
                                    }
                                    return warnings;
                                  }();
  }
  next->Signal(SIGTERM);
  EXPECT_EQ(next->Wait(seconds(5)), 0);
  EXPECT_GT(learned()["saved_at_unix_seconds"].get<double>(),
            saved["saved_at_unix_seconds"].get<double>());
}

TEST_F(E2eTest, BrokersDownHoldsNotReadyAndRecovers) {
  StartApiServer();
  ASSERT_TRUE(kafka_->ProduceEach(kTopic, kPartitions, 5));  // lag 30 → 3
  auto daemon = StartDaemon(Env());
  ASSERT_TRUE(Eventually([&] { return Replicas() == 3; }, seconds(20))) << daemon->Stderr();
  ASSERT_TRUE(Eventually([&] { return HttpGet(port_, "/readyz").first == 200; }, seconds(5)));

  api_->ClearRequests();
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(kafka_->SetBrokerDown(b));
  ASSERT_TRUE(Eventually([&] { return HttpGet(port_, "/readyz").first == 503; }, seconds(15)));
  auto status = nlohmann::json::parse(HttpGet(port_, "/").second);
  EXPECT_EQ(status["kafka"]["ok"], false);
  // Ticks go on, and none of them scales.
  std::this_thread::sleep_for(seconds(3));
  EXPECT_EQ(api_->CountRequests("PATCH", "/scale"), 0);
  EXPECT_EQ(Replicas(), 3);
  EXPECT_EQ(HttpGet(port_, "/healthz").first, 200);
  EXPECT_FALSE(LogLines(*daemon, "kafka observation failed; holding replicas").empty());

  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(kafka_->SetBrokerUp(b));
  EXPECT_TRUE(Eventually([&] { return HttpGet(port_, "/readyz").first == 200; }, seconds(20)))
      << HttpGet(port_, "/readyz").second;
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(5)), 0);
}

TEST_F(E2eTest, ForbiddenPatchGivesClearErrorWithoutRetryStorm) {
  // Allowed to read but not to patch the scale subresource.
  StartApiServer(
      TokenGrant{.allow_all = false,
                 .rules = {{.verbs = {"get"}, .resources = {"deployments", "deployments/scale"}},
                           {.verbs = {"list"}, .resources = {"horizontalpodautoscalers"}},
                           {.verbs = {"create", "patch"}, .resources = {"events"}}}});
  ASSERT_TRUE(kafka_->ProduceEach(kTopic, kPartitions, 5));
  auto daemon = StartDaemon(Env());
  ASSERT_TRUE(Eventually([&] { return !LogLines(*daemon, "scaling failed").empty(); }, seconds(20)))
      << daemon->Stderr();
  const auto line = LogLines(*daemon, "scaling failed").front();
  const std::string error = line["error"];
  EXPECT_NE(error.find("patch"), std::string::npos) << error;
  EXPECT_NE(error.find("deployments/scale"), std::string::npos) << error;
  EXPECT_EQ(line["error_kind"], "kube_permission_denied");
  // One attempt per tick at most: no retry storm.
  api_->ClearRequests();
  std::this_thread::sleep_for(seconds(4));
  EXPECT_LE(api_->CountRequests("PATCH", "/scale"), 5);
  EXPECT_EQ(Replicas(), 1);
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(5)), 0);
}

// Stopping does not wait for the rest of the 30 s interval.
TEST_F(E2eTest, SigtermExitsCleanlyMidWait) {
  StartApiServer();
  auto env = Env();
  env["SCALE_INTERVAL_SECONDS"] = "30";  // mid-wait when the signal comes
  auto daemon = StartDaemon(env);
  ASSERT_TRUE(Eventually([&] { return HttpGet(port_, "/readyz").first == 200; }, seconds(15)))
      << daemon->Stderr();
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(20)), 0);
  EXPECT_FALSE(LogLines(*daemon, "stopped").empty());
}

TEST_F(E2eTest, BadConfigExitsTwoBeforeAnyRequest) {
  StartApiServer();
  auto env = Env();
  env["MIN_REPLICAS"] = "5";
  env["MAX_REPLICAS"] = "2";
  env["MESSAGES_PER_POD"] = "0";
  env["SCALE_INTERVAL_SECONDS"] = "abc";
  auto daemon = StartDaemon(env);
  EXPECT_EQ(daemon->Wait(seconds(10)), 2);
  const std::string err = daemon->Stderr();
  for (const char* var :
       {"MIN_REPLICAS", "MAX_REPLICAS", "MESSAGES_PER_POD", "SCALE_INTERVAL_SECONDS"}) {
    EXPECT_NE(err.find(var), std::string::npos) << var << " not named in:\n" << err;
  }
  EXPECT_TRUE(api_->Requests().empty());
}

TEST_F(E2eTest, MetricsEndpointPassesPromtool) {
  StartApiServer();
  ASSERT_TRUE(kafka_->ProduceEach(kTopic, kPartitions, 2));
  auto daemon = StartDaemon(Env());
  ASSERT_TRUE(Eventually([&] { return Replicas() == 2; }, seconds(20))) << daemon->Stderr();
  // The metrics are updated right after the tick that scaled.
  ASSERT_TRUE(Eventually(
      [&] {
        return HttpGet(port_, "/metrics").second.find("kafka_autoscaler_desired_replicas 2") !=
               std::string::npos;
      },
      seconds(5)));
  auto [status, body] = HttpGet(port_, "/metrics");
  ASSERT_EQ(status, 200);
  for (const char* name :
       {"kafka_message_count 12", "k8s_pod_count 2", "kafka_message_throughput",
        "kafka_autoscaler_desired_replicas 2",
        "kafka_autoscaler_scale_events_total{direction=\"up\"} 1",
        "kafka_autoscaler_tick_duration_seconds_bucket", "kafka_autoscaler_build_info"}) {
    EXPECT_NE(body.find(name), std::string::npos) << name << " missing from:\n" << body;
  }
  const auto path = dir_ / "metrics.txt";
  std::ofstream(path) << body;
  const std::string cmd = "promtool check metrics < " + path.string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof(buf), pipe) != nullptr) out += buf;
  pclose(pipe);
  // Expected complaints: the `_count` suffix of the seed's two gauges, kafka_message_count and
  // k8s_pod_count (their names are a contract). Anything else fails.
  std::istringstream lines(out);
  std::string l;
  int complaints = 0;
  while (std::getline(lines, l)) {
    if (l.empty()) continue;
    ++complaints;
    const bool seed_gauge =
        l.rfind("kafka_message_count ", 0) == 0 || l.rfind("k8s_pod_count ", 0) == 0;
    EXPECT_TRUE(seed_gauge && l.find("should not have \"_count\" suffix") != std::string::npos)
        << "unexpected promtool complaint: " << l;
  }
  EXPECT_LE(complaints, 2) << out;
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(5)), 0);
}

// Runs the daemon with leader election (Lease get/create/update), a backlog (scale get/patch,
// Events) and returns the requests the API server refused with 403. With `until_refused`, the
// run stops at the first refusal (all a run without a verb has to show).
std::vector<std::string> RunWithPolicy(E2eTest& t, const nlohmann::json& policy,
                                       bool until_refused = false);

TEST_F(E2eTest, TheManifestRoleIsMinimal) {
  const nlohmann::json policy = ManifestPolicy(kToken);
  ASSERT_GE(policy["tokens"][0]["rules"].size(), 4u);
  ASSERT_TRUE(kafka_->ProduceEach(kTopic, kPartitions, 5));
  // With every rule: the whole run (lease, read, HPA list, patch, events) is allowed.
  EXPECT_EQ(RunWithPolicy(*this, policy), std::vector<std::string>{});
  // Without any one verb of any one rule (a rule goes with its only verb), the daemon is
  // refused something: every verb is needed, `list` on horizontalpodautoscalers included.
  for (const auto& which : deploy_test::EveryVerb(policy)) {
    SCOPED_TRACE("without " + which.Describe(policy));
    EXPECT_FALSE(RunWithPolicy(*this, deploy_test::WithoutVerb(policy, which), true).empty())
        << "the daemon needed nothing this verb grants";
  }
}

std::vector<std::string> RunWithPolicy(E2eTest& t, const nlohmann::json& policy,
                                       bool until_refused) {
  auto grant = TokenGrantFromJson(policy["tokens"][0]);
  EXPECT_TRUE(grant);
  t.StartApiServer(*grant);
  auto env = t.Env();
  env["LEADER_ELECTION"] = "true";
  env["POD_NAME"] = "scaler-0";
  auto daemon = t.StartDaemon(env);
  const auto refused = [&] {
    std::vector<std::string> out;
    for (const auto& r : t.api_->Requests()) {
      if (r.status == 403) out.push_back(r.method + " " + r.path);
    }
    return out;
  };
  const auto stop = [&] { return until_refused && !refused().empty(); };
  // Long enough to elect, read, patch and post an Event — or to be refused.
  Eventually([&] { return stop() || (t.Replicas() == 3 && !t.api_->Events(kNamespace).empty()); },
             seconds(10));
  // A lease renewal (update) within the run.
  Eventually(stop, seconds(3));
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(8)), 0);
  return refused();
}

}  // namespace
}  // namespace kafka_autoscaler::testing
