// LearnedStateKeeper (LEARNED_STATE_CONFIGMAP) over a fake store, with a wait-policy Reconciler.
#include "controller/learned_state_keeper.h"

#include <gtest/gtest.h>

#include <deque>
#include <sstream>

#include "fakes/fake_clock.h"
#include "fakes/fakes.h"
#include "policy/learned_state.h"

namespace kafka_autoscaler::controller {
namespace {

using testing::FakeClock;
using testing::FakeMetricSource;
using testing::FakeScaleTarget;

// Answers Load() from `loads` (then the last value saved), records every Save().
class FakeTextStore final : public kube::TextStore {
 public:
  Result<std::optional<std::string>> Load() override {
    ++load_calls;
    if (!loads.empty()) {
      auto next = loads.front();
      loads.pop_front();
      return next;
    }
    return saved.empty() ? std::optional<std::string>() : std::optional<std::string>(saved.back());
  }
  Status Save(const std::string& value) override {
    saved.push_back(value);
    return OkStatus();
  }
  std::string Describe() const override { return "configmap test/learned"; }

  std::deque<Result<std::optional<std::string>>> loads;
  std::vector<std::string> saved;
  int load_calls = 0;
};

struct Harness {
  Harness() : target(2) {
    ReconcilerOptions o;
    o.policy.kind = policy::PolicyKind::kWait;
    o.policy.max_replicas = 10;
    o.topics = "orders";
    o.group = "workers";
    o.namespace_name = "default";
    o.deployment_name = "workers";
    reconciler = std::make_unique<Reconciler>(o, clock, source, target, nullptr, log, tracer);
    keeper = std::make_unique<LearnedStateKeeper>(
        *reconciler, store, clock, log, std::chrono::seconds(60), [this] { return leader; });
  }
  // A state learned for `target`: one pod does 16 msg/s, measured exactly.
  std::string Learned(const std::string& for_target) const {
    policy::WaitMemory w;
    w.mu = 16;
    w.mu_exact = true;
    return policy::SaveLearned(w, for_target, clock.Now(), clock.WallNow()).dump();
  }
  void Tick() {
    clock.Advance(std::chrono::seconds(15));
    source.Push(FakeMetricSource::Backlog(10));
    keeper->OnTick(reconciler->Tick(leader));
  }
  double SavedRate(size_t i) const {
    return nlohmann::json::parse(store.saved.at(i))["per_pod_rate"]["value"].get<double>();
  }

  FakeClock clock;
  FakeMetricSource source;
  FakeScaleTarget target;
  std::ostringstream out;
  Logger log{clock, out, LogLevel::kDebug, LogFormat::kJson};
  NullTickTracer tracer;
  FakeTextStore store;
  bool leader = true;
  std::unique_ptr<Reconciler> reconciler;
  std::unique_ptr<LearnedStateKeeper> keeper;
};

TEST(LearnedStateKeeperTest, RestoresAtStartAndSavesEveryIntervalWhileLeading) {
  Harness h;
  h.store.loads.push_back(std::optional<std::string>(h.Learned(h.reconciler->LearnedTarget())));
  EXPECT_TRUE(h.keeper->Restore());
  EXPECT_NE(h.out.str().find("\"msg\":\"restored learned state\""), std::string::npos)
      << h.out.str();
  EXPECT_NE(h.out.str().find("\"per_pod_rate\":16"), std::string::npos) << h.out.str();
  EXPECT_EQ(h.reconciler->SaveLearned()["per_pod_rate"]["value"], 16);

  h.leader = false;  // a follower learns but never writes
  for (int i = 0; i < 8; ++i) h.Tick();
  EXPECT_TRUE(h.store.saved.empty());
  h.leader = true;
  for (int i = 0; i < 8; ++i) h.Tick();  // 120 s: one save per 60 s
  ASSERT_EQ(h.store.saved.size(), 2u);
  EXPECT_EQ(h.SavedRate(1), 16);
  ASSERT_TRUE(h.keeper->Flush());
  EXPECT_EQ(h.store.saved.size(), 3u);
  EXPECT_EQ(h.store.load_calls, 1);
}

TEST(LearnedStateKeeperTest, NothingIsSavedUntilTheStoreWasRead) {
  Harness h;
  h.store.loads.push_back(MakeError(ErrorCode::kUnavailable, "api server down"));
  h.store.loads.push_back(MakeError(ErrorCode::kPermissionDenied, "forbidden"));
  h.store.loads.push_back(std::optional<std::string>(h.Learned(h.reconciler->LearnedTarget())));
  EXPECT_FALSE(h.keeper->Restore());
  EXPECT_NE(h.out.str().find("could not read the learned state"), std::string::npos);
  EXPECT_FALSE(h.keeper->Flush());  // a cold state must not overwrite the stored one
  h.Tick();                         // tries again: forbidden
  EXPECT_TRUE(h.store.saved.empty());
  EXPECT_EQ(h.out.str().find("\"level\":\"warn\"", h.out.str().find("could not read") + 1),
            std::string::npos)
      << "warned again: " << h.out.str();
  h.Tick();  // read: restored; saves from 60 s on
  EXPECT_EQ(h.store.load_calls, 3);
  EXPECT_EQ(h.reconciler->SaveLearned()["per_pod_rate"]["value"], 16);
  for (int i = 0; i < 4; ++i) h.Tick();
  ASSERT_EQ(h.store.saved.size(), 1u);
  EXPECT_EQ(h.SavedRate(0), 16);
}

TEST(LearnedStateKeeperTest, AnotherTargetsStateIsNeitherUsedNorOverwritten) {
  Harness h;
  h.store.loads.push_back(std::optional<std::string>(h.Learned("default/other topics=x group=y")));
  EXPECT_TRUE(h.keeper->Restore());
  EXPECT_NE(h.out.str().find("holds another target's state"), std::string::npos) << h.out.str();
  EXPECT_TRUE(h.reconciler->SaveLearned()["per_pod_rate"].is_null());
  for (int i = 0; i < 8; ++i) h.Tick();
  EXPECT_FALSE(h.keeper->Flush());
  EXPECT_TRUE(h.store.saved.empty());
}

TEST(LearnedStateKeeperTest, AnUnreadableStateStartsColdAndIsReplaced) {
  for (const std::string& bad : {std::string("{not json"), std::string(R"({"version": 99})")}) {
    Harness h;
    h.store.loads.push_back(std::optional<std::string>(bad));
    EXPECT_TRUE(h.keeper->Restore());
    EXPECT_NE(h.out.str().find("learned state not restored; starting cold"), std::string::npos)
        << h.out.str();
    ASSERT_TRUE(h.keeper->Flush());
    ASSERT_EQ(h.store.saved.size(), 1u);
    EXPECT_EQ(nlohmann::json::parse(h.store.saved[0])["version"], policy::kLearnedStateVersion);
  }
}

TEST(LearnedStateKeeperTest, NothingStoredYetStartsColdAndSaves) {
  Harness h;
  EXPECT_TRUE(h.keeper->Restore());
  EXPECT_NE(h.out.str().find("no learned state yet"), std::string::npos);
  for (int i = 0; i < 4; ++i) h.Tick();  // 45 s after the first tick
  EXPECT_TRUE(h.store.saved.empty());
  h.Tick();  // 60 s
  EXPECT_EQ(h.store.saved.size(), 1u);
}

}  // namespace
}  // namespace kafka_autoscaler::controller
