#include "demo/demo.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <list>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "controller/loop.h"
#include "controller/reconciler.h"
#include "demo/demo_chart.h"
#include "kafka/kafka_source.h"
#include "kube/guarded_scale_target.h"
#include "kube/scale_target.h"

namespace kafka_autoscaler::demo {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration;

constexpr const char* kTopic = "demo-orders";
constexpr const char* kGroup = "demo-workers";
constexpr int kPartitions = 12;
constexpr int kBrokers = 3;
constexpr double kPodRate = 40;         // messages per demo-second one pod processes
constexpr double kPodStartupSeconds = 4;  // demo seconds from scale-up to consuming

// The load: messages per demo-second at a fraction of the run, linear between points.
double LoadAt(double fraction) {
  static constexpr std::pair<double, double> kPoints[] = {
      {0.00, 20}, {0.12, 20}, {0.15, 300}, {0.38, 300}, {0.41, 60},
      {0.58, 60}, {0.61, 0},  {1.00, 0}};
  for (size_t i = 1; i < std::size(kPoints); ++i) {
    const auto [f1, r1] = kPoints[i];
    const auto [f0, r0] = kPoints[i - 1];
    if (fraction <= f1) return r0 + (r1 - r0) * (fraction - f0) / (f1 - f0);
  }
  return kPoints[std::size(kPoints) - 1].second;
}

struct RdKafkaFree {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RdKafka = std::unique_ptr<rd_kafka_t, RdKafkaFree>;

// Creates a librdkafka handle from key/value settings; the error text on failure.
RdKafka NewHandle(rd_kafka_type_t type, const std::vector<std::pair<std::string, std::string>>& kv,
                  std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [k, v] : kv) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      error = errstr;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int, const char*, const char*) {});
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    error = errstr;
    rd_kafka_conf_destroy(conf);
  }
  return RdKafka(rk);
}

// What the consumer pods measured, shared between their threads.
struct Stats {
  std::mutex mu;
  std::vector<float> waits;  // demo seconds from produce to consume, per message
  std::atomic<int64_t> produced{0};
  std::atomic<int64_t> consumed{0};
};

// One consumer pod: waits its start-up delay, joins the group, consumes at a fixed rate.
class Pod {
 public:
  Pod(std::string bootstrap, double speed, Stats& stats)
      : thread_([this, bootstrap = std::move(bootstrap), speed, &stats] {
          Run(bootstrap, speed, stats);
        }) {}
  ~Pod() {
    stop_.Stop();
    if (thread_.joinable()) thread_.join();
  }
  void Stop() { stop_.Stop(); }
  bool ready() const { return ready_; }

 private:
  void Run(const std::string& bootstrap, double speed, Stats& stats) {
    if (stop_.WaitFor(std::chrono::duration_cast<Duration>(duration<double>(kPodStartupSeconds / speed)))) {
      return;
    }
    std::string error;
    RdKafka rk = NewHandle(RD_KAFKA_CONSUMER,
                           {{"bootstrap.servers", bootstrap},
                            {"group.id", kGroup},
                            {"auto.offset.reset", "earliest"},
                            {"enable.auto.commit", "true"},
                            {"auto.commit.interval.ms", "300"},
                            {"session.timeout.ms", "3000"},
                            {"max.poll.interval.ms", "3000"},
                            {"heartbeat.interval.ms", "300"},
                            {"fetch.wait.max.ms", "50"},
                            {"queued.max.messages.kbytes", "64"}},
                           error);
    if (!rk) return;
    rd_kafka_poll_set_consumer(rk.get());
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, kTopic, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk.get(), topics);
    rd_kafka_topic_partition_list_destroy(topics);
    ready_ = true;
    const Duration per_message =
        std::chrono::duration_cast<Duration>(duration<double>(1.0 / (kPodRate * speed)));
    auto due = Clock::now();
    while (!stop_.Stopped()) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 100);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const auto now = Clock::now();
        if (due > now && stop_.WaitFor(due - now)) {
          // Stopped mid-wait: the message stays uncommitted and is consumed again elsewhere.
          rd_kafka_message_destroy(m);
          break;
        }
        rd_kafka_timestamp_type_t type;
        const int64_t produced_ms = rd_kafka_message_timestamp(m, &type);
        const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
        // Offsets are stored (and auto-committed) for messages returned by poll; record it.
        {
          std::lock_guard lock(stats.mu);
          stats.waits.push_back(static_cast<float>(std::max<int64_t>(0, now_ms - produced_ms)) /
                                1000.0f * static_cast<float>(speed));
        }
        ++stats.consumed;
        due = std::max(due, Clock::now()) + per_message;
      }
      rd_kafka_message_destroy(m);
    }
    ready_ = false;
    rd_kafka_consumer_close(rk.get());
  }

  StopToken stop_;
  std::atomic<bool> ready_{false};
  std::thread thread_;
};

// The pods of the simulated Deployment. Stopping pods leave the group in the background.
class Fleet {
 public:
  Fleet(std::string bootstrap, double speed, Stats& stats)
      : bootstrap_(std::move(bootstrap)), speed_(speed), stats_(stats) {}
  ~Fleet() { Resize(0); }

  void Resize(int32_t n) {
    std::lock_guard lock(mu_);
    while (static_cast<int32_t>(pods_.size()) < n) {
      pods_.push_back(std::make_unique<Pod>(bootstrap_, speed_, stats_));
    }
    while (static_cast<int32_t>(pods_.size()) > n) {
      pods_.back()->Stop();
      stopping_.push_back(std::move(pods_.back()));  // joined when the Fleet goes
      pods_.pop_back();
    }
  }
  int32_t size() const {
    std::lock_guard lock(mu_);
    return static_cast<int32_t>(pods_.size());
  }
  int32_t ready() const {
    std::lock_guard lock(mu_);
    return static_cast<int32_t>(
        std::count_if(pods_.begin(), pods_.end(), [](const auto& p) { return p->ready(); }));
  }

 private:
  const std::string bootstrap_;
  const double speed_;
  Stats& stats_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Pod>> pods_;
  std::list<std::unique_ptr<Pod>> stopping_;
};

// The Deployment of the demo: the ScaleTarget the real Reconciler scales, backed by the Fleet.
class DemoDeployment final : public kube::ScaleTarget, public kube::EventRecorder {
 public:
  explicit DemoDeployment(Fleet& fleet) : fleet_(fleet) {}
  Result<kube::ScaleState> Get() override {
    kube::ScaleState s;
    s.spec_replicas = fleet_.size();
    s.status_replicas = fleet_.ready();
    s.ready_replicas = fleet_.ready();
    s.uid = "demo";
    return s;
  }
  Status SetReplicas(int32_t replicas) override {
    fleet_.Resize(replicas);
    return OkStatus();
  }
  Status Record(kube::EventType, const std::string& reason, const std::string& message) override {
    std::lock_guard lock(mu_);
    last_event_ = reason + " " + message;
    ++(reason == "ScaledUp" ? ups_ : downs_);
    return OkStatus();
  }
  std::string last_event() const {
    std::lock_guard lock(mu_);
    return last_event_;
  }
  int ups() const { return ups_; }
  int downs() const { return downs_; }

 private:
  Fleet& fleet_;
  mutable std::mutex mu_;
  std::string last_event_;
  int ups_ = 0;
  int downs_ = 0;
};

// Plays the load: a producer thread writing keyed messages at LoadAt() × speed per second.
class LoadPlayer {
 public:
  LoadPlayer(rd_kafka_t* producer, double run_seconds, double speed, Stats& stats)
      : producer_(producer), run_seconds_(run_seconds), speed_(speed), stats_(stats),
        start_(Clock::now()), thread_([this] { Run(); }) {}
  ~LoadPlayer() {
    stop_.Stop();
    thread_.join();
  }
  // Current rate in messages per demo-second.
  double rate() const { return rate_; }

 private:
  void Run() {
    double owed = 0;
    int64_t key = 0;
    auto last = Clock::now();
    while (!stop_.WaitFor(std::chrono::milliseconds(10))) {
      const auto now = Clock::now();
      const double wall = duration<double>(now - start_).count();
      rate_ = LoadAt(std::min(1.0, wall / run_seconds_));
      owed += rate_ * speed_ * duration<double>(now - last).count();
      last = now;
      for (; owed >= 1; owed -= 1) {
        const std::string k = std::to_string(key++);
        static constexpr char kValue[] = "order";
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer_, RD_KAFKA_V_TOPIC(kTopic), RD_KAFKA_V_KEY(k.data(), k.size()),
            RD_KAFKA_V_VALUE(const_cast<char*>(kValue), sizeof(kValue) - 1),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) ++stats_.produced;
      }
      rd_kafka_poll(producer_, 0);
    }
    rd_kafka_flush(producer_, 2000);
  }

  rd_kafka_t* producer_;
  const double run_seconds_;
  const double speed_;
  Stats& stats_;
  const Clock::time_point start_;
  std::atomic<double> rate_{0};
  StopToken stop_;
  std::thread thread_;
};

double Percentile(std::vector<float> v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - (p > 0 ? 1 : 0));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// The live view: one block redrawn in place on a terminal, or one line per tick.
class View final : public controller::TickListener {
 public:
  View(std::ostream& out, bool plain, double speed, const Clock::time_point& start,
       const LoadPlayer& load, const Fleet& fleet, const DemoDeployment& deployment,
       std::vector<ChartPoint>& series)
      : out_(out), plain_(plain), speed_(speed), start_(start), load_(load), fleet_(fleet),
        deployment_(deployment), series_(series) {}

  void OnTick(const controller::TickReport& r) override {
    const double t = duration<double>(Clock::now() - start_).count() * speed_;
    const int64_t backlog = r.observation ? r.observation->backlog : -1;
    peak_backlog_ = std::max(peak_backlog_, backlog);
    const std::string decision =
        r.decision ? std::string(policy::ReasonName(r.decision->reason)) + " -> " +
                         std::to_string(r.decision->desired)
                   : (r.errors.empty() ? "-" : r.errors.front().kind);
    series_.push_back({t, load_.rate(), static_cast<double>(std::max<int64_t>(backlog, 0)),
                       static_cast<double>(fleet_.size())});
    std::ostringstream line;
    line << std::fixed << std::setprecision(0);
    auto per_min = [](const std::optional<double>& v) {
      return v ? std::to_string(static_cast<int64_t>(*v)) : std::string("-");
    };
    if (plain_) {
      line << "t=" << std::setw(4) << t << "s load=" << std::setw(3) << load_.rate()
           << "/s backlog=" << std::setw(5) << backlog << " produced/min="
           << per_min(r.throughput.produced_per_minute)
           << " consumed/min=" << per_min(r.throughput.consumed_per_minute)
           << " replicas=" << fleet_.size() << " (ready " << fleet_.ready() << ")"
           << " decision=" << decision << " action=" << controller::ActionName(r.action) << "\n";
      out_ << line.str() << std::flush;
      return;
    }
    const int bar = static_cast<int>(std::min<int64_t>(40, std::max<int64_t>(0, backlog) / 100));
    if (drawn_) out_ << "\x1b[7F";
    out_ << "\x1b[K kafka-autoscaler demo   t = " << std::fixed << std::setprecision(0) << t
         << " s\n"
         << "\x1b[K load        " << load_.rate() << " msg/s\n"
         << "\x1b[K backlog     " << std::setw(6) << backlog << "  " << std::string(bar, '#') << "\n"
         << "\x1b[K throughput  produced " << per_min(r.throughput.produced_per_minute)
         << "/min, consumed " << per_min(r.throughput.consumed_per_minute) << "/min\n"
         << "\x1b[K replicas    " << fleet_.size() << " (ready " << fleet_.ready() << ")  "
         << std::string(static_cast<size_t>(fleet_.size()), '*') << "\n"
         << "\x1b[K decision    " << decision << " (" << controller::ActionName(r.action) << ")\n"
         << "\x1b[K last event  " << deployment_.last_event() << "\n"
         << std::flush;
    drawn_ = true;
  }
  int64_t peak_backlog() const { return peak_backlog_; }

 private:
  std::ostream& out_;
  const bool plain_;
  const double speed_;
  const Clock::time_point& start_;
  const LoadPlayer& load_;
  const Fleet& fleet_;
  const DemoDeployment& deployment_;
  std::vector<ChartPoint>& series_;
  bool drawn_ = false;
  int64_t peak_backlog_ = 0;
};

}  // namespace

int RunDemo(const DemoOptions& options, const StopToken& stop, std::ostream& out,
            std::ostream& err) {
  const double speed = options.speed;
  const double run_seconds = static_cast<double>(options.duration.count()) / speed;
  auto scaled = [speed](double demo_seconds) {
    return std::chrono::duration_cast<Duration>(duration<double>(demo_seconds / speed));
  };
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    err << "demo: cannot create " << options.out_dir << ": " << ec.message() << "\n";
    return 1;
  }

  // 1. The embedded Kafka: a 3-broker mock cluster and a 12-partition topic.
  std::string error;
  RdKafka owner = NewHandle(RD_KAFKA_PRODUCER, {}, error);
  rd_kafka_mock_cluster_t* mock = owner ? rd_kafka_mock_cluster_new(owner.get(), kBrokers) : nullptr;
  if (mock == nullptr) {
    err << "demo: cannot start the embedded Kafka: " << error << "\n";
    return 1;
  }
  struct MockFree {
    rd_kafka_mock_cluster_t* m;
    ~MockFree() { rd_kafka_mock_cluster_destroy(m); }
  } mock_guard{mock};
  rd_kafka_mock_topic_create(mock, kTopic, kPartitions, 1);
  const std::string bootstrap = rd_kafka_mock_cluster_bootstraps(mock);
  RdKafka producer = NewHandle(RD_KAFKA_PRODUCER,
                               {{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}}, error);
  if (!producer) {
    err << "demo: cannot create the producer: " << error << "\n";
    return 1;
  }

  // 2. The autoscaler's configuration for this story (demo time; scaled by --speed below).
  controller::ReconcilerOptions ro;
  ro.policy.kind = options.policy;
  ro.policy.messages_per_pod = 200;
  ro.policy.min_replicas = 1;
  ro.policy.max_replicas = 10;
  ro.policy.idle_replicas = 0;
  ro.policy.min_ttl = std::chrono::duration_cast<std::chrono::seconds>(scaled(15));
  ro.policy.scale_down_stabilization = std::chrono::duration_cast<std::chrono::seconds>(scaled(9));
  ro.policy.message_count_threshold = 2000;
  ro.policy.target_drain = std::chrono::duration_cast<std::chrono::seconds>(scaled(20));
  if (ro.policy.target_drain.count() < 1) ro.policy.target_drain = std::chrono::seconds(1);
  ro.topics = kTopic;
  ro.group = kGroup;
  ro.namespace_name = "demo";
  ro.deployment_name = "order-workers";
  const Duration interval = scaled(3);

  std::ofstream log_file(options.out_dir + "/daemon.log");
  SystemClock clock;
  Logger log(clock, log_file, LogLevel::kInfo, LogFormat::kJson);
  kafka::KafkaSourceOptions ko;
  ko.bootstrap_servers = bootstrap;
  ko.topics = {kTopic};
  ko.group = kGroup;
  ko.offset_reset = config::OffsetResetPolicy::kLatest;
  ko.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(interval * 8 / 10);
  auto source = kafka::KafkaMetricSource::Create(ko, clock, &log);
  if (!source) {
    err << "demo: " << source.error().ToString() << "\n";
    return 1;
  }

  // 3. Pods, load, the real reconcile loop.
  Stats stats;
  Fleet fleet(bootstrap, speed, stats);
  fleet.Resize(1);
  DemoDeployment deployment(fleet);
  controller::NullTickTracer tracer;
  kube::GuardedScaleTarget guarded(deployment, {.min_replicas = ro.policy.idle_replicas,
                                                .max_replicas = ro.policy.max_replicas});
  controller::Reconciler reconciler(ro, clock, **source, guarded, &deployment, log, tracer);
  controller::StatusBoard board(clock, interval, false);
  std::vector<ChartPoint> series;
  const auto start = Clock::now();
  out << "kafka-autoscaler demo: embedded Kafka at " << bootstrap << ", topic " << kTopic << " ("
      << kPartitions << " partitions), group " << kGroup << "\n"
      << "policy " << policy::PolicyKindName(options.policy) << ", MESSAGES_PER_POD="
      << ro.policy.messages_per_pod << ", replicas " << ro.policy.min_replicas << ".."
      << ro.policy.max_replicas << ", a pod processes " << kPodRate << " msg/s; "
      << options.duration.count() << " s of demo time at speed " << speed << "\n\n";
  double pod_seconds = 0;
  {
    LoadPlayer load(producer.get(), run_seconds, speed, stats);
    View view(out, options.plain, speed, start, load, fleet, deployment, series);
    // Pod-seconds: sampled from the fleet every 100 ms of wall time.
    StopToken sampler_stop;
    std::thread sampler([&] {
      auto last = Clock::now();
      while (!sampler_stop.WaitFor(std::chrono::milliseconds(100))) {
        const auto now = Clock::now();
        pod_seconds += fleet.size() * duration<double>(now - last).count() * speed;
        last = now;
      }
    });
    const int64_t ticks = static_cast<int64_t>(std::floor(run_seconds / duration<double>(interval).count()));
    controller::Loop loop({.interval = interval, .max_ticks = ticks}, clock, reconciler, board,
                          nullptr, {&view});
    loop.Run(stop);
    sampler_stop.Stop();
    sampler.join();

    // 4. Summary and chart.
    std::vector<float> waits;
    {
      std::lock_guard lock(stats.mu);
      waits = stats.waits;
    }
    const std::string chart_path = options.out_dir + "/demo.svg";
    auto chart = WriteDemoChart(chart_path, series, ro.policy.max_replicas);
    out << "\nsummary\n"
        << std::fixed << std::setprecision(1)
        << "  messages produced      " << stats.produced << "\n"
        << "  messages processed     " << stats.consumed
        << " (at-least-once: a rebalance redelivers what was not yet committed)\n"
        << "  peak backlog           " << view.peak_backlog() << " messages\n"
        << "  message wait p50       " << Percentile(waits, 0.50) << " s\n"
        << "  message wait p99       " << Percentile(waits, 0.99) << " s\n"
        << "  pod-seconds            " << pod_seconds << "\n"
        << "  scale events           " << deployment.ups() + deployment.downs() << " ("
        << deployment.ups() << " up, " << deployment.downs() << " down)\n"
        << "  final replicas         " << fleet.size() << "\n";
    if (chart) {
      out << "  chart                  " << chart_path << "\n";
    } else {
      out << "  chart                  not written: " << chart.error().message << "\n";
    }
    out << "  daemon log             " << options.out_dir << "/daemon.log\n";
  }
  fleet.Resize(0);
  return 0;
}

}  // namespace kafka_autoscaler::demo
