#include "config/config.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "config/topic_pattern.h"

namespace kafka_autoscaler::config {
namespace {

// True when some detail line of the error starts with "NAME=".
bool Names(const Error& e, const std::string& var) {
  for (const auto& d : e.details) {
    if (d.rfind(var + "=", 0) == 0) return true;
  }
  return false;
}

TEST(ConfigTest, SeedDefaultsAreKeptExactly) {
  auto c = Load({});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->kafka_bootstrap_servers, "localhost:9092");
  EXPECT_EQ(c->kafka_topics, std::vector<std::string>{"my_topic"});
  EXPECT_EQ(c->namespace_name, "default");
  EXPECT_EQ(c->deployment_name, "my-deployment");
  EXPECT_EQ(c->policy.messages_per_pod, 10);
  EXPECT_EQ(c->policy.min_replicas, 1);
  EXPECT_EQ(c->policy.max_replicas, 10);
  EXPECT_EQ(c->health_check_port, 8000);
  EXPECT_EQ(c->policy.min_ttl, std::chrono::seconds(300));
  EXPECT_EQ(c->scale_interval, std::chrono::seconds(60));
  EXPECT_EQ(c->policy.message_count_threshold, 1000);
  // Added variables default to the seed's behaviour.
  EXPECT_FALSE(c->kafka_consumer_group);
  EXPECT_EQ(c->offset_reset, OffsetResetPolicy::kLatest);
  EXPECT_EQ(c->policy.idle_replicas, 0);
  EXPECT_EQ(c->policy.scale_down_stabilization, std::chrono::seconds(0));
  EXPECT_TRUE(c->policy.limit_to_partitions);
  EXPECT_FALSE(c->fallback_replicas);
  EXPECT_FALSE(c->dry_run);
  EXPECT_FALSE(c->leader_election);
  EXPECT_EQ(c->policy.kind, policy::PolicyKind::kMessages);
  EXPECT_EQ(c->policy.target_drain, std::chrono::seconds(30));
  EXPECT_EQ(c->policy.rate_scale_down_window, std::chrono::seconds(60));
  EXPECT_EQ(c->policy.rate_rebalance, std::chrono::seconds(5));
  EXPECT_FALSE(c->policy.rate_rebalance_given);
  EXPECT_EQ(c->policy.rate_pod_startup, std::chrono::seconds(30));
  EXPECT_EQ(c->policy.activation_backlog, 0);
  EXPECT_FALSE(c->policy.limit_to_partitions_with_lag);
  EXPECT_FALSE(c->policy.even_partition_distribution);
  EXPECT_EQ(c->policy.target_lag, std::chrono::seconds(0));  // time-lag target off
  EXPECT_EQ(c->policy.cost_ceiling, 0.9);  // wait's margin under the lag rule's replay
  EXPECT_EQ(c->log_level, LogLevel::kInfo);
  EXPECT_EQ(c->log_format, LogFormat::kJson);
  EXPECT_EQ(c->pod_namespace, "default");
  EXPECT_EQ(c->lease_name, "kafka-autoscaler-my-deployment");
}

struct GoodCase {
  std::string name;
  std::string var;
  std::string value;
  std::function<bool(const Config&)> holds;
};

TEST(ConfigTest, EveryVariableParsesAGoodValue) {
  const std::vector<GoodCase> cases = {
      {.name = "bootstrap", .var = "KAFKA_BOOTSTRAP_SERVERS", .value = "a:1,b:2",
       .holds = [](const Config& c) { return c.kafka_bootstrap_servers == "a:1,b:2"; }},
      {.name = "topic list", .var = "KAFKA_TOPIC", .value = "orders, payments,orders",
       .holds = [](const Config& c) {
         return c.kafka_topics == std::vector<std::string>{"orders", "payments"};
       }},
      {.name = "namespace", .var = "NAMESPACE", .value = "team-a",
       .holds = [](const Config& c) { return c.namespace_name == "team-a"; }},
      {.name = "deployment", .var = "DEPLOYMENT_NAME", .value = "workers.v2",
       .holds = [](const Config& c) { return c.deployment_name == "workers.v2"; }},
      {.name = "messages per pod", .var = "MESSAGES_PER_POD", .value = "250",
       .holds = [](const Config& c) { return c.policy.messages_per_pod == 250; }},
      {.name = "min replicas", .var = "MIN_REPLICAS", .value = "0",
       .holds = [](const Config& c) { return c.policy.min_replicas == 0; }},
      {.name = "max replicas", .var = "MAX_REPLICAS", .value = " 40 ",
       .holds = [](const Config& c) { return c.policy.max_replicas == 40; }},
      {.name = "port", .var = "HEALTH_CHECK_PORT", .value = "65535",
       .holds = [](const Config& c) { return c.health_check_port == 65535; }},
      {.name = "ttl", .var = "MIN_TTL_SECONDS", .value = "0",
       .holds = [](const Config& c) { return c.policy.min_ttl.count() == 0; }},
      {.name = "interval", .var = "SCALE_INTERVAL_SECONDS", .value = "5",
       .holds = [](const Config& c) { return c.scale_interval.count() == 5; }},
      {.name = "threshold", .var = "MESSAGE_COUNT_THRESHOLD", .value = "0",
       .holds = [](const Config& c) { return c.policy.message_count_threshold == 0; }},
      {.name = "group", .var = "KAFKA_CONSUMER_GROUP", .value = "workers",
       .holds = [](const Config& c) { return c.kafka_consumer_group == "workers"; }},
      {.name = "group empty is unset", .var = "KAFKA_CONSUMER_GROUP", .value = "",
       .holds = [](const Config& c) { return !c.kafka_consumer_group; }},
      {.name = "reset", .var = "KAFKA_OFFSET_RESET_POLICY", .value = "EARLIEST",
       .holds = [](const Config& c) { return c.offset_reset == OffsetResetPolicy::kEarliest; }},
      {.name = "config file", .var = "KAFKA_CONFIG_FILE", .value = "/etc/kafka.properties",
       .holds = [](const Config& c) { return c.kafka_config_file == "/etc/kafka.properties"; }},
      {.name = "idle", .var = "IDLE_REPLICAS", .value = "1",
       .holds = [](const Config& c) { return c.policy.idle_replicas == 1; }},
      {.name = "stabilization", .var = "SCALE_DOWN_STABILIZATION_SECONDS", .value = "300",
       .holds = [](const Config& c) { return c.policy.scale_down_stabilization.count() == 300; }},
      {.name = "up step", .var = "SCALE_UP_MAX_STEP", .value = "4",
       .holds = [](const Config& c) { return c.policy.scale_up_max_step == 4; }},
      {.name = "down step", .var = "SCALE_DOWN_MAX_STEP", .value = "2",
       .holds = [](const Config& c) { return c.policy.scale_down_max_step == 2; }},
      {.name = "partition cap off", .var = "LIMIT_TO_PARTITIONS", .value = "false",
       .holds = [](const Config& c) { return !c.policy.limit_to_partitions; }},
      {.name = "fallback", .var = "FALLBACK_REPLICAS", .value = "3",
       .holds = [](const Config& c) { return c.fallback_replicas == 3; }},
      {.name = "fallback after", .var = "FALLBACK_AFTER_FAILURES", .value = "5",
       .holds = [](const Config& c) { return c.fallback_after_failures == 5; }},
      {.name = "fallback mode", .var = "FALLBACK_MODE", .value = "static",
       .holds = [](const Config& c) { return c.fallback_mode == FallbackMode::kStatic; }},
      {.name = "fallback mode camel case", .var = "FALLBACK_MODE", .value = "ifHigher",
       .holds = [](const Config& c) { return c.fallback_mode == FallbackMode::kIfHigher; }},
      {.name = "dry run", .var = "DRY_RUN", .value = "yes",
       .holds = [](const Config& c) { return c.dry_run; }},
      {.name = "policy", .var = "SCALING_POLICY", .value = "rate",
       .holds = [](const Config& c) { return c.policy.kind == policy::PolicyKind::kRate; }},
      {.name = "drain", .var = "TARGET_DRAIN_SECONDS", .value = "45",
       .holds = [](const Config& c) { return c.policy.target_drain.count() == 45; }},
      {.name = "rate window", .var = "RATE_SCALE_DOWN_WINDOW_SECONDS", .value = "240",
       .holds = [](const Config& c) { return c.policy.rate_scale_down_window.count() == 240; }},
      {.name = "rate rebalance", .var = "RATE_REBALANCE_SECONDS", .value = "12",
       .holds = [](const Config& c) {
         return c.policy.rate_rebalance.count() == 12 && c.policy.rate_rebalance_given;
       }},
      {.name = "rate startup", .var = "RATE_POD_STARTUP_SECONDS", .value = "90",
       .holds = [](const Config& c) { return c.policy.rate_pod_startup.count() == 90; }},
      {.name = "wait policy", .var = "SCALING_POLICY", .value = "wait",
       .holds = [](const Config& c) { return c.policy.kind == policy::PolicyKind::kWait; }},
      {.name = "target wait", .var = "TARGET_WAIT_SECONDS", .value = "45",
       .holds = [](const Config& c) { return c.policy.target_wait.count() == 45; }},
      {.name = "predict", .var = "PREDICT", .value = "true",
       .holds = [](const Config& c) { return c.policy.predict; }},
      {.name = "cost ceiling", .var = "COST_CEILING", .value = "1.25",
       .holds = [](const Config& c) { return c.policy.cost_ceiling == 1.25; }},
      {.name = "cost ceiling off", .var = "COST_CEILING", .value = "0",
       .holds = [](const Config& c) { return c.policy.cost_ceiling == 0; }},
      {.name = "activation", .var = "ACTIVATION_BACKLOG", .value = "50",
       .holds = [](const Config& c) { return c.policy.activation_backlog == 50; }},
      {.name = "lag cap", .var = "LIMIT_TO_PARTITIONS_WITH_LAG", .value = "true",
       .holds = [](const Config& c) { return c.policy.limit_to_partitions_with_lag; }},
      {.name = "even", .var = "EVEN_PARTITION_DISTRIBUTION", .value = "on",
       .holds = [](const Config& c) { return c.policy.even_partition_distribution; }},
      {.name = "stuck after", .var = "STUCK_AFTER_SECONDS", .value = "120",
       .holds = [](const Config& c) { return c.stuck_after.count() == 120; }},
      {.name = "exclude stuck", .var = "EXCLUDE_STUCK_LAG", .value = "true",
       .holds = [](const Config& c) { return c.policy.exclude_stuck_lag; }},
      {.name = "target lag", .var = "TARGET_LAG_SECONDS", .value = "120",
       .holds = [](const Config& c) { return c.policy.target_lag.count() == 120; }},
      {.name = "scale on uncommitted", .var = "SCALE_ON_UNCOMMITTED", .value = "true",
       .holds = [](const Config& c) { return c.policy.scale_on_uncommitted; }},
      {.name = "leader election", .var = "LEADER_ELECTION", .value = "true",
       .holds = [](const Config& c) { return c.leader_election; }},
      {.name = "pod name", .var = "POD_NAME", .value = "scaler-0",
       .holds = [](const Config& c) { return c.pod_name == "scaler-0"; }},
      {.name = "pod namespace", .var = "POD_NAMESPACE", .value = "ops",
       .holds = [](const Config& c) { return c.pod_namespace == "ops"; }},
      {.name = "lease name", .var = "LEASE_NAME", .value = "my-lease",
       .holds = [](const Config& c) { return c.lease_name == "my-lease"; }},
      {.name = "lease duration", .var = "LEASE_DURATION_SECONDS", .value = "30",
       .holds = [](const Config& c) { return c.lease_duration.count() == 30; }},
      {.name = "log level", .var = "LOG_LEVEL", .value = "debug",
       .holds = [](const Config& c) { return c.log_level == LogLevel::kDebug; }},
      {.name = "log format", .var = "LOG_FORMAT", .value = "text",
       .holds = [](const Config& c) { return c.log_format == LogFormat::kText; }},
      {.name = "health host ipv4", .var = "HEALTH_CHECK_HOST", .value = "127.0.0.1",
       .holds = [](const Config& c) { return c.health_check_host == "127.0.0.1"; }},
      {.name = "health host ipv6", .var = "HEALTH_CHECK_HOST", .value = "::1",
       .holds = [](const Config& c) { return c.health_check_host == "::1"; }},
      {.name = "health host empty: dual-stack", .var = "HEALTH_CHECK_HOST", .value = "",
       .holds = [](const Config& c) { return c.health_check_host.empty(); }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto cfg = Load({{c.var, c.value}});
    ASSERT_TRUE(cfg) << cfg.error().ToString();
    EXPECT_TRUE(c.holds(*cfg));
  }
}

struct BadCase {
  std::string name;
  Env env;
  std::string var;  // the variable the problem must name
};

TEST(ConfigTest, EveryVariableRejectsBadAndEmptyValues) {
  const std::vector<BadCase> cases = {
      {.name = "empty bootstrap", .env = {{"KAFKA_BOOTSTRAP_SERVERS", ""}}, .var = "KAFKA_BOOTSTRAP_SERVERS"},
      {.name = "empty topic", .env = {{"KAFKA_TOPIC", ""}}, .var = "KAFKA_TOPIC"},
      {.name = "bad topic", .env = {{"KAFKA_TOPIC", "a b"}}, .var = "KAFKA_TOPIC"},
      {.name = "empty list item", .env = {{"KAFKA_TOPIC", "a,,b"}}, .var = "KAFKA_TOPIC"},
      {.name = "namespace upper", .env = {{"NAMESPACE", "Team"}}, .var = "NAMESPACE"},
      {.name = "namespace empty", .env = {{"NAMESPACE", ""}}, .var = "NAMESPACE"},
      {.name = "deployment slash", .env = {{"DEPLOYMENT_NAME", "a/b"}}, .var = "DEPLOYMENT_NAME"},
      {.name = "messages per pod zero", .env = {{"MESSAGES_PER_POD", "0"}}, .var = "MESSAGES_PER_POD"},
      {.name = "messages per pod text", .env = {{"MESSAGES_PER_POD", "ten"}}, .var = "MESSAGES_PER_POD"},
      {.name = "messages per pod empty", .env = {{"MESSAGES_PER_POD", ""}}, .var = "MESSAGES_PER_POD"},
      {.name = "min negative", .env = {{"MIN_REPLICAS", "-1"}}, .var = "MIN_REPLICAS"},
      {.name = "max zero", .env = {{"MAX_REPLICAS", "0"}}, .var = "MAX_REPLICAS"},
      {.name = "max overflow", .env = {{"MAX_REPLICAS", "99999999999999999999"}}, .var = "MAX_REPLICAS"},
      {.name = "port zero", .env = {{"HEALTH_CHECK_PORT", "0"}}, .var = "HEALTH_CHECK_PORT"},
      {.name = "port high", .env = {{"HEALTH_CHECK_PORT", "65536"}}, .var = "HEALTH_CHECK_PORT"},
      {.name = "health host name", .env = {{"HEALTH_CHECK_HOST", "localhost"}}, .var = "HEALTH_CHECK_HOST"},
      {.name = "health host with port", .env = {{"HEALTH_CHECK_HOST", "0.0.0.0:80"}}, .var = "HEALTH_CHECK_HOST"},
      {.name = "health host brackets", .env = {{"HEALTH_CHECK_HOST", "[::]"}}, .var = "HEALTH_CHECK_HOST"},
      {.name = "health host invalid utf-8", .env = {{"HEALTH_CHECK_HOST", "\xff"}}, .var = "HEALTH_CHECK_HOST"},
      {.name = "ttl negative", .env = {{"MIN_TTL_SECONDS", "-5"}}, .var = "MIN_TTL_SECONDS"},
      {.name = "interval zero", .env = {{"SCALE_INTERVAL_SECONDS", "0"}}, .var = "SCALE_INTERVAL_SECONDS"},
      {.name = "interval text", .env = {{"SCALE_INTERVAL_SECONDS", "abc"}}, .var = "SCALE_INTERVAL_SECONDS"},
      {.name = "interval float", .env = {{"SCALE_INTERVAL_SECONDS", "1.5"}}, .var = "SCALE_INTERVAL_SECONDS"},
      {.name = "threshold negative", .env = {{"MESSAGE_COUNT_THRESHOLD", "-1"}}, .var = "MESSAGE_COUNT_THRESHOLD"},
      {.name = "group control char", .env = {{"KAFKA_CONSUMER_GROUP", "a\x01"}}, .var = "KAFKA_CONSUMER_GROUP"},
      {.name = "reset", .env = {{"KAFKA_OFFSET_RESET_POLICY", "newest"}}, .var = "KAFKA_OFFSET_RESET_POLICY"},
      {.name = "idle negative", .env = {{"IDLE_REPLICAS", "-1"}}, .var = "IDLE_REPLICAS"},
      {.name = "idle above min", .env = {{"IDLE_REPLICAS", "2"}}, .var = "IDLE_REPLICAS"},
      {.name = "stabilization text", .env = {{"SCALE_DOWN_STABILIZATION_SECONDS", "5m"}}, .var = "SCALE_DOWN_STABILIZATION_SECONDS"},
      {.name = "up step negative", .env = {{"SCALE_UP_MAX_STEP", "-1"}}, .var = "SCALE_UP_MAX_STEP"},
      {.name = "down step text", .env = {{"SCALE_DOWN_MAX_STEP", "x"}}, .var = "SCALE_DOWN_MAX_STEP"},
      {.name = "limit bool", .env = {{"LIMIT_TO_PARTITIONS", "maybe"}}, .var = "LIMIT_TO_PARTITIONS"},
      {.name = "fallback above max", .env = {{"FALLBACK_REPLICAS", "11"}}, .var = "FALLBACK_REPLICAS"},
      {.name = "fallback after zero", .env = {{"FALLBACK_AFTER_FAILURES", "0"}}, .var = "FALLBACK_AFTER_FAILURES"},
      {.name = "fallback mode", .env = {{"FALLBACK_MODE", "lower"}}, .var = "FALLBACK_MODE"},
      {.name = "dry run", .env = {{"DRY_RUN", "2"}}, .var = "DRY_RUN"},
      {.name = "policy", .env = {{"SCALING_POLICY", "magic"}}, .var = "SCALING_POLICY"},
      {.name = "drain zero", .env = {{"TARGET_DRAIN_SECONDS", "0"}}, .var = "TARGET_DRAIN_SECONDS"},
      {.name = "rate window", .env = {{"RATE_SCALE_DOWN_WINDOW_SECONDS", "-1"}}, .var = "RATE_SCALE_DOWN_WINDOW_SECONDS"},
      {.name = "rate rebalance", .env = {{"RATE_REBALANCE_SECONDS", "soon"}}, .var = "RATE_REBALANCE_SECONDS"},
      {.name = "rate startup", .env = {{"RATE_POD_STARTUP_SECONDS", "9999999"}}, .var = "RATE_POD_STARTUP_SECONDS"},
      {.name = "target wait zero", .env = {{"TARGET_WAIT_SECONDS", "0"}}, .var = "TARGET_WAIT_SECONDS"},
      {.name = "predict", .env = {{"PREDICT", "maybe"}}, .var = "PREDICT"},
      {.name = "cost ceiling negative", .env = {{"COST_CEILING", "-0.5"}}, .var = "COST_CEILING"},
      {.name = "cost ceiling text", .env = {{"COST_CEILING", "twice"}}, .var = "COST_CEILING"},
      {.name = "cost ceiling above 10", .env = {{"COST_CEILING", "10.5"}}, .var = "COST_CEILING"},
      {.name = "cost ceiling nan", .env = {{"COST_CEILING", "nan"}}, .var = "COST_CEILING"},
      {.name = "cost ceiling percent", .env = {{"COST_CEILING", "105%"}}, .var = "COST_CEILING"},
      {.name = "activation negative", .env = {{"ACTIVATION_BACKLOG", "-1"}}, .var = "ACTIVATION_BACKLOG"},
      {.name = "activation text", .env = {{"ACTIVATION_BACKLOG", "10k"}}, .var = "ACTIVATION_BACKLOG"},
      {.name = "lag cap bool", .env = {{"LIMIT_TO_PARTITIONS_WITH_LAG", "maybe"}}, .var = "LIMIT_TO_PARTITIONS_WITH_LAG"},
      {.name = "lag cap with rate", .env = {{"LIMIT_TO_PARTITIONS_WITH_LAG", "true"}, {"SCALING_POLICY", "rate"}}, .var = "LIMIT_TO_PARTITIONS_WITH_LAG"},
      {.name = "lag cap with wait", .env = {{"LIMIT_TO_PARTITIONS_WITH_LAG", "true"}, {"SCALING_POLICY", "wait"}}, .var = "LIMIT_TO_PARTITIONS_WITH_LAG"},
      {.name = "even bool", .env = {{"EVEN_PARTITION_DISTRIBUTION", "2"}}, .var = "EVEN_PARTITION_DISTRIBUTION"},
      {.name = "stuck after zero", .env = {{"STUCK_AFTER_SECONDS", "0"}}, .var = "STUCK_AFTER_SECONDS"},
      {.name = "stuck after negative", .env = {{"STUCK_AFTER_SECONDS", "-5"}}, .var = "STUCK_AFTER_SECONDS"},
      {.name = "stuck after text", .env = {{"STUCK_AFTER_SECONDS", "5m"}}, .var = "STUCK_AFTER_SECONDS"},
      {.name = "stuck after fraction", .env = {{"STUCK_AFTER_SECONDS", "1.5"}}, .var = "STUCK_AFTER_SECONDS"},
      {.name = "exclude stuck bool", .env = {{"EXCLUDE_STUCK_LAG", "yes please"}}, .var = "EXCLUDE_STUCK_LAG"},
      {.name = "target lag negative", .env = {{"TARGET_LAG_SECONDS", "-30"}}, .var = "TARGET_LAG_SECONDS"},
      {.name = "target lag unit", .env = {{"TARGET_LAG_SECONDS", "30s"}}, .var = "TARGET_LAG_SECONDS"},
      {.name = "target lag above a week", .env = {{"TARGET_LAG_SECONDS", "604801"}}, .var = "TARGET_LAG_SECONDS"},
      {.name = "uncommitted bool", .env = {{"SCALE_ON_UNCOMMITTED", "always"}}, .var = "SCALE_ON_UNCOMMITTED"},
      {.name = "leader election", .env = {{"LEADER_ELECTION", ""}}, .var = "LEADER_ELECTION"},
      {.name = "renew >= lease", .env = {{"LEADER_ELECTION", "true"}, {"RENEW_DEADLINE_SECONDS", "15"}}, .var = "RENEW_DEADLINE_SECONDS"},
      {.name = "retry too long", .env = {{"LEADER_ELECTION", "true"}, {"RETRY_PERIOD_SECONDS", "9"}}, .var = "RETRY_PERIOD_SECONDS"},
      {.name = "shards zero", .env = {{"SHARDS", "0"}}, .var = "SHARDS"},
      {.name = "shards above 1024", .env = {{"SHARDS", "1025"}}, .var = "SHARDS"},
      {.name = "shards text", .env = {{"SHARDS", "many"}}, .var = "SHARDS"},
      {.name = "log level", .env = {{"LOG_LEVEL", "verbose"}}, .var = "LOG_LEVEL"},
      {.name = "log format", .env = {{"LOG_FORMAT", "xml"}}, .var = "LOG_FORMAT"},
      {.name = "huge string", .env = {{"KAFKA_TOPIC", std::string(100000, 'a')}}, .var = "KAFKA_TOPIC"},
      // Invalid UTF-8 would make nlohmann::json::dump() throw (logs, Lease, --print-config).
      {.name = "group invalid utf-8", .env = {{"KAFKA_CONSUMER_GROUP", "g\xff"}}, .var = "KAFKA_CONSUMER_GROUP"},
      {.name = "pod name overlong utf-8", .env = {{"POD_NAME", "p\xc0\x80"}}, .var = "POD_NAME"},
      {.name = "bootstrap truncated utf-8", .env = {{"KAFKA_BOOTSTRAP_SERVERS", "h\xe2\x82"}}, .var = "KAFKA_BOOTSTRAP_SERVERS"},
      {.name = "lease name surrogate", .env = {{"LEASE_NAME", "l\xed\xa0\x80"}}, .var = "LEASE_NAME"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto cfg = Load(c.env);
    ASSERT_FALSE(cfg);
    EXPECT_EQ(cfg.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Names(cfg.error(), c.var)) << cfg.error().ToString();
  }
}

// SCALING_POLICY=wait ticking less often than the wait it keeps: loads, with one warning.
TEST(ConfigTest, WaitTickingSlowerThanItsTargetIsWarnedAbout) {
  auto slow = Load({{"SCALING_POLICY", "wait"}});  // the seed's 60 s interval, a 20 s target
  ASSERT_TRUE(slow) << slow.error().ToString();
  const auto warnings = Warnings(*slow);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("SCALE_INTERVAL_SECONDS=60 is above TARGET_WAIT_SECONDS=20"),
            std::string::npos)
      << warnings[0];
  for (const Env& fine : {Env{{"SCALING_POLICY", "wait"}, {"SCALE_INTERVAL_SECONDS", "15"}},
                          Env{{"SCALING_POLICY", "wait"}, {"TARGET_WAIT_SECONDS", "60"}},
                          Env{{"SCALING_POLICY", "rate"}}, Env{}}) {
    auto c = Load(fine);
    ASSERT_TRUE(c) << c.error().ToString();
    EXPECT_TRUE(Warnings(*c).empty()) << Warnings(*c)[0];
  }
}

// LEARNED_STATE_CONFIGMAP: off by default; a ConfigMap name; saved every 300 s unless told.
TEST(ConfigTest, LearnedStateConfigMapIsOffByDefaultNamedAndShown) {
  auto off = Load({});
  ASSERT_TRUE(off) << off.error().ToString();
  EXPECT_EQ(off->learned_state_configmap, "");
  EXPECT_EQ(off->learned_state_save, std::chrono::seconds(300));
  auto on = Load({{"SCALING_POLICY", "wait"},
                  {"SCALE_INTERVAL_SECONDS", "15"},
                  {"LEARNED_STATE_CONFIGMAP", "orders.learned"},
                  {"LEARNED_STATE_SAVE_SECONDS", "60"}});
  ASSERT_TRUE(on) << on.error().ToString();
  EXPECT_EQ(on->ToJson()["LEARNED_STATE_CONFIGMAP"], "orders.learned");
  EXPECT_EQ(on->ToJson()["LEARNED_STATE_SAVE_SECONDS"], 60);
  EXPECT_TRUE(Warnings(*on).empty());
  for (const auto& [var, value] :
       std::vector<std::pair<std::string, std::string>>{{"LEARNED_STATE_CONFIGMAP", "Orders"},
                                                        {"LEARNED_STATE_CONFIGMAP", "a/b"},
                                                        {"LEARNED_STATE_SAVE_SECONDS", "0"},
                                                        {"LEARNED_STATE_SAVE_SECONDS", "soon"}}) {
    auto bad = Load({{var, value}});
    ASSERT_FALSE(bad) << var << "=" << value;
    EXPECT_TRUE(Names(bad.error(), var)) << bad.error().ToString();
  }
  // Kept only by the wait policy: set with another, it loads and says so.
  auto rate = Load({{"SCALING_POLICY", "rate"}, {"LEARNED_STATE_CONFIGMAP", "x"}});
  ASSERT_TRUE(rate) << rate.error().ToString();
  ASSERT_EQ(Warnings(*rate).size(), 1u);
  EXPECT_NE(Warnings(*rate)[0].find("LEARNED_STATE_CONFIGMAP=x keeps what SCALING_POLICY=wait"),
            std::string::npos)
      << Warnings(*rate)[0];
}

TEST(ConfigTest, ShardsDefaultsToSixteenAndIsShown) {
  auto c = Load({});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->shards, 16);
  auto d = Load({{"SHARDS", "1024"}});
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_EQ(d->ToJson()["SHARDS"], 1024);
}

TEST(ConfigTest, ValidUnicodeIsAcceptedInFreeText) {
  auto cfg = Load({{"KAFKA_CONSUMER_GROUP", "gröup-€-𝄞"}, {"POD_NAME", "pöd"}});
  ASSERT_TRUE(cfg) << cfg.error().ToString();
  EXPECT_EQ(*cfg->kafka_consumer_group, "gröup-€-𝄞");
  EXPECT_NO_THROW((void)cfg->ToJson().dump());
}

TEST(ConfigTest, ListsEveryProblemAtOnce) {
  auto cfg = Load({{"MIN_REPLICAS", "5"},
                   {"MAX_REPLICAS", "2"},
                   {"MESSAGES_PER_POD", "0"},
                   {"SCALE_INTERVAL_SECONDS", "abc"}});
  ASSERT_FALSE(cfg);
  const auto& e = cfg.error();
  EXPECT_EQ(e.details.size(), 4u) << e.ToString();
  EXPECT_TRUE(Names(e, "MIN_REPLICAS")) << e.ToString();
  EXPECT_TRUE(Names(e, "MAX_REPLICAS"));
  EXPECT_TRUE(Names(e, "MESSAGES_PER_POD"));
  EXPECT_TRUE(Names(e, "SCALE_INTERVAL_SECONDS"));
  EXPECT_NE(e.ToString().find("MAX_REPLICAS (2)"), std::string::npos);
  EXPECT_NE(e.message.find("4 problems"), std::string::npos);
}

TEST(ConfigTest, ProblemLineNamesValueAndWhatIsAllowed) {
  auto cfg = Load({{"HEALTH_CHECK_PORT", "70000"}});
  ASSERT_FALSE(cfg);
  ASSERT_EQ(cfg.error().details.size(), 1u);
  EXPECT_EQ(cfg.error().details[0],
            "HEALTH_CHECK_PORT='70000': must be an integer from 1 to 65535");
}

TEST(ConfigTest, TickDeadlineIsEightyPercentCappedAtThirtySeconds) {
  auto c = Load({{"SCALE_INTERVAL_SECONDS", "5"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->TickDeadline(), std::chrono::milliseconds(4000));
  c = Load({});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->TickDeadline(), std::chrono::milliseconds(30000));
}

TEST(ConfigTest, LagRuleProblemsSayWhatIsAllowed) {
  auto c = Load({{"ACTIVATION_BACKLOG", "-5"}});
  ASSERT_FALSE(c);
  ASSERT_EQ(c.error().details.size(), 1u);
  EXPECT_EQ(c.error().details[0],
            "ACTIVATION_BACKLOG='-5': must be an integer from 0 to 9223372036854775807");
  c = Load({{"LIMIT_TO_PARTITIONS_WITH_LAG", "true"}, {"SCALING_POLICY", "rate"}});
  ASSERT_FALSE(c);
  ASSERT_EQ(c.error().details.size(), 1u);
  EXPECT_EQ(c.error().details[0],
            "LIMIT_TO_PARTITIONS_WITH_LAG=true: only with SCALING_POLICY=messages (now rate): a "
            "group that keeps up shows no lag, so the cap would undo the rate/wait rule");
}

TEST(ConfigTest, TargetLagSecondsProblemSaysWhatIsAllowed) {
  auto c = Load({{"TARGET_LAG_SECONDS", "1.5m"}});
  ASSERT_FALSE(c);
  ASSERT_EQ(c.error().details.size(), 1u);
  EXPECT_EQ(c.error().details[0],
            "TARGET_LAG_SECONDS='1.5m': must be an integer from 0 to 604800");
  c = Load({{"TARGET_LAG_SECONDS", "90"}});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->ToJson()["TARGET_LAG_SECONDS"], 90);
  const auto& known = KnownVariables();
  EXPECT_NE(std::find(known.begin(), known.end(), "TARGET_LAG_SECONDS"), known.end());
}

TEST(ConfigTest, LagRulesAreShownInToJsonAndKnown) {
  auto c = Load({{"ACTIVATION_BACKLOG", "7"}, {"EVEN_PARTITION_DISTRIBUTION", "true"}});
  ASSERT_TRUE(c) << c.error().ToString();
  const auto j = c->ToJson();
  EXPECT_EQ(j["ACTIVATION_BACKLOG"], 7);
  EXPECT_EQ(j["LIMIT_TO_PARTITIONS_WITH_LAG"], false);
  EXPECT_EQ(j["EVEN_PARTITION_DISTRIBUTION"], true);
  const auto& known = KnownVariables();
  for (const char* name :
       {"ACTIVATION_BACKLOG", "LIMIT_TO_PARTITIONS_WITH_LAG", "EVEN_PARTITION_DISTRIBUTION"}) {
    EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
  }
}

// Issue 13 item 2: with leader election the Kafka deadline stays below the renew deadline
// (half of it), so a tick's observation cannot outlast the leadership it started with.
TEST(ConfigTest, TickDeadlineStaysBelowTheRenewDeadline) {
  auto c = Load({{"SCALE_INTERVAL_SECONDS", "60"}, {"LEADER_ELECTION", "true"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->TickDeadline(), std::chrono::milliseconds(5000));  // renew deadline 10 s
  EXPECT_LT(c->TickDeadline(), c->renew_deadline);
  c = Load({{"SCALE_INTERVAL_SECONDS", "5"}, {"LEADER_ELECTION", "true"},
            {"LEASE_DURATION_SECONDS", "60"}, {"RENEW_DEADLINE_SECONDS", "40"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->TickDeadline(), std::chrono::milliseconds(4000));  // 80% of the interval
}

TEST(ConfigTest, StuckPartitionDefaultsAreShownAndKnown) {
  auto c = Load({});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->stuck_after, std::chrono::seconds(300));
  EXPECT_FALSE(c->policy.exclude_stuck_lag);
  const auto j = c->ToJson();
  EXPECT_EQ(j["STUCK_AFTER_SECONDS"], 300);
  EXPECT_EQ(j["EXCLUDE_STUCK_LAG"], false);
  const auto& known = KnownVariables();
  for (const char* name : {"STUCK_AFTER_SECONDS", "EXCLUDE_STUCK_LAG"}) {
    EXPECT_NE(std::find(known.begin(), known.end(), name), known.end()) << name;
  }
}

TEST(ConfigTest, OtherWriterHold) {
  auto c = Load({});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->other_writer_hold, std::chrono::seconds(300));
  c = Load({{"OTHER_WRITER_HOLD_SECONDS", "0"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->other_writer_hold, std::chrono::seconds(0));
  EXPECT_FALSE(Load({{"OTHER_WRITER_HOLD_SECONDS", "-1"}}));
}

TEST(ConfigTest, ToJsonShowsEverySeedVariable) {
  auto c = Load({{"KAFKA_TOPIC", "a,b"}});
  ASSERT_TRUE(c);
  const auto j = c->ToJson();
  for (const char* name : {"KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC", "NAMESPACE", "DEPLOYMENT_NAME",
                           "MESSAGES_PER_POD", "MIN_REPLICAS", "MAX_REPLICAS", "HEALTH_CHECK_PORT",
                           "MIN_TTL_SECONDS", "SCALE_INTERVAL_SECONDS", "MESSAGE_COUNT_THRESHOLD"}) {
    EXPECT_TRUE(j.contains(name)) << name;
  }
  EXPECT_EQ(j["KAFKA_TOPIC"], "a,b");
}

// Issue 17 item 6: KAFKA_TOPIC=re:<ECMAScript regex>, the whole value one pattern.
TEST(TopicPatternConfig, ReFormIsOnePatternCommasIncluded) {
  auto c = Load({{"KAFKA_TOPIC", "re:orders-[a-z]{2,3}"}});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->kafka_topic_pattern, "orders-[a-z]{2,3}");
  EXPECT_TRUE(c->kafka_topics.empty());
  EXPECT_EQ(c->TopicSetting(), "re:orders-[a-z]{2,3}");
  EXPECT_EQ(c->ToJson()["KAFKA_TOPIC"], "re:orders-[a-z]{2,3}");
  auto list = Load({{"KAFKA_TOPIC", "orders,payments"}});
  ASSERT_TRUE(list);
  EXPECT_FALSE(list->kafka_topic_pattern);
  EXPECT_EQ(list->TopicSetting(), "orders,payments");
}

TEST(TopicPatternConfig, InvalidPatternIsAClearConfigError) {
  for (const std::string bad : {"re:", "re:orders-(", "re:[z-a]", "re:(a)\\1", "re:*"}) {
    SCOPED_TRACE(bad);
    auto c = Load({{"KAFKA_TOPIC", bad}});
    ASSERT_FALSE(c);
    ASSERT_TRUE(Names(c.error(), "KAFKA_TOPIC")) << c.error().ToString();
    EXPECT_NE(c.error().ToString().find("re:orders-.*"), std::string::npos)
        << "the error shows an example: " << c.error().ToString();
  }
  EXPECT_FALSE(Load({{"KAFKA_TOPIC", "re:" + std::string(1001, 'a')}}));
}

// Found by fuzz/config_fuzz: a pattern is printed as JSON (`check --print-config`, the Lease, the
// logs), so one that is not UTF-8 text, or holds a control character, is refused when read, not
// a throw from the JSON writer later.
TEST(TopicPatternConfig, APatternMustBePrintableText) {
  for (const std::string& bad : {std::string("re:paymen\xdbts"), std::string("re:orders\x01"),
                                 std::string("re:\xc0\xaf"), std::string("re:a\x7f")}) {
    SCOPED_TRACE(bad);
    auto c = Load({{"KAFKA_TOPIC", bad}});
    ASSERT_FALSE(c);
    ASSERT_TRUE(Names(c.error(), "KAFKA_TOPIC")) << c.error().ToString();
    EXPECT_NE(c.error().ToString().find("printable UTF-8"), std::string::npos)
        << c.error().ToString();
  }
  auto ok = Load({{"KAFKA_TOPIC", "re:commandes-é.*"}});
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->ToJson()["KAFKA_TOPIC"], "re:commandes-é.*");
}

// Found by fuzz/config_fuzz (UBSan): libstdc++ reads a number in a pattern (a back-reference
// \N, a count {N}) into a long without a bound, and 20 digits overflow it. Back-references are
// refused by name (matching could not be linear with them) and counts above 1,000 (no topic
// name is longer than 249) before std::regex sees them.
TEST(TopicPatternConfig, NumbersInAPatternAreBounded) {
  for (const std::string bad :
       {"a\\88888888888888888888", "a\\1", "(a)\\1", "[\\1]", "\\0123", "a{99999999999999999999}",
        "a{1,99999999999999999999}", "a{1001}", "a{2,1001}"}) {
    SCOPED_TRACE(bad);
    auto p = TopicPattern::Parse(bad);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code, ErrorCode::kInvalidArgument);
    auto c = Load({{"KAFKA_TOPIC", "re:" + bad}});
    ASSERT_FALSE(c);
    EXPECT_TRUE(Names(c.error(), "KAFKA_TOPIC")) << c.error().ToString();
  }
  EXPECT_NE(TopicPattern::Parse("a\\1").error().message.find("back-reference"), std::string::npos);
  EXPECT_NE(TopicPattern::Parse("a{1001}").error().message.find("1000"), std::string::npos);
  for (const std::string good : {"a{2,3}", "a{0,1000}", "[{]x", "[0-9]{4}-orders",
                                 "orders-12345678901234567890", "\\.a{3}", "a\\{9999999999\\}"}) {
    SCOPED_TRACE(good);
    EXPECT_TRUE(TopicPattern::Parse(good));
  }
  EXPECT_TRUE(TopicPattern::Parse("[0-9]{4}-orders")->Matches("2026-orders"));
  EXPECT_TRUE(TopicPattern::Parse("a\\{9999999999\\}")->Matches("a{9999999999}"));
}

TEST(TopicPatternConfig, MatchesWholeNamesAndInternalTopicsOnlyByName) {
  auto p = TopicPattern::Parse("orders-.*");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->Matches("orders-eu"));
  EXPECT_TRUE(p->Matches("orders-"));
  EXPECT_FALSE(p->Matches("old-orders-eu")) << "a full match, not a search";
  EXPECT_FALSE(p->Matches("orders"));
  auto all = TopicPattern::Parse(".*");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->Matches("payments"));
  EXPECT_FALSE(all->Matches("__consumer_offsets"));
  EXPECT_FALSE(all->Matches("__transaction_state"));
  auto under = TopicPattern::Parse("_.*");
  ASSERT_TRUE(under);
  EXPECT_TRUE(under->Matches("_private"));
  EXPECT_FALSE(under->Matches("__consumer_offsets")) << "only a pattern starting with __";
  auto internal = TopicPattern::Parse("__consumer_offsets");
  ASSERT_TRUE(internal);
  EXPECT_TRUE(internal->Matches("__consumer_offsets"));
}

TEST(TopicPatternConfig, NoPatternBacktracksExponentially) {
  // The default std::regex executor needs ~2^n steps here; this one is linear.
  auto p = TopicPattern::Parse("(a|aa)*c");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->Matches(std::string(249, 'a')));  // returns: the test would hang otherwise
}

// Issue 13 item 7: the opt-in to scale a group that never committed on the reset policy's lag.
TEST(ConfigTest, ScaleOnUncommittedIsOffByDefaultShownAndKnown) {
  auto c = Load({});
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_FALSE(c->policy.scale_on_uncommitted);
  EXPECT_EQ(c->ToJson()["SCALE_ON_UNCOMMITTED"], false);
  const auto& known = KnownVariables();
  EXPECT_NE(std::find(known.begin(), known.end(), "SCALE_ON_UNCOMMITTED"), known.end());
  c = Load({{"SCALE_ON_UNCOMMITTED", "maybe"}});
  ASSERT_FALSE(c);
  ASSERT_EQ(c.error().details.size(), 1u);
  EXPECT_EQ(c.error().details[0], "SCALE_ON_UNCOMMITTED='maybe': must be true or false");
}

}  // namespace
}  // namespace kafka_autoscaler::config
