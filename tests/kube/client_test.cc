// API client tests: error mapping, TLS verification, token-file rotation, timeouts.
#include "kube/client.h"

#include <gtest/gtest.h>

#include "kube/server_fixture.h"

namespace kafka_autoscaler::testing {
namespace {

using kube::ErrorFromResponse;
using kube::HttpResponse;

TEST(ErrorFromResponse, MapsStatusToCodeAndNamesTheRequest) {
  const kube::RequestInfo patch{"patch", "deployments/scale", "x", "web"};
  const std::string forbidden_body = nlohmann::json{
      {"kind", "Status"},
      {"apiVersion", "v1"},
      {"metadata", nlohmann::json::object()},
      {"status", "Failure"},
      {"message",
       "deployments.apps \"web\" is forbidden: User \"u\" cannot patch resource "
       "\"deployments/scale\" in API group \"apps\" in the namespace \"x\""},
      {"reason", "Forbidden"},
      {"code", 403}}.dump();
  struct Case {
    const char* name;
    HttpResponse response;
    ErrorCode code;
    std::string message_prefix;
    std::optional<std::chrono::milliseconds> retry_after;
  };
  const Case cases[] = {
      {.name = "401",
       .response = {.status = 401,
                    .body =
                        R"({"kind":"Status","reason":"Unauthorized","message":"Unauthorized"})"},
       .code = ErrorCode::kUnauthenticated,
       .message_prefix = "unauthorized: credentials rejected for 'patch' on deployments/scale in "
                         "namespace 'x' (HTTP 401 Unauthorized: Unauthorized)"},
      {.name = "403",
       .response = {.status = 403, .body = forbidden_body},
       .code = ErrorCode::kPermissionDenied,
       .message_prefix = "forbidden: need 'patch' on deployments/scale in namespace 'x' (HTTP 403 "
                         "Forbidden: deployments.apps \"web\" is forbidden"},
      {.name = "404",
       .response = {.status = 404, .body = "{}"},
       .code = ErrorCode::kNotFound,
       .message_prefix = "not found: deployments/scale 'web' does not exist in namespace 'x'"},
      {.name = "409",
       .response = {.status = 409},
       .code = ErrorCode::kConflict,
       .message_prefix = "conflict: 'patch' on deployments/scale"},
      {.name = "429",
       .response = {.status = 429, .headers = {{"retry-after", "4"}}},
       .code = ErrorCode::kResourceExhausted,
       .message_prefix = "throttled:",
       .retry_after = std::chrono::seconds(4)},
      {.name = "500",
       .response = {.status = 500},
       .code = ErrorCode::kUnavailable,
       .message_prefix = "server error:"},
      {.name = "503",
       .response = {.status = 503},
       .code = ErrorCode::kUnavailable,
       .message_prefix = "server error:"},
      {.name = "504",
       .response = {.status = 504},
       .code = ErrorCode::kTimeout,
       .message_prefix = "server timeout:"},
      {.name = "422",
       .response = {.status = 422},
       .code = ErrorCode::kInvalidArgument,
       .message_prefix = "rejected:"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Error e = ErrorFromResponse(c.response, patch);
    EXPECT_EQ(e.code, c.code);
    EXPECT_EQ(e.message.rfind(c.message_prefix, 0), 0u) << e.message;
    EXPECT_EQ(e.retry_after, c.retry_after);
    ASSERT_EQ(e.details.size(), 3u);
    EXPECT_EQ(e.details[0], "http_status: " + std::to_string(c.response.status));
  }
  Error forbidden = ErrorFromResponse({.status = 403, .body = forbidden_body}, patch);
  EXPECT_EQ(forbidden.details[1], "reason: Forbidden");
}

TEST(ClientCreate, RejectsBadOptions) {
  FakeClock clock;
  struct Case {
    const char* name;
    kube::ClientOptions options;
  };
  const Case cases[] = {
      {.name = "no server", .options = {}},
      {.name = "unreadable CA", .options = {.server = "https://h", .ca_file = "/nonexistent/ca"}},
      {.name = "cert without key",
       .options = {.server = "https://h", .client_cert_pem = "-----BEGIN CERTIFICATE-----"}},
      {.name = "zero timeout",
       .options = {.server = "https://h", .timeout = std::chrono::milliseconds(0)}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto client = kube::Client::Create(c.options, clock);
    ASSERT_FALSE(client);
    EXPECT_EQ(client.error().code, ErrorCode::kInvalidArgument);
  }
}

using ClientTest = ServerFixture;

TEST_F(ClientTest, CallParsesJsonAndMapsErrors) {
  auto ok = client_->Call("GET", "/apis/apps/v1/namespaces/prod/deployments/web",
                          {"get", "deployments", "prod", "web"});
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)["metadata"]["name"], "web");
  auto missing = client_->Call("GET", "/apis/apps/v1/namespaces/prod/deployments/nope",
                               {"get", "deployments", "prod", "nope"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("deployments.apps \"nope\" not found"), std::string::npos);
}

// A body above the cap (16 MiB by default) is refused with a clear error instead of being read
// into memory and parsed; a body at the cap is fine.
TEST_F(ClientTest, ResponseBodiesAreCapped) {
  const std::string path = "/apis/apps/v1/namespaces/prod/deployments/web";
  const std::string big = "[" + std::string((size_t{16} << 20) + 10, ' ') + "]";
  server_->InjectFault(
      {.kind = FaultKind::kBody, .method = "GET", .path_contains = path, .times = 1, .body = big});
  auto r = client_->Call("GET", path, {"get", "deployments", "prod", "web"});
  ASSERT_FALSE(r) << "a body over 16 MiB was accepted";
  EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
  EXPECT_NE(r.error().message.find("answer larger than 16 MiB"), std::string::npos)
      << r.error().message;
  // A smaller cap, and a body just under it.
  auto small = NewClient({.token = kAdminToken, .max_response_bytes = 200});
  server_->InjectFault({.kind = FaultKind::kBody,
                        .method = "GET",
                        .path_contains = path,
                        .times = 1,
                        .body = "[" + std::string(197, ' ') + "]"});
  EXPECT_TRUE(small->Call("GET", path, {"get", "deployments", "prod", "web"}));
  auto over = small->Call("GET", path, {"get", "deployments", "prod", "web"});  // the real one
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().message.find("answer larger than 200 bytes"), std::string::npos)
      << over.error().message;
  EXPECT_TRUE(client_->Call("GET", path, {"get", "deployments", "prod", "web"}));
}

TEST_F(ClientTest, ReusesOneConnection) {
  for (int i = 0; i < 5; ++i) {
    auto r = client_->Do("GET", "/version");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  // Nothing to count connections with on the server side; the client's handle must still be
  // healthy after many requests, and a second client is independent.
  auto other = NewClient({.token = kAdminToken});
  EXPECT_EQ(other->Do("GET", "/version")->status, 200);
}

TEST_F(ClientTest, RefusesAServerSignedByAnotherCa) {
  TempDir other_ca_dir;
  auto other = GenerateTlsFiles(other_ca_dir.path());
  ASSERT_TRUE(other) << other.error().message;
  auto client = NewClient({.ca_file = other->ca_cert, .token = kAdminToken});
  auto r = client->Do("GET", "/version");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("TLS"), std::string::npos) << r.error().message;
  // insecure-skip-tls-verify accepts it.
  auto insecure = NewClient(
      {.ca_file = other->ca_cert, .token = kAdminToken, .insecure_skip_tls_verify = true});
  auto ok = insecure->Do("GET", "/version");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ClientTest, TokenFileIsReReadEveryMinute) {
  TempDir dir;
  const std::string token_file = dir.Write("token", "token-1\n");
  server_->SetToken({.token = "token-1", .user = "user-1"});
  server_->SetToken({.token = "token-2", .user = "user-2"});
  auto client = NewClient({.token_file = token_file});
  EXPECT_EQ(client->Do("GET", "/apis")->status, 200);
  EXPECT_EQ(server_->Requests().back().user, "user-1");
  // The kubelet replaces the file; both tokens stay valid for a while.
  dir.Write("token", "token-2\n");
  clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(client->Do("GET", "/apis")->status, 200);
  EXPECT_EQ(server_->Requests().back().user, "user-1");  // cached for a minute
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_EQ(client->Do("GET", "/apis")->status, 200);
  EXPECT_EQ(server_->Requests().back().user, "user-2");  // re-read without any 401
  EXPECT_EQ(server_->CountRequests("", "/apis"), 3);
}

TEST_F(ClientTest, A401ReReadsARotatedTokenAtOnce) {
  TempDir dir;
  const std::string token_file = dir.Write("token", "old-token");
  server_->SetToken({.token = "old-token"});
  auto client = NewClient({.token_file = token_file});
  EXPECT_EQ(client->Do("GET", "/apis")->status, 200);
  server_->RotateToken("old-token", "new-token");
  dir.Write("token", "new-token");
  // No clock advance: the 401 itself triggers the re-read and one retry.
  EXPECT_EQ(client->Do("GET", "/apis")->status, 200);
  const auto log = server_->Requests();
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(log[log.size() - 2].status, 401);
  EXPECT_EQ(log.back().status, 200);
  // A revoked token with no replacement stays a 401 (kUnauthenticated through Call).
  server_->RotateToken("new-token", "newer-token");
  auto refused = client->Call("GET", "/apis/apps/v1/namespaces/prod/deployments/web",
                              {"get", "deployments", "prod", "web"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(ClientTest, EveryRequestHasATimeout) {
  auto client = NewClient({.token = kAdminToken, .timeout = std::chrono::milliseconds(300)});
  server_->InjectFault({.kind = FaultKind::kDelay,
                        .path_contains = "/version",
                        .delay = std::chrono::milliseconds(2000)});
  auto r = client->Do("GET", "/version");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  // The client recovers: a later request succeeds (a few tries, for slow sanitizer builds
  // where 300 ms can pass before a healthy answer).
  auto again = client->Do("GET", "/version");
  for (int i = 0; i < 5 && !again; ++i) again = client->Do("GET", "/version");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->status, 200);
}

TEST(ClientUnreachable, ConnectionRefusedIsUnavailable) {
  FakeClock clock;
  auto client = kube::Client::Create({.server = "http://127.0.0.1:1"}, clock);
  ASSERT_TRUE(client);
  auto r = (*client)->Do("GET", "/version");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace kafka_autoscaler::testing
