#include "apiserver/schema_check.h"

#include <filesystem>
#include <fstream>
#include <set>

namespace kafka_autoscaler::testing {
namespace {

constexpr char kRefPrefix[] = "#/components/schemas/";

std::string TypeOf(const nlohmann::json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

bool TypeMatches(const std::string& want, const nlohmann::json& v) {
  const std::string got = TypeOf(v);
  if (want == got) return true;
  if (want == "number" && got == "integer") return true;
  return false;
}

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

}  // namespace

Result<SchemaSet> SchemaSet::LoadDir(const std::string& dir) {
  namespace fs = std::filesystem;
  SchemaSet set;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 13 || name.substr(name.size() - 13) != "_openapi.json") continue;
    std::ifstream in(entry.path());
    auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      return MakeError(ErrorCode::kInvalidArgument, "schemas: " + name + " is not JSON");
    }
    if (!doc.contains("components") || !doc["components"].contains("schemas")) continue;
    for (const auto& [schema_name, schema] : doc["components"]["schemas"].items()) {
      set.schemas_[schema_name] = schema;
      if (!schema.contains("x-kubernetes-group-version-kind")) continue;
      for (const auto& gvk : schema["x-kubernetes-group-version-kind"]) {
        const std::string group = gvk.value("group", "");
        const std::string api_version =
            group.empty() ? gvk.value("version", "") : group + "/" + gvk.value("version", "");
        const std::string key = api_version + "/" + gvk.value("kind", "");
        // Prefer the type's own schema over the shared meta types listed under many GVKs.
        if (!set.by_gvk_.count(key) || schema_name.rfind("io.k8s.apimachinery", 0) != 0) {
          set.by_gvk_[key] = schema_name;
        }
      }
    }
  }
  if (ec || set.schemas_.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "schemas: no *_openapi.json in " + dir);
  }
  return set;
}

std::string SchemaSet::SchemaFor(const std::string& api_version, const std::string& kind) const {
  if (kind == "Status") return "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
  auto it = by_gvk_.find(api_version + "/" + kind);
  return it == by_gvk_.end() ? "" : it->second;
}

std::vector<std::string> SchemaSet::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, schema] : schemas_) names.push_back(name);
  return names;
}

std::vector<std::string> SchemaSet::Validate(const nlohmann::json& object) const {
  if (!object.is_object()) return {"(root): expected object, got " + TypeOf(object)};
  const std::string api_version = object.value("apiVersion", "");
  const std::string kind = object.value("kind", "");
  const std::string name = SchemaFor(api_version, kind);
  if (name.empty())
    return {"(root): no schema for apiVersion '" + api_version + "' kind '" + kind + "'"};
  return ValidateAs(object, name);
}

std::vector<std::string> SchemaSet::ValidateAs(const nlohmann::json& value,
                                               const std::string& schema_name) const {
  auto it = schemas_.find(schema_name);
  if (it == schemas_.end()) return {"(root): unknown schema " + schema_name};
  std::vector<std::string> problems;
  Walk(value, it->second, "", /*check_unknown=*/true, problems, 0);
  return problems;
}

const nlohmann::json* SchemaSet::Resolve(const nlohmann::json& schema) const {
  if (!schema.contains("$ref")) return &schema;
  const std::string ref = schema["$ref"];
  if (ref.rfind(kRefPrefix, 0) != 0) return nullptr;
  auto it = schemas_.find(ref.substr(sizeof(kRefPrefix) - 1));
  return it == schemas_.end() ? nullptr : &it->second;
}

void SchemaSet::Walk(const nlohmann::json& value, const nlohmann::json& raw_schema,
                     const std::string& path, bool check_unknown,
                     std::vector<std::string>& problems, int depth) const {
  const std::string where = path.empty() ? "(root)" : path;
  if (depth > 64) {
    problems.push_back(where + ": nesting too deep");
    return;
  }
  const nlohmann::json* schema = Resolve(raw_schema);
  if (schema == nullptr) {
    problems.push_back(where + ": unresolvable $ref " + raw_schema["$ref"].dump());
    return;
  }
  if (schema->contains("allOf")) {
    for (const auto& part : (*schema)["allOf"]) {
      Walk(value, part, path, check_unknown, problems, depth + 1);
    }
  }
  if (schema->contains("oneOf")) {
    bool any = false;
    for (const auto& alt : (*schema)["oneOf"]) {
      std::vector<std::string> sub;
      Walk(value, alt, path, check_unknown, sub, depth + 1);
      if (sub.empty()) {
        any = true;
        break;
      }
    }
    if (!any) problems.push_back(where + ": matches none of oneOf (got " + TypeOf(value) + ")");
  }
  if (value.is_null()) return;  // optional pointers serialize as null or are omitted
  if (schema->contains("type")) {
    const std::string want = (*schema)["type"];
    if (!TypeMatches(want, value)) {
      problems.push_back(where + ": expected " + want + ", got " + TypeOf(value));
      return;
    }
  }
  if (schema->contains("enum") && std::find((*schema)["enum"].begin(), (*schema)["enum"].end(),
                                            value) == (*schema)["enum"].end()) {
    problems.push_back(where + ": " + value.dump() + " is not one of " + (*schema)["enum"].dump());
  }
  const bool preserve = schema->value("x-kubernetes-preserve-unknown-fields", false);
  if (value.is_object()) {
    const bool has_props = schema->contains("properties");
    if (schema->contains("required")) {
      for (const auto& req : (*schema)["required"]) {
        if (!value.contains(req.get<std::string>())) {
          problems.push_back(Join(path, req.get<std::string>()) + ": required field missing");
        }
      }
    }
    for (const auto& [key, child] : value.items()) {
      const std::string child_path = Join(path, key);
      if (has_props && (*schema)["properties"].contains(key)) {
        Walk(child, (*schema)["properties"][key], child_path, check_unknown && !preserve, problems,
             depth + 1);
      } else if (schema->contains("additionalProperties") &&
                 (*schema)["additionalProperties"].is_object()) {
        Walk(child, (*schema)["additionalProperties"], child_path, check_unknown && !preserve,
             problems, depth + 1);
      } else if (has_props && check_unknown && !preserve) {
        problems.push_back(child_path + ": unknown field");
      }
    }
  } else if (value.is_array() && schema->contains("items")) {
    for (size_t i = 0; i < value.size(); ++i) {
      Walk(value[i], (*schema)["items"], path + "[" + std::to_string(i) + "]", check_unknown,
           problems, depth + 1);
    }
  }
}

}  // namespace kafka_autoscaler::testing
