// Config: the typed configuration of kafka-autoscaler, and Load(), which builds it from an
// environment (a name → value map that only main.cc fills from the real environment).
//
// Load() validates everything and reports every problem at once: each detail line names the
// variable, the value and what is allowed. Names and defaults of the eleven seed variables are a
// contract (seed/original-readme.md) and must not change. Config is plain data, copyable.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/log.h"
#include "common/result.h"
#include "policy/policy_config.h"

namespace kafka_autoscaler::config {

using Env = std::map<std::string, std::string>;

enum class OffsetResetPolicy { kLatest, kEarliest };
// FALLBACK_MODE: ifHigher (default) applies FALLBACK_REPLICAS only above the current count,
// like KEDA's currentReplicasIfHigher; static sets it even when that scales down.
enum class FallbackMode { kIfHigher, kStatic };

struct Config {
  // --- the seed's variables (names and defaults are a contract) ---
  std::string kafka_bootstrap_servers = "localhost:9092";  // KAFKA_BOOTSTRAP_SERVERS
  std::vector<std::string> kafka_topics = {"my_topic"};    // KAFKA_TOPIC, comma list summed
  std::string namespace_name = "default";                  // NAMESPACE
  std::string deployment_name = "my-deployment";           // DEPLOYMENT_NAME
  int health_check_port = 8000;                            // HEALTH_CHECK_PORT
  // HEALTH_CHECK_HOST: an address literal; empty (default) binds :: dual-stack, else 0.0.0.0.
  std::string health_check_host;
  std::chrono::seconds scale_interval{60};                 // SCALE_INTERVAL_SECONDS
  // MESSAGES_PER_POD, MIN_REPLICAS, MAX_REPLICAS, MIN_TTL_SECONDS, MESSAGE_COUNT_THRESHOLD and
  // the added scaling knobs live in `policy`.
  policy::PolicyConfig policy;

  // --- added; each default keeps the seed's behaviour ---
  std::optional<std::string> kafka_consumer_group;           // KAFKA_CONSUMER_GROUP
  // KAFKA_TOPIC=re:<regex> (topic_pattern.h): the regex without the prefix; kafka_topics is
  // then empty. TopicSetting() gives KAFKA_TOPIC back as written, for logs and status.
  std::optional<std::string> kafka_topic_pattern;
  OffsetResetPolicy offset_reset = OffsetResetPolicy::kLatest;  // KAFKA_OFFSET_RESET_POLICY
  std::optional<std::string> kafka_config_file;              // KAFKA_CONFIG_FILE
  std::optional<int32_t> fallback_replicas;  // FALLBACK_REPLICAS; unset = hold on failures
  int32_t fallback_after_failures = 3;       // FALLBACK_AFTER_FAILURES; consecutive failed ticks
  FallbackMode fallback_mode = FallbackMode::kIfHigher;  // FALLBACK_MODE: ifHigher|static
  bool dry_run = false;                      // DRY_RUN
  bool leader_election = false;              // LEADER_ELECTION
  std::string pod_name;                      // POD_NAME; leader identity (hostname if unset)
  std::string pod_namespace;                 // POD_NAMESPACE; lease namespace (= NAMESPACE)
  std::string lease_name;                    // LEASE_NAME; default kafka-autoscaler-<DEPLOYMENT>
  std::chrono::seconds lease_duration{15};   // LEASE_DURATION_SECONDS (client-go default)
  std::chrono::seconds renew_deadline{10};   // RENEW_DEADLINE_SECONDS
  std::chrono::seconds retry_period{2};      // RETRY_PERIOD_SECONDS
  // SHARDS (1..1024, default 16): MODE=many with LEADER_ELECTION splits the KafkaScalers into
  // this many shard Leases shared by the replicas (docs/many-targets.md, "Active-active").
  int32_t shards = 16;
  // OTHER_WRITER_HOLD_SECONDS: after another writer changed the replicas, hold until they have
  // been left alone this long (default 300 s; 0 = hold only the tick that saw it).
  std::chrono::seconds other_writer_hold{300};
  // STUCK_AFTER_SECONDS (default 300 s, > 0): a partition whose commit has not moved this long
  // while it has lag and other partitions advance is stuck (controller/stuck.h).
  std::chrono::seconds stuck_after{300};
  // LEARNED_STATE_CONFIGMAP (empty = off): with SCALING_POLICY=wait, keep what the policy
  // learned (policy/learned_state.h) in this ConfigMap of NAMESPACE, read at start and written
  // by the leader every LEARNED_STATE_SAVE_SECONDS (default 300, >= 1) and when it stops.
  std::string learned_state_configmap;
  std::chrono::seconds learned_state_save{300};
  LogLevel log_level = LogLevel::kInfo;      // LOG_LEVEL: debug|info|warn|error
  LogFormat log_format = LogFormat::kJson;   // LOG_FORMAT: json|text

  // Deadline of one tick's Kafka observation: 80% of the interval, at most 30 s, and with
  // LEADER_ELECTION at most half the renew deadline, so a whole tick (observe, read, write)
  // fits in one renew deadline and a stopping leader releases its Lease soon after SIGTERM.
  std::chrono::milliseconds TickDeadline() const;
  // The effective configuration as JSON (no secrets are held here; file paths only).
  nlohmann::json ToJson() const;
  // KAFKA_TOPIC as the user wrote it: "a,b" or "re:<regex>".
  std::string TopicSetting() const;
};

// Builds a Config from `env`. On failure the Error has code kInvalidArgument, a summary
// message, and one detail line per problem ("MIN_REPLICAS=5: must be <= MAX_REPLICAS (2)").
[[nodiscard]] Result<Config> Load(const Env& env);

// Settings that load but work against each other, one sentence each (the daemon logs them at
// start as warnings; many mode logs them and posts them as Warning events on the KafkaScaler):
// SCALING_POLICY=wait with SCALE_INTERVAL_SECONDS above TARGET_WAIT_SECONDS sees a rise up to a
// tick late, longer than the wait it is asked to keep. `name` turns a variable's name into the
// name the user wrote (a KafkaScaler's "spec.scaleIntervalSeconds"); default: as it is.
std::vector<std::string> Warnings(
    const Config& config, const std::function<std::string(std::string_view)>& name =
                              [](std::string_view v) { return std::string(v); });

// The names of every variable Load() reads, for --help and documentation.
const std::vector<std::string>& KnownVariables();

std::string_view OffsetResetPolicyName(OffsetResetPolicy policy);

}  // namespace kafka_autoscaler::config
