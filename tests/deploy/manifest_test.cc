// deploy/: `kubectl kustomize deploy/` renders, and every rendered object conforms to the
// Kubernetes 1.35 OpenAPI v3 schemas in tests/data/k8s-openapi-v1.35 (types, required fields,
// enums, unknown fields), checked with the project's schema walker (tests/apiserver). Negative
// cases prove the check bites: a misspelled field, a wrong type and a missing required field each
// fail it, also when the misspelling is in the manifest file itself.
//
// The manifest's contract is checked too: every seed variable with its default (the config
// loader accepts the Deployment's environment and yields the default configuration), the
// downward-API POD_NAME/POD_NAMESPACE, probes on 8000, the hardened security context, resources,
// the least-privilege Role (exactly the calls src/kube makes) and the Service on 8000.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "apiserver/schema_check.h"
#include "config/config.h"
#include "dockerfile_check.h"
#include "manifest_yaml.h"

namespace kafka_autoscaler::deploy_test {
namespace {

using json = nlohmann::json;
using kafka_autoscaler::testing::SchemaSet;

const std::string kSource = KA_SOURCE_DIR;
const std::string kSchemaDir = std::string(KA_K8S_SCHEMA_DIR);
const std::string kKubectl = KA_KUBECTL;

const SchemaSet& Schemas() {
  static const SchemaSet* set = [] {
    auto loaded = SchemaSet::LoadDir(kSchemaDir);
    EXPECT_TRUE(loaded.has_value()) << loaded.error().ToString();
    return new SchemaSet(loaded ? std::move(*loaded) : SchemaSet());
  }();
  return *set;
}

// Renders a kustomization directory with the real kubectl and parses the documents.
std::vector<json> Render(const std::string& dir) {
  auto docs = RenderKustomization(kKubectl, dir);
  EXPECT_TRUE(docs.has_value()) << docs.error().ToString();
  return docs.value_or(std::vector<json>{});
}

const std::vector<json>& Rendered() {
  static const std::vector<json>* docs = new std::vector<json>(Render(kSource + "/deploy"));
  return *docs;
}

json Find(const std::vector<json>& docs, const std::string& kind) {
  for (const auto& d : docs) {
    if (d.value("kind", "") == kind) return d;
  }
  ADD_FAILURE() << "no " << kind << " in the rendered manifest";
  return json::object();
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += "  " + l + "\n";
  return out;
}

json Container(const json& deployment) {
  return deployment.at("spec").at("template").at("spec").at("containers").at(0);
}

// name -> value for literal env entries; valueFrom entries map to their fieldPath.
std::map<std::string, std::string> Env(const json& container, bool literal_only) {
  std::map<std::string, std::string> env;
  for (const auto& e : container.value("env", json::array())) {
    if (e.contains("value")) {
      env[e["name"]] = e["value"].get<std::string>();
    } else if (!literal_only && e.contains("valueFrom")) {
      env[e["name"]] = "fieldRef:" + e["valueFrom"]["fieldRef"]["fieldPath"].get<std::string>();
    }
  }
  return env;
}

TEST(ManifestYaml, PlainScalarsResolveAsTheCoreSchemaSays) {
  auto docs = ParseYamlDocuments(
      "int: 10\nquoted: \"10\"\nsingle: '10'\nneg: -3\nhex: 0x1F\noct: 0o17\nflt: 1.5\n"
      "dot: .5\nexp: 1e3\nyes: true\nno: FALSE\nnul: ~\nempty:\nword: abc\n"
      "version: 1.2.3\nhost: localhost:9092\n---\n---\nsecond: [1, \"a\"]\n");
  ASSERT_TRUE(docs.has_value()) << docs.error().ToString();
  ASSERT_EQ(docs->size(), 2u) << "empty documents are skipped";
  const json& d = (*docs)[0];
  EXPECT_EQ(d["int"], 10);
  EXPECT_EQ(d["quoted"], "10");
  EXPECT_EQ(d["single"], "10");
  EXPECT_EQ(d["neg"], -3);
  EXPECT_EQ(d["hex"], 31);
  EXPECT_EQ(d["oct"], 15);
  EXPECT_EQ(d["flt"], 1.5);
  EXPECT_EQ(d["dot"], 0.5);
  EXPECT_EQ(d["exp"], 1000.0);
  EXPECT_EQ(d["yes"], true);
  EXPECT_EQ(d["no"], false);
  EXPECT_TRUE(d["nul"].is_null());
  EXPECT_TRUE(d["empty"].is_null());
  EXPECT_EQ(d["word"], "abc");
  EXPECT_EQ(d["version"], "1.2.3");
  EXPECT_EQ(d["host"], "localhost:9092");
  EXPECT_EQ((*docs)[1]["second"], json::array({1, "a"}));
  EXPECT_FALSE(ParseYamlDocuments("a: [1, 2\n").has_value());
}

TEST(Manifest, KustomizeRendersTheFiveObjects) {
  const auto& docs = Rendered();
  std::multiset<std::string> kinds;
  for (const auto& d : docs) kinds.insert(d.value("kind", ""));
  EXPECT_EQ(kinds, (std::multiset<std::string>{"ServiceAccount", "Role", "RoleBinding",
                                               "Deployment", "Service"}));
}

TEST(Manifest, EveryObjectConformsToTheKubernetes135Schemas) {
  const auto& docs = Rendered();
  ASSERT_FALSE(docs.empty());
  for (const auto& d : docs) {
    SCOPED_TRACE(d.value("kind", "?"));
    ASSERT_FALSE(Schemas()
                     .SchemaFor(d.value("apiVersion", ""), d.value("kind", ""))
                     .empty());
    const auto problems = Schemas().Validate(d);
    EXPECT_TRUE(problems.empty()) << Joined(problems);
  }
}

// Each mutation of a valid rendered object must make the schema check fail with `expected`.
TEST(Manifest, SchemaCheckRejectsMisspelledMistypedAndMissingFields) {
  struct Case {
    std::string name;
    std::string kind;
    std::function<void(json&)> mutate;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {.name = "replicas misspelled replicaz", .kind = "Deployment",
       .mutate = [](json& d) {
         d["spec"]["replicaz"] = d["spec"]["replicas"];
         d["spec"].erase("replicas");
       },
       .expected = "spec.replicaz: unknown field"},
      {.name = "misspelled field deep in the pod template", .kind = "Deployment",
       .mutate = [](json& d) {
         auto& c = d["spec"]["template"]["spec"]["containers"][0];
         c["readinesProbe"] = c["readinessProbe"];
         c.erase("readinessProbe");
       },
       .expected = "spec.template.spec.containers[0].readinesProbe: unknown field"},
      {.name = "misspelled securityContext field", .kind = "Deployment",
       .mutate = [](json& d) {
         d["spec"]["template"]["spec"]["containers"][0]["securityContext"]
          ["readOnlyRootFileSystem"] = true;
       },
       .expected = "securityContext.readOnlyRootFileSystem: unknown field"},
      {.name = "replicas as a string", .kind = "Deployment",
       .mutate = [](json& d) { d["spec"]["replicas"] = "two"; },
       .expected = "spec.replicas: expected integer, got string"},
      {.name = "env value as a number (unquoted in YAML)", .kind = "Deployment",
       .mutate = [](json& d) {
         d["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = 10;
       },
       .expected = "containers[0].env[0].value: expected string, got integer"},
      {.name = "container name missing", .kind = "Deployment",
       .mutate = [](json& d) { d["spec"]["template"]["spec"]["containers"][0].erase("name"); },
       .expected = "spec.template.spec.containers[0].name: required field missing"},
      {.name = "selector missing", .kind = "Deployment",
       .mutate = [](json& d) { d["spec"].erase("selector"); },
       .expected = "spec.selector: required field missing"},
      {.name = "Role rule without verbs", .kind = "Role",
       .mutate = [](json& d) { d["rules"][0].erase("verbs"); },
       .expected = "rules[0].verbs: required field missing"},
      {.name = "Role resourceNames as a string", .kind = "Role",
       .mutate = [](json& d) { d["rules"][0]["resourceNames"] = "my-deployment"; },
       .expected = "rules[0].resourceNames: expected array, got string"},
      {.name = "RoleBinding roleRef misspelled", .kind = "RoleBinding",
       .mutate = [](json& d) {
         d["roleref"] = d["roleRef"];
         d.erase("roleRef");
       },
       .expected = "roleref: unknown field"},
      {.name = "Service port as a string", .kind = "Service",
       .mutate = [](json& d) { d["spec"]["ports"][0]["port"] = "8000"; },
       .expected = "spec.ports[0].port: expected integer, got string"},
      {.name = "unknown kind", .kind = "ServiceAccount",
       .mutate = [](json& d) { d["kind"] = "ServiceAcount"; },
       .expected = "no schema for apiVersion 'v1' kind 'ServiceAcount'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json object = Find(Rendered(), c.kind);
    ASSERT_TRUE(Schemas().Validate(object).empty()) << "the unmodified object must be valid";
    c.mutate(object);
    const auto problems = Schemas().Validate(object);
    ASSERT_FALSE(problems.empty()) << "the schema check accepted: " << object.dump();
    EXPECT_TRUE(std::any_of(problems.begin(), problems.end(),
                            [&](const std::string& p) { return p.find(c.expected) != std::string::npos; }))
        << "expected '" << c.expected << "' among:\n" << Joined(problems);
  }
}

// The same pipeline the positive test uses (file -> kubectl kustomize -> YAML -> schema check)
// fails when the manifest file itself has `replicaz:` for `replicas:`.
TEST(Manifest, MisspelledFieldInTheManifestFileFailsTheCheck) {
  namespace fs = std::filesystem;
  auto text = ReadFile(kSource + "/deploy/manifest.yaml");
  ASSERT_TRUE(text.has_value()) << text.error().ToString();
  // The first `replicas:` key (indented, at the start of a line) becomes `replicaz:`.
  std::string broken = *text;
  for (size_t pos = broken.find("replicas:"); pos != std::string::npos;
       pos = broken.find("replicas:", pos + 1)) {
    const size_t line_start = broken.rfind('\n', pos) + 1;
    if (broken.find_first_not_of(' ', line_start) == pos && pos > line_start) {
      broken.replace(pos, 9, "replicaz:");
      break;
    }
  }
  ASSERT_NE(broken, *text) << "manifest.yaml has no `replicas:` to misspell";

  const fs::path dir = fs::temp_directory_path() /
                       ("ka-deploy-misspelled-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "manifest.yaml") << broken;
  std::ofstream(dir / "kustomization.yaml")
      << "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
         "resources:\n  - manifest.yaml\n";
  const auto docs = Render(dir.string());
  fs::remove_all(dir);
  ASSERT_EQ(docs.size(), Rendered().size()) << "kustomize should still render it";

  std::vector<std::string> all;
  for (const auto& d : docs) {
    for (const auto& p : Schemas().Validate(d)) all.push_back(d.value("kind", "") + ": " + p);
  }
  EXPECT_EQ(all, std::vector<std::string>{"Deployment: spec.replicaz: unknown field"});
}

// The 1.35 schemas give these enums only in prose (no `enum` keyword), so the walker cannot
// check them; this table does, and each allowed value is asserted to appear in the schema's own
// description so the table cannot drift from the schema text.
TEST(Manifest, EnumValuedFieldsHoldValuesTheSchemaAllows) {
  struct EnumField {
    std::string schema;    // component schema holding the property
    std::string property;  // its name
    std::vector<std::string> allowed;
    std::string kind;      // where the manifest sets it
    std::string pointer;   // JSON pointer into that object
  };
  const std::vector<EnumField> fields = {
      {.schema = "io.k8s.api.core.v1.Container", .property = "imagePullPolicy",
       .allowed = {"Always", "Never", "IfNotPresent"}, .kind = "Deployment",
       .pointer = "/spec/template/spec/containers/0/imagePullPolicy"},
      {.schema = "io.k8s.api.core.v1.SeccompProfile", .property = "type",
       .allowed = {"Localhost", "RuntimeDefault", "Unconfined"}, .kind = "Deployment",
       .pointer = "/spec/template/spec/securityContext/seccompProfile/type"},
      {.schema = "io.k8s.api.core.v1.ContainerPort", .property = "protocol",
       .allowed = {"UDP", "TCP", "SCTP"}, .kind = "Deployment",
       .pointer = "/spec/template/spec/containers/0/ports/0/protocol"},
      {.schema = "io.k8s.api.core.v1.ServicePort", .property = "protocol",
       .allowed = {"UDP", "TCP", "SCTP"}, .kind = "Service",
       .pointer = "/spec/ports/0/protocol"},
  };
  auto raw = ReadFile(kSchemaDir + "/api__v1_openapi.json");
  ASSERT_TRUE(raw.has_value());
  const json schemas = json::parse(*raw)["components"]["schemas"];
  auto check = [&](const EnumField& f, const json& value) {
    return value.is_string() && std::find(f.allowed.begin(), f.allowed.end(),
                                          value.get<std::string>()) != f.allowed.end();
  };
  for (const auto& f : fields) {
    SCOPED_TRACE(f.schema + "." + f.property);
    const std::string description =
        schemas.at(f.schema).at("properties").at(f.property).value("description", "");
    for (const auto& v : f.allowed) {
      EXPECT_NE(description.find(v), std::string::npos) << v << " not in: " << description;
    }
    const json object = Find(Rendered(), f.kind);
    const json::json_pointer ptr(f.pointer);
    ASSERT_TRUE(object.contains(ptr)) << f.pointer;
    EXPECT_TRUE(check(f, object.at(ptr))) << object.at(ptr);
    EXPECT_FALSE(check(f, "Sometimes")) << "the enum check must reject unknown values";
  }
}

TEST(Manifest, DeploymentCarriesEverySeedVariableWithItsDefault) {
  const json container = Container(Find(Rendered(), "Deployment"));
  const auto env = Env(container, /*literal_only=*/true);
  // The seed's variables and defaults (seed/original-readme.md), a contract.
  const std::map<std::string, std::string> seed = {
      {"KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"}, {"KAFKA_TOPIC", "my_topic"},
      {"NAMESPACE", "default"}, {"DEPLOYMENT_NAME", "my-deployment"},
      {"MESSAGES_PER_POD", "10"}, {"MIN_REPLICAS", "1"}, {"MAX_REPLICAS", "10"},
      {"HEALTH_CHECK_PORT", "8000"}, {"MIN_TTL_SECONDS", "300"},
      {"SCALE_INTERVAL_SECONDS", "60"}, {"MESSAGE_COUNT_THRESHOLD", "1000"}};
  for (const auto& [name, value] : seed) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(env.count(name)) << name << " missing from the Deployment's env";
    EXPECT_EQ(env.at(name), value);
  }
  // Every variable is one the daemon reads (a typo would be silently ignored) or OTEL_*.
  const auto& known = config::KnownVariables();
  for (const auto& [name, value] : Env(container, /*literal_only=*/false)) {
    EXPECT_TRUE(std::find(known.begin(), known.end(), name) != known.end() ||
                name.rfind("OTEL_", 0) == 0)
        << name << " is not a variable kafka-autoscaler reads (config::KnownVariables)";
  }
  // The loader accepts the manifest's environment, and it is exactly the default configuration.
  auto from_manifest = config::Load(config::Env(env.begin(), env.end()));
  ASSERT_TRUE(from_manifest.has_value()) << from_manifest.error().ToString();
  auto defaults = config::Load({});
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(from_manifest->ToJson(), defaults->ToJson());
}

TEST(Manifest, PodIdentityComesFromTheDownwardApi) {
  const auto env = Env(Container(Find(Rendered(), "Deployment")), /*literal_only=*/false);
  ASSERT_TRUE(env.count("POD_NAME"));
  ASSERT_TRUE(env.count("POD_NAMESPACE"));
  EXPECT_EQ(env.at("POD_NAME"), "fieldRef:metadata.name");
  EXPECT_EQ(env.at("POD_NAMESPACE"), "fieldRef:metadata.namespace");
}

TEST(Manifest, ProbesAndPortsUseTheHealthPort) {
  const json deployment = Find(Rendered(), "Deployment");
  const json c = Container(deployment);
  ASSERT_EQ(c.at("ports").size(), 1u);
  EXPECT_EQ(c["ports"][0]["containerPort"], 8000);
  const std::string port_name = c["ports"][0]["name"];
  EXPECT_EQ(c.at("livenessProbe").at("httpGet").at("path"), "/healthz");
  EXPECT_EQ(c.at("readinessProbe").at("httpGet").at("path"), "/readyz");
  for (const char* probe : {"livenessProbe", "readinessProbe"}) {
    const json port = c[probe]["httpGet"]["port"];
    EXPECT_TRUE(port == 8000 || port == port_name) << probe << " port " << port;
  }
  const json service = Find(Rendered(), "Service");
  ASSERT_EQ(service["spec"]["ports"].size(), 1u);
  EXPECT_EQ(service["spec"]["ports"][0]["port"], 8000);
  const json target = service["spec"]["ports"][0]["targetPort"];
  EXPECT_TRUE(target == 8000 || target == port_name) << target;
  EXPECT_EQ(service["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"]);
  EXPECT_EQ(deployment["spec"]["selector"]["matchLabels"],
            deployment["spec"]["template"]["metadata"]["labels"]);
}

TEST(Manifest, PodIsHardened) {
  const json deployment = Find(Rendered(), "Deployment");
  const json pod = deployment["spec"]["template"]["spec"];
  const json c = Container(deployment);
  EXPECT_EQ(pod.at("securityContext").at("runAsNonRoot"), true);
  EXPECT_EQ(pod["securityContext"].at("seccompProfile").at("type"), "RuntimeDefault");
  const json sc = c.at("securityContext");
  EXPECT_EQ(sc.at("allowPrivilegeEscalation"), false);
  EXPECT_EQ(sc.at("readOnlyRootFilesystem"), true);
  EXPECT_EQ(sc.at("capabilities").at("drop"), json::array({"ALL"}));
  EXPECT_FALSE(sc["capabilities"].contains("add"));
  EXPECT_NE(sc.value("privileged", false), true);
  for (const char* kind : {"requests", "limits"}) {
    for (const char* resource : {"cpu", "memory"}) {
      EXPECT_TRUE(c.at("resources").contains(kind) && c["resources"][kind].contains(resource))
          << "resources." << kind << "." << resource;
    }
  }
  EXPECT_EQ(pod.at("serviceAccountName"), Find(Rendered(), "ServiceAccount")["metadata"]["name"]);

  // The pod's uid is the image's numeric USER, so runAsNonRoot holds for the image as built.
  auto text = ReadFile(kSource + "/Dockerfile");
  ASSERT_TRUE(text.has_value());
  auto dockerfile = ParseDockerfile(*text);
  ASSERT_TRUE(dockerfile.has_value()) << dockerfile.error().ToString();
  std::string user;
  for (const auto& ins : dockerfile->stages.back().instructions) {
    if (ins.keyword == "USER") user = ins.args;
  }
  const auto uid = user.substr(0, user.find(':'));
  EXPECT_EQ(std::to_string(pod["securityContext"].value("runAsUser", -1)), uid);
}

// The Role allows exactly what src/kube calls, on the configured names only.
TEST(Manifest, RoleGrantsExactlyTheCallsTheCodeMakes) {
  const json deployment = Find(Rendered(), "Deployment");
  const auto env = Env(Container(deployment), /*literal_only=*/true);
  const std::string target = env.at("DEPLOYMENT_NAME");
  const std::string lease =
      env.count("LEASE_NAME") ? env.at("LEASE_NAME") : "kafka-autoscaler-" + target;

  // (apiGroup, resource, verb) -> resourceNames ("" = any name).
  std::set<std::string> granted;
  const json role = Find(Rendered(), "Role");
  for (const auto& rule : role.at("rules")) {
    const auto names = rule.value("resourceNames", std::vector<std::string>{});
    for (const auto& group : rule.at("apiGroups")) {
      for (const auto& resource : rule.at("resources")) {
        for (const auto& verb : rule.at("verbs")) {
          const std::string base = group.get<std::string>() + " " + resource.get<std::string>() +
                                   " " + verb.get<std::string>();
          if (names.empty()) granted.insert(base + " *");
          for (const auto& n : names) granted.insert(base + " " + n);
        }
      }
    }
  }
  const std::set<std::string> wanted = {
      "apps deployments get " + target,
      "apps deployments/scale get " + target,
      "apps deployments/scale patch " + target,
      " events create *",
      "autoscaling horizontalpodautoscalers list *",
      "coordination.k8s.io leases get " + lease,
      "coordination.k8s.io leases update " + lease,
      "coordination.k8s.io leases create *",
  };
  EXPECT_EQ(granted, wanted);
  // RBAC never matches `create` against resourceNames (the name is not in the URL yet).
  for (const auto& rule : role["rules"]) {
    const auto verbs = rule["verbs"].get<std::vector<std::string>>();
    if (std::find(verbs.begin(), verbs.end(), "create") != verbs.end()) {
      EXPECT_FALSE(rule.contains("resourceNames")) << rule.dump();
    }
  }
  // Namespaces: Role, binding and Deployment together, and the target in the same namespace.
  const json binding = Find(Rendered(), "RoleBinding");
  const std::string ns = deployment["metadata"]["namespace"];
  EXPECT_EQ(role["metadata"]["namespace"], ns);
  EXPECT_EQ(binding["metadata"]["namespace"], ns);
  EXPECT_EQ(env.at("NAMESPACE"), ns);
  EXPECT_EQ(binding["roleRef"]["kind"], "Role");
  EXPECT_EQ(binding["roleRef"]["name"], role["metadata"]["name"]);
  ASSERT_EQ(binding["subjects"].size(), 1u);
  EXPECT_EQ(binding["subjects"][0]["kind"], "ServiceAccount");
  EXPECT_EQ(binding["subjects"][0]["name"], deployment["spec"]["template"]["spec"]["serviceAccountName"]);
  EXPECT_EQ(binding["subjects"][0]["namespace"], ns);
}

}  // namespace
}  // namespace kafka_autoscaler::deploy_test
