// many_targets: what one SharedObserver pass costs for N KafkaScaler-like targets (issue 15
// item 6), on librdkafka's mock cluster (3 brokers, loopback, in this process).
//
// Each target has its own 12-partition topic and its own consumer group. Setup: every topic gets
// one message on partition 0 (one producer flush for all topics) and every group a commit on
// every partition (AlterConsumerGroupOffsets, many in flight). Between passes, the commits of a
// tenth of the groups move (the same admin call). Then `--passes` Observe() passes over all
// targets; per N it prints:
//   rss_mib      VmRSS of the process after the passes (mock cluster included)
//   obs_mib      VmRSS growth from just before the observer was created to after the passes
//   wall_ms      median wall time of a pass
//   cpu_ms       CPU per pass of the whole process minus the mock brokers' thread ("rdk:mock")
//   rdk_main / rdk_broker   of which librdkafka's main thread (admin requests, metadata) and
//                broker threads (requests, answers); the rest is the caller (our code)
//   metadata / list_offsets / offset_fetch   Kafka requests per pass, by API (RequestCounts)
// Usage: many_targets [--targets 1,100,1000,3000] [--passes 5]
// (the ctest `bench.many_targets`, label bench, runs --targets 1,100 --passes 3).
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "kafka/kafka_client.h"
#include "kafka/shared_observer.h"
#include "mock_cluster.h"
#include "proc_stats.h"

namespace {

using namespace kafka_autoscaler;
using bench::CpuMs;
using bench::RssKiB;
using bench::ThreadsCpuMs;
using kafka::PartitionList;
using kafka::RdPtr;
using kafka::testing::MockCluster;

constexpr int kPartitions = 12;

std::vector<int> ParseList(const char* s) {
  std::vector<int> out;
  for (const char* p = s; *p != '\0';) {
    out.push_back(std::atoi(p));
    const char* comma = std::strchr(p, ',');
    if (comma == nullptr) break;
    p = comma + 1;
  }
  return out;
}

std::string TopicOf(int run, int i) { return "mt" + std::to_string(run) + "-" + std::to_string(i); }
std::string GroupOf(int run, int i) { return "mg" + std::to_string(run) + "-" + std::to_string(i); }

// One message on partition 0 of every topic, in one flush.
bool ProduceAll(rd_kafka_t* producer, const std::vector<std::string>& topics) {
  for (const auto& t : topics) {
    const char payload[] = "m";
    const rd_kafka_resp_err_t err =
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(t.c_str()), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_VALUE(const_cast<char*>(payload), 1), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "produce %s: %s\n", t.c_str(), rd_kafka_err2str(err));
      return false;
    }
  }
  return rd_kafka_flush(producer, 120'000) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

// Commits `offset` on every partition of group i's topic, for the given targets, many admin
// calls in flight on one queue; returns the number that failed.
int CommitMany(rd_kafka_t* rk, int run, const std::vector<int>& which, int64_t offset) {
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk));
  size_t due = 0;
  for (int i : which) {
    const std::string topic = TopicOf(run, i);
    PartitionList list(rd_kafka_topic_partition_list_new(kPartitions));
    for (int p = 0; p < kPartitions; ++p) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset =
          p == 0 ? std::min<int64_t>(offset, 1) : 0;
    }
    RdPtr<rd_kafka_AlterConsumerGroupOffsets_t> request(
        rd_kafka_AlterConsumerGroupOffsets_new(GroupOf(run, i).c_str(), list.get()));
    rd_kafka_AlterConsumerGroupOffsets_t* requests[] = {request.get()};
    rd_kafka_AlterConsumerGroupOffsets(rk, requests, 1, nullptr, queue.get());
    ++due;
  }
  int failed = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (due > 0 && std::chrono::steady_clock::now() < until) {
    RdPtr<rd_kafka_event_t> ev(rd_kafka_queue_poll(queue.get(), 1000));
    if (!ev) continue;
    if (rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()) == nullptr) continue;
    --due;
    if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) ++failed;
  }
  return failed + static_cast<int>(due);
}

int RunOne(MockCluster& cluster, int run, int targets, int passes) {
  const auto setup0 = std::chrono::steady_clock::now();
  std::vector<std::string> topics;
  for (int i = 0; i < targets; ++i) topics.push_back(TopicOf(run, i));
  // The mock serves one topic creation per wake-up of its thread (~0.3 s): many threads post
  // them at once.
  std::atomic<size_t> next{0};
  std::atomic<int> create_failures{0};
  {
    std::vector<std::jthread> creators;
    for (int t = 0; t < 64; ++t) {
      creators.emplace_back([&] {
        for (size_t i = next++; i < topics.size(); i = next++) {
          if (!cluster.CreateTopic(topics[i], kPartitions)) ++create_failures;
        }
      });
    }
  }
  if (create_failures > 0) {
    std::fprintf(stderr, "%d topic creations failed\n", create_failures.load());
    return 1;
  }
  auto phase = [&](const char* what) {
    std::fprintf(stderr, "# %d targets: %s after %.1f s\n", targets, what,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - setup0).count());
  };
  phase("topics created");
  if (!ProduceAll(cluster.client().handle(), topics)) return 1;
  phase("produced");
  std::vector<int> all(static_cast<size_t>(targets));
  for (int i = 0; i < targets; ++i) all[static_cast<size_t>(i)] = i;
  if (int failed = CommitMany(cluster.client().handle(), run, all, 0); failed > 0) {
    std::fprintf(stderr, "%d initial commits failed\n", failed);
  }

  phase("committed");
  std::vector<kafka::TargetQuery> queries;
  for (int i = 0; i < targets; ++i) {
    kafka::TargetQuery q;
    q.key = "bench/ks-" + std::to_string(i);
    q.topics = {TopicOf(run, i)};
    q.group = GroupOf(run, i);
    queries.push_back(std::move(q));
  }
  SystemClock clock;
  const long rss0 = RssKiB();
  kafka::ClusterOptions o;
  o.bootstrap_servers = cluster.bootstrap();
  o.timeout = std::chrono::seconds(30);
  auto observer = kafka::SharedObserver::Create(o, clock);
  if (!observer) {
    std::fprintf(stderr, "observer: %s\n", observer.error().message.c_str());
    return 1;
  }
  // A first (cold) pass: connections, coordinators, leaders.
  (void)(*observer)->Observe(queries);
  const kafka::RequestCounts before = (*observer)->stats();
  std::vector<double> walls;
  double cpu = 0, rdk_main = 0, rdk_broker = 0;
  int failures = 0;
  for (int pass = 0; pass < passes; ++pass) {
    std::vector<int> moving;  // a tenth of the groups commit further
    for (int i = pass % 10; i < targets; i += 10) moving.push_back(i);
    (void)CommitMany(cluster.client().handle(), run, moving, 1);
    const double process0 = CpuMs(CLOCK_PROCESS_CPUTIME_ID);
    const double mock0 = ThreadsCpuMs("rdk:mock");
    const double main0 = ThreadsCpuMs("rdk:main"), broker0 = ThreadsCpuMs("rdk:broker");
    const auto t0 = std::chrono::steady_clock::now();
    const auto results = (*observer)->Observe(queries);
    walls.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    cpu += (CpuMs(CLOCK_PROCESS_CPUTIME_ID) - process0) - (ThreadsCpuMs("rdk:mock") - mock0);
    rdk_main += ThreadsCpuMs("rdk:main") - main0;
    rdk_broker += ThreadsCpuMs("rdk:broker") - broker0;
    for (const auto& [key, r] : results) failures += r ? 0 : 1;
  }
  const kafka::RequestCounts after = (*observer)->stats();
  std::sort(walls.begin(), walls.end());
  const long rss = RssKiB();
  const double n = passes;
  std::printf("%8d %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f %12.1f %12.1f %9d\n", targets,
              static_cast<double>(rss) / 1024, static_cast<double>(rss - rss0) / 1024,
              walls[walls.size() / 2], cpu / n, rdk_main / n, rdk_broker / n,
              static_cast<double>(after.metadata - before.metadata) / n,
              static_cast<double>(after.list_offsets - before.list_offsets) / n,
              static_cast<double>(after.offset_fetch - before.offset_fetch) / n, failures);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1, 100, 1000, 3000};
  int passes = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--targets") == 0) sizes = ParseList(argv[i + 1]);
    if (std::strcmp(argv[i], "--passes") == 0) passes = std::max(1, std::atoi(argv[i + 1]));
  }
  auto cluster = MockCluster::Start(3);
  if (!cluster) {
    std::fprintf(stderr, "mock cluster: %s\n", cluster.error().message.c_str());
    return 1;
  }
  std::printf("# SharedObserver, 3-broker mock cluster, %d partitions per target, %d passes\n",
              kPartitions, passes);
  std::printf("%8s %10s %10s %10s %10s %10s %10s %10s %12s %12s %9s\n", "targets", "rss_mib",
              "obs_mib", "wall_ms", "cpu_ms", "rdk_main", "rdk_broker", "metadata", "list_offsets",
              "offset_fetch", "failures");
  int run = 0;
  for (int n : sizes) {
    if (RunOne(**cluster, run++, n, passes) != 0) return 1;
  }
  return 0;
}
