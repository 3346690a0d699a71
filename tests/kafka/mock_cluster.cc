#include "mock_cluster.h"

#include <librdkafka/rdkafka_mock.h>

#include <array>

namespace kafka_autoscaler::kafka::testing {
namespace {

void Quiet(const rd_kafka_t*, int, const char*, const char*) {}

Result<RdPtr<rd_kafka_conf_t>> Conf(const std::vector<std::pair<std::string, std::string>>& kv) {
  RdPtr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  std::array<char, 512> errstr{};
  for (const auto& [k, v] : kv) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), errstr.data(), errstr.size()) !=
        RD_KAFKA_CONF_OK) {
      return MakeError(ErrorCode::kInvalidArgument, k + ": " + errstr.data());
    }
  }
  rd_kafka_conf_set_log_cb(conf.get(), &Quiet);
  return conf;
}

Result<RdPtr<rd_kafka_t>> NewClient(rd_kafka_type_t type, RdPtr<rd_kafka_conf_t> conf) {
  std::array<char, 512> errstr{};
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr.data(), errstr.size());
  if (rk == nullptr) return MakeError(ErrorCode::kInternal, errstr.data());
  (void)conf.release();
  return RdPtr<rd_kafka_t>(rk);
}

Status MockStatus(rd_kafka_resp_err_t err, const std::string& what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return OkStatus();
  return MakeError(KafkaError(err, what));
}

}  // namespace

Result<std::unique_ptr<MockCluster>> MockCluster::Start(int brokers) {
  if (brokers < 1) return MakeError(ErrorCode::kInvalidArgument, "brokers must be >= 1");
  std::unique_ptr<MockCluster> m(new MockCluster());
  auto conf = Conf({});
  if (!conf) return MakeError(conf.error());
  auto host = NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!host) return MakeError(host.error());
  m->host_ = std::move(*host);
  m->cluster_ = rd_kafka_mock_cluster_new(m->host_.get(), brokers);
  if (m->cluster_ == nullptr) {
    return MakeError(ErrorCode::kInternal, "rd_kafka_mock_cluster_new failed");
  }
  m->bootstrap_ = rd_kafka_mock_cluster_bootstraps(m->cluster_);
  m->brokers_ = brokers;

  auto pconf = Conf({{"bootstrap.servers", m->bootstrap_},
                     {"linger.ms", "5"},
                     {"batch.num.messages", "100000"},
                     {"allow.auto.create.topics", "false"}});
  if (!pconf) return MakeError(pconf.error());
  rd_kafka_conf_set_opaque(pconf->get(), m.get());
  rd_kafka_conf_set_dr_msg_cb(pconf->get(),
                              [](rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
                                if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                                  ++static_cast<MockCluster*>(opaque)->failed_deliveries_;
                                }
                              });
  auto producer = NewClient(RD_KAFKA_PRODUCER, std::move(*pconf));
  if (!producer) return MakeError(producer.error());
  m->producer_ = std::move(*producer);
  return m;
}

MockCluster::~MockCluster() {
  producer_.reset();
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  host_.reset();
}

Status MockCluster::CreateTopic(const std::string& topic, int partitions) {
  return MockStatus(
      rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, std::min(3, brokers_)),
      "create topic '" + topic + "'");
}

Status MockCluster::Flush() {
  failed_deliveries_ = 0;
  const rd_kafka_resp_err_t err = rd_kafka_flush(producer_.get(), 30'000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return MakeError(KafkaError(err, "flush"));
  if (failed_deliveries_ > 0) {
    return MakeError(ErrorCode::kUnavailable,
                     std::to_string(failed_deliveries_) + " message(s) not delivered");
  }
  return OkStatus();
}

Status MockCluster::Enqueue(const std::string& topic, int32_t partition, int count) {
  for (int i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                    RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_VALUE(const_cast<char*>("m"), 1),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer_.get(), 10);
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return MakeError(KafkaError(err, "produce"));
  }
  return OkStatus();
}

Status MockCluster::Produce(const std::string& topic, int32_t partition, int count) {
  RETURN_IF_ERROR(Enqueue(topic, partition, count));
  return Flush();
}

Status MockCluster::ProduceEach(const std::string& topic, int partitions, int per_partition) {
  for (int p = 0; p < partitions; ++p) RETURN_IF_ERROR(Enqueue(topic, p, per_partition));
  return Flush();
}

Status MockCluster::Commit(const std::string& group, const std::vector<CommitOffset>& offsets) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset = o.offset;
  }
  rd_kafka_t* rk = producer_.get();
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(rk));
  RdPtr<rd_kafka_AdminOptions_t> options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS));
  std::array<char, 256> errstr{};
  (void)rd_kafka_AdminOptions_set_request_timeout(options.get(), 10'000, errstr.data(),
                                                  errstr.size());
  RdPtr<rd_kafka_AlterConsumerGroupOffsets_t> request(
      rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get()));
  rd_kafka_AlterConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_AlterConsumerGroupOffsets(rk, requests, 1, options.get(), queue.get());
  RdPtr<rd_kafka_event_t> ev(rd_kafka_queue_poll(queue.get(), 15'000));
  if (!ev) return MakeError(ErrorCode::kTimeout, "commit: no answer");
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return MakeError(KafkaError(rd_kafka_event_error(ev.get()), "commit"));
  }
  size_t count = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(ev.get()), &count);
  if (count != 1) return MakeError(ErrorCode::kProtocol, "commit: unexpected answer");
  if (const rd_kafka_error_t* error = rd_kafka_group_result_error(groups[0])) {
    return MakeError(KafkaError(rd_kafka_error_code(error), "commit"));
  }
  const rd_kafka_topic_partition_list_t* done = rd_kafka_group_result_partitions(groups[0]);
  for (int i = 0; done != nullptr && i < done->cnt; ++i) {
    if (done->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return MakeError(
          KafkaError(done->elems[i].err, "commit " + std::string(done->elems[i].topic)));
    }
  }
  return OkStatus();
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
