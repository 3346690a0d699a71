// deploy/many's RBAC is exactly what many mode needs: the real daemon (MODE=many, shard Leases)
// runs with the rights of the rendered manifest (kubectl kustomize deploy/many) and is refused
// nothing while it lists and watches KafkaScalers and workloads, scales a Deployment and a
// StatefulSet, posts Events and writes status; with any one verb of any one rule removed, some
// request it makes gets 403.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "apiserver/test_apiserver.h"
#include "e2e/process.h"
#include "e2e/scratch_dir.h"
#include "kube/client.h"
#include "manifest_yaml.h"
#include "mock_cluster.h"
#include "role_policy.h"

namespace kafka_autoscaler::testing {
namespace {

using kafka::testing::CommitOffset;
using kafka::testing::MockCluster;
using nlohmann::json;
using std::chrono::seconds;

constexpr char kToken[] = "many-rbac-token";
constexpr char kAdmin[] = "admin-token";
constexpr int kPartitions = 3;

json ManyManifestPolicy() {
  auto docs =
      deploy_test::RenderKustomization(KA_KUBECTL, std::string(KA_SOURCE_DIR) + "/deploy/many");
  EXPECT_TRUE(docs) << docs.error().message;
  if (!docs) return {};
  auto policy = deploy_test::PolicyFromManifest(*docs, kToken);
  EXPECT_TRUE(policy) << policy.error().message;
  return policy ? *policy : json{};
}

json Scaler(const std::string& name, const std::string& kind, const std::string& topic) {
  return {{"apiVersion", "kafka-autoscaler.io/v1alpha1"},
          {"kind", "KafkaScaler"},
          {"metadata", {{"name", name}, {"namespace", "shop"}}},
          {"spec",
           {{"scaleTargetRef", {{"kind", kind}, {"name", name}}},
            {"topics", {topic}},
            {"consumerGroup", "g-" + name},
            {"offsetResetPolicy", "earliest"},
            {"messagesPerPod", 10},
            {"maxReplicas", 5},
            {"scaleIntervalSeconds", 1}}}};
}

class ManyRbacE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ka-many-rbac-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    auto kafka = MockCluster::Start(3);
    ASSERT_TRUE(kafka) << kafka.error().message;
    kafka_ = std::move(*kafka);
    for (const std::string topic : {"orders", "ledger"}) {
      ASSERT_TRUE(kafka_->CreateTopic(topic, kPartitions));
      std::vector<CommitOffset> zero;
      for (int p = 0; p < kPartitions; ++p) zero.push_back({topic, p, 0});
      ASSERT_TRUE(kafka_->Commit(topic == "orders" ? "g-orders" : "g-ledger", zero));
      ASSERT_TRUE(kafka_->ProduceEach(topic, kPartitions, 10));  // 30 messages: 3 replicas
    }
  }

  // One run of the daemon with `policy`; returns the requests refused with 403.
  std::vector<std::string> RunWithPolicy(const json& policy) {
    auto grant = TokenGrantFromJson(policy["tokens"][0]);
    EXPECT_TRUE(grant);
    if (!grant) return {"no grant"};
    grant->token = kToken;
    auto api = TestApiServer::Start({.tls = true,
                                     .cert_dir = (dir_ / "tls").string(),
                                     .tokens = {*grant, TokenGrant{.token = kAdmin}}});
    EXPECT_TRUE(api) << api.error().message;
    if (!api) return {"no server"};
    auto& server = **api;
    server.AddWorkload(WorkloadKind::kDeployment, "shop", "orders", 1);
    server.AddWorkload(WorkloadKind::kStatefulSet, "shop", "ledger", 1);
    SystemClock clock;
    auto admin = kube::Client::Create(
        {.server = server.url(), .ca_file = server.ca_file(), .token = kAdmin}, clock);
    EXPECT_TRUE(admin);
    for (const json& s :
         {Scaler("orders", "Deployment", "orders"), Scaler("ledger", "StatefulSet", "ledger")}) {
      auto r =
          (*admin)->Call("POST", "/apis/kafka-autoscaler.io/v1alpha1/namespaces/shop/kafkascalers",
                         {"create", "kafkascalers", "shop", ""}, &s);
      EXPECT_TRUE(r) << r.error().message;
    }
    const std::string kubeconfig = (dir_ / "kubeconfig").string();
    EXPECT_TRUE(server.WriteKubeconfig(kubeconfig, kToken, "kafka-autoscaler"));
    Process daemon({KA_BINARY, "run"}, {{"MODE", "many"},
                                        {"KAFKA_BOOTSTRAP_SERVERS", kafka_->bootstrap()},
                                        {"HEALTH_CHECK_PORT", std::to_string(FreePort())},
                                        {"KUBECONFIG", kubeconfig},
                                        {"KUBERNETES_SERVICE_HOST", ""},
                                        {"LEADER_ELECTION", "true"},
                                        {"POD_NAME", "scaler-0"},
                                        {"POD_NAMESPACE", "kafka-autoscaler"},
                                        {"OTEL_SDK_DISABLED", "true"},
                                        {"LOG_FORMAT", "json"}});
    auto replicas = [&](WorkloadKind kind, const std::string& name) {
      auto w = server.Workload(kind, "shop", name);
      return w ? (*w)["spec"]["replicas"].get<int>() : -1;
    };
    auto status_written = [&] {
      return server.CountRequests(
                 "PATCH",
                 "/apis/kafka-autoscaler.io/v1alpha1/namespaces/shop/kafkascalers/orders/status") >
             0;
    };
    auto refused_any = [&] {
      for (const auto& r : server.Requests()) {
        if (r.status == 403) return true;
      }
      return false;
    };
    // Until it took the shards, scaled both, posted Events and wrote status — or was refused.
    Eventually(
        [&] {
          return refused_any() || (replicas(WorkloadKind::kDeployment, "orders") == 3 &&
                                   replicas(WorkloadKind::kStatefulSet, "ledger") == 3 &&
                                   !server.Events("shop").empty() && status_written());
        },
        std::chrono::milliseconds(30'000));
    // Membership and shard Lease renewals (update) come a retry period (2 s) later.
    if (!refused_any()) std::this_thread::sleep_for(seconds(3));
    daemon.Signal(SIGTERM);
    EXPECT_EQ(daemon.Wait(seconds(15)), 0);
    std::vector<std::string> refused;
    for (const auto& r : server.Requests()) {
      if (r.status == 403) refused.push_back(r.method + " " + r.path + "?" + r.query);
    }
    return refused;
  }

  std::filesystem::path dir_;
  ScratchDirCleanup dir_cleanup_{dir_};  // before the members that write there
  std::unique_ptr<MockCluster> kafka_;
};

TEST_F(ManyRbacE2eTest, TheManyManifestRbacIsMinimal) {
  const json policy = ManyManifestPolicy();
  ASSERT_TRUE(policy.is_object());
  EXPECT_EQ(RunWithPolicy(policy), std::vector<std::string>{});
  for (const auto& which : deploy_test::EveryVerb(policy)) {
    SCOPED_TRACE("without " + which.Describe(policy));
    EXPECT_FALSE(RunWithPolicy(deploy_test::WithoutVerb(policy, which)).empty())
        << "the daemon needed nothing this verb grants";
  }
}

}  // namespace
}  // namespace kafka_autoscaler::testing
