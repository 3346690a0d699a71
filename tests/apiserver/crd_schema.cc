#include "apiserver/crd_schema.h"

#include <algorithm>
#include <regex>

namespace kafka_autoscaler::testing {

using nlohmann::json;

namespace {

void Walk(const json& value, const json& schema, const std::string& path,
          std::vector<std::string>& problems) {
  const std::string type = schema.value("type", "");
  auto bad = [&](const std::string& what) {
    problems.push_back((path.empty() ? std::string("<root>") : path) + ": " + what);
  };
  auto child = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (type == "object") {
    if (!value.is_object()) return bad("expected object, got " + std::string(value.type_name()));
    for (const auto& r : schema.value("required", json::array())) {
      if (!value.contains(r.get<std::string>()))
        bad("missing required field " + r.get<std::string>());
    }
    if (!schema.contains("properties")) return;
    for (const auto& [k, v] : value.items()) {
      if (!schema["properties"].contains(k)) {
        bad("unknown field \"" + k + "\"");
      } else {
        Walk(v, schema["properties"][k], child(k), problems);
      }
    }
    return;
  }
  if (type == "array") {
    if (!value.is_array()) return bad("expected array, got " + std::string(value.type_name()));
    if (schema.contains("minItems") && value.size() < schema["minItems"].get<size_t>()) {
      bad("must have at least " + schema["minItems"].dump() + " items");
    }
    if (schema.contains("maxItems") && value.size() > schema["maxItems"].get<size_t>()) {
      bad("must have at most " + schema["maxItems"].dump() + " items");
    }
    if (!schema.contains("items")) return;
    for (size_t i = 0; i < value.size(); ++i) {
      Walk(value[i], schema["items"], path + "[" + std::to_string(i) + "]", problems);
    }
    return;
  }
  if (type == "integer" && !value.is_number_integer()) {
    return bad("expected integer, got " + std::string(value.type_name()));
  }
  if (type == "boolean" && !value.is_boolean()) {
    return bad("expected boolean, got " + std::string(value.type_name()));
  }
  if (type == "string" && !value.is_string()) {
    return bad("expected string, got " + std::string(value.type_name()));
  }
  if (schema.contains("enum") &&
      std::find(schema["enum"].begin(), schema["enum"].end(), value) == schema["enum"].end()) {
    bad("Unsupported value: " + value.dump() + ": supported values: " + schema["enum"].dump());
  }
  if (value.is_number_integer()) {
    if (schema.contains("minimum") && value.get<int64_t>() < schema["minimum"].get<int64_t>()) {
      bad("should be greater than or equal to " + schema["minimum"].dump());
    }
    if (schema.contains("maximum") && value.get<int64_t>() > schema["maximum"].get<int64_t>()) {
      bad("should be less than or equal to " + schema["maximum"].dump());
    }
  }
  if (value.is_string()) {
    const auto n = value.get<std::string>().size();
    if (schema.contains("minLength") && n < schema["minLength"].get<size_t>()) {
      bad("should be at least " + schema["minLength"].dump() + " chars long");
    }
    if (schema.contains("maxLength") && n > schema["maxLength"].get<size_t>()) {
      bad("may not be more than " + schema["maxLength"].dump() + " bytes");
    }
  }
}

}  // namespace

std::vector<std::string> CheckCrdSchema(const json& value, const json& schema,
                                        const std::string& path) {
  std::vector<std::string> problems;
  Walk(value, schema, path, problems);
  return problems;
}

void ApplyCrdDefaults(json& value, const json& schema) {
  if (value.is_object() && schema.contains("properties")) {
    for (const auto& [k, sub] : schema["properties"].items()) {
      if (!value.contains(k) && sub.contains("default")) value[k] = sub["default"];
      if (value.contains(k)) ApplyCrdDefaults(value[k], sub);
    }
  } else if (value.is_array() && schema.contains("items")) {
    for (auto& item : value) ApplyCrdDefaults(item, schema["items"]);
  }
}

json EvalPrinterColumn(const json& object, const std::string& json_path) {
  static const std::regex step(R"(^\.(\w+)(\[\?\(@\.(\w+)==\"([^\"]*)\"\)\])?)");
  const json* node = &object;
  std::string rest = json_path;
  std::smatch m;
  while (!rest.empty()) {
    if (!std::regex_search(rest, m, step)) return nullptr;
    if (!node->is_object() || !node->contains(m[1].str())) return nullptr;
    node = &(*node)[m[1].str()];
    if (m[2].matched) {
      if (!node->is_array()) return nullptr;
      const json* found = nullptr;
      for (const auto& item : *node) {
        if (item.is_object() && item.value(m[3].str(), json()) == json(m[4].str())) {
          found = &item;
          break;
        }
      }
      if (!found) return nullptr;
      node = found;
    }
    rest = m.suffix();
  }
  return *node;
}

}  // namespace kafka_autoscaler::testing
