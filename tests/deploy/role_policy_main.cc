// deploy-role-policy: prints the test API server's policy (its --policy file) for the Role that
// deploy/manifest.yaml grants the autoscaler's ServiceAccount.
//
//   kubectl kustomize deploy/ | deploy-role-policy --token=TOKEN > policy.json
//   test-apiserver --policy policy.json ...
//
// Reads the rendered manifest from --manifest=FILE or standard input. Exit 0 and the JSON on
// stdout; exit 2 with the reason on stderr.
#include <iostream>
#include <iterator>
#include <string>

#include "manifest_yaml.h"
#include "role_policy.h"

namespace dt = kafka_autoscaler::deploy_test;

int main(int argc, char** argv) {
  std::string token;
  std::string manifest;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--token=", 0) == 0) {
      token = arg.substr(8);
    } else if (arg.rfind("--manifest=", 0) == 0) {
      manifest = arg.substr(11);
    } else {
      std::cerr << "usage: deploy-role-policy --token=TOKEN [--manifest=RENDERED.yaml]\n";
      return 2;
    }
  }
  if (token.empty()) {
    std::cerr << "deploy-role-policy: --token=TOKEN is required\n";
    return 2;
  }
  std::string text;
  if (manifest.empty()) {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto read = dt::ReadFile(manifest);
    if (!read) {
      std::cerr << "deploy-role-policy: " << read.error().ToString() << "\n";
      return 2;
    }
    text = *read;
  }
  auto docs = dt::ParseYamlDocuments(text);
  if (!docs) {
    std::cerr << "deploy-role-policy: " << docs.error().ToString() << "\n";
    return 2;
  }
  auto policy = dt::PolicyFromManifest(*docs, token);
  if (!policy) {
    std::cerr << "deploy-role-policy: " << policy.error().ToString() << "\n";
    return 2;
  }
  std::cout << policy->dump(2) << "\n";
  return 0;
}
