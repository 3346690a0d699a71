#include "kafka/properties.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "kafka/kafka_source.h"

namespace kafka_autoscaler::kafka {
namespace {

TEST(ParsePropertiesTest, ReadsKeyValueLinesCommentsAndBlanks) {
  auto props = ParseProperties(
      "# TLS and SASL\n"
      "security.protocol = SASL_SSL\n"
      "\n"
      "! also a comment\n"
      "  sasl.mechanisms=SCRAM-SHA-512  \r\n"
      "sasl.password=p=ss#word\n"
      "ssl.ca.location=/etc/ca.pem",
      "client.properties");
  ASSERT_TRUE(props) << props.error().ToString();
  ASSERT_EQ(props->entries.size(), 4u);
  EXPECT_EQ(props->entries[0].key, "security.protocol");
  EXPECT_EQ(props->entries[0].value, "SASL_SSL");
  EXPECT_EQ(props->entries[1].key, "sasl.mechanisms");
  EXPECT_EQ(props->entries[1].value, "SCRAM-SHA-512");
  EXPECT_EQ(props->entries[2].value, "p=ss#word");  // only the first '=' splits; no inline comments
  EXPECT_EQ(props->entries[3].value, "/etc/ca.pem");
}

TEST(ParsePropertiesTest, ListsEveryMalformedLineWithoutEchoingIt) {
  auto props = ParseProperties("ok=1\nsasl.password hunter2\n=novalue\nfine=2\n", "f.properties");
  ASSERT_FALSE(props);
  EXPECT_EQ(props.error().code, ErrorCode::kInvalidArgument);
  ASSERT_EQ(props.error().details.size(), 2u);
  EXPECT_EQ(props.error().details[0], "f.properties:2: expected key=value");
  EXPECT_EQ(props.error().details[1], "f.properties:3: empty property name before '='");
  EXPECT_EQ(props.error().ToString().find("hunter2"), std::string::npos);
}

TEST(SecretPropertyTest, RedactsSecretsOnly) {
  struct Case {
    const char* key;
    bool secret;
  };
  const Case cases[] = {
      {.key = "sasl.password", .secret = true},
      {.key = "ssl.key.password", .secret = true},
      {.key = "ssl.keystore.password", .secret = true},
      {.key = "sasl.oauthbearer.client.secret", .secret = true},
      {.key = "ssl.key.pem", .secret = true},
      {.key = "sasl.oauthbearer.config", .secret = true},
      {.key = "SASL.PASSWORD", .secret = true},
      {.key = "sasl.username", .secret = false},
      {.key = "security.protocol", .secret = false},
      {.key = "ssl.ca.location", .secret = false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key);
    EXPECT_EQ(IsSecretProperty(c.key), c.secret);
    EXPECT_EQ(PrintableValue(c.key, "v4lue") == "[redacted]", c.secret);
  }
  ClientProperties props{{{"sasl.username", "alice"}, {"sasl.password", "hunter2"}}};
  EXPECT_EQ(props.Describe(), "sasl.username=alice, sasl.password=[redacted]");
}

TEST(ValidatePropertiesTest, AcceptsKnownProperties) {
  ClientProperties props{{{"security.protocol", "plaintext"},
                          {"sasl.username", "alice"},
                          {"sasl.password", "hunter2"},
                          {"socket.timeout.ms", "30000"}}};
  EXPECT_TRUE(ValidateProperties(props));
}

TEST(ValidatePropertiesTest, RejectsBadNamesAndValuesWithLibrdkafkaText) {
  ClientProperties props{{{"no.such.property", "1"},
                          {"security.protocol", "carrier-pigeon"},
                          {"socket.timeout.ms", "abc"}}};
  auto status = ValidateProperties(props);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  ASSERT_EQ(status.error().details.size(), 3u);
  EXPECT_NE(status.error().message.find("No such configuration property"), std::string::npos)
      << status.error().message;
  EXPECT_NE(status.error().details[0].find("no.such.property"), std::string::npos);
  EXPECT_NE(status.error().details[1].find("security.protocol"), std::string::npos);
}

TEST(ValidatePropertiesTest, NeverEchoesASecretValue) {
  // An invalid value for a secret-looking key: librdkafka may quote it, we must not.
  ClientProperties props{{{"ssl.keystore.password.nope", "hunter2"}}};
  auto status = ValidateProperties(props);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().ToString().find("hunter2"), std::string::npos);
}

TEST(OptionsFromConfigTest, LoadsThePropertiesFileAndTheTickDeadline) {
  const std::string path = ::testing::TempDir() + "/ka_kafka_props_test.properties";
  {
    std::ofstream out(path);
    out << "# test\nsasl.username=bob\n";
  }
  config::Config cfg;
  cfg.kafka_bootstrap_servers = "b1:9092,b2:9092";
  cfg.kafka_topics = {"orders", "payments"};
  cfg.kafka_consumer_group = "workers";
  cfg.offset_reset = config::OffsetResetPolicy::kEarliest;
  cfg.kafka_config_file = path;
  auto o = OptionsFromConfig(cfg);
  ASSERT_TRUE(o) << o.error().ToString();
  EXPECT_EQ(o->bootstrap_servers, "b1:9092,b2:9092");
  EXPECT_EQ(o->topics, (std::vector<std::string>{"orders", "payments"}));
  EXPECT_EQ(o->group, "workers");
  EXPECT_EQ(o->offset_reset, config::OffsetResetPolicy::kEarliest);
  EXPECT_EQ(o->timeout, cfg.TickDeadline());
  ASSERT_EQ(o->properties.entries.size(), 1u);
  EXPECT_EQ(o->properties.entries[0].key, "sasl.username");
  std::remove(path.c_str());

  cfg.kafka_config_file = path + ".missing";
  auto missing = OptionsFromConfig(cfg);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(MakeKafkaMetricSourceTest, RejectsABadPropertyAtStartUp) {
  const std::string path = ::testing::TempDir() + "/ka_kafka_bad.properties";
  {
    std::ofstream out(path);
    out << "sasl.mechanism=PLAIN\nbogus.setting=1\n";
  }
  config::Config cfg;
  cfg.kafka_config_file = path;
  SystemClock clock;
  auto source = MakeKafkaMetricSource(cfg, clock, nullptr);
  std::remove(path.c_str());
  ASSERT_FALSE(source);
  EXPECT_EQ(source.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(source.error().message.find("bogus.setting"), std::string::npos)
      << source.error().message;
  EXPECT_NE(source.error().message.find("No such configuration property"), std::string::npos);
}

}  // namespace
}  // namespace kafka_autoscaler::kafka
