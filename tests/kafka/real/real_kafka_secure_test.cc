// Security against real Apache Kafka 3.9 (one combined KRaft node shared by every test of this
// binary; 3.9 because librdkafka 2.0.2's SCRAM fails against 4.x, see real_kafka.h): a SASL_SSL
// listener with SCRAM-SHA-512 and a certificate from a test CA, the StandardAuthorizer with ACLs.
// The daemon is configured for Kafka only through KAFKA_CONFIG_FILE (plus the bootstrap servers):
//   (a) exactly the README's minimal ACLs (Describe on topic and group) suffice;
//   (b) a missing ACL (removed mid-run) is kafka_permission_denied naming the resource;
//   (c) a wrong password is kafka_unauthenticated; (d) a server certificate from another CA is
//   refused; (e) the password never appears in the daemon's output.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "faults/harness.h"
#include "real_kafka.h"
#include "test_macros.h"

namespace kafka_autoscaler::kafka::testing {
namespace {

using kafka_autoscaler::testing::Eventually;
using kafka_autoscaler::testing::Harness;
using kafka_autoscaler::testing::HarnessOptions;
using std::chrono::seconds;

RealKafka* kafka = nullptr;  // the binary's Kafka (SecureEnvironment)

constexpr char kScalerUser[] = "scaler";
constexpr char kScalerPassword[] = "scaler-Pw-0d1f9e";

class SecureEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto k = RealKafka::Start(
        {.name = "secure",
         .version = kKafkaScramVersion,
         .brokers = 1,
         .secure = true,
         .scram_users = {{"admin", "admin-secret"}, {kScalerUser, kScalerPassword}}});
    ASSERT_TRUE(k) << k.error().message;
    owned_ = std::move(*k);
    kafka = owned_.get();
    std::cout << "real kafka " << kKafkaScramVersion << ": one combined KRaft node, SASL_SSL, in "
              << kafka->startup_time().count() << " ms\n";
  }
  void TearDown() override {
    kafka = nullptr;
    owned_.reset();
  }

 private:
  std::unique_ptr<RealKafka> owned_;
};
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new SecureEnvironment);

constexpr char kSecureTopic[] = "secure-orders";
constexpr char kSecureGroup[] = "secure-workers";

// The ACLs the README lists as the daemon's minimum: Describe on the topic and on the group.
std::vector<Acl> MinimalAcls(const std::string& topic, const std::string& group) {
  const std::string who = std::string("User:") + kScalerUser;
  return {{RD_KAFKA_RESOURCE_TOPIC, topic, who, RD_KAFKA_ACL_OPERATION_DESCRIBE},
          {RD_KAFKA_RESOURCE_GROUP, group, who, RD_KAFKA_ACL_OPERATION_DESCRIBE}};
}

class RealKafkaSecurity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_OK(kafka->client().CreateTopic(kSecureTopic, 6, 1));
    ASSERT_OK(kafka->client().ProduceEach(kSecureTopic, 6, 5));  // 30 records: 3 replicas
  }
  // A harness on the SASL_SSL listener with `properties` as KAFKA_CONFIG_FILE.
  void Boot(const std::string& properties, std::map<std::string, std::string> env = {}) {
    h_ = std::make_unique<Harness>(
        std::string("real-") + ::testing::UnitTest::GetInstance()->current_test_info()->name(),
        HarnessOptions{.partitions = 6,
                       .bootstrap = kafka->secure_bootstrap(),
                       .client = &kafka->client(),
                       .topic = kSecureTopic,
                       .group = kSecureGroup});
    ASSERT_TRUE(h_->ok()) << h_->error();
    const auto file = h_->dir() / "kafka.properties";
    std::ofstream(file) << properties;
    env["KAFKA_CONFIG_FILE"] = file.string();
    daemon_ = h_->Start(env);
  }
  static std::string Properties(const std::string& password, const std::string& ca) {
    return "security.protocol=SASL_SSL\nsasl.mechanisms=SCRAM-SHA-512\nsasl.username=" +
           std::string(kScalerUser) + "\nsasl.password=" + password + "\nssl.ca.location=" + ca +
           "\n";
  }
  void TearDown() override {
    if (!daemon_) return;
    daemon_->Signal(SIGTERM);
    EXPECT_EQ(daemon_->Wait(seconds(10)), 0);
    // (e) The password never reaches the daemon's output, whatever happened.
    std::string all = daemon_->Stderr();
    for (const auto& l : daemon_->Lines()) all += l + "\n";
    EXPECT_EQ(all.find(kScalerPassword), std::string::npos) << "password logged";
    EXPECT_EQ(all.find("wrong-Pw-77"), std::string::npos) << "password logged";
  }
  bool FailedObservationNames(const std::string& kind, const std::string& resource) {
    for (const auto& j :
         Harness::LogLines(*daemon_, "kafka observation failed; holding replicas")) {
      if (j.value("error_kind", "") == kind &&
          j.value("error", "").find(resource) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  std::unique_ptr<Harness> h_;
  std::unique_ptr<kafka_autoscaler::testing::Process> daemon_;
};

// (a) exactly Describe on topic and group is enough; (b) removing either one mid-run gives
// kafka_permission_denied naming the resource, no scale, and recovery when it is back (the
// fault matrix's checks: RunFaultCase).
TEST_F(RealKafkaSecurity, MinimalAclsSufficeAndEachMissingAclIsNamed) {
  const auto acls = MinimalAcls(kSecureTopic, kSecureGroup);
  ASSERT_OK(kafka->client().CreateAcls(acls));
  Boot(Properties(kScalerPassword, kafka->ca_file()));
  ASSERT_TRUE(h_->WaitSteady(3, seconds(90)))
      << "replicas " << h_->Replicas() << " " << h_->Status().dump() << "\n"
      << daemon_->Stderr();
  EXPECT_LE(h_->ErrorCount("kafka_permission_denied"), 0);

  for (const auto& acl : acls) {
    SCOPED_TRACE(acl.name);
    kafka_autoscaler::testing::RunFaultCase(
        *h_, *daemon_, 3,
        {.kind = "kafka_permission_denied",
         .inject = [&] { ASSERT_OK(kafka->client().DeleteAcls({acl})); },
         .clear = [&] { ASSERT_OK(kafka->client().CreateAcls({acl})); },
         .detect_within = seconds(60)});
    EXPECT_TRUE(FailedObservationNames("kafka_permission_denied", acl.name))
        << "no permission error naming " << acl.name;
  }
}

// (c) a wrong password is kafka_unauthenticated; nothing scales.
TEST_F(RealKafkaSecurity, WrongPasswordIsUnauthenticated) {
  ASSERT_OK(kafka->client().CreateAcls(MinimalAcls(kSecureTopic, kSecureGroup)));
  Boot(Properties("wrong-Pw-77", kafka->ca_file()), {{"LOG_LEVEL", "debug"}});
  ASSERT_TRUE(Eventually([&] { return h_->ErrorCount("kafka_unauthenticated") > 0; }, seconds(90)))
      << h_->Status().dump() << "\n"
      << daemon_->Stderr();
  EXPECT_EQ(h_->Patches(), 0);
  EXPECT_EQ(h_->Replicas(), 1);
  EXPECT_NE(h_->ReadyStatus(), 200);
}

// (d) a server certificate from another CA is refused: no observation, nothing scales.
TEST_F(RealKafkaSecurity, ServerCertificateFromWrongCaIsRefused) {
  ASSERT_OK(kafka->client().CreateAcls(MinimalAcls(kSecureTopic, kSecureGroup)));
  Boot(Properties(kScalerPassword, kafka->wrong_ca_file()));
  std::string kind;
  ASSERT_TRUE(Eventually(
      [&] {
        for (const auto& j :
             Harness::LogLines(*daemon_, "kafka observation failed; holding replicas")) {
          kind = j.value("error_kind", "");
          std::cout << "wrong CA: " << j.dump() << "\n";
          return true;
        }
        return false;
      },
      seconds(90)))
      << daemon_->Stderr();
  std::this_thread::sleep_for(seconds(3));
  EXPECT_EQ(h_->Patches(), 0);
  EXPECT_EQ(h_->Replicas(), 1);
  EXPECT_NE(h_->ReadyStatus(), 200);
  EXPECT_LE(h_->ErrorCount("kafka_permission_denied"), 0) << kind;
  // The operator is told why: the certificate, not just "transport failure".
  const auto status = h_->Status();
  ASSERT_TRUE(status.is_object());
  const std::string error = status["kafka"].value("error", "");
  EXPECT_NE(error.find("certificate verify failed"), std::string::npos) << error;
}

}  // namespace
}  // namespace kafka_autoscaler::kafka::testing
