// kafka_fetch: how long one KafkaMetricSource::Fetch() takes, in group mode, for topics of 12,
// 1,000 and 10,000 partitions on librdkafka's mock cluster (3 brokers, loopback).
//
// For each size: a topic with one message per partition and a commit on every partition; a
// cold Fetch (new client: Metadata + offsets) and then N warm Fetches (connections up; each
// still reads Metadata, as every tick does). It prints the median and p90 wall time of a warm Fetch
// and, per Fetch, CPU time of
//   caller  — the thread calling Fetch() (our request shaping and answer parsing),
//   mock    — the mock cluster's thread ("rdk:mock": the mock brokers' own cost),
//   process — everything, so process − mock is what a real deployment would spend;
// and C++ heap allocations per Fetch (a counting operator new; librdkafka's C mallocs are
// not counted).
// Usage: kafka_fetch [--sizes 12,1000,10000] [--iterations N] [--chunk 250,1000]
//                    [--parallel 2,4] (a sweep over request shapings; default: the defaults)
#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "kafka/kafka_source.h"
#include "mock_cluster.h"
#include "proc_stats.h"

// Counting allocator: the bench binary's own replacement of the global operator new.
namespace {
std::atomic<uint64_t> g_allocations{0};
}
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace kafka_autoscaler;
using bench::CpuMs;
using bench::ThreadsCpuMs;
using kafka::testing::MockCluster;

struct Figures {
  int partitions = 0;
  double cold_ms = 0;
  double median_ms = 0;
  double p90_ms = 0;
  double caller_cpu_ms = 0;
  double mock_cpu_ms = 0;
  double process_cpu_ms = 0;
  double allocations = 0;
  double idle_cpu_ms_per_s = 0;
  double app_threads_cpu_ms = 0;  // long-lived threads named like the binary: the caller
  double rdk_main_cpu_ms = 0;     // librdkafka main threads (admin API, metadata)
  double rdk_broker_cpu_ms = 0;   // librdkafka broker threads (requests, responses)
};

struct Shaping {
  size_t chunk = 1000;
  size_t parallel = 4;
};

// A topic of `partitions` partitions, one message each, and a group committed at 0 or 1
// (so the group's backlog is partitions / 2).
int Setup(MockCluster& cluster, int partitions) {
  const std::string topic = "bench-" + std::to_string(partitions);
  const std::string group = "bench-group-" + std::to_string(partitions);
  if (auto s = cluster.CreateTopic(topic, partitions); !s) {
    std::fprintf(stderr, "create: %s\n", s.error().message.c_str());
    return 1;
  }
  if (auto s = cluster.ProduceEach(topic, partitions, 1); !s) {
    std::fprintf(stderr, "produce: %s\n", s.error().message.c_str());
    return 1;
  }
  std::vector<kafka::testing::CommitOffset> commits;
  for (int p = 0; p < partitions; ++p) commits.push_back({topic, p, p % 2});
  if (auto s = cluster.Commit(group, commits); !s) {
    std::fprintf(stderr, "commit: %s\n", s.error().message.c_str());
    return 1;
  }
  return 0;
}

int Run(MockCluster& cluster, int partitions, int iterations, Shaping shaping, Figures& out) {
  const std::string topic = "bench-" + std::to_string(partitions);
  const std::string group = "bench-group-" + std::to_string(partitions);
  SystemClock clock;
  kafka::KafkaSourceOptions o;
  o.bootstrap_servers = cluster.bootstrap();
  o.topics = {topic};
  o.group = group;
  o.timeout = std::chrono::seconds(30);
  o.chunk_partitions = shaping.chunk;
  o.parallel_requests = shaping.parallel;
  auto source = kafka::KafkaMetricSource::Create(o, clock);
  if (!source) {
    std::fprintf(stderr, "create source: %s\n", source.error().message.c_str());
    return 1;
  }
  const auto cold_start = std::chrono::steady_clock::now();
  auto first = (*source)->Fetch();
  out.cold_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - cold_start)
          .count();
  if (!first || first->backlog != partitions / 2) {
    std::fprintf(stderr, "fetch: %s\n",
                 first ? ("backlog " + std::to_string(first->backlog)).c_str()
                       : first.error().message.c_str());
    return 1;
  }
  // Background CPU of the harness (mock, idle producer) with no Fetch running, per second.
  {
    const double idle0 = CpuMs(CLOCK_PROCESS_CPUTIME_ID);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    out.idle_cpu_ms_per_s = (CpuMs(CLOCK_PROCESS_CPUTIME_ID) - idle0) * 2;
  }
  std::vector<double> wall;
  const double caller0 = CpuMs(CLOCK_THREAD_CPUTIME_ID);
  const double process0 = CpuMs(CLOCK_PROCESS_CPUTIME_ID);
  const double mock0 = ThreadsCpuMs("rdk:mock");
  const double app0 = ThreadsCpuMs("kafka_fetch");
  const double main0 = ThreadsCpuMs("rdk:main");
  const double broker0 = ThreadsCpuMs("rdk:broker");
  const uint64_t alloc0 = g_allocations.load();
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto obs = (*source)->Fetch();
    wall.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    if (!obs) {
      std::fprintf(stderr, "fetch: %s\n", obs.error().message.c_str());
      return 1;
    }
  }
  out.allocations = static_cast<double>(g_allocations.load() - alloc0) / iterations;
  out.caller_cpu_ms = (CpuMs(CLOCK_THREAD_CPUTIME_ID) - caller0) / iterations;
  out.process_cpu_ms = (CpuMs(CLOCK_PROCESS_CPUTIME_ID) - process0) / iterations;
  out.mock_cpu_ms = (ThreadsCpuMs("rdk:mock") - mock0) / iterations;
  out.app_threads_cpu_ms = (ThreadsCpuMs("kafka_fetch") - app0) / iterations;
  out.rdk_main_cpu_ms = (ThreadsCpuMs("rdk:main") - main0) / iterations;
  out.rdk_broker_cpu_ms = (ThreadsCpuMs("rdk:broker") - broker0) / iterations;
  std::sort(wall.begin(), wall.end());
  out.partitions = partitions;
  out.median_ms = wall[wall.size() / 2];
  out.p90_ms = wall[std::min(wall.size() - 1, wall.size() * 9 / 10)];
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {12, 1000, 10000};
  std::vector<Shaping> shapings = {Shaping{}};
  int iterations = 0;  // 0: by size
  auto list = [](const char* text) {
    std::vector<size_t> out;
    std::istringstream in(text);
    for (std::string s; std::getline(in, s, ',');)
      out.push_back(std::strtoul(s.c_str(), nullptr, 10));
    return out;
  };
  std::vector<size_t> chunks, parallels;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--sizes") == 0) {
      sizes.clear();
      for (size_t n : list(argv[i + 1])) sizes.push_back(static_cast<int>(n));
    } else if (std::strcmp(argv[i], "--iterations") == 0) {
      iterations = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--chunk") == 0) {
      chunks = list(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--parallel") == 0) {
      parallels = list(argv[i + 1]);
    }
  }
  if (!chunks.empty() || !parallels.empty()) {  // a sweep of request shapings
    if (chunks.empty()) chunks = {Shaping{}.chunk};
    if (parallels.empty()) parallels = {Shaping{}.parallel};
    shapings.clear();
    for (size_t c : chunks) {
      for (size_t p : parallels) shapings.push_back(Shaping{c, p});
    }
  }
  auto cluster = MockCluster::Start(3);
  if (!cluster) {
    std::fprintf(stderr, "mock: %s\n", cluster.error().message.c_str());
    return 1;
  }
  std::printf(
      "KafkaMetricSource::Fetch, group mode, 3 mock brokers; per warm Fetch: wall time, "
      "CPU of the caller thread, the mock's thread and the whole process, C++ allocations\n");
  std::printf("%10s %6s %4s %9s %10s %9s %10s %9s %11s %11s %10s\n", "partitions", "chunk", "par",
              "cold_ms", "median_ms", "p90_ms", "caller_cpu", "mock_cpu", "process_cpu",
              "cxx_allocs", "idle_cpu/s");
  for (int size : sizes) {
    if (Setup(**cluster, size) != 0) return 1;
    for (const Shaping& shaping : shapings) {
      Figures f;
      const int n = iterations > 0 ? iterations : (size <= 100 ? 200 : size <= 2000 ? 50 : 15);
      if (Run(**cluster, size, n, shaping, f) != 0) return 1;
      std::printf("%10d %6zu %4zu %9.2f %10.2f %9.2f %10.2f %9.2f %11.2f %11.0f %10.1f\n",
                  f.partitions, shaping.chunk, shaping.parallel, f.cold_ms, f.median_ms, f.p90_ms,
                  f.caller_cpu_ms, f.mock_cpu_ms, f.process_cpu_ms, f.allocations,
                  f.idle_cpu_ms_per_s);
      std::printf(
          "%10s   where the process CPU went (ms): caller thread %.2f, ListOffsets "
          "worker threads and other short-lived threads %.2f, librdkafka main %.2f, "
          "librdkafka brokers %.2f, mock %.2f\n",
          "", f.app_threads_cpu_ms,
          f.process_cpu_ms - f.app_threads_cpu_ms - f.rdk_main_cpu_ms - f.rdk_broker_cpu_ms -
              f.mock_cpu_ms,
          f.rdk_main_cpu_ms, f.rdk_broker_cpu_ms, f.mock_cpu_ms);
      std::fflush(stdout);
    }
  }
  return 0;
}
