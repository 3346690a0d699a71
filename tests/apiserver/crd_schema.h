// What the API server does with a CustomResourceDefinition's structural schema, for the test API
// server (which serves KafkaScalers) and the CRD's own tests: validation (the OpenAPI v3 subset
// CRDs use: type, required, properties with unknown-field refusal, items, enum, minimum/maximum,
// minLength/maxLength, minItems/maxItems), defaulting, and the printer columns' JSONPath subset
// (`.a.b`, `.a[?(@.k=="v")].b`). CEL rules (x-kubernetes-validations) are not evaluated.
// Pure functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kafka_autoscaler::testing {

// Problems of `value` against `schema` (one node of openAPIV3Schema), each naming a path
// ("spec.maxReplicas: above maximum 100000"). Empty when it conforms.
std::vector<std::string> CheckCrdSchema(const nlohmann::json& value, const nlohmann::json& schema,
                                        const std::string& path);

// Fills absent fields that have a `default`, at every level present in `value` (as the API
// server does before validation).
void ApplyCrdDefaults(nlohmann::json& value, const nlohmann::json& schema);

// The value a printer column's jsonPath selects in `object`; null when nothing matches.
nlohmann::json EvalPrinterColumn(const nlohmann::json& object, const std::string& json_path);

}  // namespace kafka_autoscaler::testing
