// KafkaTestClient: the test side of a Kafka cluster (librdkafka's mock or a real broker): a
// producer, explicit group commits, a real consumer, and the admin calls the real-broker tests
// use (topics, partitions, DeleteRecords, ACLs). Every call waits for the broker's answer.
//
// Thread-safety: one thread at a time per client (the delivery counter is per flush).
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "kafka/kafka_client.h"

namespace kafka_autoscaler::kafka::testing {

struct CommitOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

// One ACL (literal resource pattern, any host). `type` is RD_KAFKA_RESOURCE_TOPIC/GROUP/...
struct Acl {
  rd_kafka_ResourceType_t type = RD_KAFKA_RESOURCE_TOPIC;
  std::string name;
  std::string principal;  // "User:alice"
  rd_kafka_AclOperation_t operation = RD_KAFKA_ACL_OPERATION_DESCRIBE;
};

using Properties = std::vector<std::pair<std::string, std::string>>;

// A librdkafka configuration from key/value pairs, with librdkafka's own logging silenced.
[[nodiscard]] Result<RdPtr<rd_kafka_conf_t>> TestConf(const Properties& kv);

class KafkaTestClient {
 public:
  // A producer handle on `bootstrap` with `properties` (e.g. security) added.
  [[nodiscard]] static Result<std::unique_ptr<KafkaTestClient>> Create(
      const std::string& bootstrap, const Properties& properties = {});
  ~KafkaTestClient() = default;
  KafkaTestClient(const KafkaTestClient&) = delete;
  KafkaTestClient& operator=(const KafkaTestClient&) = delete;

  // Produces `count` small messages to one partition and waits until all are acknowledged.
  [[nodiscard]] Status Produce(const std::string& topic, int32_t partition, int count);
  // Produces `per_partition` messages to each of partitions [0, partitions) in one flush.
  [[nodiscard]] Status ProduceEach(const std::string& topic, int partitions, int per_partition);
  // Commits explicit offsets for `group` (admin AlterConsumerGroupOffsets: the OffsetCommit a
  // consumer sends, without joining), retrying while the group's coordinator is busy (loading
  // after a start, moving) for up to 60 s, and while it does not know a topic yet (just
  // created) for up to 10 s.
  [[nodiscard]] Status Commit(const std::string& group, const std::vector<CommitOffset>& offsets);

  // Admin (real brokers; the 2.0.2 mock supports only some of them).
  [[nodiscard]] Status CreateTopic(const std::string& topic, int partitions, int replication);
  [[nodiscard]] Status CreatePartitions(const std::string& topic, int total);
  [[nodiscard]] Status DeleteTopic(const std::string& topic);
  // Deletes the records of `topic`/`partition` below `offset` (the low watermark moves).
  [[nodiscard]] Status DeleteRecords(const std::string& topic, int32_t partition, int64_t offset);
  [[nodiscard]] Status CreateAcls(const std::vector<Acl>& acls);
  [[nodiscard]] Status DeleteAcls(const std::vector<Acl>& acls);
  // Waits until the metadata shows `topic` with `partitions` partitions, each with a leader
  // (partitions 0: until the topic is gone).
  [[nodiscard]] Status WaitForTopic(const std::string& topic, int partitions,
                                    std::chrono::milliseconds timeout);
  // Low and high watermark of one partition, asked from its leader.
  [[nodiscard]] Result<std::pair<int64_t, int64_t>> Watermarks(const std::string& topic,
                                                               int32_t partition);

  rd_kafka_t* handle() const { return producer_.get(); }

 private:
  KafkaTestClient() = default;
  [[nodiscard]] Status Enqueue(const std::string& topic, int32_t partition, int count);
  [[nodiscard]] Status Flush();
  // One commit; `code` gets the first librdkafka error of the answer.
  [[nodiscard]] Status CommitOnce(const std::string& group,
                                  const std::vector<CommitOffset>& offsets,
                                  rd_kafka_resp_err_t* code);
  // Waits for the answer of an admin call posted to `queue`; checks the request-level error.
  [[nodiscard]] Result<RdPtr<rd_kafka_event_t>> Answer(rd_kafka_queue_t* queue,
                                                       const std::string& what);
  [[nodiscard]] RdPtr<rd_kafka_AdminOptions_t> Options(rd_kafka_admin_op_t op);

  RdPtr<rd_kafka_t> producer_;
  int64_t failed_deliveries_ = 0;  // written by the delivery callback during Flush()
  rd_kafka_resp_err_t last_delivery_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;  // likewise
};

// A real consumer in `group` (earliest, manual commits): subscribes to `topic`, consumes `count`
// messages (or what arrives within `timeout`), commits them synchronously and leaves the group.
// Returns the number consumed.
[[nodiscard]] Result<int> ConsumeAndCommit(const std::string& bootstrap, const std::string& group,
                                           const std::string& topic, int count,
                                           std::chrono::milliseconds timeout);

}  // namespace kafka_autoscaler::kafka::testing
