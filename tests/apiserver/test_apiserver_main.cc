// test-apiserver: runs the test API server (tests/apiserver/test_apiserver.h) as a process, for
// end-to-end tests of the daemon binary and for poking at it with kubectl by hand.
//
// First stdout line: "URL [ca=CA_FILE] [kubeconfig=KUBECONFIG]"; then it serves until SIGINT or
// SIGTERM. Faults and objects are driven over HTTP under /_test/ (see test_apiserver.h).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "apiserver/test_apiserver.h"

int main(int argc, char** argv) {
  using kafka_autoscaler::testing::ApiServerOptions;
  using kafka_autoscaler::testing::TestApiServer;
  CLI::App app{"Kubernetes test API server"};
  ApiServerOptions options;
  std::vector<std::string> tokens;
  std::vector<std::string> deployments;
  std::string policy_file;
  std::string kubeconfig;
  std::string kube_namespace = "default";
  app.add_option("--host", options.host, "address to bind (default 127.0.0.1)");
  app.add_option("--port", options.port, "port; 0 picks a free one (default 0)");
  app.add_flag("--tls", options.tls, "serve HTTPS with a CA generated at start-up");
  app.add_option("--cert-dir", options.cert_dir, "where TLS files and the kubeconfig go");
  app.add_option("--token", tokens,
                 "TOKEN or TOKEN:verbs=resources[@names];... (repeatable); none: no auth");
  app.add_option("--policy", policy_file, "JSON/YAML {tokens:[{token,user,rules}]}");
  app.add_option("--deployment", deployments, "NAMESPACE/NAME:REPLICAS (repeatable)");
  app.add_flag("--aggregated-discovery", options.aggregated_discovery,
               "answer /api and /apis with apidiscovery.k8s.io/v2 when asked");
  app.add_option("--openapi-dir", options.openapi_dir, "serve /openapi/v3 from this directory");
  app.add_option("--kubeconfig", kubeconfig,
                 "write a kubeconfig here (default: CERT_DIR/kubeconfig with --tls)");
  app.add_option("--namespace", kube_namespace, "namespace of the kubeconfig's context");
  CLI11_PARSE(app, argc, argv);

  for (const auto& flag : tokens) {
    auto grant = kafka_autoscaler::testing::ParseTokenFlag(flag);
    if (!grant) {
      std::cerr << grant.error().message << "\n";
      return 2;
    }
    options.tokens.push_back(*grant);
  }
  if (!policy_file.empty()) {
    std::ifstream in(policy_file);
    std::stringstream ss;
    ss << in.rdbuf();
    auto grants = kafka_autoscaler::testing::ParsePolicy(ss.str());
    if (!in || !grants) {
      std::cerr << "--policy " << policy_file << ": "
                << (grants ? "cannot read" : grants.error().message) << "\n";
      return 2;
    }
    options.tokens.insert(options.tokens.end(), grants->begin(), grants->end());
  }
  // Block the stop signals before any thread starts, then wait for one.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string first_token = options.tokens.empty() ? "" : options.tokens.front().token;
  auto server = TestApiServer::Start(options);
  if (!server) {
    std::cerr << server.error().message << "\n";
    return 1;
  }
  for (const auto& spec : deployments) {
    auto slash = spec.find('/');
    auto colon = spec.rfind(':');
    if (slash == std::string::npos || colon == std::string::npos || colon < slash) {
      std::cerr << "--deployment " << spec << ": expected NAMESPACE/NAME:REPLICAS\n";
      return 2;
    }
    (*server)->AddDeployment(spec.substr(0, slash), spec.substr(slash + 1, colon - slash - 1),
                             std::stoi(spec.substr(colon + 1)));
  }
  if (kubeconfig.empty() && !(*server)->cert_dir().empty()) {
    kubeconfig = (*server)->cert_dir() + "/kubeconfig";
  }
  std::string line = (*server)->url();
  if (!(*server)->ca_file().empty()) line += " ca=" + (*server)->ca_file();
  if (!kubeconfig.empty()) {
    if (auto st = (*server)->WriteKubeconfig(kubeconfig, first_token, kube_namespace); !st) {
      std::cerr << st.error().message << "\n";
      return 1;
    }
    line += " kubeconfig=" + kubeconfig;
  }
  std::cout << line << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  return 0;
}
