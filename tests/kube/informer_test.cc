// Informer against the test API server's KafkaScaler collection: list, watch, resume, 410 Gone
// with a re-list that delivers what was missed, backoff on refusal, and a prompt stop.
#include "kube/informer.h"

#include <gtest/gtest.h>

#include <mutex>
#include <sstream>
#include <thread>

#include "kube/server_fixture.h"

namespace kafka_autoscaler::testing {
namespace {

using nlohmann::json;

constexpr char kGroupVersion[] = "/apis/kafka-autoscaler.io/v1alpha1";

json Scaler(const std::string& name, const std::string& topic) {
  return json{
      {"apiVersion", "kafka-autoscaler.io/v1alpha1"},
      {"kind", "KafkaScaler"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", "web"}}}, {"topics", {topic}}}}};
}

bool WaitFor(const std::function<bool()>& cond) {
  for (int i = 0; i < 600; ++i) {  // up to a minute on a loaded machine
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

class InformerTest : public ServerFixture {
 protected:
  std::string Collection(const std::string& ns) const {
    return std::string(kGroupVersion) + "/namespaces/" + ns + "/kafkascalers";
  }
  void Create(const std::string& ns, const std::string& name, const std::string& topic) {
    json body = Scaler(name, topic);
    auto r = client_->Call("POST", Collection(ns), {"create", "kafkascalers", ns, name}, &body);
    ASSERT_TRUE(r) << r.error().message;
  }
  void Delete(const std::string& ns, const std::string& name) {
    auto r =
        client_->Call("DELETE", Collection(ns) + "/" + name, {"delete", "kafkascalers", ns, name});
    ASSERT_TRUE(r) << r.error().message;
  }
  void SetTopic(const std::string& ns, const std::string& name, const std::string& topic) {
    json patch = {{"spec", {{"topics", {topic}}}}};
    auto r =
        client_->Call("PATCH", Collection(ns) + "/" + name, {"patch", "kafkascalers", ns, name},
                      &patch, "application/merge-patch+json");
    ASSERT_TRUE(r) << r.error().message;
  }

  std::unique_ptr<kube::Informer> NewInformer(const std::string& token,
                                              std::chrono::seconds watch_timeout,
                                              std::function<void(json&)> prune = {},
                                              bool cache_metadata_only = false,
                                              int64_t page_size = 500) {
    kube::InformerOptions options{.path = std::string(kGroupVersion) + "/kafkascalers",
                                  .what = "kafkascalers",
                                  .watch_timeout = watch_timeout,
                                  .page_size = page_size,
                                  .backoff_initial = std::chrono::milliseconds(50),
                                  .backoff_max = std::chrono::milliseconds(200),
                                  .prune = std::move(prune),
                                  .cache_metadata_only = cache_metadata_only};
    auto informer = kube::Informer::Create(
        {.server = server_->url(), .ca_file = server_->ca_file(), .token = token}, options, clock_,
        log_);
    EXPECT_TRUE(informer) << informer.error().message;
    if (!informer) return nullptr;
    (*informer)->OnChange([this](const kube::Change& change) {
      std::lock_guard lock(mu_);
      delivered_.push_back(change.object);
      seen_.push_back(std::string(kube::ChangeTypeName(change.type)) + " " +
                      kube::ObjectKey(change.object));
    });
    return std::move(*informer);
  }
  // Five KafkaScalers in prod and an informer listing them two per page, run on `runner` until
  // synced (nullptr, runner not started, when it cannot be made or never syncs).
  std::unique_ptr<kube::Informer> StartPagedOverFive(StopToken& stop, std::thread& runner) {
    for (const char* name : {"a", "b", "c", "d", "e"}) Create("prod", name, "orders");
    auto informer = NewInformer(kAdminToken, std::chrono::seconds(300), {}, false, 2);
    if (!informer) return nullptr;
    runner = std::thread([&stop, i = informer.get()] { i->Run(stop); });
    if (!WaitFor([&] { return informer->synced(); })) {
      stop.Stop();
      runner.join();
      return nullptr;
    }
    return informer;
  }
  bool Seen(const std::string& what) {
    std::lock_guard lock(mu_);
    return std::find(seen_.begin(), seen_.end(), what) != seen_.end();
  }
  std::vector<std::string> SeenSoFar() {
    std::lock_guard lock(mu_);
    return seen_;
  }

  std::ostringstream log_out_;
  Logger log_{clock_, log_out_, LogLevel::kDebug, LogFormat::kJson};
  std::mutex mu_;
  std::vector<std::string> seen_;
  std::vector<json> delivered_;  // the changes' objects
};

TEST(KeepOnlyTest, KeepsThePathsAndWhatBlocksThemWhole) {
  const json object = {{"metadata",
                        {{"name", "a"},
                         {"labels", {{"x", "1"}}},
                         {"annotations", json::array({"not", "an object"})}}},
                       {"spec", {{"replicas", 3}, {"template", {{"big", "yes"}}}}},
                       {"status", "odd"}};
  const json kept = kube::KeepOnly(object, {{"metadata", "name"},
                                            {"metadata", "annotations", "paused"},
                                            {"spec", "replicas"},
                                            {"spec", "selector"},
                                            {"status", "replicas"},
                                            {"absent", "deeper"}});
  EXPECT_EQ(kept,
            (json{{"metadata", {{"name", "a"}, {"annotations", json::array({"not", "an object"})}}},
                  {"spec", {{"replicas", 3}}},
                  {"status", "odd"}}));
  EXPECT_EQ(kube::KeepOnly(json::array({1}), {{"a"}}), json::array({1}));
}

TEST_F(InformerTest, CacheOfMetadataOnlyStillDeliversWholeObjectsAndDeletions) {
  Create("prod", "a", "orders");
  Create("prod", "b", "orders");
  auto informer = NewInformer(kAdminToken, std::chrono::seconds(300), {}, true);
  ASSERT_NE(informer, nullptr);
  StopToken stop;
  std::thread runner([&] { informer->Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return informer->synced(); }));
  SetTopic("prod", "a", "orders-v2");  // a MODIFIED, not an ADDED: the key was cached
  ASSERT_TRUE(WaitFor([&] { return Seen("MODIFIED prod/a"); }));
  Delete("prod", "b");
  ASSERT_TRUE(WaitFor([&] { return Seen("DELETED prod/b"); }));
  stop.Stop();
  runner.join();

  auto a = informer->Get("prod/a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->size(), 1u) << a->dump();  // metadata only
  EXPECT_EQ((*a)["metadata"]["name"], "a");
  EXPECT_FALSE((*a)["metadata"].value("uid", "").empty());
  EXPECT_FALSE((*a)["metadata"].value("resourceVersion", "").empty());
  EXPECT_EQ(SeenSoFar(), (std::vector<std::string>{"ADDED prod/a", "ADDED prod/b",
                                                   "MODIFIED prod/a", "DELETED prod/b"}));
  std::lock_guard lock(mu_);
  ASSERT_EQ(delivered_.size(), 4u);
  EXPECT_EQ(delivered_[2]["spec"]["topics"][0], "orders-v2");  // the whole object
  EXPECT_EQ(delivered_[0]["kind"], "KafkaScaler");
}

TEST_F(InformerTest, PruneTrimsWhatIsCachedAndDelivered) {
  Create("prod", "a", "orders");
  auto prune = [](json& object) {
    object = kube::KeepOnly(object, {{"metadata", "name"},
                                     {"metadata", "namespace"},
                                     {"metadata", "resourceVersion"},
                                     {"spec", "topics"}});
  };
  auto informer = NewInformer(kAdminToken, std::chrono::seconds(300), prune);
  ASSERT_NE(informer, nullptr);
  StopToken stop;
  std::thread runner([&] { informer->Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return informer->synced(); }));
  Create("dev", "b", "payments");  // through the watch
  ASSERT_TRUE(WaitFor([&] { return Seen("ADDED dev/b"); }));
  stop.Stop();
  runner.join();

  for (const auto& [key, topic] : {std::pair{"prod/a", "orders"}, {"dev/b", "payments"}}) {
    auto cached = informer->Get(key);
    ASSERT_TRUE(cached.has_value()) << key;
    EXPECT_EQ(cached->size(), 2u) << cached->dump();  // metadata and spec only
    EXPECT_EQ((*cached)["spec"], (json{{"topics", {topic}}})) << key;
    EXPECT_EQ((*cached)["metadata"].size(), 3u) << cached->dump();
    EXPECT_FALSE((*cached)["metadata"].value("resourceVersion", "").empty());
  }
  std::lock_guard lock(mu_);
  ASSERT_EQ(delivered_.size(), 2u);
  for (const json& object : delivered_) {
    EXPECT_FALSE(object.contains("kind")) << object.dump();
    EXPECT_FALSE(object["spec"].contains("scaleTargetRef")) << object.dump();
  }
}

TEST_F(InformerTest, ListsThenDeliversEveryChangeInOrder) {
  Create("prod", "a", "orders");
  auto informer = NewInformer(kAdminToken, std::chrono::seconds(300));
  ASSERT_NE(informer, nullptr);
  StopToken stop;
  std::thread runner([&] { informer->Run(stop); });

  ASSERT_TRUE(WaitFor([&] { return informer->synced(); }));
  EXPECT_TRUE(informer->Get("prod/a").has_value());
  EXPECT_TRUE(Seen("ADDED prod/a"));

  Create("dev", "b", "payments");
  ASSERT_TRUE(WaitFor([&] { return Seen("ADDED dev/b"); }))
      << ::testing::PrintToString(SeenSoFar());
  SetTopic("prod", "a", "orders-v2");
  ASSERT_TRUE(WaitFor([&] { return Seen("MODIFIED prod/a"); }));
  auto a = informer->Get("prod/a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ((*a)["spec"]["topics"][0], "orders-v2");
  Delete("dev", "b");
  ASSERT_TRUE(WaitFor([&] { return Seen("DELETED dev/b"); }));
  EXPECT_FALSE(informer->Get("dev/b").has_value());
  EXPECT_EQ(informer->Snapshot().size(), 1u);

  stop.Stop();  // ends the open watch within about a second (watch_timeout is 300 s)
  runner.join();
  EXPECT_EQ(SeenSoFar(), (std::vector<std::string>{"ADDED prod/a", "ADDED dev/b", "MODIFIED prod/a",
                                                   "DELETED dev/b"}));
  const auto stats = informer->stats();
  EXPECT_EQ(stats.lists, 1);
  EXPECT_EQ(stats.events, 3);
  EXPECT_EQ(stats.errors, 0);
}

TEST_F(InformerTest, ResumesAfterTheServerEndsAWatchAndCountsBookmarks) {
  auto informer = NewInformer(kAdminToken, std::chrono::seconds(1));
  ASSERT_NE(informer, nullptr);
  StopToken stop;
  std::thread runner([&] { informer->Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return informer->stats().watches >= 3; }));
  Create("prod", "late", "orders");
  ASSERT_TRUE(WaitFor([&] { return Seen("ADDED prod/late"); }));
  stop.Stop();
  runner.join();
  const auto stats = informer->stats();
  EXPECT_EQ(stats.lists, 1) << "a watch the server ended resumes; it does not list again";
  EXPECT_EQ(stats.relists_after_gone, 0);
  EXPECT_GE(stats.bookmarks, 1);
}

TEST_F(InformerTest, GoneListsAgainAndDeliversTheDeletionItMissed) {
  Create("prod", "a", "orders");
  Create("prod", "b", "orders");
  auto informer = NewInformer(kAdminToken, std::chrono::seconds(300));
  ASSERT_NE(informer, nullptr);
  {
    StopToken stop;
    std::thread runner([&] { informer->Run(stop); });
    ASSERT_TRUE(WaitFor([&] { return informer->Snapshot().size() == 2; }));
    stop.Stop();
    runner.join();
  }
  // While nobody watches: b is deleted, a changes, c appears, and the history is forgotten.
  Delete("prod", "b");
  SetTopic("prod", "a", "orders-v2");
  Create("prod", "c", "orders");
  server_->CompactKafkaScalerHistory();

  StopToken stop;
  std::thread runner([&] { informer->Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return Seen("DELETED prod/b"); }))
      << ::testing::PrintToString(SeenSoFar());
  EXPECT_TRUE(Seen("MODIFIED prod/a"));
  EXPECT_TRUE(Seen("ADDED prod/c"));
  stop.Stop();
  runner.join();
  EXPECT_EQ(informer->stats().relists_after_gone, 1);
  EXPECT_EQ(informer->stats().lists, 2);
  EXPECT_EQ(informer->Snapshot().size(), 2u);
}

// The list requests of the collection (not watches), in order: their decoded queries.
std::vector<std::string> ListQueries(const TestApiServer& server) {
  std::vector<std::string> out;
  for (const auto& r : server.Requests()) {
    if (r.method == "GET" && r.path == std::string(kGroupVersion) + "/kafkascalers" &&
        r.query.find("watch=true") == std::string::npos) {
      out.push_back(r.query);
    }
  }
  return out;
}

TEST_F(InformerTest, ListsInPagesFollowingTheContinueToken) {
  StopToken stop;
  std::thread runner;
  auto informer = StartPagedOverFive(stop, runner);
  ASSERT_NE(informer, nullptr);
  EXPECT_EQ(informer->Snapshot().size(), 5u);
  // A change after the paged list arrives through the watch from the list's resourceVersion.
  Create("prod", "f", "orders");
  ASSERT_TRUE(WaitFor([&] { return Seen("ADDED prod/f"); }));
  stop.Stop();
  runner.join();
  const auto queries = ListQueries(*server_);
  ASSERT_EQ(queries.size(), 3u) << ::testing::PrintToString(queries);
  EXPECT_EQ(queries[0], "limit=2");
  EXPECT_NE(queries[1].find("continue="), std::string::npos) << queries[1];
  EXPECT_NE(queries[2].find("continue="), std::string::npos) << queries[2];
  const auto stats = informer->stats();
  EXPECT_EQ(stats.lists, 1);
  EXPECT_EQ(stats.pages, 3);
  EXPECT_EQ(stats.errors, 0);
  EXPECT_EQ(SeenSoFar().size(), 6u) << ::testing::PrintToString(SeenSoFar());
}

TEST_F(InformerTest, AnExpiredContinueTokenListsAgainInOneRequest) {
  server_->ExpireNextContinue("kafkascalers");
  StopToken stop;
  std::thread runner;
  auto informer = StartPagedOverFive(stop, runner);
  ASSERT_NE(informer, nullptr);
  stop.Stop();
  runner.join();
  EXPECT_EQ(informer->Snapshot().size(), 5u);
  // limit=2, then the continue answered 410 Expired, then one request without a limit.
  const auto queries = ListQueries(*server_);
  ASSERT_EQ(queries.size(), 3u) << ::testing::PrintToString(queries);
  EXPECT_EQ(queries[0], "limit=2");
  EXPECT_EQ(queries[2], "");
  const auto stats = informer->stats();
  EXPECT_EQ(stats.expired_continues, 1);
  EXPECT_EQ(stats.lists, 1);
  EXPECT_EQ(stats.errors, 0);
  // Each object delivered once: the first page's are not delivered before the list is whole.
  EXPECT_EQ(SeenSoFar().size(), 5u) << ::testing::PrintToString(SeenSoFar());
}

// A stop that comes while the watch still waits for the server's answer ends the request (curl's
// progress callback) before any status arrives; that is the caller's doing, not a failure: no
// error counted, no warning. (A TSan CI run counted one in the test above: its stop came just
// after the list, while the watch was being answered.)
TEST_F(InformerTest, AStopWhileTheWatchAwaitsItsAnswerIsNotAnError) {
  Create("prod", "a", "orders");
  // The list and then the watch are each held 3 s before the server answers.
  server_->InjectFault({.kind = FaultKind::kDelay,
                        .method = "GET",
                        .path_contains = "/kafkascalers",
                        .times = 2,
                        .delay = std::chrono::seconds(3)});
  auto informer = NewInformer(kAdminToken, std::chrono::seconds(300));
  ASSERT_NE(informer, nullptr);
  StopToken stop;
  std::thread runner([&] { informer->Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return informer->synced() && informer->stats().watches == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the watch is in its delay
  stop.Stop();
  runner.join();
  EXPECT_EQ(informer->stats().errors, 0);
  EXPECT_EQ(log_out_.str().find("failed; retrying"), std::string::npos) << log_out_.str();
}

TEST_F(InformerTest, AServerThatRepeatsItsContinueTokenIsAnErrorNotALoop) {
  Create("prod", "a", "orders");
  const json page = {{"apiVersion", "kafka-autoscaler.io/v1alpha1"},
                     {"kind", "KafkaScalerList"},
                     {"metadata", {{"resourceVersion", "7"}, {"continue", "again"}}},
                     {"items", json::array()}};
  server_->InjectFault({.kind = FaultKind::kBody,
                        .method = "GET",
                        .path_contains = "/kafkascalers",
                        .times = 2,
                        .status = 200,
                        .body = page.dump()});
  auto informer = NewInformer(kAdminToken, std::chrono::seconds(300), {}, false, /*page_size=*/2);
  ASSERT_NE(informer, nullptr);
  StopToken stop;
  std::thread runner([&] { informer->Run(stop); });
  // The broken answers end in an error and a retry; the next list (the fault spent) succeeds.
  ASSERT_TRUE(WaitFor([&] { return informer->synced(); }));
  stop.Stop();
  runner.join();
  EXPECT_EQ(informer->Snapshot().size(), 1u);
  EXPECT_EQ(informer->stats().errors, 1);
  EXPECT_NE(log_out_.str().find("repeated its continue token"), std::string::npos)
      << log_out_.str();
}

TEST_F(InformerTest, RefusedListBacksOffAndNeverSyncs) {
  auto informer = NewInformer("wrong-token", std::chrono::seconds(300));
  ASSERT_NE(informer, nullptr);
  StopToken stop;
  std::thread runner([&] { informer->Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return informer->stats().errors >= 3; }));
  stop.Stop();
  runner.join();
  EXPECT_FALSE(informer->synced());
  // One warning for the whole episode, however many retries.
  const std::string logs = log_out_.str();
  size_t warnings = 0;
  for (size_t at = 0;
       (at = logs.find("list/watch of kafkascalers failed", at)) != std::string::npos; ++at) {
    ++warnings;
  }
  EXPECT_EQ(warnings, 1u) << logs;
  EXPECT_NE(logs.find("401"), std::string::npos) << logs;
}

}  // namespace
}  // namespace kafka_autoscaler::testing
