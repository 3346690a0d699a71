// Bad input against the real binary: garbage in every environment variable (empty, negative,
// overflow, unicode, invalid UTF-8, control characters, huge strings), malformed kubeconfigs,
// and malformed or hostile API server answers (truncated JSON, wrong types, enormous bodies).
// Each gives a clear error, no crash, and no scale. tests/config/config_test.cc covers
// config::Load() in-process; this covers what only the binary shows: the exit status, the
// message on stderr, the OTEL_* variables read next to it, and that nothing was requested.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <functional>
#include <thread>

#include "faults/harness.h"

namespace kafka_autoscaler::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kHuge(100'000, '9');
const std::string kHugeText(100'000, 'x');

struct GarbageRow {
  std::string name;
  std::string variable;
  std::string value;
};

// Every row must be refused: exit 2, the variable named on stderr, no request to the API server.
std::vector<GarbageRow> RefusedRows() {
  std::vector<GarbageRow> rows;
  auto add = [&](const std::string& var,
                 const std::vector<std::pair<std::string, std::string>>& values) {
    for (const auto& [label, value] : values) rows.push_back({var + "/" + label, var, value});
  };
  const std::vector<std::pair<std::string, std::string>> integers = {
      {"empty", ""},
      {"negative", "-1"},
      {"overflow", "99999999999999999999"},
      {"unicode", "ünïcødé"},
      {"huge", kHuge},
      {"suffix", "12abc"},
      {"fraction", "1.5"},
      {"invalid_utf8", "\xff\xfe"},
      {"hex", "0x10"}};
  for (const char* var :
       {"MESSAGES_PER_POD", "MIN_REPLICAS", "MAX_REPLICAS", "HEALTH_CHECK_PORT", "MIN_TTL_SECONDS",
        "SCALE_INTERVAL_SECONDS", "MESSAGE_COUNT_THRESHOLD", "IDLE_REPLICAS",
        "SCALE_DOWN_STABILIZATION_SECONDS", "SCALE_UP_MAX_STEP", "SCALE_DOWN_MAX_STEP",
        "FALLBACK_AFTER_FAILURES", "TARGET_DRAIN_SECONDS", "RATE_SCALE_DOWN_WINDOW_SECONDS",
        "RATE_REBALANCE_SECONDS", "RATE_POD_STARTUP_SECONDS", "LEASE_DURATION_SECONDS",
        "RENEW_DEADLINE_SECONDS", "RETRY_PERIOD_SECONDS"}) {
    add(var, integers);
  }
  // FALLBACK_REPLICAS: empty means unset (allowed); the rest is garbage.
  add("FALLBACK_REPLICAS", {{"negative", "-1"},
                            {"overflow", "99999999999999999999"},
                            {"unicode", "ünïcødé"},
                            {"huge", kHuge}});
  add("HEALTH_CHECK_PORT", {{"zero", "0"}, {"above_65535", "65536"}});
  add("MAX_REPLICAS", {{"above_limit", "100001"}});
  const std::vector<std::pair<std::string, std::string>> words = {{"empty", ""},
                                                                  {"unicode", "ünïcødé"},
                                                                  {"huge", kHugeText},
                                                                  {"invalid_utf8", "\xff"},
                                                                  {"other", "maybe"}};
  for (const char* var :
       {"LIMIT_TO_PARTITIONS", "DRY_RUN", "LEADER_ELECTION", "KAFKA_OFFSET_RESET_POLICY",
        "SCALING_POLICY", "LOG_LEVEL", "LOG_FORMAT", "SCALE_ON_UNCOMMITTED"}) {
    add(var, words);
  }
  const std::vector<std::pair<std::string, std::string>> names = {
      {"empty", ""},          {"unicode", "ünïcødé"},   {"huge", kHugeText},
      {"upper", "Workers"},   {"slash", "a/b"},         {"dotdot", ".."},
      {"leading_dash", "-x"}, {"invalid_utf8", "\xff"}, {"control", "a\x01"}};
  add("NAMESPACE", names);
  add("DEPLOYMENT_NAME", names);
  add("KAFKA_TOPIC", {{"empty", ""},
                      {"commas", ","},
                      {"unicode", "ünïcødé"},
                      {"huge", kHugeText},
                      {"space", "a b"},
                      {"dotdot", ".."},
                      {"invalid_utf8", "\xff"}});
  add("KAFKA_BOOTSTRAP_SERVERS", {{"empty", ""}, {"huge", kHugeText}, {"control", "a\x01"}});
  for (const char* var : {"KAFKA_CONSUMER_GROUP", "POD_NAME", "LEASE_NAME", "KAFKA_CONFIG_FILE"}) {
    add(var, {{"huge", kHugeText}, {"control", "a\x01"}});
  }
  add("POD_NAMESPACE", {{"huge", kHugeText}, {"control", "a\x01"}});
  // OTEL_* (SPEC §5), validated next to the configuration.
  add("OTEL_EXPORTER_OTLP_PROTOCOL", {{"grpc_unsupported", "grpc"}, {"unicode", "ünïcødé"}});
  add("OTEL_EXPORTER_OTLP_TIMEOUT",
      {{"negative", "-1"}, {"text", "soon"}, {"overflow", "99999999999999999999"}});
  add("OTEL_METRIC_EXPORT_INTERVAL", {{"text", "abc"}, {"negative", "-5"}});
  add("OTEL_EXPORTER_OTLP_COMPRESSION", {{"unknown", "brotli"}});
  add("OTEL_TRACES_EXPORTER", {{"unknown", "zipkin"}});
  add("OTEL_SDK_DISABLED", {{"unicode", "ünïcødé"}});
  return rows;
}

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = std::make_unique<Harness>(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(h_->ok()) << h_->error();
  }
  struct Outcome {
    std::optional<int> exit;
    std::string err;
    std::string out;
  };
  // Runs the binary with `overrides` until it exits (or `timeout`; then SIGKILL).
  Outcome RunBinary(std::map<std::string, std::string> overrides,
                    std::vector<std::string> args = {"run"}, milliseconds timeout = seconds(10)) {
    auto env = h_->Env();
    for (auto& [k, v] : overrides) env[k] = v;
    args.insert(args.begin(), KA_BINARY);
    Process p(args, env);
    Outcome o;
    o.exit = p.Wait(timeout);
    o.err = p.Stderr();
    for (const auto& l : p.Lines()) o.out += l + "\n";
    return o;
  }
  struct OddRow {
    std::string name;
    std::map<std::string, std::string> env;
    std::vector<std::string> args = {"run", "--max-ticks", "2"};
    bool may_refuse = false;  // exit 2 with a message is fine too
  };
  // Each row runs (or is refused with exit 2 and a message), logs valid JSON, never crashes.
  void RunOddRows(const std::vector<OddRow>& rows);
  std::unique_ptr<Harness> h_;
};

TEST_F(BadInput, EveryVariableRefusesGarbage) {
  const auto rows = RefusedRows();
  ASSERT_GE(rows.size(), 200u);
  // Four processes at a time: each exits at once.
  std::vector<Outcome> outcomes(rows.size());
  for (size_t start = 0; start < rows.size(); start += 4) {
    std::vector<std::thread> batch;
    for (size_t i = start; i < std::min(rows.size(), start + 4); ++i) {
      batch.emplace_back([&, i] { outcomes[i] = RunBinary({{rows[i].variable, rows[i].value}}); });
    }
    for (auto& t : batch) t.join();
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    const auto& o = outcomes[i];
    SCOPED_TRACE(r.name);
    EXPECT_EQ(o.exit, 2) << o.err.substr(0, 500) << o.out.substr(0, 500);
    EXPECT_NE(o.err.find(r.variable), std::string::npos) << "not named: " << o.err.substr(0, 500);
    EXPECT_NE(o.err.find("invalid configuration"), std::string::npos) << o.err.substr(0, 500);
    // A huge value is cut in the message, never echoed whole.
    EXPECT_LT(o.err.size(), 4096u);
  }
  EXPECT_TRUE(h_->api().Requests().empty()) << "a request was made with a bad configuration";
}

TEST_F(BadInput, EveryProblemListedAtOnce) {
  std::map<std::string, std::string> env;
  for (const auto& var : {"MIN_REPLICAS", "MAX_REPLICAS", "SCALE_INTERVAL_SECONDS", "LOG_LEVEL",
                          "OTEL_EXPORTER_OTLP_TIMEOUT"}) {
    env[var] = "ünïcødé";
  }
  auto o = RunBinary(env);
  EXPECT_EQ(o.exit, 2);
  EXPECT_NE(o.err.find("(5 problems)"), std::string::npos) << o.err;
  for (const auto& [var, value] : env) EXPECT_NE(o.err.find(var), std::string::npos) << var;
  EXPECT_TRUE(h_->api().Requests().empty());
}

// --max-ticks counts the ticks of the one target of MODE=single; MODE=many has no such count and
// used to ignore it (running until stopped). It is refused before anything starts.
TEST_F(BadInput, MaxTicksIsRefusedInManyMode) {
  auto o = RunBinary({{"MODE", "many"}}, {"run", "--max-ticks", "2"});
  EXPECT_EQ(o.exit, 2);
  EXPECT_NE(o.err.find("--max-ticks"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("MODE=many"), std::string::npos) << o.err;
  EXPECT_TRUE(h_->api().Requests().empty());
}

// Free-text variables accept odd bytes (unicode; the configuration only refuses control
// characters): the binary must run with them, or refuse them with exit 2 and a message, and log
// valid JSON; never crash.
TEST_F(BadInput, OddButAllowedValuesNeverCrash) {
  const std::map<std::string, std::string> leader = {{"LEADER_ELECTION", "true"},
                                                     {"LEASE_DURATION_SECONDS", "4"},
                                                     {"RENEW_DEADLINE_SECONDS", "3"},
                                                     {"RETRY_PERIOD_SECONDS", "1"}};
  auto with_leader = [&](std::map<std::string, std::string> env) {
    env.insert(leader.begin(), leader.end());
    return env;
  };
  const std::vector<OddRow> rows = {
      {.name = "unicode group", .env = {{"KAFKA_CONSUMER_GROUP", "gröup-ü"}}},
      {.name = "unicode pod name as lease holder", .env = with_leader({{"POD_NAME", "pöd-ü"}})},
      {.name = "empty fallback", .env = {{"FALLBACK_REPLICAS", ""}}},
      {.name = "padded numbers", .env = {{"MAX_REPLICAS", " 5 "}, {"MIN_REPLICAS", "\t1"}}},
      {.name = "invalid UTF-8 group",
       .env = {{"KAFKA_CONSUMER_GROUP", "g\xff\xfe"}},
       .may_refuse = true},
  };
  RunOddRows(rows);
}

// Invalid UTF-8 in free-text variables: nlohmann::json::dump() throws on it wherever a JSON
// document is built from them (the Lease body with POD_NAME as holderIdentity, `check
// --print-config`), which used to abort the process; the configuration now refuses it.
TEST_F(BadInput, InvalidUtf8InFreeTextIsRefusedNotACrash) {
  const std::vector<OddRow> rows = {
      {.name = "invalid UTF-8 pod name as lease holder",
       .env = {{"POD_NAME", "p\xff"},
               {"LEADER_ELECTION", "true"},
               {"LEASE_DURATION_SECONDS", "4"},
               {"RENEW_DEADLINE_SECONDS", "3"},
               {"RETRY_PERIOD_SECONDS", "1"}},
       .may_refuse = true},
      {.name = "invalid UTF-8 group, check --print-config",
       .env = {{"KAFKA_CONSUMER_GROUP", "g\xff"}},
       .args = {"check", "--print-config"},
       .may_refuse = true},
  };
  RunOddRows(rows);
}

void BadInput::RunOddRows(const std::vector<OddRow>& rows) {
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto o = RunBinary(r.env, r.args, seconds(20));
    ASSERT_TRUE(o.exit.has_value()) << "hung";
    EXPECT_LT(*o.exit, 128) << "killed by signal " << (*o.exit - 128) << "\n" << o.err;
    if (r.args.front() == "check") {
      // check prints a report, not JSON; exit 1 is "a probe failed", fine here.
      EXPECT_TRUE(*o.exit == 0 || *o.exit == 1 || (r.may_refuse && *o.exit == 2)) << o.err;
      continue;
    }
    if (r.may_refuse && *o.exit == 2) {
      EXPECT_FALSE(o.err.empty() && o.out.empty()) << "refused without a word";
      continue;
    }
    EXPECT_EQ(*o.exit, 0) << o.err << o.out.substr(0, 2000);
    std::istringstream lines(o.out);
    std::string l;
    while (std::getline(lines, l)) {
      EXPECT_TRUE(nlohmann::json::parse(l, nullptr, false).is_object()) << l;
    }
  }
}

TEST_F(BadInput, MalformedKubeconfigIsAClearErrorBeforeAnyRequest) {
  struct Row {
    std::string name;
    std::string content;  // written to the kubeconfig
    std::string expect;   // in the error
  };
  const std::string ca = h_->api().ca_file();
  const std::string server = "server: " + h_->api().url();
  auto config = [&](const std::string& cluster, const std::string& user,
                    const std::string& current = "test") {
    return "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n" + cluster +
           "users:\n- name: test\n  user:\n" + user +
           "contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n"
           "current-context: " +
           current + "\n";
  };
  const std::string good_cluster = "    " + server + "\n    certificate-authority: " + ca + "\n";
  const std::vector<Row> rows = {
      {.name = "empty file", .content = "", .expect = "kubeconfig"},
      {.name = "not yaml", .content = "{{{ this is : not : yaml", .expect = "kubeconfig"},
      {.name = "a list", .content = "- 1\n- 2\n", .expect = "kubeconfig"},
      {.name = "binary", .content = std::string("\x00\xff\xfe\x01", 4), .expect = "kubeconfig"},
      {.name = "clusters wrong type",
       .content = "clusters: 5\nusers: []\ncontexts: []\ncurrent-context: x\n",
       .expect = "kubeconfig"},
      {.name = "no current context",
       .content = config(good_cluster, "    token: t\n", "\"\""),
       .expect = "context"},
      {.name = "unknown current context",
       .content = config(good_cluster, "    token: t\n", "nope"),
       .expect = "nope"},
      {.name = "no server",
       .content = config("    certificate-authority: " + ca + "\n", "    token: t\n"),
       .expect = "server"},
      {.name = "missing CA file",
       .content = config("    " + server + "\n    certificate-authority: /nonexistent/ca.crt\n",
                         "    token: t\n"),
       .expect = "/nonexistent/ca.crt"},
      {.name = "garbage CA data",
       .content = config("    " + server + "\n    certificate-authority-data: '!!notbase64!!'\n",
                         "    token: t\n"),
       .expect = "certificate-authority-data"},
      {.name = "token not a string",
       .content = config(good_cluster, "    token: [1, 2]\n"),
       .expect = "line 11"},  // yaml-cpp names the place, not the key
      {.name = "huge",
       .content = "clusters:\n- name: " + kHugeText + "\n" + std::string(1 << 20, '#'),
       .expect = "kubeconfig"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    const std::string path = (h_->dir() / "bad-kubeconfig").string();
    std::ofstream(path, std::ios::binary) << r.content;
    auto o = RunBinary({{"KUBECONFIG", path}});
    EXPECT_EQ(o.exit, 2) << o.out << o.err;
    EXPECT_NE(o.out.find("no usable kubernetes configuration"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find(r.expect), std::string::npos) << o.out;
  }
  EXPECT_TRUE(h_->api().Requests().empty());

  // Valid kubeconfigs whose credentials the server refuses (anonymous is a legal kubeconfig; a
  // token file may appear later): the daemon runs, reports kube_unauthenticated, never patches.
  const std::vector<Row> refused_at_run_time = {
      {.name = "no credentials", .content = config(good_cluster, "    {}\n")},
      {.name = "missing token file",
       .content = config(good_cluster, "    tokenFile: /nonexistent/token\n"),
       .expect = "/nonexistent/token"},
  };
  ASSERT_TRUE(h_->Produce(5));
  for (const auto& r : refused_at_run_time) {
    SCOPED_TRACE(r.name);
    const std::string path = (h_->dir() / "odd-kubeconfig").string();
    std::ofstream(path, std::ios::binary) << r.content;
    auto o = RunBinary({{"KUBECONFIG", path}}, {"run", "--max-ticks", "2"}, seconds(20));
    EXPECT_EQ(o.exit, 0) << o.err;
    EXPECT_NE(o.out.find("\"error_kind\":\"kube_unauthenticated\""), std::string::npos) << o.out;
    EXPECT_NE(o.out.find(r.expect), std::string::npos) << o.out;
  }
  EXPECT_EQ(h_->Patches(), 0);
  EXPECT_EQ(h_->Replicas(), 1);
}

// Hostile answers from the API server, each on GET of the scale subresource or the Deployment:
// a protocol error counted and logged, not ready, no PATCH, no crash; recovery afterwards.
TEST_F(BadInput, HostileApiResponsesNeverScale) {
  struct Row {
    std::string name;
    std::string path_contains;
    int status = 200;
    std::string body;
    std::string kind = "kube_protocol";
  };
  const std::string huge_array = "[" + std::string(5 << 20, ' ') + "]";  // 5 MiB
  const std::vector<Row> rows = {
      {.name = "truncated JSON", .path_contains = "/scale", .body = R"({"spec":{"replicas":)"},
      {.name = "not JSON", .path_contains = "/scale", .body = "<html>proxy error</html>"},
      {.name = "replicas a string",
       .path_contains = "/scale",
       .body = R"({"metadata":{"resourceVersion":"1"},"spec":{"replicas":"many"}})"},
      {.name = "spec an array",
       .path_contains = "/scale",
       .body = R"({"metadata":{},"spec":[1,2,3]})"},
      {.name = "no metadata", .path_contains = "/scale", .body = R"({"spec":{"replicas":9}})"},
      {.name = "JSON array", .path_contains = "/deployments/workers", .body = "[]"},
      {.name = "JSON string", .path_contains = "/deployments/workers", .body = "\"hello\""},
      {.name = "enormous body", .path_contains = "/scale", .body = huge_array},
      {.name = "error status without Status body",
       .path_contains = "/scale",
       .status = 500,
       .body = std::string("\x00\xff garbage", 10),
       .kind = "kube_unavailable"},
      {.name = "error status with a numeric kind",
       .path_contains = "/scale",
       .status = 500,
       .body = R"({"kind":806,"reason":7})",
       .kind = "kube_unavailable"},
      {.name = "deeply nested",
       .path_contains = "/scale",
       .body = std::string(100'000, '[') + std::string(100'000, ']')},
  };
  ASSERT_TRUE(h_->Produce(5));  // lag 30 → 3
  auto daemon = h_->Start();
  ASSERT_TRUE(h_->WaitSteady(3)) << h_->Status().dump() << daemon->Stderr();
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    ASSERT_TRUE(daemon->Running()) << "crashed: " << daemon->Stderr();
    RunFaultCase(*h_, *daemon, 3,
                 {.kind = r.kind,
                  .inject =
                      [&] {
                        h_->api().InjectFault({.kind = FaultKind::kBody,
                                               .method = "GET",
                                               .path_contains = r.path_contains,
                                               .times = 1'000'000,
                                               .status = r.status,
                                               .body = r.body});
                      },
                  .clear = [&] { h_->api().ClearFaults(); },
                  .observe_for = milliseconds(1500)});
  }
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(8)), 0);
}

// Bodies of every shape a broken or hostile API server could answer a write (or a Lease read)
// with: an array, a string, `metadata` of the wrong type, a numeric resourceVersion, strings
// where numbers go, numbers where strings go, and invalid UTF-8 in each string field of
// `object` (the JSON parser refuses those: the answer is "not JSON").
std::vector<std::pair<std::string, std::string>> HostileBodies(const nlohmann::json& object) {
  std::vector<std::pair<std::string, std::string>> rows = {
      {"array", "[]"},
      {"string", "\"hello\""},
      {"metadata an array", R"({"metadata":[]})"},
      {"metadata a string", R"({"metadata":"x"})"},
      {"numeric resourceVersion", R"({"metadata":{"resourceVersion":5}})"},
      {"resourceVersion an object", R"({"metadata":{"resourceVersion":{"a":1}}})"},
      {"spec an array", R"({"metadata":{"resourceVersion":"7"},"spec":[1]})"},
      {"strings where numbers go",
       R"({"metadata":{"resourceVersion":"7"},"spec":{"replicas":"3","leaseDurationSeconds":"15","leaseTransitions":"1"}})"},
      {"numbers where strings go",
       R"({"metadata":{"resourceVersion":"7","uid":4},"spec":{"holderIdentity":5,"renewTime":6,"acquireTime":7}})"},
      {"fractions and overflow",
       R"({"metadata":{"resourceVersion":"7"},"spec":{"replicas":1.5,"leaseDurationSeconds":1e300,"leaseTransitions":99999999999}})"},
      {"not JSON", "<html>gateway</html>"},
      {"truncated", R"({"metadata":{"resourceVersion":)"},
  };
  // Invalid UTF-8 in every string field of the object, one at a time.
  std::function<void(const nlohmann::json&, const std::vector<std::string>&)> walk =
      [&](const nlohmann::json& j, const std::vector<std::string>& path) {
        for (auto it = j.begin(); it != j.end(); ++it) {
          auto here = path;
          here.push_back(it.key());
          if (it->is_object()) {
            walk(*it, here);
          } else if (it->is_string()) {
            nlohmann::json copy = object;
            nlohmann::json* at = &copy;
            for (const auto& k : here) at = &(*at)[k];
            const std::string marker_text = "@@INVALID@@";
            *at = marker_text;
            std::string body = copy.dump();
            body.replace(body.find(marker_text), marker_text.size(), "a\xff\xfe z");
            std::string name = "invalid UTF-8 in";
            for (const auto& k : here) name += " " + k;
            rows.push_back({name, body});
          }
        }
      };
  walk(object, {});
  return rows;
}

// The next matching requests are answered `status` with the hostile bodies, one each, in order;
// each request after a hostile answer shows the daemon survived it, so the daemon must keep
// running (no std::terminate on a type_error escaping a tick or the elector thread) until one
// request more than there are bodies has come, and recover once the server answers properly
// again. (One answer per body: the next body's request is the proof; two per body took twice
// as long for nothing more.)
void RunHostileAnswers(Harness& h, Process& daemon, const std::string& method,
                       const std::string& path_contains,
                       const std::vector<std::pair<std::string, std::string>>& rows,
                       int status = 200) {
  ASSERT_TRUE(daemon.Running()) << "crashed: " << daemon.Stderr();
  const int before = h.api().CountRequests(method, path_contains);
  for (const auto& [name, body] : rows) {
    h.api().InjectFault({.kind = FaultKind::kBody,
                         .method = method,
                         .path_contains = path_contains,
                         .times = 1,
                         .status = status,
                         .body = body});
  }
  const int want = static_cast<int>(rows.size()) + 1;
  const bool answered = Eventually(
      [&] {
        return h.api().CountRequests(method, path_contains) - before >= want || !daemon.Running();
      },
      seconds(15 + 2 * rows.size()));
  const int taken = h.api().CountRequests(method, path_contains) - before;
  h.api().ClearFaults();
  const auto last = [&](int n) {
    return n <= 0 ? std::string("(none)") : rows[std::min<size_t>(n, rows.size()) - 1].first;
  };
  if (!daemon.Running()) {
    ADD_FAILURE() << method << " " << path_contains << ": crashed after the answer \""
                  << last(taken) << "\": exit " << daemon.Wait(milliseconds(0)).value_or(-1) << "\n"
                  << daemon.Stderr().substr(0, 4000);
    return;
  }
  EXPECT_TRUE(answered) << method << " " << path_contains << ": " << taken << " of " << want
                        << " requests came; the last hostile answer taken: \"" << last(taken)
                        << "\"";
}

const nlohmann::json kLeaseShape = {
    {"apiVersion", "coordination.k8s.io/v1"},
    {"kind", "Lease"},
    {"metadata",
     {{"name", "kafka-autoscaler"}, {"namespace", "default"}, {"resourceVersion", "9"}}},
    {"spec",
     {{"holderIdentity", "someone"},
      {"leaseDurationSeconds", 4},
      {"acquireTime", "2026-01-01T00:00:00.000000Z"},
      {"renewTime", "2026-01-01T00:00:00.000000Z"},
      {"leaseTransitions", 1}}}};

// The Lease: answers to GET, POST and PUT alike (the elector reads resourceVersion and the
// spec of each). A type_error here used to escape the elector thread and abort the process.
TEST_F(BadInput, HostileLeaseAnswersNeverCrash) {
  ASSERT_TRUE(h_->Produce(5));  // lag 30 → 3
  auto daemon = h_->Start({{"LEADER_ELECTION", "true"},
                           {"POD_NAME", "hostile-test"},
                           {"LEASE_DURATION_SECONDS", "4"},
                           {"RENEW_DEADLINE_SECONDS", "3"},
                           {"RETRY_PERIOD_SECONDS", "1"}});
  RunHostileAnswers(*h_, *daemon, "", "/leases", HostileBodies(kLeaseShape));
  // Answers that parse but are the wrong kind of error body.
  ASSERT_TRUE(daemon->Running());
  h_->api().InjectFault({.kind = FaultKind::kBody,
                         .path_contains = "/leases",
                         .times = 3,
                         .status = 409,
                         .body = R"({"kind":"Status","reason":5,"message":["x"]})"});
  // Recovery: the lease is taken and the Deployment scaled.
  EXPECT_TRUE(h_->WaitSteady(3, seconds(40))) << h_->Status().dump() << daemon->Stderr();
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(15)), 0) << daemon->Stderr();
}

// Answers to writes: PATCH of the scale (the daemon reads its resourceVersion) and POST of an
// Event. The write is answered 200 with a hostile body instead of being applied.
TEST_F(BadInput, HostileWriteAnswersNeverCrash) {
  ASSERT_TRUE(h_->Produce(5));  // lag 30 → 3; the Deployment starts at 1: every tick patches
  // The server answers PATCHes without applying them, so the next read finds the old count: an
  // "other writer". Hold only the tick that sees it, so that the daemon keeps writing.
  auto daemon = h_->Start({{"OTHER_WRITER_HOLD_SECONDS", "0"}});
  const nlohmann::json scale = {
      {"apiVersion", "autoscaling/v1"},
      {"kind", "Scale"},
      {"metadata", {{"name", "workers"}, {"namespace", "default"}, {"resourceVersion", "9"}}},
      {"spec", {{"replicas", 3}}},
      {"status", {{"replicas", 1}, {"selector", "app=workers"}}}};
  RunHostileAnswers(*h_, *daemon, "PATCH", "/scale", HostileBodies(scale));
  const nlohmann::json event = {{"apiVersion", "v1"},
                                {"kind", "Event"},
                                {"metadata", {{"name", "workers.1"}, {"resourceVersion", "9"}}},
                                {"reason", "Scaled"},
                                {"message", "scaled"}};
  // Events are posted on every scale: keep the Deployment away from 3 so that each tick scales
  // (the PATCH after the last hostile answer above was applied: another writer sets 1 again).
  h_->api().InjectFault({.kind = FaultKind::kBody,
                         .method = "PATCH",
                         .path_contains = "/scale",
                         .times = 1'000'000,
                         .status = 200,
                         .body = scale.dump()});
  ASSERT_TRUE(h_->api().PatchDeployment("default", "workers", {{"spec", {{"replicas", 1}}}}));
  RunHostileAnswers(*h_, *daemon, "POST", "/events", HostileBodies(event), 201);
  h_->api().ClearFaults();
  EXPECT_TRUE(h_->WaitSteady(3)) << h_->Status().dump() << daemon->Stderr();
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(seconds(15)), 0) << daemon->Stderr();
}

}  // namespace
}  // namespace kafka_autoscaler::testing
