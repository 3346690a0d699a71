// ShardCoordinator against the test API server's Leases, on a fake clock: the split, joining,
// a replica that stops (SIGKILL or cut off), and a release on SIGTERM. At every moment no shard
// is owned by two replicas.
#include "kube/shards.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "kube/server_fixture.h"

namespace kafka_autoscaler::testing {
namespace {

TEST(ShardOfTest, StableAcrossBuildsAndSpreadsTargets) {
  // The values are part of the contract: during a rolling update old and new replicas must agree.
  EXPECT_EQ(kube::ShardOf("prod/orders", 16), kube::ShardOf("prod/orders", 16));
  EXPECT_EQ(kube::ShardOf("", 16), static_cast<int>(14695981039346656037ull % 16));
  std::vector<int> counts(16);
  for (int i = 0; i < 3000; ++i)
    ++counts[kube::ShardOf("ns-" + std::to_string(i % 7) + "/t-" + std::to_string(i), 16)];
  for (int c : counts) {
    EXPECT_GT(c, 3000 / 16 / 2);
    EXPECT_LT(c, 3000 / 16 * 2);
  }
}

class ShardsTest : public ServerFixture {
 protected:
  std::unique_ptr<kube::ShardCoordinator> Replica(const std::string& identity,
                                                  kube::Client* client = nullptr) {
    kube::ShardOptions options{.shards = 16, .namespace_name = "prod", .identity = identity};
    auto c = kube::ShardCoordinator::Create(client != nullptr ? *client : *client_, options, clock_,
                                            log_);
    EXPECT_TRUE(c) << c.error().message;
    return c ? std::move(*c) : nullptr;
  }
  // No shard owned by two replicas; returns how many are owned in all.
  static int CheckDisjoint(const std::vector<kube::ShardCoordinator*>& replicas) {
    std::set<int> owned;
    for (auto* r : replicas) {
      for (int s : r->Held()) {
        EXPECT_TRUE(owned.insert(s).second) << "shard " << s << " owned twice";
      }
    }
    return static_cast<int>(owned.size());
  }
  void Advance(std::chrono::seconds d) { clock_.Advance(d); }
  // Holders of the shard Leases as the API server has them.
  std::map<std::string, std::string> Holders() {
    std::map<std::string, std::string> out;
    auto list = client_->Call("GET", "/apis/coordination.k8s.io/v1/namespaces/prod/leases",
                              {"list", "leases", "prod", ""});
    EXPECT_TRUE(list);
    if (!list) return out;
    for (const auto& item : (*list)["items"]) {
      std::string name = item["metadata"]["name"];
      if (name.find("-shard-") != std::string::npos) {
        out[name] = item["spec"].value("holderIdentity", "");
      }
    }
    return out;
  }

  std::ostringstream log_out_;
  Logger log_{clock_, log_out_, LogLevel::kDebug, LogFormat::kJson};
};

TEST_F(ShardsTest, ThreeReplicasSplitSixteenShardsWithinOne) {
  auto a = Replica("a"), b = Replica("b"), c = Replica("c");
  std::vector<kube::ShardCoordinator*> all = {a.get(), b.get(), c.get()};
  for (int round = 0; round < 4; ++round) {
    for (auto* r : all) ASSERT_TRUE(r->Step().has_value());
    CheckDisjoint(all);
    Advance(std::chrono::seconds(2));
  }
  EXPECT_EQ(CheckDisjoint(all), 16);
  EXPECT_EQ(a->Held().size(), 6u);  // 16 = 6 + 5 + 5, the first identity takes the extra one
  EXPECT_EQ(b->Held().size(), 5u);
  EXPECT_EQ(c->Held().size(), 5u);
  EXPECT_EQ(a->members(), 3);
  // The API server agrees with what each replica believes.
  auto holders = Holders();
  ASSERT_EQ(holders.size(), 16u);
  for (auto* r : all) {
    for (int s : r->Held()) EXPECT_EQ(holders[r->ShardLeaseName(s)], r->options().identity);
  }
}

TEST_F(ShardsTest, ANewReplicaGetsItsShareWithoutAnyShardOwnedTwice) {
  auto a = Replica("a");
  ASSERT_TRUE(a->Step().has_value());
  EXPECT_EQ(a->Held().size(), 16u);
  auto b = Replica("b");
  std::vector<kube::ShardCoordinator*> all = {a.get(), b.get()};
  for (int round = 0; round < 3; ++round) {
    Advance(std::chrono::seconds(2));
    ASSERT_TRUE(b->Step().has_value());
    CheckDisjoint(all);
    ASSERT_TRUE(a->Step().has_value());
    CheckDisjoint(all);
  }
  EXPECT_EQ(a->Held().size(), 8u);
  EXPECT_EQ(b->Held().size(), 8u);
  EXPECT_EQ(CheckDisjoint(all), 16);
}

TEST_F(ShardsTest, AKilledReplicasShardsMoveOnlyAfterItsLeasesExpire) {
  auto a = Replica("a"), b = Replica("b");
  std::vector<kube::ShardCoordinator*> all = {a.get(), b.get()};
  for (int round = 0; round < 3; ++round) {
    for (auto* r : all) ASSERT_TRUE(r->Step().has_value());
    Advance(std::chrono::seconds(2));
  }
  ASSERT_EQ(a->Held().size(), 8u);
  const std::vector<int> b_shards = b->Held();
  ASSERT_EQ(b_shards.size(), 8u);
  // b is killed: it never steps again. a steps every 2 s. t: seconds since b's last renew.
  int taken_at = -1;
  for (int t = 4; t <= 32; t += 2) {
    Advance(std::chrono::seconds(2));
    ASSERT_TRUE(a->Step().has_value());
    CheckDisjoint(all);
    if (t < 10) {
      EXPECT_EQ(b->Held().size(), 8u) << "b still owns its shards until its renew deadline";
    }
    if (t >= 10) {
      EXPECT_TRUE(b->Held().empty()) << "b stops owning at its renew deadline (10 s)";
    }
    if (taken_at < 0 && a->Held().size() == 16u) taken_at = t;
    if (t < 15) {
      EXPECT_EQ(a->Held().size(), 8u) << "no take-over before the lease duration (t=" << t << ")";
    }
  }
  // a saw b's last renew at its next step (t=4): its leases expire 15 s after that.
  EXPECT_GE(taken_at, 19);
  EXPECT_LE(taken_at, 20) << "taken over at the first step after the lease duration";
  for (int s : b_shards) EXPECT_TRUE(a->Owns(s));
}

// With a watch (Observe), a's clock for b's Leases starts when b's last renewal happened, not at
// a's next list; and a steps at their expiry instead of at its next retry-period step.
TEST_F(ShardsTest, AWatchedRenewalExpiresALeaseDurationAfterItAndIsTakenThen) {
  auto a = Replica("a"), b = Replica("b");
  std::vector<kube::ShardCoordinator*> all = {a.get(), b.get()};
  for (int round = 0; round < 3; ++round) {
    if (round > 0) Advance(std::chrono::seconds(2));
    for (auto* r : all) ASSERT_TRUE(r->Step().has_value());
  }
  ASSERT_EQ(b->Held().size(), 8u);
  // b's last renewal (a stepped just before it, so a's list has the previous one): the watch
  // delivers the Leases as they are now.
  auto list = client_->Call("GET", "/apis/coordination.k8s.io/v1/namespaces/prod/leases",
                            {"list", "leases", "prod", ""});
  ASSERT_TRUE(list);
  for (const auto& lease : (*list)["items"]) a->Observe(lease);
  const SteadyTime renewed = clock_.Now();
  // b is killed. a steps whenever NextStep() says so; t: seconds since b's last renewal.
  int taken_at = -1;
  for (int t = 1; t <= 24 && taken_at < 0; ++t) {
    Advance(std::chrono::seconds(1));
    if (clock_.Now() < a->NextStep()) continue;
    ASSERT_TRUE(a->Step().has_value());
    CheckDisjoint(all);
    if (a->Held().size() == 16u) taken_at = t;
  }
  EXPECT_EQ(taken_at, 15) << "taken at b's lease duration after its last renewal";
  // Between steps of a live replica, NextStep is a retry period away.
  EXPECT_EQ(a->NextStep(), renewed + std::chrono::seconds(15 + 2));
}

// A release seen through the watch makes a step due a quarter retry period after the last one.
TEST_F(ShardsTest, AReleaseSeenThroughTheWatchMakesAStepDueEarly) {
  auto a = Replica("a"), b = Replica("b");
  for (int round = 0; round < 3; ++round) {
    if (round > 0) Advance(std::chrono::seconds(2));
    ASSERT_TRUE(a->Step().has_value());
    ASSERT_TRUE(b->Step().has_value());
  }
  auto watch = [&] {  // what a's informer delivers: every Lease as it is now
    auto list = client_->Call("GET", "/apis/coordination.k8s.io/v1/namespaces/prod/leases",
                              {"list", "leases", "prod", ""});
    ASSERT_TRUE(list);
    for (const auto& lease : (*list)["items"]) a->Observe(lease);
  };
  watch();
  EXPECT_FALSE(a->Due(clock_.Now() + std::chrono::milliseconds(500)));
  ASSERT_TRUE(b->ReleaseAll().has_value());
  watch();
  EXPECT_FALSE(a->Due(clock_.Now() + std::chrono::milliseconds(499)));
  EXPECT_TRUE(a->Due(clock_.Now() + std::chrono::milliseconds(500)));
  Advance(std::chrono::seconds(1));
  ASSERT_TRUE(a->Step().has_value());
  EXPECT_EQ(a->Held().size(), 16u);
  EXPECT_FALSE(a->Due(clock_.Now() + std::chrono::milliseconds(500))) << "the release was handled";
}

// A step whose list fails still consumes the early step a release asked for: an API server that
// answers errors is not asked every half second instead of every retry period.
TEST_F(ShardsTest, AFailedStepDoesNotKeepAReleasePending) {
  server_->SetToken({.token = "a-token"});
  auto a_client = NewClient({.token = "a-token"});
  auto a = Replica("a", a_client.get()), b = Replica("b");
  for (int round = 0; round < 3; ++round) {
    if (round > 0) Advance(std::chrono::seconds(2));
    ASSERT_TRUE(a->Step().has_value());
    ASSERT_TRUE(b->Step().has_value());
  }
  auto watch = [&] {
    auto list = client_->Call("GET", "/apis/coordination.k8s.io/v1/namespaces/prod/leases",
                              {"list", "leases", "prod", ""});
    ASSERT_TRUE(list);
    for (const auto& lease : (*list)["items"]) a->Observe(lease);
  };
  watch();
  ASSERT_TRUE(b->ReleaseAll().has_value());
  watch();
  server_->RotateToken("a-token", "a-token-2");  // every request of a now fails (401)
  Advance(std::chrono::seconds(1));
  EXPECT_FALSE(a->Step().has_value());
  EXPECT_FALSE(a->Due(clock_.Now() + std::chrono::milliseconds(500)));
  EXPECT_TRUE(a->Due(clock_.Now() + std::chrono::seconds(2)));
}

TEST_F(ShardsTest, ReleaseOnShutdownHandsOverAtTheNextStep) {
  auto a = Replica("a"), b = Replica("b");
  std::vector<kube::ShardCoordinator*> all = {a.get(), b.get()};
  for (int round = 0; round < 3; ++round) {
    for (auto* r : all) ASSERT_TRUE(r->Step().has_value());
    Advance(std::chrono::seconds(2));
  }
  ASSERT_EQ(b->Held().size(), 8u);
  ASSERT_TRUE(b->ReleaseAll().has_value());
  EXPECT_TRUE(b->Held().empty());
  ASSERT_TRUE(a->Step().has_value());  // no time passes
  EXPECT_EQ(a->Held().size(), 16u);
  EXPECT_EQ(a->members(), 1);
  for (const auto& [name, holder] : Holders()) EXPECT_EQ(holder, "a") << name;
}

TEST_F(ShardsTest, AReplicaCutOffFromTheApiServerStopsOwningBeforeOthersTakeOver) {
  server_->SetToken({.token = "b-token"});
  auto b_client = NewClient({.token = "b-token"});
  auto a = Replica("a"), b = Replica("b", b_client.get());
  std::vector<kube::ShardCoordinator*> all = {a.get(), b.get()};
  for (int round = 0; round < 3; ++round) {
    for (auto* r : all) ASSERT_TRUE(r->Step().has_value());
    Advance(std::chrono::seconds(2));
  }
  ASSERT_EQ(b->Held().size(), 8u);
  server_->RotateToken("b-token", "b-token-2");  // every request of b now fails (401)
  for (int t = 2; t <= 20; t += 2) {
    Advance(std::chrono::seconds(2));
    EXPECT_FALSE(b->Step().has_value());
    ASSERT_TRUE(a->Step().has_value());
    CheckDisjoint(all);
    if (t >= 10) {
      EXPECT_TRUE(b->Held().empty());
    }
  }
  EXPECT_EQ(a->Held().size(), 16u);
}

TEST(ShardOptionsTest, RefusesBadSettings) {
  FakeClock clock;
  std::ostringstream out;
  Logger log(clock, out, LogLevel::kInfo, LogFormat::kJson);
  auto client = kube::Client::Create({.server = "http://127.0.0.1:1"}, clock);
  ASSERT_TRUE(client);
  auto make = [&](kube::ShardOptions o) {
    return kube::ShardCoordinator::Create(**client, o, clock, log);
  };
  EXPECT_FALSE(make({.shards = 0, .namespace_name = "ns", .identity = "a"}));
  EXPECT_FALSE(make({.shards = 16, .namespace_name = "", .identity = "a"}));
  EXPECT_FALSE(make({.shards = 16, .namespace_name = "ns", .identity = ""}));
  kube::ShardOptions bad{.shards = 16, .namespace_name = "ns", .identity = "a"};
  bad.timing.renew_deadline = bad.timing.lease_duration;
  EXPECT_FALSE(make(bad));
  EXPECT_TRUE(make({.shards = 16, .namespace_name = "ns", .identity = "a"}));
}

}  // namespace
}  // namespace kafka_autoscaler::testing
