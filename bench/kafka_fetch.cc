// kafka_fetch: how long one KafkaMetricSource::Fetch() takes, in group mode, for topics of 12,
// 1,000 and 10,000 partitions on librdkafka's mock cluster (3 brokers, loopback).
//
// For each size: a topic with one message per partition and a commit on every partition; a
// cold Fetch (new client: Metadata + offsets) and then N warm Fetches (metadata cached). It
// prints the median and p90 wall time of a warm Fetch and, per Fetch, CPU time of
//   caller  — the thread calling Fetch() (our request shaping and answer parsing),
//   mock    — the mock cluster's thread ("rdk:mock": the mock brokers' own cost),
//   process — everything, so process − mock is what a real deployment would spend;
// and C++ heap allocations per Fetch (a counting operator new; librdkafka's C mallocs are
// not counted). Usage: kafka_fetch [--sizes 12,1000,10000] [--iterations N]
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
#include <dirent.h>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kafka/kafka_source.h"
#include "mock_cluster.h"

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
using kafka::testing::MockCluster;

double CpuMs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// CPU time (ms) of every thread of this process whose name starts with `prefix`.
double ThreadsCpuMs(const char* prefix) {
  double total = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return 0;
  const double tick_ms = 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string base = std::string("/proc/self/task/") + e->d_name;
    std::ifstream comm(base + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind(prefix, 0) != 0) continue;
    std::ifstream stat(base + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(text.substr(close + 2));
    std::string f;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::strtoull(f.c_str(), nullptr, 10);
      if (i == 15) stime = std::strtoull(f.c_str(), nullptr, 10);
    }
    total += static_cast<double>(utime + stime) * tick_ms;
  }
  closedir(dir);
  return total;
}

struct Figures {
  int partitions = 0;
  double cold_ms = 0;
  double median_ms = 0;
  double p90_ms = 0;
  double caller_cpu_ms = 0;
  double mock_cpu_ms = 0;
  double process_cpu_ms = 0;
  double allocations = 0;
};

int Run(MockCluster& cluster, int partitions, int iterations, Figures& out) {
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
  SystemClock clock;
  kafka::KafkaSourceOptions o;
  o.bootstrap_servers = cluster.bootstrap();
  o.topics = {topic};
  o.group = group;
  o.timeout = std::chrono::seconds(30);
  auto source = kafka::KafkaMetricSource::Create(o, clock);
  if (!source) {
    std::fprintf(stderr, "create source: %s\n", source.error().message.c_str());
    return 1;
  }
  const auto cold_start = std::chrono::steady_clock::now();
  auto first = (*source)->Fetch();
  out.cold_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                          cold_start).count();
  if (!first || first->backlog != partitions / 2) {
    std::fprintf(stderr, "fetch: %s\n",
                 first ? ("backlog " + std::to_string(first->backlog)).c_str()
                       : first.error().message.c_str());
    return 1;
  }
  std::vector<double> wall;
  const double caller0 = CpuMs(CLOCK_THREAD_CPUTIME_ID);
  const double process0 = CpuMs(CLOCK_PROCESS_CPUTIME_ID);
  const double mock0 = ThreadsCpuMs("rdk:mock");
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
  std::sort(wall.begin(), wall.end());
  out.partitions = partitions;
  out.median_ms = wall[wall.size() / 2];
  out.p90_ms = wall[std::min(wall.size() - 1, wall.size() * 9 / 10)];
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {12, 1000, 10000};
  int iterations = 0;  // 0: by size
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--sizes") == 0) {
      sizes.clear();
      std::istringstream in(argv[i + 1]);
      for (std::string s; std::getline(in, s, ',');) sizes.push_back(std::atoi(s.c_str()));
    } else if (std::strcmp(argv[i], "--iterations") == 0) {
      iterations = std::atoi(argv[i + 1]);
    }
  }
  auto cluster = MockCluster::Start(3);
  if (!cluster) {
    std::fprintf(stderr, "mock: %s\n", cluster.error().message.c_str());
    return 1;
  }
  std::printf("KafkaMetricSource::Fetch, group mode, 3 mock brokers (per Fetch; CPU: caller thread, "
              "mock thread, whole process)\n");
  std::printf("%10s %9s %10s %9s %10s %9s %11s %12s\n", "partitions", "cold_ms", "median_ms",
              "p90_ms", "caller_cpu", "mock_cpu", "process_cpu", "cxx_allocs");
  for (int size : sizes) {
    Figures f;
    const int n = iterations > 0 ? iterations : (size <= 100 ? 200 : size <= 2000 ? 50 : 15);
    if (Run(**cluster, size, n, f) != 0) return 1;
    std::printf("%10d %9.2f %10.2f %9.2f %10.2f %9.2f %11.2f %12.0f\n", f.partitions, f.cold_ms,
                f.median_ms, f.p90_ms, f.caller_cpu_ms, f.mock_cpu_ms, f.process_cpu_ms,
                f.allocations);
    std::fflush(stdout);
  }
  return 0;
}
