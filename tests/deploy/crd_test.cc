// The KafkaScaler CRD (deploy/many/kafkascaler-crd.yaml) against
//   - Kubernetes' own CustomResourceDefinition schema (apiextensions.k8s.io/v1, 1.35);
//   - the rules of a structural schema (every node typed, defaults that satisfy their node);
//   - config.cc: every per-target variable is a spec field with the same default, and every
//     cross-field rule of the CRD is also refused by FromKafkaScaler() (so a cluster without CEL
//     validation still gets a clear condition);
//   - the example in deploy/many/, read through FromKafkaScaler().
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <regex>
#include <set>

#include "apiserver/crd_schema.h"
#include "apiserver/schema_check.h"
#include "config/kafka_scaler.h"
#include "manifest_yaml.h"

namespace kafka_autoscaler::deploy_test {
namespace {

using nlohmann::json;

json LoadOne(const std::string& relative) {
  auto text = ReadFile(std::string(KA_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(text) << relative;
  if (!text) return json();
  auto docs = ParseYamlDocuments(*text);
  EXPECT_TRUE(docs) << docs.error().message;
  EXPECT_EQ(docs ? docs->size() : 0u, 1u) << relative;
  return docs && !docs->empty() ? docs->front() : json();
}

const json& Crd() {
  static const json crd = LoadOne("deploy/many/kafkascaler-crd.yaml");
  return crd;
}

const json& Version() { return Crd()["spec"]["versions"][0]; }
const json& Root() { return Version()["schema"]["openAPIV3Schema"]; }
const json& SpecSchema() { return Root()["properties"]["spec"]; }

// Structural schema (apiextensions): every node says its type; a default satisfies its node.
void CheckStructural(const json& schema, const std::string& path,
                     std::vector<std::string>& problems) {
  if (!schema.contains("type")) problems.push_back(path + ": no type");
  if (schema.contains("default")) {
    const auto p = testing::CheckCrdSchema(schema["default"], schema, path + " default");
    problems.insert(problems.end(), p.begin(), p.end());
  }
  if (schema.contains("properties")) {
    for (const auto& [k, v] : schema["properties"].items()) {
      CheckStructural(v, path + "." + k, problems);
    }
  }
  if (schema.contains("items")) CheckStructural(schema["items"], path + "[]", problems);
}

std::set<std::string> SpecFields() {
  std::set<std::string> out;
  for (const auto& [k, v] : SpecSchema()["properties"].items()) out.insert(k);
  return out;
}

json MinimalScaler() {
  return json::parse(R"({"apiVersion":"kafka-autoscaler.io/v1alpha1","kind":"KafkaScaler",
    "metadata":{"name":"orders","namespace":"shop"},
    "spec":{"scaleTargetRef":{"kind":"Deployment","name":"orders-consumer"},"topics":["orders"]}})");
}

TEST(KafkaScalerCrd, ConformsToTheCustomResourceDefinitionSchema) {
  auto schemas = testing::SchemaSet::LoadDir(KA_K8S_SCHEMA_DIR);
  ASSERT_TRUE(schemas) << schemas.error().message;
  ASSERT_FALSE(Crd().is_null());
  const auto problems = schemas->Validate(Crd());
  EXPECT_TRUE(problems.empty()) << json(problems).dump(1);

  // The check bites: a misspelt field of the CRD itself is reported.
  json broken = Crd();
  broken["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["propertys"] = json::object();
  EXPECT_FALSE(schemas->Validate(broken).empty());
}

TEST(KafkaScalerCrd, NamesAndColumnsForKubectl) {
  EXPECT_EQ(Crd()["metadata"]["name"], "kafkascalers.kafka-autoscaler.io");
  EXPECT_EQ(Crd()["spec"]["scope"], "Namespaced");
  EXPECT_EQ(Crd()["spec"]["names"]["shortNames"], json::array({"ks"}));
  EXPECT_EQ(Version()["name"], "v1alpha1");
  EXPECT_TRUE(Version()["subresources"].contains("status"));
  std::vector<std::string> columns;
  for (const auto& c : Version()["additionalPrinterColumns"]) columns.push_back(c["name"]);
  EXPECT_EQ(columns, (std::vector<std::string>{"Target", "Topics", "Group", "Backlog", "Replicas",
                                               "Desired", "Ready", "Age"}));
  // Every column's path names a field of the schema (or metadata).
  for (const auto& c : Version()["additionalPrinterColumns"]) {
    std::smatch m;
    const std::string path = c["jsonPath"];
    ASSERT_TRUE(std::regex_search(path, m, std::regex(R"(^\.(spec|status|metadata)\.(\w+))")))
        << path;
    if (m[1] == "metadata") continue;
    EXPECT_TRUE(Root()["properties"][m[1].str()]["properties"].contains(m[2].str())) << path;
  }
}

TEST(KafkaScalerCrd, SchemaIsStructural) {
  std::vector<std::string> problems;
  CheckStructural(Root(), "openAPIV3Schema", problems);
  EXPECT_TRUE(problems.empty()) << json(problems).dump(1);

  // The check bites.
  json bad = Root();
  bad["properties"]["spec"]["properties"]["minReplicas"].erase("type");
  bad["properties"]["spec"]["properties"]["maxReplicas"]["default"] = 0;  // below its minimum
  problems.clear();
  CheckStructural(bad, "openAPIV3Schema", problems);
  EXPECT_EQ(problems.size(), 2u) << json(problems).dump(1);
}

// Every per-target variable of env-var mode is a spec field and every spec field is a variable
// (or one of the structural fields); the defaults are Load()'s.
TEST(KafkaScalerCrd, SpecFieldsAreThePerTargetVariablesWithTheirDefaults) {
  const std::set<std::string> structural = {"NAMESPACE", "DEPLOYMENT_NAME", "KAFKA_TOPIC",
                                            "KAFKA_CONSUMER_GROUP", "KAFKA_OFFSET_RESET_POLICY"};
  const auto& instance = config::InstanceVariables();
  std::set<std::string> expected = {"scaleTargetRef",    "topics",       "consumerGroup",
                                    "offsetResetPolicy", "kafkaCluster", "paused"};
  for (const auto& v : config::KnownVariables()) {
    if (structural.count(v) || std::count(instance.begin(), instance.end(), v)) continue;
    expected.insert(config::SpecFieldName(v));
  }
  EXPECT_EQ(SpecFields(), expected);

  auto defaults = config::Load({});
  ASSERT_TRUE(defaults);
  const json env_defaults = defaults->ToJson();
  for (const auto& v : config::KnownVariables()) {
    const std::string field = config::SpecFieldName(v);
    if (structural.count(v) || !SpecSchema()["properties"].contains(field)) continue;
    const json& node = SpecSchema()["properties"][field];
    if (env_defaults[v].is_null()) {
      EXPECT_FALSE(node.contains("default")) << field << ": unset by default in env-var mode";
    } else {
      EXPECT_EQ(node.value("default", json()), env_defaults[v]) << field << " (" << v << ")";
    }
  }
  EXPECT_EQ(SpecSchema()["properties"]["offsetResetPolicy"]["default"],
            env_defaults["KAFKA_OFFSET_RESET_POLICY"]);
}

// Each x-kubernetes-validations rule names real fields, and the same combination is refused by
// FromKafkaScaler() with the fields' paths.
TEST(KafkaScalerCrd, CrossFieldRulesAreAlsoRefusedByTheController) {
  const auto fields = SpecFields();
  const auto& rules = SpecSchema()["x-kubernetes-validations"];
  ASSERT_EQ(rules.size(), 4u);
  const std::regex self_field(R"(self\.(\w+))");
  for (const auto& r : rules) {
    const std::string rule = r["rule"];
    for (std::sregex_iterator it(rule.begin(), rule.end(), self_field), end; it != end; ++it) {
      EXPECT_TRUE(fields.count((*it)[1].str())) << rule;
    }
  }
  struct Case {
    json spec_patch;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {{{"minReplicas", 5}, {"maxReplicas", 2}},
       "spec.minReplicas=5: must be <= spec.maxReplicas (2)"},
      {{{"idleReplicas", 2}, {"minReplicas", 1}},
       "spec.idleReplicas=2: must be <= spec.minReplicas (1)"},
      {{{"fallbackReplicas", 11}}, "spec.fallbackReplicas=11: must be within"},
      {{{"limitToPartitionsWithLag", true}, {"scalingPolicy", "rate"}},
       "spec.limitToPartitionsWithLag=true: only with spec.scalingPolicy=messages"},
  };
  for (const auto& c : cases) {
    json object = MinimalScaler();
    object["spec"].update(c.spec_patch);
    auto t = config::FromKafkaScaler(object, {});
    ASSERT_FALSE(t) << c.spec_patch.dump();
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
    const std::string all = t.error().ToString();
    EXPECT_NE(all.find(c.detail), std::string::npos) << all;
  }
}

// Every integer field's bounds are Load()'s: the minimum is accepted, one below and one above
// the maximum are refused, naming the field and the value.
TEST(KafkaScalerCrd, IntegerBoundsAreTheVariablesBounds) {
  int checked = 0;
  for (const auto& [field, node] : SpecSchema()["properties"].items()) {
    if (node.value("type", "") != "integer") continue;
    ++checked;
    ASSERT_TRUE(node.contains("minimum")) << field;
    const int64_t lo = node["minimum"];
    json object = MinimalScaler();
    object["spec"][field] = lo;
    auto at_min = config::FromKafkaScaler(object, {});
    EXPECT_TRUE(at_min) << field << "=" << lo << ": " << at_min.error().ToString();
    std::vector<int64_t> refused = {lo - 1};
    if (node.contains("maximum")) refused.push_back(node["maximum"].get<int64_t>() + 1);
    for (int64_t v : refused) {
      object["spec"][field] = v;
      auto t = config::FromKafkaScaler(object, {});
      ASSERT_FALSE(t) << field << "=" << v;
      const std::string want = "spec." + field + "='" + std::to_string(v) + "'";
      EXPECT_NE(t.error().ToString().find(want), std::string::npos) << t.error().ToString();
    }
  }
  EXPECT_GE(checked, 20);
}

// A number field (costCeiling, COST_CEILING) reads its decimal value as the variable does.
TEST(KafkaScalerCrd, ANumberFieldReadsItsDecimalValue) {
  json object = MinimalScaler();
  object["spec"]["costCeiling"] = 1.05;
  auto t = config::FromKafkaScaler(object, {});
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_DOUBLE_EQ(t->config.policy.cost_ceiling, 1.05);
  object["spec"]["costCeiling"] = 0;
  t = config::FromKafkaScaler(object, {});
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->config.policy.cost_ceiling, 0);
}

TEST(KafkaScalerCrd, ExampleConformsAndReadsAsAConfig) {
  const json example = LoadOne("deploy/many/example-kafkascaler.yaml");
  const auto problems = testing::CheckCrdSchema(example, Root(), "");
  EXPECT_TRUE(problems.empty()) << json(problems).dump(1);

  auto t = config::FromKafkaScaler(
      example, {{"KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"}, {"MIN_REPLICAS", "7"}});
  ASSERT_TRUE(t) << t.error().ToString();
  EXPECT_EQ(t->name, "orders");
  EXPECT_EQ(t->target_kind, "Deployment");
  EXPECT_EQ(t->kafka_cluster, "default");
  EXPECT_FALSE(t->paused);
  EXPECT_EQ(t->config.namespace_name, "shop");
  EXPECT_EQ(t->config.deployment_name, "orders-consumer");
  EXPECT_EQ(t->config.kafka_topics, (std::vector<std::string>{"orders", "orders-retry"}));
  EXPECT_EQ(t->config.kafka_consumer_group, std::optional<std::string>("orders-consumer"));
  EXPECT_EQ(t->config.offset_reset, config::OffsetResetPolicy::kEarliest);
  EXPECT_EQ(t->config.policy.messages_per_pod, 500);
  EXPECT_EQ(t->config.policy.max_replicas, 12);
  EXPECT_EQ(t->config.policy.min_replicas, 1)
      << "per-target variables of the instance are not inherited";
  EXPECT_EQ(t->config.kafka_bootstrap_servers, "kafka:9092") << "instance variables are";
}

TEST(KafkaScalerCrd, BadObjectsAreRefusedWithTheirPaths) {
  struct Case {
    std::function<void(json&)> mutate;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {[](json& o) { o["spec"]["minreplicas"] = 2; }, "spec.minreplicas: unknown field"},
      {[](json& o) { o["spec"]["kafkaBootstrapServers"] = "x:1"; },
       "spec.kafkaBootstrapServers: unknown field"},
      {[](json& o) { o["spec"]["topics"] = "orders"; }, "spec.topics: required, a list"},
      {[](json& o) { o["spec"]["topics"] = json::array({"a,b"}); }, "spec.topics[0]=a,b"},
      {[](json& o) { o["spec"]["topics"] = json::array({"re:a.*", "b"}); },
       "spec.topics[0]=re:a.*: a pattern (re:) must be the only item"},
      {[](json& o) { o["spec"]["topics"] = json::array({"re:a("}); },
       "spec.topics='re:a(': invalid regular expression"},
      {[](json& o) { o["spec"]["maxReplicas"] = json::object(); },
       "spec.maxReplicas: expected a number, a boolean or a string, got object"},
      {[](json& o) { o["spec"]["messagesPerPod"] = 0; }, "spec.messagesPerPod='0'"},
      {[](json& o) { o["spec"]["maxReplicas"] = 2.5; }, "spec.maxReplicas='2.5'"},
      {[](json& o) { o["spec"]["costCeiling"] = -0.5; }, "spec.costCeiling='-0.5'"},
      {[](json& o) { o["spec"]["costCeiling"] = 11; }, "spec.costCeiling='11'"},
      {[](json& o) { o["spec"]["scaleTargetRef"]["kind"] = "ReplicaSet"; },
       "spec.scaleTargetRef.kind=ReplicaSet: must be Deployment or StatefulSet"},
      {[](json& o) { o["spec"].erase("scaleTargetRef"); }, "spec.scaleTargetRef: required"},
      {[](json& o) { o["metadata"].erase("namespace"); }, "metadata.namespace: required"},
      {[](json& o) { o["spec"]["paused"] = "yes"; }, "spec.paused: expected a boolean"},
      {[](json& o) { o = json::array(); }, "spec: required"},
  };
  for (const auto& c : cases) {
    json object = MinimalScaler();
    c.mutate(object);
    auto t = config::FromKafkaScaler(object, {});
    ASSERT_FALSE(t) << object.dump();
    const std::string all = t.error().ToString();
    EXPECT_NE(all.find(c.detail), std::string::npos) << all;
  }
  auto ok = config::FromKafkaScaler(MinimalScaler(), {});
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->config.policy.max_replicas, 10);
  // KAFKA_TOPIC's pattern form as the only item (issue 17 item 6), commas inside the regex.
  json pattern = MinimalScaler();
  pattern["spec"]["topics"] = json::array({"re:orders-[a-z]{2,3}"});
  auto p = config::FromKafkaScaler(pattern, {});
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(p->config.kafka_topic_pattern, std::optional<std::string>("orders-[a-z]{2,3}"));
}

}  // namespace
}  // namespace kafka_autoscaler::deploy_test
