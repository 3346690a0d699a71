// KAFKA_CLUSTERS_FILE: named clusters for many-targets mode (kafka/clusters.h).
#include "kafka/clusters.h"

#include <gtest/gtest.h>

namespace kafka_autoscaler::kafka {
namespace {

const ClusterOptions kBase{.name = "default",
                           .bootstrap_servers = "default:9092",
                           .timeout = std::chrono::milliseconds(7000)};

TEST(ClustersTest, ReadsNamedClustersWithTheirProperties) {
  auto clusters = ParseClusters(R"(
clusters:
  - name: analytics
    bootstrapServers: "a-0:9092,a-1:9092"
    properties:
      security.protocol: SASL_SSL
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: autoscaler
      sasl.password: s3cret
  - name: edge-1
    bootstrapServers: edge:9092
)",
                                "clusters.yaml", kBase);
  ASSERT_TRUE(clusters) << clusters.error().ToString();
  ASSERT_EQ(clusters->size(), 2u);
  EXPECT_EQ((*clusters)[0].name, "analytics");
  EXPECT_EQ((*clusters)[0].bootstrap_servers, "a-0:9092,a-1:9092");
  EXPECT_EQ((*clusters)[0].properties.entries.size(), 4u);
  EXPECT_EQ((*clusters)[0].timeout, std::chrono::milliseconds(7000)) << "from the base";
  EXPECT_EQ((*clusters)[1].name, "edge-1");
  EXPECT_TRUE((*clusters)[1].properties.entries.empty()) << "never the default's properties";
}

TEST(ClustersTest, ReportsEveryProblemWithItsFieldAndNeverAValue) {
  auto clusters = ParseClusters(R"(
clusters:
  - name: default
    bootstrapServers: x:9092
  - name: Analytics
    bootstrapServers: y:9092
  - name: a
    bootstrapServer: typo:9092
  - name: b
    bootstrapServers: b:9092
  - name: b
    bootstrapServers: b2:9092
    properties:
      sasl.password: hunter2
      no.such.property: hunter3
)",
                                "clusters.yaml", kBase);
  ASSERT_FALSE(clusters);
  const std::string text = clusters.error().ToString();
  EXPECT_EQ(clusters.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(text.find("clusters[0].name: \"default\" is reserved"), std::string::npos) << text;
  EXPECT_NE(text.find("clusters[1].name: must be a DNS label"), std::string::npos) << text;
  EXPECT_NE(text.find("clusters[2]: unknown field \"bootstrapServer\""), std::string::npos) << text;
  EXPECT_NE(text.find("clusters[2].bootstrapServers: required"), std::string::npos) << text;
  EXPECT_NE(text.find("clusters[4].name: \"b\" is defined twice"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter"), std::string::npos) << "property values are never echoed: " << text;
}

TEST(ClustersTest, RefusesAPropertyLibrdkafkaRejects) {
  auto clusters = ParseClusters(
      "clusters:\n  - name: a\n    bootstrapServers: a:9092\n    properties:\n"
      "      no.such.property: \"1\"\n",
      "clusters.yaml", kBase);
  ASSERT_FALSE(clusters);
  EXPECT_NE(clusters.error().ToString().find("clusters[0].properties:"), std::string::npos)
      << clusters.error().ToString();
}

TEST(ClustersTest, RefusesAFileOfAnotherShape) {
  for (const char* text : {"", "clusters: 3", "- name: a", "clusters: [[", "clusters:\n  - 5\n"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(ParseClusters(text, "clusters.yaml", kBase));
  }
  EXPECT_EQ(LoadClustersFile("/nonexistent/clusters.yaml", kBase).error().code,
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace kafka_autoscaler::kafka
