// RolePolicy: turns the manifest's RBAC Role into the test API server's allow list, so the
// end-to-end tests can run the daemon with exactly the rights deploy/manifest.yaml grants.
//
// The test API server's format (tests/apiserver/test_apiserver.h, ParsePolicy / --policy):
//   {"tokens":[{"token":T,"user":U,"rules":[{"verbs":[..],"resources":[..],"resourceNames":[..]}]}]}
// Its rules carry no apiGroups (each resource it serves lives in one group), so the conversion
// checks that every Role rule names the group the server serves that resource in: a Role with a
// wrong group would be allowed by the test server yet refused by a real cluster.
// Plain functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace kafka_autoscaler::deploy_test {

// From rendered manifest objects (kubectl kustomize deploy/ or deploy/many/): finds the
// Deployment, the ServiceAccount it runs as, every Role and ClusterRole bound to that account
// (RoleBinding, ClusterRoleBinding), and returns the policy document for `token` with user
// "system:serviceaccount:NS:SA" holding all their rules.
// Errors: kInvalidArgument when an object is missing, a rule names an apiGroup/resource pair the
// test API server does not serve, or uses a wildcard.
[[nodiscard]] Result<nlohmann::json> PolicyFromManifest(const std::vector<nlohmann::json>& objects,
                                                        const std::string& token);

// `policy` with the rule at `index` of its first token removed (for the proof that every rule
// of the Role is needed). `index` must be below the number of rules.
nlohmann::json WithoutRule(const nlohmann::json& policy, size_t index);

// One verb of one rule of the first token, and `policy` without exactly that verb (the rule
// itself goes when it had no other verb): the proof that every verb is needed.
struct RuleVerb {
  size_t rule = 0;
  std::string verb;
  std::string Describe(const nlohmann::json& policy) const;
};
std::vector<RuleVerb> EveryVerb(const nlohmann::json& policy);
nlohmann::json WithoutVerb(const nlohmann::json& policy, const RuleVerb& which);

}  // namespace kafka_autoscaler::deploy_test
