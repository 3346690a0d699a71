// End-to-end, active-active (issue 16): three real kafka-autoscaler replicas in MODE=many with
// LEADER_ELECTION share the KafkaScalers of one test API server by shard Leases. Each replica has
// its own token (user), so the API server's request log proves who wrote what. Lease timing is
// client-go's (15/10/2 s): with shorter ones the API client's timeout (at most lease - renew and
// half the tick deadline) falls to 0.5 s, which TLS on a loaded 2-core machine misses. Every
// wait is an Eventually, never an upper bound.
// Default run: 12 targets over 6 shards (the issue's 300 is the same code, and a minute longer).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "apiserver/test_apiserver.h"
#include "e2e/process.h"
#include "mock_cluster.h"

namespace kafka_autoscaler::testing {
namespace {

using kafka::testing::CommitOffset;
using kafka::testing::MockCluster;
using nlohmann::json;
using std::chrono::seconds;

constexpr int kReplicas = 3;
constexpr int kTargets = 12;
constexpr int kShards = 6;
constexpr int kPartitions = 6;
constexpr char kNs[] = "team-a";

std::string User(int i) { return "system:serviceaccount:default:replica-" + std::to_string(i); }
std::string Name(int t) { return "t" + std::to_string(t); }

class ShardsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ka-shards-e2e-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto kafka = MockCluster::Start(3);
    ASSERT_TRUE(kafka) << kafka.error().message;
    kafka_ = std::move(*kafka);
    std::vector<TokenGrant> tokens;
    for (int i = 0; i < kReplicas; ++i)
      tokens.push_back({.token = "t" + std::to_string(i), .user = User(i)});
    tokens.push_back({.token = "admin", .user = "admin"});
    auto api =
        TestApiServer::Start({.tls = true, .cert_dir = (dir_ / "tls").string(), .tokens = tokens});
    ASSERT_TRUE(api) << api.error().message;
    api_ = std::move(*api);
    for (int i = 0; i < kReplicas; ++i) {
      kubeconfigs_.push_back((dir_ / ("kubeconfig-" + std::to_string(i))).string());
      ASSERT_TRUE(api_->WriteKubeconfig(kubeconfigs_.back(), "t" + std::to_string(i), "default"));
    }
    admin_kubeconfig_ = (dir_ / "kubeconfig-admin").string();
    ASSERT_TRUE(api_->WriteKubeconfig(admin_kubeconfig_, "admin", "default"));
    ASSERT_TRUE(kafka_->CreateTopic("orders", kPartitions));
    for (int t = 0; t < kTargets; ++t) {
      std::vector<CommitOffset> zero;
      for (int p = 0; p < kPartitions; ++p) zero.push_back({"orders", p, 0});
      ASSERT_TRUE(kafka_->Commit("g-" + Name(t), zero));
      api_->AddDeployment(kNs, Name(t) + "-worker", 1);
    }
    daemons_.resize(kReplicas);
    ports_.resize(kReplicas);
  }

  void StartReplica(int i) {
    ports_[i] = FreePort();
    std::map<std::string, std::string> env = {{"MODE", "many"},
                                              {"KAFKA_BOOTSTRAP_SERVERS", kafka_->bootstrap()},
                                              {"HEALTH_CHECK_PORT", std::to_string(ports_[i])},
                                              {"KUBECONFIG", kubeconfigs_[i]},
                                              {"KUBERNETES_SERVICE_HOST", ""},
                                              {"OTEL_SDK_DISABLED", "true"},
                                              {"LOG_FORMAT", "json"},
                                              {"LOG_LEVEL", "info"},
                                              {"LEADER_ELECTION", "true"},
                                              {"POD_NAME", "replica-" + std::to_string(i)},
                                              {"POD_NAMESPACE", "default"},
                                              {"SHARDS", std::to_string(kShards)}};
    daemons_[i] = std::make_unique<Process>(std::vector<std::string>{KA_BINARY, "run"}, env);
    ASSERT_GT(daemons_[i]->pid(), 0);
  }

  // A /metrics gauge of replica i; -1 when unreadable.
  long Gauge(int i, const std::string& name) {
    auto [code, body] = HttpGet(ports_[i], "/metrics");
    if (code != 200) return -1;
    std::smatch m;
    if (!std::regex_search(body, m, std::regex("\n" + name + " ([0-9]+)"))) return -1;
    return std::stol(m[1]);
  }

  ShellResult Kubectl(const std::string& args) {
    return RunShell("HOME='" + dir_.string() + "' KUBECONFIG='" + admin_kubeconfig_ + "' " +
                    KA_KUBECTL + " --cache-dir='" + dir_.string() +
                    "/cache' --request-timeout=20s " + args + " 2>&1");
  }
  void CreateScalers() {
    std::string yaml;
    for (int t = 0; t < kTargets; ++t) {
      yaml +=
          "---\napiVersion: kafka-autoscaler.io/v1alpha1\nkind: KafkaScaler\n"
          "metadata: {name: " +
          Name(t) + ", namespace: " + kNs +
          "}\nspec:\n"
          "  scaleTargetRef: {kind: Deployment, name: " +
          Name(t) +
          "-worker}\n"
          "  topics: [orders]\n  consumerGroup: g-" +
          Name(t) +
          "\n"
          "  offsetResetPolicy: earliest\n  messagesPerPod: 10\n  minReplicas: 1\n"
          "  maxReplicas: 6\n  scaleIntervalSeconds: 1\n";
    }
    const std::string file = (dir_ / "ks.yaml").string();
    std::ofstream(file) << yaml;
    auto r = Kubectl("create --validate=false -f " + file);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  // status.reconciledBy of every KafkaScaler ("" when unset).
  std::map<std::string, std::string> ReconciledBy() {
    std::map<std::string, std::string> out;
    auto r = Kubectl(std::string("get ks -n ") + kNs + " -o json");
    const json list = json::parse(r.output, nullptr, false);
    if (!list.is_object()) return out;
    for (const auto& item : list.value("items", json::array())) {
      out[item["metadata"]["name"]] =
          item.value("status", json::object()).value("reconciledBy", "");
    }
    return out;
  }
  int Replicas(int t) {
    auto d = api_->Deployment(kNs, Name(t) + "-worker");
    return d ? (*d)["spec"]["replicas"].get<int>() : -1;
  }
  // For every target, the users that sent PATCH .../scale or .../status for it since `from`.
  std::map<std::string, std::set<std::string>> Writers() {
    std::map<std::string, std::set<std::string>> out;
    const std::regex scale(R"(/deployments/(t[0-9]+)-worker/scale$)");
    const std::regex status(R"(/kafkascalers/(t[0-9]+)/status$)");
    for (const auto& r : api_->Requests()) {
      if (r.method != "PATCH" && r.method != "PUT") continue;
      std::smatch m;
      if (std::regex_search(r.path, m, scale) || std::regex_search(r.path, m, status)) {
        out[m[1]].insert(r.user);
      }
    }
    return out;
  }
  bool Balanced(const std::vector<int>& live) {
    for (int i : live) {
      if (Gauge(i, "kafka_autoscaler_shards_held") != kShards / static_cast<long>(live.size()))
        return false;
    }
    return true;
  }
  std::string Logs() {
    std::string out;
    for (int i = 0; i < kReplicas; ++i) {
      if (!daemons_[i]) continue;
      out += "--- replica " + std::to_string(i) + " (last lines)\n" + daemons_[i]->Stderr();
      const auto lines = daemons_[i]->Lines();
      for (size_t k = lines.size() > 30 ? lines.size() - 30 : 0; k < lines.size(); ++k)
        out += lines[k] + "\n";
    }
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<MockCluster> kafka_;
  std::unique_ptr<TestApiServer> api_;
  std::vector<std::string> kubeconfigs_;
  std::string admin_kubeconfig_;
  std::vector<std::unique_ptr<Process>> daemons_;
  std::vector<int> ports_;
};

TEST_F(ShardsE2eTest, ThreeReplicasSplitTheTargetsAndTakeOverAfterKillAndTerm) {
  for (int i = 0; i < kReplicas; ++i) StartReplica(i);
  ASSERT_TRUE(Eventually([&] { return Balanced({0, 1, 2}); }, seconds(60))) << Logs();

  // A stable period: every target is written by exactly one replica, and the work is split.
  api_->ClearRequests();
  CreateScalers();
  ASSERT_TRUE(kafka_->ProduceEach("orders", kPartitions, 8));  // 48 → 5 replicas each
  ASSERT_TRUE(Eventually(
      [&] {
        for (int t = 0; t < kTargets; ++t) {
          if (Replicas(t) != 5) return false;
        }
        return true;
      },
      seconds(120)))
      << Logs();
  ASSERT_TRUE(Eventually(
      [&] {
        auto by = ReconciledBy();
        if (by.size() != static_cast<size_t>(kTargets)) return false;
        for (const auto& [name, who] : by) {
          if (who.empty()) return false;
        }
        return true;
      },
      seconds(60)));
  std::set<std::string> writers;
  long owned = 0;
  for (const auto& [target, users] : Writers()) {
    EXPECT_EQ(users.size(), 1u) << target << " written by " << users.size() << " replicas";
    writers.insert(users.begin(), users.end());
  }
  for (int i = 0; i < kReplicas; ++i) {
    const long n = Gauge(i, "kafka_autoscaler_targets_owned");
    std::printf("replica-%d owns %ld targets, %ld shards\n", i, n,
                Gauge(i, "kafka_autoscaler_shards_held"));
    owned += n;
  }
  EXPECT_EQ(owned, kTargets) << "every target owned by exactly one replica";
  EXPECT_GE(writers.size(), 2u) << "the work is split";

  // SIGKILL the replica owning most: its targets are reconciled by the others within a lease
  // duration and an interval (measured), none left unowned.
  int victim = 0;
  for (int i = 1; i < kReplicas; ++i) {
    if (Gauge(i, "kafka_autoscaler_targets_owned") >
        Gauge(victim, "kafka_autoscaler_targets_owned"))
      victim = i;
  }
  const std::string victim_name = "replica-" + std::to_string(victim);
  std::set<std::string> victims_targets;
  for (const auto& [name, who] : ReconciledBy()) {
    if (who == victim_name) victims_targets.insert(name);
  }
  ASSERT_FALSE(victims_targets.empty());
  // The victim's targets must tick again: more messages change their status (backlog).
  auto killed_at = std::chrono::steady_clock::now();
  daemons_[victim]->Signal(SIGKILL);
  ASSERT_TRUE(kafka_->ProduceEach("orders", kPartitions, 1));
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& [name, who] : ReconciledBy()) {
          if (who == victim_name || who.empty()) return false;
        }
        return true;
      },
      seconds(60)))
      << Logs();
  const double handover =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  std::printf("hand-over after SIGKILL: %.1f s for %zu targets (lease 15 s, interval 1 s)\n",
              handover, victims_targets.size());
  std::vector<int> live;
  for (int i = 0; i < kReplicas; ++i) {
    if (i != victim) live.push_back(i);
  }
  ASSERT_TRUE(Eventually([&] { return Balanced(live); }, seconds(60))) << Logs();

  // SIGTERM one of the two left: it releases its shards, the last one takes them at once.
  const int leaving = live[0];
  const int last = live[1];
  const std::string leaving_name = "replica-" + std::to_string(leaving);
  auto termed_at = std::chrono::steady_clock::now();
  daemons_[leaving]->Signal(SIGTERM);
  ASSERT_TRUE(Eventually([&] { return Gauge(last, "kafka_autoscaler_shards_held") == kShards; },
                         seconds(60)))
      << Logs();
  const double taken =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - termed_at).count();
  std::printf("shards taken after SIGTERM: %.1f s\n", taken);
  ASSERT_TRUE(kafka_->ProduceEach("orders", kPartitions, 1));
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& [name, who] : ReconciledBy()) {
          if (who != "replica-" + std::to_string(last)) return false;
        }
        return true;
      },
      seconds(60)))
      << Logs();
  EXPECT_EQ(Gauge(last, "kafka_autoscaler_targets_owned"), kTargets);
}

}  // namespace
}  // namespace kafka_autoscaler::testing
