#include "manifest_yaml.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace kafka_autoscaler::deploy_test {
namespace {

using nlohmann::json;

// YAML 1.2 core schema, section 10.3.2: how a plain (unquoted) scalar resolves.
json ResolvePlainScalar(const std::string& s) {
  static const std::regex kNull("^(null|Null|NULL|~|)$");
  static const std::regex kTrue("^(true|True|TRUE)$");
  static const std::regex kFalse("^(false|False|FALSE)$");
  static const std::regex kInt("^[-+]?[0-9]+$");
  static const std::regex kOct("^0o[0-7]+$");
  static const std::regex kHex("^0x[0-9a-fA-F]+$");
  static const std::regex kFloat("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
  if (std::regex_match(s, kNull)) return nullptr;
  if (std::regex_match(s, kTrue)) return true;
  if (std::regex_match(s, kFalse)) return false;
  try {
    if (std::regex_match(s, kInt)) return std::stoll(s);
    if (std::regex_match(s, kOct)) return std::stoll(s.substr(2), nullptr, 8);
    if (std::regex_match(s, kHex)) return std::stoll(s.substr(2), nullptr, 16);
    if (std::regex_match(s, kFloat)) return std::stod(s);
  } catch (const std::exception&) {
    return s;  // out of range: keep the text, the schema check will report the type
  }
  return s;
}

json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = ToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      // A quoted scalar carries the non-specific tag "!"; a plain one "?".
      if (node.Tag() == "!") return node.Scalar();
      return ResolvePlainScalar(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
  }
  return nullptr;
}

}  // namespace

Result<CommandResult> RunCommand(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return MakeError(ErrorCode::kInternal, "cannot run: " + command);
  CommandResult result;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

Result<std::vector<json>> ParseYamlDocuments(const std::string& text) {
  try {
    std::vector<json> documents;
    for (const auto& node : YAML::LoadAll(text)) {
      if (node.IsNull() || !node.IsDefined()) continue;
      documents.push_back(ToJson(node));
    }
    return documents;
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("yaml: ") + e.what());
  }
}

Result<std::vector<json>> RenderKustomization(const std::string& kubectl,
                                               const std::string& dir) {
  auto run = RunCommand("'" + kubectl + "' kustomize '" + dir + "'");
  if (!run) return MakeError(run.error());
  if (run->exit_code != 0) {
    return MakeError(ErrorCode::kInternal, kubectl + " kustomize " + dir + " exited " +
                                               std::to_string(run->exit_code) + ":\n" + run->output);
  }
  return ParseYamlDocuments(run->output);
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace kafka_autoscaler::deploy_test
