// DeploymentScaleTarget and DeploymentEventRecorder against the test API server.
#include <gtest/gtest.h>

#include "kube/deployment_target.h"
#include "kube/json_field.h"
#include "kube/server_fixture.h"

namespace kafka_autoscaler::testing {
namespace {

using kube::DeploymentEventRecorder;
using kube::DeploymentScaleTarget;

using ScaleTargetTest = ServerFixture;

TEST_F(ScaleTargetTest, GetReadsScaleAnnotationsAndUid) {
  server_->AddDeployment("prod", "paused-app", 3, {{"kafka-autoscaler/paused", "true"}});
  DeploymentScaleTarget web(*client_, {"prod", "web"});
  auto state = web.Get();
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_EQ(state->spec_replicas, 2);
  EXPECT_EQ(state->status_replicas, 2);
  EXPECT_EQ(state->selector, "app=web");
  EXPECT_FALSE(state->paused);
  EXPECT_EQ(state->uid, server_->Deployment("prod", "web")->at("metadata").at("uid"));
  EXPECT_FALSE(state->resource_version.empty());
  DeploymentScaleTarget paused(*client_, {"prod", "paused-app"});
  auto paused_state = paused.Get();
  ASSERT_TRUE(paused_state);
  EXPECT_TRUE(paused_state->paused);
}

// Issue 13 item 9: /scale carries no readiness; ready pods come from the Deployment's status.
TEST_F(ScaleTargetTest, GetReadsReadyReplicasFromTheDeployment) {
  DeploymentScaleTarget target(*client_, {"prod", "web"});
  ASSERT_TRUE(target.Get());  // a write is decided from a read
  ASSERT_TRUE(target.SetReplicas(4));
  ASSERT_TRUE(server_->SetReadyLimit("prod", "web", 1));  // three pods still starting
  auto starting = target.Get();
  ASSERT_TRUE(starting) << starting.error().message;
  EXPECT_EQ(starting->spec_replicas, 4);
  EXPECT_EQ(starting->status_replicas, 4);
  EXPECT_EQ(starting->ready_replicas, 1);
  ASSERT_TRUE(server_->SetReadyLimit("prod", "web", 0));  // the API server omits the field at 0
  EXPECT_FALSE(server_->Deployment("prod", "web")->at("status").contains("readyReplicas"));
  auto none = target.Get();
  ASSERT_TRUE(none);
  EXPECT_EQ(none->ready_replicas, 0);
  ASSERT_TRUE(server_->SetReadyLimit("prod", "web", std::nullopt));
  auto ready = target.Get();
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->ready_replicas, 4);
}

TEST_F(ScaleTargetTest, ScalesUpAndDownWithMergePatchOnScale) {
  DeploymentScaleTarget target(*client_, {"prod", "web"});
  for (int32_t replicas : {5, 1, 0, 3}) {
    SCOPED_TRACE(replicas);
    ASSERT_TRUE(target.Get());
    server_->ClearRequests();
    auto st = target.SetReplicas(replicas);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(server_->Deployment("prod", "web")->at("spec").at("replicas"), replicas);
    const auto log = server_->Requests();
    ASSERT_EQ(log.size(), 1u);  // one PATCH, no re-read when nothing conflicted
    EXPECT_EQ(log[0].method, "PATCH");
    EXPECT_EQ(log[0].path, "/apis/apps/v1/namespaces/prod/deployments/web/scale");
    EXPECT_EQ(log[0].content_type, "application/merge-patch+json");
    auto state = target.Get();
    ASSERT_TRUE(state);
    EXPECT_EQ(state->spec_replicas, replicas);
  }
}

// Issue 13 item 3: a 409 means someone else wrote since our Get(); the target was decided from
// the old state, so it is never re-sent: one PATCH, kConflict at once, and no further write
// until the caller has read again (its next tick decides from fresh state).
TEST_F(ScaleTargetTest, ConflictIsReturnedAtOnceAndNeverReSent) {
  DeploymentScaleTarget target(*client_, {"prod", "web"});
  ASSERT_TRUE(target.Get());
  // A real conflict: someone else wrote after our Get(), so our resourceVersion is stale.
  ASSERT_TRUE(server_->PatchDeployment("prod", "web", {{"spec", {{"replicas", 7}}}}));
  server_->ClearRequests();
  auto st = target.SetReplicas(4);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  EXPECT_EQ(server_->Deployment("prod", "web")->at("spec").at("replicas"), 7);
  const auto log = server_->Requests();
  ASSERT_EQ(log.size(), 1u) << "re-read or re-sent after a conflict";
  EXPECT_EQ(log[0].method, "PATCH");
  EXPECT_EQ(log[0].status, 409);
  // Without a new Get() nothing is sent at all.
  st = target.SetReplicas(4);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  EXPECT_EQ(server_->Requests().size(), 1u);
  // After a fresh read, a write goes through.
  auto state = target.Get();
  ASSERT_TRUE(state);
  EXPECT_EQ(state->spec_replicas, 7);
  ASSERT_TRUE(target.SetReplicas(4));
  EXPECT_EQ(server_->Deployment("prod", "web")->at("spec").at("replicas"), 4);
}

TEST_F(ScaleTargetTest, PausedBetweenReadAndWriteIsNotScaled) {
  DeploymentScaleTarget target(*client_, {"prod", "web"});
  ASSERT_TRUE(target.Get());
  ASSERT_TRUE(server_->PatchDeployment(
      "prod", "web", {{"metadata", {{"annotations", {{"kafka-autoscaler/paused", "true"}}}}}}));
  auto st = target.SetReplicas(9);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  EXPECT_EQ(server_->Deployment("prod", "web")->at("spec").at("replicas"), 2);
  auto state = target.Get();  // what the next tick sees
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->paused);
}

// Item 3: an HPA on the same Deployment is found (and only one on the same Deployment).
TEST_F(ScaleTargetTest, GetNamesHorizontalPodAutoscalersOfTheDeployment) {
  DeploymentScaleTarget target(*client_, {"prod", "web"});
  auto state = target.Get();
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE(state->other_autoscalers.empty());
  server_->AddHorizontalPodAutoscaler("prod", "someone-else", "other-app");
  server_->AddHorizontalPodAutoscaler("other-ns", "web", "web");
  state = target.Get();
  ASSERT_TRUE(state);
  EXPECT_TRUE(state->other_autoscalers.empty());
  server_->AddHorizontalPodAutoscaler("prod", "web-cpu", "web");
  state = target.Get();
  ASSERT_TRUE(state);
  EXPECT_EQ(state->other_autoscalers,
            std::vector<std::string>{"HorizontalPodAutoscaler prod/web-cpu"});
  EXPECT_EQ(server_->CountRequests("GET",
                                   "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers"),
            3);
}

TEST_F(ScaleTargetTest, ErrorsAreClassifiedAndNameWhatWasRefused) {
  server_->SetToken({.token = "reader",
                     .allow_all = false,
                     .rules = {{.verbs = {"get"}, .resources = {"deployments"}},
                               {.verbs = {"get"}, .resources = {"deployments/scale"}}}});
  auto reader = NewClient({.token = "reader"});
  DeploymentScaleTarget read_only(*reader, {"prod", "web"});
  // Without `list` on horizontalpodautoscalers the read fails, naming what is missing: scaling
  // blind to an HPA on the same Deployment would fight it.
  auto no_hpa = read_only.Get();
  ASSERT_FALSE(no_hpa);
  EXPECT_EQ(no_hpa.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(no_hpa.error().message.find("'list' on horizontalpodautoscalers"), std::string::npos)
      << no_hpa.error().message;
  server_->SetToken({.token = "reader",
                     .allow_all = false,
                     .rules = {{.verbs = {"get"}, .resources = {"deployments"}},
                               {.verbs = {"get"}, .resources = {"deployments/scale"}},
                               {.verbs = {"list"}, .resources = {"horizontalpodautoscalers"}}}});
  ASSERT_TRUE(read_only.Get());
  auto forbidden = read_only.SetReplicas(3);
  ASSERT_FALSE(forbidden);
  EXPECT_EQ(forbidden.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(forbidden.error().message.find(
                "forbidden: need 'patch' on deployments/scale in namespace 'prod'"),
            std::string::npos)
      << forbidden.error().message;

  DeploymentScaleTarget missing(*client_, {"prod", "ghost"});
  auto not_found = missing.Get();
  ASSERT_FALSE(not_found);
  EXPECT_EQ(not_found.error().code, ErrorCode::kNotFound);
  EXPECT_NE(not_found.error().message.find("deployments 'ghost' does not exist"), std::string::npos)
      << not_found.error().message;

  DeploymentScaleTarget target(*client_, {"prod", "web"});
  ASSERT_TRUE(target.Get());
  struct Case {
    const char* name;
    Fault fault;
    ErrorCode code;
    std::optional<std::chrono::milliseconds> retry_after;
  };
  const Case cases[] = {
      {.name = "429",
       .fault = {.kind = FaultKind::kTooManyRequests, .retry_after_seconds = 3},
       .code = ErrorCode::kResourceExhausted,
       .retry_after = std::chrono::seconds(3)},
      {.name = "500", .fault = {.kind = FaultKind::kServerError}, .code = ErrorCode::kUnavailable},
      {.name = "dropped connection",
       .fault = {.kind = FaultKind::kDrop},
       .code = ErrorCode::kUnavailable},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Fault fault = c.fault;
    fault.method = "PATCH";
    server_->InjectFault(fault);
    auto st = target.SetReplicas(7);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, c.code);
    EXPECT_TRUE(IsRetryable(st.error().code));
    EXPECT_EQ(st.error().retry_after, c.retry_after);
    EXPECT_EQ(server_->Deployment("prod", "web")->at("spec").at("replicas"), 2);
  }
}

TEST_F(ScaleTargetTest, DeletedAndRecreatedDeployment) {
  DeploymentScaleTarget target(*client_, {"prod", "web"});
  ASSERT_TRUE(target.Get());
  ASSERT_TRUE(server_->DeleteDeployment("prod", "web"));
  auto gone = target.SetReplicas(3);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
  server_->AddDeployment("prod", "web", 1);
  auto st = target.SetReplicas(3);  // stale resourceVersion: 409, nothing written
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  EXPECT_EQ(server_->Deployment("prod", "web")->at("spec").at("replicas"), 1);
  auto fresh = target.Get();  // the next tick reads the new object, then writes
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->uid, server_->Deployment("prod", "web")->at("metadata").at("uid"));
  st = target.SetReplicas(3);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(server_->Deployment("prod", "web")->at("spec").at("replicas"), 3);
}

TEST_F(ScaleTargetTest, EventRecorderPostsEventsOnTheDeployment) {
  DeploymentEventRecorder recorder(*client_, {"prod", "web"}, clock_, "autoscaler-0");
  ASSERT_TRUE(recorder.Record(kube::EventType::kNormal, "ScaledUp",
                              "from 2 to 5: backlog 480 over 12 partitions"));
  ASSERT_TRUE(recorder.Record(kube::EventType::kWarning, "ScaleFailed", "patch refused"));
  const auto events = server_->Events("prod");
  ASSERT_EQ(events.size(), 2u);
  const auto& e = events[0];
  EXPECT_EQ(e["reason"], "ScaledUp");
  EXPECT_EQ(e["type"], "Normal");
  EXPECT_EQ(e["message"], "from 2 to 5: backlog 480 over 12 partitions");
  EXPECT_EQ(e["source"]["component"], "kafka-autoscaler");
  EXPECT_EQ(e["reportingComponent"], "kafka-autoscaler");
  EXPECT_EQ(e["reportingInstance"], "autoscaler-0");
  EXPECT_EQ(e["involvedObject"]["kind"], "Deployment");
  EXPECT_EQ(e["involvedObject"]["apiVersion"], "apps/v1");
  EXPECT_EQ(e["involvedObject"]["name"], "web");
  EXPECT_EQ(e["involvedObject"]["uid"],
            server_->Deployment("prod", "web")->at("metadata").at("uid"));
  EXPECT_EQ(events[1]["type"], "Warning");
  EXPECT_NE(events[0]["metadata"]["name"], events[1]["metadata"]["name"]);
  // A recreated Deployment gets events with its new uid.
  server_->AddDeployment("prod", "web", 1);
  ASSERT_TRUE(recorder.Record(kube::EventType::kNormal, "FallbackActive", "holding"));
  EXPECT_EQ(server_->Events("prod")[2]["involvedObject"]["uid"],
            server_->Deployment("prod", "web")->at("metadata").at("uid"));
  // No permission to create events: a clear error.
  server_->SetToken({.token = "no-events",
                     .allow_all = false,
                     .rules = {{.verbs = {"get"}, .resources = {"deployments"}}}});
  auto limited = NewClient({.token = "no-events"});
  DeploymentEventRecorder refused(*limited, {"prod", "web"}, clock_, "");
  auto st = refused.Record(kube::EventType::kNormal, "ScaledDown", "x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kPermissionDenied);
  EXPECT_NE(st.error().message.find("need 'create' on events in namespace 'prod'"),
            std::string::npos)
      << st.error().message;
}

TEST(TimeFormat, RoundTrips) {
  const WallTime t =
      std::chrono::system_clock::from_time_t(1'700'000'000) + std::chrono::microseconds(123456);
  EXPECT_EQ(kube::FormatTime(t), "2023-11-14T22:13:20Z");
  EXPECT_EQ(kube::FormatMicroTime(t), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(*kube::ParseTime("2023-11-14T22:13:20.123456Z"), t);
  EXPECT_EQ(*kube::ParseTime("2023-11-14T22:13:20Z"),
            std::chrono::system_clock::from_time_t(1'700'000'000));
  EXPECT_FALSE(kube::ParseTime("yesterday"));
}

// Error bodies of any shape (found by fuzz/api_response_fuzz: a numeric "kind" threw
// json::type_error and aborted the daemon on its next non-2xx answer).
TEST(ApiStatusParsing, AnyBodyShapeIsSafe) {
  for (const char* body : {R"({"kind":806})", R"({"kind":null,"reason":"x"})", R"([1,2])",
                           R"("Status")", R"({"kind":"Status","reason":7,"message":["m"]})",
                           "not json", ""}) {
    SCOPED_TRACE(body);
    kube::ApiStatus status;
    EXPECT_NO_THROW(status = kube::ParseApiStatus(body));
    EXPECT_EQ(status.reason, "");
    EXPECT_EQ(status.message, "");
  }
  auto ok = kube::ParseApiStatus(R"({"kind":"Status","reason":"Forbidden","message":"no"})");
  EXPECT_EQ(ok.reason, "Forbidden");
  EXPECT_EQ(ok.message, "no");
}

// Retry-After from a broken or hostile server (found by fuzz/api_response_fuzz: a huge value
// overflowed the conversion to milliseconds, UB): clamped to [0, 1 h].
TEST(ApiStatusParsing, RetryAfterIsClamped) {
  struct Case {
    std::string name;
    std::string header;
    std::chrono::milliseconds want;
  };
  const std::vector<Case> cases = {
      {.name = "plain", .header = "3", .want = std::chrono::seconds(3)},
      {.name = "huge", .header = "888000000000005331", .want = std::chrono::hours(1)},
      {.name = "negative", .header = "-5", .want = std::chrono::seconds(0)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    kube::HttpResponse r{.status = 429, .body = "", .headers = {{"retry-after", c.header}}};
    auto e = kube::ErrorFromResponse(r, {.verb = "get", .resource = "deployments"});
    ASSERT_TRUE(e.retry_after);
    EXPECT_EQ(*e.retry_after, c.want);
  }
}

// Hostile Lease timestamps (found by fuzz/api_response_fuzz): a protocol error, never an
// exception (std::stoi on ".") or a signed overflow (years past 2262 in nanoseconds).
TEST(TimeFormat, MalformedTimestampsAreProtocolErrors) {
  for (const char* bad :
       {"2026-01-01T00:00:00..Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1.2Z",
        "2826-11-28T12:00:00.123456Z", "3435-01-01T00:00:00.5Z", "1969-12-31T23:59:59Z", "",
        // Fields out of range: timegm would carry them into the year (month 51
        // of 2260 is past 2262) or silently into the next day.
        "2260-51-30T12:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-01-32T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z", "2026-01-01T00:00:61Z", "2026--1-01T00:00:00Z"}) {
    SCOPED_TRACE(bad);
    auto t = kube::ParseTime(bad);
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code, ErrorCode::kProtocol);
  }
  EXPECT_TRUE(kube::ParseTime("2261-12-31T23:59:59.999999Z"));
  EXPECT_TRUE(kube::ParseTime("2026-01-01T00:00:00.5Z"));
  EXPECT_TRUE(kube::ParseTime("2024-02-29T00:00:00Z")) << "a leap day";
  EXPECT_EQ(*kube::ParseTime("2016-12-31T23:59:60Z"), *kube::ParseTime("2017-01-01T00:00:00Z"))
      << "a leap second (RFC 3339) is the next second";
}

// A Kafka error text may carry any bytes; an Event message built from it used to make
// nlohmann's dump() throw (type_error 316) inside Client::Call and end the process.
TEST_F(ScaleTargetTest, EventWithInvalidUtf8IsPostedNotAThrow) {
  DeploymentEventRecorder recorder(*client_, {"prod", "web"}, clock_, "autoscaler-0");
  Status st = MakeError(ErrorCode::kInternal, "not run");
  EXPECT_NO_THROW(st = recorder.Record(kube::EventType::kWarning, "KafkaUnavailable",
                                       "Broker: \xff\xfe transport failure"));
  ASSERT_TRUE(st) << st.error().message;
  const auto events = server_->Events("prod");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["message"], "Broker: \xEF\xBF\xBD\xEF\xBF\xBD transport failure");
}

// Hostile answers to GET of the scale and to the PATCH: an error or a written scale, never an
// exception (a type_error escaping a tick ends the process).
TEST_F(ScaleTargetTest, HostileAnswersAreErrorsNotExceptions) {
  struct Row {
    std::string name;
    std::string method;
    std::string body;
    bool set_ok;  // the PATCH answer is odd but the write was accepted
  };
  const std::vector<Row> rows = {
      {.name = "patch: metadata an array",
       .method = "PATCH",
       .body = R"({"metadata":[]})",
       .set_ok = true},
      {.name = "patch: numeric resourceVersion",
       .method = "PATCH",
       .body = R"({"metadata":{"resourceVersion":5}})",
       .set_ok = true},
      {.name = "patch: array", .method = "PATCH", .body = "[]", .set_ok = true},
      {.name = "patch: not JSON", .method = "PATCH", .body = "<html>", .set_ok = false},
      {.name = "get: numeric resourceVersion",
       .method = "GET",
       .body = R"({"metadata":{"resourceVersion":5},"spec":{"replicas":2}})",
       .set_ok = false},
      {.name = "get: annotations an array",
       .method = "GET",
       .body = R"({"metadata":{"resourceVersion":"5","annotations":[]},"spec":{"replicas":2}})",
       .set_ok = false},
      {.name = "get: replicas out of int32",
       .method = "GET",
       .body = R"({"metadata":{"resourceVersion":"5"},"spec":{"replicas":4294967297}})",
       .set_ok = false},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    DeploymentScaleTarget target(*client_, {"prod", "web"});
    server_->InjectFault({.kind = FaultKind::kBody,
                          .method = r.method,
                          .path_contains = "/deployments/web",
                          .times = 100,
                          .body = r.body});
    // A write is always decided from a read (the reconciler reads first): a hostile GET answer
    // is a kProtocol error and leaves nothing to write from; a hostile PATCH answer is judged
    // by the write.
    Result<kube::ScaleState> got = MakeError(ErrorCode::kInternal, "not run");
    EXPECT_NO_THROW(got = target.Get());
    Status st = MakeError(ErrorCode::kInternal, "not run");
    if (r.method == "GET") {
      ASSERT_FALSE(got);
      EXPECT_EQ(got.error().code, ErrorCode::kProtocol) << got.error().message;
      EXPECT_NO_THROW(st = target.SetReplicas(3));
      EXPECT_FALSE(st) << "wrote without a good read";
    } else {
      ASSERT_TRUE(got) << got.error().message;
      EXPECT_NO_THROW(st = target.SetReplicas(3));
      EXPECT_EQ(static_cast<bool>(st), r.set_ok) << (st ? "" : st.error().message);
      if (!st) {
        EXPECT_EQ(st.error().code, ErrorCode::kProtocol) << st.error().message;
      }
    }
    server_->ClearFaults();
    // Nothing stale is left behind: the next read and write work.
    ASSERT_TRUE(target.Get()) << "did not recover";
    ASSERT_TRUE(target.SetReplicas(2)) << "did not recover";
  }
}

TEST(JsonFieldTest, ReadsOrNamesWhatIsWrong) {
  using kube::Field;
  const auto j = nlohmann::json::parse(
      R"({"metadata":{"resourceVersion":"7","uid":4,"labels":[]},"spec":{"replicas":3,"big":4294967296,"f":1.5,"neg":-2}})");
  EXPECT_EQ(Field<std::string>(j, {"metadata", "resourceVersion"}, "").value(), "7");
  EXPECT_EQ(Field<std::string>(j, {"metadata", "missing"}, "dflt").value(), "dflt");
  EXPECT_EQ(Field<int32_t>(j, {"spec", "replicas"}, 0).value(), 3);
  EXPECT_EQ(Field<int32_t>(j, {"spec", "neg"}, 0).value(), -2);
  EXPECT_EQ(Field<int64_t>(j, {"spec", "big"}, 0).value(), 4294967296);
  EXPECT_EQ(Field<int32_t>(j, {"nothing", "here"}, 9).value(), 9);
  auto uid = Field<std::string>(j, {"metadata", "uid"}, "");
  ASSERT_FALSE(uid);
  EXPECT_EQ(uid.error().code, ErrorCode::kProtocol);
  EXPECT_NE(uid.error().message.find("'metadata.uid' is number, not a string"), std::string::npos)
      << uid.error().message;
  EXPECT_FALSE(Field<int32_t>(j, {"spec", "big"}, 0));
  EXPECT_FALSE(Field<int32_t>(j, {"spec", "f"}, 0));
  EXPECT_FALSE(Field<std::string>(j, {"metadata", "labels", "app"}, ""));
  auto top = Field<std::string>(nlohmann::json::array(), {"metadata", "resourceVersion"}, "");
  ASSERT_FALSE(top);
  EXPECT_NE(top.error().message.find("'(answer)' is array"), std::string::npos)
      << top.error().message;
}

}  // namespace
}  // namespace kafka_autoscaler::testing
