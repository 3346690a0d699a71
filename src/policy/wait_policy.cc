// The wait policy (SCALING_POLICY=wait). Work in progress: the seed rule until the model lands.
#include "policy/policy.h"

namespace kafka_autoscaler::policy {

int64_t WaitPolicyRawPods(const PolicyInput& in, const PolicyConfig& c, PolicyState& /*st*/,
                          WaitDetail& detail) {
  detail.why = "seed_rule";
  return RecommendedPods(in.backlog, c.messages_per_pod);
}

}  // namespace kafka_autoscaler::policy
