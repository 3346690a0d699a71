// Harness for the fault matrix, the bad-input tests and the soak: the real kafka-autoscaler
// binary as a process against librdkafka's mock cluster (3 brokers), the test API server (HTTPS,
// bearer tokens, request log, injected faults) and, when asked, the test OTLP receiver.
//
// It owns the fixtures and writes its own kubeconfig (token inline or through a tokenFile the
// test can rewrite), and offers the observations every case asserts on: the Deployment's
// replicas, /readyz, the ticks counter of GET /, error counters scraped from /metrics, the JSON
// log lines on the daemon's stdout, and PATCHes of /scale in the API server's request log.
//
// Thread-safety: one test thread drives a Harness; the fixtures it owns are thread-safe.
#pragma once
#include <atomic>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/test_apiserver.h"
#include "e2e/process.h"
#include "mock_cluster.h"

namespace kafka_autoscaler::testing {

inline constexpr char kTopic[] = "orders";
inline constexpr char kGroup[] = "workers";
inline constexpr char kNamespace[] = "default";
inline constexpr char kDeployment[] = "workers";
inline constexpr int kPartitions = 6;
inline constexpr int kMaxReplicas = 5;
inline constexpr char kToken[] = "fault-token";

struct HarnessOptions {
  int partitions = kPartitions;
  // The kubeconfig names a token file (rewritable with WriteTokenFile) instead of a token.
  bool token_file = false;
  // The kubeconfig skips TLS verification (the server may be restarted with a new CA).
  bool insecure_tls = false;
  std::vector<TokenGrant> extra_tokens;  // more users, e.g. one per instance
  std::optional<TokenGrant> grant;       // for kToken; default: allowed everything
  // An external Kafka (a real broker, tests/kafka/real) instead of the mock: its bootstrap and
  // a client for producing and committing; `topic` must exist there with `partitions`.
  std::string bootstrap;
  kafka::testing::KafkaTestClient* client = nullptr;
  std::string topic = kTopic;
  std::string group = kGroup;
};

class Harness {
 public:
  // Starts Kafka (topic kTopic with `partitions`, group kGroup committed at offset 0 on each)
  // and the API server with Deployment kNamespace/kDeployment at 1 replica. Check ok() (and
  // error()) before use.
  explicit Harness(const std::string& name, HarnessOptions options = {});
  ~Harness();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::filesystem::path& dir() const { return dir_; }
  kafka::testing::MockCluster& kafka() { return *kafka_; }  // the mock (no external Kafka)
  TestApiServer& api() { return *api_; }
  const std::string& kubeconfig() const { return kubeconfig_; }

  // Writes a kubeconfig for `token` (inline, or via the token file) and `ca_file` ("" = the
  // server's CA) to `path`.
  bool WriteKubeconfig(const std::string& path, const std::string& token,
                       const std::string& ca_file = "");
  bool WriteTokenFile(const std::string& token);
  // Stops the API server (connections are refused) / starts it again on the same port with the
  // same Deployment replicas (a new CA: use insecure_tls).
  void StopApiServer();
  bool RestartApiServer();

  // The daemon's environment: 1 s ticks, no stabilization (a failed observation that counted as
  // zero would scale down at once), earliest offsets with a group, MAX_REPLICAS kMaxReplicas.
  std::map<std::string, std::string> Env();
  std::unique_ptr<Process> StartDaemon(const std::map<std::string, std::string>& env);
  // Env() + StartDaemon; remembers the health port for the helpers below.
  std::unique_ptr<Process> Start(std::map<std::string, std::string> overrides = {});
  int port() const { return port_.load(); }

  // Produces `per_partition` messages to every partition of kTopic (the group's commits stay:
  // from the constructor's offset 0, the lag grows by every message).
  bool Produce(int per_partition);
  // Commits offsets for kGroup so that its lag is `lag` (assumes every partition holds `high`).
  bool CommitLeaving(int64_t high, int64_t lag);

  int Replicas();
  int ReadyStatus(int port = 0);
  // GET / as JSON (null when unreachable).
  nlohmann::json Status(int port = 0);
  int64_t Ticks(int port = 0);
  // kafka_autoscaler_errors_total{kind="<kind>"} from /metrics; -1 when absent or unreachable.
  double ErrorCount(const std::string& kind, int port = 0);
  // A sample of /metrics (name with labels as printed); -1 when absent.
  double MetricValue(const std::string& series, int port = 0);
  // Waits until ready and the ticks counter moved twice (a stable baseline).
  bool WaitSteady(int replicas, std::chrono::milliseconds timeout = std::chrono::seconds(25));

  // JSON lines of the daemon's stdout whose "msg" equals `msg` ("" = all); every line must be
  // JSON (a non-JSON line fails the test).
  static std::vector<nlohmann::json> LogLines(const Process& p, const std::string& msg = "");
  static bool LoggedKind(const Process& p, const std::string& kind);
  // Every "to" of "scaled deployment" log lines lies in [idle, max].
  static void ExpectScaledWithin(const Process& p, int idle, int max);

  int Patches() { return api_ ? api_->CountRequests("PATCH", "/scale") : 0; }

 private:
  HarnessOptions options_;
  std::filesystem::path dir_;
  std::string error_;
  std::unique_ptr<kafka::testing::MockCluster> kafka_;
  kafka::testing::KafkaTestClient* client_ = nullptr;  // the mock's or the external one
  std::unique_ptr<TestApiServer> api_;
  int api_port_ = 0;
  int saved_replicas_ = 1;  // the Deployment's replicas while the API server is stopped
  std::string kubeconfig_;
  std::string token_file_;
  // Written by Env(), which bad-input tests call from several threads at once.
  std::atomic<int> port_{0};
};

// The standard checks of a fault case, in order: from a steady state at `replicas`, `inject`
// the fault; the daemon must count and log `kind`, report not ready (unless `ready_during`),
// never PATCH /scale while the fault lasts (unless `patches_allowed`), keep replicas; then
// `clear` it and be ready again (and at `replicas_after`, default `replicas`) within 2 ticks
// of the clearing (one more for the tick in flight).
struct FaultCase {
  std::string kind;
  std::function<void()> inject;
  std::function<void()> clear;
  bool ready_during = false;
  bool patches_allowed = false;
  std::optional<int> replicas_after;
  std::optional<int> replicas_during;  // Harness::Replicas() while the fault lasts; default
                                       // `replicas` (-1: the Deployment is gone)
  std::chrono::milliseconds observe_for{2500};  // how long the fault lasts once seen
  std::chrono::milliseconds detect_within{15000};
  int recovery_ticks = 3;  // ticks from clearing to ready (2 + the tick in flight)
};
void RunFaultCase(Harness& h, Process& daemon, int replicas, const FaultCase& c);

}  // namespace kafka_autoscaler::testing
