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
//               a tenth of the groups move their commit (0↔1) before each interval
//   api/pass    requests of the daemon's token per pass in that (moving) window
//   idle_api    requests of the daemon's token during one further interval with nothing changing
//   idle_what   what those idle requests were (METHOD path-kind ×count); the moving passes'
//               requests by kind go to stderr
//   wall_ms     mean wall time of the passes that ticked in that window
//               (kafka_autoscaler_pass_duration_seconds _sum / _count)
//   kafka/pass  Kafka requests per pass in that window (kafka_autoscaler_kafka_requests_total,
//               every API summed)
//
// With --replicas R1,R2,.. (issue 16 item 4, active-active), for each N and each R: R daemons
// (LEADER_ELECTION, SHARDS 16, client-go's 15/10/2 s Lease timing, POD_NAME "rR-replica-I", one
// token each so the request log tells them apart) of the same API server and mock cluster. Once
// settled (shards balanced, the targets_owned gauges summing to N, and every KafkaScaler's
// status.reconciledBy naming the replica that owns it), a row per replica:
//   shards, owned  kafka_autoscaler_shards_held / _targets_owned of its /metrics
//   settle_st      its status writes from its start until settled (a replica that stepped
//                  first took every shard until the others' memberships showed up)
//   rss1_mib       VmRSS once settled; rss_mib after the passes
//   cpu_ms         its utime+stime per pass over `--passes` moving intervals (as above)
//   api/pass       its API requests per pass in that window; lease/pass: the part on Leases
// Then the replica owning most is SIGKILLed; the hand-over table gives, from the kill:
//   owned_s    until the survivors' targets_owned sum to N again (shards taken)
//   written_s  until every target whose status.reconciledBy named the victim has had a status
//              write (200) by a survivor — the stricter of the two: reconciled, not only owned
// With --policy wait every KafkaScaler has scalingPolicy wait (targetWaitSeconds 20): its learned
// state goes to status.learnedState every --learned-save seconds (LEARNED_STATE_SAVE_SECONDS,
// default 300), the first save at a point of the period fixed by the target's key; idle_what
// then shows those saves (PATCH status) in the idle interval.
// Usage: many_daemon [--targets 1,100,1000,3000] [--replicas 1,2,3] [--passes 3] [--interval 30]
//                    [--policy messages|rate|wait] [--learned-save 300]
// (the ctests, label bench: `bench.many_daemon` runs --targets 10 --passes 3 --interval 2;
// `bench.many_daemon.replicas` runs --targets 10 --replicas 2 --passes 2 --interval 2).
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
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

// --policy and --learned-save.
std::string g_policy = "messages";
int g_learned_save = 300;

std::string Name(const char* prefix, int run, int i) {
  return std::string(prefix) + std::to_string(run) + "-" + std::to_string(i);
}

json Scaler(int run, int i, int interval) {
  json scaler = {{"apiVersion", "kafka-autoscaler.io/v1alpha1"},
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
  scaler["spec"]["scalingPolicy"] = g_policy;
  if (g_policy == "wait") scaler["spec"]["targetWaitSeconds"] = 20;
  return scaler;
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

// Eventually with a chosen period (a KafkaScaler list of 3,000 is too big to take 10 times a
// second).
bool Poll(const std::function<bool()>& cond, std::chrono::minutes timeout,
          std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(every);
  }
  return cond();
}

// The sum of every sample of `name` (any labels) on a daemon's /metrics; -1 when unreadable.
double MetricSum(int port, const std::string& name) {
  auto [code, text] = HttpGet(port, "/metrics");
  if (code != 200) return -1;
  double sum = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
  }
  return sum;
}

// One gauge of a daemon's /metrics ("name value" at a line start); -1 when unreadable.
long Gauge(int port, const std::string& name) {
  auto [code, text] = HttpGet(port, "/metrics");
  if (code != 200) return -1;
  const auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtol(text.c_str() + at + name.size() + 2, nullptr, 10);
}

// N targets, set up once: topics and groups in the mock cluster, a TLS test API server with N
// Deployments and N KafkaScalers, and the means to move commits and list the KafkaScalers.
struct Setup {
  MockCluster& cluster;
  int run = 0;
  int targets = 0;
  std::filesystem::path dir;
  std::unique_ptr<TestApiServer> api;
  std::unique_ptr<httplib::SSLClient> admin;
  std::atomic<int> failures{0};
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  std::vector<int64_t> committed;  // each group's commit on partition 0
  int moves = 0;                   // passes moved so far (all runs on these targets)

  ~Setup() {
    admin.reset();
    api.reset();
    std::filesystem::remove_all(dir);
  }
  void Phase(const char* what) const {
    std::fprintf(stderr, "# %d targets: %s after %.1f s\n", targets, what,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  bool Commit(int i, int64_t p0) {
    std::vector<CommitOffset> offsets;
    for (int p = 0; p < kPartitions; ++p)
      offsets.push_back({Name("dt", run, i), p, p == 0 ? p0 : 0});
    return static_cast<bool>(cluster.Commit(Name("dg", run, i), offsets));
  }
  std::string ScalersPath() const {
    return std::string("/apis/kafka-autoscaler.io/v1alpha1/namespaces/") + kNamespace +
           "/kafkascalers";
  }
  // status.reconciledBy of every KafkaScaler by name ("" unset); empty map when the list failed.
  std::map<std::string, std::string> ReconciledBy() {
    std::map<std::string, std::string> out;
    auto r = admin->Get(ScalersPath());
    if (!r || r->status != 200) return out;
    const json list = json::parse(r->body, nullptr, false);
    if (!list.is_object()) return out;
    for (const auto& item : list.value("items", json::array())) {
      out[item["metadata"]["name"].get<std::string>()] =
          item.value("status", json::object()).value("reconciledBy", "");
    }
    return out;
  }
  // Before each interval a tenth of the groups move their commit on partition 0 (0 -> 1 or
  // 1 -> 0), so each pass has a tenth of the statuses to rewrite (their backlog changed). The
  // tenth goes round across passes and runs; every move is a change.
  void MovingPasses(int passes, int interval) {
    if (committed.empty()) committed.assign(static_cast<size_t>(targets), 0);
    for (int pass = 0; pass < passes; ++pass) {
      const auto start = std::chrono::steady_clock::now();
      for (int i = moves % 10; i < targets; i += 10) {
        committed[i] = 1 - committed[i];
        if (!Commit(i, committed[i])) ++failures;
      }
      ++moves;
      std::this_thread::sleep_until(start + std::chrono::seconds(interval));
    }
  }
  std::map<std::string, std::string> DaemonEnv(int port, const std::string& kubeconfig) const {
    return {{"MODE", "many"},
            {"KAFKA_BOOTSTRAP_SERVERS", cluster.bootstrap()},
            {"HEALTH_CHECK_PORT", std::to_string(port)},
            {"KUBECONFIG", kubeconfig},
            {"KUBERNETES_SERVICE_HOST", ""},
            {"OTEL_SDK_DISABLED", "true"},
            {"LOG_FORMAT", "json"},
            {"LOG_LEVEL", "warn"},
            {"LEARNED_STATE_SAVE_SECONDS", std::to_string(g_learned_save)}};
  }
};

std::unique_ptr<Setup> MakeSetup(MockCluster& cluster, int run, int targets, int interval) {
  auto s = std::unique_ptr<Setup>(new Setup{.cluster = cluster, .run = run, .targets = targets});
  // Topics: the mock serves one creation per wake-up of its thread, so many threads post them.
  std::atomic<int> next{0};
  {
    std::vector<std::jthread> creators;
    for (int t = 0; t < 64; ++t) {
      creators.emplace_back([&] {
        for (int i = next++; i < targets; i = next++) {
          if (!cluster.CreateTopic(Name("dt", run, i), kPartitions)) ++s->failures;
        }
      });
    }
  }
  if (s->failures > 0) {
    std::fprintf(stderr, "%d topic creations failed\n", s->failures.load());
    return nullptr;
  }
  s->Phase("topics created");
  for (int i = 0; i < targets; ++i) {
    if (!s->Commit(i, 0)) ++s->failures;
  }
  s->Phase("committed");

  s->dir = std::filesystem::temp_directory_path() /
           ("ka-many-daemon-" + std::to_string(getpid()) + "-" + std::to_string(run));
  std::filesystem::create_directories(s->dir);
  auto api = TestApiServer::Start({.tls = true,
                                   .cert_dir = (s->dir / "tls").string(),
                                   .tokens = {TokenGrant{.token = kDaemonToken},
                                              TokenGrant{.token = kAdminToken, .user = "admin"}}});
  if (!api) {
    std::fprintf(stderr, "api server: %s\n", api.error().message.c_str());
    return nullptr;
  }
  s->api = std::move(*api);
  s->admin = std::make_unique<httplib::SSLClient>("127.0.0.1", s->api->port());
  s->admin->set_ca_cert_path(s->api->ca_file().c_str());
  s->admin->enable_server_certificate_verification(true);
  s->admin->set_bearer_token_auth(kAdminToken);
  s->admin->set_read_timeout(std::chrono::seconds(120));
  for (int i = 0; i < targets; ++i) {
    s->api->AddDeployment(kNamespace, Name("d", run, i), 1);
    auto r = s->admin->Post(s->ScalersPath(), Scaler(run, i, interval).dump(), "application/json");
    if (!r || r->status != 201) {
      std::fprintf(stderr, "create KafkaScaler %d: %d %s\n", i, r ? r->status : 0,
                   r ? r->body.c_str() : "");
      return nullptr;
    }
  }
  s->Phase("kafkascalers created");
  return s;
}

// One daemon without LEADER_ELECTION: the table of issue 15 item 6.
int RunSingle(Setup& s, int passes, int interval) {
  const std::string kubeconfig = (s.dir / "kubeconfig").string();
  if (!s.api->WriteKubeconfig(kubeconfig, kDaemonToken, "default")) return 1;
  const int port = testing::FreePort();
  Process daemon({KA_BINARY, "run"}, s.DaemonEnv(port, kubeconfig));
  if (daemon.pid() <= 0) return 1;
  if (!Eventually([&] { return Observed(port) == s.targets; }, std::chrono::minutes(30))) {
    std::fprintf(stderr, "only %d of %d targets observed\n%s\n", Observed(port), s.targets,
                 daemon.Stderr().c_str());
    return 1;
  }
  s.Phase("every target observed");
  const long rss1 = ProcRssKiB(daemon.pid());
  // Let the first ticks' status writes and Events settle (one interval), then measure.
  std::this_thread::sleep_for(std::chrono::seconds(interval + 1));
  const size_t log0 = s.api->Requests().size();
  const double cpu0 = ProcCpuMs(daemon.pid());
  const double pass_s0 = MetricSum(port, "kafka_autoscaler_pass_duration_seconds_sum");
  const double pass_n0 = MetricSum(port, "kafka_autoscaler_pass_duration_seconds_count");
  const double kafka0 = MetricSum(port, "kafka_autoscaler_kafka_requests_total");
  s.MovingPasses(passes, interval);
  const double cpu = (ProcCpuMs(daemon.pid()) - cpu0) / passes;
  const double ticked = MetricSum(port, "kafka_autoscaler_pass_duration_seconds_count") - pass_n0;
  const double wall_ms =
      ticked > 0 ? (MetricSum(port, "kafka_autoscaler_pass_duration_seconds_sum") - pass_s0) *
                       1000 / ticked
                 : 0;
  const double kafka = (MetricSum(port, "kafka_autoscaler_kafka_requests_total") - kafka0) / passes;
  const Window moving = DaemonRequests(*s.api, log0);
  // Idle: nothing changes for one more interval (after one to let the last change settle).
  std::this_thread::sleep_for(std::chrono::seconds(interval));
  const size_t log1 = s.api->Requests().size();
  std::this_thread::sleep_for(std::chrono::seconds(interval));
  const Window idle = DaemonRequests(*s.api, log1);
  const long rss = ProcRssKiB(daemon.pid());
  std::string what;
  for (const auto& [kind, n] : idle.by_kind) {
    what += (what.empty() ? "" : ", ") + kind + " x" + std::to_string(n);
  }
  std::string moved;
  for (const auto& [kind, n] : moving.by_kind) {
    moved += (moved.empty() ? "" : ", ") + kind + " x" + std::to_string(n);
  }
  std::fprintf(stderr, "%d targets, the moving passes' requests: %s\n", s.targets,
               moved.empty() ? "-" : moved.c_str());
  std::printf("%8d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %9d  %s\n", s.targets,
              static_cast<double>(rss1) / 1024, static_cast<double>(rss) / 1024, cpu, wall_ms,
              kafka, static_cast<double>(moving.requests) / passes, idle.requests,
              what.empty() ? "-" : what.c_str());
  std::fflush(stdout);
  daemon.Signal(SIGTERM);
  (void)daemon.Wait(std::chrono::seconds(30));
  return 0;
}

// --- active-active (issue 16 item 4) ---

constexpr int kShards = 16;  // SHARDS' default

struct Replica {
  std::string identity;  // POD_NAME
  std::string user;      // its token's user in the request log
  int port = 0;
  std::unique_ptr<Process> process;
  bool alive = true;
  long shards = 0, owned = 0;
};

// Shards balanced (each holds SHARDS / R or one more, all held), every target owned by exactly
// one replica, and every KafkaScaler's status.reconciledBy naming the replica that owns it.
bool Settled(Setup& s, std::vector<Replica>& replicas) {
  const long live = static_cast<long>(replicas.size());
  long shards = 0, owned = 0;
  for (auto& r : replicas) {
    r.shards = Gauge(r.port, "kafka_autoscaler_shards_held");
    r.owned = Gauge(r.port, "kafka_autoscaler_targets_owned");
    if (r.shards < kShards / live || r.shards > kShards / live + 1 || r.owned < 0) return false;
    shards += r.shards;
    owned += r.owned;
  }
  if (shards != kShards || owned != s.targets) return false;
  std::map<std::string, long> by;
  const auto reconciled = s.ReconciledBy();
  for (const auto& [name, who] : reconciled) ++by[who];
  for (const auto& r : replicas) {
    if (by[r.identity] != r.owned) return false;
  }
  return static_cast<int>(reconciled.size()) == s.targets;
}

std::string Logs(const std::vector<Replica>& replicas) {
  std::string out;
  for (const auto& r : replicas) {
    out += "--- " + r.identity + "\n" + r.process->Stderr();
    const auto lines = r.process->Lines();
    for (size_t k = lines.size() > 20 ? lines.size() - 20 : 0; k < lines.size(); ++k)
      out += lines[k] + "\n";
  }
  return out;
}

// R replicas (LEADER_ELECTION, SHARDS 16, client-go's 15/10/2 s Lease timing) of the same API
// server and mock cluster: a row per replica, then SIGKILL the one owning most and time the
// hand-over. Each replica has its own token, so the request log tells them apart.
int RunReplicas(Setup& s, int count, int passes, int interval, std::string& handover_rows) {
  s.api->ClearRequests();
  std::vector<Replica> replicas(count);
  for (int i = 0; i < count; ++i) {
    Replica& r = replicas[i];
    r.identity = "r" + std::to_string(count) + "-replica-" + std::to_string(i);
    r.user = "system:serviceaccount:default:" + r.identity;
    const std::string token = "token-" + r.identity;
    s.api->SetToken({.token = token, .user = r.user});
    const std::string kubeconfig = (s.dir / ("kubeconfig-" + r.identity)).string();
    if (!s.api->WriteKubeconfig(kubeconfig, token, "default")) return 1;
    r.port = testing::FreePort();
    auto env = s.DaemonEnv(r.port, kubeconfig);
    env["LEADER_ELECTION"] = "true";
    env["POD_NAME"] = r.identity;
    env["POD_NAMESPACE"] = "default";
    env["SHARDS"] = std::to_string(kShards);
    r.process = std::make_unique<Process>(std::vector<std::string>{KA_BINARY, "run"}, env);
    if (r.process->pid() <= 0) return 1;
  }
  const auto started = std::chrono::steady_clock::now();
  if (!Poll([&] { return Settled(s, replicas); }, std::chrono::minutes(30),
            std::chrono::seconds(3))) {
    std::fprintf(stderr, "%d replicas did not settle\n%s\n", count, Logs(replicas).c_str());
    return 1;
  }
  const double settle =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  s.Phase(("settled on " + std::to_string(count) + " replicas").c_str());
  std::vector<long> rss1;
  std::map<std::string, int> settle_writes;  // status writes by user while settling
  for (const auto& q : s.api->Requests()) {
    if (q.method == "PATCH" && q.path.ends_with("/status")) ++settle_writes[q.user];
  }
  for (const auto& r : replicas) rss1.push_back(ProcRssKiB(r.process->pid()));
  std::this_thread::sleep_for(std::chrono::seconds(interval + 1));
  const size_t log0 = s.api->Requests().size();
  std::vector<double> cpu0;
  for (const auto& r : replicas) cpu0.push_back(ProcCpuMs(r.process->pid()));
  s.MovingPasses(passes, interval);
  const auto log = s.api->Requests();
  for (int i = 0; i < count; ++i) {
    Replica& r = replicas[i];
    const double cpu = (ProcCpuMs(r.process->pid()) - cpu0[i]) / passes;
    const long rss = ProcRssKiB(r.process->pid());
    int api = 0, leases = 0;
    for (size_t k = log0; k < log.size(); ++k) {
      if (log[k].user != r.user) continue;
      ++api;
      if (log[k].path.find("/leases") != std::string::npos) ++leases;
    }
    r.shards = Gauge(r.port, "kafka_autoscaler_shards_held");
    r.owned = Gauge(r.port, "kafka_autoscaler_targets_owned");
    std::printf("%8d %8d %8d %7ld %7ld %8d %9.1f %9.1f %9.1f %9.1f %9.1f\n", s.targets, count, i,
                r.shards, r.owned, settle_writes[r.user], static_cast<double>(rss1[i]) / 1024,
                static_cast<double>(rss) / 1024, cpu, static_cast<double>(api) / passes,
                static_cast<double>(leases) / passes);
  }
  std::fflush(stdout);

  char row[256];
  if (count == 1) {
    std::snprintf(row, sizeof row, "%8d %8d %8.1f %8s %8s %10s %10s\n", s.targets, count, settle,
                  "-", "-", "n/a", "n/a");
    handover_rows += row;
  } else {
    // The victim: the replica owning most; its targets: those whose status it wrote last.
    Replica* victim = &replicas[0];
    for (auto& r : replicas) {
      r.owned = Gauge(r.port, "kafka_autoscaler_targets_owned");
      if (r.owned > victim->owned) victim = &r;
    }
    std::set<std::string> pending;
    for (const auto& [name, who] : s.ReconciledBy()) {
      if (who == victim->identity) pending.insert(name);
    }
    const size_t victims_targets = pending.size();
    const std::string status_prefix = s.ScalersPath() + "/";
    s.api->ClearRequests();
    const auto killed = std::chrono::steady_clock::now();
    victim->process->Signal(SIGKILL);
    victim->alive = false;
    std::optional<double> owned_after, written_after;
    size_t seen = 0;
    const bool done = Poll(
        [&] {
          const double now =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
          if (!owned_after) {
            long owned = 0;
            for (const auto& r : replicas) {
              if (r.alive) owned += std::max(0L, Gauge(r.port, "kafka_autoscaler_targets_owned"));
            }
            if (owned == s.targets) owned_after = now;
          }
          const auto since = s.api->Requests();
          for (; seen < since.size(); ++seen) {
            const auto& q = since[seen];
            if ((q.method != "PATCH" && q.method != "PUT") || q.status != 200 ||
                q.user == victim->user || !q.path.starts_with(status_prefix) ||
                !q.path.ends_with("/status")) {
              continue;
            }
            pending.erase(
                q.path.substr(status_prefix.size(), q.path.size() - 7 - status_prefix.size()));
          }
          if (pending.empty() && !written_after) written_after = now;
          return owned_after && written_after;
        },
        std::chrono::minutes(10), std::chrono::milliseconds(500));
    if (!done) {
      std::fprintf(stderr, "hand-over incomplete: %zu of %zu targets not rewritten\n%s\n",
                   pending.size(), victims_targets, Logs(replicas).c_str());
      return 1;
    }
    std::snprintf(row, sizeof row, "%8d %8d %8.1f %8ld %8zu %10.1f %10.1f\n", s.targets, count,
                  settle, victim->shards, victims_targets, *owned_after, *written_after);
    handover_rows += row;
  }
  for (auto& r : replicas) {
    if (r.alive) r.process->Signal(SIGTERM);
  }
  for (auto& r : replicas) (void)r.process->Wait(std::chrono::seconds(30));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1, 100, 1000, 3000};
  std::vector<int> replica_counts;  // empty: one daemon without LEADER_ELECTION
  int passes = 3;
  int interval = 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--targets") == 0) sizes = ParseList(argv[i + 1]);
    if (std::strcmp(argv[i], "--replicas") == 0) replica_counts = ParseList(argv[i + 1]);
    if (std::strcmp(argv[i], "--passes") == 0) passes = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--interval") == 0) interval = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--policy") == 0) g_policy = argv[i + 1];
    if (std::strcmp(argv[i], "--learned-save") == 0) {
      g_learned_save = std::max(1, std::atoi(argv[i + 1]));
    }
  }
  auto cluster = MockCluster::Start(3);
  if (!cluster) {
    std::fprintf(stderr, "mock cluster: %s\n", cluster.error().message.c_str());
    return 1;
  }
  std::printf(
      "# kafka-autoscaler MODE=many (child process%s), 3-broker mock, %d partitions per "
      "target, scaleIntervalSeconds %d, %d passes, scalingPolicy %s%s\n",
      replica_counts.empty() ? "" : "es, LEADER_ELECTION, SHARDS 16, Lease 15/10/2 s", kPartitions,
      interval, passes, g_policy.c_str(),
      g_policy == "wait"
          ? (", LEARNED_STATE_SAVE_SECONDS " + std::to_string(g_learned_save)).c_str()
          : "");
  if (replica_counts.empty()) {
    std::printf("%8s %9s %9s %9s %9s %9s %9s %9s  %s\n", "targets", "rss1_mib", "rss_mib", "cpu_ms",
                "wall_ms", "kafka/pass", "api/pass", "idle_api", "idle_what");
  } else {
    std::printf("%8s %8s %8s %7s %7s %8s %9s %9s %9s %9s %9s\n", "targets", "replicas", "replica",
                "shards", "owned", "settle_st", "rss1_mib", "rss_mib", "cpu_ms", "api/pass",
                "lease/pass");
  }
  int run = 0;
  std::string handover_rows;
  for (int n : sizes) {
    auto setup = MakeSetup(**cluster, run++, n, interval);
    if (!setup) return 1;
    if (replica_counts.empty() && RunSingle(*setup, passes, interval) != 0) return 1;
    for (int count : replica_counts) {
      if (RunReplicas(*setup, std::max(1, count), passes, interval, handover_rows) != 0) return 1;
    }
    if (setup->failures > 0) std::fprintf(stderr, "%d commits failed\n", setup->failures.load());
  }
  if (!replica_counts.empty()) {
    std::printf("# hand-over after SIGKILL of the replica owning most (seconds from the kill)\n");
    std::printf("%8s %8s %8s %8s %8s %10s %10s\n", "targets", "replicas", "settle_s", "k_shards",
                "k_targets", "owned_s", "written_s");
    std::printf("%s", handover_rows.c_str());
  }
  return 0;
}
