// kube::ConfigMapStore against the test API server's ConfigMaps (LEARNED_STATE_CONFIGMAP).
#include "kube/config_map_store.h"

#include <gtest/gtest.h>

#include "kube/server_fixture.h"

namespace kafka_autoscaler::testing {
namespace {

using ConfigMapStoreTest = ServerFixture;

TEST_F(ConfigMapStoreTest, CreatesReadsAndUpdatesItsKeyOnly) {
  kube::ConfigMapStore store(*client_, "prod", "web-learned", "wait-policy.json");
  auto absent = store.Load();
  ASSERT_TRUE(absent) << absent.error().ToString();
  EXPECT_FALSE(*absent);

  ASSERT_TRUE(store.Save(R"({"v":1})"));
  auto cm = server_->ConfigMap("prod", "web-learned");
  ASSERT_TRUE(cm);
  EXPECT_EQ((*cm)["data"]["wait-policy.json"], R"({"v":1})");
  EXPECT_EQ((*cm)["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kafka-autoscaler");

  // Someone adds a key and a label: the next save keeps them (it conflicts, reads, retries).
  nlohmann::json edited = *cm;
  edited["data"]["note"] = "kept";
  edited["metadata"]["labels"]["team"] = "shop";
  server_->PutConfigMap(edited);
  ASSERT_TRUE(store.Save(R"({"v":2})"));
  cm = server_->ConfigMap("prod", "web-learned");
  EXPECT_EQ((*cm)["data"]["wait-policy.json"], R"({"v":2})");
  EXPECT_EQ((*cm)["data"]["note"], "kept");
  EXPECT_EQ((*cm)["metadata"]["labels"]["team"], "shop");

  // A second store (the next leader) reads what the first wrote.
  kube::ConfigMapStore next(*client_, "prod", "web-learned", "wait-policy.json");
  auto read = next.Load();
  ASSERT_TRUE(read && *read);
  EXPECT_EQ(**read, R"({"v":2})");
  EXPECT_EQ(next.Describe(), "configmap prod/web-learned");
}

TEST_F(ConfigMapStoreTest, ADeletedConfigMapIsCreatedAgain) {
  kube::ConfigMapStore store(*client_, "prod", "web-learned", "wait-policy.json");
  ASSERT_TRUE(store.Save("a"));
  auto deleted = client_->Call("DELETE", "/api/v1/namespaces/prod/configmaps/web-learned",
                               {"delete", "configmaps", "prod", "web-learned"});
  ASSERT_TRUE(deleted) << deleted.error().ToString();
  ASSERT_TRUE(store.Save("b"));
  EXPECT_EQ((*server_->ConfigMap("prod", "web-learned"))["data"]["wait-policy.json"], "b");
}

TEST_F(ConfigMapStoreTest, ErrorsAreReturnedNotThrown) {
  // A value above the API server's 1 MiB: refused (422), said, and nothing changes.
  kube::ConfigMapStore store(*client_, "prod", "web-learned", "wait-policy.json");
  ASSERT_TRUE(store.Save("small"));
  auto big = store.Save(std::string((1 << 20) + 1, 'x'));
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().ToString().find("1048576"), std::string::npos) << big.error().ToString();
  EXPECT_EQ((*server_->ConfigMap("prod", "web-learned"))["data"]["wait-policy.json"], "small");
  // A key that is not a string: a protocol error, not a crash.
  nlohmann::json odd = *server_->ConfigMap("prod", "web-learned");
  odd["data"] = {{"other", "x"}};
  server_->PutConfigMap(odd);
  auto missing = store.Load();
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  // Without permission: the API server's 403 comes back as kPermissionDenied.
  auto stranger = NewClient({.token = "nobody"});
  kube::ConfigMapStore denied(*stranger, "prod", "web-learned", "wait-policy.json");
  auto r = denied.Load();
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().code == ErrorCode::kUnauthenticated ||
              r.error().code == ErrorCode::kPermissionDenied)
      << r.error().ToString();
}

}  // namespace
}  // namespace kafka_autoscaler::testing
