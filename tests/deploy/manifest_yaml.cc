#include "manifest_yaml.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <cctype>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace kafka_autoscaler::deploy_test {
namespace {

using nlohmann::json;

bool AllOf(const std::string& s, size_t from, bool (*pred)(char)) {
  if (from >= s.size()) return false;
  for (size_t i = from; i < s.size(); ++i) {
    if (!pred(s[i])) return false;
  }
  return true;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOctal(char c) { return c >= '0' && c <= '7'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsCoreFloat(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
    if (int_digits == 0 && frac_digits == 0) return false;
  } else if (int_digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    return AllOf(s, i, IsDigit);
  }
  return i == s.size();
}

// YAML 1.2 core schema, section 10.3.2: how a plain (unquoted) scalar resolves. (Hand-written:
// std::regex trips GCC 12's -Wmaybe-uninitialized under the sanitizers with -Werror.)
json ResolvePlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  try {
    const size_t sign = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (AllOf(s, sign, IsDigit)) return std::stoll(s);
    if (s.rfind("0o", 0) == 0 && AllOf(s, 2, IsOctal)) return std::stoll(s.substr(2), nullptr, 8);
    if (s.rfind("0x", 0) == 0 && AllOf(s, 2, IsHex)) return std::stoll(s.substr(2), nullptr, 16);
    if (IsCoreFloat(s)) return std::stod(s);
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
