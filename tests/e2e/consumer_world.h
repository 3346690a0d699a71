// A consumer group emulated in real time against a Kafka cluster (librdkafka's mock or real
// brokers) and the test API server, for end-to-end tests of policies that learn from the load:
// messages arrive at a fixed rate, round-robin over the partitions; every ready pod consumes a
// fixed rate, from the partitions most behind, and the group commits what it consumed (the
// admin OffsetCommit, as a consumer would); pods the Deployment adds are ready `startup` after
// the count rose (status.readyReplicas through the API server's ready limit), removed ones
// leave at once. Nothing tells the daemon the rates: it sees offsets, commits and
// readyReplicas, as in a cluster. Step() brings the world to now; call it every ~100 ms.
//
// Thread-safety: one test thread drives it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/test_apiserver.h"
#include "test_client.h"

namespace kafka_autoscaler::testing {

class ConsumerWorld {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::string topic;
    std::string group;
    std::string ns;
    std::string deployment;
    int partitions = 1;
    double arrivals = 0;  // messages per second
    double pod_rate = 0;  // messages per second one ready pod consumes
    std::chrono::milliseconds startup{3000};
  };

  ConsumerWorld(kafka::testing::KafkaTestClient& kafka, TestApiServer& api, Options o)
      : kafka_(kafka),
        api_(api),
        o_(std::move(o)),
        high_(static_cast<size_t>(o_.partitions), 0),
        done_(static_cast<size_t>(o_.partitions), 0),
        start_(Clock::now()),
        last_(start_) {}

  // Produces what arrived, updates readiness and commits what the ready pods consumed since the
  // last step. False (see error()) when Kafka or the API server refused.
  bool Step() {
    const auto now = Clock::now();
    Worst(longest_gap_, now - last_, "between steps", now);
    if (!Produce(now)) return false;
    Worst(longest_call_, Clock::now() - now, "producing", now);
    if (!Pods(now)) return false;
    budget_ += std::min(ready_, o_.partitions) * o_.pod_rate * Seconds(now - last_);
    last_ = now;
    bool moved = false;
    while (budget_ >= 1) {
      size_t most = 0;
      for (size_t p = 1; p < high_.size(); ++p) {
        if (high_[p] - done_[p] > high_[most] - done_[most]) most = p;
      }
      if (high_[most] == done_[most]) {
        budget_ = 0;  // idle pods do not bank work
        break;
      }
      ++done_[most];
      budget_ -= 1;
      moved = true;
    }
    if (!moved) return true;
    std::vector<kafka::testing::CommitOffset> offsets;
    for (int p = 0; p < o_.partitions; ++p) {
      offsets.push_back({o_.topic, p, done_[static_cast<size_t>(p)]});
    }
    const auto commit_at = Clock::now();
    if (auto s = kafka_.Commit(o_.group, offsets); !s) return Fail("commit: " + s.error().message);
    Worst(longest_call_, Clock::now() - commit_at, "committing", now);
    return true;
  }
  // The world's own stalls, for a failure's message: the longest time between two steps and
  // the longest produce or commit, each with when its step began (seconds after the start). While
  // the world stalls nothing arrives nor is consumed; the next step produces the stall's worth
  // at once, which the daemon may see before its commit.
  std::string stalls() const {
    return "world: longest between steps " + longest_gap_.what + ", longest call " +
           longest_call_.what;
  }

  // Steps every 100 ms until the count is at least `needed` and has not changed for
  // `at_rest`, or `at_most` passed (then at_rest() is false); stops on an error.
  void RunUntilAtRest(int needed, Clock::duration at_rest, Clock::duration at_most) {
    auto changed_at = Clock::now();
    int count = replicas_;
    while (Clock::now() - start_ < at_most && Step()) {
      if (replicas_ != count) {
        count = replicas_;
        changed_at = last_;
        rest_max_backlog_ = 0;
      }
      rest_max_backlog_ = std::max(rest_max_backlog_, backlog());
      if (count >= needed && last_ - changed_at >= at_rest) {
        at_rest_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  bool at_rest() const { return at_rest_; }
  // The most waiting at any step since the count last changed.
  int64_t rest_max_backlog() const { return rest_max_backlog_; }

  int replicas() const { return replicas_; }  // spec.replicas at the last step
  int64_t backlog() const {
    int64_t b = 0;
    for (size_t p = 0; p < high_.size(); ++p) b += high_[p] - done_[p];
    return b;
  }
  Clock::duration elapsed() const { return last_ - start_; }
  const std::string& error() const { return error_; }

 private:
  static double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
  struct Stall {
    Clock::duration longest{};
    std::string what = "none";
  };
  void Worst(Stall& s, Clock::duration d, const char* doing, Clock::time_point at) {
    if (d <= s.longest) return;
    s.longest = d;
    s.what = std::to_string(Seconds(d)) + " s " + doing + " at " +
             std::to_string(Seconds(at - start_)) + " s";
  }
  bool Fail(std::string e) {
    error_ = std::move(e);
    return false;
  }
  bool Produce(Clock::time_point now) {
    const auto due = static_cast<int64_t>(o_.arrivals * Seconds(now - start_));
    std::vector<int> add(static_cast<size_t>(o_.partitions), 0);
    for (; produced_ < due; ++produced_) {
      ++add[static_cast<size_t>(produced_ % o_.partitions)];
    }
    for (int p = 0; p < o_.partitions; ++p) {
      const auto i = static_cast<size_t>(p);
      if (add[i] == 0) continue;
      if (auto s = kafka_.Produce(o_.topic, p, add[i]); !s) {
        return Fail("produce: " + s.error().message);
      }
      high_[i] += add[i];
    }
    return true;
  }
  bool Pods(Clock::time_point now) {
    const auto d = api_.Deployment(o_.ns, o_.deployment);
    if (!d) return Fail("no Deployment " + o_.ns + "/" + o_.deployment);
    replicas_ = (*d)["spec"]["replicas"].get<int>();
    if (replicas_ <= ready_) {
      ready_ = replicas_;
      adding_since_.reset();
    } else if (!adding_since_) {
      adding_since_ = now;
    } else if (now - *adding_since_ >= o_.startup) {
      ready_ = replicas_;
      adding_since_.reset();
    }
    if (!api_.SetReadyLimit(o_.ns, o_.deployment, ready_)) return Fail("ready limit refused");
    return true;
  }

  kafka::testing::KafkaTestClient& kafka_;
  TestApiServer& api_;
  Options o_;
  std::vector<int64_t> high_, done_;  // per partition: produced, consumed (committed)
  Clock::time_point start_, last_;
  std::optional<Clock::time_point> adding_since_;
  int64_t produced_ = 0;
  double budget_ = 0;  // messages the ready pods may still consume
  int replicas_ = 1;
  int ready_ = 1;
  bool at_rest_ = false;
  int64_t rest_max_backlog_ = 0;
  Stall longest_gap_, longest_call_;
  std::string error_;
};

// The run both end-to-end tests of SCALING_POLICY=wait make (the mock cluster's and the real
// broker's): 40 msg/s on pods of 16 msg/s (3 keep up), W 10 s, 2 s ticks, at most 6 pods.
struct WaitRun {
  static constexpr double kArrivals = 40, kPodRate = 16;
  static constexpr int kNeeded = 3;  // ceil(40 / 16)
  static constexpr int kMaxReplicas = 6;
  static constexpr int kTargetWaitSeconds = 10;
  // The daemon's settings on top of the test's own: the seed rule (until a pod's rate is known)
  // keeps one pod; so would the lag rule COST_CEILING holds the count to, which is off: the
  // wait rule alone learns and decides here.
  static std::map<std::string, std::string> Env() {
    return {{"SCALING_POLICY", "wait"},
            {"TARGET_WAIT_SECONDS", std::to_string(kTargetWaitSeconds)},
            {"SCALE_INTERVAL_SECONDS", "2"},
            {"MESSAGES_PER_POD", "100000"},
            {"COST_CEILING", "0"},
            {"IDLE_REPLICAS", "1"},
            {"MAX_REPLICAS", std::to_string(kMaxReplicas)}};
  }
  // Where the world came to rest: a count that keeps up, within the maximum, and never more
  // waiting than the target's worth of arrivals since it last changed.
  static void ExpectAtRest(const ConsumerWorld& world) {
    ASSERT_TRUE(world.error().empty()) << world.error();
    EXPECT_TRUE(world.at_rest()) << "at " << world.replicas() << " after "
                                 << std::chrono::duration<double>(world.elapsed()).count() << " s";
    EXPECT_GE(world.replicas(), kNeeded);
    EXPECT_LE(world.replicas(), kMaxReplicas);
    EXPECT_LE(world.rest_max_backlog(), static_cast<int64_t>(kArrivals * kTargetWaitSeconds));
  }
};

// What a run of SCALING_POLICY=wait against a ConsumerWorld must show in the daemon's
// "scaled deployment" lines and the Events: at most one probe (up, the probe, its answer, and
// one more change for a noisy sample), and a first change that is the jump, decided by the
// wait policy on the rates it measured from offsets and commits (each within 25 %, 40 % in a
// sanitizer build: a tick's window and the world's steps do not line up; their ratio within
// 15 %), which the Event explains.
inline void ExpectWaitPolicyJumpedOnceAndSaidWhy(const std::vector<nlohmann::json>& scaled,
                                                 const std::vector<nlohmann::json>& events,
                                                 double arrivals, double pod_rate,
                                                 int needed) {
  std::string story;
  for (const auto& l : scaled) story += l.dump() + "\n";
  ASSERT_FALSE(scaled.empty());
  // In a sanitizer build one more: the probe's answer sized for the larger pile a slow probe
  // left, then down to the count that keeps up (an ASan run: 1→5, 5→3, 3→2, 2→4, 4→3).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr size_t kMostChanges = 5;
#else
  constexpr size_t kMostChanges = 4;
#endif
  EXPECT_LE(scaled.size(), kMostChanges) << "flapping\n" << story;
  EXPECT_EQ(scaled[0]["from"], 1) << story;
  EXPECT_GE(scaled[0]["to"].get<int>(), needed) << story;
  EXPECT_EQ(scaled[0]["reason"], "wait") << story;
  EXPECT_EQ(scaled[0]["why"], "up") << story;
  // Both rates are offsets over the time between two observations, so a late or early
  // observation (a slow sanitizer build: a TSan run read both 26 % high) moves them alike; their
  // ratio, the pods the load needs, is what the decision rests on.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr double kEach = 0.4;
#else
  constexpr double kEach = 0.25;
#endif
  const double mu = scaled[0]["per_pod_rate"].get<double>();
  const double lambda = scaled[0]["arrival_rate"].get<double>();
  EXPECT_NEAR(mu, pod_rate, kEach * pod_rate) << story;
  EXPECT_NEAR(lambda, arrivals, kEach * arrivals) << story;
  EXPECT_NEAR(lambda / mu, arrivals / pod_rate, 0.15 * arrivals / pod_rate) << story;
  EXPECT_GT(scaled[0]["predicted_peak_wait_seconds"].get<double>(), 10) << story;
  bool explained = false;
  for (const auto& e : events) {
    explained |= e["reason"] == "ScaledUp" &&
                 e.value("message", "").find("wait policy: up (") != std::string::npos;
  }
  EXPECT_TRUE(explained) << "no ScaledUp Event says why";
}

}  // namespace kafka_autoscaler::testing
