#include "role_policy.h"

#include <map>
#include <set>

namespace kafka_autoscaler::deploy_test {
namespace {

using nlohmann::json;

// The group in which the test API server serves each resource it knows.
const std::map<std::string, std::string>& ServedGroups() {
  static const std::map<std::string, std::string> kGroups = {
      {"deployments", "apps"},
      {"deployments/scale", "apps"},
      {"replicasets", "apps"},
      {"events", ""},
      {"pods", ""},
      {"leases", "coordination.k8s.io"},
      {"horizontalpodautoscalers", "autoscaling"},
      {"statefulsets", "apps"},
      {"statefulsets/scale", "apps"},
      {"kafkascalers", "kafka-autoscaler.io"},
      {"kafkascalers/status", "kafka-autoscaler.io"},
  };
  return kGroups;
}

const json* FindObject(const std::vector<json>& objects, const std::string& kind,
                       const std::string& name) {
  for (const auto& o : objects) {
    if (o.value("kind", "") != kind) continue;
    if (name.empty() || o["metadata"].value("name", "") == name) return &o;
  }
  return nullptr;
}

}  // namespace

Result<json> PolicyFromManifest(const std::vector<json>& objects, const std::string& token) {
  try {
    const json* deployment = FindObject(objects, "Deployment", "");
    if (deployment == nullptr) return MakeError(ErrorCode::kInvalidArgument, "no Deployment");
    const std::string ns = (*deployment)["metadata"].value("namespace", "default");
    const std::string account =
        (*deployment)["spec"]["template"]["spec"].value("serviceAccountName", "default");

    // Every Role and ClusterRole bound to the account, by a RoleBinding or a ClusterRoleBinding.
    // The test API server's rules carry no namespace, so a Role's rules are granted everywhere
    // there; the many-targets manifest keeps only the Leases in a Role.
    std::vector<const json*> roles;
    for (const auto& o : objects) {
      const std::string kind = o.value("kind", "");
      if (kind != "RoleBinding" && kind != "ClusterRoleBinding") continue;
      for (const auto& s : o.value("subjects", json::array())) {
        if (s.value("kind", "") != "ServiceAccount" || s.value("name", "") != account ||
            s.value("namespace", ns) != ns) {
          continue;
        }
        const std::string role_kind = o["roleRef"].value("kind", "");
        if (kind == "ClusterRoleBinding" && role_kind != "ClusterRole") continue;
        const json* role = FindObject(objects, role_kind, o["roleRef"].value("name", ""));
        if (role != nullptr) roles.push_back(role);
      }
    }
    if (roles.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "no Role bound to ServiceAccount " + ns + "/" + account);
    }

    json rules = json::array();
    for (const json* role : roles) {
      for (const auto& rule : role->at("rules")) {
        const auto groups = rule.at("apiGroups").get<std::vector<std::string>>();
        const auto resources = rule.at("resources").get<std::vector<std::string>>();
        const auto verbs = rule.at("verbs").get<std::vector<std::string>>();
        for (const auto& resource : resources) {
          auto served = ServedGroups().find(resource);
          if (served == ServedGroups().end()) {
            return MakeError(
                ErrorCode::kInvalidArgument,
                "Role rule on '" + resource + "', which the test API server does not serve");
          }
          if (groups.size() != 1 || groups[0] != served->second) {
            return MakeError(ErrorCode::kInvalidArgument,
                             "Role rule on '" + resource + "' must name apiGroups [\"" +
                                 served->second + "\"]: " + rule.dump());
          }
        }
        for (const auto& v : verbs) {
          if (v == "*")
            return MakeError(ErrorCode::kInvalidArgument, "wildcard verb: " + rule.dump());
        }
        json out = {{"verbs", verbs}, {"resources", resources}};
        if (rule.contains("resourceNames")) out["resourceNames"] = rule["resourceNames"];
        rules.push_back(out);
      }
    }
    return json{{"tokens", json::array({{{"token", token},
                                         {"user", "system:serviceaccount:" + ns + ":" + account},
                                         {"rules", rules}}})}};
  } catch (const json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("manifest: ") + e.what());
  }
}

json WithoutRule(const json& policy, size_t index) {
  json out = policy;
  auto& rules = out["tokens"][0]["rules"];
  rules.erase(rules.begin() + static_cast<std::ptrdiff_t>(index));
  return out;
}

std::string RuleVerb::Describe(const json& policy) const {
  return "'" + verb + "' of rule " + policy["tokens"][0]["rules"][rule].dump();
}

std::vector<RuleVerb> EveryVerb(const json& policy) {
  std::vector<RuleVerb> out;
  const auto& rules = policy["tokens"][0]["rules"];
  for (size_t i = 0; i < rules.size(); ++i) {
    for (const auto& v : rules[i]["verbs"]) out.push_back({i, v.get<std::string>()});
  }
  return out;
}

json WithoutVerb(const json& policy, const RuleVerb& which) {
  json out = policy;
  auto& verbs = out["tokens"][0]["rules"][which.rule]["verbs"];
  json kept = json::array();
  for (const auto& v : verbs) {
    if (v != which.verb) kept.push_back(v);
  }
  if (kept.empty()) return WithoutRule(policy, which.rule);
  verbs = kept;
  return out;
}

}  // namespace kafka_autoscaler::deploy_test
