// kubectl conformance: the machine's real kubectl (1.32) against the test API server over TLS
// with a bearer token. If kubectl accepts our server for get, scale, describe (showing an Event
// posted by our recorder) and get lease, the server is faithful enough to trust the client
// tests run against it. kubectl missing is a failure, not a skip: setup installs it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "e2e/process.h"
#include "kube/deployment_target.h"
#include "kube/leader_elector.h"
#include "kube/lease_lock.h"
#include "kube/server_fixture.h"

namespace kafka_autoscaler::testing {
namespace {

// /usr/bin/kubectl (the machine's), else whatever `kubectl` the shell finds; "" when none.
std::string FindKubectl() {
  if (std::filesystem::exists("/usr/bin/kubectl")) return "/usr/bin/kubectl";
  std::string path;
  if (FILE* pipe = popen("command -v kubectl", "r")) {
    char buf[1024];
    while (fgets(buf, sizeof buf, pipe) != nullptr) path += buf;
    pclose(pipe);
  }
  while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
  return path;
}

class KubectlTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    kubectl_ = FindKubectl();
    ASSERT_FALSE(kubectl_.empty())
        << "kubectl is missing; scripts/setup.sh installs Debian's kubernetes-client";
    kubeconfig_ = dir_.path() + "/kubeconfig";
    ASSERT_TRUE(server_->WriteKubeconfig(kubeconfig_, kAdminToken, "prod"));
  }
  void TearDown() override {
    // The requests kubectl made, for the record (the issue's closing note lists them).
    for (const auto& r : server_->Requests()) {
      std::printf("  server saw: %s %s%s%s -> %d\n", r.method.c_str(), r.path.c_str(),
                  r.query.empty() ? "" : "?", r.query.c_str(), r.status);
    }
  }
  ShellResult Kubectl(const std::string& args) {
    const std::string command = "HOME='" + dir_.path() + "' KUBECONFIG='" + kubeconfig_ + "' " +
                                kubectl_ + " --cache-dir='" + dir_.path() +
                                "/cache' --request-timeout=20s " + args + " 2>&1";
    return RunShell(command);
  }
  TempDir dir_;
  std::string kubectl_;
  std::string kubeconfig_;
};

TEST_F(KubectlTest, GetDeploymentAsJson) {
  auto r = Kubectl("get deployment web -o json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto d = nlohmann::json::parse(r.output);
  EXPECT_EQ(d["kind"], "Deployment");
  EXPECT_EQ(d["metadata"]["name"], "web");
  EXPECT_EQ(d["metadata"]["namespace"], "prod");
  EXPECT_EQ(d["spec"]["replicas"], 2);
  EXPECT_EQ(d["metadata"]["uid"], server_->Deployment("prod", "web")->at("metadata").at("uid"));
}

TEST_F(KubectlTest, ScaleDeploymentIsSeenByOurClient) {
  auto r = Kubectl("scale deployment web --replicas=3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("deployment.apps/web scaled"), std::string::npos) << r.output;
  kube::DeploymentScaleTarget target(*client_, {"prod", "web"});
  auto state = target.Get();
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->spec_replicas, 3);
  bool merge_patch = false;
  for (const auto& req : server_->Requests()) {
    merge_patch |= req.method == "PATCH" &&
                   req.path == "/apis/apps/v1/namespaces/prod/deployments/web/scale" &&
                   req.content_type.rfind("application/merge-patch+json", 0) == 0;
  }
  EXPECT_TRUE(merge_patch);
  // And back down through our client; kubectl sees it.
  ASSERT_TRUE(target.SetReplicas(1));
  auto after = Kubectl("get deployment web -o jsonpath={.spec.replicas}");
  ASSERT_EQ(after.exit_code, 0) << after.output;
  EXPECT_EQ(after.output, "1");
}

TEST_F(KubectlTest, DescribeShowsOurEvent) {
  kube::DeploymentEventRecorder recorder(*client_, {"prod", "web"}, clock_, "autoscaler-0");
  ASSERT_TRUE(recorder.Record(kube::EventType::kNormal, "ScaledUp",
                              "from 2 to 3: backlog 250 over 12 partitions"));
  // An Event on another object must not show up.
  server_->AddDeployment("prod", "other", 1);
  kube::DeploymentEventRecorder other(*client_, {"prod", "other"}, clock_, "autoscaler-0");
  ASSERT_TRUE(other.Record(kube::EventType::kWarning, "ScaleFailed", "not this one"));
  auto r = Kubectl("describe deployment web");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Replicas:               2 desired"), std::string::npos) << r.output;
  const auto events = r.output.find("Events:");
  ASSERT_NE(events, std::string::npos) << r.output;
  const std::string tail = r.output.substr(events);
  EXPECT_NE(tail.find("ScaledUp"), std::string::npos) << r.output;
  EXPECT_NE(tail.find("from 2 to 3: backlog 250 over 12 partitions"), std::string::npos)
      << r.output;
  EXPECT_NE(tail.find("kafka-autoscaler"), std::string::npos) << r.output;
  EXPECT_EQ(tail.find("not this one"), std::string::npos) << r.output;
  EXPECT_EQ(server_->CountRequests("GET", "/api/v1/namespaces/prod/events"), 1);
}

// KafkaScalers (deploy/many/kafkascaler-crd.yaml): kubectl creates them, finds them by short
// name, prints the CRD's columns for every namespace, writes status through the subresource,
// and gets the server's 422 for an object its schema refuses.
TEST_F(KubectlTest, KafkaScalersWithTheirColumns) {
  const std::string file = dir_.path() + "/ks.yaml";
  {
    std::ofstream out(file);
    out << "apiVersion: kafka-autoscaler.io/v1alpha1\nkind: KafkaScaler\n"
           "metadata: {name: orders, namespace: shop}\n"
           "spec:\n  scaleTargetRef: {kind: Deployment, name: orders-consumer}\n"
           "  topics: [orders]\n  consumerGroup: orders-g\n  maxReplicas: 12\n"
           "---\napiVersion: kafka-autoscaler.io/v1alpha1\nkind: KafkaScaler\n"
           "metadata: {name: payments, namespace: prod}\n"
           "spec:\n  scaleTargetRef: {kind: StatefulSet, name: payments}\n"
           "  topics: [payments]\n";
  }
  // --validate=false: this fixture serves no /openapi/v3; the server validates with the CRD.
  auto created = Kubectl("create --validate=false -f " + file);
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find("kafkascaler.kafka-autoscaler.io/orders created"),
            std::string::npos)
      << created.output;

  // Defaults were applied by the server, generation starts at 1.
  auto got = Kubectl("get ks orders -n shop -o json");
  ASSERT_EQ(got.exit_code, 0) << got.output;
  auto ks = nlohmann::json::parse(got.output);
  EXPECT_EQ(ks["spec"]["messagesPerPod"], 10);
  EXPECT_EQ(ks["spec"]["maxReplicas"], 12);
  EXPECT_EQ(ks["metadata"]["generation"], 1);

  auto status = Kubectl(
      "patch ks orders -n shop --subresource=status --type=merge -p "
      "'{\"status\":{\"backlog\":2500,\"currentReplicas\":3,\"desiredReplicas\":5,"
      "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Observed\","
      "\"message\":\"ok\",\"lastTransitionTime\":\"2026-11-30T00:00:00Z\"}]}}'");
  ASSERT_EQ(status.exit_code, 0) << status.output;

  auto table = Kubectl("get ks -A");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  for (const char* header : {"NAMESPACE", "NAME", "TARGET", "TOPICS", "GROUP", "BACKLOG",
                             "REPLICAS", "DESIRED", "READY", "AGE"}) {
    EXPECT_NE(table.output.find(header), std::string::npos) << header << "\n" << table.output;
  }
  EXPECT_TRUE(std::regex_search(
      table.output,
      std::regex(
          R"(shop\s+orders\s+orders-consumer\s+\S*orders\S*\s+orders-g\s+2500\s+3\s+5\s+True\s+\d+s)")))
      << table.output;
  EXPECT_TRUE(std::regex_search(table.output, std::regex(R"(prod\s+payments\s+payments\s)")))
      << table.output;

  // A spec change bumps the generation; the status written above survives it.
  auto scaled =
      Kubectl("patch ks orders -n shop --type=merge -p '{\"spec\":{\"maxReplicas\":20}}'");
  ASSERT_EQ(scaled.exit_code, 0) << scaled.output;
  auto after = nlohmann::json::parse(Kubectl("get ks orders -n shop -o json").output);
  EXPECT_EQ(after["metadata"]["generation"], 2);
  EXPECT_EQ(after["status"]["backlog"], 2500);

  auto refused =
      Kubectl("patch ks orders -n shop --type=merge -p '{\"spec\":{\"maxReplicas\":0}}'");
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_NE(refused.output.find("spec.maxReplicas: should be greater than or equal to 1"),
            std::string::npos)
      << refused.output;

  auto described = Kubectl("describe kafkascaler orders -n shop");
  ASSERT_EQ(described.exit_code, 0) << described.output;
  EXPECT_TRUE(std::regex_search(described.output, std::regex(R"(Backlog:\s+2500)")))
      << described.output;

  // kubectl's watch (list, then watch from the list's resourceVersion) sees a change made while
  // it runs.
  ShellResult watched;
  std::thread watcher([&] {
    watched = Kubectl(
        "get ks -n shop --watch --output-watch-events --request-timeout=0 2>&1 & "
        "sleep 6; kill $!");
  });
  bool watching = false;
  for (int i = 0; i < 500 && !watching; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (const auto& r : server_->Requests()) {
      watching |= r.query.find("watch=true") != std::string::npos;
    }
  }
  EXPECT_TRUE(watching) << "kubectl never started a watch";
  ASSERT_EQ(Kubectl("patch ks orders -n shop --type=merge -p '{\"spec\":{\"maxReplicas\":21}}'")
                .exit_code,
            0);
  watcher.join();
  EXPECT_TRUE(std::regex_search(watched.output, std::regex(R"(ADDED\s+orders\s)")))
      << watched.output;
  EXPECT_TRUE(std::regex_search(watched.output, std::regex(R"(MODIFIED\s+orders\s)")))
      << watched.output;

  ASSERT_EQ(Kubectl("delete ks payments -n prod").exit_code, 0);
  EXPECT_NE(Kubectl("get ks payments -n prod").exit_code, 0);
}

// kubectl asks for lists in chunks (limit, then continue): the server's pages, read by the real
// client, as a table and as objects.
TEST_F(KubectlTest, ChunkedListsReadWhole) {
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    nlohmann::json body = {
        {"apiVersion", "kafka-autoscaler.io/v1alpha1"},
        {"kind", "KafkaScaler"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", "web"}}}, {"topics", {"orders"}}}}};
    auto r =
        client_->Call("POST", "/apis/kafka-autoscaler.io/v1alpha1/namespaces/prod/kafkascalers",
                      {"create", "kafkascalers", "prod", name}, &body);
    ASSERT_TRUE(r) << r.error().message;
  }
  auto names = Kubectl("get ks --chunk-size=2 -o name");
  ASSERT_EQ(names.exit_code, 0) << names.output;
  EXPECT_EQ(names.output,
            "kafkascaler.kafka-autoscaler.io/a\nkafkascaler.kafka-autoscaler.io/b\n"
            "kafkascaler.kafka-autoscaler.io/c\nkafkascaler.kafka-autoscaler.io/d\n"
            "kafkascaler.kafka-autoscaler.io/e\n");
  auto table = Kubectl("get ks --chunk-size=2 --no-headers");
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_EQ(std::count(table.output.begin(), table.output.end(), '\n'), 5) << table.output;
  int chunked = 0;
  for (const auto& r : server_->Requests()) {
    if (r.method == "GET" && r.query.find("continue=") != std::string::npos) ++chunked;
  }
  EXPECT_EQ(chunked, 4);  // two follow-up chunks for each command
}

TEST_F(KubectlTest, GetLeaseShowsTheElectedLease) {
  kube::KubeLeaseLock lock(*client_, "prod", "kafka-autoscaler-web", "autoscaler-0");
  auto elector = kube::LeaderElector::Create(lock, clock_, {});
  ASSERT_TRUE(elector);
  ASSERT_TRUE((*elector)->Step());
  auto r = Kubectl("get lease");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("kafka-autoscaler-web"), std::string::npos) << r.output;
  auto json = Kubectl("get lease kafka-autoscaler-web -o json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  auto lease = nlohmann::json::parse(json.output);
  EXPECT_EQ(lease["spec"]["holderIdentity"], "autoscaler-0");
}

// The daemon's learned state in a ConfigMap: kubectl finds it (also by its short name) and
// prints one key of it.
TEST_F(KubectlTest, GetConfigMapPrintsTheStoredValue) {
  server_->PutConfigMap({{"metadata", {{"namespace", "shop"}, {"name", "kafka-autoscaler-state"}}},
                         {"data", {{"model", R"({"orders":{"rate":12.5}})"}}}});
  auto r = Kubectl("get configmap kafka-autoscaler-state -n shop -o jsonpath={.data.model}");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, R"({"orders":{"rate":12.5}})");
  auto listed = Kubectl("get cm -n shop");
  ASSERT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_TRUE(std::regex_search(listed.output, std::regex(R"(kafka-autoscaler-state\s+\d+s)")))
      << listed.output;
}

TEST_F(KubectlTest, ForbiddenAndUnauthorizedAreReportedLikeARealServer) {
  server_->SetToken({.token = "reader",
                     .user = "system:serviceaccount:prod:reader",
                     .allow_all = false,
                     .rules = {{.verbs = {"get"}, .resources = {"deployments"}}}});
  ASSERT_TRUE(server_->WriteKubeconfig(kubeconfig_, "reader", "prod"));
  auto r = Kubectl("scale deployment web --replicas=5");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("cannot patch resource \"deployments/scale\" in API group \"apps\" "
                          "in the namespace \"prod\""),
            std::string::npos)
      << r.output;
  ASSERT_TRUE(server_->WriteKubeconfig(kubeconfig_, "bogus", "prod"));
  auto denied = Kubectl("get deployment web");
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.output.find("Unauthorized"), std::string::npos) << denied.output;
  EXPECT_EQ(server_->Deployment("prod", "web")->at("spec").at("replicas"), 2);
}

TEST_F(KubectlTest, AcceptsAggregatedDiscovery) {
  // A second server that answers kubectl's aggregated-discovery Accept with the v2 document.
  auto aggregated = TestApiServer::Start(
      {.tls = true, .tokens = {{.token = "agg"}}, .aggregated_discovery = true});
  ASSERT_TRUE(aggregated) << aggregated.error().message;
  (*aggregated)->AddDeployment("prod", "web", 2);
  ASSERT_TRUE((*aggregated)->WriteKubeconfig(kubeconfig_, "agg", "prod"));
  auto r = Kubectl("scale deployment web --replicas=4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ((*aggregated)->Deployment("prod", "web")->at("spec").at("replicas"), 4);
  auto lease = Kubectl("get lease");
  ASSERT_EQ(lease.exit_code, 0) << lease.output;
  // The aggregated document was used: no per-group-version discovery requests followed.
  auto count_exact = [&](const std::string& path) {
    int n = 0;
    for (const auto& req : (*aggregated)->Requests()) n += req.path == path;
    return n;
  };
  EXPECT_GE(count_exact("/apis"), 1);
  EXPECT_EQ(count_exact("/apis/apps/v1"), 0);
  EXPECT_EQ(count_exact("/api/v1"), 0);
  EXPECT_EQ(count_exact("/apis/coordination.k8s.io/v1"), 0);
  for (const auto& req : (*aggregated)->Requests()) {
    std::printf("  aggregated server saw: %s %s -> %d\n", req.method.c_str(), req.path.c_str(),
                req.status);
  }
}

}  // namespace
}  // namespace kafka_autoscaler::testing
