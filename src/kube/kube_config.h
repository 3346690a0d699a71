// Where the API client's ClientOptions come from: the in-cluster service account or a
// kubeconfig file. Pure functions of their arguments (an Env map that only main.cc fills from
// the real environment, and file paths that tests point elsewhere); thread-safe.
//
// Choice (OptionsFromEnv): KUBECONFIG when set (the first listed file that exists); else the
// in-cluster service account when KUBERNETES_SERVICE_HOST is set; else $HOME/.kube/config.
#pragma once

#include <map>
#include <string>

#include "common/result.h"
#include "kube/client.h"

namespace kafka_autoscaler::kube {

using Env = std::map<std::string, std::string>;

// Files of the in-cluster service account; tests point them at a temporary directory.
struct InClusterPaths {
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the token file
// (re-read by the client every minute), ca.crt and the namespace file (optional). Errors:
// kInvalidArgument naming the missing variable or unreadable file.
[[nodiscard]] Result<ClientOptions> InClusterOptions(const Env& env,
                                                     const InClusterPaths& paths = {});

// Kubeconfig at `path`: the current context (or `context` when not empty), its cluster
// (server, certificate-authority(-data), insecure-skip-tls-verify) and user (token, tokenFile,
// client-certificate(-data), client-key(-data)). Relative file paths are resolved against the
// kubeconfig's directory. Errors: kInvalidArgument naming the file and the missing entry.
[[nodiscard]] Result<ClientOptions> KubeconfigOptions(const std::string& path,
                                                      const std::string& context = "");

// Chooses as described in the header comment.
[[nodiscard]] Result<ClientOptions> OptionsFromEnv(const Env& env,
                                                   const InClusterPaths& paths = {});

}  // namespace kafka_autoscaler::kube
