// Where client options come from: kubeconfig files, the in-cluster service account, and the
// choice between them from an Env map.
#include "kube/kube_config.h"

#include <gtest/gtest.h>

#include "kube/server_fixture.h"

namespace kafka_autoscaler::testing {
namespace {

constexpr char kKubeconfig[] = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
- name: prod-cluster
  cluster:
    server: https://prod.example:443
    certificate-authority: certs/ca.crt
    insecure-skip-tls-verify: true
users:
- name: dev-user
  user:
    token: dev-token
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
- name: prod-user
  user:
    tokenFile: /var/token
    client-certificate: certs/client.crt
    client-key: /abs/client.key
- name: exec-user
  user:
    exec:
      command: gcloud
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
- name: broken
  context: {cluster: missing, user: dev-user}
- name: exec
  context: {cluster: dev-cluster, user: exec-user}
)";

TEST(KubeconfigOptions, ReadsTheContextClusterAndUser) {
  TempDir dir;
  const std::string path = dir.Write("config", kKubeconfig);
  struct Case {
    const char* name;
    std::string context;
    kube::ClientOptions want;
  };
  const Case cases[] = {
      {.name = "current context, inline data",
       .context = "",
       .want = {.server = "https://dev.example:6443",
                .ca_pem = "-----BEGIN CERTIFICATE-----\n",
                .client_cert_pem = "cert",
                .client_key_pem = "key",
                .token = "dev-token",
                .default_namespace = "team-a"}},
      {.name = "named context, files resolved against the kubeconfig's directory",
       .context = "prod",
       .want = {.server = "https://prod.example:443",
                .ca_file = dir.path() + "/certs/ca.crt",
                .client_cert_file = dir.path() + "/certs/client.crt",
                .client_key_file = "/abs/client.key",
                .token_file = "/var/token",
                .insecure_skip_tls_verify = true}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = kube::KubeconfigOptions(path, c.context);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(got->server, c.want.server);
    EXPECT_EQ(got->ca_pem, c.want.ca_pem);
    EXPECT_EQ(got->ca_file, c.want.ca_file);
    EXPECT_EQ(got->client_cert_pem, c.want.client_cert_pem);
    EXPECT_EQ(got->client_key_pem, c.want.client_key_pem);
    EXPECT_EQ(got->client_cert_file, c.want.client_cert_file);
    EXPECT_EQ(got->client_key_file, c.want.client_key_file);
    EXPECT_EQ(got->token, c.want.token);
    EXPECT_EQ(got->token_file, c.want.token_file);
    EXPECT_EQ(got->insecure_skip_tls_verify, c.want.insecure_skip_tls_verify);
    EXPECT_EQ(got->default_namespace, c.want.default_namespace);
  }
}

TEST(KubeconfigOptions, ErrorsNameTheFileAndTheMissingEntry) {
  TempDir dir;
  const std::string path = dir.Write("config", kKubeconfig);
  struct Case {
    const char* name;
    std::string path;
    std::string context;
    std::string expect;
  };
  const Case cases[] = {
      {.name = "no file", .path = dir.path() + "/nope", .expect = "cannot load"},
      {.name = "unknown context",
       .path = path,
       .context = "qa",
       .expect = "context 'qa' not found"},
      {.name = "missing cluster",
       .path = path,
       .context = "broken",
       .expect = "cluster 'missing' not found"},
      {.name = "exec credentials",
       .path = path,
       .context = "exec",
       .expect = "exec/auth-provider credentials, which are not supported"},
      {.name = "no current context",
       .path = dir.Write("empty", "apiVersion: v1\n"),
       .expect = "no current-context"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = kube::KubeconfigOptions(c.path, c.context);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(got.error().message.find(c.expect), std::string::npos) << got.error().message;
    EXPECT_NE(got.error().message.find(c.path), std::string::npos) << got.error().message;
  }
}

TEST(InClusterOptions, UsesTheServiceAccountFiles) {
  TempDir dir;
  kube::InClusterPaths paths{.token_file = dir.Write("token", "sa-token"),
                             .ca_file = dir.Write("ca.crt", "pem"),
                             .namespace_file = dir.Write("namespace", "team-b")};
  auto got = kube::InClusterOptions(
      {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}, paths);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->server, "https://10.0.0.1:443");
  EXPECT_EQ(got->token_file, paths.token_file);
  EXPECT_EQ(got->ca_file, paths.ca_file);
  EXPECT_EQ(got->default_namespace, "team-b");
  EXPECT_EQ(got->token_refresh, std::chrono::seconds(60));
  auto v6 = kube::InClusterOptions(
      {{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"KUBERNETES_SERVICE_PORT", "443"}}, paths);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->server, "https://[fd00::1]:443");
  auto no_port = kube::InClusterOptions({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}, paths);
  ASSERT_FALSE(no_port);
  EXPECT_NE(no_port.error().message.find("KUBERNETES_SERVICE_PORT"), std::string::npos);
  paths.token_file = dir.path() + "/missing";
  auto no_token = kube::InClusterOptions(
      {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}, paths);
  ASSERT_FALSE(no_token);
  EXPECT_NE(no_token.error().message.find(paths.token_file), std::string::npos);
}

TEST(OptionsFromEnv, PrefersKubeconfigThenInClusterThenHome) {
  TempDir dir;
  const std::string kubeconfig = dir.Write("config", kKubeconfig);
  std::filesystem::create_directories(dir.path() + "/home/.kube");
  dir.Write("home/.kube/config", kKubeconfig);
  kube::InClusterPaths paths{.token_file = dir.Write("token", "t"),
                             .ca_file = dir.Write("ca.crt", "pem"),
                             .namespace_file = dir.path() + "/none"};
  const kube::Env in_cluster = {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"},
                                {"KUBERNETES_SERVICE_PORT", "443"}};
  struct Case {
    const char* name;
    kube::Env env;
    std::string server;  // "" = error expected
  };
  kube::Env both = in_cluster;
  both["KUBECONFIG"] = dir.path() + "/missing:" + kubeconfig;
  kube::Env home = {{"HOME", dir.path() + "/home"}};
  const Case cases[] = {
      {.name = "KUBECONFIG wins, first existing file",
       .env = both,
       .server = "https://dev.example:6443"},
      {.name = "in-cluster", .env = in_cluster, .server = "https://10.0.0.1:443"},
      {.name = "home kubeconfig", .env = home, .server = "https://dev.example:6443"},
      {.name = "nothing", .env = {{"HOME", dir.path() + "/nowhere"}}, .server = ""},
      {.name = "KUBECONFIG names no existing file",
       .env = {{"KUBECONFIG", dir.path() + "/missing"}},
       .server = ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = kube::OptionsFromEnv(c.env, paths);
    if (c.server.empty()) {
      ASSERT_FALSE(got);
      EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument);
    } else {
      ASSERT_TRUE(got) << got.error().message;
      EXPECT_EQ(got->server, c.server);
    }
  }
}

}  // namespace
}  // namespace kafka_autoscaler::testing
