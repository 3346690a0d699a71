#include "config/kafka_scaler.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

namespace kafka_autoscaler::config {
namespace {

using nlohmann::json;

// Spec fields with their own shape (not "camelCase of a variable, scalar value").
constexpr std::string_view kSpecialFields[] = {"scaleTargetRef",    "topics",       "consumerGroup",
                                               "offsetResetPolicy", "kafkaCluster", "paused"};

// Variables filled from the object's structure rather than a same-named spec field, and the
// path a person should be shown for each.
const std::map<std::string, std::string>& StructuralVariables() {
  static const std::map<std::string, std::string> m = {
      {"NAMESPACE", "metadata.namespace"},
      {"DEPLOYMENT_NAME", "spec.scaleTargetRef.name"},
      {"KAFKA_TOPIC", "spec.topics"},
      {"KAFKA_CONSUMER_GROUP", "spec.consumerGroup"},
      {"KAFKA_OFFSET_RESET_POLICY", "spec.offsetResetPolicy"},
  };
  return m;
}

bool IsInstanceVariable(std::string_view name) {
  const auto& v = InstanceVariables();
  return std::find(v.begin(), v.end(), name) != v.end();
}

bool IsKnownVariable(std::string_view name) {
  const auto& v = KnownVariables();
  return std::find(v.begin(), v.end(), name) != v.end();
}

// "minTtlSeconds" → "MIN_TTL_SECONDS"; "" when `field` is not plain lower camelCase.
std::string VariableName(std::string_view field) {
  if (field.empty() || !std::islower(static_cast<unsigned char>(field[0]))) return "";
  std::string out;
  for (char ch : field) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isupper(c)) {
      out += '_';
      out += ch;
    } else if (std::islower(c) || std::isdigit(c)) {
      out += static_cast<char>(std::toupper(c));
    } else {
      return "";
    }
  }
  return out;
}

// Where `variable` came from, as a person editing the KafkaScaler would name it.
std::string PathOf(const std::string& variable) {
  const auto& structural = StructuralVariables();
  if (auto it = structural.find(variable); it != structural.end()) return it->second;
  if (IsInstanceVariable(variable) || !IsKnownVariable(variable)) return variable;
  return "spec." + SpecFieldName(variable);
}

// Rewrites every variable name in a Load() problem line into its KafkaScaler path.
std::string InSpecTerms(const std::string& line) {
  std::string out;
  size_t i = 0;
  while (i < line.size()) {
    if (std::isupper(static_cast<unsigned char>(line[i]))) {
      size_t j = i;
      while (j < line.size() &&
             (std::isupper(static_cast<unsigned char>(line[j])) ||
              std::isdigit(static_cast<unsigned char>(line[j])) || line[j] == '_')) {
        ++j;
      }
      out += PathOf(line.substr(i, j - i));
      i = j;
    } else {
      out += line[i++];
    }
  }
  return out;
}

std::string Scalar(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_float()) return v.dump();  // shortest text that reads back the same
  return v.get<std::string>();
}

const json* Member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

const std::vector<std::string>& InstanceVariables() {
  static const std::vector<std::string> v = {"KAFKA_BOOTSTRAP_SERVERS",
                                             "KAFKA_CONFIG_FILE",
                                             "HEALTH_CHECK_PORT",
                                             "HEALTH_CHECK_HOST",
                                             "LEADER_ELECTION",
                                             "POD_NAME",
                                             "POD_NAMESPACE",
                                             "LEASE_NAME",
                                             "LEASE_DURATION_SECONDS",
                                             "RENEW_DEADLINE_SECONDS",
                                             "RETRY_PERIOD_SECONDS",
                                             "SHARDS",
                                             "LEARNED_STATE_CONFIGMAP",
                                             "LEARNED_STATE_SAVE_SECONDS",
                                             "LOG_LEVEL",
                                             "LOG_FORMAT"};
  return v;
}

std::string SpecFieldName(std::string_view variable) {
  std::string out;
  bool upper_next = false;
  for (char ch : variable) {
    if (ch == '_') {
      upper_next = true;
      continue;
    }
    const auto c = static_cast<unsigned char>(ch);
    out += static_cast<char>(upper_next ? std::toupper(c) : std::tolower(c));
    upper_next = false;
  }
  return out;
}

Result<KafkaScalerTarget> FromKafkaScaler(const json& object, const Env& instance_env) {
  std::vector<std::string> problems;
  auto text = [&](const json* v, const std::string& path, bool required) -> std::string {
    if (!v) {
      if (required) problems.push_back(path + ": required");
      return "";
    }
    if (!v->is_string()) {
      problems.push_back(path + ": expected a string, got " + std::string(v->type_name()));
      return "";
    }
    return v->get<std::string>();
  };

  KafkaScalerTarget target;
  Env env;
  for (const auto& name : InstanceVariables()) {
    if (auto it = instance_env.find(name); it != instance_env.end()) env[name] = it->second;
  }
  static const json kNone;  // Member() finds nothing in null
  const json* metadata = Member(object, "metadata");
  const json& meta = metadata ? *metadata : kNone;
  target.name = text(Member(meta, "name"), "metadata.name", true);
  env["NAMESPACE"] = text(Member(meta, "namespace"), "metadata.namespace", true);

  const json* spec = Member(object, "spec");
  if (!spec || !spec->is_object()) {
    problems.push_back("spec: required, an object");
  } else {
    const json* ref = Member(*spec, "scaleTargetRef");
    if (!ref || !ref->is_object()) {
      problems.push_back("spec.scaleTargetRef: required, an object with kind and name");
    } else {
      target.target_kind = text(Member(*ref, "kind"), "spec.scaleTargetRef.kind", true);
      if (!target.target_kind.empty() && target.target_kind != "Deployment" &&
          target.target_kind != "StatefulSet") {
        problems.push_back("spec.scaleTargetRef.kind=" + target.target_kind +
                           ": must be Deployment or StatefulSet");
      }
      env["DEPLOYMENT_NAME"] = text(Member(*ref, "name"), "spec.scaleTargetRef.name", true);
      const std::string api_version =
          text(Member(*ref, "apiVersion"), "spec.scaleTargetRef.apiVersion", false);
      if (!api_version.empty() && api_version != "apps/v1") {
        problems.push_back("spec.scaleTargetRef.apiVersion=" + api_version + ": must be apps/v1");
      }
    }
    const json* topics = Member(*spec, "topics");
    if (!topics || !topics->is_array() || topics->empty()) {
      problems.push_back("spec.topics: required, a list of at least one topic");
    } else {
      std::string joined;
      for (size_t i = 0; i < topics->size(); ++i) {
        const std::string t = text(&(*topics)[i], "spec.topics[" + std::to_string(i) + "]", true);
        if (t.starts_with("re:")) {  // KAFKA_TOPIC's pattern form: the whole value, commas too
          if (topics->size() > 1) {
            problems.push_back("spec.topics[" + std::to_string(i) + "]=" + t +
                               ": a pattern (re:) must be the only item");
          }
        } else if (t.find(',') != std::string::npos) {
          problems.push_back("spec.topics[" + std::to_string(i) + "]=" + t +
                             ": one topic per item (no commas)");
        }
        joined += (i ? "," : "") + t;
      }
      env["KAFKA_TOPIC"] = joined;
    }
    if (const json* g = Member(*spec, "consumerGroup")) {
      env["KAFKA_CONSUMER_GROUP"] = text(g, "spec.consumerGroup", true);
    }
    if (const json* p = Member(*spec, "offsetResetPolicy")) {
      env["KAFKA_OFFSET_RESET_POLICY"] = text(p, "spec.offsetResetPolicy", true);
    }
    target.kafka_cluster = "default";
    if (const json* k = Member(*spec, "kafkaCluster")) {
      target.kafka_cluster = text(k, "spec.kafkaCluster", true);
    }
    if (const json* p = Member(*spec, "paused")) {
      if (p->is_boolean()) {
        target.paused = p->get<bool>();
      } else {
        problems.push_back("spec.paused: expected a boolean, got " + std::string(p->type_name()));
      }
    }

    for (const auto& [field, value] : spec->items()) {
      if (std::find(std::begin(kSpecialFields), std::end(kSpecialFields), field) !=
          std::end(kSpecialFields)) {
        continue;
      }
      const std::string path = "spec." + field;
      const std::string variable = VariableName(field);
      if (variable.empty() || SpecFieldName(variable) != field || !IsKnownVariable(variable) ||
          IsInstanceVariable(variable) || StructuralVariables().count(variable)) {
        problems.push_back(path + ": unknown field");
        continue;
      }
      if (value.is_null()) continue;
      if (!value.is_boolean() && !value.is_number() && !value.is_string()) {
        problems.push_back(path + ": expected a number, a boolean or a string, got " +
                           std::string(value.type_name()));
        continue;
      }
      env[variable] = Scalar(value);
    }
  }

  if (problems.empty()) {
    auto config = Load(env);
    if (config) {
      target.config = std::move(*config);
      return target;
    }
    for (const auto& d : config.error().details) problems.push_back(InSpecTerms(d));
    if (problems.empty()) problems.push_back(InSpecTerms(config.error().message));
  }
  Error e{ErrorCode::kInvalidArgument,
          "invalid KafkaScaler " + (target.name.empty() ? std::string("(no name)") : target.name) +
              " (" + std::to_string(problems.size()) +
              (problems.size() == 1 ? " problem)" : " problems)"),
          std::move(problems), std::nullopt};
  return MakeError(std::move(e));
}

}  // namespace kafka_autoscaler::config
