// Tests of the test API server itself: its answers have the real Kubernetes shapes (checked
// against tests/data/k8s-openapi-v1.35 by the schema walker), auth and faults behave like a real
// server, the admin endpoints work over HTTP, and the test-apiserver executable starts.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "apiserver/schema_check.h"
#include "apiserver/test_apiserver.h"
#include "common/clock.h"
#include "kube/client.h"
#include "kube/deployment_target.h"
#include "kube/kube_config.h"
#include "kube/lease_lock.h"

extern char** environ;

namespace kafka_autoscaler::testing {
namespace {

using json = nlohmann::json;
const std::string kSchemaDir = std::string(KA_K8S_SCHEMA_DIR);

const SchemaSet& Schemas() {
  static const SchemaSet* set = [] {
    auto loaded = SchemaSet::LoadDir(kSchemaDir);
    EXPECT_TRUE(loaded) << loaded.error().message;
    return new SchemaSet(loaded ? std::move(*loaded) : SchemaSet());
  }();
  return *set;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// ---------------------------------------------------------------------------------------------
// The schema walker.

TEST(SchemaCheck, FindsEachKindOfProblem) {
  const json good = {{"apiVersion", "coordination.k8s.io/v1"},
                     {"kind", "Lease"},
                     {"metadata", {{"name", "l"}, {"namespace", "default"}}},
                     {"spec", {{"holderIdentity", "a"}, {"leaseDurationSeconds", 15}}}};
  struct Case {
    const char* name;
    json patch;          // merge patch applied to `good`
    std::string expect;  // substring of one problem; "" = no problems
  };
  const Case cases[] = {
      {.name = "conforming lease", .patch = json::object(), .expect = ""},
      {.name = "unknown field",
       .patch = {{"spec", {{"holderIdentty", "a"}}}},
       .expect = "spec.holderIdentty: unknown field"},
      {.name = "wrong type",
       .patch = {{"spec", {{"leaseDurationSeconds", "15"}}}},
       .expect = "spec.leaseDurationSeconds: expected integer, got string"},
      {.name = "unknown top-level field",
       .patch = {{"status", {{"x", 1}}}},
       .expect = "status: unknown field"},
      {.name = "map values checked",
       .patch = {{"metadata", {{"labels", {{"a", 1}}}}}},
       .expect = "metadata.labels.a: expected string, got integer"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json object = good;
    object.merge_patch(c.patch);
    auto problems = Schemas().Validate(object);
    if (c.expect.empty()) {
      EXPECT_TRUE(problems.empty()) << JoinLines(problems);
    } else {
      EXPECT_NE(JoinLines(problems).find(c.expect), std::string::npos) << JoinLines(problems);
    }
  }
}

TEST(SchemaCheck, RequiredFieldsAndArrays) {
  json deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", "d"}}},
      {"spec",
       {{"selector", {{"matchLabels", {{"app", "d"}}}}},
        {"template", {{"spec", {{"containers", json::array({{{"image", "x"}}})}}}}}}}};
  auto problems = Schemas().Validate(deployment);
  EXPECT_NE(
      JoinLines(problems).find("spec.template.spec.containers[0].name: required field missing"),
      std::string::npos)
      << JoinLines(problems);
  EXPECT_EQ(Schemas().SchemaFor("apps/v1", "Deployment"), "io.k8s.api.apps.v1.Deployment");
  EXPECT_EQ(Schemas().SchemaFor("v1", "Event"), "io.k8s.api.core.v1.Event");
  EXPECT_FALSE(Schemas().Validate({{"apiVersion", "x/v9"}, {"kind", "Nope"}}).empty());
}

// ---------------------------------------------------------------------------------------------
// Server fixtures.

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiServerOptions options{.tls = true, .openapi_dir = kSchemaDir};
    options.tokens.push_back({.token = "admin-token"});
    options.tokens.push_back(
        {.token = "reader-token",
         .user = "system:serviceaccount:prod:reader",
         .allow_all = false,
         .rules = {{.verbs = {"get"}, .resources = {"deployments", "deployments/scale"}}}});
    auto server = TestApiServer::Start(options);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    server_->AddDeployment("prod", "web", 2, {{"kafka-autoscaler/paused", "false"}});
    client_ = NewClient("admin-token");
  }
  std::unique_ptr<kube::Client> NewClient(const std::string& token) {
    auto client = kube::Client::Create({.server = server_->url(),
                                        .ca_file = server_->ca_file(),
                                        .token = token,
                                        .timeout = std::chrono::milliseconds(2000)},
                                       clock_);
    EXPECT_TRUE(client) << client.error().message;
    return client ? std::move(*client) : nullptr;
  }
  kube::HttpResponse Raw(const std::string& method, const std::string& path,
                         const std::string& body = "", const std::string& type = "") {
    auto r = client_->Do(method, path, body, type);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : kube::HttpResponse{};
  }
  // The events of GET `collection`?watch=true&`query`, read until the server ends the stream.
  std::vector<json> Watch(const std::string& collection, const std::string& query) {
    auto client = kube::Client::Create({.server = server_->url(),
                                        .ca_file = server_->ca_file(),
                                        .token = "admin-token",
                                        .timeout = std::chrono::milliseconds(30000)},
                                       clock_);
    EXPECT_TRUE(client);
    if (!client) return {};
    auto r = (*client)->Do("GET", collection + "?watch=true&" + query, "", "");
    EXPECT_TRUE(r) << r.error().message;
    EXPECT_EQ(r ? r->status : 0, 200);
    std::vector<json> events;
    std::istringstream in(r ? r->body : "");
    for (std::string l; std::getline(in, l);) {
      if (!l.empty()) events.push_back(json::parse(l));
    }
    return events;
  }
  // "TYPE name" of each event but bookmarks.
  static std::vector<std::string> Seen(const std::vector<json>& events) {
    std::vector<std::string> seen;
    for (const auto& e : events) {
      if (e["type"] == "BOOKMARK") continue;
      seen.push_back(e["type"].get<std::string>() + " " +
                     e["object"]["metadata"]["name"].get<std::string>());
    }
    return seen;
  }
  // The resourceVersion of a list of `collection` now.
  std::string ListVersion(const std::string& collection) {
    auto r = Raw("GET", collection);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body)["metadata"]["resourceVersion"].get<std::string>()
                           : "";
  }
  SystemClock clock_;
  std::unique_ptr<TestApiServer> server_;
  std::unique_ptr<kube::Client> client_;
};

constexpr char kDeploymentPath[] = "/apis/apps/v1/namespaces/prod/deployments/web";

TEST_F(ServerTest, ResponsesMatchTheSchemas) {
  // Produce one of every object through the real client paths.
  kube::DeploymentEventRecorder recorder(*client_, {"prod", "web"}, clock_, "pod-0");
  ASSERT_TRUE(recorder.Record(kube::EventType::kNormal, "ScaledUp",
                              "from 2 to 3: backlog 30 over 4 partitions"));
  kube::KubeLeaseLock lock(*client_, "prod", "ka-lease", "pod-0");
  ASSERT_TRUE(lock.Create({.holder_identity = "pod-0",
                           .lease_duration_seconds = 15,
                           .acquire_time = clock_.WallNow(),
                           .renew_time = clock_.WallNow()}));
  struct Case {
    const char* name;
    std::string method;
    std::string path;
    std::string body;
    std::string content_type;
    long status;
  };
  const std::string patch = R"({"spec":{"replicas":3}})";
  const Case cases[] = {
      {.name = "deployment", .method = "GET", .path = kDeploymentPath, .status = 200},
      {.name = "deployment list",
       .method = "GET",
       .path = "/apis/apps/v1/namespaces/prod/deployments",
       .status = 200},
      {.name = "scale",
       .method = "GET",
       .path = std::string(kDeploymentPath) + "/scale",
       .status = 200},
      {.name = "scale patch",
       .method = "PATCH",
       .path = std::string(kDeploymentPath) + "/scale",
       .body = patch,
       .content_type = "application/merge-patch+json",
       .status = 200},
      {.name = "event list",
       .method = "GET",
       .path = "/api/v1/namespaces/prod/events?fieldSelector=involvedObject.name%3Dweb",
       .status = 200},
      {.name = "lease",
       .method = "GET",
       .path = "/apis/coordination.k8s.io/v1/namespaces/prod/leases/ka-lease",
       .status = 200},
      {.name = "lease list",
       .method = "GET",
       .path = "/apis/coordination.k8s.io/v1/namespaces/prod/leases",
       .status = 200},
      {.name = "404 status",
       .method = "GET",
       .path = "/apis/apps/v1/namespaces/prod/deployments/nope",
       .status = 404},
      {.name = "409 status",
       .method = "PATCH",
       .path = std::string(kDeploymentPath) + "/scale",
       .body = R"({"metadata":{"resourceVersion":"1"},"spec":{"replicas":3}})",
       .content_type = "application/merge-patch+json",
       .status = 409},
      {.name = "422 status",
       .method = "PATCH",
       .path = std::string(kDeploymentPath) + "/scale",
       .body = R"({"spec":{"replicas":-1}})",
       .content_type = "application/merge-patch+json",
       .status = 422},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Raw(c.method, c.path, c.body, c.content_type);
    ASSERT_EQ(r.status, c.status) << r.body;
    json body = json::parse(r.body);
    if (body.value("kind", "").ends_with("List")) {
      // Lists: check every item against its kind's schema.
      const std::string item_kind =
          body["kind"].get<std::string>().substr(0, body["kind"].get<std::string>().size() - 4);
      ASSERT_FALSE(body["items"].empty());
      for (auto item : body["items"]) {
        item["apiVersion"] = body["apiVersion"];
        item["kind"] = item_kind;
        auto problems = Schemas().Validate(item);
        EXPECT_TRUE(problems.empty()) << JoinLines(problems);
      }
      continue;
    }
    auto problems = Schemas().Validate(body);
    EXPECT_TRUE(problems.empty()) << JoinLines(problems) << r.body;
  }
  // The Event the recorder posted, and the lease, also as stored.
  ASSERT_EQ(server_->Events("prod").size(), 1u);
  EXPECT_TRUE(Schemas().Validate(server_->Events("prod")[0]).empty());
  EXPECT_TRUE(Schemas().Validate(*server_->Lease("prod", "ka-lease")).empty());
}

TEST_F(ServerTest, ErrorBodiesAreRealStatusObjects) {
  auto reader = NewClient("reader-token");
  auto forbidden = reader->Do("PATCH", std::string(kDeploymentPath) + "/scale",
                              R"({"spec":{"replicas":3}})", "application/merge-patch+json");
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(forbidden->status, 403);
  json status = json::parse(forbidden->body);
  EXPECT_TRUE(Schemas().Validate(status).empty());
  EXPECT_EQ(status["reason"], "Forbidden");
  EXPECT_EQ(status["message"],
            "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:prod:reader\" "
            "cannot patch resource \"deployments/scale\" in API group \"apps\" in the namespace "
            "\"prod\"");
  auto anonymous = NewClient("wrong-token");
  auto unauthorized = anonymous->Do("GET", kDeploymentPath);
  ASSERT_TRUE(unauthorized);
  EXPECT_EQ(unauthorized->status, 401);
  EXPECT_TRUE(Schemas().Validate(json::parse(unauthorized->body)).empty());
  // The reader may read.
  auto read = reader->Do("GET", kDeploymentPath);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 200);
  // Discovery needs authentication but no rule.
  auto discovery = reader->Do("GET", "/apis");
  ASSERT_TRUE(discovery);
  EXPECT_EQ(discovery->status, 200);
}

TEST_F(ServerTest, FaultsAnswerWithRealStatusBodies) {
  struct Case {
    const char* name;
    Fault fault;
    long status;
    std::string retry_after;
  };
  const Case cases[] = {
      {.name = "conflict", .fault = {.kind = FaultKind::kConflict}, .status = 409},
      {.name = "server error", .fault = {.kind = FaultKind::kServerError}, .status = 500},
      {.name = "throttled",
       .fault = {.kind = FaultKind::kTooManyRequests, .retry_after_seconds = 7},
       .status = 429,
       .retry_after = "7"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Fault fault = c.fault;
    fault.method = "GET";
    fault.path_contains = "/scale";
    server_->InjectFault(fault);
    auto r = Raw("GET", std::string(kDeploymentPath) + "/scale");
    EXPECT_EQ(r.status, c.status);
    EXPECT_TRUE(Schemas().Validate(json::parse(r.body)).empty()) << r.body;
    if (!c.retry_after.empty()) {
      EXPECT_EQ(r.headers["retry-after"], c.retry_after);
    }
    EXPECT_EQ(Raw("GET", std::string(kDeploymentPath) + "/scale").status, 200);  // used up
  }
  server_->InjectFault({.kind = FaultKind::kDrop, .path_contains = "/scale"});
  auto dropped = client_->Do("GET", std::string(kDeploymentPath) + "/scale");
  ASSERT_FALSE(dropped);
  EXPECT_EQ(dropped.error().code, ErrorCode::kUnavailable);
  server_->InjectFault({.kind = FaultKind::kDelay,
                        .path_contains = "/scale",
                        .delay = std::chrono::milliseconds(3000)});
  auto slow = client_->Do("GET", std::string(kDeploymentPath) + "/scale");
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().code, ErrorCode::kTimeout);
}

TEST_F(ServerTest, DiscoveryAndOpenApi) {
  // kubectl first asks for aggregated discovery; plain JSON must come back (it accepts that).
  auto client = httplib::SSLClient("127.0.0.1", server_->port());
  client.set_ca_cert_path(server_->ca_file().c_str());
  client.enable_server_certificate_verification(true);
  httplib::Headers headers = {
      {"Authorization", "Bearer admin-token"},
      {"Accept",
       "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
       "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
       "application/json"}};
  auto apis = client.Get("/apis", headers);
  ASSERT_TRUE(apis);
  EXPECT_EQ(apis->status, 200);
  EXPECT_EQ(apis->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(apis->body)["kind"], "APIGroupList");
  auto apps = json::parse(client.Get("/apis/apps/v1", headers)->body);
  bool has_scale = false;
  for (const auto& r : apps["resources"]) has_scale |= r["name"] == "deployments/scale";
  EXPECT_TRUE(has_scale);
  auto index = json::parse(client.Get("/openapi/v3", headers)->body);
  ASSERT_TRUE(index["paths"].contains("apis/apps/v1"));
  const std::string url = index["paths"]["apis/apps/v1"]["serverRelativeURL"];
  auto doc = client.Get(url.c_str(), headers);
  ASSERT_TRUE(doc);
  std::ifstream in(kSchemaDir + "/apis__apps__v1_openapi.json");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(doc->body, ss.str());
}

TEST_F(ServerTest, AdminEndpointsOverHttp) {
  auto admin = httplib::SSLClient("127.0.0.1", server_->port());
  admin.set_ca_cert_path(server_->ca_file().c_str());
  admin.enable_server_certificate_verification(true);
  ASSERT_EQ(admin
                .Post("/_test/faults",
                      R"({"kind":"conflict","method":"PATCH","path_contains":"/scale","times":2})",
                      "application/json")
                ->status,
            200);
  EXPECT_EQ(admin.Post("/_test/faults", R"({"kind":"bogus"})", "application/json")->status, 400);
  const std::string patch = R"({"spec":{"replicas":5}})";
  EXPECT_EQ(
      Raw("PATCH", std::string(kDeploymentPath) + "/scale", patch, "application/merge-patch+json")
          .status,
      409);
  EXPECT_EQ(
      Raw("PATCH", std::string(kDeploymentPath) + "/scale", patch, "application/merge-patch+json")
          .status,
      409);
  EXPECT_EQ(
      Raw("PATCH", std::string(kDeploymentPath) + "/scale", patch, "application/merge-patch+json")
          .status,
      200);
  auto log = json::parse(admin.Get("/_test/requests")->body);
  int patches = 0;
  for (const auto& r : log) patches += r["method"] == "PATCH";
  EXPECT_EQ(patches, 3);
  EXPECT_EQ(server_->CountRequests("PATCH", "/scale"), 3);
  EXPECT_EQ(json::parse(admin.Get("/_test/deployments/prod/web")->body)["spec"]["replicas"], 5);
  // Recreate: a new uid. Delete: 404.
  const std::string old_uid = server_->Deployment("prod", "web")->at("metadata").at("uid");
  ASSERT_EQ(admin
                .Post("/_test/deployments", R"({"namespace":"prod","name":"web","replicas":1})",
                      "application/json")
                ->status,
            201);
  EXPECT_NE(server_->Deployment("prod", "web")->at("metadata").at("uid"), old_uid);
  ASSERT_EQ(admin.Delete("/_test/deployments/prod/web")->status, 200);
  EXPECT_EQ(Raw("GET", kDeploymentPath).status, 404);
  // Token rotation: the old token is refused.
  ASSERT_EQ(admin
                .Post("/_test/tokens/rotate", R"({"old":"admin-token","new":"admin-2"})",
                      "application/json")
                ->status,
            200);
  EXPECT_EQ(Raw("GET", "/apis").status, 401);
  EXPECT_EQ(NewClient("admin-2")->Do("GET", "/apis")->status, 200);
  // A verbatim (here truncated) body, for bad-input tests.
  ASSERT_EQ(admin
                .Post("/_test/faults",
                      R"({"kind":"body","path_contains":"/apis","status":200,"body":"{\"kind"})",
                      "application/json")
                ->status,
            200);
  auto garbled = NewClient("admin-2")->Call("GET", "/apis", {"list", "groups", "", ""});
  ASSERT_FALSE(garbled);
  EXPECT_EQ(garbled.error().code, ErrorCode::kProtocol);
  ASSERT_EQ(admin.Delete("/_test/requests")->status, 200);
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_F(ServerTest, UpdatesAreConditionalOnResourceVersion) {
  // Deployment PUT and Scale PUT: a stale resourceVersion is a 409, the current one succeeds.
  json deployment = json::parse(Raw("GET", kDeploymentPath).body);
  const std::string rv = deployment["metadata"]["resourceVersion"];
  deployment["spec"]["replicas"] = 6;
  auto put = Raw("PUT", kDeploymentPath, deployment.dump(), "application/json");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(json::parse(put.body)["spec"]["replicas"], 6);
  EXPECT_NE(json::parse(put.body)["metadata"]["resourceVersion"], rv);
  EXPECT_EQ(json::parse(put.body)["metadata"]["generation"], 2);
  auto stale = Raw("PUT", kDeploymentPath, deployment.dump(), "application/json");
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(json::parse(stale.body)["reason"], "Conflict");
  json scale = json::parse(Raw("GET", std::string(kDeploymentPath) + "/scale").body);
  scale["spec"]["replicas"] = 1;
  auto scale_put =
      Raw("PUT", std::string(kDeploymentPath) + "/scale", scale.dump(), "application/json");
  ASSERT_EQ(scale_put.status, 200) << scale_put.body;
  EXPECT_EQ(server_->Deployment("prod", "web")->at("spec").at("replicas"), 1);
  EXPECT_EQ(
      Raw("PUT", std::string(kDeploymentPath) + "/scale", scale.dump(), "application/json").status,
      409);
  // JSON patch is not supported: 415, like a server that does not accept the media type.
  EXPECT_EQ(
      Raw("PATCH", std::string(kDeploymentPath) + "/scale", "[]", "application/json-patch+json")
          .status,
      415);

  // Leases through two KubeLeaseLocks: the second writer from the same version loses.
  kube::KubeLeaseLock a(*client_, "prod", "l", "a");
  kube::KubeLeaseLock b(*client_, "prod", "l", "b");
  const kube::LeaderElectionRecord record{.holder_identity = "a", .lease_duration_seconds = 15};
  ASSERT_TRUE(a.Create(record));
  auto exists = b.Create(record);
  ASSERT_FALSE(exists);
  EXPECT_EQ(exists.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(a.Get());
  ASSERT_TRUE(b.Get());
  ASSERT_TRUE(a.Update(record));
  auto lost = b.Update({.holder_identity = "b", .lease_duration_seconds = 15});
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().code, ErrorCode::kConflict);
  EXPECT_EQ(server_->Lease("prod", "l")->at("spec").at("holderIdentity"), "a");
}

TEST_F(ServerTest, EventFieldSelectors) {
  server_->AddDeployment("prod", "other", 1);
  kube::DeploymentEventRecorder web(*client_, {"prod", "web"}, clock_, "");
  kube::DeploymentEventRecorder other(*client_, {"prod", "other"}, clock_, "");
  ASSERT_TRUE(web.Record(kube::EventType::kNormal, "ScaledUp", "a"));
  ASSERT_TRUE(web.Record(kube::EventType::kWarning, "ScaleFailed", "b"));
  ASSERT_TRUE(other.Record(kube::EventType::kNormal, "ScaledDown", "c"));
  struct Case {
    const char* name;
    std::string selector;
    long status;
    size_t items;
  };
  const Case cases[] = {
      {.name = "all", .selector = "", .status = 200, .items = 3},
      {.name = "by object",
       .selector = "involvedObject.name=web,involvedObject.kind=Deployment",
       .status = 200,
       .items = 2},
      {.name = "by type", .selector = "type=Warning", .status = 200, .items = 1},
      {.name = "negated", .selector = "reason!=ScaledUp", .status = 200, .items = 2},
      {.name = "by source", .selector = "source=kafka-autoscaler", .status = 200, .items = 3},
      {.name = "unsupported field", .selector = "message=a", .status = 400, .items = 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r =
        Raw("GET", "/api/v1/namespaces/prod/events?fieldSelector=" + kube::UrlEncode(c.selector));
    ASSERT_EQ(r.status, c.status) << r.body;
    if (c.status == 200) {
      EXPECT_EQ(json::parse(r.body)["items"].size(), c.items);
    }
  }
}

// KafkaScaler watch: the initial ADDED list, every change in order, bookmarks, resuming from a
// resourceVersion, and 410 Gone once the history no longer reaches back.
TEST_F(ServerTest, KafkaScalerWatchStreamsChangesBookmarksAndGone) {
  const std::string collection = "/apis/kafka-autoscaler.io/v1alpha1/namespaces/prod/kafkascalers";
  auto scaler = [](const std::string& name) {
    return json{
        {"apiVersion", "kafka-autoscaler.io/v1alpha1"},
        {"kind", "KafkaScaler"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"scaleTargetRef", {{"kind", "Deployment"}, {"name", "web"}}}, {"topics", {"orders"}}}}}
        .dump();
  };
  ASSERT_EQ(Raw("POST", collection, scaler("a"), "application/json").status, 201);
  auto watch = [&](const std::string& query) { return Watch(collection, query); };

  std::vector<json> first;
  std::thread watcher([&] { first = watch("allowWatchBookmarks=true&timeoutSeconds=3"); });
  auto watching = [&] {
    for (const auto& r : server_->Requests()) {
      if (r.query.find("watch=true") != std::string::npos) return true;
    }
    return false;
  };
  for (int i = 0; i < 500 && !watching(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(watching());
  const auto modified = Raw("PATCH", collection + "/a", R"({"spec":{"maxReplicas":4}})",
                            "application/merge-patch+json");
  ASSERT_EQ(modified.status, 200);
  const std::string modified_rv = json::parse(modified.body)["metadata"]["resourceVersion"];
  ASSERT_EQ(Raw("POST", collection, scaler("b"), "application/json").status, 201);
  ASSERT_EQ(Raw("DELETE", collection + "/a").status, 200);
  watcher.join();

  int bookmarks = 0;
  for (const auto& e : first) {
    if (e["type"] == "BOOKMARK") {
      ++bookmarks;
      EXPECT_TRUE(e["object"]["metadata"]["resourceVersion"].is_string());
    }
  }
  EXPECT_EQ(Seen(first),
            (std::vector<std::string>{"ADDED a", "MODIFIED a", "ADDED b", "DELETED a"}));
  EXPECT_GE(bookmarks, 1);

  // Resuming after the MODIFIED event gives exactly what followed it.
  EXPECT_EQ(Seen(watch("resourceVersion=" + modified_rv + "&timeoutSeconds=1")),
            (std::vector<std::string>{"ADDED b", "DELETED a"}));

  // After compaction that resourceVersion is gone: one ERROR event with a 410 Status.
  server_->CompactKafkaScalerHistory();
  const auto gone = watch("resourceVersion=" + modified_rv + "&timeoutSeconds=1");
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0]["type"], "ERROR");
  EXPECT_EQ(gone[0]["object"]["code"], 410);
  EXPECT_EQ(gone[0]["object"]["reason"], "Expired");
}

// Deployments and StatefulSets: every change, whoever makes it, is one event with a new
// resourceVersion, on the namespaced and the all-namespaces watch alike.
TEST_F(ServerTest, WorkloadWatchSeesEveryChange) {
  struct Case {
    const char* name;
    WorkloadKind kind;
    std::string resource;
  };
  const Case cases[] = {
      {.name = "deployment", .kind = WorkloadKind::kDeployment, .resource = "deployments"},
      {.name = "statefulset", .kind = WorkloadKind::kStatefulSet, .resource = "statefulsets"},
  };
  httplib::Client admin(server_->url());
  admin.enable_server_certificate_verification(false);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string all = "/apis/apps/v1/" + c.resource;
    const std::string in_ns = "/apis/apps/v1/namespaces/stream/" + c.resource;
    const std::string from = ListVersion(all);
    ASSERT_EQ(admin
                  .Post("/_test/" + c.resource, R"({"namespace":"stream","name":"w","replicas":1})",
                        "application/json")
                  ->status,
              201);
    server_->AddWorkload(c.kind, "elsewhere", "x", 1);
    const std::string scale = in_ns + "/w/scale";
    ASSERT_EQ(
        Raw("PATCH", scale, R"({"spec":{"replicas":4}})", "application/merge-patch+json").status,
        200);
    ASSERT_EQ(admin
                  .Patch("/_test/" + c.resource + "/stream/w",
                         R"({"metadata":{"annotations":{"kafka-autoscaler/paused":"true"}}})",
                         "application/json")
                  ->status,
              200);
    ASSERT_EQ(
        admin
            .Post("/_test/" + c.resource + "/stream/w/ready", R"({"ready":2})", "application/json")
            ->status,
        200);
    ASSERT_EQ(Raw("PATCH", in_ns + "/w", R"({"metadata":{"labels":{"team":"t"}}})",
                  "application/merge-patch+json")
                  .status,
              200);
    server_->AddWorkload(c.kind, "stream", "w", 3);  // recreated: a new uid
    ASSERT_TRUE(server_->DeleteWorkload(c.kind, "stream", "w"));

    const auto events = Watch(in_ns, "resourceVersion=" + from + "&timeoutSeconds=1");
    EXPECT_EQ(Seen(events),
              (std::vector<std::string>{"ADDED w", "MODIFIED w", "MODIFIED w", "MODIFIED w",
                                        "MODIFIED w", "DELETED w", "ADDED w", "DELETED w"}));
    uint64_t last = std::stoull(from);
    for (const auto& e : events) {
      if (e["type"] == "BOOKMARK") continue;
      EXPECT_EQ(e["object"]["kind"],
                c.kind == WorkloadKind::kDeployment ? "Deployment" : "StatefulSet");
      const uint64_t rv =
          std::stoull(e["object"]["metadata"]["resourceVersion"].get<std::string>());
      EXPECT_GT(rv, last) << e.dump();
      last = rv;
    }
    ASSERT_GE(events.size(), 5u);
    EXPECT_EQ(events[1]["object"]["spec"]["replicas"], 4);  // the /scale write
    EXPECT_EQ(events[3]["object"]["status"]["readyReplicas"], 2);
    // Across namespaces: the other namespace's object too.
    EXPECT_EQ(Seen(Watch(all, "resourceVersion=" + from + "&timeoutSeconds=1")).size(), 9u);
    // A fresh watch starts with the objects that exist; after compaction an old version is gone.
    const json listed = json::parse(Raw("GET", all).body);
    std::vector<std::string> existing;
    for (const auto& o : listed["items"])
      existing.push_back("ADDED " + o["metadata"]["name"].get<std::string>());
    EXPECT_EQ(Seen(Watch(all, "timeoutSeconds=1")), existing);
    EXPECT_EQ(existing.size(), c.kind == WorkloadKind::kDeployment ? 2u : 1u);  // x (and web)
    server_->CompactHistory(c.resource);
    const auto gone = Watch(all, "resourceVersion=" + from + "&timeoutSeconds=1");
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_EQ(gone[0]["object"]["code"], 410);
  }
}

// StatefulSets have what the autoscaler reads and writes on Deployments: /scale with
// resourceVersion preconditions, status.replicas/readyReplicas, real shapes.
TEST_F(ServerTest, StatefulSetScaleLikeDeployments) {
  server_->AddWorkload(WorkloadKind::kStatefulSet, "prod", "db", 2,
                       {{"kafka-autoscaler/paused", "false"}});
  const std::string path = "/apis/apps/v1/namespaces/prod/statefulsets/db";
  auto scale = Raw("GET", path + "/scale");
  ASSERT_EQ(scale.status, 200) << scale.body;
  const json s = json::parse(scale.body);
  EXPECT_EQ(s["kind"], "Scale");
  EXPECT_EQ(s["spec"]["replicas"], 2);
  EXPECT_EQ(s["status"]["selector"], "app=db");
  EXPECT_TRUE(Schemas().Validate(s).empty());
  const std::string rv = s["metadata"]["resourceVersion"];
  const std::string write =
      R"({"metadata":{"resourceVersion":")" + rv + R"("},"spec":{"replicas":5}})";
  ASSERT_EQ(Raw("PATCH", path + "/scale", write, "application/merge-patch+json").status, 200);
  const auto stale = Raw("PATCH", path + "/scale", write, "application/merge-patch+json");
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(json::parse(stale.body)["message"].get<std::string>().rfind(
                "Operation cannot be fulfilled on statefulsets.apps \"db\"", 0),
            0u)
      << stale.body;
  auto sts = json::parse(Raw("GET", path).body);
  EXPECT_EQ(sts["spec"]["replicas"], 5);
  EXPECT_EQ(sts["status"]["replicas"], 5);
  EXPECT_EQ(sts["status"]["readyReplicas"], 5);
  auto problems = Schemas().Validate(sts);
  EXPECT_TRUE(problems.empty()) << JoinLines(problems);
  ASSERT_TRUE(server_->SetWorkloadReadyLimit(WorkloadKind::kStatefulSet, "prod", "db", 1));
  EXPECT_EQ(json::parse(Raw("GET", path).body)["status"]["readyReplicas"], 1);
  auto list = json::parse(Raw("GET", "/apis/apps/v1/namespaces/prod/statefulsets").body);
  EXPECT_EQ(list["kind"], "StatefulSetList");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(Raw("GET", path + "x").status, 404);
}

TEST_F(ServerTest, SelectorsFilterListsAndWatches) {
  server_->AddDeployment("prod", "a", 1);
  server_->AddDeployment("dev", "b", 1);
  ASSERT_TRUE(server_->PatchDeployment("prod", "a", {{"metadata", {{"labels", {{"team", "x"}}}}}}));
  const std::string all = "/apis/apps/v1/deployments";
  auto names = [&](const std::string& query) {
    auto r = Raw("GET", all + "?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> out;
    if (r.status != 200) return out;
    const json list = json::parse(r.body);
    for (const auto& item : list["items"]) {
      out.push_back(item["metadata"]["name"].get<std::string>());
    }
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(""), (Names{"b", "a", "web"}));  // sorted by namespace/name
  EXPECT_EQ(names("labelSelector=team%3Dx"), (Names{"a"}));
  EXPECT_EQ(names("labelSelector=team%3D%3Dx"), (Names{"a"}));
  EXPECT_EQ(names("labelSelector=team%21%3Dx"), (Names{"b", "web"}));
  EXPECT_EQ(names("labelSelector=team"), (Names{"a"}));
  EXPECT_EQ(names("labelSelector=%21team"), (Names{"b", "web"}));
  EXPECT_EQ(names("labelSelector=app%20in%20(a,web),team"), (Names{"a"}));
  EXPECT_EQ(names("labelSelector=app%20notin%20(a,web)"), (Names{"b"}));
  EXPECT_EQ(names("fieldSelector=metadata.name%3Dweb"), (Names{"web"}));
  EXPECT_EQ(names("fieldSelector=metadata.namespace%21%3Dprod"), (Names{"b"}));
  EXPECT_EQ(Raw("GET", all + "?fieldSelector=spec.replicas%3D1").status, 400);
  EXPECT_EQ(Raw("GET", all + "?labelSelector=app%20within%20(a)").status, 400);

  // Watch under a selector: an object that starts matching is ADDED, one that stops DELETED.
  const std::string from = ListVersion(all);
  ASSERT_TRUE(server_->PatchDeployment("dev", "b", {{"metadata", {{"labels", {{"team", "x"}}}}}}));
  ASSERT_TRUE(server_->PatchDeployment("prod", "web", {{"spec", {{"replicas", 3}}}}));
  ASSERT_TRUE(server_->PatchDeployment("prod", "a", {{"metadata", {{"labels", {{"team", "y"}}}}}}));
  ASSERT_TRUE(server_->PatchDeployment("dev", "b", {{"spec", {{"replicas", 2}}}}));
  EXPECT_EQ(
      Seen(Watch(all, "labelSelector=team%3Dx&resourceVersion=" + from + "&timeoutSeconds=1")),
      (Names{"ADDED b", "DELETED a", "MODIFIED b"}));
  EXPECT_EQ(Seen(Watch(all, "fieldSelector=metadata.name%3Dweb&resourceVersion=" + from +
                                "&timeoutSeconds=1")),
            (Names{"MODIFIED web"}));
  EXPECT_EQ(Seen(Watch(all, "labelSelector=team%3Dx&timeoutSeconds=1")), (Names{"ADDED b"}));
}

TEST_F(ServerTest, HorizontalPodAutoscalersAreWatched) {
  const std::string all = "/apis/autoscaling/v2/horizontalpodautoscalers";
  const std::string from = ListVersion(all);
  httplib::Client admin(server_->url());
  admin.enable_server_certificate_verification(false);
  ASSERT_EQ(admin
                .Post("/_test/horizontalpodautoscalers",
                      R"({"namespace":"prod","name":"db-cpu","target":"db",)"
                      R"("target_kind":"StatefulSet"})",
                      "application/json")
                ->status,
            201);
  server_->AddHorizontalPodAutoscaler("prod", "web-cpu", "web");
  ASSERT_EQ(admin.Delete("/_test/horizontalpodautoscalers/prod/db-cpu")->status, 200);
  const auto events = Watch(all, "resourceVersion=" + from + "&timeoutSeconds=1");
  EXPECT_EQ(Seen(events),
            (std::vector<std::string>{"ADDED db-cpu", "ADDED web-cpu", "DELETED db-cpu"}));
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["object"]["spec"]["scaleTargetRef"]["kind"], "StatefulSet");
  auto list =
      json::parse(Raw("GET", "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers").body);
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["kind"], "HorizontalPodAutoscalerList");
}

// Leases are watched like any collection (kube::ShardCoordinator's informer): create, update
// (a renewal) and delete each arrive as one event.
TEST_F(ServerTest, LeasesAreWatched) {
  const std::string leases = "/apis/coordination.k8s.io/v1/namespaces/prod/leases";
  const std::string from = ListVersion(leases);
  auto created = Raw("POST", leases, R"({"metadata":{"name":"l"},"spec":{"holderIdentity":"a"}})",
                     "application/json");
  ASSERT_EQ(created.status, 201) << created.body;
  json lease = json::parse(created.body);
  lease["spec"]["holderIdentity"] = "b";
  ASSERT_EQ(Raw("PUT", leases + "/l", lease.dump(), "application/json").status, 200);
  ASSERT_EQ(Raw("DELETE", leases + "/l").status, 200);
  const auto events = Watch(leases, "resourceVersion=" + from + "&timeoutSeconds=1");
  EXPECT_EQ(Seen(events), (std::vector<std::string>{"ADDED l", "MODIFIED l", "DELETED l"}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1]["object"]["spec"]["holderIdentity"], "b");
}

// ConfigMaps (core v1) as the daemon persists its learned state in one: create, get, list,
// conditional update, delete, each with the real server's Status bodies, and watched.
TEST_F(ServerTest, ConfigMapsCreateGetUpdateDelete) {
  const std::string configmaps = "/api/v1/namespaces/prod/configmaps";
  const std::string from = ListVersion(configmaps);
  auto created = Raw("POST", configmaps,
                     R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"state",)"
                     R"("labels":{"app":"ka"}},"data":{"model":"{\"rate\":12}"}})",
                     "application/json");
  ASSERT_EQ(created.status, 201) << created.body;
  json cm = json::parse(created.body);
  EXPECT_TRUE(Schemas().Validate(cm).empty()) << JoinLines(Schemas().Validate(cm));
  EXPECT_EQ(cm["apiVersion"], "v1");
  EXPECT_EQ(cm["kind"], "ConfigMap");
  EXPECT_EQ(cm["metadata"]["namespace"], "prod");
  EXPECT_FALSE(cm["metadata"].value("uid", "").empty());
  EXPECT_FALSE(cm["metadata"].value("creationTimestamp", "").empty());
  EXPECT_EQ(cm["data"]["model"], "{\"rate\":12}");
  EXPECT_EQ(server_->ConfigMap("prod", "state"), cm);

  auto again = Raw("POST", configmaps, R"({"metadata":{"name":"state"}})", "application/json");
  ASSERT_EQ(again.status, 409) << again.body;
  json exists = json::parse(again.body);
  EXPECT_TRUE(Schemas().Validate(exists).empty()) << again.body;
  EXPECT_EQ(exists["reason"], "AlreadyExists");
  EXPECT_EQ(exists["message"], "configmaps \"state\" already exists");
  EXPECT_EQ(exists["details"], (json{{"name", "state"}, {"group", ""}, {"kind", "configmaps"}}));

  auto got = Raw("GET", configmaps + "/state");
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(json::parse(got.body), cm);

  // An update from an older resourceVersion loses; from the current one it wins.
  json stale = cm;
  stale["metadata"]["resourceVersion"] = "1";
  stale["data"]["model"] = "stale";
  auto conflict = Raw("PUT", configmaps + "/state", stale.dump(), "application/json");
  ASSERT_EQ(conflict.status, 409) << conflict.body;
  json status = json::parse(conflict.body);
  EXPECT_TRUE(Schemas().Validate(status).empty()) << conflict.body;
  EXPECT_EQ(status["reason"], "Conflict");
  EXPECT_EQ(status["message"],
            "Operation cannot be fulfilled on configmaps \"state\": the object has been "
            "modified; please apply your changes to the latest version and try again");
  EXPECT_EQ(status["details"], (json{{"name", "state"}, {"group", ""}, {"kind", "configmaps"}}));
  EXPECT_EQ(server_->ConfigMap("prod", "state")->at("data").at("model"), "{\"rate\":12}");

  json next = cm;
  next["data"] = {{"model", "{\"rate\":15}"}, {"updated", "2026-12-01T00:00:00Z"}};
  next["binaryData"] = {{"blob", "AAEC"}};
  next["metadata"]["annotations"] = {{"kafka-autoscaler.io/version", "2"}};
  next["metadata"]["uid"] = "not-mine";  // server-owned: ignored
  auto updated = Raw("PUT", configmaps + "/state", next.dump(), "application/json");
  ASSERT_EQ(updated.status, 200) << updated.body;
  json after = json::parse(updated.body);
  EXPECT_NE(after["metadata"]["resourceVersion"], cm["metadata"]["resourceVersion"]);
  EXPECT_EQ(after["metadata"]["uid"], cm["metadata"]["uid"]);
  EXPECT_EQ(after["metadata"]["creationTimestamp"], cm["metadata"]["creationTimestamp"]);
  EXPECT_EQ(after["data"], next["data"]);
  EXPECT_EQ(after["binaryData"], next["binaryData"]);
  EXPECT_EQ(after["metadata"]["labels"], (json{{"app", "ka"}}));
  EXPECT_EQ(after["metadata"]["annotations"], next["metadata"]["annotations"]);
  EXPECT_EQ(server_->ConfigMap("prod", "state"), after);
  EXPECT_TRUE(Schemas().Validate(after).empty()) << JoinLines(Schemas().Validate(after));
  // Without a resourceVersion an update is unconditional; one that changes nothing keeps the
  // resourceVersion, as etcd is not written.
  json unconditional = after;
  unconditional["metadata"].erase("resourceVersion");
  auto same = Raw("PUT", configmaps + "/state", unconditional.dump(), "application/json");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(json::parse(same.body)["metadata"]["resourceVersion"],
            after["metadata"]["resourceVersion"]);
  // A merge patch, as kubectl label/annotate/edit send.
  auto patched = Raw("PATCH", configmaps + "/state", R"({"data":{"updated":null}})",
                     "application/merge-patch+json");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json::parse(patched.body)["data"], (json{{"model", "{\"rate\":15}"}}));
  // The name in the body must be the one in the URL.
  json renamed = json::parse(patched.body);
  renamed["metadata"]["name"] = "other";
  EXPECT_EQ(Raw("PUT", configmaps + "/state", renamed.dump(), "application/json").status, 400);
  EXPECT_EQ(
      Raw("PUT", configmaps + "/missing", R"({"metadata":{"name":"missing"}})", "application/json")
          .status,
      404);

  // Lists in the namespace and across namespaces; a test's setter.
  server_->PutConfigMap(
      {{"metadata", {{"namespace", "dev"}, {"name", "seed"}}}, {"data", {{"k", "v"}}}});
  auto seeded = Raw("GET", "/api/v1/namespaces/dev/configmaps/seed");
  ASSERT_EQ(seeded.status, 200) << seeded.body;
  EXPECT_EQ(json::parse(seeded.body)["data"]["k"], "v");
  EXPECT_EQ(json::parse(seeded.body)["kind"], "ConfigMap");
  json list = json::parse(Raw("GET", configmaps).body);
  EXPECT_EQ(list["kind"], "ConfigMapList");
  EXPECT_EQ(list["apiVersion"], "v1");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["metadata"]["name"], "state");
  EXPECT_EQ(json::parse(Raw("GET", "/api/v1/configmaps").body)["items"].size(), 2u);
  EXPECT_EQ(
      json::parse(Raw("GET", "/api/v1/configmaps?fieldSelector=metadata.name%3Dseed").body)["items"]
          .size(),
      1u);

  // Delete, then 404 with a real NotFound Status.
  auto deleted = Raw("DELETE", configmaps + "/state");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(json::parse(deleted.body)["status"], "Success");
  EXPECT_FALSE(server_->ConfigMap("prod", "state"));
  auto missing = Raw("GET", configmaps + "/state");
  ASSERT_EQ(missing.status, 404) << missing.body;
  json not_found = json::parse(missing.body);
  EXPECT_TRUE(Schemas().Validate(not_found).empty()) << missing.body;
  EXPECT_EQ(not_found["reason"], "NotFound");
  EXPECT_EQ(not_found["message"], "configmaps \"state\" not found");
  EXPECT_EQ(not_found["details"], (json{{"name", "state"}, {"group", ""}, {"kind", "configmaps"}}));
  EXPECT_EQ(Raw("DELETE", configmaps + "/state").status, 404);

  // Every change was one watch event.
  EXPECT_EQ(Seen(Watch(configmaps, "resourceVersion=" + from + "&timeoutSeconds=1")),
            (std::vector<std::string>{"ADDED state", "MODIFIED state", "MODIFIED state",
                                      "DELETED state"}));

  // Discovery names them, so kubectl knows `configmaps` and `cm`.
  json core = json::parse(Raw("GET", "/api/v1").body);
  bool listed = false;
  for (const auto& r : core["resources"]) {
    if (r["name"] != "configmaps") continue;
    listed = true;
    EXPECT_EQ(r["kind"], "ConfigMap");
    EXPECT_EQ(r["namespaced"], true);
    EXPECT_EQ(r["shortNames"], (json{"cm"}));
    for (const char* verb : {"create", "delete", "get", "list", "patch", "update", "watch"}) {
      EXPECT_NE(std::find(r["verbs"].begin(), r["verbs"].end(), verb), r["verbs"].end()) << verb;
    }
  }
  EXPECT_TRUE(listed) << core.dump();
}

// What the real server refuses in a ConfigMap: its name, its keys, non-string values, and more
// than 1 MiB of data and binaryData in all.
TEST_F(ServerTest, ConfigMapValidationLikeTheRealServer) {
  const std::string configmaps = "/api/v1/namespaces/prod/configmaps";
  auto body = [](const std::string& name, const json& content) {
    json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}};
    cm.update(content);
    return cm.dump();
  };
  const std::string mib(1048576, 'x');
  struct Case {
    const char* name;
    std::string body;
    long status;
    std::string message;  // substring of the Status message
    std::string field;    // the first cause's field ("" = no causes checked)
  };
  const Case cases[] = {
      {.name = "exactly 1 MiB", .body = body("full", {{"data", {{"a", mib}}}}), .status = 201},
      {.name = "one byte over",
       .body = body("over", {{"data", {{"a", mib + "y"}}}}),
       .status = 422,
       .message = "ConfigMap \"over\" is invalid: []: Too long: must have at most 1048576 bytes",
       .field = "[]"},
      {.name = "data and binaryData together",
       .body = body("both", {{"data", {{"a", mib.substr(2)}}}, {"binaryData", {{"b", "AAEC"}}}}),
       .status = 422,
       .message = "Too long: must have at most 1048576 bytes",
       .field = "[]"},
      {.name = "non-string value",
       .body = body("typed", {{"data", {{"count", 3}}}}),
       .status = 422,
       .message = "ConfigMap \"typed\" is invalid: data[count]: Invalid value: 3: must be a string",
       .field = "data[count]"},
      {.name = "data not an object",
       .body = body("list", {{"data", {"a", "b"}}}),
       .status = 422,
       .message = "data: Invalid value",
       .field = "data"},
      {.name = "bad key",
       .body = body("keys", {{"data", {{"a b", "v"}}}}),
       .status = 422,
       .message = "data[a b]: Invalid value: \"a b\": a valid config key must consist of "
                  "alphanumeric characters",
       .field = "data[a b]"},
      {.name = "key in both",
       .body = body("dup", {{"data", {{"k", "v"}}}, {"binaryData", {{"k", "AAEC"}}}}),
       .status = 422,
       .message = "binaryData: Invalid value: \"k\": duplicate of key present in data",
       .field = "binaryData"},
      {.name = "no name",
       .body = json({{"data", {{"k", "v"}}}}).dump(),
       .status = 422,
       .message = "ConfigMap \"\" is invalid: metadata.name: Required value",
       .field = "metadata.name"},
      {.name = "bad name",
       .body = body("Not_A_Name", json::object()),
       .status = 422,
       .message = "a lowercase RFC 1123 subdomain",
       .field = "metadata.name"},
      {.name = "binaryData not base64",
       .body = body("b64", {{"binaryData", {{"b", "@@@@"}}}}),
       .status = 400,
       .message = "illegal base64 data at input byte 0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Raw("POST", configmaps, c.body, "application/json");
    ASSERT_EQ(r.status, c.status) << r.body.substr(0, 1000);
    json answer = json::parse(r.body);
    if (c.status == 201) continue;
    EXPECT_TRUE(Schemas().Validate(answer).empty()) << JoinLines(Schemas().Validate(answer));
    EXPECT_NE(answer["message"].get<std::string>().find(c.message), std::string::npos)
        << answer["message"];
    if (c.status == 422) {
      EXPECT_EQ(answer["reason"], "Invalid");
      EXPECT_EQ(answer["details"]["kind"], "ConfigMap");
      ASSERT_FALSE(answer["details"]["causes"].empty()) << r.body;
      EXPECT_EQ(answer["details"]["causes"][0]["field"], c.field);
    }
  }
  EXPECT_TRUE(server_->ConfigMap("prod", "full"));
  EXPECT_FALSE(server_->ConfigMap("prod", "over"));
  EXPECT_FALSE(server_->ConfigMap("prod", "typed"));

  // An update is validated the same way, and nothing of an immutable ConfigMap changes.
  json full = *server_->ConfigMap("prod", "full");
  full["data"]["more"] = "z";
  auto grown = Raw("PUT", configmaps + "/full", full.dump(), "application/json");
  ASSERT_EQ(grown.status, 422) << grown.body.substr(0, 1000);
  EXPECT_NE(json::parse(grown.body)["message"].get<std::string>().find(
                "Too long: must have at most 1048576 bytes"),
            std::string::npos);
  ASSERT_EQ(Raw("POST", configmaps, body("frozen", {{"data", {{"k", "v"}}}, {"immutable", true}}),
                "application/json")
                .status,
            201);
  auto thawed =
      Raw("PATCH", configmaps + "/frozen", R"({"data":{"k":"w"}})", "application/merge-patch+json");
  ASSERT_EQ(thawed.status, 422) << thawed.body;
  EXPECT_EQ(json::parse(thawed.body)["message"],
            "ConfigMap \"frozen\" is invalid: data: Forbidden: field is immutable when "
            "`immutable` is set");
  EXPECT_EQ(Raw("PATCH", configmaps + "/frozen", R"({"metadata":{"labels":{"a":"b"}}})",
                "application/merge-patch+json")
                .status,
            200);
}

TEST(TokenFlags, ParseRulesAndPolicies) {
  auto all = ParseTokenFlag("abc");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->allow_all);
  auto ruled =
      ParseTokenFlag("abc:get,list=deployments,deployments/scale;patch=deployments/scale@web");
  ASSERT_TRUE(ruled);
  EXPECT_FALSE(ruled->allow_all);
  ASSERT_EQ(ruled->rules.size(), 2u);
  EXPECT_EQ(ruled->rules[0].verbs, (std::vector<std::string>{"get", "list"}));
  EXPECT_EQ(ruled->rules[1].resource_names, (std::vector<std::string>{"web"}));
  EXPECT_FALSE(ParseTokenFlag("abc:nonsense"));
  auto yaml = ParsePolicy(
      "tokens:\n- token: t1\n  user: u1\n  rules:\n  - verbs: [get]\n"
      "    resources: [leases]\n- token: t2\n");
  ASSERT_TRUE(yaml) << yaml.error().message;
  ASSERT_EQ(yaml->size(), 2u);
  EXPECT_EQ((*yaml)[0].user, "u1");
  EXPECT_FALSE((*yaml)[0].allow_all);
  EXPECT_TRUE((*yaml)[1].allow_all);
  EXPECT_FALSE(ParsePolicy("[1, 2]"));
}

TEST(TestApiServerBinary, PrintsUrlCaAndKubeconfigThenServes) {
  char dir_template[] = "/tmp/ka-apiserver-bin-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args = {TEST_APISERVER_BIN, "--tls", "--cert-dir",   dir,
                                   "--token",          "tok",   "--deployment", "default/web:4"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[1024] = {0};
  ASSERT_NE(fgets(line, sizeof line, f), nullptr);
  fclose(f);
  std::string first(line);
  EXPECT_EQ(first.rfind("https://127.0.0.1:", 0), 0u) << first;
  EXPECT_NE(first.find(" ca=" + dir + "/ca.crt"), std::string::npos) << first;
  EXPECT_NE(first.find(" kubeconfig=" + dir + "/kubeconfig"), std::string::npos) << first;
  // Our client, configured from the kubeconfig it wrote, reads the Deployment.
  SystemClock clock;
  auto options = kube::KubeconfigOptions(dir + "/kubeconfig");
  ASSERT_TRUE(options) << options.error().message;
  auto client = kube::Client::Create(*options, clock);
  ASSERT_TRUE(client) << client.error().message;
  auto deployment = (*client)->Call("GET", "/apis/apps/v1/namespaces/default/deployments/web",
                                    {"get", "deployments", "default", "web"});
  ASSERT_TRUE(deployment) << deployment.error().message;
  EXPECT_EQ((*deployment)["spec"]["replicas"], 4);
  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kafka_autoscaler::testing
