// End-to-end, many-targets mode (MODE=many): the real kafka-autoscaler binary serving every
// KafkaScaler of the test API server (HTTPS, bearer token) against one librdkafka mock cluster,
// with the real kubectl creating, listing and deleting the KafkaScalers as a person would.
// Intervals of 1 s keep it to seconds; every wait is an Eventually, never an upper bound.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "apiserver/test_apiserver.h"
#include "e2e/process.h"
#include "e2e/scratch_dir.h"
#include "mock_cluster.h"
#include "otlp_receiver.h"
#include "telemetry/test_util.h"

namespace kafka_autoscaler::testing {
namespace {

using kafka::testing::CommitOffset;
using kafka::testing::MockCluster;
using nlohmann::json;
using std::chrono::seconds;

constexpr char kToken[] = "many-e2e-token";

struct Workload {
  std::string ns;
  std::string scaler;      // the KafkaScaler
  std::string deployment;  // its scaleTargetRef
  std::string topic;
  std::string group;
  int partitions;
};
const Workload kOrders{"team-a", "orders", "orders-worker", "orders", "g-orders", 6};
const Workload kBilling{"team-a", "billing", "billing-worker", "billing", "g-billing", 4};
const Workload kAudit{"team-b", "audit", "audit-worker", "audit", "g-audit", 3};

std::string ScalerYaml(const Workload& w, const std::string& extra = "") {
  return "apiVersion: kafka-autoscaler.io/v1alpha1\nkind: KafkaScaler\n"
         "metadata: {name: " +
         w.scaler + ", namespace: " + w.ns +
         "}\n"
         "spec:\n"
         "  scaleTargetRef: {kind: Deployment, name: " +
         w.deployment +
         "}\n"
         "  topics: [" +
         w.topic +
         "]\n"
         "  consumerGroup: " +
         w.group +
         "\n"
         "  offsetResetPolicy: earliest\n"
         "  messagesPerPod: 10\n"
         "  minReplicas: 1\n"
         "  maxReplicas: 5\n"
         "  scaleIntervalSeconds: 1\n"
         "  scaleDownStabilizationSeconds: 1\n" +
         extra;
}

class ManyE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ka-many-e2e-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto kafka = MockCluster::Start(3);
    ASSERT_TRUE(kafka) << kafka.error().message;
    kafka_ = std::move(*kafka);
    auto api = TestApiServer::Start({.tls = true,
                                     .cert_dir = (dir_ / "tls").string(),
                                     .tokens = {TokenGrant{.token = kToken}}});
    ASSERT_TRUE(api) << api.error().message;
    api_ = std::move(*api);
    kubeconfig_ = (dir_ / "kubeconfig").string();
    ASSERT_TRUE(api_->WriteKubeconfig(kubeconfig_, kToken, "default"));
    for (const Workload& w : {kOrders, kBilling, kAudit}) {
      ASSERT_TRUE(kafka_->CreateTopic(w.topic, w.partitions));
      std::vector<CommitOffset> zero;
      for (int p = 0; p < w.partitions; ++p) zero.push_back({w.topic, p, 0});
      ASSERT_TRUE(kafka_->Commit(w.group, zero));  // the group has committed: lag = messages
      api_->AddDeployment(w.ns, w.deployment, 1);
    }
  }

  std::unique_ptr<Process> StartDaemon(std::map<std::string, std::string> extra = {}) {
    port_ = FreePort();
    std::map<std::string, std::string> env = {{"MODE", "many"},
                                              {"KAFKA_BOOTSTRAP_SERVERS", kafka_->bootstrap()},
                                              {"HEALTH_CHECK_PORT", std::to_string(port_)},
                                              {"KUBECONFIG", kubeconfig_},
                                              {"KUBERNETES_SERVICE_HOST", ""},
                                              {"OTEL_SDK_DISABLED", "true"},
                                              {"LOG_FORMAT", "json"},
                                              {"LOG_LEVEL", "info"}};
    for (const auto& [k, v] : extra) env[k] = v;
    auto p = std::make_unique<Process>(std::vector<std::string>{KA_BINARY, "run"}, env);
    EXPECT_GT(p->pid(), 0);
    return p;
  }

  ShellResult Kubectl(const std::string& args) {
    const std::string command = "HOME='" + dir_.string() + "' KUBECONFIG='" + kubeconfig_ + "' " +
                                KA_KUBECTL + " --cache-dir='" + dir_.string() +
                                "/cache' --request-timeout=20s " + args + " 2>&1";
    return RunShell(command);
  }
  void Apply(const std::string& yaml) {
    const std::string file = (dir_ / "ks.yaml").string();
    std::ofstream(file) << yaml;
    // --validate=false: this fixture serves no /openapi/v3; the server validates with the CRD.
    auto r = Kubectl("create --validate=false -f " + file);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  int Replicas(const Workload& w) {
    auto d = api_->Deployment(w.ns, w.deployment);
    return d ? (*d)["spec"]["replicas"].get<int>() : -1;
  }
  json Scaler(const std::string& ns, const std::string& name) {
    auto r = Kubectl("get ks " + name + " -n " + ns + " -o json");
    if (r.exit_code != 0) return nullptr;
    return json::parse(r.output, nullptr, false);
  }
  static json Condition(const json& scaler, const std::string& type) {
    if (!scaler.is_object() || !scaler.contains("status")) return nullptr;
    for (const auto& c : scaler["status"].value("conditions", json::array())) {
      if (c.value("type", "") == type) return c;
    }
    return nullptr;
  }
  int ScalePatches(const Workload& w) {
    return api_->CountRequests(
        "PATCH", "/apis/apps/v1/namespaces/" + w.ns + "/deployments/" + w.deployment + "/scale");
  }

  std::filesystem::path dir_;
  ScratchDirCleanup dir_cleanup_{dir_};  // before the members that write there
  std::unique_ptr<MockCluster> kafka_;
  std::unique_ptr<TestApiServer> api_;
  std::string kubeconfig_;
  int port_ = 0;
};

TEST_F(ManyE2eTest, ThreeScalersInTwoNamespacesScaleIndependentlyDeleteStopsInvalidIsExplained) {
  ASSERT_TRUE(kafka_->ProduceEach(kOrders.topic, kOrders.partitions, 8));    // 48 → 5
  ASSERT_TRUE(kafka_->ProduceEach(kBilling.topic, kBilling.partitions, 5));  // 20 → 2
  // audit: nothing waiting → stays at minReplicas 1.
  // The mock auto-creates topics named in Metadata requests; make it answer as Kafka does.
  kafka_->SetTopicError("no-such-topic", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  // OTLP metrics export carries the many-mode series as /metrics does (one registry).
  TestOtlpReceiver receiver;
  auto daemon = StartDaemon({{"OTEL_SDK_DISABLED", "false"},
                             {"OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url()},
                             {"OTEL_TRACES_EXPORTER", "none"},
                             {"OTEL_LOGS_EXPORTER", "none"},
                             {"OTEL_METRIC_EXPORT_INTERVAL", "1000"}});
  Apply(ScalerYaml(kOrders) + "---\n" + ScalerYaml(kBilling) + "---\n" + ScalerYaml(kAudit) +
        "---\n" +
        ScalerYaml({"team-b", "broken", "audit-worker", "audit", "g-audit", 3},
                   "  idleReplicas: 3\n") +  // idleReplicas > minReplicas: refused
        "---\n" +
        ScalerYaml({"team-b", "ghost", "audit-worker", "no-such-topic", "g-ghost", 1}));

  ASSERT_TRUE(
      Eventually([&] { return Replicas(kOrders) == 5 && Replicas(kBilling) == 2; }, seconds(60)))
      << "orders " << Replicas(kOrders) << ", billing " << Replicas(kBilling) << "\n"
      << daemon->Stderr();
  EXPECT_EQ(Replicas(kAudit), 1);
  EXPECT_EQ(ScalePatches(kAudit), 0)
      << "the broken and the failing KafkaScalers on the same Deployment never write";

  // The status, through kubectl: live columns for each, and a clear condition for the invalid one.
  ASSERT_TRUE(Eventually(
      [&] {
        auto table = Kubectl("get ks -A");
        return std::regex_search(
                   table.output,
                   std::regex(
                       R"(team-a\s+orders\s+orders-worker\s+\S*orders\S*\s+g-orders\s+48\s+5\s+5\s+True)")) &&
               std::regex_search(
                   table.output,
                   std::regex(
                       R"(team-a\s+billing\s+billing-worker\s+\S*billing\S*\s+g-billing\s+20\s+2\s+2\s+True)")) &&
               std::regex_search(
                   table.output,
                   std::regex(
                       R"(team-b\s+audit\s+audit-worker\s+\S*audit\S*\s+g-audit\s+0\s+1\s+1\s+True)")) &&
               std::regex_search(table.output, std::regex(R"(team-b\s+broken\s+.*False)")) &&
               std::regex_search(table.output, std::regex(R"(team-b\s+ghost\s+.*False)"));
      },
      seconds(60)))
      << Kubectl("get ks -A").output;
  std::printf("%s", Kubectl("get ks -A").output.c_str());  // for the record
  const json broken = Scaler("team-b", "broken");
  const json ready = Condition(broken, "Ready");
  EXPECT_EQ(ready.value("status", ""), "False") << broken.dump(2);
  EXPECT_EQ(ready.value("reason", ""), "InvalidSpec") << broken.dump(2);
  EXPECT_NE(ready.value("message", "").find("spec.idleReplicas=3: must be <= spec.minReplicas (1)"),
            std::string::npos)
      << broken.dump(2);
  // A missing topic fails only its own KafkaScaler (the others above are Ready).
  const json ghost = Scaler("team-b", "ghost");
  EXPECT_EQ(Condition(ghost, "Ready").value("reason", ""), "KafkaError") << ghost.dump(2);
  EXPECT_NE(Condition(ghost, "Ready").value("message", "").find("no-such-topic"), std::string::npos)
      << ghost.dump(2);
  const json orders = Scaler("team-a", "orders");
  EXPECT_EQ(orders["status"]["observedGeneration"], 1);
  EXPECT_EQ(orders["status"]["partitions"], 6);
  EXPECT_TRUE(orders["status"].contains("lastScaleTime")) << orders.dump(2);
  EXPECT_EQ(Condition(orders, "Active").value("reason", ""), "BacklogPresent");

  // Events on the Deployment and on the KafkaScaler.
  bool on_scaler = false;
  bool on_deployment = false;
  for (const auto& e : api_->Events("team-a")) {
    if (e.value("reason", "") != "ScaledUp") continue;
    on_scaler |= e["involvedObject"]["kind"] == "KafkaScaler" &&
                 e["involvedObject"]["apiVersion"] == "kafka-autoscaler.io/v1alpha1" &&
                 e["involvedObject"]["name"] == "orders";
    on_deployment |= e["involvedObject"]["kind"] == "Deployment" &&
                     e["involvedObject"]["name"] == "orders-worker";
  }
  EXPECT_TRUE(on_scaler);
  EXPECT_TRUE(on_deployment);

  // /metrics and the probes.
  EXPECT_TRUE(Eventually([&] { return HttpGet(port_, "/readyz").first == 200; }, seconds(30)));
  EXPECT_EQ(HttpGet(port_, "/healthz").first, 200);
  const std::string metrics = HttpGet(port_, "/metrics").second;
  EXPECT_NE(metrics.find("kafka_autoscaler_targets 5\n"), std::string::npos) << metrics;
  EXPECT_NE(
      metrics.find("kafka_autoscaler_target_backlog{namespace=\"team-a\",name=\"orders\"} 48"),
      std::string::npos)
      << metrics;

  // The same series in the OTLP metrics export, decoded with the official schema.
  json otlp;
  EXPECT_TRUE(Eventually(
      [&] {
        const auto requests = receiver.Requests("/v1/metrics");
        if (requests.empty()) return false;
        const json d = DecodeOtlp("metrics", "application/x-protobuf", requests.back().body);
        otlp = json::object();
        for (const auto& sm : d["request"]["resourceMetrics"][0]["scopeMetrics"]) {
          for (const auto& m : sm["metrics"]) otlp[m["name"].get<std::string>()] = m;
        }
        if (!otlp.contains("kafka_autoscaler_target_backlog")) return false;
        for (const auto& p : otlp["kafka_autoscaler_target_backlog"]["gauge"]["dataPoints"]) {
          if (Attr(p["attributes"], "namespace") == json{{"stringValue", "team-a"}} &&
              Attr(p["attributes"], "name") == json{{"stringValue", "orders"}} &&
              p["asDouble"] == 48) {
            return true;
          }
        }
        return false;
      },
      seconds(30)))
      << otlp.dump(1);
  for (const char* name : {"kafka_autoscaler_targets", "kafka_autoscaler_target_ready",
                           "kafka_autoscaler_pass_duration_seconds",
                           "kafka_autoscaler_kafka_requests", "kafka_message_count"}) {
    EXPECT_TRUE(otlp.contains(name)) << name;
  }

  // Deleting billing's KafkaScaler stops its scaling; orders goes on.
  auto deleted = Kubectl("delete ks billing -n team-a");
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  ASSERT_TRUE(daemon->WaitForLine(
      [](const std::string& l) { return l.find("kafkascaler deleted") != std::string::npos; },
      std::chrono::minutes(5)));
  const int billing_patches = ScalePatches(kBilling);
  ASSERT_TRUE(kafka_->ProduceEach(kBilling.topic, kBilling.partitions, 10));  // 60 → would be 5
  std::vector<CommitOffset> drained;
  for (int p = 0; p < kOrders.partitions; ++p) drained.push_back({kOrders.topic, p, 8});
  ASSERT_TRUE(kafka_->Commit(kOrders.group, drained));  // orders' backlog 0 → back to 1
  ASSERT_TRUE(Eventually([&] { return Replicas(kOrders) == 1; }, seconds(60)))
      << "orders " << Replicas(kOrders);
  // By now orders has ticked several times since billing got its new backlog (same interval).
  ASSERT_TRUE(Eventually(
      [&] {
        const json o = Scaler("team-a", "orders");
        return o.is_object() && o["status"].value("backlog", -1) == 0 &&
               o["status"].value("currentReplicas", -1) == 1;
      },
      seconds(60)));
  EXPECT_EQ(Replicas(kBilling), 2) << "a deleted KafkaScaler must not scale";
  EXPECT_EQ(ScalePatches(kBilling), billing_patches);
  EXPECT_NE(Kubectl("get ks -A").output.find("orders"), std::string::npos);

  // Nothing was refused by the API server (the KafkaScaler status schema accepted every write).
  for (const auto& r : api_->Requests()) {
    EXPECT_TRUE(r.status < 400 || r.status == 404) << r.method << " " << r.path << " " << r.status;
  }

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(30)), 0) << daemon->Stderr();
}

// WATCH_NAMESPACES: KafkaScalers elsewhere are not served. A StatefulSet scales like a
// Deployment, and once the targets are steady a pass reads nothing from the API server (the
// scale state comes from the watch cache) and writes nothing.
TEST_F(ManyE2eTest, WatchNamespacesStatefulSetsAndIdlePassesCostNoRequest) {
  ASSERT_TRUE(kafka_->ProduceEach(kOrders.topic, kOrders.partitions, 8));    // 48 → 5
  ASSERT_TRUE(kafka_->ProduceEach(kAudit.topic, kAudit.partitions, 10));     // 30 → 3
  ASSERT_TRUE(kafka_->ProduceEach(kBilling.topic, kBilling.partitions, 5));  // 20 → 2
  api_->AddWorkload(WorkloadKind::kStatefulSet, "team-a", "stream", 1);
  auto daemon = StartDaemon({{"WATCH_NAMESPACES", "team-a"}});
  Apply(ScalerYaml(kOrders) + "---\n" + ScalerYaml(kAudit) + "---\n" +
        std::regex_replace(ScalerYaml({"team-a", "stream", "stream", "billing", "g-billing", 4}),
                           std::regex("kind: Deployment"), "kind: StatefulSet"));
  auto stream_replicas = [&] {
    auto s = api_->Workload(WorkloadKind::kStatefulSet, "team-a", "stream");
    return s ? (*s)["spec"]["replicas"].get<int>() : -1;
  };
  ASSERT_TRUE(
      Eventually([&] { return Replicas(kOrders) == 5 && stream_replicas() == 2; }, seconds(60)))
      << "orders " << Replicas(kOrders) << ", stream " << stream_replicas() << "\n"
      << daemon->Stderr();
  ASSERT_TRUE(Eventually(
      [&] {
        const json o = Scaler("team-a", "orders");
        const json s = Scaler("team-a", "stream");
        return Condition(o, "Ready").value("status", "") == "True" &&
               Condition(s, "Ready").value("status", "") == "True" &&
               o["status"].value("readyReplicas", -1) == 5 &&
               s["status"].value("readyReplicas", -1) == 2;
      },
      seconds(60)))
      << Kubectl("get ks -A -o yaml").output;
  EXPECT_EQ(Replicas(kAudit), 1);
  EXPECT_FALSE(Scaler("team-b", "audit").contains("status"));
  EXPECT_EQ(api_->CountRequests("", "/namespaces/team-b/deployments") +
                api_->CountRequests("", "/namespaces/team-b/events") +
                api_->CountRequests("", "/namespaces/team-b/kafkascalers/audit/status"),
            0)
      << "the daemon never looked at team-b";

  // Steady: a few seconds of 1 s passes send no request but the watches' own.
  api_->ClearRequests();
  std::this_thread::sleep_for(seconds(3));
  for (const auto& r : api_->Requests()) {
    EXPECT_NE(r.query.find("watch"), std::string::npos)
        << "an idle pass sent " << r.method << " " << r.path << "?" << r.query;
  }
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(30)), 0) << daemon->Stderr();
}

// The wait policy's learned state in MODE=many lives in each KafkaScaler's status.learnedState:
// saved at a graceful stop, restored by the next instance when it builds the target. The state
// is edited in between (kubectl, the status subresource) so that what is restored is known.
TEST_F(ManyE2eTest, AWaitScalerKeepsWhatItLearnedInItsStatusAcrossRestarts) {
  Apply(ScalerYaml(kOrders, "  scalingPolicy: wait\n  targetWaitSeconds: 20\n"));
  auto log_lines = [](const Process& p, const std::string& msg) {
    std::vector<json> out;
    for (const auto& line : p.Lines()) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("msg", "") == msg) out.push_back(j);
    }
    return out;
  };
  auto learned = [&] {
    const json s = Scaler(kOrders.ns, kOrders.scaler);
    if (!s.is_object() || !s.contains("status") || !s["status"].contains("learnedState")) {
      return json();
    }
    return json::parse(s["status"]["learnedState"].get<std::string>(), nullptr, false);
  };
  auto first = StartDaemon();
  ASSERT_TRUE(Eventually(
      [&] {
        const json ready = Condition(Scaler(kOrders.ns, kOrders.scaler), "Ready");
        return ready.is_object() && ready.value("status", "") == "True";
      },
      seconds(60)))
      << first->Stderr();
  first->Signal(SIGTERM);
  ASSERT_EQ(first->Wait(seconds(30)), 0) << first->Stderr();
  ASSERT_EQ(log_lines(*first, "saved the learned state").size(), 1u) << first->Stderr();
  json saved = learned();
  ASSERT_TRUE(saved.is_object()) << Kubectl("get ks -A -o yaml").output;
  EXPECT_EQ(saved["target"], "team-a/orders-worker topics=orders group=g-orders");
  EXPECT_TRUE(saved["per_pod_rate"].is_null()) << "nothing was consumed: one pod's rate unknown";

  saved["per_pod_rate"] = {{"value", 16.0}, {"exact", true}};
  const std::string patch = (dir_ / "status-patch.json").string();
  std::ofstream(patch) << json{{"status", {{"learnedState", saved.dump()}}}}.dump();
  auto r = Kubectl("patch ks " + kOrders.scaler + " -n " + kOrders.ns +
                   " --subresource=status --type=merge --patch-file=" + patch);
  ASSERT_EQ(r.exit_code, 0) << r.output;

  auto next = StartDaemon();
  ASSERT_TRUE(
      Eventually([&] { return !log_lines(*next, "restored learned state").empty(); }, seconds(60)))
      << next->Stderr();
  const json restored = log_lines(*next, "restored learned state").front();
  EXPECT_EQ(restored["kafkascaler"], "team-a/orders");
  EXPECT_EQ(restored["from"], "status.learnedState");
  EXPECT_EQ(restored["per_pod_rate"], 16.0);
  EXPECT_EQ(restored["per_pod_rate_exact"], true);
  next->Signal(SIGTERM);
  ASSERT_EQ(next->Wait(seconds(30)), 0) << next->Stderr();
  const json again = learned();
  EXPECT_EQ(again["per_pod_rate"]["value"], 16.0);
  EXPECT_EQ(again["per_pod_rate"]["exact"], true);
  // How old the measurement is (restored without it: counted from the restore).
  EXPECT_GE(again["per_pod_rate"].value("confirmed_seconds_before_save", -1.0), 0.0)
      << again.dump();
  EXPECT_GT(again["saved_at_unix_seconds"].get<double>(),
            saved["saved_at_unix_seconds"].get<double>());

  // Another policy has no use for it: the next instance removes it from the status.
  r = Kubectl("patch ks " + kOrders.scaler + " -n " + kOrders.ns +
              " --type=merge -p '{\"spec\":{\"scalingPolicy\":\"messages\"}}'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto third = StartDaemon();
  EXPECT_TRUE(Eventually(
      [&] {
        const json s = Scaler(kOrders.ns, kOrders.scaler);
        return s.is_object() && s.contains("status") && !s["status"].contains("learnedState") &&
               s["status"].value("observedGeneration", 0) == s["metadata"].value("generation", -1);
      },
      seconds(60)))
      << Kubectl("get ks -A -o yaml").output << third->Stderr();
}

}  // namespace
}  // namespace kafka_autoscaler::testing

namespace kafka_autoscaler::testing {
namespace {

// KAFKA_CLUSTERS_FILE: a KafkaScaler naming a second cluster is observed there (its topic exists
// only on that cluster), one naming no cluster of the instance reads UnknownCluster, and a file
// with a mistake stops the start with the problem named.
TEST_F(ManyE2eTest, NamedClustersFromAFileServeTheirOwnKafkaScalers) {
  auto second = MockCluster::Start(1);
  ASSERT_TRUE(second) << second.error().message;
  const Workload edge{"team-b", "edge", "edge-worker", "edge-events", "g-edge", 4};
  ASSERT_TRUE((*second)->CreateTopic(edge.topic, edge.partitions));
  std::vector<CommitOffset> zero;
  for (int p = 0; p < edge.partitions; ++p) zero.push_back({edge.topic, p, 0});
  ASSERT_TRUE((*second)->Commit(edge.group, zero));
  ASSERT_TRUE((*second)->ProduceEach(edge.topic, edge.partitions, 7));  // 28 → 3
  api_->AddDeployment(edge.ns, edge.deployment, 1);
  // On the default cluster the topic does not exist: only the named cluster can scale it.
  kafka_->SetTopicError(edge.topic, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);

  const std::string bad = (dir_ / "bad-clusters.yaml").string();
  std::ofstream(bad) << "clusters:\n  - name: default\n    bootstrapServers: x:1\n";
  auto refused = StartDaemon({{"KAFKA_CLUSTERS_FILE", bad}});
  EXPECT_EQ(refused->Wait(std::chrono::milliseconds(20'000)), 2);
  std::string said;
  for (const auto& line : refused->Lines()) said += line + "\n";
  EXPECT_NE(said.find("\\\"default\\\" is reserved"), std::string::npos) << said;

  const std::string file = (dir_ / "clusters.yaml").string();
  std::ofstream(file) << "clusters:\n  - name: edge\n    bootstrapServers: \""
                      << (*second)->bootstrap() << "\"\n";
  auto daemon = StartDaemon({{"KAFKA_CLUSTERS_FILE", file}});
  Apply(ScalerYaml(edge, "  kafkaCluster: edge\n") + "---\n" +
        ScalerYaml({"team-b", "lost", "audit-worker", "audit", "g-audit", 3},
                   "  kafkaCluster: nowhere\n"));
  ASSERT_TRUE(Eventually([&] { return Replicas(edge) == 3; }, seconds(60)))
      << Replicas(edge) << "\n" << daemon->Stderr();
  ASSERT_TRUE(Eventually(
      [&] { return Condition(Scaler("team-b", "lost"), "Ready").value("reason", "") == "UnknownCluster"; },
      seconds(60)))
      << Scaler("team-b", "lost").dump(2);
  const json lost = Condition(Scaler("team-b", "lost"), "Ready");
  EXPECT_NE(lost.value("message", "").find("known: default, edge"), std::string::npos)
      << lost.dump(2);
  EXPECT_EQ(Replicas(kAudit), 1) << "a KafkaScaler on an unknown cluster never scales";
}

}  // namespace
}  // namespace kafka_autoscaler::testing
