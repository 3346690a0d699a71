#include "kube/kube_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace kafka_autoscaler::kube {
namespace {

namespace fs = std::filesystem;

std::string EnvValue(const Env& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? "" : it->second;
}

// Base64 decoding for the *-data fields of a kubeconfig.
Result<std::string> Base64Decode(const std::string& in, const std::string& field) {
  std::string out;
  int val = 0;
  int bits = -8;
  for (unsigned char c : in) {
    int d;
    if (c >= 'A' && c <= 'Z')
      d = c - 'A';
    else if (c >= 'a' && c <= 'z')
      d = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      d = c - '0' + 52;
    else if (c == '+' || c == '-')
      d = 62;
    else if (c == '/' || c == '_')
      d = 63;
    else if (c == '=' || c == '\n' || c == '\r' || c == ' ')
      continue;
    else
      return MakeError(ErrorCode::kInvalidArgument, "kubeconfig: " + field + ": not base64");
    val = (val << 6) | d;
    bits += 6;
    if (bits >= 0) {
      out += static_cast<char>((val >> bits) & 0xFF);
      bits -= 8;
    }
  }
  return out;
}

std::string Resolve(const std::string& file, const fs::path& base) {
  if (file.empty()) return file;
  fs::path p(file);
  return p.is_absolute() ? file : (base / p).string();
}

YAML::Node FindNamed(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item;
  }
  return YAML::Node();
}

std::string Str(const YAML::Node& node, const char* key) {
  if (!node || !node[key] || node[key].IsNull()) return "";
  return node[key].as<std::string>();
}

}  // namespace

Result<ClientOptions> InClusterOptions(const Env& env, const InClusterPaths& paths) {
  const std::string host = EnvValue(env, "KUBERNETES_SERVICE_HOST");
  const std::string port = EnvValue(env, "KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubernetes: in-cluster config needs KUBERNETES_SERVICE_HOST and "
                     "KUBERNETES_SERVICE_PORT");
  }
  ClientOptions options;
  const bool ipv6 = host.find(':') != std::string::npos;
  options.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  if (!fs::exists(paths.token_file)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubernetes: in-cluster token file " + paths.token_file + " does not exist");
  }
  options.token_file = paths.token_file;
  if (!fs::exists(paths.ca_file)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubernetes: in-cluster CA file " + paths.ca_file + " does not exist");
  }
  options.ca_file = paths.ca_file;
  std::ifstream ns(paths.namespace_file);
  if (ns) std::getline(ns, options.default_namespace);
  return options;
}

Result<ClientOptions> KubeconfigOptions(const std::string& path, const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubeconfig " + path + ": cannot load: " + e.what());
  }
  const fs::path base = fs::path(path).parent_path();
  const std::string where = "kubeconfig " + path + ": ";
  try {
    std::string context_name = context.empty() ? Str(root, "current-context") : context;
    if (context_name.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, where + "no current-context");
    }
    YAML::Node ctx = FindNamed(root["contexts"], context_name)["context"];
    if (!ctx) {
      return MakeError(ErrorCode::kInvalidArgument,
                       where + "context '" + context_name + "' not found");
    }
    const std::string cluster_name = Str(ctx, "cluster");
    YAML::Node cluster = FindNamed(root["clusters"], cluster_name)["cluster"];
    if (!cluster) {
      return MakeError(ErrorCode::kInvalidArgument,
                       where + "cluster '" + cluster_name + "' not found");
    }
    ClientOptions options;
    options.default_namespace = Str(ctx, "namespace");
    options.server = Str(cluster, "server");
    if (options.server.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       where + "cluster '" + cluster_name + "' has no server");
    }
    if (auto data = Str(cluster, "certificate-authority-data"); !data.empty()) {
      auto pem = Base64Decode(data, "certificate-authority-data");
      if (!pem) return MakeError(pem.error().WithContext(path));
      options.ca_pem = *pem;
    }
    options.ca_file = Resolve(Str(cluster, "certificate-authority"), base);
    options.insecure_skip_tls_verify =
        cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
    const std::string user_name = Str(ctx, "user");
    YAML::Node user = FindNamed(root["users"], user_name)["user"];
    if (!user_name.empty() && !user) {
      return MakeError(ErrorCode::kInvalidArgument, where + "user '" + user_name + "' not found");
    }
    if (user) {
      options.token = Str(user, "token");
      options.token_file = Resolve(Str(user, "tokenFile"), base);
      if (auto data = Str(user, "client-certificate-data"); !data.empty()) {
        auto pem = Base64Decode(data, "client-certificate-data");
        if (!pem) return MakeError(pem.error().WithContext(path));
        options.client_cert_pem = *pem;
      }
      if (auto data = Str(user, "client-key-data"); !data.empty()) {
        auto pem = Base64Decode(data, "client-key-data");
        if (!pem) return MakeError(pem.error().WithContext(path));
        options.client_key_pem = *pem;
      }
      options.client_cert_file = Resolve(Str(user, "client-certificate"), base);
      options.client_key_file = Resolve(Str(user, "client-key"), base);
      if (user["exec"] || user["auth-provider"]) {
        return MakeError(ErrorCode::kInvalidArgument,
                         where + "user '" + user_name +
                             "' uses exec/auth-provider credentials, which are not supported; "
                             "use a token, tokenFile or client certificate");
      }
    }
    return options;
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, where + e.what());
  }
}

Result<ClientOptions> OptionsFromEnv(const Env& env, const InClusterPaths& paths) {
  if (auto list = EnvValue(env, "KUBECONFIG"); !list.empty()) {
    std::stringstream ss(list);
    std::string item;
    std::vector<std::string> tried;
    while (std::getline(ss, item, ':')) {
      if (item.empty()) continue;
      if (fs::exists(item)) return KubeconfigOptions(item);
      tried.push_back(item);
    }
    std::string names;
    for (const auto& t : tried) names += (names.empty() ? "" : ", ") + t;
    return MakeError(ErrorCode::kInvalidArgument,
                     "KUBECONFIG=" + list + ": no such file (" + names + ")");
  }
  if (!EnvValue(env, "KUBERNETES_SERVICE_HOST").empty()) return InClusterOptions(env, paths);
  const std::string home = EnvValue(env, "HOME");
  const std::string path = (home.empty() ? std::string(".") : home) + "/.kube/config";
  if (!fs::exists(path)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubernetes: no credentials: not in a cluster (KUBERNETES_SERVICE_HOST "
                     "unset), KUBECONFIG unset and " +
                         path + " does not exist");
  }
  return KubeconfigOptions(path);
}

}  // namespace kafka_autoscaler::kube
