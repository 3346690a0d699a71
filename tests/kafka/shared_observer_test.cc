// SharedObserver against librdkafka's mock cluster: many targets, one client, one pass.
#include "kafka/shared_observer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "fakes/fake_clock.h"
#include "kafka/kafka_source.h"
#include "kafka/offsets.h"
#include "mock_cluster.h"

namespace kafka_autoscaler::kafka {
namespace {

using config::OffsetResetPolicy;
using std::chrono::milliseconds;
using testing::MockCluster;

constexpr int16_t kApiOffsetFetch = 9;  // RD_KAFKAP_OffsetFetch (rdkafka_protocol.h)
constexpr int16_t kApiFindCoordinator = 10;

std::string Unique(const std::string& prefix) {
  static std::atomic<int> n{0};
  return prefix + "-" + std::to_string(++n);
}

TargetQuery Target(std::vector<std::string> topics, std::optional<std::string> group = {},
                   OffsetResetPolicy reset = OffsetResetPolicy::kLatest) {
  TargetQuery t;
  t.key = Unique("ns/ks");
  t.topics = std::move(topics);
  t.group = std::move(group);
  t.offset_reset = reset;
  return t;
}

void ExpectSameObservation(const Observation& got, const Observation& want) {
  EXPECT_EQ(got.backlog, want.backlog);
  EXPECT_EQ(got.partition_count, want.partition_count);
  EXPECT_EQ(got.group_mode, want.group_mode);
  ASSERT_EQ(got.partitions.size(), want.partitions.size());
  for (size_t i = 0; i < got.partitions.size(); ++i) {
    SCOPED_TRACE(want.partitions[i].topic + "/" + std::to_string(want.partitions[i].partition));
    EXPECT_EQ(got.partitions[i].topic, want.partitions[i].topic);
    EXPECT_EQ(got.partitions[i].partition, want.partitions[i].partition);
    EXPECT_EQ(got.partitions[i].low, want.partitions[i].low);
    EXPECT_EQ(got.partitions[i].high, want.partitions[i].high);
    EXPECT_EQ(got.partitions[i].committed, want.partitions[i].committed);
    EXPECT_EQ(got.partitions[i].lag, want.partitions[i].lag);
  }
}

RequestCounts Minus(const RequestCounts& a, const RequestCounts& b) {
  return RequestCounts{a.metadata - b.metadata, a.list_offsets - b.list_offsets,
                       a.offset_fetch - b.offset_fetch, a.passes - b.passes,
                       a.clients_created - b.clients_created};
}

class SharedObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = MockCluster::Start(3);
    ASSERT_TRUE(cluster) << cluster.error().ToString();
    cluster_ = std::move(*cluster);
  }

  ClusterOptions Options() {
    ClusterOptions o;
    o.bootstrap_servers = cluster_->bootstrap();
    o.timeout = milliseconds(10'000);
    return o;
  }

  std::unique_ptr<SharedObserver> NewObserver(ClusterOptions o) {
    auto observer = SharedObserver::Create(std::move(o), clock_);
    EXPECT_TRUE(observer) << observer.error().ToString();
    return observer ? std::move(*observer) : nullptr;
  }
  std::unique_ptr<SharedObserver> NewObserver() { return NewObserver(Options()); }

  // What a separate KafkaMetricSource sees for `t`.
  Observation SingleSource(const TargetQuery& t) {
    KafkaSourceOptions o;
    o.bootstrap_servers = cluster_->bootstrap();
    o.topics = t.topics;
    o.topic_pattern = t.topic_pattern;
    o.group = t.group;
    o.offset_reset = t.offset_reset;
    o.timeout = milliseconds(10'000);
    auto source = KafkaMetricSource::Create(std::move(o), clock_);
    EXPECT_TRUE(source) << source.error().ToString();
    auto obs = (*source)->Fetch();
    EXPECT_TRUE(obs) << obs.error().ToString();
    return obs ? *obs : Observation{};
  }

  std::string TopicWith(const std::vector<int>& messages) {
    const std::string topic = Unique("t");
    auto s = cluster_->CreateTopicWith(topic, messages);
    EXPECT_TRUE(s) << s.error().ToString();
    return topic;
  }

  kafka_autoscaler::testing::FakeClock clock_;
  std::unique_ptr<MockCluster> cluster_;
};

TEST_F(SharedObserverTest, GivesWhatSeparateSourcesGiveForEachTarget) {
  const std::string a = TopicWith({10, 4, 7});
  const std::string b = TopicWith({3, 0});
  const std::string c = TopicWith({5, 5, 5, 5});
  const std::string g1 = Unique("g"), g2 = Unique("g"), g3 = Unique("g");
  ASSERT_TRUE(cluster_->Commit(g1, {{a, 0, 6}, {a, 1, 4}, {b, 0, 1}}));
  // c/3: a commit beyond the end (invalid: the reset policy applies).
  ASSERT_TRUE(cluster_->Commit(g2, {{c, 0, 5}, {c, 1, 2}, {c, 3, 99}}));
  const std::vector<TargetQuery> targets = {
      Target({a}, g1),                                // shared topic, shared group
      Target({a, b}, g1),                             // two topics, the same group
      Target({c}, g2, OffsetResetPolicy::kEarliest),  // invalid commit, earliest
      Target({c}, g2, OffsetResetPolicy::kLatest),    // the same, latest
      Target({b}),                                    // topic mode
      Target({c, a}, g3),                             // a group without commits
  };
  auto observer = NewObserver();
  clock_.Advance(std::chrono::seconds(7));
  const auto results = observer->Observe(targets);
  ASSERT_EQ(results.size(), targets.size());
  for (const auto& t : targets) {
    SCOPED_TRACE(t.key);
    const auto& got = results.at(t.key);
    ASSERT_TRUE(got) << got.error().ToString();
    ExpectSameObservation(*got, SingleSource(t));
    EXPECT_EQ(got->at, clock_.Now());
  }
  // The same with an all-topics Metadata request (a batch naming more topics than
  // max_listed_topics).
  auto o = Options();
  o.max_listed_topics = 1;
  auto wide = NewObserver(o);
  const auto wide_results = wide->Observe(targets);
  for (const auto& t : targets) {
    SCOPED_TRACE("all topics: " + t.key);
    const auto& got = wide_results.at(t.key);
    ASSERT_TRUE(got) << got.error().ToString();
    ExpectSameObservation(*got, *results.at(t.key));
  }
  // Spot checks against the lag rules themselves.
  EXPECT_EQ(results.at(targets[0].key)->backlog, 4 + 0 + 1);  // a/2: no commit, latest
  EXPECT_EQ(results.at(targets[2].key)->backlog, 0 + 3 + 5 + 5);
  EXPECT_EQ(results.at(targets[4].key)->backlog, 3);
  const RequestCounts counts = observer->stats();
  EXPECT_EQ(counts.passes, 1);
  EXPECT_EQ(counts.metadata, 1);
  EXPECT_EQ(counts.offset_fetch, 3);  // g1, g2, g3 once each
}

TEST_F(SharedObserverTest, TwoTargetsOnOneTopicAndGroupCostWhatOneCosts) {
  const std::string topic = TopicWith({1, 2, 3, 4, 5, 6});
  const std::string group = Unique("g");
  ASSERT_TRUE(cluster_->Commit(group, {{topic, 0, 1}}));
  auto one = NewObserver();
  auto two = NewObserver();
  // Warm both (leaders, coordinators), then measure one pass each.
  const TargetQuery t1 = Target({topic}, group), t2 = Target({topic}, group);
  ASSERT_TRUE(one->Observe({t1}).at(t1.key));
  ASSERT_TRUE(two->Observe({t1, t2}).at(t2.key));
  const RequestCounts before_one = one->stats(), before_two = two->stats();
  const auto r1 = one->Observe({t1});
  const auto r2 = two->Observe({t1, t2});
  ASSERT_TRUE(r1.at(t1.key));
  ASSERT_TRUE(r2.at(t1.key));
  ASSERT_TRUE(r2.at(t2.key));
  ExpectSameObservation(*r2.at(t2.key), *r1.at(t1.key));
  const RequestCounts d1 = Minus(one->stats(), before_one), d2 = Minus(two->stats(), before_two);
  EXPECT_EQ(d2.metadata, d1.metadata);
  EXPECT_EQ(d2.list_offsets, d1.list_offsets);
  EXPECT_EQ(d2.offset_fetch, d1.offset_fetch);
  EXPECT_EQ(d2.offset_fetch, 1);
  EXPECT_EQ(d2.metadata, 1);
  EXPECT_LE(d2.list_offsets, 2 * 3);  // latest + earliest, at most one per broker
}

TEST_F(SharedObserverTest, AMissingTopicFailsOnlyItsTarget) {
  const std::string good = TopicWith({2, 2});
  const std::string missing = Unique("missing");
  cluster_->SetTopicError(missing, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  const std::string group = Unique("g");
  ASSERT_TRUE(cluster_->Commit(group, {{good, 0, 1}}));
  const TargetQuery ok1 = Target({good}, group), bad = Target({good, missing}, group),
                    ok2 = Target({good});
  auto observer = NewObserver();
  const auto results = observer->Observe({ok1, bad, ok2});
  ASSERT_TRUE(results.at(ok1.key)) << results.at(ok1.key).error().ToString();
  ASSERT_TRUE(results.at(ok2.key)) << results.at(ok2.key).error().ToString();
  EXPECT_EQ(results.at(ok1.key)->backlog, 1 + 1);  // good/1: no commit, latest
  EXPECT_EQ(results.at(ok2.key)->backlog, 4);
  ASSERT_FALSE(results.at(bad.key));
  EXPECT_EQ(results.at(bad.key).error().code, ErrorCode::kNotFound);
  EXPECT_NE(results.at(bad.key).error().message.find(missing), std::string::npos)
      << results.at(bad.key).error().ToString();
}

// The same when the Metadata request asks for all topics: a listed topic absent from the
// cluster's list is kNotFound.
TEST_F(SharedObserverTest, ATopicAbsentFromAllTopicsMetadataFailsOnlyItsTarget) {
  const std::string good = TopicWith({2, 2});
  const TargetQuery ok = Target({good}), bad = Target({good, Unique("absent")});
  auto o = Options();
  o.max_listed_topics = 1;
  auto observer = NewObserver(o);
  const auto results = observer->Observe({ok, bad});
  ASSERT_TRUE(results.at(ok.key)) << results.at(ok.key).error().ToString();
  EXPECT_EQ(results.at(ok.key)->backlog, 4);
  ASSERT_FALSE(results.at(bad.key));
  EXPECT_EQ(results.at(bad.key).error().code, ErrorCode::kNotFound)
      << results.at(bad.key).error().ToString();
}

TEST_F(SharedObserverTest, AnInvalidTargetFailsOnlyItself) {
  const std::string topic = TopicWith({3});
  TargetQuery no_topics = Target({});
  TargetQuery bad_pattern = Target({});
  bad_pattern.topic_pattern = "(";
  const TargetQuery ok = Target({topic});
  auto observer = NewObserver();
  const auto results = observer->Observe({no_topics, bad_pattern, ok});
  EXPECT_EQ(results.at(no_topics.key).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(results.at(bad_pattern.key).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(results.at(ok.key));
  EXPECT_EQ(results.at(ok.key)->backlog, 3);
}

TEST_F(SharedObserverTest, PatternTargetMatchesTheSingleSource) {
  const std::string prefix = Unique("orders");
  ASSERT_TRUE(cluster_->CreateTopic(prefix + "-us", 2));
  ASSERT_TRUE(cluster_->CreateTopic(prefix + "-eu", 3));
  ASSERT_TRUE(cluster_->ProduceEach(prefix + "-eu", 3, 4));
  ASSERT_TRUE(cluster_->ProduceEach(prefix + "-us", 2, 5));
  const std::string other = TopicWith({9});
  const std::string group = Unique("g");
  ASSERT_TRUE(cluster_->Commit(group, {{prefix + "-eu", 0, 4}, {prefix + "-us", 1, 2}}));
  TargetQuery pattern = Target({}, group, OffsetResetPolicy::kEarliest);
  pattern.topic_pattern = prefix + "-.*";
  TargetQuery none = Target({});
  none.topic_pattern = Unique("nothing") + "-.*";
  const TargetQuery listed = Target({other});
  auto observer = NewObserver();
  const auto results = observer->Observe({pattern, none, listed});
  ASSERT_TRUE(results.at(pattern.key)) << results.at(pattern.key).error().ToString();
  ExpectSameObservation(*results.at(pattern.key), SingleSource(pattern));
  EXPECT_EQ(results.at(pattern.key)->partition_count, 5);
  EXPECT_EQ(results.at(pattern.key)->backlog, (0 + 4 + 4) + (5 + 3));
  ASSERT_FALSE(results.at(none.key));
  EXPECT_EQ(results.at(none.key).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(results.at(listed.key));
  EXPECT_EQ(results.at(listed.key)->backlog, 9);
  EXPECT_EQ(observer->stats().metadata, 1);  // one all-topics request serves every target
}

// The set a pattern matches is logged once per change for every target sharing the pattern
// (not once per target, not once per pass), with the cluster's name; a listed target logs none.
TEST_F(SharedObserverTest, APatternsTopicsAreLoggedOncePerChange) {
  const std::string prefix = Unique("orders");
  ASSERT_TRUE(cluster_->CreateTopic(prefix + "-eu", 2));
  TargetQuery a = Target({});
  a.topic_pattern = prefix + "-.*";
  TargetQuery b = Target({}, Unique("g"));
  b.topic_pattern = a.topic_pattern;
  const TargetQuery listed = Target({TopicWith({1})});
  std::ostringstream out;
  Logger log(clock_, out, LogLevel::kInfo, LogFormat::kJson);
  auto o = Options();
  o.name = "edge";
  auto observer = SharedObserver::Create(std::move(o), clock_, &log);
  ASSERT_TRUE(observer) << observer.error().ToString();
  auto changes = [&] {
    std::vector<nlohmann::json> lines;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("msg", "") == "kafka: topics matching the pattern changed") {
        lines.push_back(j);
      }
    }
    return lines;
  };
  auto pass = [&] {
    for (const auto& [key, result] : (*observer)->Observe({a, b, listed})) {
      EXPECT_TRUE(result) << key << ": " << result.error().ToString();
    }
  };
  pass();
  pass();
  auto lines = changes();
  ASSERT_EQ(lines.size(), 1u) << out.str();
  EXPECT_EQ(lines[0].value("pattern", ""), "re:" + prefix + "-.*");
  EXPECT_EQ(lines[0].value("topics", ""), prefix + "-eu");
  EXPECT_EQ(lines[0].value("added", ""), prefix + "-eu");
  EXPECT_EQ(lines[0].value("removed", ""), "");
  EXPECT_EQ(lines[0].value("cluster", ""), "edge");

  ASSERT_TRUE(cluster_->CreateTopic(prefix + "-us", 3));
  pass();
  pass();
  lines = changes();
  ASSERT_EQ(lines.size(), 2u) << out.str();
  EXPECT_EQ(lines[1].value("topics", ""), prefix + "-eu," + prefix + "-us");
  EXPECT_EQ(lines[1].value("added", ""), prefix + "-us");
  EXPECT_EQ(lines[1].value("removed", ""), "");
}

TEST_F(SharedObserverTest, AllBrokersDownFailsEveryTarget) {
  const std::string topic = TopicWith({1});
  const TargetQuery t1 = Target({topic}), t2 = Target({topic}, Unique("g"));
  auto o = Options();
  o.timeout = milliseconds(1500);
  auto observer = NewObserver(o);
  for (int32_t b = 1; b <= 3; ++b) ASSERT_TRUE(cluster_->SetBrokerDown(b));
  const auto results = observer->Observe({t1, t2});
  for (const auto* t : {&t1, &t2}) {
    ASSERT_FALSE(results.at(t->key));
    EXPECT_TRUE(IsRetryable(results.at(t->key).error().code))
        << results.at(t->key).error().ToString();
  }
  for (int32_t b = 1; b <= 3; ++b) ASSERT_TRUE(cluster_->SetBrokerUp(b));
  // Recovers (from a new client) once the brokers are back.
  Result<Observation> after = MakeError(ErrorCode::kInternal, "not tried");
  for (int i = 0; i < 20 && !after; ++i) after = observer->Observe({t1}).at(t1.key);
  ASSERT_TRUE(after) << after.error().ToString();
  EXPECT_EQ(after->backlog, 1);
  EXPECT_GE(observer->stats().clients_created, 2);
}

// Requests per pass grow with brokers and groups, not with targets × partitions: N targets,
// each with its own 12-partition topic and group, on 3 brokers. The counts are cross-checked
// with librdkafka's own per-broker request statistics.
TEST_F(SharedObserverTest, RequestsPerPassAreOBrokersPlusGroups) {
  constexpr int kTargets = 40;
  constexpr int kPartitions = 12;
  std::vector<TargetQuery> targets;
  for (int i = 0; i < kTargets; ++i) {
    const std::string topic = Unique("many");
    ASSERT_TRUE(cluster_->CreateTopic(topic, kPartitions));
    // Producing to a new topic costs the producer a metadata round (~1 s on the mock): only a
    // few topics hold messages.
    if (i % 10 == 0) {
      ASSERT_TRUE(cluster_->Produce(topic, i % kPartitions, 1 + i));
    }
    targets.push_back(Target({topic}, Unique("g")));
  }
  std::mutex mu;
  std::optional<nlohmann::json> last_stats;
  auto o = Options();
  o.properties.entries.push_back({"statistics.interval.ms", "100"});
  o.on_statistics = [&](std::string_view json) {
    std::lock_guard lock(mu);
    last_stats = nlohmann::json::parse(json);
  };
  auto observer = NewObserver(o);
  for (int pass = 0; pass < 3; ++pass) {
    const auto results = observer->Observe(targets);
    for (int i = 0; i < kTargets; ++i) {
      const auto& r = results.at(targets[static_cast<size_t>(i)].key);
      ASSERT_TRUE(r) << r.error().ToString();
      // No commits, latest: 1 for the partition holding messages.
      EXPECT_EQ(r->backlog, i % 10 == 0 ? 1 : 0);
    }
  }
  const RequestCounts counts = observer->stats();
  const int64_t chunks = (kTargets * kPartitions + 249) / 250;
  EXPECT_EQ(counts.passes, 3);
  EXPECT_EQ(counts.metadata, 3);
  EXPECT_EQ(counts.offset_fetch, 3 * kTargets);  // one per group per pass
  // Chunks hold one leader's partitions each: per pass and direction (latest, earliest) at
  // most chunks + brokers requests, i.e. O(brokers + partitions / 250), never brokers × chunks.
  EXPECT_LE(counts.list_offsets, 3 * 2 * (chunks + 3));
  EXPECT_GE(counts.list_offsets, 3 * 2 * chunks);

  // librdkafka's statistics: the sum over brokers of requests sent, by API. They are emitted
  // every 100 ms and served at the start of a pass: wait for one taken after the passes.
  int64_t list_offsets = -1, offset_fetch = -1, metadata = -1;
  for (int i = 0; i < 100; ++i) {
    std::this_thread::sleep_for(milliseconds(150));
    {
      std::lock_guard lock(mu);
      last_stats.reset();
    }
    std::this_thread::sleep_for(milliseconds(250));
    (void)observer->Observe({});  // serves librdkafka's callbacks; asks Kafka nothing
    std::lock_guard lock(mu);
    if (!last_stats) continue;
    list_offsets = offset_fetch = metadata = 0;
    for (const auto& [name, broker] : (*last_stats)["brokers"].items()) {
      const auto& req = broker["req"];
      list_offsets += req.value("ListOffsets", 0);
      offset_fetch += req.value("OffsetFetch", 0);
      metadata += req.value("Metadata", 0);
    }
    if (list_offsets == counts.list_offsets && offset_fetch == counts.offset_fetch) break;
  }
  EXPECT_EQ(list_offsets, counts.list_offsets);
  EXPECT_EQ(offset_fetch, counts.offset_fetch);
  // librdkafka adds Metadata requests of its own (bootstrap, leader lookups, new topics).
  EXPECT_GE(metadata, counts.metadata);
}

// librdkafka#5040 on 2.0.2: an OffsetFetch answered NOT_COORDINATOR makes
// rd_kafka_handle_OffsetFetch ask the handle's own consumer group (rk_cgrp) for a coordinator
// query; without a group.id that pointer is null and the process dies. The observer's handle
// carries a group.id of its own for this reason. This test shows the crash on a bare handle.
// Under ASan and TSan too the child dies of the signal itself (measured 1 Dec 2026: status
// SIGSEGV, no sanitizer report), so every build runs this test.
TEST(SharedObserverDeathTest, AdminOffsetFetchOnAHandleWithoutGroupIdDiesOnNotCoordinator) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto cluster = MockCluster::Start(1);
        if (!cluster) std::exit(2);
        const std::string topic = "t5040";
        if (!(*cluster)->CreateTopic(topic, 1)) std::exit(3);
        auto client = KafkaClient::Create((*cluster)->bootstrap(), {}, nullptr);  // no group.id
        if (!client) std::exit(4);
        (*cluster)->PushRequestErrors(kApiOffsetFetch, RD_KAFKA_RESP_ERR_NOT_COORDINATOR, 5);
        GroupCommitsRequest request((*client)->handle(),
                                    std::chrono::steady_clock::now() + std::chrono::seconds(10));
        PartitionList list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), 0);
        request.Add("some-group", std::move(list));
        (void)request.Wait();
        std::fprintf(stderr, "survived NOT_COORDINATOR\n");
        std::exit(0);  // not a death: the test fails
      },
      ::testing::KilledBySignal(SIGSEGV), "");
}

// The same fault on the observer (its handle has a group.id): it survives, asks that group
// again within the deadline, and every target, of that group or another, gets its observation.
// KafkaSourceTest.ACommitReadAfterTheWatermarkIsNoInvalidCommit, for many targets: the union's
// watermark is asked again where a group's commit lies beyond it, and a commit beyond the new
// one too is still invalid.
TEST_F(SharedObserverTest, ACommitReadAfterTheWatermarkIsNoInvalidCommit) {
  const std::string topic = TopicWith({10, 4});
  const std::string keeps_up = Unique("g"), behind = Unique("g"), reset = Unique("g");
  ASSERT_TRUE(cluster_->Commit(keeps_up, {{topic, 0, 10}, {topic, 1, 4}}));
  ASSERT_TRUE(cluster_->Commit(behind, {{topic, 0, 2}, {topic, 1, 4}}));
  ASSERT_TRUE(cluster_->Commit(reset, {{topic, 0, 10}, {topic, 1, 9}}));  // 1: past the end
  const std::vector<TargetQuery> targets = {Target({topic}, keeps_up, OffsetResetPolicy::kEarliest),
                                            Target({topic}, behind, OffsetResetPolicy::kEarliest),
                                            Target({topic}, reset, OffsetResetPolicy::kEarliest)};
  // The observer's coordinator lookups are answered 2 s late: the commits are read after the
  // group that keeps up consumed and committed 5 more (every lookup of the first seconds, as in
  // KafkaSourceTest.ACommitReadAfterTheWatermarkIsNoInvalidCommit).
  ASSERT_TRUE(cluster_->DelayNextRequests(kApiFindCoordinator, 2000, MockCluster::kEarlyRequests));
  auto observer = NewObserver();
  std::thread consumer([&] {
    std::this_thread::sleep_for(milliseconds(1000));
    EXPECT_TRUE(cluster_->Produce(topic, 0, 5));
    EXPECT_TRUE(cluster_->Commit(keeps_up, {{topic, 0, 15}}));
  });
  const auto results = observer->Observe(targets);
  consumer.join();
  std::vector<Observation> got;
  for (const auto& t : targets) {
    const auto& r = results.at(t.key);
    ASSERT_TRUE(r) << r.error().ToString();
    got.push_back(*r);
  }
  EXPECT_EQ(got[0].partitions[0].committed, 15);
  EXPECT_EQ(got[0].partitions[0].high, 15);
  EXPECT_EQ(got[0].backlog, 0);
  EXPECT_EQ(InvalidCommitPartitions(got[0]), 0);
  EXPECT_EQ(got[1].backlog, 15 - 2);         // the newer watermark for every target
  EXPECT_EQ(got[2].backlog, (15 - 10) + 4);  // earliest: partition 1 held 4, still past the end
  EXPECT_EQ(InvalidCommitPartitions(got[2]), 1);
}

TEST_F(SharedObserverTest, SurvivesNotCoordinatorAndRetriesThatGroup) {
  const std::string topic = TopicWith({5, 5});
  const std::string g1 = Unique("g"), g2 = Unique("g"), g3 = Unique("g");
  ASSERT_TRUE(cluster_->Commit(g1, {{topic, 0, 1}, {topic, 1, 1}}));
  ASSERT_TRUE(cluster_->Commit(g2, {{topic, 0, 2}, {topic, 1, 2}}));
  ASSERT_TRUE(cluster_->Commit(g3, {{topic, 0, 3}, {topic, 1, 3}}));
  const std::vector<TargetQuery> targets = {Target({topic}, g1), Target({topic}, g2),
                                            Target({topic}, g3)};
  auto observer = NewObserver();
  cluster_->PushRequestErrors(kApiOffsetFetch, RD_KAFKA_RESP_ERR_NOT_COORDINATOR, 2);
  const auto results = observer->Observe(targets);
  for (size_t i = 0; i < targets.size(); ++i) {
    const auto& r = results.at(targets[i].key);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->backlog, 2 * (5 - static_cast<int64_t>(i + 1)));
  }
  EXPECT_EQ(observer->stats().offset_fetch, 3 + 2);  // two groups asked again
}

// The child's part of the test below: exits 0 once the group's commits are read again.
[[noreturn]] void ObserveThroughACoordinatorComingBack() {
  auto cluster = MockCluster::Start(3);
  if (!cluster) std::exit(2);
  MockCluster& c = **cluster;
  const std::string topic = "t4605", group = "g4605";
  if (!c.CreateTopicWith(topic, {5, 5})) std::exit(3);
  for (int32_t p = 0; p < 2; ++p) {
    if (!c.SetLeader(topic, p, 1)) std::exit(4);
  }
  if (!c.Commit(group, {{topic, 0, 1}, {topic, 1, 1}})) std::exit(5);
  if (!c.SetGroupCoordinator(group, 3)) std::exit(6);
  kafka_autoscaler::testing::FakeClock clock;
  ClusterOptions o;
  o.bootstrap_servers = c.bootstrap();
  o.timeout = milliseconds(1'000);
  Logger log(clock, std::cerr, LogLevel::kInfo, LogFormat::kJson);
  auto observer = SharedObserver::Create(std::move(o), clock, &log);
  if (!observer) std::exit(7);
  TargetQuery t;
  t.key = "ns/ks";
  t.topics = {topic};
  t.group = group;
  // A topic-mode target beside it keeps the pass from failing whole (a whole failure makes the
  // next pass start from a new client, which would drop the lingering request).
  TargetQuery other;
  other.key = "ns/other";
  other.topics = {topic};
  // A first pass with every broker up: the client knows the brokers and the coordinator.
  const auto warm = (*observer)->Observe({t, other}).at(t.key);
  if (!warm || warm->backlog != 8) std::exit(8);
  if (!c.SetBrokerDown(3)) std::exit(9);
  std::this_thread::sleep_for(milliseconds(500));  // the client sees the connection close
  const auto down = (*observer)->Observe({t, other});
  std::fprintf(stderr, "coordinator down: %s; other target: %s\n",
               down.at(t.key) ? "observed" : down.at(t.key).error().ToString().c_str(),
               down.at(other.key) ? "observed" : down.at(other.key).error().ToString().c_str());
  if (down.at(t.key) || !down.at(other.key)) std::exit(10);
  if (!c.SetBrokerUp(3)) std::exit(11);
  // Passes until the group's commits are read again (the coordinator's connection is back
  // within librdkafka's reconnect backoff).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < until) {
    const auto up = (*observer)->Observe({t, other}).at(t.key);
    if (up && up->backlog == 8) {
      std::fprintf(stderr, "coordinator back: backlog %lld\n", static_cast<long long>(up->backlog));
      std::exit(0);
    }
    std::this_thread::sleep_for(milliseconds(200));
  }
  std::exit(12);
}

// librdkafka#4605 on 2.0.2: an admin coordinator request (ListConsumerGroupOffsets) that times
// out while it still waits for its coordinator's connection leaves librdkafka's coordinator
// request behind; when that broker comes up, the request frees the admin op's `eonce` and then
// reads it again (rd_kafka_enq_once_del_source_return: Assertion 'eonce->refcnt > 0'). Here the
// group's coordinator is down through one pass and up again after it. Run in a child process,
// so that an abort fails this test and not the whole binary.
TEST(SharedObserverDeathTest, ACoordinatorThatComesBackAfterAPassTimedOutIsSurvived) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // The pass that gave up on the group made the next one start from a new client, and said so.
  EXPECT_EXIT(ObserveThroughACoordinatorComingBack(), ::testing::ExitedWithCode(0),
              "recreated the shared client.*still being read at the deadline.*"
              "coordinator back: backlog 8");
}

// A group-level failure that no retry cures fails only that group's targets.
TEST_F(SharedObserverTest, AGroupNotAuthorizedFailsOnlyItsTargets) {
  const std::string topic = TopicWith({5, 5});
  const std::string g1 = Unique("g"), g2 = Unique("g");
  const std::vector<TargetQuery> targets = {Target({topic}, g1), Target({topic}, g2),
                                            Target({topic})};
  auto observer = NewObserver();
  ASSERT_TRUE(observer->Observe(targets).at(targets[0].key));  // coordinators known
  cluster_->PushRequestErrors(kApiOffsetFetch, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, 1);
  const auto results = observer->Observe(targets);
  int denied = 0;
  for (size_t i = 0; i < 2; ++i) {
    const auto& r = results.at(targets[i].key);
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied) << r.error().ToString();
      ++denied;
    } else {
      EXPECT_EQ(r->backlog, 2);  // latest, no commits: 1 per partition holding messages
    }
  }
  EXPECT_EQ(denied, 1);
  ASSERT_TRUE(results.at(targets[2].key));
  EXPECT_EQ(results.at(targets[2].key)->backlog, 10);
}

}  // namespace
}  // namespace kafka_autoscaler::kafka
