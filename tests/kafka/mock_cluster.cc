#include "mock_cluster.h"

#include <librdkafka/rdkafka_mock.h>

#include <array>

namespace kafka_autoscaler::kafka::testing {
namespace {

Status MockStatus(rd_kafka_resp_err_t err, const std::string& what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return OkStatus();
  return MakeError(KafkaError(err, what));
}

}  // namespace

Result<std::unique_ptr<MockCluster>> MockCluster::Start(int brokers) {
  if (brokers < 1) return MakeError(ErrorCode::kInvalidArgument, "brokers must be >= 1");
  std::unique_ptr<MockCluster> m(new MockCluster());
  auto conf = TestConf({});
  if (!conf) return MakeError(conf.error());
  std::array<char, 512> errstr{};
  m->host_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), errstr.data(), errstr.size()));
  if (!m->host_) return MakeError(ErrorCode::kInternal, errstr.data());
  (void)conf->release();
  m->cluster_ = rd_kafka_mock_cluster_new(m->host_.get(), brokers);
  if (m->cluster_ == nullptr) {
    return MakeError(ErrorCode::kInternal, "rd_kafka_mock_cluster_new failed");
  }
  m->bootstrap_ = rd_kafka_mock_cluster_bootstraps(m->cluster_);
  m->brokers_ = brokers;

  auto client = KafkaTestClient::Create(m->bootstrap_);
  if (!client) return MakeError(client.error());
  m->client_ = std::move(*client);
  return m;
}

MockCluster::~MockCluster() {
  client_.reset();
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  host_.reset();
}

Status MockCluster::CreateTopic(const std::string& topic, int partitions) {
  return MockStatus(
      rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, std::min(3, brokers_)),
      "create topic '" + topic + "'");
}

Status MockCluster::CreateTopicWith(const std::string& topic, const std::vector<int>& messages) {
  RETURN_IF_ERROR(CreateTopic(topic, static_cast<int>(messages.size())));
  for (size_t p = 0; p < messages.size(); ++p) {
    if (messages[p] > 0) RETURN_IF_ERROR(Produce(topic, static_cast<int32_t>(p), messages[p]));
  }
  return OkStatus();
}

Status MockCluster::Produce(const std::string& topic, int32_t partition, int count) {
  return client_->Produce(topic, partition, count);
}

Status MockCluster::ProduceEach(const std::string& topic, int partitions, int per_partition) {
  return client_->ProduceEach(topic, partitions, per_partition);
}

Status MockCluster::Commit(const std::string& group, const std::vector<CommitOffset>& offsets) {
  return client_->Commit(group, offsets);
}

Status MockCluster::SetBrokerDown(int32_t broker_id) {
  return MockStatus(rd_kafka_mock_broker_set_down(cluster_, broker_id), "broker down");
}
Status MockCluster::SetBrokerUp(int32_t broker_id) {
  return MockStatus(rd_kafka_mock_broker_set_up(cluster_, broker_id), "broker up");
}
Status MockCluster::SetRtt(int32_t broker_id, int rtt_ms) {
  return MockStatus(rd_kafka_mock_broker_set_rtt(cluster_, broker_id, rtt_ms), "broker rtt");
}
Status MockCluster::SetGroupCoordinator(const std::string& group, int32_t broker_id) {
  return MockStatus(rd_kafka_mock_coordinator_set(cluster_, "group", group.c_str(), broker_id),
                    "group coordinator");
}
Status MockCluster::SetLeader(const std::string& topic, int32_t partition, int32_t broker_id) {
  return MockStatus(
      rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), partition, broker_id),
      "partition leader");
}
Status MockCluster::DelayNextRequests(int16_t api_key, int rtt_ms, int count) {
  for (int32_t id = 1; id <= brokers_; ++id) {
    for (int k = 0; k < count; ++k) {
      RETURN_IF_ERROR(MockStatus(rd_kafka_mock_broker_push_request_error_rtts(
                                     cluster_, id, api_key, 1, RD_KAFKA_RESP_ERR_NO_ERROR, rtt_ms),
                                 "request delay"));
    }
  }
  return OkStatus();
}
void MockCluster::PushRequestErrors(int16_t api_key, rd_kafka_resp_err_t error, size_t count) {
  std::vector<rd_kafka_resp_err_t> errors(count, error);
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, count, errors.data());
}
void MockCluster::ClearRequestErrors(int16_t api_key) {
  rd_kafka_mock_clear_request_errors(cluster_, api_key);
}
void MockCluster::SetTopicError(const std::string& topic, rd_kafka_resp_err_t error) {
  rd_kafka_mock_topic_set_error(cluster_, topic.c_str(), error);
}

}  // namespace kafka_autoscaler::kafka::testing
