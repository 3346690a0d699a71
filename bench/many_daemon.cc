// many_daemon: what the WHOLE daemon in many-targets mode (MODE=many) costs for N KafkaScalers
// (issue 15 item 6). In this process: a 3-broker librdkafka mock cluster with N topics × 12
// partitions (1 message on partition 0) and N groups (committed at 0), and the test API server
// (HTTPS) with N Deployments and N KafkaScalers (created over HTTP with an admin token). The real
// `kafka-autoscaler run` binary runs as a CHILD process (MODE=many); every figure is of that
// child only, from /proc/<pid>/stat and /proc/<pid>/status:
//   rss1_mib    VmRSS once every target has been observed (its backlog is on /metrics)
//   rss_mib     VmRSS at the end
//   cpu_ms      utime+stime over `--passes` intervals divided by the passes (one pass = every
//               target observed once: each KafkaScaler ticks once per scaleIntervalSeconds);
//               a tenth of the groups move their commit before each interval
//   api/pass    requests of the daemon's token per pass in that (moving) window
//   idle_api    requests of the daemon's token during one further interval with nothing changing
//   idle_what   what those idle requests were (METHOD path-kind ×count)
// Wall per pass and Kafka requests per pass are not exported by the daemon's /metrics in this
// mode (see bench/many_targets for the SharedObserver's own figures).
// Usage: many_daemon [--targets 1,100,1000,3000] [--passes 3] [--interval 30]
// (the ctest `bench.many_daemon`, label bench, runs --targets 10 --passes 3 --interval 2).
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/test_apiserver.h"
#include "e2e/process.h"
#include "mock_cluster.h"

namespace {

using namespace kafka_autoscaler;
using kafka::testing::CommitOffset;
using kafka::testing::MockCluster;
using nlohmann::json;
using testing::Eventually;
using testing::HttpGet;
using testing::Process;
using testing::TestApiServer;
using testing::TokenGrant;

constexpr int kPartitions = 12;
constexpr char kDaemonToken[] = "bench-daemon-token";
constexpr char kAdminToken[] = "bench-admin-token";
constexpr char kDaemonUser[] = "system:serviceaccount:default:kafka-autoscaler";
constexpr char kNamespace[] = "bench";

std::vector<int> ParseList(const char* s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::atoi(item.c_str()));
  return out;
}

// utime+stime (ms) and VmRSS (KiB) of another process.
double ProcCpuMs(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  unsigned long long utime = 0, stime = 0;  // fields 14 and 15, after "(comm) "
  if (close == std::string::npos ||
      std::sscanf(text.c_str() + close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                  &utime, &stime) != 2) {
    return 0;
  }
  return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}
long ProcRssKiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

std::string Name(const char* prefix, int run, int i) {
  return std::string(prefix) + std::to_string(run) + "-" + std::to_string(i);
}

json Scaler(int run, int i, int interval) {
  return {{"apiVersion", "kafka-autoscaler.io/v1alpha1"},
          {"kind", "KafkaScaler"},
          {"metadata", {{"name", Name("ks", run, i)}, {"namespace", kNamespace}}},
          {"spec",
           {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", Name("d", run, i)}}},
            {"topics", {Name("dt", run, i)}},
            {"consumerGroup", Name("dg", run, i)},
            {"offsetResetPolicy", "earliest"},
            {"messagesPerPod", 1000},
            {"minReplicas", 1},
            {"maxReplicas", 5},
            {"scaleIntervalSeconds", interval}}}};
}

// The kind of an API path, for the idle summary: ".../leases/x" → "leases", ".../status" → ...
std::string PathKind(const std::string& path) {
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string p; std::getline(in, p, '/');) {
    if (!p.empty()) parts.push_back(p);
  }
  for (const char* sub : {"status", "scale"}) {
    if (!parts.empty() && parts.back() == sub && parts.size() >= 3) {
      return parts[parts.size() - 3] + "/" + sub;
    }
  }
  return parts.size() >= 2 ? parts[parts.size() - 2] : path;
}

struct Window {
  int requests = 0;
  std::map<std::string, int> by_kind;
};
Window DaemonRequests(const TestApiServer& api, size_t from) {
  Window w;
  const auto all = api.Requests();
  for (size_t i = from; i < all.size(); ++i) {
    if (all[i].user != kDaemonUser) continue;
    ++w.requests;
    ++w.by_kind[all[i].method + " " + PathKind(all[i].path)];
  }
  return w;
}

int Observed(int port) {
  const std::string text = HttpGet(port, "/metrics").second;
  int n = 0;
  for (size_t at = text.find("\nkafka_autoscaler_target_backlog{"); at != std::string::npos;
       at = text.find("\nkafka_autoscaler_target_backlog{", at + 1)) {
    ++n;
  }
  return n;
}

int RunOne(MockCluster& cluster, int run, int targets, int passes, int interval) {
  const auto setup0 = std::chrono::steady_clock::now();
  auto phase = [&](const char* what) {
    std::fprintf(stderr, "# %d targets: %s after %.1f s\n", targets, what,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - setup0).count());
  };
  // Topics: the mock serves one creation per wake-up of its thread, so many threads post them.
  std::atomic<int> next{0}, failures{0};
  {
    std::vector<std::jthread> creators;
    for (int t = 0; t < 64; ++t) {
      creators.emplace_back([&] {
        for (int i = next++; i < targets; i = next++) {
          if (!cluster.CreateTopic(Name("dt", run, i), kPartitions)) ++failures;
        }
      });
    }
  }
  if (failures > 0) {
    std::fprintf(stderr, "%d topic creations failed\n", failures.load());
    return 1;
  }
  phase("topics created");
  auto commit = [&](int i, int64_t p0) {
    std::vector<CommitOffset> offsets;
    for (int p = 0; p < kPartitions; ++p)
      offsets.push_back({Name("dt", run, i), p, p == 0 ? p0 : 0});
    return static_cast<bool>(cluster.Commit(Name("dg", run, i), offsets));
  };
  for (int i = 0; i < targets; ++i) {
    if (!commit(i, 0)) ++failures;
  }
  phase("committed");

  const auto dir = std::filesystem::temp_directory_path() /
                   ("ka-many-daemon-" + std::to_string(getpid()) + "-" + std::to_string(run));
  std::filesystem::create_directories(dir);
  auto api = TestApiServer::Start({.tls = true,
                                   .cert_dir = (dir / "tls").string(),
                                   .tokens = {TokenGrant{.token = kDaemonToken},
                                              TokenGrant{.token = kAdminToken, .user = "admin"}}});
  if (!api) {
    std::fprintf(stderr, "api server: %s\n", api.error().message.c_str());
    return 1;
  }
  const std::string kubeconfig = (dir / "kubeconfig").string();
  if (!(*api)->WriteKubeconfig(kubeconfig, kDaemonToken, "default")) return 1;
  httplib::SSLClient admin("127.0.0.1", (*api)->port());
  admin.set_ca_cert_path((*api)->ca_file().c_str());
  admin.enable_server_certificate_verification(true);
  admin.set_bearer_token_auth(kAdminToken);
  const std::string path =
      std::string("/apis/kafka-autoscaler.io/v1alpha1/namespaces/") + kNamespace + "/kafkascalers";
  for (int i = 0; i < targets; ++i) {
    (*api)->AddDeployment(kNamespace, Name("d", run, i), 1);
    auto r = admin.Post(path, Scaler(run, i, interval).dump(), "application/json");
    if (!r || r->status != 201) {
      std::fprintf(stderr, "create KafkaScaler %d: %d %s\n", i, r ? r->status : 0,
                   r ? r->body.c_str() : "");
      return 1;
    }
  }
  phase("kafkascalers created");

  const int port = testing::FreePort();
  Process daemon({KA_BINARY, "run"}, {{"MODE", "many"},
                                      {"KAFKA_BOOTSTRAP_SERVERS", cluster.bootstrap()},
                                      {"HEALTH_CHECK_PORT", std::to_string(port)},
                                      {"KUBECONFIG", kubeconfig},
                                      {"KUBERNETES_SERVICE_HOST", ""},
                                      {"OTEL_SDK_DISABLED", "true"},
                                      {"LOG_FORMAT", "json"},
                                      {"LOG_LEVEL", "warn"}});
  if (daemon.pid() <= 0) return 1;
  if (!Eventually([&] { return Observed(port) == targets; }, std::chrono::minutes(30))) {
    std::fprintf(stderr, "only %d of %d targets observed\n%s\n", Observed(port), targets,
                 daemon.Stderr().c_str());
    return 1;
  }
  phase("every target observed");
  const long rss1 = ProcRssKiB(daemon.pid());
  // Let the first ticks' status writes and Events settle (one interval), then measure.
  std::this_thread::sleep_for(std::chrono::seconds(interval + 1));
  const size_t log0 = (*api)->Requests().size();
  const double cpu0 = ProcCpuMs(daemon.pid());
  for (int pass = 0; pass < passes; ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = pass % 10; i < targets; i += 10) {
      if (!commit(i, pass % 2 == 0 ? 1 : 0)) ++failures;
    }
    std::this_thread::sleep_until(t0 + std::chrono::seconds(interval));
  }
  const double cpu = (ProcCpuMs(daemon.pid()) - cpu0) / passes;
  const Window moving = DaemonRequests(**api, log0);
  // Idle: nothing changes for one more interval (after one to let the last change settle).
  std::this_thread::sleep_for(std::chrono::seconds(interval));
  const size_t log1 = (*api)->Requests().size();
  std::this_thread::sleep_for(std::chrono::seconds(interval));
  const Window idle = DaemonRequests(**api, log1);
  const long rss = ProcRssKiB(daemon.pid());
  std::string what;
  for (const auto& [kind, n] : idle.by_kind) {
    what += (what.empty() ? "" : ", ") + kind + " x" + std::to_string(n);
  }
  std::printf("%8d %9.1f %9.1f %9.1f %9s %9.1f %9d  %s\n", targets,
              static_cast<double>(rss1) / 1024, static_cast<double>(rss) / 1024, cpu, "n/a",
              static_cast<double>(moving.requests) / passes, idle.requests,
              what.empty() ? "-" : what.c_str());
  std::fflush(stdout);
  daemon.Signal(SIGTERM);
  (void)daemon.Wait(std::chrono::seconds(30));
  std::filesystem::remove_all(dir);
  if (failures > 0) std::fprintf(stderr, "%d commits failed\n", failures.load());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1, 100, 1000, 3000};
  int passes = 3;
  int interval = 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--targets") == 0) sizes = ParseList(argv[i + 1]);
    if (std::strcmp(argv[i], "--passes") == 0) passes = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--interval") == 0) interval = std::max(1, std::atoi(argv[i + 1]));
  }
  auto cluster = MockCluster::Start(3);
  if (!cluster) {
    std::fprintf(stderr, "mock cluster: %s\n", cluster.error().message.c_str());
    return 1;
  }
  std::printf(
      "# kafka-autoscaler MODE=many (child process), 3-broker mock, %d partitions per target, "
      "scaleIntervalSeconds %d, %d passes; kafka requests/pass and wall/pass: not exported\n",
      kPartitions, interval, passes);
  std::printf("%8s %9s %9s %9s %9s %9s %9s  %s\n", "targets", "rss1_mib", "rss_mib", "cpu_ms",
              "wall_ms", "api/pass", "idle_api", "idle_what");
  int run = 0;
  for (int n : sizes) {
    if (RunOne(**cluster, run++, n, passes, interval) != 0) return 1;
  }
  return 0;
}
