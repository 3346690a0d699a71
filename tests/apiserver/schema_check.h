// SchemaSet: checks JSON objects against the Kubernetes OpenAPI v3 schemas in
// tests/data/k8s-openapi-v1.35 (the per-group-version documents a real API server serves).
//
// Used by the test API server's tests (every object it answers with must have the real
// shape) and reusable for deploy manifests. A plain JSON-Schema check is not enough for
// Kubernetes schemas (they never say additionalProperties: false), so the walker also reports
// every field a schema's `properties` does not list. It follows $ref, allOf and oneOf, checks
// types (integer/number/string/boolean/object/array), `required`, `enum`, map values
// (additionalProperties) and array items; x-kubernetes-preserve-unknown-fields stops the
// unknown-field check below that point.
//
// A loaded SchemaSet is immutable and safe to share between threads.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace kafka_autoscaler::testing {

class SchemaSet {
 public:
  // Loads every *_openapi.json in `dir` (merging their components.schemas). Errors:
  // kInvalidArgument when the directory has none or a file is not JSON.
  [[nodiscard]] static Result<SchemaSet> LoadDir(const std::string& dir);

  // The schema name for an apiVersion ("apps/v1", "v1") and kind, from
  // x-kubernetes-group-version-kind; "" when unknown. Status maps to meta/v1 Status.
  std::string SchemaFor(const std::string& api_version, const std::string& kind) const;

  // Problems with `object`, found by its apiVersion and kind; each names a JSON path
  // ("spec.replicas: expected integer, got string"). Empty when the object conforms.
  std::vector<std::string> Validate(const nlohmann::json& object) const;

  // Problems with `value` against the schema named `schema_name`
  // ("io.k8s.api.apps.v1.Deployment").
  std::vector<std::string> ValidateAs(const nlohmann::json& value,
                                      const std::string& schema_name) const;

  // Every loaded schema name (sorted).
  std::vector<std::string> Names() const;

 private:
  void Walk(const nlohmann::json& value, const nlohmann::json& schema, const std::string& path,
            bool check_unknown, std::vector<std::string>& problems, int depth) const;
  const nlohmann::json* Resolve(const nlohmann::json& schema) const;

  std::map<std::string, nlohmann::json> schemas_;
  std::map<std::string, std::string> by_gvk_;  // "apps/v1/Deployment" -> schema name
};

}  // namespace kafka_autoscaler::testing
