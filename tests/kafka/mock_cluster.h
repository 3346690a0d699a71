// MockCluster: a librdkafka mock cluster (rdkafka_mock.h) on loopback ports, with a real
// producer and real group-offset commits, for tests, the benchmark and the `mock-kafka` helper.
//
// The cluster speaks the real Kafka wire protocol, so the code under test talks to it exactly
// as it would to brokers. Known limits of librdkafka 2.0.2's mock (SPEC.md section 8): topics
// named in a Metadata request are auto-created (simulate a missing topic with
// SetTopicError(UNKNOWN_TOPIC_OR_PART)); partitions cannot be added to an existing topic; the
// low watermark stays 0 (no DeleteRecords). Broker ids are 1..brokers.
//
// Thread-safety: the fault-injection calls are thread-safe (they post to the mock's thread);
// Produce/Commit must be called from one thread at a time. Destruction stops the mock's
// threads and every client the fixture created.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "kafka/kafka_client.h"
#include "test_client.h"

struct rd_kafka_mock_cluster_s;

namespace kafka_autoscaler::kafka::testing {

class MockCluster {
 public:
  // Starts `brokers` mock brokers on 127.0.0.1 with kernel-chosen ports.
  [[nodiscard]] static Result<std::unique_ptr<MockCluster>> Start(int brokers);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:port,127.0.0.1:port,..."
  const std::string& bootstrap() const { return bootstrap_; }
  int brokers() const { return brokers_; }
  // The producing and committing client (on bootstrap()).
  KafkaTestClient& client() { return *client_; }

  // Creates a topic (replication factor min(3, brokers)). Fails if it exists.
  [[nodiscard]] Status CreateTopic(const std::string& topic, int partitions);
  // Creates a topic with messages.size() partitions holding messages[p] messages each.
  [[nodiscard]] Status CreateTopicWith(const std::string& topic, const std::vector<int>& messages);
  // Produces `count` small messages to one partition and waits until all are acknowledged.
  [[nodiscard]] Status Produce(const std::string& topic, int32_t partition, int count);
  // Produces `per_partition` messages to each of partitions [0, partitions) in one flush.
  [[nodiscard]] Status ProduceEach(const std::string& topic, int partitions, int per_partition);
  // Commits explicit offsets for `group`: a real OffsetCommit to the group's coordinator
  // (admin AlterConsumerGroupOffsets, i.e. what a consumer's commit sends, without joining).
  [[nodiscard]] Status Commit(const std::string& group, const std::vector<CommitOffset>& offsets);

  // Fault injection.
  [[nodiscard]] Status SetBrokerDown(int32_t broker_id);
  [[nodiscard]] Status SetBrokerUp(int32_t broker_id);
  [[nodiscard]] Status SetRtt(int32_t broker_id, int rtt_ms);
  // Makes `broker_id` the coordinator of consumer group `group` (FindCoordinator answers).
  [[nodiscard]] Status SetGroupCoordinator(const std::string& group, int32_t broker_id);
  // Makes `broker_id` the leader of one partition.
  [[nodiscard]] Status SetLeader(const std::string& topic, int32_t partition, int32_t broker_id);
  // Each broker answers its next `count` requests of `api_key` (any client) `rtt_ms` late; the
  // answer is what the broker knew when the request came.
  [[nodiscard]] Status DelayNextRequests(int16_t api_key, int rtt_ms, int count);
  // A `count` for DelayNextRequests that covers every request of one kind a client sends in a
  // test's first seconds (a lookup asked again, or of another broker, before the first is
  // answered): with one per broker, one went undelayed once (ASan, in CI).
  static constexpr int kEarlyRequests = 4;
  // The next `count` requests of `api_key` (any client) fail with `error`.
  void PushRequestErrors(int16_t api_key, rd_kafka_resp_err_t error, size_t count);
  void ClearRequestErrors(int16_t api_key);
  // Metadata answers for `topic` carry `error` (NO_ERROR clears it).
  void SetTopicError(const std::string& topic, rd_kafka_resp_err_t error);

 private:
  MockCluster() = default;
  RdPtr<rd_kafka_t> host_;  // owns the mock cluster's rd_kafka_t
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_;
  int brokers_ = 0;
  std::unique_ptr<KafkaTestClient> client_;  // produces and commits
};

}  // namespace kafka_autoscaler::kafka::testing
