// The operator's view outside the binary (issue 19): the Grafana dashboard, the alert rules in
// both forms, and the ServiceMonitor. Each PromQL expression must parse (promtool) and name only
// metrics a real daemon exports, checked against a /metrics scrape of the binary running against
// the mock Kafka cluster and the test API server.
//
// There is no monitoring.coreos.com schema in tests/data (the Prometheus Operator's CRDs are not
// part of Kubernetes' OpenAPI), so the ServiceMonitor and PrometheusRule get a structural check
// written here: the fields the operator reads, and that they point at the manifest's Service.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "faults/harness.h"
#include "manifest_yaml.h"
#include "promql_names.h"

namespace kafka_autoscaler::monitoring_test {
namespace {

using deploy_test::ParseYamlDocuments;
using deploy_test::ReadFile;
using deploy_test::RenderKustomization;
using deploy_test::RunCommand;
using nlohmann::json;

const std::string kSource = KA_SOURCE_DIR;

// Series Prometheus makes itself for every target (not exported by the daemon).
const std::set<std::string> kPrometheusSeries = {"up"};

json Dashboard() {
  auto text = ReadFile(kSource + "/deploy/grafana/kafka-autoscaler.json");
  EXPECT_TRUE(text.has_value());
  try {
    return json::parse(text.value_or("{}"));
  } catch (const std::exception& e) {
    ADD_FAILURE() << "deploy/grafana/kafka-autoscaler.json is not JSON: " << e.what();
    return json::object();
  }
}

json RulesFile() {
  auto text = ReadFile(kSource + "/deploy/prometheus/rules.yaml");
  EXPECT_TRUE(text.has_value());
  auto docs = ParseYamlDocuments(text.value_or(""));
  EXPECT_TRUE(docs.has_value() && docs->size() == 1);
  return docs && !docs->empty() ? (*docs)[0] : json::object();
}

// Every PromQL expression of the dashboard's panels (including rows' nested panels).
std::vector<std::string> DashboardExpressions(const json& d) {
  std::vector<std::string> out;
  std::function<void(const json&)> walk = [&](const json& panels) {
    for (const auto& p : panels) {
      for (const auto& t : p.value("targets", json::array())) {
        if (t.contains("expr")) out.push_back(t["expr"].get<std::string>());
      }
      if (p.contains("panels")) walk(p["panels"]);
    }
  };
  walk(d.value("panels", json::array()));
  return out;
}

std::vector<std::string> RuleExpressions(const json& rules) {
  std::vector<std::string> out;
  for (const auto& g : rules.value("groups", json::array())) {
    for (const auto& r : g.value("rules", json::array())) out.push_back(r.value("expr", ""));
  }
  return out;
}

// Grafana's variables as a Prometheus server would see them after substitution.
std::string Substituted(std::string expr) {
  for (const auto& [var, value] :
       std::vector<std::pair<std::string, std::string>>{{"$__rate_interval", "1m"},
                                                        {"$__interval", "1m"},
                                                        {"$job", ".*"},
                                                        {"$instance", ".*"}}) {
    for (size_t p = expr.find(var); p != std::string::npos; p = expr.find(var, p + value.size())) {
      expr.replace(p, var.size(), value);
    }
  }
  return expr;
}

// The names of every sample of a real daemon's /metrics (histograms give _bucket/_sum/_count).
std::set<std::string> ScrapedNames() {
  static const std::set<std::string>* names = [] {
    auto* out = new std::set<std::string>();
    testing::Harness h("monitoring");
    if (!h.ok()) {
      ADD_FAILURE() << h.error();
      return out;
    }
    auto daemon = h.Start();
    EXPECT_TRUE(testing::Eventually([&] { return h.Ticks() >= 1; }, std::chrono::seconds(30)));
    const auto [status, body] = testing::HttpGet(h.port(), "/metrics");
    EXPECT_EQ(status, 200);
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] == '#') continue;
      out->insert(line.substr(0, line.find_first_of("{ ")));
    }
    return out;
  }();
  return *names;
}

// --- the tokenizer ---

TEST(PromqlNames, FindsMetricNamesAndNothingElse) {
  struct Case {
    std::string name;
    std::string expr;
    std::set<std::string> want;
  };
  for (
      const Case& c : {
          Case{
              .name = "aggregation with label list first",
        .expr = R"(sum by (kind) (increase(kafka_autoscaler_errors_total{kind=~"kube_.*"}[5m])) > 0)",
        .want = {"kafka_autoscaler_errors_total"}},
          Case{.name = "or + absent",
          .expr = R"(up{job="x"} == 0 or absent(up{job="x"}))",
          .want = {"up"}},
          Case{
              .name = "histogram with Grafana variables",
         .expr = R"(histogram_quantile(0.99, sum by (le, instance) (rate(a_bucket{job=~"$job"}[$__rate_interval]))))",
         .want = {"a_bucket"}},
          Case{.name = "vector matching, offset and trailing by",
          .expr = "a / on (job) group_left (version) b offset 5m + sum(c) by (kind)",
          .want = {"a", "b", "c"}},
          Case{.name = "set operators and comparisons",
          .expr = "k8s_pod_count >= max_r and delta(kafka_message_count[15m]) > bool 0",
          .want = {"k8s_pod_count", "max_r", "kafka_message_count"}},
          Case{.name = "strings holding braces and names",
          .expr = R"(a{x="}{( not_a_metric"} + 1e3 * 0x1f - .5)",
          .want = {"a"}},
          Case{.name = "recording-rule style colons",
          .expr = "job:errors:rate5m * 2",
          .want = {"job:errors:rate5m"}},
      }) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(MetricNames(c.expr), c.want);
  }
}

// --- the dashboard ---

TEST(Dashboard, HasWhatGrafanaNeeds) {
  const json d = Dashboard();
  ASSERT_TRUE(d.is_object());
  EXPECT_EQ(d.value("uid", ""), "kafka-autoscaler");
  EXPECT_FALSE(d.value("title", "").empty());
  EXPECT_GE(d.value("schemaVersion", 0), 36) << "Grafana 9+ dashboard model";
  // A datasource variable, which every panel and query uses (no hard-wired data source).
  bool datasource_var = false;
  for (const auto& v : d["templating"]["list"]) {
    if (v.value("type", "") == "datasource" && v.value("query", "") == "prometheus" &&
        v.value("name", "") == "datasource") {
      datasource_var = true;
    }
  }
  EXPECT_TRUE(datasource_var);
  std::set<int> ids;
  std::set<std::string> titles;
  for (const auto& p : d["panels"]) {
    SCOPED_TRACE(p.value("title", "?"));
    ASSERT_TRUE(p.contains("type") && p["type"].is_string());
    ASSERT_TRUE(p.contains("gridPos"));
    for (const char* k : {"x", "y", "w", "h"})
      EXPECT_TRUE(p["gridPos"][k].is_number_integer()) << k;
    EXPECT_LE(p["gridPos"]["x"].get<int>() + p["gridPos"]["w"].get<int>(), 24);
    EXPECT_TRUE(ids.insert(p.value("id", -1)).second) << "panel ids must be unique";
    titles.insert(p.value("title", ""));
    if (p["type"] == "row") continue;
    EXPECT_EQ(p["datasource"]["uid"], "${datasource}");
    ASSERT_TRUE(p.contains("targets") && !p["targets"].empty());
    for (const auto& t : p["targets"]) {
      EXPECT_FALSE(t.value("expr", "").empty());
      EXPECT_FALSE(t.value("refId", "").empty());
      EXPECT_EQ(t["datasource"]["uid"], "${datasource}");
    }
  }
  for (const char* want : {"Backlog (messages)", "Time lag (seconds)", "Replicas vs desired",
                           "Scale events", "Errors by kind", "Tick duration"}) {
    EXPECT_TRUE(titles.count(want)) << want;
  }
}

// promtool parses every expression (the dashboard's after variable substitution) as rules.
TEST(Dashboard, EveryExpressionParses) {
  const auto exprs = DashboardExpressions(Dashboard());
  ASSERT_FALSE(exprs.empty());
  json group = {{"name", "dashboard"}, {"rules", json::array()}};
  for (size_t i = 0; i < exprs.size(); ++i) {
    group["rules"].push_back(
        {{"record", "dashboard:expr" + std::to_string(i)}, {"expr", Substituted(exprs[i])}});
  }
  const auto path = std::filesystem::temp_directory_path() /
                    ("ka-dashboard-rules-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << json{{"groups", {group}}}.dump();  // JSON is YAML
  auto r = RunCommand("promtool check rules " + path.string() + " 2>&1");
  std::filesystem::remove(path);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->exit_code, 0) << r->output;
}

TEST(Dashboard, NamesOnlyMetricsTheDaemonExports) {
  const auto scraped = ScrapedNames();
  ASSERT_TRUE(scraped.count("kafka_message_count")) << "the scrape failed";
  const json d = Dashboard();
  std::vector<std::string> exprs = DashboardExpressions(d);
  // label_values(metric{...}, label) of the variables: the metric is the first argument.
  static const std::regex kLabelValues(R"(label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*))");
  for (const auto& v : d["templating"]["list"]) {
    std::smatch m;
    const std::string q = v.value("definition", "");
    if (std::regex_search(q, m, kLabelValues)) exprs.push_back(m[1]);
  }
  std::set<std::string> used;
  for (const auto& e : exprs) {
    SCOPED_TRACE(e);
    const auto names = MetricNames(e);
    EXPECT_FALSE(names.empty());
    for (const auto& n : names) {
      used.insert(n);
      EXPECT_TRUE(scraped.count(n) || kPrometheusSeries.count(n)) << n << " is not exported";
    }
  }
  // The panels the issue asks for read these.
  for (const char* want :
       {"kafka_message_count", "k8s_pod_count", "kafka_autoscaler_desired_replicas",
        "kafka_autoscaler_scale_events_total", "kafka_autoscaler_errors_total",
        "kafka_autoscaler_tick_duration_seconds_bucket", "kafka_autoscaler_lag_seconds",
        "kafka_autoscaler_lag_seconds_lower_bound"}) {
    EXPECT_TRUE(used.count(want)) << want;
  }
}

// The check bites: a name the daemon does not export fails. (This used the time lag until
// issue 17 item 1 exported it; the scrape now has it.)
TEST(Dashboard, AnUnexportedMetricIsCaught) {
  const auto scraped = ScrapedNames();
  const auto names = MetricNames("max(kafka_autoscaler_not_exported_seconds{job=~\"$job\"})");
  ASSERT_EQ(names, std::set<std::string>{"kafka_autoscaler_not_exported_seconds"});
  EXPECT_FALSE(scraped.count("kafka_autoscaler_not_exported_seconds"));
  EXPECT_TRUE(scraped.count("kafka_autoscaler_lag_seconds"));
}

// --- alert rules ---

TEST(Rules, NameOnlyMetricsTheDaemonExports) {
  const auto scraped = ScrapedNames();
  ASSERT_TRUE(scraped.count("kafka_message_count")) << "the scrape failed";
  const auto exprs = RuleExpressions(RulesFile());
  ASSERT_GE(exprs.size(), 4u);
  for (const auto& e : exprs) {
    SCOPED_TRACE(e);
    for (const auto& n : MetricNames(e)) {
      EXPECT_TRUE(scraped.count(n) || kPrometheusSeries.count(n)) << n << " is not exported";
    }
  }
}

TEST(Rules, EveryAlertHasSeverityAndTextAndAUnitTest) {
  auto tests = ReadFile(kSource + "/tests/monitoring/rules_test.yaml");
  ASSERT_TRUE(tests.has_value());
  const auto rules = RulesFile();  // the loop below must not range over a temporary's member
  for (const auto& g : rules["groups"]) {
    for (const auto& r : g["rules"]) {
      const std::string name = r.value("alert", "");
      SCOPED_TRACE(name);
      ASSERT_FALSE(name.empty());
      EXPECT_TRUE(r["labels"].contains("severity"));
      EXPECT_TRUE(r["annotations"].contains("summary"));
      EXPECT_TRUE(r["annotations"].contains("description"));
      EXPECT_NE(tests->find("alertname: " + name + "\n"), std::string::npos)
          << "no promtool unit test for " << name;
    }
  }
}

// --- Prometheus Operator objects (structural: no monitoring.coreos.com schema here) ---

std::vector<json> Rendered(const std::string& dir) {
  auto docs = RenderKustomization(KA_KUBECTL, kSource + "/" + dir);
  EXPECT_TRUE(docs.has_value()) << docs.error().ToString();
  return docs.value_or(std::vector<json>{});
}

json Only(const std::vector<json>& docs, const std::string& kind) {
  json found;
  int n = 0;
  for (const auto& d : docs) {
    if (d.value("kind", "") == kind) {
      found = d;
      ++n;
    }
  }
  EXPECT_EQ(n, 1) << kind;
  return found;
}

TEST(Monitoring, PrometheusRuleHasTheGroupsOfTheRulesFile) {
  const json rule = Only(Rendered("deploy/monitoring"), "PrometheusRule");
  EXPECT_EQ(rule.value("apiVersion", ""), "monitoring.coreos.com/v1");
  EXPECT_FALSE(rule["metadata"].value("name", "").empty());
  EXPECT_EQ(rule["spec"]["groups"], RulesFile()["groups"])
      << "deploy/monitoring/prometheusrule.yaml differs from deploy/prometheus/rules.yaml";
}

// The fields the operator reads, and a ServiceMonitor that selects the manifest's Service and
// scrapes a port that Service names, at /metrics, in the same namespace.
std::vector<std::string> ServiceMonitorProblems(const json& sm, const json& service) {
  std::vector<std::string> p;
  if (sm.value("apiVersion", "") != "monitoring.coreos.com/v1") p.push_back("apiVersion");
  if (!sm.contains("metadata") || sm["metadata"].value("name", "").empty())
    p.push_back("metadata.name");
  if (sm["metadata"].value("namespace", "") != service["metadata"].value("namespace", "")) {
    p.push_back("metadata.namespace: not the Service's");
  }
  const json labels = service["metadata"].value("labels", json::object());
  const json match = sm["spec"]["selector"].value("matchLabels", json::object());
  if (match.empty()) p.push_back("spec.selector.matchLabels: empty");
  for (const auto& [k, v] : match.items()) {
    if (labels.value(k, "") != v)
      p.push_back("spec.selector.matchLabels." + k + ": not on the Service");
  }
  std::set<std::string> ports;
  for (const auto& port : service["spec"]["ports"]) ports.insert(port.value("name", ""));
  const json endpoints = sm["spec"].value("endpoints", json::array());
  if (!endpoints.is_array() || endpoints.empty()) p.push_back("spec.endpoints: empty");
  for (const auto& e : endpoints) {
    if (!e.contains("port") || !e["port"].is_string() || !ports.count(e["port"])) {
      p.push_back("spec.endpoints[].port: not a named port of the Service");
    }
    if (e.value("path", "/metrics") != "/metrics") p.push_back("spec.endpoints[].path");
    for (const char* k : {"interval", "scrapeTimeout"}) {
      if (e.contains(k) &&
          !std::regex_match(e[k].get<std::string>(), std::regex("[0-9]+(ms|s|m|h)"))) {
        p.push_back(std::string("spec.endpoints[].") + k + ": not a duration");
      }
    }
  }
  return p;
}

TEST(Monitoring, ServiceMonitorScrapesTheManifestsService) {
  const json service = Only(Rendered("deploy"), "Service");
  const json sm = Only(Rendered("deploy/monitoring"), "ServiceMonitor");
  const auto problems = ServiceMonitorProblems(sm, service);
  EXPECT_TRUE(problems.empty()) << problems.front();
  // The check bites: a wrong port name, a selector the Service lacks, another namespace.
  struct Case {
    std::string name;
    std::function<void(json&)> mutate;
    std::string expected;
  };
  for (const Case& c : {
           Case{.name = "port",
          .mutate = [](json& s) { s["spec"]["endpoints"][0]["port"] = "metrics"; },
          .expected = "spec.endpoints[].port: not a named port of the Service"},
           Case{.name = "selector",
           .mutate = [](json& s) { s["spec"]["selector"]["matchLabels"]["app"] = "other"; },
           .expected = "spec.selector.matchLabels.app: not on the Service"},
           Case{.name = "namespace",
           .mutate = [](json& s) { s["metadata"]["namespace"] = "elsewhere"; },
           .expected = "metadata.namespace: not the Service's"},
       }) {
    SCOPED_TRACE(c.name);
    json broken = sm;
    c.mutate(broken);
    const auto p = ServiceMonitorProblems(broken, service);
    EXPECT_NE(std::find(p.begin(), p.end(), c.expected), p.end());
  }
}

}  // namespace
}  // namespace kafka_autoscaler::monitoring_test
