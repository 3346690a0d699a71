#include "config/config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <type_traits>

#include "config/topic_pattern.h"

namespace kafka_autoscaler::config {
namespace {

constexpr int64_t kMaxReplicasAllowed = 100'000;
constexpr int64_t kMaxSeconds = 7 * 24 * 3600;  // one week

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Shows a value in a problem line: quoted, with long values cut.
std::string Show(std::string_view value) {
  std::string v(value.substr(0, std::min<size_t>(value.size(), 64)));
  if (value.size() > 64) v += "...";
  return "'" + v + "'";
}

// Reads variables from the environment and collects every problem instead of stopping at one.
class Reader {
 public:
  explicit Reader(const Env& env) : env_(env) {}

  std::optional<std::string> Raw(const std::string& name) const {
    auto it = env_.find(name);
    if (it == env_.end()) return std::nullopt;
    return it->second;
  }

  void Problem(const std::string& name, std::string_view value, const std::string& allowed) {
    problems_.push_back(name + "=" + Show(value) + ": " + allowed);
  }
  void Problem(std::string line) { problems_.push_back(std::move(line)); }

  // A value of type P (int64_t or double) in [lo, hi]; nothing when unset or bad (a problem
  // is recorded then).
  template <typename P>
  std::optional<P> InRange(const std::string& name, P lo, P hi) {
    auto raw = Raw(name);
    if (!raw) return std::nullopt;
    const std::string v = Trim(*raw);
    P out{};
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || !(out >= lo) ||
        !(out <= hi)) {
      std::ostringstream allowed;
      allowed << (std::is_integral_v<P> ? "must be an integer from " : "must be a number from ")
              << lo << " to " << hi;
      Problem(name, *raw, allowed.str());
      return std::nullopt;
    }
    return out;
  }

  // An integer in [lo, hi]; the default when unset or bad.
  template <typename T>
  T Int(const std::string& name, T def, int64_t lo, int64_t hi) {
    const auto v = InRange<int64_t>(name, lo, hi);
    return v ? static_cast<T>(*v) : def;
  }

  // A decimal number in [lo, hi]; the default when unset or bad.
  double Number(const std::string& name, double def, double lo, double hi) {
    return InRange<double>(name, lo, hi).value_or(def);
  }

  std::chrono::seconds Seconds(const std::string& name, std::chrono::seconds def, int64_t lo) {
    return std::chrono::seconds(Int<int64_t>(name, def.count(), lo, kMaxSeconds));
  }

  bool Bool(const std::string& name, bool def) {
    auto raw = Raw(name);
    if (!raw) return def;
    std::string v = Trim(*raw);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
    if (v == "false" || v == "0" || v == "no" || v == "off") return false;
    Problem(name, *raw, "must be true or false");
    return def;
  }

  // One of `allowed` (case-insensitive); returns its index, or `def` when unset or bad.
  size_t Enum(const std::string& name, size_t def, const std::vector<std::string>& allowed) {
    auto raw = Raw(name);
    if (!raw) return def;
    std::string v = Trim(*raw);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
    for (size_t i = 0; i < allowed.size(); ++i) {
      std::string a = allowed[i];  // matched case-insensitively ("ifHigher")
      std::transform(a.begin(), a.end(), a.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (v == a) return i;
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    Problem(name, *raw, "must be one of: " + list);
    return def;
  }

  // A non-empty string of printable characters; the default when unset.
  std::string String(const std::string& name, const std::string& def, size_t max_len = 1024) {
    auto raw = Raw(name);
    if (!raw) return def;
    const std::string v = Trim(*raw);
    if (v.empty()) {
      Problem(name, *raw, "must not be empty");
      return def;
    }
    if (v.size() > max_len || !Printable(v)) {
      Problem(name, *raw,
              "must be printable UTF-8 text of at most " + std::to_string(max_len) +
                  " characters");
      return def;
    }
    return v;
  }

  // Like String, but unset and empty both mean "not set".
  std::optional<std::string> OptionalString(const std::string& name, size_t max_len = 1024) {
    auto raw = Raw(name);
    if (!raw || Trim(*raw).empty()) return std::nullopt;
    return String(name, "", max_len);
  }

  // A Kubernetes object name (RFC 1123 subdomain; a label for namespaces).
  std::string KubeName(const std::string& name, const std::string& def, bool dns_label) {
    const std::string v = String(name, def, 253);
    if (!IsDnsName(v, dns_label ? 63 : 253, !dns_label)) {
      Problem(name, v,
              dns_label ? "must be a DNS label: lowercase letters, digits and '-', at most 63"
                        : "must be a DNS subdomain: lowercase letters, digits, '-' and '.', at "
                          "most 253");
      return def;
    }
    return v;
  }

  // No control characters, and valid UTF-8 (RFC 3629: no overlong forms, no surrogates):
  // values end up in JSON (logs, the Lease, `check --print-config`), which must not throw.
  static bool Printable(std::string_view v) {
    for (size_t i = 0; i < v.size();) {
      const auto c = static_cast<unsigned char>(v[i]);
      if (c < 0x80) {
        if (c < 0x20 || c == 0x7f) return false;
        ++i;
        continue;
      }
      // Length of the sequence and the range of its second byte.
      size_t len = 0;
      unsigned char lo = 0x80, hi = 0xbf;
      if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
      } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
      } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
      } else {
        return false;
      }
      if (i + len > v.size()) return false;
      for (size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(v[i + k]);
        if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return false;
      }
      i += len;
    }
    return true;
  }

  static bool IsDnsName(std::string_view v, size_t max_len, bool allow_dots) {
    if (v.empty() || v.size() > max_len) return false;
    auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(v.front()) || !alnum(v.back())) return false;
    return std::all_of(v.begin(), v.end(),
                       [&](char c) { return alnum(c) || c == '-' || (allow_dots && c == '.'); });
  }

  std::vector<std::string> TakeProblems() { return std::move(problems_); }

 private:
  const Env& env_;
  std::vector<std::string> problems_;
};

// Kafka topic names: 1-249 of [a-zA-Z0-9._-].
bool IsTopicName(std::string_view t) {
  if (t.empty() || t.size() > 249 || t == "." || t == "..") return false;
  return std::all_of(t.begin(), t.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '-';
  });
}

}  // namespace

std::vector<std::string> Warnings(const Config& config,
                                  const std::function<std::string(std::string_view)>& name) {
  std::vector<std::string> out;
  if (config.policy.kind == policy::PolicyKind::kWait &&
      config.scale_interval > config.policy.target_wait) {
    const std::string interval = name("SCALE_INTERVAL_SECONDS");
    const std::string wait = name("TARGET_WAIT_SECONDS");
    out.push_back(interval + "=" + std::to_string(config.scale_interval.count()) + " is above " +
                  wait + "=" + std::to_string(config.policy.target_wait.count()) +
                  ": the wait policy sees a rise up to a tick late, so it cannot keep that "
                  "wait; set " +
                  interval + " at or below " + wait);
  }
  if (!config.learned_state_configmap.empty() && config.policy.kind != policy::PolicyKind::kWait) {
    out.push_back(name("LEARNED_STATE_CONFIGMAP") + "=" + config.learned_state_configmap +
                  " keeps what SCALING_POLICY=wait learns; with " +
                  std::string(policy::PolicyKindName(config.policy.kind)) +
                  " nothing is read or written");
  }
  return out;
}

std::string_view OffsetResetPolicyName(OffsetResetPolicy policy) {
  return policy == OffsetResetPolicy::kEarliest ? "earliest" : "latest";
}

const std::vector<std::string>& KnownVariables() {
  static const std::vector<std::string> kNames = {"KAFKA_BOOTSTRAP_SERVERS",
                                                  "KAFKA_TOPIC",
                                                  "NAMESPACE",
                                                  "DEPLOYMENT_NAME",
                                                  "MESSAGES_PER_POD",
                                                  "MIN_REPLICAS",
                                                  "MAX_REPLICAS",
                                                  "HEALTH_CHECK_PORT",
                                                  "MIN_TTL_SECONDS",
                                                  "SCALE_INTERVAL_SECONDS",
                                                  "MESSAGE_COUNT_THRESHOLD",
                                                  "KAFKA_CONSUMER_GROUP",
                                                  "KAFKA_OFFSET_RESET_POLICY",
                                                  "KAFKA_CONFIG_FILE",
                                                  "IDLE_REPLICAS",
                                                  "SCALE_DOWN_STABILIZATION_SECONDS",
                                                  "SCALE_UP_MAX_STEP",
                                                  "SCALE_DOWN_MAX_STEP",
                                                  "LIMIT_TO_PARTITIONS",
                                                  "FALLBACK_REPLICAS",
                                                  "FALLBACK_AFTER_FAILURES",
                                                  "FALLBACK_MODE",
                                                  "DRY_RUN",
                                                  "SCALING_POLICY",
                                                  "TARGET_DRAIN_SECONDS",
                                                  "RATE_SCALE_DOWN_WINDOW_SECONDS",
                                                  "RATE_REBALANCE_SECONDS",
                                                  "RATE_POD_STARTUP_SECONDS",
                                                  "TARGET_WAIT_SECONDS",
                                                  "PREDICT",
                                                  "COST_CEILING",
                                                  "LEADER_ELECTION",
                                                  "POD_NAME",
                                                  "POD_NAMESPACE",
                                                  "ACTIVATION_BACKLOG",
                                                  "LIMIT_TO_PARTITIONS_WITH_LAG",
                                                  "EVEN_PARTITION_DISTRIBUTION",
                                                  "LEASE_NAME",
                                                  "LEASE_DURATION_SECONDS",
                                                  "RENEW_DEADLINE_SECONDS",
                                                  "RETRY_PERIOD_SECONDS",
                                                  "SHARDS",
                                                  "OTHER_WRITER_HOLD_SECONDS",
                                                  "STUCK_AFTER_SECONDS",
                                                  "EXCLUDE_STUCK_LAG",
                                                  "TARGET_LAG_SECONDS",
                                                  "LOG_LEVEL",
                                                  "LOG_FORMAT",
                                                  "HEALTH_CHECK_HOST",
                                                  "SCALE_ON_UNCOMMITTED",
                                                  "LEARNED_STATE_CONFIGMAP",
                                                  "LEARNED_STATE_SAVE_SECONDS"};
  return kNames;
}

std::chrono::milliseconds Config::TickDeadline() const {
  const auto eighty = std::chrono::duration_cast<std::chrono::milliseconds>(scale_interval) * 8 / 10;
  auto deadline = std::min<std::chrono::milliseconds>(eighty, std::chrono::seconds(30));
  if (leader_election) {
    deadline = std::min<std::chrono::milliseconds>(
        deadline, std::chrono::duration_cast<std::chrono::milliseconds>(renew_deadline) / 2);
  }
  return deadline;
}

Result<Config> Load(const Env& env) {
  Reader r(env);
  Config c;
  auto& p = c.policy;

  c.kafka_bootstrap_servers = r.String("KAFKA_BOOTSTRAP_SERVERS", c.kafka_bootstrap_servers);
  if (auto raw = r.Raw("KAFKA_TOPIC"); raw && raw->starts_with(kTopicPatternPrefix)) {
    // The whole value is one regex (it may contain commas): topic_pattern.h.
    const std::string source = raw->substr(kTopicPatternPrefix.size());
    if (!Reader::Printable(source)) {
      r.Problem("KAFKA_TOPIC", *raw, "the regular expression after re: must be printable UTF-8");
    } else if (auto pattern = TopicPattern::Parse(source); !pattern) {
      r.Problem("KAFKA_TOPIC", *raw, pattern.error().message + "; e.g. re:orders-.*");
    } else {
      c.kafka_topics.clear();
      c.kafka_topic_pattern = source;
    }
  } else if (raw) {
    std::vector<std::string> topics;
    std::string s = *raw;
    size_t start = 0;
    bool bad = false;
    while (start <= s.size()) {
      size_t comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      std::string t = Trim(std::string_view(s).substr(start, comma - start));
      if (!IsTopicName(t)) bad = true;
      else if (std::find(topics.begin(), topics.end(), t) == topics.end()) topics.push_back(t);
      start = comma + 1;
    }
    if (bad || topics.empty()) {
      r.Problem("KAFKA_TOPIC", s,
                "must be a comma-separated list of topic names (1-249 of a-z A-Z 0-9 . _ -)");
    } else {
      c.kafka_topics = topics;
    }
  }
  c.namespace_name = r.KubeName("NAMESPACE", c.namespace_name, /*dns_label=*/true);
  c.deployment_name = r.KubeName("DEPLOYMENT_NAME", c.deployment_name, /*dns_label=*/false);
  p.messages_per_pod = r.Int<int64_t>("MESSAGES_PER_POD", p.messages_per_pod, 1,
                                      std::numeric_limits<int32_t>::max());
  p.min_replicas = r.Int<int32_t>("MIN_REPLICAS", p.min_replicas, 0, kMaxReplicasAllowed);
  p.max_replicas = r.Int<int32_t>("MAX_REPLICAS", p.max_replicas, 1, kMaxReplicasAllowed);
  c.health_check_port = r.Int<int>("HEALTH_CHECK_PORT", c.health_check_port, 1, 65535);
  if (auto host = r.OptionalString("HEALTH_CHECK_HOST", 64)) {
    // An address literal: a name would be resolved once at start-up, to one of its addresses.
    in6_addr v6{};
    in_addr v4{};
    if (inet_pton(AF_INET, host->c_str(), &v4) == 1 ||
        inet_pton(AF_INET6, host->c_str(), &v6) == 1) {
      c.health_check_host = *host;
    } else {
      r.Problem("HEALTH_CHECK_HOST", *host,
                "must be an IPv4 or IPv6 address (e.g. 0.0.0.0, ::, 127.0.0.1); unset binds :: "
                "(IPv4 and IPv6) with a fallback to 0.0.0.0");
    }
  }
  p.min_ttl = r.Seconds("MIN_TTL_SECONDS", p.min_ttl, 0);
  c.scale_interval = r.Seconds("SCALE_INTERVAL_SECONDS", c.scale_interval, 1);
  p.message_count_threshold = r.Int<int64_t>("MESSAGE_COUNT_THRESHOLD", p.message_count_threshold,
                                             0, std::numeric_limits<int64_t>::max());

  c.kafka_consumer_group = r.OptionalString("KAFKA_CONSUMER_GROUP", 255);
  c.offset_reset = static_cast<OffsetResetPolicy>(
      r.Enum("KAFKA_OFFSET_RESET_POLICY", 0, {"latest", "earliest"}));
  c.kafka_config_file = r.OptionalString("KAFKA_CONFIG_FILE", 4096);
  p.idle_replicas = r.Int<int32_t>("IDLE_REPLICAS", p.idle_replicas, 0, kMaxReplicasAllowed);
  p.scale_down_stabilization =
      r.Seconds("SCALE_DOWN_STABILIZATION_SECONDS", p.scale_down_stabilization, 0);
  p.scale_up_max_step = r.Int<int32_t>("SCALE_UP_MAX_STEP", 0, 0, kMaxReplicasAllowed);
  p.scale_down_max_step = r.Int<int32_t>("SCALE_DOWN_MAX_STEP", 0, 0, kMaxReplicasAllowed);
  p.limit_to_partitions = r.Bool("LIMIT_TO_PARTITIONS", p.limit_to_partitions);
  if (r.Raw("FALLBACK_REPLICAS") && !Trim(*r.Raw("FALLBACK_REPLICAS")).empty()) {
    c.fallback_replicas = r.Int<int32_t>("FALLBACK_REPLICAS", 0, 0, kMaxReplicasAllowed);
  }
  c.fallback_after_failures = r.Int<int32_t>("FALLBACK_AFTER_FAILURES", 3, 1, 1000);
  c.fallback_mode = static_cast<FallbackMode>(r.Enum("FALLBACK_MODE", 0, {"ifHigher", "static"}));
  c.other_writer_hold = r.Seconds("OTHER_WRITER_HOLD_SECONDS", c.other_writer_hold, 0);
  c.dry_run = r.Bool("DRY_RUN", false);
  p.kind = static_cast<policy::PolicyKind>(r.Enum("SCALING_POLICY", 0, {"messages", "rate", "wait"}));
  p.target_drain = r.Seconds("TARGET_DRAIN_SECONDS", p.target_drain, 1);
  p.rate_scale_down_window =
      r.Seconds("RATE_SCALE_DOWN_WINDOW_SECONDS", p.rate_scale_down_window, 0);
  p.rate_rebalance = r.Seconds("RATE_REBALANCE_SECONDS", p.rate_rebalance, 0);
  p.rate_rebalance_given = r.Raw("RATE_REBALANCE_SECONDS").has_value();
  p.rate_pod_startup = r.Seconds("RATE_POD_STARTUP_SECONDS", p.rate_pod_startup, 0);
  p.target_wait = r.Seconds("TARGET_WAIT_SECONDS", p.target_wait, 1);
  p.predict = r.Bool("PREDICT", p.predict);
  p.cost_ceiling = r.Number("COST_CEILING", p.cost_ceiling, 0, 10);
  p.activation_backlog = r.Int<int64_t>("ACTIVATION_BACKLOG", p.activation_backlog, 0,
                                        std::numeric_limits<int64_t>::max());
  p.limit_to_partitions_with_lag =
      r.Bool("LIMIT_TO_PARTITIONS_WITH_LAG", p.limit_to_partitions_with_lag);
  p.even_partition_distribution =
      r.Bool("EVEN_PARTITION_DISTRIBUTION", p.even_partition_distribution);
  c.stuck_after = r.Seconds("STUCK_AFTER_SECONDS", c.stuck_after, 1);
  p.exclude_stuck_lag = r.Bool("EXCLUDE_STUCK_LAG", p.exclude_stuck_lag);
  p.target_lag = r.Seconds("TARGET_LAG_SECONDS", p.target_lag, 0);  // 0 = off
  p.scale_on_uncommitted = r.Bool("SCALE_ON_UNCOMMITTED", p.scale_on_uncommitted);
  c.leader_election = r.Bool("LEADER_ELECTION", false);
  c.pod_name = r.OptionalString("POD_NAME", 253).value_or("");
  c.pod_namespace = r.OptionalString("POD_NAMESPACE", 63).value_or("");
  c.lease_name = r.OptionalString("LEASE_NAME", 253).value_or("");
  c.lease_duration = r.Seconds("LEASE_DURATION_SECONDS", c.lease_duration, 1);
  c.renew_deadline = r.Seconds("RENEW_DEADLINE_SECONDS", c.renew_deadline, 1);
  c.retry_period = r.Seconds("RETRY_PERIOD_SECONDS", c.retry_period, 1);
  c.shards = r.Int<int32_t>("SHARDS", c.shards, 1, 1024);
  if (r.OptionalString("LEARNED_STATE_CONFIGMAP", 253)) {
    c.learned_state_configmap = r.KubeName("LEARNED_STATE_CONFIGMAP", "", /*dns_label=*/false);
  }
  c.learned_state_save = r.Seconds("LEARNED_STATE_SAVE_SECONDS", c.learned_state_save, 1);
  c.log_level = static_cast<LogLevel>(r.Enum("LOG_LEVEL", 1, {"debug", "info", "warn", "error"}));
  c.log_format = static_cast<LogFormat>(r.Enum("LOG_FORMAT", 0, {"json", "text"}));

  // Cross-field rules, only between values that parsed.
  if (p.min_replicas > p.max_replicas) {
    r.Problem("MIN_REPLICAS=" + std::to_string(p.min_replicas) + ": must be <= MAX_REPLICAS (" +
              std::to_string(p.max_replicas) + ")");
    r.Problem("MAX_REPLICAS=" + std::to_string(p.max_replicas) + ": must be >= MIN_REPLICAS (" +
              std::to_string(p.min_replicas) + ")");
  }
  if (p.idle_replicas > p.min_replicas) {
    r.Problem("IDLE_REPLICAS=" + std::to_string(p.idle_replicas) + ": must be <= MIN_REPLICAS (" +
              std::to_string(p.min_replicas) + ")");
  }
  if (p.limit_to_partitions_with_lag && p.kind != policy::PolicyKind::kMessages) {
    r.Problem("LIMIT_TO_PARTITIONS_WITH_LAG=true: only with SCALING_POLICY=messages (now " +
              std::string(policy::PolicyKindName(p.kind)) +
              "): a group that keeps up shows no lag, so the cap would undo the rate/wait rule");
  }
  if (c.fallback_replicas &&
      (*c.fallback_replicas < p.idle_replicas || *c.fallback_replicas > p.max_replicas)) {
    r.Problem("FALLBACK_REPLICAS=" + std::to_string(*c.fallback_replicas) +
              ": must be within IDLE_REPLICAS..MAX_REPLICAS (" + std::to_string(p.idle_replicas) +
              ".." + std::to_string(p.max_replicas) + ")");
  }
  if (c.leader_election) {
    if (c.renew_deadline >= c.lease_duration) {
      r.Problem("RENEW_DEADLINE_SECONDS=" + std::to_string(c.renew_deadline.count()) +
                ": must be < LEASE_DURATION_SECONDS (" + std::to_string(c.lease_duration.count()) +
                ")");
    }
    // client-go: RenewDeadline must exceed JitterFactor (1.2) × RetryPeriod.
    if (c.renew_deadline.count() * 10 <= c.retry_period.count() * 12) {
      r.Problem("RETRY_PERIOD_SECONDS=" + std::to_string(c.retry_period.count()) +
                ": 1.2 x RETRY_PERIOD_SECONDS must be < RENEW_DEADLINE_SECONDS (" +
                std::to_string(c.renew_deadline.count()) + ")");
    }
  }
  if (c.pod_namespace.empty()) c.pod_namespace = c.namespace_name;
  if (c.lease_name.empty()) c.lease_name = "kafka-autoscaler-" + c.deployment_name;
  if (c.lease_name.size() > 253) c.lease_name.resize(253);

  auto problems = r.TakeProblems();
  if (!problems.empty()) {
    Error e{ErrorCode::kInvalidArgument,
            "invalid configuration (" + std::to_string(problems.size()) +
                (problems.size() == 1 ? " problem)" : " problems)"),
            std::move(problems), std::nullopt};
    return MakeError(std::move(e));
  }
  return c;
}

std::string Config::TopicSetting() const {
  if (kafka_topic_pattern) return std::string(kTopicPatternPrefix) + *kafka_topic_pattern;
  std::string topics;
  for (const auto& t : kafka_topics) topics += (topics.empty() ? "" : ",") + t;
  return topics;
}

nlohmann::json Config::ToJson() const {
  nlohmann::ordered_json j;
  j["KAFKA_BOOTSTRAP_SERVERS"] = kafka_bootstrap_servers;
  j["KAFKA_TOPIC"] = TopicSetting();
  j["NAMESPACE"] = namespace_name;
  j["DEPLOYMENT_NAME"] = deployment_name;
  j["MESSAGES_PER_POD"] = policy.messages_per_pod;
  j["MIN_REPLICAS"] = policy.min_replicas;
  j["MAX_REPLICAS"] = policy.max_replicas;
  j["HEALTH_CHECK_PORT"] = health_check_port;
  j["HEALTH_CHECK_HOST"] =
      health_check_host.empty() ? nlohmann::json(nullptr) : nlohmann::json(health_check_host);
  j["MIN_TTL_SECONDS"] = policy.min_ttl.count();
  j["SCALE_INTERVAL_SECONDS"] = scale_interval.count();
  j["MESSAGE_COUNT_THRESHOLD"] = policy.message_count_threshold;
  j["KAFKA_CONSUMER_GROUP"] = kafka_consumer_group ? nlohmann::json(*kafka_consumer_group) : nullptr;
  j["KAFKA_OFFSET_RESET_POLICY"] = OffsetResetPolicyName(offset_reset);
  j["KAFKA_CONFIG_FILE"] = kafka_config_file ? nlohmann::json(*kafka_config_file) : nullptr;
  j["IDLE_REPLICAS"] = policy.idle_replicas;
  j["SCALE_DOWN_STABILIZATION_SECONDS"] = policy.scale_down_stabilization.count();
  j["SCALE_UP_MAX_STEP"] = policy.scale_up_max_step;
  j["SCALE_DOWN_MAX_STEP"] = policy.scale_down_max_step;
  j["LIMIT_TO_PARTITIONS"] = policy.limit_to_partitions;
  j["FALLBACK_REPLICAS"] = fallback_replicas ? nlohmann::json(*fallback_replicas) : nullptr;
  j["FALLBACK_AFTER_FAILURES"] = fallback_after_failures;
  j["FALLBACK_MODE"] = fallback_mode == FallbackMode::kStatic ? "static" : "ifHigher";
  j["OTHER_WRITER_HOLD_SECONDS"] = other_writer_hold.count();
  j["DRY_RUN"] = dry_run;
  j["SCALING_POLICY"] = policy::PolicyKindName(policy.kind);
  j["TARGET_DRAIN_SECONDS"] = policy.target_drain.count();
  j["RATE_SCALE_DOWN_WINDOW_SECONDS"] = policy.rate_scale_down_window.count();
  j["RATE_REBALANCE_SECONDS"] = policy.rate_rebalance.count();
  j["RATE_POD_STARTUP_SECONDS"] = policy.rate_pod_startup.count();
  j["TARGET_WAIT_SECONDS"] = policy.target_wait.count();
  j["PREDICT"] = policy.predict;
  j["COST_CEILING"] = policy.cost_ceiling;
  j["ACTIVATION_BACKLOG"] = policy.activation_backlog;
  j["LIMIT_TO_PARTITIONS_WITH_LAG"] = policy.limit_to_partitions_with_lag;
  j["EVEN_PARTITION_DISTRIBUTION"] = policy.even_partition_distribution;
  j["STUCK_AFTER_SECONDS"] = stuck_after.count();
  j["EXCLUDE_STUCK_LAG"] = policy.exclude_stuck_lag;
  j["TARGET_LAG_SECONDS"] = policy.target_lag.count();
  j["SCALE_ON_UNCOMMITTED"] = policy.scale_on_uncommitted;
  j["LEADER_ELECTION"] = leader_election;
  j["POD_NAME"] = pod_name;
  j["POD_NAMESPACE"] = pod_namespace;
  j["LEASE_NAME"] = lease_name;
  j["LEASE_DURATION_SECONDS"] = lease_duration.count();
  j["RENEW_DEADLINE_SECONDS"] = renew_deadline.count();
  j["RETRY_PERIOD_SECONDS"] = retry_period.count();
  j["SHARDS"] = shards;
  j["LEARNED_STATE_CONFIGMAP"] = learned_state_configmap;
  j["LEARNED_STATE_SAVE_SECONDS"] = learned_state_save.count();
  j["LOG_LEVEL"] = LogLevelName(log_level);
  j["LOG_FORMAT"] = log_format == LogFormat::kJson ? "json" : "text";
  return j;
}

}  // namespace kafka_autoscaler::config
