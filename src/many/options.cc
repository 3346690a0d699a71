#include "many/options.h"

namespace kafka_autoscaler::many {

controller::ReconcilerOptions ReconcilerOptionsFrom(const config::Config& c) {
  controller::ReconcilerOptions o;
  o.policy = c.policy;
  o.fallback_replicas = c.fallback_replicas;
  o.fallback_after_failures = c.fallback_after_failures;
  o.fallback_if_higher = c.fallback_mode == config::FallbackMode::kIfHigher;
  o.dry_run = c.dry_run;
  o.topics = c.TopicSetting();
  o.group = c.kafka_consumer_group.value_or("");
  o.namespace_name = c.namespace_name;
  o.deployment_name = c.deployment_name;
  o.other_writer_hold = c.other_writer_hold;
  o.stuck_after = c.stuck_after;
  return o;
}

}  // namespace kafka_autoscaler::many
