// The rate policy (SCALING_POLICY=rate): pods = (arrival rate + backlog / target_drain) / per-pod
// rate, measured from the observations. The simulator work (issue 7) tunes it.
#include <algorithm>
#include <cmath>

#include "policy/policy.h"

namespace kafka_autoscaler::policy {

int64_t RatePolicyRawPods(const PolicyInput& in, const PolicyConfig& c, PolicyState& st) {
  (void)st;
  // Without measured rates, fall back to the seed's rule.
  if (!in.produced_per_minute || !in.consumed_per_minute || in.ready_replicas <= 0) {
    return RecommendedPods(in.backlog, c.messages_per_pod);
  }
  const double arrival = *in.produced_per_minute / 60.0;
  const double per_pod = std::max(1e-9, *in.consumed_per_minute / 60.0 / in.ready_replicas);
  const double drain = static_cast<double>(in.backlog) / static_cast<double>(c.target_drain.count());
  return static_cast<int64_t>(std::ceil((arrival + drain) / per_pod));
}

}  // namespace kafka_autoscaler::policy
