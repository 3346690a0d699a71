#include "faults/harness.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace kafka_autoscaler::testing {

using std::chrono::milliseconds;
using std::chrono::seconds;

Harness::Harness(const std::string& name, HarnessOptions options) : options_(std::move(options)) {
  dir_ = std::filesystem::temp_directory_path() /
         ("ka-faults-" + std::to_string(getpid()) + "-" + name);
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  if (options_.client != nullptr) {
    client_ = options_.client;
  } else {
    auto kafka = kafka::testing::MockCluster::Start(3);
    if (!kafka) {
      error_ = "mock kafka: " + kafka.error().message;
      return;
    }
    kafka_ = std::move(*kafka);
    client_ = &kafka_->client();
    options_.bootstrap = kafka_->bootstrap();
    if (auto s = kafka_->CreateTopic(options_.topic, options_.partitions); !s) {
      error_ = "create topic: " + s.error().message;
      return;
    }
  }
  // The group has committed offset 0 on every partition, as a consumer group that has run
  // does: its lag is then every message produced (a group that never committed is held at
  // MIN_REPLICAS until its first commit, issue 13 item 7, and has its own test).
  std::vector<kafka::testing::CommitOffset> zero;
  for (int p = 0; p < options_.partitions; ++p) zero.push_back({options_.topic, p, 0});
  if (auto s = client_->Commit(options_.group, zero); !s) {
    error_ = "commit offset 0: " + s.error().message;
    return;
  }
  if (!RestartApiServer()) return;
  kubeconfig_ = (dir_ / "kubeconfig").string();
  token_file_ = (dir_ / "token").string();
  if (!WriteTokenFile(kToken) || !WriteKubeconfig(kubeconfig_, kToken)) {
    error_ = "cannot write the kubeconfig";
  }
}

Harness::~Harness() {
  api_.reset();
  kafka_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

bool Harness::WriteTokenFile(const std::string& token) {
  // Write then rename, as the kubelet does: a reader never sees half a token.
  const std::string tmp = token_file_ + ".tmp";
  {
    std::ofstream out(tmp);
    out << token << "\n";
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, token_file_, ec);
  return !ec;
}

bool Harness::WriteKubeconfig(const std::string& path, const std::string& token,
                              const std::string& ca_file) {
  std::ofstream out(path);
  out << "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n"
      << "    server: https://127.0.0.1:" << api_port_ << "\n";
  if (options_.insecure_tls) {
    out << "    insecure-skip-tls-verify: true\n";
  } else {
    out << "    certificate-authority: " << (ca_file.empty() ? api_->ca_file() : ca_file) << "\n";
  }
  out << "users:\n- name: test\n  user:\n";
  if (options_.token_file) {
    out << "    tokenFile: " << token_file_ << "\n";
  } else {
    out << "    token: " << token << "\n";
  }
  out << "contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n"
      << "    namespace: " << kNamespace << "\ncurrent-context: test\n";
  return static_cast<bool>(out);
}

void Harness::StopApiServer() {
  saved_replicas_ = Replicas();
  api_.reset();
}

bool Harness::RestartApiServer() {
  TokenGrant grant = options_.grant.value_or(TokenGrant{});
  grant.token = kToken;
  std::vector<TokenGrant> tokens = {grant};
  tokens.insert(tokens.end(), options_.extra_tokens.begin(), options_.extra_tokens.end());
  const auto tls_dir = dir_ / ("tls-" + std::to_string(api_port_));
  std::filesystem::create_directories(tls_dir);
  auto api = TestApiServer::Start(
      {.port = api_port_, .tls = true, .cert_dir = tls_dir.string(), .tokens = tokens});
  if (!api) {
    error_ = "api server: " + api.error().message;
    return false;
  }
  api_ = std::move(*api);
  api_port_ = api_->port();
  api_->AddDeployment(kNamespace, kDeployment, saved_replicas_);
  return true;
}

std::map<std::string, std::string> Harness::Env() {
  const int port = FreePort();
  port_ = port;
  return {{"KAFKA_BOOTSTRAP_SERVERS", options_.bootstrap},
          {"KAFKA_TOPIC", options_.topic},
          {"KAFKA_CONSUMER_GROUP", options_.group},
          {"KAFKA_OFFSET_RESET_POLICY", "earliest"},
          {"NAMESPACE", kNamespace},
          {"DEPLOYMENT_NAME", kDeployment},
          {"MESSAGES_PER_POD", "10"},
          {"MIN_REPLICAS", "1"},
          {"MAX_REPLICAS", std::to_string(kMaxReplicas)},
          {"IDLE_REPLICAS", "0"},
          {"MIN_TTL_SECONDS", "300"},
          {"SCALE_DOWN_STABILIZATION_SECONDS", "0"},
          {"SCALE_INTERVAL_SECONDS", "1"},
          {"HEALTH_CHECK_PORT", std::to_string(port)},
          {"KUBECONFIG", kubeconfig_},
          {"KUBERNETES_SERVICE_HOST", ""},
          {"OTEL_SDK_DISABLED", "true"},
          {"LOG_FORMAT", "json"},
          {"LOG_LEVEL", "info"}};
}

std::unique_ptr<Process> Harness::StartDaemon(const std::map<std::string, std::string>& env) {
  auto p = std::make_unique<Process>(std::vector<std::string>{KA_BINARY, "run"}, env);
  EXPECT_GT(p->pid(), 0);
  return p;
}

std::unique_ptr<Process> Harness::Start(std::map<std::string, std::string> overrides) {
  auto env = Env();
  for (auto& [k, v] : overrides) env[k] = v;
  if (overrides.count("HEALTH_CHECK_PORT")) port_ = std::stoi(overrides["HEALTH_CHECK_PORT"]);
  return StartDaemon(env);
}

bool Harness::Produce(int per_partition) {
  auto s = client_->ProduceEach(options_.topic, options_.partitions, per_partition);
  EXPECT_TRUE(s) << s.error().message;
  return static_cast<bool>(s);
}

bool Harness::CommitLeaving(int64_t high, int64_t lag) {
  std::vector<kafka::testing::CommitOffset> offsets;
  for (int p = 0; p < options_.partitions; ++p) {
    const int64_t keep = std::min(lag, high);
    lag -= keep;
    offsets.push_back({options_.topic, p, high - keep});
  }
  auto s = client_->Commit(options_.group, offsets);
  EXPECT_TRUE(s) << s.error().message;
  return static_cast<bool>(s) && lag == 0;
}

int Harness::Replicas() {
  if (!api_) return saved_replicas_;
  auto d = api_->Deployment(kNamespace, kDeployment);
  return d ? (*d)["spec"]["replicas"].get<int>() : -1;
}

int Harness::ReadyStatus(int port) { return HttpGet(port ? port : port_.load(), "/readyz").first; }

nlohmann::json Harness::Status(int port) {
  auto [status, body] = HttpGet(port ? port : port_.load(), "/");
  if (status == 0) return nullptr;
  return nlohmann::json::parse(body, nullptr, false);
}

int64_t Harness::Ticks(int port) {
  auto s = Status(port);
  return s.is_object() ? s.value("ticks", int64_t{-1}) : -1;
}

double Harness::MetricValue(const std::string& series, int port) {
  auto [status, body] = HttpGet(port ? port : port_.load(), "/metrics");
  if (status != 200) return -1;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

double Harness::ErrorCount(const std::string& kind, int port) {
  const double v = MetricValue("kafka_autoscaler_errors_total{kind=\"" + kind + "\"}", port);
  return v < 0 ? 0 : v;
}

bool Harness::WaitSteady(int replicas, milliseconds timeout) {
  int64_t ticks = -1;
  return Eventually(
      [&] {
        if (Replicas() != replicas || ReadyStatus() != 200) return false;
        const int64_t now = Ticks();
        if (ticks < 0) ticks = now;
        return now >= ticks + 2;
      },
      timeout);
}

std::vector<nlohmann::json> Harness::LogLines(const Process& p, const std::string& msg) {
  std::vector<nlohmann::json> out;
  for (const auto& line : p.Lines()) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "not a JSON log line: " << line.substr(0, 300);
    if (j.is_object() && (msg.empty() || j.value("msg", "") == msg)) out.push_back(j);
  }
  return out;
}

bool Harness::LoggedKind(const Process& p, const std::string& kind) {
  for (const auto& j : LogLines(p)) {
    if (j.value("error_kind", "") == kind) return true;
  }
  return false;
}

void Harness::ExpectScaledWithin(const Process& p, int idle, int max) {
  for (const auto& j : LogLines(p, "scaled deployment")) {
    const int to = j.value("to", -1);
    EXPECT_GE(to, idle) << j.dump();
    EXPECT_LE(to, max) << j.dump();
  }
}

void RunFaultCase(Harness& h, Process& daemon, int replicas, const FaultCase& c) {
  SCOPED_TRACE("fault kind " + c.kind);
  const double before = h.ErrorCount(c.kind);
  h.api().ClearRequests();  // the inject may stop the server: clear first
  c.inject();
  // Counted, logged, and visible in readiness.
  auto alive = [&] {
    if (daemon.Running()) return true;
    const auto status = daemon.Wait(milliseconds(0));
    const auto lines = daemon.Lines();
    std::string tail;
    for (size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i) {
      tail += lines[i] + "\n";
    }
    ADD_FAILURE() << "the daemon died during the fault: exit " << status.value_or(-1)
                  << "\nlast lines:\n"
                  << tail << "stderr:\n"
                  << daemon.Stderr();
    return false;
  };
  Eventually([&] { return h.ErrorCount(c.kind) > before || !daemon.Running(); }, c.detect_within);
  if (!alive()) return;
  EXPECT_TRUE(Eventually([&] { return h.ErrorCount(c.kind) > before; }, c.detect_within))
      << c.kind << " never counted; status: " << h.Status().dump() << "\n"
      << daemon.Stderr();
  EXPECT_TRUE(Eventually([&] { return Harness::LoggedKind(daemon, c.kind); }, seconds(3)))
      << c.kind << " never logged";
  if (!c.ready_during) {
    EXPECT_TRUE(Eventually([&] { return h.ReadyStatus() == 503; }, seconds(5)))
        << "still ready during the fault: " << h.Status().dump();
  }
  // While the fault lasts: ticks go on, no PATCH, replicas kept, liveness kept.
  const int64_t ticks_seen = h.Ticks();
  const auto until = std::chrono::steady_clock::now() + c.observe_for;
  while (std::chrono::steady_clock::now() < until) {
    if (!c.patches_allowed) {
      EXPECT_EQ(h.Patches(), 0) << "scaled during the fault";
    }
    EXPECT_EQ(h.Replicas(), c.replicas_during.value_or(replicas));
    std::this_thread::sleep_for(milliseconds(100));
  }
  // A tick that reads and parses a hostile answer (a 5 MiB body) can outlast the window under
  // TSan on two loaded cores; a stopped loop still never ticks within the grace period.
  EXPECT_TRUE(Eventually([&] { return h.Ticks() > ticks_seen; }, seconds(10)))
      << "the loop stopped ticking during the fault: " << ticks_seen << " ticks";
  EXPECT_EQ(HttpGet(h.port(), "/healthz").first, 200);
  if (!c.ready_during) {
    EXPECT_EQ(h.ReadyStatus(), 503);
  }

  // Recovery, counted in ticks of the daemon itself.
  c.clear();
  const int64_t cleared_at = h.Ticks();
  const int want = c.replicas_after.value_or(replicas);
  int64_t ready_at = -1;
  EXPECT_TRUE(Eventually(
      [&] {
        if (h.ReadyStatus() != 200 || h.Replicas() != want) return false;
        ready_at = h.Ticks();
        return true;
      },
      seconds(20)))
      << "no recovery: " << h.Status().dump();
  EXPECT_LE(ready_at - cleared_at, c.recovery_ticks)
      << "recovered only after " << (ready_at - cleared_at) << " ticks";
  Harness::ExpectScaledWithin(daemon, 0, kMaxReplicas);
}

}  // namespace kafka_autoscaler::testing
