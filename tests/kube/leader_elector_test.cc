// LeaderElector: client-go's algorithm in simulated time (FakeClock + an in-memory lease), then
// against the test API server's Leases, then with real threads.
#include "kube/leader_elector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kube/lease_lock.h"
#include "kube/server_fixture.h"

namespace kafka_autoscaler::testing {
namespace {

using kube::LeaderElectionRecord;
using kube::LeaderElectionTiming;
using kube::LeaderElector;
using std::chrono::milliseconds;
using std::chrono::seconds;

// One Lease object shared by FakeLeaseLocks, with a resourceVersion.
struct FakeLeaseStore {
  std::mutex mu;
  std::optional<LeaderElectionRecord> record;
  int version = 0;
  int writes = 0;
};

// A LeaseLock over a FakeLeaseStore. `partitioned` makes every call fail as unreachable.
class FakeLeaseLock final : public kube::LeaseLock {
 public:
  FakeLeaseLock(FakeLeaseStore& store, std::string identity)
      : store_(store), identity_(std::move(identity)) {}
  Result<LeaderElectionRecord> Get() override {
    std::lock_guard lock(store_.mu);
    if (partitioned) return MakeError(ErrorCode::kUnavailable, "partitioned");
    if (!store_.record) return MakeError(ErrorCode::kNotFound, "no lease");
    seen_version_ = store_.version;
    return *store_.record;
  }
  Status Create(const LeaderElectionRecord& record) override {
    std::lock_guard lock(store_.mu);
    if (partitioned) return MakeError(ErrorCode::kUnavailable, "partitioned");
    if (store_.record) return MakeError(ErrorCode::kConflict, "exists");
    store_.record = record;
    seen_version_ = ++store_.version;
    ++store_.writes;
    return OkStatus();
  }
  Status Update(const LeaderElectionRecord& record) override {
    std::lock_guard lock(store_.mu);
    if (partitioned) return MakeError(ErrorCode::kUnavailable, "partitioned");
    if (!store_.record || seen_version_ != store_.version) {
      return MakeError(ErrorCode::kConflict, "stale");
    }
    store_.record = record;
    seen_version_ = ++store_.version;
    ++store_.writes;
    return OkStatus();
  }
  const std::string& Identity() const override { return identity_; }
  std::string Describe() const override { return "fake/lease"; }

  std::atomic<bool> partitioned{false};

 private:
  FakeLeaseStore& store_;
  const std::string identity_;
  int seen_version_ = -1;
};

std::unique_ptr<LeaderElector> NewElector(kube::LeaseLock& lock, const Clock& clock,
                                          LeaderElectionTiming timing = {}) {
  auto elector = LeaderElector::Create(lock, clock, timing);
  EXPECT_TRUE(elector) << elector.error().message;
  return elector ? std::move(*elector) : nullptr;
}

TEST(LeaderElectorTiming, ValidatedUpFrontLikeClientGo) {
  FakeLeaseStore store;
  FakeLeaseLock lock(store, "a");
  FakeLeaseLock anonymous(store, "");
  FakeClock clock;
  struct Case {
    const char* name;
    LeaderElectionTiming timing;
    bool anonymous = false;
    bool ok;
  };
  const Case cases[] = {
      {.name = "client-go defaults", .timing = {}, .ok = true},
      {.name = "lease not longer than renew deadline",
       .timing = {.lease_duration = seconds(10), .renew_deadline = seconds(10)},
       .ok = false},
      {.name = "renew deadline not above 1.2 x retry",
       .timing = {.renew_deadline = milliseconds(2400), .retry_period = seconds(2)},
       .ok = false},
      {.name = "zero retry", .timing = {.retry_period = seconds(0)}, .ok = false},
      {.name = "sub-second lease",
       .timing = {.lease_duration = milliseconds(900),
                  .renew_deadline = milliseconds(500),
                  .retry_period = milliseconds(100)},
       .ok = false},
      {.name = "empty identity", .timing = {}, .anonymous = true, .ok = false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto elector = LeaderElector::Create(c.anonymous ? anonymous : lock, clock, c.timing);
    EXPECT_EQ(static_cast<bool>(elector), c.ok);
    if (!c.ok) {
      EXPECT_EQ(elector.error().code, ErrorCode::kInvalidArgument);
    }
  }
  const LeaderElectionTiming defaults;
  EXPECT_EQ(defaults.lease_duration, seconds(15));
  EXPECT_EQ(defaults.renew_deadline, seconds(10));
  EXPECT_EQ(defaults.retry_period, seconds(2));
}

// Two candidates over one in-memory lease, in simulated time.
class LeaderElectorSim : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeLeaseStore store_;
  FakeLeaseLock lock_a_{store_, "a"};
  FakeLeaseLock lock_b_{store_, "b"};
};

TEST_F(LeaderElectorSim, OnlyOneOfTwoCandidatesEverLeads) {
  auto a = NewElector(lock_a_, clock_);
  auto b = NewElector(lock_b_, clock_);
  for (int i = 0; i < 60; ++i) {
    a->Step();
    b->Step();
    ASSERT_FALSE(a->IsLeader() && b->IsLeader()) << "step " << i;
    ASSERT_TRUE(a->IsLeader() || b->IsLeader()) << "step " << i;
    clock_.Advance(seconds(2));
  }
  EXPECT_TRUE(a->IsLeader());  // first to try; never lost it
  EXPECT_EQ(store_.record->holder_identity, "a");
  EXPECT_EQ(store_.record->leader_transitions, 0);
  EXPECT_EQ(store_.record->lease_duration_seconds, 15);
}

TEST_F(LeaderElectorSim, RenewalsKeepAcquireTimeAndAdvanceRenewTime) {
  auto a = NewElector(lock_a_, clock_);
  ASSERT_TRUE(a->Step());
  const LeaderElectionRecord first = *store_.record;
  clock_.Advance(seconds(2));
  ASSERT_TRUE(a->Step());
  EXPECT_EQ(store_.record->acquire_time, first.acquire_time);
  EXPECT_EQ(store_.record->renew_time, first.renew_time + seconds(2));
}

TEST_F(LeaderElectorSim, DeadLeaderIsReplacedOnlyAfterTheLeaseExpires) {
  auto a = NewElector(lock_a_, clock_);
  auto b = NewElector(lock_b_, clock_);
  ASSERT_TRUE(a->Step());
  ASSERT_FALSE(b->Step());  // b observes a's record now
  const SteadyTime observed = clock_.Now();
  // a dies (never steps again). b keeps trying every second.
  std::optional<SteadyTime> b_leads_at;
  for (int i = 0; i < 30 && !b_leads_at; ++i) {
    clock_.Advance(seconds(1));
    if (b->Step()) b_leads_at = clock_.Now();
  }
  ASSERT_TRUE(b_leads_at);
  EXPECT_EQ(*b_leads_at - observed, seconds(15));  // the first step not before expiry
  EXPECT_EQ(store_.record->holder_identity, "b");
  EXPECT_EQ(store_.record->leader_transitions, 1);
  EXPECT_FALSE(a->IsLeader());  // a's own view expired too (renew deadline)
}

TEST_F(LeaderElectorSim, RenewFailureStopsLeadingBeforeTheLeaseCanBeTaken) {
  std::vector<bool> a_changes;
  auto a_or = LeaderElector::Create(lock_a_, clock_, {},
                                    [&](bool leading) { a_changes.push_back(leading); });
  ASSERT_TRUE(a_or);
  auto& a = *a_or;
  auto b = NewElector(lock_b_, clock_);
  ASSERT_TRUE(a->Step());
  ASSERT_FALSE(b->Step());
  clock_.Advance(seconds(2));
  ASSERT_TRUE(a->Step());  // last successful renew
  const SteadyTime last_renew = clock_.Now();
  lock_a_.partitioned = true;  // a cannot reach the API server any more
  std::optional<SteadyTime> a_stopped, b_started;
  for (int tick = 0; tick < 400; ++tick) {  // 40 s in 100 ms ticks; each steps every 2 s
    clock_.Advance(milliseconds(100));
    if (tick % 20 == 0) a->Step();
    if (tick % 20 == 10) b->Step();
    if (!a->IsLeader() && !a_stopped) a_stopped = clock_.Now();
    if (b->IsLeader() && !b_started) b_started = clock_.Now();
    ASSERT_FALSE(a->IsLeader() && b->IsLeader()) << "tick " << tick;
  }
  ASSERT_TRUE(a_stopped);
  ASSERT_TRUE(b_started);
  EXPECT_LE(*a_stopped - last_renew, seconds(10));  // renew deadline
  EXPECT_GE(*b_started - last_renew, seconds(15));  // lease duration, on b's clock_
  EXPECT_LT(*a_stopped, *b_started);
  EXPECT_EQ(a_changes, (std::vector<bool>{true, false}));
}

TEST_F(LeaderElectorSim, ReleaseHandsOverAtOnce) {
  auto a = NewElector(lock_a_, clock_);
  auto b = NewElector(lock_b_, clock_);
  ASSERT_TRUE(a->Step());
  ASSERT_FALSE(b->Step());
  ASSERT_TRUE(a->Release());
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(store_.record->holder_identity, "");
  EXPECT_EQ(store_.record->lease_duration_seconds, 1);
  clock_.Advance(seconds(2));
  EXPECT_TRUE(b->Step());  // no 15 s wait
  EXPECT_EQ(store_.record->leader_transitions, 1);
  EXPECT_TRUE(a->Release());  // not the holder: nothing written
  EXPECT_EQ(store_.record->holder_identity, "b");
}

TEST_F(LeaderElectorSim, LeaderThatSeesAnotherHolderStopsAtOnce) {
  auto a = NewElector(lock_a_, clock_);
  ASSERT_TRUE(a->Step());
  {
    std::lock_guard lock(store_.mu);  // an operator hands the lease to "c"
    store_.record->holder_identity = "c";
    ++store_.version;
  }
  clock_.Advance(seconds(2));
  EXPECT_FALSE(a->Step());
  EXPECT_FALSE(a->IsLeader());
}

// Against the test API server's Leases: the same guarantees through KubeLeaseLock.
using LeaderElectorApiTest = ServerFixture;

TEST_F(LeaderElectorApiTest, TwoElectorsOverARealLease) {
  auto client_b = NewClient({.token = kAdminToken});
  kube::KubeLeaseLock lock_a(*client_, "prod", "kafka-autoscaler-web", "pod-a");
  kube::KubeLeaseLock lock_b(*client_b, "prod", "kafka-autoscaler-web", "pod-b");
  auto a = NewElector(lock_a, clock_);
  auto b = NewElector(lock_b, clock_);
  for (int i = 0; i < 5; ++i) {
    a->Step();
    b->Step();
    ASSERT_TRUE(a->IsLeader());
    ASSERT_FALSE(b->IsLeader());
    clock_.Advance(seconds(2));
  }
  auto lease = server_->Lease("prod", "kafka-autoscaler-web");
  ASSERT_TRUE(lease);
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "pod-a");
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 15);
  // Optimistic renewals: after the first round, a leader renews with one PUT and no GET.
  server_->ClearRequests();
  a->Step();
  EXPECT_EQ(server_->CountRequests("PUT", "/leases/"), 1);
  EXPECT_EQ(server_->CountRequests("GET", "/leases/"), 0);
  // a's renewals start failing (500s on its PUTs and GETs): a stops, then b takes over.
  server_->InjectFault(
      {.kind = FaultKind::kServerError, .path_contains = "/leases/", .times = 1000});
  std::optional<SteadyTime> a_stopped;
  const SteadyTime failing_since = clock_.Now();
  for (int i = 0; i < 8; ++i) {
    clock_.Advance(seconds(2));
    a->Step();
    if (!a->IsLeader() && !a_stopped) a_stopped = clock_.Now();
  }
  ASSERT_TRUE(a_stopped);
  EXPECT_LE(*a_stopped - failing_since, seconds(10));
  server_->ClearFaults();
  // b has not seen a change for a whole lease duration only after these 16 s; it takes over.
  bool b_leads = false;
  for (int i = 0; i < 10 && !b_leads; ++i) {
    b_leads = b->Step();
    clock_.Advance(seconds(2));
  }
  EXPECT_TRUE(b_leads);
  EXPECT_EQ(server_->Lease("prod", "kafka-autoscaler-web")->at("spec").at("holderIdentity"),
            "pod-b");
  EXPECT_EQ(server_->Lease("prod", "kafka-autoscaler-web")->at("spec").at("leaseTransitions"), 1);
  EXPECT_FALSE(a->Step());  // a is a follower now
}

// Hostile Lease answers to GET, POST and PUT: errors, never exceptions (one escaping the
// elector thread ended the process), and the elector keeps stepping.
TEST_F(LeaderElectorApiTest, HostileLeaseAnswersAreErrorsNotExceptions) {
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"array", "[]"},
      {"metadata an array", R"({"metadata":[]})"},
      {"numeric resourceVersion", R"({"metadata":{"resourceVersion":5},"spec":{}})"},
      {"spec a string", R"({"metadata":{"resourceVersion":"5"},"spec":"x"})"},
      {"duration a string",
       R"({"metadata":{"resourceVersion":"5"},"spec":{"leaseDurationSeconds":"15"}})"},
      {"holder a number", R"({"metadata":{"resourceVersion":"5"},"spec":{"holderIdentity":7}})"},
      {"renewTime a number", R"({"metadata":{"resourceVersion":"5"},"spec":{"renewTime":7}})"},
      {"invalid UTF-8 holder",
       "{\"metadata\":{\"resourceVersion\":\"5\"},\"spec\":{\"holderIdentity\":\"\xff\"}}"},
  };
  kube::KubeLeaseLock lock(*client_, "prod", "hostile-lease", "pod-a");
  auto elector = NewElector(lock, clock_);
  for (const auto& [name, body] : rows) {
    for (const char* method : {"GET", "POST", "PUT"}) {
      SCOPED_TRACE(name + " on " + method);
      server_->InjectFault({.kind = FaultKind::kBody,
                            .method = method,
                            .path_contains = "/leases",
                            .times = 100,
                            .body = body});
      EXPECT_NO_THROW({
        auto got = lock.Get();
        if (!got && std::string(method) == "GET") {
          EXPECT_EQ(got.error().code, ErrorCode::kProtocol) << got.error().message;
        }
        (void)lock.Create({.holder_identity = "pod-a", .lease_duration_seconds = 15});
        (void)lock.Update({.holder_identity = "pod-a", .lease_duration_seconds = 15});
        elector->Step();
      });
      server_->ClearFaults();
      clock_.Advance(seconds(2));
    }
  }
  // A sane server again: the lease is taken.
  bool leads = false;
  for (int i = 0; i < 20 && !leads; ++i) {
    leads = elector->Step();
    clock_.Advance(seconds(2));
  }
  EXPECT_TRUE(leads);
}

TEST_F(LeaderElectorApiTest, RunReleasesOnStopSoTheOtherTakesOverQuickly) {
  SystemClock clock;
  auto client_b = NewClient({.token = kAdminToken});
  kube::KubeLeaseLock lock_a(*client_, "prod", "run-lease", "pod-a");
  kube::KubeLeaseLock lock_b(*client_b, "prod", "run-lease", "pod-b");
  const LeaderElectionTiming fast{.lease_duration = seconds(5),
                                  .renew_deadline = milliseconds(1500),
                                  .retry_period = milliseconds(200)};
  auto a = NewElector(lock_a, clock, fast);
  auto b = NewElector(lock_b, clock, fast);
  ASSERT_TRUE(a->Step());  // a leads first, deterministically
  StopToken stop_a, stop_b;
  std::thread ta([&] { a->Run(stop_a); });
  std::thread tb([&] { b->Run(stop_b); });
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(a->IsLeader() && b->IsLeader());
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(a->IsLeader());
  stop_a.Stop();
  ta.join();  // released on the way out
  EXPECT_FALSE(a->IsLeader());
  EXPECT_EQ(server_->Lease("prod", "run-lease")->at("spec").at("holderIdentity"), "");
  const auto deadline = std::chrono::steady_clock::now() + seconds(3);
  while (!b->IsLeader() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(b->IsLeader());  // well before the 5 s lease would have expired
  stop_b.Stop();
  tb.join();
}

}  // namespace
}  // namespace kafka_autoscaler::testing
