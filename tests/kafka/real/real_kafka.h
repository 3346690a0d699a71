// RealKafka: Apache Kafka itself (the pinned jars of tests/kafka/real/pom.xml, fetched once by
// scripts/setup.sh) started as JVM processes on free loopback ports, for the `real_kafka` tests
// and scripts/real-kafka.sh. Two shapes: one combined KRaft node (broker + controller), or
// `brokers` brokers plus one controller. Every broker has a PLAINTEXT listener for the test's own
// clients; with `secure`, also a SASL_SSL listener (SCRAM-SHA-512, a certificate from a test CA
// made with the openssl CLI) and the StandardAuthorizer with ACLs. On PLAINTEXT the test client
// is User:ANONYMOUS, a super user, so fixtures never need credentials.
//
// Start() formats every node's data directory (kafka.tools.StorageTool, one shared cluster id)
// and waits until every node logged "Kafka Server started" (a broker logs it once unfenced).
// The JVMs are sized for a 2-core machine (256 MiB heap, serial GC, C1 only, one network
// thread). Teardown: the destructor SIGKILLs every JVM and removes the data directories; the
// JVMs also die with the test process (setpriv --pdeathsig), so a crashed test leaves none.
//
// Thread-safety: one test thread drives a RealKafka.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "e2e/process.h"
#include "test_client.h"

namespace kafka_autoscaler::kafka::testing {

// The Kafka versions the build knows (one pom each; scripts/setup.sh fetches both).
inline constexpr char kKafkaVersion[] = KA_KAFKA_VERSION;             // pom.xml: the default
inline constexpr char kKafkaScramVersion[] = KA_KAFKA_SCRAM_VERSION;  // pom-3.9.1.xml

struct RealKafkaOptions {
  std::string name = "kafka";  // part of the data directory's name
  // Which Kafka. librdkafka 2.0.2 cannot authenticate with SCRAM to Kafka 4.x (it repeats the
  // client nonce in its final message; 4.x checks it strictly, librdkafka fixed it in 2.6.1,
  // confluentinc/librdkafka#4895), so SCRAM tests that must pass use kKafkaScramVersion.
  std::string version = kKafkaVersion;
  // 1: one combined broker+controller node (id 1). N > 1: brokers 1..N and controller 100.
  int brokers = 1;
  // A SASL_SSL listener (SCRAM-SHA-512 over TLS) and the StandardAuthorizer.
  bool secure = false;
  // SCRAM-SHA-512 users created at format time (name, password; no commas in passwords).
  std::vector<std::pair<std::string, std::string>> scram_users;
};

class RealKafka {
 public:
  // The folder of `version`'s jars: <cache>/kafka-<version>/lib, where <cache> is
  // $KA_KAFKA_CACHE or the build's default (scripts/real-kafka.sh lib prints it).
  static std::string LibDir(const std::string& version = kKafkaVersion);
  // Formats and starts the nodes, waits until all are ready.
  [[nodiscard]] static Result<std::unique_ptr<RealKafka>> Start(RealKafkaOptions options);
  ~RealKafka();
  RealKafka(const RealKafka&) = delete;
  RealKafka& operator=(const RealKafka&) = delete;

  // PLAINTEXT listeners of every broker ("127.0.0.1:p1,127.0.0.1:p2,...").
  std::string bootstrap() const;
  // SASL_SSL listeners (secure only).
  std::string secure_bootstrap() const;
  // The test CA that signed the brokers' certificate, and a CA that did not (secure only).
  std::string ca_file() const { return (dir_ / "tls" / "ca.pem").string(); }
  std::string wrong_ca_file() const { return (dir_ / "tls" / "wrong-ca.pem").string(); }
  const std::filesystem::path& dir() const { return dir_; }
  std::vector<int> broker_ids() const;
  // How long Start() took (format + start + ready).
  std::chrono::milliseconds startup_time() const { return startup_time_; }

  // The test's client on the PLAINTEXT listeners (a super user).
  KafkaTestClient& client() { return *client_; }

  // Process control of one node (broker id or 100 for the controller).
  void Signal(int node, int signal);
  // SIGKILLs the node and waits for its exit.
  void Kill(int node);
  // Starts a killed node again on the same ports and data; waits until it is ready.
  [[nodiscard]] Status Restart(int node);

  // Runs one of Kafka's command-line tools (main class, e.g.
  // org.apache.kafka.tools.consumer.group.ConsumerGroupCommand) in a JVM; returns its stdout.
  // kInternal with its stderr when it exits non-zero.
  [[nodiscard]] Result<std::string> Tool(const std::string& main_class,
                                         const std::vector<std::string>& args) const;

  // The last lines a node wrote (for failure messages).
  std::string Log(int node) const;

 private:
  struct Node {
    int id = 0;
    bool broker = true;
    bool controller = false;
    int port = 0;         // PLAINTEXT (brokers)
    int secure_port = 0;  // SASL_SSL (brokers, secure only)
    std::filesystem::path properties;
    std::unique_ptr<kafka_autoscaler::testing::Process> process;
  };
  RealKafka() = default;
  [[nodiscard]] Status MakeCertificates();
  [[nodiscard]] Status WriteProperties(Node& node);
  // The java command line; `log_config` is "server-log" or "tool-log".
  std::vector<std::string> Java(const std::string& heap, const std::string& log_config) const;
  bool Log4j() const { return options_.version.rfind("3.", 0) != 0; }  // log4j2 (4.x) or reload4j
  [[nodiscard]] Status StartNodes(const std::vector<Node*>& nodes);
  Node* Find(int node);

  RealKafkaOptions options_;
  std::filesystem::path dir_;
  int controller_port_ = 0;
  std::vector<Node> nodes_;
  std::unique_ptr<KafkaTestClient> client_;
  std::chrono::milliseconds startup_time_{0};
};

// Runs `argv` (absolute program path) to completion; its stdout, or kInternal with its stderr.
[[nodiscard]] Result<std::string> RunProgram(const std::vector<std::string>& argv,
                                             std::chrono::milliseconds timeout);

}  // namespace kafka_autoscaler::kafka::testing
