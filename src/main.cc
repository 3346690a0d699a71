// kafka-autoscaler: wiring only. The one place that reads the environment and argv, turns them
// into typed options, builds the real implementations of each seam and hands them over.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include "common/guarded.h"
#include "config/config.h"
#include "controller/history.h"
#include "controller/learned_state_keeper.h"
#include "controller/loop.h"
#include "controller/reconciler.h"
#include "controller/status_board.h"
#include "daemon/tick_telemetry.h"
#include "demo/demo.h"
#include "http/health_server.h"
#include "kafka/clusters.h"
#include "kafka/kafka_source.h"
#include "kafka/shared_observer.h"
#include "kube/client.h"
#include "kube/config_map_store.h"
#include "kube/deployment_target.h"
#include "kube/guarded_scale_target.h"
#include "kube/kube_config.h"
#include "kube/leader_elector.h"
#include "kube/scale_cache.h"
#include "kube/lease_lock.h"
#include "kube/shards.h"
#include "kube/informer.h"
#include "many/controller.h"
#include "many/kube_parts.h"
#include "many/options.h"
#include "sim/simulate.h"
#include "telemetry/collector.h"
#include "telemetry/telemetry.h"

extern char** environ;

namespace ka = kafka_autoscaler;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;

ka::config::Env ReadEnvironment() {
  ka::config::Env env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "kafka-autoscaler";
  return buf;
}

// How long shutdown may take after SIGTERM/SIGINT before the process exits anyway: a tick stuck
// in a Kafka or API server call that does not answer must not outlive the pod's grace period
// (deploy/manifest.yaml: terminationGracePeriodSeconds 30, after which the kubelet SIGKILLs).
// A forced exit leaves the Lease to expire instead of being released; it never writes.
constexpr std::chrono::seconds kShutdownBudget{10};

// SIGTERM/SIGINT handling without async-signal hazards: the signals are blocked in every thread
// (set before any thread starts) and one watcher thread waits for them. SIGPIPE is ignored: a
// write to a closed pipe or socket (stdout piped to a reader that went away, a peer that hung up
// on TLS) is an EPIPE error for the writer, never the end of the process.
class SignalWatcher {
 public:
  SignalWatcher() {
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  // The daemon and the demo: the first signal stops `stop`; a second signal, or shutdown taking
  // longer than kShutdownBudget, ends the process at once (exit 0: it was asked to stop).
  void Start(ka::StopToken& stop, ka::Logger* log) {
    thread_ = std::thread([this, &stop, log] {
      ka::RunGuarded("signals", log, [&] {
        const int sig = Wait(std::nullopt);
        if (sig <= 0) return;
        Say(log, "shutting down", sig);
        stop.Stop();
        const int again = Wait(std::chrono::steady_clock::now() + kShutdownBudget);
        if (again < 0) return;  // finished in time
        Say(log, again == 0 ? "shutdown is taking too long; exiting now" : "exiting now", again);
        std::fflush(nullptr);
        std::_Exit(kExitOk);
      });
    });
  }
  // Subcommands with nothing to clean up (check, simulate): a signal ends the process at once
  // with the shell's status for it (128 + signal number).
  void ExitOnSignal() {
    thread_ = std::thread([this] {
      ka::RunGuarded("signals", nullptr, [&] {
        const int sig = Wait(std::nullopt);
        if (sig <= 0) return;
        std::cerr << "kafka-autoscaler: interrupted by " << Name(sig) << "\n" << std::flush;
        std::fflush(nullptr);
        std::_Exit(128 + sig);
      });
    });
  }
  ~SignalWatcher() {
    done_.Stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  static const char* Name(int sig) { return sig == SIGTERM ? "SIGTERM" : "SIGINT"; }
  static void Say(ka::Logger* log, const char* what, int sig) {
    if (log != nullptr) {
      if (sig > 0) {
        log->Info(what, {{"signal", std::string(Name(sig))}});
      } else {
        log->Warn(what, {{"budget_seconds", static_cast<int64_t>(kShutdownBudget.count())}});
      }
    }
  }
  // Waits for SIGTERM/SIGINT: returns the signal; 0 when `until` passed; -1 when the watcher is
  // being destroyed (the program finished).
  int Wait(std::optional<std::chrono::steady_clock::time_point> until) {
    const timespec poll{0, 200'000'000};
    while (!done_.Stopped()) {
      if (until && std::chrono::steady_clock::now() >= *until) return 0;
      const int sig = sigtimedwait(&set_, nullptr, &poll);
      if (sig == SIGTERM || sig == SIGINT) return sig;
    }
    return -1;
  }

  sigset_t set_;
  ka::StopToken done_;
  std::thread thread_;
};

// Loads the configuration and the OTEL_* settings, or prints every problem of both at once.
std::optional<std::pair<ka::config::Config, ka::telemetry::TelemetryOptions>> LoadConfigOrReport(
    const ka::config::Env& env) {
  auto cfg = ka::config::Load(env);
  auto otel = ka::telemetry::LoadOptions(env, KA_VERSION);
  if (cfg && otel) return std::make_pair(*cfg, *otel);
  std::vector<std::string> problems;
  for (const ka::Error* e : {cfg ? nullptr : &cfg.error(), otel ? nullptr : &otel.error()}) {
    if (e == nullptr) continue;
    if (e->details.empty()) problems.push_back(e->message);
    problems.insert(problems.end(), e->details.begin(), e->details.end());
  }
  std::cerr << "kafka-autoscaler: invalid configuration (" << problems.size()
            << (problems.size() == 1 ? " problem)" : " problems)") << "\n";
  for (const auto& p : problems) std::cerr << "  - " << p << "\n";
  return std::nullopt;
}

using ka::many::ReconcilerOptionsFrom;

// Kubernetes client options from the environment, with the tick deadline as request timeout.
ka::Result<std::unique_ptr<ka::kube::Client>> MakeKubeClient(const ka::config::Env& env,
                                                           const ka::config::Config& cfg,
                                                           const ka::Clock& clock) {
  auto options = ka::kube::OptionsFromEnv(env);
  if (!options) return ka::MakeError(options.error());
  const auto deadline = cfg.TickDeadline();
  options->timeout = std::min(options->timeout, std::max(deadline / 2, std::chrono::milliseconds(500)));
  if (cfg.leader_election) {
    // A write that starts while IsLeader() is true must land before a successor may take the
    // Lease: within lease_duration - renew_deadline (kube/guarded_scale_target.h).
    options->timeout = std::min<std::chrono::milliseconds>(
        options->timeout, std::chrono::duration_cast<std::chrono::milliseconds>(
                              cfg.lease_duration - cfg.renew_deadline));
  }
  options->connect_timeout = std::min(options->connect_timeout, options->timeout);
  return ka::kube::Client::Create(*options, clock);
}

// Leader election when LEADER_ELECTION is on: the elector runs on its own thread with its own
// connection (a slow scale request must never delay a renewal). It stops only after the
// caller's loop has (Finish), so the Lease is released once no write can follow.
class Election {
 public:
  ~Election() { Stop(); }
  // Starts the elector when cfg.leader_election; false (logged) when it cannot.
  bool Start(const ka::config::Config& cfg, const ka::config::Env& env, const ka::Clock& clock,
             ka::Logger& log, const std::string& identity) {
    if (!cfg.leader_election) return true;
    auto c = MakeKubeClient(env, cfg, clock);
    if (!c) {
      log.Error("no usable kubernetes configuration", {{"error", c.error().ToString()}});
      return false;
    }
    client_ = std::move(*c);
    lease_ = std::make_unique<ka::kube::KubeLeaseLock>(*client_, cfg.pod_namespace, cfg.lease_name,
                                                       identity);
    const std::string lease_name = cfg.pod_namespace + "/" + cfg.lease_name;
    auto e = ka::kube::LeaderElector::Create(
        *lease_, clock,
        {.lease_duration = cfg.lease_duration,
         .renew_deadline = cfg.renew_deadline,
         .retry_period = cfg.retry_period},
        [&log, lease_name](bool leading) {
          log.Info(leading ? "became leader" : "lost leadership", {{"lease", lease_name}});
        });
    if (!e) {
      log.Error("invalid leader election settings", {{"error", e.error().ToString()}});
      return false;
    }
    elector_ = std::move(*e);
    thread_ = std::thread(
        [this, &log] { ka::RunGuarded("leader-election", &log, [&] { elector_->Run(stop_); }); });
    return true;
  }
  bool enabled() const { return elector_ != nullptr; }
  bool IsLeader() const { return !elector_ || elector_->IsLeader(); }
  // Stops the elector's thread (LeaderElector::Run releases the Lease when its token stops).
  void Stop() {
    stop_.Stop();
    if (thread_.joinable()) thread_.join();
  }
  // After the loop stopped: Stop(), then release the Lease if still held.
  void Finish(ka::Logger& log) {
    Stop();
    if (elector_ && elector_->IsLeader()) {
      if (auto s = elector_->Release(); !s) {
        log.Warn("could not release the lease", {{"error", s.error().message}});
      }
    }
  }

 private:
  ka::StopToken stop_;
  std::unique_ptr<ka::kube::Client> client_;
  std::unique_ptr<ka::kube::KubeLeaseLock> lease_;
  std::unique_ptr<ka::kube::LeaderElector> elector_;
  std::thread thread_;
};

// Active-active (MODE=many with LEADER_ELECTION): the replicas split the KafkaScalers into
// SHARDS shard Leases (kube::ShardCoordinator) instead of electing one leader. The coordinator
// runs on its own thread with its own connection, and releases every shard when stopped
// (Finish, after the last pass), so the others take over within a retry period.
class Shards {
 public:
  ~Shards() {
    collector_->Detach();
    Finish();
  }
  bool Start(const ka::config::Config& cfg, const ka::config::Env& env, const ka::Clock& clock,
             ka::Logger& log, const std::string& identity) {
    auto c = MakeKubeClient(env, cfg, clock);
    if (!c) {
      log.Error("no usable kubernetes configuration", {{"error", c.error().ToString()}});
      return false;
    }
    client_ = std::move(*c);
    auto coordinator = ka::kube::ShardCoordinator::Create(
        *client_,
        {.shards = cfg.shards,
         .namespace_name = cfg.pod_namespace,
         .lease_prefix = cfg.lease_name,
         .identity = identity,
         .timing = {.lease_duration = cfg.lease_duration,
                    .renew_deadline = cfg.renew_deadline,
                    .retry_period = cfg.retry_period}},
        clock, log);
    if (!coordinator) {
      log.Error("invalid shard settings", {{"error", coordinator.error().ToString()}});
      return false;
    }
    coordinator_ = std::move(*coordinator);
    // A watch of the namespace's Leases, so a renewal or release counts from when it happened
    // (ShardCoordinator::Observe); the coordinator still lists every step, so it works without.
    auto informer_options = ka::kube::OptionsFromEnv(env);
    if (!informer_options) {
      log.Error("no usable kubernetes configuration",
                {{"error", informer_options.error().ToString()}});
      return false;
    }
    auto informer = ka::kube::Informer::Create(
        *informer_options,
        {.path = "/apis/coordination.k8s.io/v1/namespaces/" + cfg.pod_namespace + "/leases",
         .what = "leases",
         .cache_metadata_only = true},  // the coordinator keeps what it needs
        clock, log);
    if (!informer) {
      log.Error("no usable kubernetes configuration", {{"error", informer.error().ToString()}});
      return false;
    }
    informer_ = std::move(*informer);
    informer_->OnChange([c = coordinator_.get()](const ka::kube::Change& change) {
      c->Observe(change.object, change.type == ka::kube::ChangeType::kDeleted);
    });
    informer_thread_ = std::thread(
        [this, &log] { ka::RunGuarded("lease-informer", &log, [&] { informer_->Run(stop_); }); });
    thread_ = std::thread(
        [this, &log] { ka::RunGuarded("shards", &log, [&] { coordinator_->Run(stop_); }); });
    return true;
  }
  bool OwnsKey(const std::string& key) const { return !coordinator_ || coordinator_->OwnsKey(key); }
  // kafka_autoscaler_shards_held and kafka_autoscaler_shards, read at collection time; add it
  // to the telemetry's Metrics after Start() succeeded. Detached first in the destructor, so a
  // scrape or OTLP export still holding it never reads a destroyed coordinator.
  std::weak_ptr<prometheus::Collectable> collectable() const { return collector_; }
  // After the last pass: stop the coordinator, which releases every shard (Run's contract).
  void Finish() {
    stop_.Stop();
    if (thread_.joinable()) thread_.join();
    if (informer_thread_.joinable()) informer_thread_.join();
  }

 private:
  ka::StopToken stop_;
  std::unique_ptr<ka::kube::Client> client_;
  std::unique_ptr<ka::kube::ShardCoordinator> coordinator_;
  std::unique_ptr<ka::kube::Informer> informer_;
  std::thread thread_;
  std::thread informer_thread_;
  std::shared_ptr<ka::telemetry::Collector> collector_ =
      std::make_shared<ka::telemetry::Collector>([this] {
        return coordinator_ ? ka::many::ShardFamilies(coordinator_->Held().size(),
                                                      coordinator_->options().shards)
                            : std::vector<prometheus::MetricFamily>{};
      });
};

// WATCH_NAMESPACES: a comma list of namespaces (blanks ignored); empty = all namespaces.
std::vector<std::string> WatchNamespaces(const ka::config::Env& env) {
  std::vector<std::string> out;
  auto it = env.find("WATCH_NAMESPACES");
  if (it == env.end()) return out;
  std::string item;
  for (char c : it->second + ",") {
    if (c == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else if (c != ' ' && c != '\t') {
      item += c;
    }
  }
  return out;
}

// What both daemon modes start with: the clock, the logger (feeding telemetry's log sink),
// telemetry, and the stop token that SIGTERM/SIGINT stop.
struct Runtime {
  Runtime(const ka::config::Config& cfg, const ka::telemetry::TelemetryOptions& options,
          SignalWatcher& signals)
      : log(clock, std::cout, cfg.log_level, cfg.log_format),
        telemetry(options, clock, &log, &std::cout) {
    log.AddSink(&telemetry.log_sink());
    signals.Start(stop, &log);
  }
  ka::SystemClock clock;
  ka::Logger log;
  ka::telemetry::Telemetry telemetry;
  ka::StopToken stop;
};

struct RunFlags {
  std::optional<int64_t> max_ticks;
};

int RunDaemon(const ka::config::Config& cfg, const ka::telemetry::TelemetryOptions& telemetry_options,
              const ka::config::Env& env, const RunFlags& flags, SignalWatcher& signals) {
  Runtime runtime(cfg, telemetry_options, signals);
  // Plain references, not a structured binding: lambdas below capture them, which clang
  // before 16 refuses for bindings (the ASan build compiles with clang).
  ka::SystemClock& clock = runtime.clock;
  ka::Logger& log = runtime.log;
  ka::telemetry::Telemetry& telemetry = runtime.telemetry;
  ka::StopToken& stop = runtime.stop;
  const std::string identity = cfg.pod_name.empty() ? Hostname() : cfg.pod_name;
  log.Info("starting", {{"version", std::string(KA_VERSION)},
                        {"topic", ReconcilerOptionsFrom(cfg).topics},
                        {"group", cfg.kafka_consumer_group.value_or("")},
                        {"namespace", cfg.namespace_name},
                        {"deployment", cfg.deployment_name},
                        {"policy", std::string(ka::policy::PolicyKindName(cfg.policy.kind))},
                        {"interval_seconds", static_cast<int64_t>(cfg.scale_interval.count())},
                        {"dry_run", cfg.dry_run},
                        {"leader_election", cfg.leader_election},
                        {"identity", identity}});
  for (const auto& warning : ka::config::Warnings(cfg))
    log.Warn("configuration", {{"warning", warning}});

  auto source = ka::kafka::MakeKafkaMetricSource(cfg, clock, &log, &stop);
  if (!source) {
    log.Error("invalid kafka configuration", {{"error", source.error().ToString()}});
    return kExitConfig;
  }
  auto client = MakeKubeClient(env, cfg, clock);
  if (!client) {
    log.Error("no usable kubernetes configuration", {{"error", client.error().ToString()}});
    return kExitConfig;
  }
  const ka::kube::DeploymentRef ref{cfg.namespace_name, cfg.deployment_name};
  ka::kube::DeploymentScaleTarget deployment(**client, ref);
  ka::kube::DeploymentEventRecorder events(**client, ref, clock, identity);

  Election election;
  if (!election.Start(cfg, env, clock, log, identity)) return kExitConfig;
  // Every write is checked right before it is sent: the range, and that we still lead and are
  // not stopping (a leader deposed mid-tick, or shutting down, never writes).
  ka::kube::GuardedScaleTarget target(
      deployment, {.min_replicas = cfg.policy.idle_replicas,
                   .max_replicas = cfg.policy.max_replicas,
                   .may_write = [&] { return !stop.Stopped() && election.IsLeader(); }});

  const auto options = ReconcilerOptionsFrom(cfg);
  ka::daemon::OtelTickTracer tracer(telemetry.tracer());
  ka::daemon::MetricsTickListener metrics_listener(telemetry.metrics());
  telemetry.metrics().SetMaxReplicas(cfg.policy.max_replicas);
  ka::controller::Reconciler reconciler(options, clock, **source, target, &events, log, tracer);
  ka::controller::StatusBoard board(clock, cfg.scale_interval, cfg.leader_election);
  ka::controller::History history({.interval = cfg.scale_interval});
  ka::controller::HistoryTickListener history_listener(
      history, {.namespace_name = cfg.namespace_name, .name = cfg.deployment_name,
                .topics = options.topics, .group = options.group,
                .min_replicas = cfg.policy.min_replicas, .max_replicas = cfg.policy.max_replicas});
  ka::http::HealthServer server({.host = cfg.health_check_host, .port = cfg.health_check_port},
                                board, options, [&telemetry] { return telemetry.PrometheusText(); },
                                &history);
  if (auto s = server.Start(); !s) {
    log.Error("cannot start the health server", {{"error", s.error().message}});
    stop.Stop();
    election.Stop();
    return kExitFailure;
  }
  log.Info("health server listening",
           {{"host", server.bound_host()}, {"port", int64_t{server.port()}}});

  std::function<bool()> may_act;
  if (election.enabled()) may_act = [&] { return election.IsLeader(); };
  std::vector<ka::controller::TickListener*> listeners = {&metrics_listener, &history_listener};
  // LEARNED_STATE_CONFIGMAP: what the wait policy learned survives a restart.
  std::optional<ka::kube::ConfigMapStore> learned_store;
  std::optional<ka::controller::LearnedStateKeeper> learned;
  if (!cfg.learned_state_configmap.empty() && cfg.policy.kind == ka::policy::PolicyKind::kWait) {
    learned_store.emplace(**client, cfg.namespace_name, cfg.learned_state_configmap,
                          "wait-policy.json");
    learned.emplace(reconciler, *learned_store, clock, log, cfg.learned_state_save, may_act);
    learned->Restore();
    listeners.push_back(&*learned);
  }
  ka::controller::Loop loop({.interval = cfg.scale_interval, .max_ticks = flags.max_ticks}, clock,
                            reconciler, board, may_act, listeners);
  const int64_t ticks = loop.Run(stop);
  // Still the leader if it was: keep what was learned before the Lease is given up.
  if (learned) (void)learned->Flush();

  // The loop has stopped: no tick is running, no write can follow. Only now give the Lease up
  // (LeaderElector::Run releases it when its token stops).
  stop.Stop();
  election.Finish(log);
  server.Stop();
  log.Info("stopped", {{"ticks", ticks}});
  telemetry.Shutdown(std::chrono::seconds(3));
  return kExitOk;
}

// MODE=many: one instance reconciles every KafkaScaler it watches (docs/many-targets.md).
// Instance-wide settings come from the environment as in env-var mode (Kafka connection of
// the `default` cluster, health port, logging, leader election); WATCH_NAMESPACES (comma list,
// empty = all namespaces) chooses where KafkaScalers are watched.
int RunMany(const ka::config::Config& cfg, const ka::telemetry::TelemetryOptions& telemetry_options,
            const ka::config::Env& env, SignalWatcher& signals) {
  // Memory (docs/performance.md, "Many targets"): glibc gives each thread that meets a locked
  // arena a new one (up to 8 per core) and keeps their free memory; two arenas hold the same
  // heap in less RSS (MALLOC_ARENA_MAX, when set, is left as it is).
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  Runtime runtime(cfg, telemetry_options, signals);
  ka::SystemClock& clock = runtime.clock;
  ka::Logger& log = runtime.log;
  ka::telemetry::Telemetry& telemetry = runtime.telemetry;
  ka::StopToken& stop = runtime.stop;
  const std::string identity = cfg.pod_name.empty() ? Hostname() : cfg.pod_name;
  const std::vector<std::string> namespaces = WatchNamespaces(env);
  std::string watched;
  for (const auto& ns : namespaces) watched += (watched.empty() ? "" : ",") + ns;
  log.Info("starting", {{"version", std::string(KA_VERSION)},
                        {"mode", std::string("many")},
                        {"watch_namespaces", watched.empty() ? std::string("*") : watched},
                        {"leader_election", cfg.leader_election},
                        {"shards", cfg.leader_election ? int64_t{cfg.shards} : int64_t{0}},
                        {"identity", identity}});
  if (!cfg.learned_state_configmap.empty()) {
    log.Warn("configuration",
             {{"warning", std::string("LEARNED_STATE_CONFIGMAP is not used in MODE=many: each "
                                      "KafkaScaler of the wait policy keeps what it learned in "
                                      "its status.learnedState")}});
  }

  auto kafka_options = ka::kafka::OptionsFromConfig(cfg);
  if (!kafka_options) {
    log.Error("invalid kafka configuration", {{"error", kafka_options.error().ToString()}});
    return kExitConfig;
  }
  // The `default` cluster from the variables, more by name from KAFKA_CLUSTERS_FILE.
  const ka::kafka::ClusterOptions default_cluster{
      .name = "default",
      .bootstrap_servers = cfg.kafka_bootstrap_servers,
      .properties = kafka_options->properties,
      .timeout =
          std::min<std::chrono::milliseconds>(kafka_options->timeout, std::chrono::seconds(10))};
  std::vector<ka::kafka::ClusterOptions> cluster_options = {default_cluster};
  if (auto file = env.find("KAFKA_CLUSTERS_FILE"); file != env.end() && !file->second.empty()) {
    auto more = ka::kafka::LoadClustersFile(file->second, default_cluster);
    if (!more) {
      log.Error("invalid kafka configuration", {{"error", more.error().ToString()}});
      return kExitConfig;
    }
    cluster_options.insert(cluster_options.end(), more->begin(), more->end());
  }
  std::vector<std::unique_ptr<ka::kafka::SharedObserver>> observers;
  std::map<std::string, ka::kafka::SharedObserver*> clusters;
  std::string cluster_names;
  for (const auto& options : cluster_options) {
    auto observer = ka::kafka::SharedObserver::Create(options, clock, &log);
    if (!observer) {
      log.Error("invalid kafka configuration",
                {{"cluster", options.name}, {"error", observer.error().ToString()}});
      return kExitConfig;
    }
    clusters[options.name] = observer->get();
    observers.push_back(std::move(*observer));
    cluster_names += (cluster_names.empty() ? "" : ",") + options.name;
  }
  log.Info("kafka clusters", {{"clusters", cluster_names}});
  auto client = MakeKubeClient(env, cfg, clock);
  auto informer_client = ka::kube::OptionsFromEnv(env);
  if (!client || !informer_client) {
    log.Error(
        "no usable kubernetes configuration",
        {{"error", !client ? client.error().ToString() : informer_client.error().ToString()}});
    return kExitConfig;
  }
  // One Lease for the instance: LEASE_NAME, else "kafka-autoscaler" (env-var mode's default
  // names the Deployment, which many mode has none of).
  ka::config::Config election_cfg = cfg;
  if (env.count("LEASE_NAME") == 0) election_cfg.lease_name = "kafka-autoscaler";
  // With LEADER_ELECTION the replicas share the targets by shard Leases (SHARDS) named
  // "<LEASE_NAME>-shard-NN"; the single leader Lease is not used in this mode.
  Election election;
  Shards shards;
  if (cfg.leader_election) {
    if (!shards.Start(election_cfg, env, clock, log, identity)) return kExitConfig;
    telemetry.metrics().AddCollectable(shards.collectable());
  } else if (!election.Start(election_cfg, env, clock, log, identity)) {
    return kExitConfig;
  }

  // The targets' scale state from a watch cache: a pass reads no workload from the API server.
  auto cache = ka::kube::ScaleCache::Create(*informer_client, {.namespaces = namespaces}, clock,
                                            log);
  if (!cache) {
    log.Error("no usable kubernetes configuration", {{"error", cache.error().ToString()}});
    return kExitConfig;
  }

  ka::daemon::OtelTickTracer tracer(telemetry.tracer());
  ka::many::KubeStatusWriter status_writer(**client);
  ka::many::Controller controller(
      {.instance_env = env,
       .clusters = clusters,
       .may_act = [&] { return election.IsLeader(); },
       .may_write = [&] { return !stop.Stopped() && election.IsLeader(); },
       .owns = [&](const std::string& key) { return shards.OwnsKey(key); },
       .identity = identity,
       .learned_state_every = cfg.learned_state_save},
      clock, log, tracer, ka::many::MakeKubeFactory(**client, **cache, clock, identity),
      [&](const ka::many::ScalerRef& ref) -> std::unique_ptr<ka::kube::EventRecorder> {
        return std::make_unique<ka::many::ScalerEventRecorder>(**client, ref, clock, identity);
      },
      status_writer);
  // Its per-target series, pass durations and Kafka requests join /metrics and OTLP export.
  telemetry.metrics().AddCollectable(controller.collectable());

  // One informer per watched namespace (one for all when WATCH_NAMESPACES is empty).
  std::vector<std::unique_ptr<ka::kube::Informer>> informers;
  for (const std::string& ns : namespaces.empty() ? std::vector<std::string>{""} : namespaces) {
    auto informer = ka::kube::Informer::Create(
        *informer_client,
        {.path = ka::many::KafkaScalersPath(ns),
         .what = "kafkascalers",
         .prune = ka::many::PruneKafkaScaler,
         .cache_metadata_only = true},  // the controller keeps its own copy
        clock, log);
    if (!informer) {
      log.Error("no usable kubernetes configuration", {{"error", informer.error().ToString()}});
      return kExitConfig;
    }
    (*informer)->OnChange([&controller](const ka::kube::Change& c) { controller.Apply(c); });
    informers.push_back(std::move(*informer));
  }
  std::vector<std::thread> informer_threads;
  informer_threads.emplace_back([&log, &stop, c = cache->get()] {
    ka::RunGuarded("scale-cache", &log, [&] { c->Run(stop); });
  });
  for (auto& informer : informers) {
    informer_threads.emplace_back([&log, &stop, i = informer.get()] {
      ka::RunGuarded("kafkascaler-informer", &log, [&] { i->Run(stop); });
    });
  }
  auto synced = [&informers, &cache] {
    return (*cache)->synced() && std::all_of(informers.begin(), informers.end(),
                       [](const auto& i) { return i->synced(); });
  };

  // Liveness: a pass started within three minutes (a pass waits on Kafka at most its deadline
  // per cluster). Readiness: every informer listed once; one target's trouble shows in its own
  // status, never in the instance's readiness.
  const ka::Duration pass_period = std::chrono::seconds(1);
  ka::controller::StatusBoard board(clock, std::chrono::seconds(60), cfg.leader_election);
  ka::http::HealthServer server({.host = cfg.health_check_host, .port = cfg.health_check_port},
                                board, ka::controller::ReconcilerOptions{},
                                [&] { return telemetry.PrometheusText(); });
  int exit_code = kExitOk;
  if (auto s = server.Start(); !s) {
    log.Error("cannot start the health server", {{"error", s.error().message}});
    stop.Stop();
    exit_code = kExitFailure;
  } else {
    log.Info("health server listening",
             {{"host", server.bound_host()}, {"port", int64_t{server.port()}}});
  }
  int64_t passes = 0;
  while (!stop.Stopped()) {
    const ka::SteadyTime started = clock.Now();
    board.TickStarted();
    board.SetLeader(election.IsLeader());
    // A pass that ticked frees its observations, answers and status JSON: give the free pages
    // back (glibc trims only the top of the main heap by itself).
    if (controller.Pass() > 0) malloc_trim(0);
    ++passes;
    if (synced()) {
      ka::controller::TickReport pass;
      pass.kafka_ok = pass.kube_ok = true;
      board.Record(pass);
    }
    if (clock.SleepUntil(started + pass_period, stop)) break;
  }

  // No pass is running. Still the owner of what it owned: keep what the wait targets learned
  // (at most 10 s of a pod's 30 s grace), then no write can follow. Stop watching, then give
  // the Leases up.
  if (const size_t saved = controller.SaveLearnedNow(clock.Now() + std::chrono::seconds(10));
      saved > 0) {
    log.Info("saved the learned state", {{"kafkascalers", static_cast<int64_t>(saved)}});
  }
  stop.Stop();
  for (auto& t : informer_threads) t.join();
  election.Finish(log);
  shards.Finish();
  server.Stop();
  log.Info("stopped", {{"passes", passes}});
  telemetry.Shutdown(std::chrono::seconds(3));
  return exit_code;
}

int RunCheck(const ka::config::Config& cfg, const ka::config::Env& env, bool print_config) {
  if (print_config) std::cout << cfg.ToJson().dump(2) << "\n";
  std::cout << "configuration: ok" << std::endl;  // flushed: the probes below may take a while
  ka::SystemClock clock;
  bool ok = true;
  auto kafka_options = ka::kafka::OptionsFromConfig(cfg);
  if (!kafka_options) {
    std::cout << "kafka: " << kafka_options.error().ToString() << "\n";
    return kExitConfig;
  }
  if (print_config) std::cout << "kafka properties: " << kafka_options->properties.Describe() << "\n";
  auto report = ka::kafka::ProbeKafka(*kafka_options, clock);
  if (report) {
    std::cout << *report;
    if (!report->empty() && report->back() != '\n') std::cout << "\n";
  } else {
    ok = false;
    std::cout << "kafka: FAILED: " << report.error().ToString() << "\n";
  }
  auto client = MakeKubeClient(env, cfg, clock);
  if (!client) {
    ok = false;
    std::cout << "kubernetes: FAILED: " << client.error().ToString() << "\n";
  } else {
    ka::kube::DeploymentScaleTarget target(**client, {cfg.namespace_name, cfg.deployment_name});
    auto scale = target.Get();
    if (scale) {
      std::cout << "kubernetes: deployment " << cfg.namespace_name << "/" << cfg.deployment_name
                << ": replicas " << scale->spec_replicas << " (" << scale->status_replicas
                << " existing)" << (scale->paused ? ", paused by annotation" : "") << "\n";
      for (const auto& other : scale->other_autoscalers) {
        ok = false;  // the daemon would hold rather than fight it: not a working setup
        std::cout << "kubernetes: FAILED: " << other
                  << " also scales this Deployment; kafka-autoscaler would not scale it\n";
      }
    } else {
      ok = false;
      std::cout << "kubernetes: FAILED: " << scale.error().ToString() << "\n";
    }
  }
  std::cout << (ok ? "check: ok\n" : "check: FAILED\n");
  return ok ? kExitOk : kExitFailure;
}

}  // namespace

int Main(int argc, char** argv) {
  SignalWatcher signals;  // first: blocks SIGTERM/SIGINT before any thread starts
  CLI::App app{"kafka-autoscaler: scales a Kubernetes Deployment to the backlog of a Kafka topic"};
  app.require_subcommand(0, 1);

  auto* run_cmd = app.add_subcommand("run", "run the daemon (the default)");
  RunFlags run_flags;
  run_cmd->add_option("--max-ticks", run_flags.max_ticks, "run N ticks, then exit 0")
      ->check(CLI::PositiveNumber);

  auto* check_cmd = app.add_subcommand(
      "check", "validate the configuration and probe Kafka and Kubernetes once");
  bool print_config = false;
  check_cmd->add_flag("--print-config", print_config,
                      "print the effective configuration (secrets redacted)");

  auto* demo_cmd = app.add_subcommand("demo", "run the whole system on this machine, no setup");
  int demo_duration = 120;
  double demo_speed = 1.0;
  std::string demo_out = "demo-out";
  bool demo_plain = false;
  std::string demo_policy = "messages";
  demo_cmd->add_option("--duration", demo_duration, "demo time in seconds (default 120)")
      ->check(CLI::Range(10, 3600));
  demo_cmd->add_option("--speed", demo_speed, "run N times faster (default 1)")
      ->check(CLI::Range(0.1, 20.0));
  demo_cmd->add_option("--out", demo_out, "folder for the chart and logs (default demo-out)");
  demo_cmd->add_flag("--plain", demo_plain, "one line per tick, even on a terminal");
  demo_cmd->add_option("--policy", demo_policy, "scaling policy: messages, rate or wait")
      ->check(CLI::IsMember({"messages", "rate", "wait"}));

  auto* sim_cmd =
      app.add_subcommand("simulate", "replay a workload scenario against scaling policies");
  std::string sim_scenario;
  std::string sim_out = "sim-out";
  std::vector<std::string> sim_policies;
  int sim_seeds = 0;
  std::string sim_generate;
  int sim_count = 200;
  uint64_t sim_generate_seed = 1;
  auto* sim_scenario_opt =
      sim_cmd->add_option("--scenario", sim_scenario, "scenario YAML (see docs/simulator.md)");
  sim_cmd->add_option("--policy", sim_policies,
                      "messages | keda-hpa | rate | wait | wait-predict | reactive-bound; "
                      "repeatable (default: all)");
  sim_cmd->add_option("--out", sim_out, "folder for the CSV and SVG files (default sim-out)");
  sim_cmd->add_option("--seeds", sim_seeds,
                      "noise seeds: median and worst per measure (default 1; 3 with --generate)")
      ->check(CLI::Range(1, 100));
  auto* sim_generate_opt = sim_cmd->add_option(
      "--generate", sim_generate, "generate scenarios of a family (or all) and report vs keda-hpa");
  sim_cmd->add_option("--count", sim_count, "generated scenarios (default 200)")
      ->check(CLI::Range(1, 100000));
  sim_cmd->add_option("--seed", sim_generate_seed, "generator seed (default 1)");
  std::string sim_target_wait;
  sim_cmd->add_option("--target-wait", sim_target_wait,
                      "TARGET_WAIT_SECONDS of wait for every scenario: SECONDS, or lag-threshold "
                      "(MESSAGES_PER_POD / one pod's rate); default: each scenario's own");
  int64_t sim_history = -1;
  sim_cmd->add_option("--history", sim_history,
                      "replay N earlier cycles of each scenario's load before the measured one, "
                      "as a daemon that has run before (0..100; default: the scenario's "
                      "history_cycles, 0)");
  double sim_keda_phase = 0;
  auto* sim_keda_phase_opt =
      sim_cmd->add_option("--keda-phase", sim_keda_phase,
                          "the keda-hpa peer polls and syncs SECONDS (0 <= s < 30) after each "
                          "multiple of its periods, in every scenario (default: the scenario's "
                          "keda_hpa.phase_seconds, 0)");
  std::string sim_restart;
  sim_cmd
      ->add_option("--restart", sim_restart,
                   "with a history: the daemon restarts before the measured cycle, cold or "
                   "with what it learned kept (LEARNED_STATE_CONFIGMAP)")
      ->check(CLI::IsMember({"cold", "kept"}));
  sim_scenario_opt->excludes(sim_generate_opt);

  auto* version_cmd = app.add_subcommand("version", "print version and build info");
  CLI11_PARSE(app, argc, argv);

  if (*version_cmd) {
    std::cout << "kafka-autoscaler " << KA_VERSION << " (g++ " << __VERSION__ << ", C++"
              << __cplusplus << ", librdkafka " << rd_kafka_version_str() << ")\n";
    return kExitOk;
  }
  if (*sim_cmd) {
    signals.ExitOnSignal();
    if (sim_scenario.empty() && sim_generate.empty()) {
      std::cerr << "simulate: --scenario FILE or --generate FAMILY is required\n";
      return ka::sim::kExitInvalid;
    }
    return ka::sim::RunSimulate(
        {.scenario = sim_scenario,
         .policies = sim_policies,
         .out_dir = sim_out,
         .seeds = sim_seeds > 0 ? sim_seeds : (sim_generate.empty() ? 1 : 3),
         .generate = sim_generate,
         .count = sim_count,
         .generate_seed = sim_generate_seed,
         .target_wait = sim_target_wait,
         .history = sim_history,
         .keda_phase =
             sim_keda_phase_opt->count() > 0 ? std::optional<double>(sim_keda_phase) : std::nullopt,
         .restart = sim_restart},
        std::cout, std::cerr);
  }
  if (*demo_cmd) {
    ka::StopToken stop;
    signals.Start(stop, nullptr);
    return ka::demo::RunDemo(
        {.duration = std::chrono::seconds(demo_duration), .speed = demo_speed,
         .out_dir = demo_out, .plain = demo_plain || isatty(STDOUT_FILENO) == 0,
         .policy = demo_policy == "rate"   ? ka::policy::PolicyKind::kRate
                   : demo_policy == "wait" ? ka::policy::PolicyKind::kWait
                                           : ka::policy::PolicyKind::kMessages},
        stop, std::cout, std::cerr);
  }

  const ka::config::Env env = ReadEnvironment();
  auto loaded = LoadConfigOrReport(env);
  if (!loaded) return kExitConfig;
  const auto& [cfg, telemetry_options] = *loaded;
  if (*check_cmd) {
    signals.ExitOnSignal();
    if (print_config) std::cout << "telemetry: " << telemetry_options.Describe() << "\n";
    return RunCheck(cfg, env, print_config);
  }
  (void)run_cmd;
  // MODE: "single" (default, env-var mode: one Deployment) or "many" (every KafkaScaler).
  const auto mode = env.find("MODE");
  const std::string mode_name = mode == env.end() || mode->second.empty() ? "single" : mode->second;
  if (mode_name == "many") {
    if (run_flags.max_ticks) {
      std::cerr << "kafka-autoscaler: invalid configuration (1 problem)\n  - --max-ticks: counts "
                   "the ticks of MODE=single's one target; MODE=many runs until stopped\n";
      return kExitConfig;
    }
    return RunMany(cfg, telemetry_options, env, signals);
  }
  if (mode_name != "single") {
    std::cerr << "kafka-autoscaler: invalid configuration (1 problem)\n  - MODE=" << mode_name
              << ": must be single or many\n";
    return kExitConfig;
  }
  return RunDaemon(cfg, telemetry_options, env, run_flags, signals);
}

int main(int argc, char** argv) {
  int status = kExitFailure;
  ka::RunGuarded("main", nullptr, [&] { status = Main(argc, argv); });
  return status;
}
