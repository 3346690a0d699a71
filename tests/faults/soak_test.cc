// Soak (label `soak`, not in the default run): the real daemon for KA_SOAK_SECONDS (default 600)
// at 1 s ticks against the mock Kafka cluster and the test API server, with a varying load (the
// group's lag follows a 2-minute wave between 5 and 45 messages: 1 to 5 replicas; it jumps
// across the range while writes conflict, so a scale is due then) and faults on
// a schedule: all brokers down, the API server answering 500s, conflicting writes, and the API
// server stopped and restarted. It reports scale actions, errors by kind, RSS at start and end,
// and wrong actions, which must be zero. Wrong is judged against the lag the test itself
// committed (commits are computed from the brokers' high watermarks, so the lag is exact), never
// against what the daemon logged: every change of the Deployment's replicas (polled each second)
// must be the policy's answer (min(MAX, max(MIN, ceil(lag / MESSAGES_PER_POD))), no
// stabilization, no step limits) for a lag committed within the few seconds before it (a tick
// observes, then writes). The load never lets the lag reach 0, so a failed observation counted
// as empty shows up as a wrong scale down. Changes within seconds of a produce that failed (it may
// still land, adding lag the test cannot know) are not judged, and are counted.
// The report goes to stdout and to $KA_SOAK_REPORT (default soak-report.txt in the working dir).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <numbers>
#include <sstream>
#include <thread>

#include "faults/harness.h"

namespace kafka_autoscaler::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

int64_t RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// The fault active at second `t` of the soak (periods chosen so that faults overlap sometimes).
struct Schedule {
  bool kafka_down(int t) const { return t >= 30 && t % 90 >= 60 && t % 90 < 70; }
  bool api_500(int t) const { return t >= 30 && t % 70 >= 40 && t % 70 < 46; }
  bool api_conflicts(int t) const { return t >= 30 && t % 110 >= 20 && t % 110 < 26; }
  bool api_stopped(int t) const { return t >= 30 && t % 150 >= 100 && t % 150 < 107; }
};

TEST(Soak, FlappingBrokersAndApiServerUnderVaryingLoad) {
  const char* env_seconds = std::getenv("KA_SOAK_SECONDS");
  const int duration = env_seconds != nullptr ? std::atoi(env_seconds) : 600;
  ASSERT_GE(duration, 60);
  Harness h("soak", {.insecure_tls = true});
  ASSERT_TRUE(h.ok()) << h.error();
  int64_t high = 10;
  ASSERT_TRUE(h.Produce(10));
  ASSERT_TRUE(h.CommitLeaving(high, 25));
  auto daemon = h.Start();
  ASSERT_TRUE(Eventually([&] { return h.Replicas() == 3 && h.ReadyStatus() == 200; }, seconds(30)))
      << h.Status().dump() << daemon->Stderr();
  std::this_thread::sleep_for(seconds(5));  // warm-up before the first RSS sample
  const int64_t rss_start = RssKiB(daemon->pid());

  const Schedule s;
  bool kafka_down = false, api_500 = false, api_conflicts = false, api_stopped = false;
  int64_t patches = 0;  // PATCHes of /scale the API server saw (its log is lost on restart)
  std::map<std::string, int> fault_windows;
  int kafka_back_at = 0;  // second the brokers last came back
  int load_failures = 0;  // produces or commits of the test's load that failed
  // What the test committed, and what it saw of the Deployment.
  struct Committed {
    Clock::time_point at;  // when the commit was acknowledged
    int64_t lag;
  };
  struct Change {
    Clock::time_point at;  // first seen (polled each second)
    int from, to;
  };
  std::vector<Committed> committed;
  std::vector<Clock::time_point> failed_produces;
  std::vector<Change> changes;
  int replicas_seen = h.Replicas();
  const auto start = Clock::now();
  for (int t = 0; t < duration; ++t) {
    // Faults: switch on and off at the scheduled seconds.
    if (s.kafka_down(t) != kafka_down) {
      kafka_down = !kafka_down;
      for (int b = 1; b <= 3; ++b) {
        ASSERT_TRUE(kafka_down ? h.kafka().SetBrokerDown(b) : h.kafka().SetBrokerUp(b));
      }
      if (kafka_down) ++fault_windows["kafka_all_brokers_down"];
      if (!kafka_down) kafka_back_at = t;
    }
    if (s.api_stopped(t) != api_stopped) {
      api_stopped = !api_stopped;
      if (api_stopped) {
        patches += h.Patches();
        h.StopApiServer();
        ++fault_windows["api_server_stopped"];
        api_500 = api_conflicts = false;  // a restarted server starts clean
      } else {
        ASSERT_TRUE(h.RestartApiServer()) << h.error();
      }
    }
    if (!api_stopped) {
      const bool want_500 = s.api_500(t), want_conflicts = s.api_conflicts(t);
      if (want_500 != api_500 || want_conflicts != api_conflicts) {
        h.api().ClearFaults();
        if (want_500) {
          h.api().InjectFault({.kind = FaultKind::kServerError,
                               .path_contains = "/deployments/workers",
                               .times = 1'000'000});
          if (!api_500) ++fault_windows["api_server_500"];
        }
        if (want_conflicts) {
          h.api().InjectFault({.kind = FaultKind::kConflict,
                               .method = "PATCH",
                               .path_contains = "/scale",
                               .times = 1'000'000});
          if (!api_conflicts) ++fault_windows["api_conflict_storm"];
        }
        api_500 = want_500;
        api_conflicts = want_conflicts;
      }
    }
    // Load: every second 1-4 new messages per partition, and the group commits so that its lag
    // follows the wave (never 0).
    // The test's producer needs a few seconds to reconnect after the brokers return; a produce
    // that times out may still land later (the lag only grows), so `high` counts only what was
    // acknowledged and the commit waits for a good produce.
    if (!kafka_down && t >= kafka_back_at + 5) {
      const int per_partition = 1 + (t % 4);
      // The brokers' high watermarks after the produce: the commit leaves exactly `lag`.
      Result<std::vector<int64_t>> highs = std::vector<int64_t>{};
      if (!h.kafka().ProduceEach(kTopic, kPartitions, per_partition)) {
        highs = MakeError(ErrorCode::kUnavailable, "produce failed");
      }
      for (int p = 0; highs && p < kPartitions; ++p) {
        auto w = h.kafka().client().Watermarks(kTopic, p);
        if (w) {
          highs->push_back(w->second);
        } else {
          highs = MakeError(w.error());
        }
      }
      if (highs) {
        high += per_partition;
        int64_t lag =
            25 + static_cast<int64_t>(std::lround(20 * std::sin(t * 2 * std::numbers::pi / 120)));
        // During a conflict storm the load jumps, so that a scale is due while every write
        // conflicts (5 ↔ 1 replicas).
        if (api_conflicts) lag = lag >= 25 ? 5 : 45;
        std::vector<kafka::testing::CommitOffset> offsets;
        int64_t left = lag;
        for (int p = 0; p < kPartitions; ++p) {
          const int64_t keep = std::min(left, (*highs)[p]);
          left -= keep;
          offsets.push_back({kTopic, p, (*highs)[p] - keep});
        }
        if (h.kafka().Commit(kGroup, offsets)) {
          committed.push_back({Clock::now(), lag - left});
        } else {
          ++load_failures;
        }
      } else {
        ++load_failures;
        failed_produces.push_back(Clock::now());
        kafka_back_at = t;  // back off the load for a few seconds
      }
    }
    if (const int r = h.Replicas(); r != replicas_seen) {
      changes.push_back({Clock::now(), replicas_seen, r});
      replicas_seen = r;
    }
    ASSERT_TRUE(daemon->Running()) << "the daemon died: " << daemon->Stderr();
    std::this_thread::sleep_until(start + seconds(t + 1));
  }
  // End in a clean state and let it settle.
  if (api_stopped) {
    ASSERT_TRUE(h.RestartApiServer());
  }
  h.api().ClearFaults();
  if (kafka_down) {
    for (int b = 1; b <= 3; ++b) ASSERT_TRUE(h.kafka().SetBrokerUp(b));
  }
  const bool recovered = Eventually([&] { return h.ReadyStatus() == 200; }, seconds(15));
  const int64_t rss_end = RssKiB(daemon->pid());
  patches += h.Patches();

  // Metrics: scale events and errors by kind.
  const auto [status, metrics] = HttpGet(h.port(), "/metrics");
  std::map<std::string, double> errors, scale_events;
  std::istringstream in(metrics);
  std::string line;
  const std::string err_prefix = "kafka_autoscaler_errors_total{kind=\"";
  const std::string scale_prefix = "kafka_autoscaler_scale_events_total{direction=\"";
  while (std::getline(in, line)) {
    for (auto [prefix, into] :
         {std::pair{err_prefix, &errors}, std::pair{scale_prefix, &scale_events}}) {
      if (line.rfind(prefix, 0) != 0) continue;
      const auto q = line.find('"', prefix.size());
      const double v = std::stod(line.substr(line.rfind(' ') + 1));
      if (v > 0) (*into)[line.substr(prefix.size(), q - prefix.size())] = v;
    }
  }
  const int64_t ticks = h.Ticks();
  daemon->Signal(SIGTERM);
  const auto exit = daemon->Wait(seconds(10));

  // Wrong actions: each change of replicas against the lags the test committed just before it.
  const auto expected = [](int64_t lag) {
    return static_cast<int>(std::min<int64_t>(kMaxReplicas, std::max<int64_t>(1, (lag + 9) / 10)));
  };
  constexpr auto kWindow = seconds(5);  // observe → write, plus the poll's second
  const int scaled = static_cast<int>(changes.size());
  int unjudged = 0;
  std::vector<std::string> wrong;
  for (const Change& c : changes) {
    const bool near_failed_produce =
        std::any_of(failed_produces.begin(), failed_produces.end(),
                    [&](auto f) { return f <= c.at && c.at - f <= kWindow + seconds(10); });
    if (near_failed_produce) {
      ++unjudged;
      continue;
    }
    // The lags the daemon may have seen: those committed in the window, and the one before it.
    std::vector<int64_t> lags;
    for (size_t i = 0; i < committed.size() && committed[i].at <= c.at; ++i) {
      const bool next_before_window =
          i + 1 < committed.size() && committed[i + 1].at <= c.at - kWindow;
      if (!next_before_window) lags.push_back(committed[i].lag);
    }
    const bool right =
        c.to >= 1 && c.to <= kMaxReplicas &&
        std::any_of(lags.begin(), lags.end(), [&](int64_t lag) { return expected(lag) == c.to; });
    if (!right) {
      std::ostringstream w;
      w << "at " << std::chrono::duration<double>(c.at - start).count() << " s: " << c.from
        << " -> " << c.to << ", lags committed just before:";
      for (int64_t lag : lags) w << " " << lag;
      wrong.push_back(w.str());
    }
  }

  std::ostringstream report;
  report << "soak report: " << duration << " s, " << ticks << " ticks at 1 s\n";
  report << "fault windows:";
  for (const auto& [k, v] : fault_windows) report << " " << k << "=" << v;
  report << "\nscale actions: " << scaled << " (";
  for (const auto& [k, v] : scale_events) report << k << "=" << v << " ";
  report << "), PATCHes of /scale seen by the API server: " << patches << "\n";
  report << "errors by kind:";
  for (const auto& [k, v] : errors) report << " " << k << "=" << v;
  report << "\nRSS: start " << rss_start << " KiB, end " << rss_end << " KiB, growth "
         << (rss_end - rss_start) << " KiB\n";
  report << "load: " << (high - 10) << " messages per partition produced, " << load_failures
         << " produce/commit attempts of the load generator failed (reconnecting after faults)\n";
  report << "replica changes not judged (a produce had failed just before): " << unjudged << "\n";
  report << "wrong actions: " << wrong.size() << "\n";
  for (const auto& w : wrong) report << "  " << w << "\n";
  report << "recovered after the last fault: " << (recovered ? "yes" : "no")
         << "; exit on SIGTERM: " << (exit ? std::to_string(*exit) : "none") << "\n";
  std::cout << report.str();
  const char* path = std::getenv("KA_SOAK_REPORT");
  std::ofstream(path != nullptr ? path : "soak-report.txt") << report.str();

  EXPECT_TRUE(wrong.empty());
  EXPECT_GT(scaled, 10) << "the load did not make it scale";
  EXPECT_TRUE(recovered);
  EXPECT_EQ(exit, 0);
  EXPECT_GT(rss_start, 0);
  // No growth beyond a small bound: 8 MiB over the run (allocator noise, caches warm).
  EXPECT_LT(rss_end - rss_start, 8 * 1024) << "RSS grew";
  for (const char* kind : {"kafka_unavailable", "kube_unavailable", "kube_conflict"}) {
    EXPECT_GT(errors[kind], 0) << kind << " never counted: the schedule did not bite";
  }
}

}  // namespace
}  // namespace kafka_autoscaler::testing
