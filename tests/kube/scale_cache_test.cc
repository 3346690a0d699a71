// ScaleCache and CachedScaleTarget against the test API server: reads come from the cache with
// no API request, others' writes arrive by watch, a write is one /scale PATCH seen by the next
// read at once, a stale version is a conflict, HPAs show in other_autoscalers, for Deployments
// and StatefulSets alike; and the proof for issue 15 item 4: many targets read many times make
// no API request beyond the informers' list+watch.
#include "kube/scale_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <sstream>
#include <thread>

#include "e2e/process.h"
#include "kube/server_fixture.h"

namespace kafka_autoscaler::testing {
namespace {

using nlohmann::json;
constexpr std::chrono::seconds kPatience{60};  // a loaded machine is slow, never wrong

class ScaleCacheTest : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    server_->AddWorkload(WorkloadKind::kStatefulSet, "prod", "db", 3);
  }
  void TearDown() override { StopCache(); }

  // Creates the cache (and runs it unless `run` is false).
  void StartCache(kube::ScaleCacheOptions options = {}, bool run = true) {
    options.backoff_initial = std::chrono::milliseconds(50);
    options.backoff_max = std::chrono::milliseconds(200);
    auto cache = kube::ScaleCache::Create(
        {.server = server_->url(), .ca_file = server_->ca_file(), .token = kAdminToken},
        std::move(options), clock_, log_);
    ASSERT_TRUE(cache) << cache.error().message;
    cache_ = std::move(*cache);
    if (!run) return;
    RunCache(options.namespaces.empty() ? 1 : static_cast<int>(options.namespaces.size()));
  }
  // Runs the cache until it has synced and its watches (3 per namespace) are established.
  void RunCache(int namespaces) {
    runner_ = std::thread([this] { cache_->Run(stop_); });
    ASSERT_TRUE(Eventually([this] { return cache_->synced(); }, kPatience));
    ASSERT_TRUE(Eventually([&] { return Watches() >= 3 * namespaces; }, kPatience));
  }
  int Watches() const {
    int n = 0;
    for (const auto& r : server_->Requests()) n += r.query.find("watch=true") != std::string::npos;
    return n;
  }
  void StopCache() {
    stop_.Stop();
    if (runner_.joinable()) runner_.join();
  }
  // Requests other than the informers' list+watch (GET without a name).
  int OtherRequests() const {
    int n = 0;
    for (const auto& r : server_->Requests()) {
      const bool collection = r.method == "GET" && (r.path.ends_with("/deployments") ||
                                                    r.path.ends_with("/statefulsets") ||
                                                    r.path.ends_with("/horizontalpodautoscalers"));
      if (!collection) ++n;
    }
    return n;
  }

  std::ostringstream log_out_;
  Logger log_{clock_, log_out_, LogLevel::kDebug, LogFormat::kJson};
  StopToken stop_;
  std::unique_ptr<kube::ScaleCache> cache_;
  std::thread runner_;
};

const kube::WorkloadRef kWeb{"prod", "web", "Deployment"};
const kube::WorkloadRef kDb{"prod", "db", "StatefulSet"};

TEST_F(ScaleCacheTest, GetAfterSyncMakesNoApiRequest) {
  StartCache();
  server_->ClearRequests();
  kube::CachedScaleTarget web(*cache_, *client_, kWeb);
  kube::CachedScaleTarget db(*cache_, *client_, kDb);
  auto w = web.Get();
  ASSERT_TRUE(w) << w.error().message;
  auto d = db.Get();
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(server_->Requests().size(), 0u);

  // The same answer as DeploymentScaleTarget, which reads it with three GETs.
  kube::DeploymentScaleTarget direct(*client_, kWeb);
  auto expected = direct.Get();
  ASSERT_TRUE(expected) << expected.error().message;
  EXPECT_EQ(server_->Requests().size(), 3u);
  EXPECT_EQ(w->spec_replicas, expected->spec_replicas);
  EXPECT_EQ(w->status_replicas, expected->status_replicas);
  EXPECT_EQ(w->ready_replicas, expected->ready_replicas);
  EXPECT_EQ(w->selector, expected->selector);
  EXPECT_EQ(w->uid, expected->uid);
  EXPECT_EQ(w->resource_version, expected->resource_version);
  EXPECT_EQ(w->paused, expected->paused);
  EXPECT_EQ(w->spec_replicas, 2);
  EXPECT_EQ(w->selector, "app=web");

  kube::DeploymentScaleTarget direct_db(*client_, kDb);  // generalised to StatefulSets too
  auto expected_db = direct_db.Get();
  ASSERT_TRUE(expected_db) << expected_db.error().message;
  EXPECT_EQ(d->spec_replicas, 3);
  EXPECT_EQ(d->status_replicas, 3);
  EXPECT_EQ(d->ready_replicas, 3);
  EXPECT_EQ(d->selector, expected_db->selector);
  EXPECT_EQ(d->uid, expected_db->uid);
  EXPECT_EQ(d->resource_version, expected_db->resource_version);

  auto missing = kube::CachedScaleTarget(*cache_, *client_, {"prod", "nope", "Deployment"}).Get();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto odd_kind = kube::CachedScaleTarget(*cache_, *client_, {"prod", "web", "ReplicaSet"}).Get();
  ASSERT_FALSE(odd_kind);
  EXPECT_EQ(odd_kind.error().code, ErrorCode::kInvalidArgument);
}

TEST_F(ScaleCacheTest, SeesWritesByOthersAndHpas) {
  StartCache();
  kube::CachedScaleTarget web(*cache_, *client_, kWeb);
  kube::CachedScaleTarget db(*cache_, *client_, kDb);
  ASSERT_TRUE(server_->PatchDeployment(
      "prod", "web",
      {{"spec", {{"replicas", 5}}},
       {"metadata", {{"annotations", {{"kafka-autoscaler/paused", "true"}}}}}}));
  EXPECT_TRUE(Eventually(
      [&] {
        auto s = web.Get();
        return s && s->spec_replicas == 5 && s->paused;
      },
      kPatience));
  ASSERT_TRUE(server_->SetWorkloadReadyLimit(WorkloadKind::kStatefulSet, "prod", "db", 1));
  EXPECT_TRUE(Eventually(
      [&] {
        auto s = db.Get();
        return s && s->ready_replicas == 1 && s->status_replicas == 3;
      },
      kPatience));

  server_->AddHorizontalPodAutoscaler("prod", "web-cpu", "web");
  server_->AddHorizontalPodAutoscaler("prod", "db-cpu", "db", "StatefulSet");
  server_->AddHorizontalPodAutoscaler("elsewhere", "web", "web");         // another namespace's web
  server_->AddHorizontalPodAutoscaler("prod", "db-as-deployment", "db");  // another kind's db
  const std::vector<std::string> web_hpa = {"HorizontalPodAutoscaler prod/web-cpu"};
  const std::vector<std::string> db_hpa = {"HorizontalPodAutoscaler prod/db-cpu"};
  EXPECT_TRUE(Eventually(
      [&] {
        auto w = web.Get();
        auto d = db.Get();
        return w && d && w->other_autoscalers == web_hpa && d->other_autoscalers == db_hpa;
      },
      kPatience));
  ASSERT_TRUE(server_->DeleteHorizontalPodAutoscaler("prod", "web-cpu"));
  EXPECT_TRUE(Eventually(
      [&] {
        auto w = web.Get();
        return w && w->other_autoscalers.empty();
      },
      kPatience));

  ASSERT_TRUE(server_->DeleteWorkload(WorkloadKind::kStatefulSet, "prod", "db"));
  EXPECT_TRUE(Eventually(
      [&] {
        auto d = db.Get();
        return !d && d.error().code == ErrorCode::kNotFound;
      },
      kPatience));
}

// One PATCH per write, conditional on the cached version; the next Get() sees the write even
// when no watch event follows (the informers are stopped here, so none can).
TEST_F(ScaleCacheTest, SetReplicasIsOnePatchSeenByTheNextGet) {
  struct Case {
    const char* name;
    kube::WorkloadRef ref;
    std::string scale_path;
  };
  const Case cases[] = {
      {.name = "deployment",
       .ref = kWeb,
       .scale_path = "/apis/apps/v1/namespaces/prod/deployments/web/scale"},
      {.name = "statefulset",
       .ref = kDb,
       .scale_path = "/apis/apps/v1/namespaces/prod/statefulsets/db/scale"},
  };
  StartCache();
  StopCache();  // the cache keeps what it has; no more watch events
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    server_->ClearRequests();
    kube::CachedScaleTarget target(*cache_, *client_, c.ref);
    auto before = target.Get();
    ASSERT_TRUE(before) << before.error().message;
    ASSERT_TRUE(target.SetReplicas(7));
    auto after = target.Get();
    ASSERT_TRUE(after) << after.error().message;
    EXPECT_EQ(after->spec_replicas, 7);
    EXPECT_NE(after->resource_version, before->resource_version);
    EXPECT_EQ(server_->CountRequests("PATCH", c.scale_path), 1);
    EXPECT_EQ(server_->Requests().size(), 1u);

    // Another writer, unseen by the stopped cache: the write is refused (409), never re-sent,
    // and the next write without a read is refused without a request.
    const auto kind =
        c.ref.kind == "Deployment" ? WorkloadKind::kDeployment : WorkloadKind::kStatefulSet;
    ASSERT_TRUE(server_->PatchWorkload(kind, "prod", c.ref.name, {{"spec", {{"replicas", 2}}}}));
    auto conflict = target.SetReplicas(9);
    ASSERT_FALSE(conflict);
    EXPECT_EQ(conflict.error().code, ErrorCode::kConflict) << conflict.error().message;
    auto again = target.SetReplicas(9);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kConflict);
    EXPECT_EQ(server_->CountRequests("PATCH", c.scale_path), 2);
    EXPECT_EQ(server_->Workload(kind, "prod", c.ref.name).value()["spec"]["replicas"], 2);
  }
}

TEST_F(ScaleCacheTest, WatchedWriteReplacesTheOverlay) {
  StartCache();
  kube::CachedScaleTarget web(*cache_, *client_, kWeb);
  ASSERT_TRUE(web.Get());
  ASSERT_TRUE(web.SetReplicas(6));
  // Then another writer: once its event arrives, the cache shows it, not the old write.
  ASSERT_TRUE(server_->PatchDeployment("prod", "web", {{"spec", {{"replicas", 1}}}}));
  const std::string rv = server_->Deployment("prod", "web").value()["metadata"]["resourceVersion"];
  EXPECT_TRUE(Eventually(
      [&] {
        auto s = web.Get();
        return s && s->spec_replicas == 1 && s->resource_version == rv;
      },
      kPatience));
  ASSERT_TRUE(web.SetReplicas(4));  // conditional on the watched version: accepted
  EXPECT_EQ(server_->Deployment("prod", "web").value()["spec"]["replicas"], 4);
}

TEST_F(ScaleCacheTest, NamespacesAndSync) {
  StartCache({.namespaces = {"prod"}}, /*run=*/false);
  auto early = cache_->Get(kWeb);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ErrorCode::kUnavailable);
  RunCache(1);
  EXPECT_TRUE(cache_->Get(kWeb));
  server_->AddDeployment("other", "web", 1);
  auto outside = cache_->Get({"other", "web", "Deployment"});
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code, ErrorCode::kInvalidArgument);
  // The informers watch the namespace's collections only.
  for (const auto& r : server_->Requests()) {
    EXPECT_NE(r.path.find("/namespaces/prod/"), std::string::npos) << r.path;
  }
}

TEST_F(ScaleCacheTest, EventsOnStatefulSetsWithoutARead) {
  StartCache();
  server_->ClearRequests();
  kube::CachedEventRecorder recorder(*cache_, *client_, kDb, clock_, "pod-0");
  ASSERT_TRUE(recorder.Record(kube::EventType::kNormal, "ScaledUp", "from 3 to 4"));
  EXPECT_EQ(server_->Requests().size(), 1u);  // the POST only
  clock_.Advance(std::chrono::seconds(1));    // another recorder: event names differ by time only
  kube::DeploymentEventRecorder direct(*client_, kDb, clock_, "pod-0");  // a StatefulSet too
  auto posted = direct.Record(kube::EventType::kNormal, "ScaledDown", "from 4 to 3");
  ASSERT_TRUE(posted) << posted.error().message;
  const auto events = server_->Events("prod");
  ASSERT_EQ(events.size(), 2u);
  const std::string uid =
      server_->Workload(WorkloadKind::kStatefulSet, "prod", "db").value()["metadata"]["uid"];
  for (const auto& e : events) {
    EXPECT_EQ(e["involvedObject"]["kind"], "StatefulSet");
    EXPECT_EQ(e["involvedObject"]["name"], "db");
    EXPECT_EQ(e["involvedObject"]["uid"], uid);
  }
}

// Issue 15, item 4: a pass makes API requests only for changes. 50 targets (Deployments and
// StatefulSets in two namespaces) read 10 times: no request beyond the informers' list+watch
// (the direct target needs 3 GETs per read: 1,500 for the same work).
TEST_F(ScaleCacheTest, FiftyTargetsReadTenTimesMakeNoApiRequest) {
  std::vector<kube::WorkloadRef> refs;
  for (int i = 0; i < 50; ++i) {
    const std::string ns = i % 2 ? "team-a" : "team-b";
    const std::string name = "consumer-" + std::to_string(i);
    const bool sts = i % 5 == 0;
    server_->AddWorkload(sts ? WorkloadKind::kStatefulSet : WorkloadKind::kDeployment, ns, name,
                         1 + i % 4);
    refs.push_back({ns, name, sts ? "StatefulSet" : "Deployment"});
  }
  server_->ClearRequests();
  StartCache();
  // Exactly the informers' requests: a list and a watch of each of the three collections.
  EXPECT_EQ(server_->CountRequests("GET", "/apis/apps/v1/deployments"), 2);
  EXPECT_EQ(server_->CountRequests("GET", "/apis/apps/v1/statefulsets"), 2);
  EXPECT_EQ(server_->CountRequests("GET", "/apis/autoscaling/v2/horizontalpodautoscalers"), 2);
  const size_t informer_requests = server_->Requests().size();

  std::vector<std::unique_ptr<kube::CachedScaleTarget>> targets;
  for (const auto& ref : refs) {
    targets.push_back(std::make_unique<kube::CachedScaleTarget>(*cache_, *client_, ref));
  }
  for (int pass = 0; pass < 10; ++pass) {
    for (size_t i = 0; i < targets.size(); ++i) {
      auto state = targets[i]->Get();
      ASSERT_TRUE(state) << refs[i].name << ": " << state.error().message;
      EXPECT_EQ(state->spec_replicas, 1 + static_cast<int>(i) % 4);
    }
  }
  EXPECT_EQ(OtherRequests(), 0);
  EXPECT_EQ(server_->Requests().size(), informer_requests);
  const auto stats = cache_->stats();
  EXPECT_EQ(stats.lists, 3);
  EXPECT_EQ(stats.watches, 3);
}

// OnChange names the workload a change concerns (for a work queue keyed by target): the
// workload itself, or the target of a changed HPA.
TEST_F(ScaleCacheTest, ChangesNameTheirWorkload) {
  StartCache({}, /*run=*/false);
  std::mutex mu;
  std::vector<std::string> seen;
  cache_->OnChange([&](const kube::WorkloadRef& ref) {
    std::lock_guard lock(mu);
    seen.push_back(ref.kind + " " + ref.namespace_name + "/" + ref.name);
  });
  RunCache(1);
  auto saw = [&](const std::string& what) {
    std::lock_guard lock(mu);
    return std::find(seen.begin(), seen.end(), what) != seen.end();
  };
  EXPECT_TRUE(saw("Deployment prod/web"));  // the initial list
  EXPECT_TRUE(saw("StatefulSet prod/db"));
  server_->AddHorizontalPodAutoscaler("prod", "db-cpu", "db", "StatefulSet");
  server_->AddWorkload(WorkloadKind::kStatefulSet, "prod", "cache", 1);
  EXPECT_TRUE(Eventually([&] { return saw("StatefulSet prod/cache"); }, kPatience));
  EXPECT_TRUE(Eventually(
      [&] {
        std::lock_guard lock(mu);
        return std::count(seen.begin(), seen.end(), "StatefulSet prod/db") == 2;  // list + HPA
      },
      kPatience));
}

TEST(LabelSelectorString, RendersLikeTheScaleSubresource) {
  auto s = kube::LabelSelectorString(json::parse(R"({
    "matchLabels": {"tier": "worker", "app": "orders"},
    "matchExpressions": [
      {"key": "zone", "operator": "In", "values": ["b", "a"]},
      {"key": "canary", "operator": "DoesNotExist"},
      {"key": "env", "operator": "NotIn", "values": ["dev"]},
      {"key": "owner", "operator": "Exists"}]})"));
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(*s, "app=orders,!canary,env notin (dev),owner,tier=worker,zone in (a,b)");
  EXPECT_FALSE(kube::LabelSelectorString(json::parse(R"({"matchLabels": []})")));
  EXPECT_FALSE(kube::LabelSelectorString(
      json::parse(R"({"matchExpressions": [{"key": "a", "operator": "Near"}]})")));
}

}  // namespace
}  // namespace kafka_autoscaler::testing
