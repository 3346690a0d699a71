// The manifest's Role, converted to the test API server's allow list (role_policy.h), lets the
// real API client make every call the daemon makes (src/kube: scale target, event recorder,
// lease lock) and nothing outside the Role; and each rule is needed: with any one removed, one of
// those calls gets 403. This is the in-process half of RBAC enforcement; the end-to-end suite can
// feed the same policy to test-apiserver (see deploy-role-policy).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "apiserver/test_apiserver.h"
#include "common/clock.h"
#include "kube/client.h"
#include "kube/deployment_target.h"
#include "kube/lease_lock.h"
#include "manifest_yaml.h"
#include "role_policy.h"

namespace kafka_autoscaler::deploy_test {
namespace {

using json = nlohmann::json;
namespace ts = kafka_autoscaler::testing;

constexpr char kToken[] = "autoscaler-token";

std::vector<json> RenderedManifest() {
  auto docs = RenderKustomization(KA_KUBECTL, std::string(KA_SOURCE_DIR) + "/deploy");
  EXPECT_TRUE(docs.has_value()) << docs.error().ToString();
  return docs.value_or(std::vector<json>{});
}

struct Target {
  std::string ns;
  std::string deployment;
  std::string lease;
};

// The manifest's own names: the daemon's defaults (DEPLOYMENT_NAME, NAMESPACE, LEASE_NAME).
Target ManifestTarget(const std::vector<json>& docs) {
  Target t{.ns = "default", .deployment = "my-deployment", .lease = ""};
  for (const auto& d : docs) {
    if (d.value("kind", "") != "Deployment") continue;
    for (const auto& e : d["spec"]["template"]["spec"]["containers"][0]["env"]) {
      if (e["name"] == "DEPLOYMENT_NAME") t.deployment = e["value"];
      if (e["name"] == "NAMESPACE") t.ns = e["value"];
      if (e["name"] == "LEASE_NAME") t.lease = e["value"];
    }
  }
  if (t.lease.empty()) t.lease = "kafka-autoscaler-" + t.deployment;
  return t;
}

// Every Kubernetes call the daemon makes, through the real client classes, in the order a
// leader's first scaling tick makes them. Returns each call's name and result.
std::vector<std::pair<std::string, Status>> DaemonCalls(ts::TestApiServer& server,
                                                        const Target& t) {
  SystemClock clock;
  auto client = kube::Client::Create(
      {.server = server.url(), .token = kToken, .timeout = std::chrono::milliseconds(2000)}, clock);
  EXPECT_TRUE(client.has_value());
  if (!client) return {};
  std::vector<std::pair<std::string, Status>> calls;
  auto record = [&](std::string name, Status s) { calls.emplace_back(std::move(name), s); };

  kube::KubeLeaseLock lock(**client, t.ns, t.lease, "pod-0");
  const kube::LeaderElectionRecord lease{.holder_identity = "pod-0", .lease_duration_seconds = 15,
                                         .acquire_time = clock.WallNow(),
                                         .renew_time = clock.WallNow()};
  auto got = lock.Get();
  record("get lease (absent)",
         got || got.error().code == ErrorCode::kNotFound ? Status{} : Status(tl::unexpect, got.error()));
  record("create lease", lock.Create(lease));
  auto reread = lock.Get();
  record("get lease", reread ? Status{} : Status(tl::unexpect, reread.error()));
  record("update lease", lock.Update(lease));

  kube::DeploymentScaleTarget target(**client, {t.ns, t.deployment});
  auto state = target.Get();
  record("get deployment and scale", state ? Status{} : Status(tl::unexpect, state.error()));
  record("patch scale", target.SetReplicas(3));
  kube::DeploymentEventRecorder events(**client, {t.ns, t.deployment}, clock, "pod-0");
  record("create event", events.Record(kube::EventType::kNormal, "ScaledUp", "from 1 to 3"));
  return calls;
}

std::unique_ptr<ts::TestApiServer> StartServer(const json& policy, const Target& t) {
  auto grant = ts::TokenGrantFromJson(policy.at("tokens").at(0));
  EXPECT_TRUE(grant.has_value()) << grant.error().ToString();
  if (!grant) return nullptr;
  auto server = ts::TestApiServer::Start({.tokens = {*grant}});
  EXPECT_TRUE(server.has_value()) << server.error().ToString();
  if (!server) return nullptr;
  (*server)->AddDeployment(t.ns, t.deployment, 1);
  (*server)->AddDeployment(t.ns, "someone-elses", 1);
  return std::move(*server);
}

TEST(RolePolicy, ConvertsTheManifestRole) {
  const auto docs = RenderedManifest();
  auto policy = PolicyFromManifest(docs, kToken);
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  const json& token = (*policy)["tokens"][0];
  EXPECT_EQ(token["token"], kToken);
  EXPECT_EQ(token["user"], "system:serviceaccount:default:kafka-autoscaler");
  EXPECT_EQ(token["rules"].size(), 6u);
  auto grant = ts::TokenGrantFromJson(token);
  ASSERT_TRUE(grant.has_value()) << grant.error().ToString();
  EXPECT_FALSE(grant->allow_all);
  EXPECT_EQ(grant->rules.size(), 6u);
}

TEST(RolePolicy, RejectsRulesAGroupMismatchWouldHide) {
  auto docs = RenderedManifest();
  for (auto& d : docs) {
    if (d.value("kind", "") == "Role") d["rules"][0]["apiGroups"] = json::array({"extensions"});
  }
  auto policy = PolicyFromManifest(docs, kToken);
  ASSERT_FALSE(policy.has_value());
  EXPECT_NE(policy.error().message.find("must name apiGroups"), std::string::npos)
      << policy.error().message;
}

TEST(RolePolicy, TheRoleAllowsEveryCallTheDaemonMakesAndNothingElse) {
  const auto docs = RenderedManifest();
  const Target t = ManifestTarget(docs);
  auto policy = PolicyFromManifest(docs, kToken);
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  auto server = StartServer(*policy, t);
  ASSERT_NE(server, nullptr);
  for (const auto& [name, status] : DaemonCalls(*server, t)) {
    EXPECT_TRUE(status.has_value()) << name << ": " << status.error().ToString();
  }
  // Outside the Role: another Deployment, another Lease.
  SystemClock clock;
  auto client = kube::Client::Create({.server = server->url(), .token = kToken}, clock);
  ASSERT_TRUE(client.has_value());
  kube::DeploymentScaleTarget other(**client, {t.ns, "someone-elses"});
  auto got = other.Get();
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code, ErrorCode::kPermissionDenied) << got.error().ToString();
  kube::KubeLeaseLock other_lease(**client, t.ns, "another-lease", "pod-0");
  auto lease = other_lease.Get();
  ASSERT_FALSE(lease.has_value());
  EXPECT_EQ(lease.error().code, ErrorCode::kPermissionDenied) << lease.error().ToString();
}

TEST(RolePolicy, EveryVerbOfEveryRuleIsNeeded) {
  const auto docs = RenderedManifest();
  const Target t = ManifestTarget(docs);
  auto policy = PolicyFromManifest(docs, kToken);
  ASSERT_TRUE(policy.has_value()) << policy.error().ToString();
  const auto verbs = EveryVerb(*policy);
  ASSERT_EQ(verbs.size(), 8u);  // get deployments; get, patch scale; list hpa; create events;
                                // get, update leases (by name); create leases
  for (const auto& which : verbs) {
    SCOPED_TRACE("without " + which.Describe(*policy));
    auto server = StartServer(WithoutVerb(*policy, which), t);
    ASSERT_NE(server, nullptr);
    std::vector<std::string> denied;
    for (const auto& [name, status] : DaemonCalls(*server, t)) {
      if (!status && status.error().code == ErrorCode::kPermissionDenied) denied.push_back(name);
    }
    EXPECT_FALSE(denied.empty()) << "no call needed this rule: the Role is not minimal";
  }
}

}  // namespace
}  // namespace kafka_autoscaler::deploy_test
