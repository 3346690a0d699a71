#include "test_client.h"

#include <array>
#include <chrono>
#include <thread>

#include "kafka/offsets.h"

namespace kafka_autoscaler::kafka::testing {
namespace {

void Quiet(const rd_kafka_t*, int, const char*, const char*) {}

// Owners of the admin request objects RdKafkaDeleter does not cover.
template <typename T, void (*Destroy)(T*)>
struct Destroyer {
  void operator()(T* p) const { Destroy(p); }
};
template <typename T, void (*Destroy)(T*)>
using Own = std::unique_ptr<T, Destroyer<T, Destroy>>;
using AclPtr = Own<rd_kafka_AclBinding_t, rd_kafka_AclBinding_destroy>;

Result<RdPtr<rd_kafka_t>> NewClient(rd_kafka_type_t type, RdPtr<rd_kafka_conf_t> conf) {
  std::array<char, 512> errstr{};
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr.data(), errstr.size());
  if (rk == nullptr) return MakeError(ErrorCode::kInternal, errstr.data());
  (void)conf.release();
  return RdPtr<rd_kafka_t>(rk);
}

Status ErrorStatus(const rd_kafka_error_t* error, const std::string& what) {
  if (error == nullptr) return OkStatus();
  return MakeError(KafkaError(rd_kafka_error_code(error), what));
}

Status TopicResults(const rd_kafka_topic_result_t** results, size_t count,
                    const std::string& what) {
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      return MakeError(KafkaError(err, what + ": " + (msg != nullptr ? msg : "")));
    }
  }
  return OkStatus();
}

Status PartitionErrors(const rd_kafka_topic_partition_list_t* list, const std::string& what) {
  for (int i = 0; list != nullptr && i < list->cnt; ++i) {
    if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return MakeError(KafkaError(list->elems[i].err, what + " " + list->elems[i].topic));
    }
  }
  return OkStatus();
}

// An ACL binding, or its exact-match filter.
AclPtr Binding(const Acl& a) {
  std::array<char, 256> errstr{};
  return AclPtr(rd_kafka_AclBinding_new(
      a.type, a.name.c_str(), RD_KAFKA_RESOURCE_PATTERN_LITERAL, a.principal.c_str(), "*",
      a.operation, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr.data(), errstr.size()));
}

}  // namespace

Result<RdPtr<rd_kafka_conf_t>> TestConf(const Properties& kv) {
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

Result<std::unique_ptr<KafkaTestClient>> KafkaTestClient::Create(const std::string& bootstrap,
                                                                 const Properties& properties) {
  std::unique_ptr<KafkaTestClient> c(new KafkaTestClient());
  Properties kv = properties;
  kv.insert(kv.end(), {{"bootstrap.servers", bootstrap},
                       {"linger.ms", "5"},
                       {"batch.num.messages", "100000"},
                       {"allow.auto.create.topics", "false"}});
  auto conf = TestConf(kv);
  if (!conf) return MakeError(conf.error());
  rd_kafka_conf_set_opaque(conf->get(), c.get());
  rd_kafka_conf_set_dr_msg_cb(conf->get(),
                              [](rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
                                if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                                  auto* self = static_cast<KafkaTestClient*>(opaque);
                                  ++self->failed_deliveries_;
                                  self->last_delivery_error_ = msg->err;
                                }
                              });
  auto producer = NewClient(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!producer) return MakeError(producer.error());
  c->producer_ = std::move(*producer);
  return c;
}

Status KafkaTestClient::Flush() {
  failed_deliveries_ = 0;
  last_delivery_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  const rd_kafka_resp_err_t err = rd_kafka_flush(producer_.get(), 30'000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return MakeError(KafkaError(err, "flush"));
  if (failed_deliveries_ > 0) {
    return MakeError(ErrorCode::kUnavailable, std::to_string(failed_deliveries_) +
                                                  " message(s) not delivered (last: " +
                                                  rd_kafka_err2str(last_delivery_error_) + ")");
  }
  return OkStatus();
}

Status KafkaTestClient::Enqueue(const std::string& topic, int32_t partition, int count) {
  // In a cluster, a topic just created may still be unknown to the broker whose metadata the
  // producer read (KRaft brokers replay the controller's log asynchronously): the producer then
  // refuses at once (Local: Unknown topic). Ask the metadata again until it knows the topic, up
  // to 30 s, as a producing application would retry.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err;
    for (;;) {
      err = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                              RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_VALUE(const_cast<char*>("m"), 1),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer_.get(), 10);
        continue;
      }
      const bool unknown =
          err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
      if (!unknown || std::chrono::steady_clock::now() >= until) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      RdPtr<rd_kafka_topic_t> handle(rd_kafka_topic_new(producer_.get(), topic.c_str(), nullptr));
      const rd_kafka_metadata_t* raw = nullptr;
      if (rd_kafka_metadata(producer_.get(), 0, handle.get(), &raw, 5000) ==
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        RdPtr<const rd_kafka_metadata_t> refreshed(raw);  // the cache is what was wanted
      }
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return MakeError(KafkaError(err, "produce"));
  }
  return OkStatus();
}

Status KafkaTestClient::Produce(const std::string& topic, int32_t partition, int count) {
  RETURN_IF_ERROR(Enqueue(topic, partition, count));
  return Flush();
}

Status KafkaTestClient::ProduceEach(const std::string& topic, int partitions, int per_partition) {
  for (int p = 0; p < partitions; ++p) RETURN_IF_ERROR(Enqueue(topic, p, per_partition));
  return Flush();
}

RdPtr<rd_kafka_AdminOptions_t> KafkaTestClient::Options(rd_kafka_admin_op_t op) {
  RdPtr<rd_kafka_AdminOptions_t> options(rd_kafka_AdminOptions_new(producer_.get(), op));
  std::array<char, 256> errstr{};
  // A group's commit goes to its coordinator: librdkafka 2.0.2 may abort the process later if
  // it times such a request out (librdkafka#4605, src/kafka/offsets.h), so that one carries the
  // longest timeout and Answer() gives up first; the request ends with the handle.
  const int timeout_ms =
      op == RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS ? kAdminRequestTimeoutMs : 20'000;
  (void)rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr.data(),
                                                  errstr.size());
  return options;
}

Result<RdPtr<rd_kafka_event_t>> KafkaTestClient::Answer(rd_kafka_queue_t* queue,
                                                        const std::string& what) {
  RdPtr<rd_kafka_event_t> ev(rd_kafka_queue_poll(queue, 30'000));
  if (!ev) return MakeError(ErrorCode::kTimeout, what + ": no answer");
  if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return MakeError(KafkaError(rd_kafka_event_error(ev.get()), what));
  }
  return ev;
}

namespace {
// Errors of a group's coordinator that a real broker gives while it starts or moves.
bool CoordinatorBusy(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
         err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR;
}
}  // namespace

Status KafkaTestClient::Commit(const std::string& group, const std::vector<CommitOffset>& offsets) {
  // A real broker answers "coordinator load in progress" for a while after it starts: retry.
  // And a topic just created may not be in the group coordinator's metadata yet (CreateTopic
  // waited until the broker it asked knew it; the others learn it a moment later): the
  // coordinator answers "unknown topic or partition" meanwhile (seen in CI right after a
  // creation, with the machine busy). A topic that stays unknown is an error after 10 s.
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::seconds(60);
  const auto unknown_until = start + std::chrono::seconds(10);
  for (;;) {
    rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_NO_ERROR;
    Status s = CommitOnce(group, offsets, &code);
    const auto now = std::chrono::steady_clock::now();
    const bool again = (CoordinatorBusy(code) && now < until) ||
                       (code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART && now < unknown_until);
    if (s || !again) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status KafkaTestClient::CommitOnce(const std::string& group,
                                   const std::vector<CommitOffset>& offsets,
                                   rd_kafka_resp_err_t* code) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset = o.offset;
  }
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(producer_.get()));
  auto options = Options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
  RdPtr<rd_kafka_AlterConsumerGroupOffsets_t> request(
      rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get()));
  rd_kafka_AlterConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_AlterConsumerGroupOffsets(producer_.get(), requests, 1, options.get(), queue.get());
  auto ev = Answer(queue.get(), "commit");
  if (!ev) return MakeError(ev.error());
  size_t count = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(ev->get()), &count);
  if (count != 1) return MakeError(ErrorCode::kProtocol, "commit: unexpected answer");
  if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[0])) {
    *code = rd_kafka_error_code(e);
  }
  const rd_kafka_topic_partition_list_t* done = rd_kafka_group_result_partitions(groups[0]);
  for (int i = 0; done != nullptr && i < done->cnt && *code == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    *code = done->elems[i].err;
  }
  RETURN_IF_ERROR(ErrorStatus(rd_kafka_group_result_error(groups[0]), "commit"));
  return PartitionErrors(done, "commit");
}

Status KafkaTestClient::CreateTopic(const std::string& topic, int partitions, int replication) {
  std::array<char, 256> errstr{};
  Own<rd_kafka_NewTopic_t, rd_kafka_NewTopic_destroy> t(
      rd_kafka_NewTopic_new(topic.c_str(), partitions, replication, errstr.data(), errstr.size()));
  if (!t) return MakeError(ErrorCode::kInvalidArgument, errstr.data());
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(producer_.get()));
  auto options = Options(RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_NewTopic_t* topics[] = {t.get()};
  rd_kafka_CreateTopics(producer_.get(), topics, 1, options.get(), queue.get());
  auto ev = Answer(queue.get(), "create topic " + topic);
  if (!ev) return MakeError(ev.error());
  size_t n = 0;
  auto* results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev->get()), &n);
  RETURN_IF_ERROR(TopicResults(results, n, "create topic " + topic));
  return WaitForTopic(topic, partitions, std::chrono::seconds(30));
}

Status KafkaTestClient::CreatePartitions(const std::string& topic, int total) {
  std::array<char, 256> errstr{};
  Own<rd_kafka_NewPartitions_t, rd_kafka_NewPartitions_destroy> p(rd_kafka_NewPartitions_new(
      topic.c_str(), static_cast<size_t>(total), errstr.data(), errstr.size()));
  if (!p) return MakeError(ErrorCode::kInvalidArgument, errstr.data());
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(producer_.get()));
  auto options = Options(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
  rd_kafka_NewPartitions_t* parts[] = {p.get()};
  rd_kafka_CreatePartitions(producer_.get(), parts, 1, options.get(), queue.get());
  auto ev = Answer(queue.get(), "create partitions " + topic);
  if (!ev) return MakeError(ev.error());
  size_t n = 0;
  auto* results = rd_kafka_CreatePartitions_result_topics(
      rd_kafka_event_CreatePartitions_result(ev->get()), &n);
  RETURN_IF_ERROR(TopicResults(results, n, "create partitions " + topic));
  return WaitForTopic(topic, total, std::chrono::seconds(30));
}

Status KafkaTestClient::DeleteTopic(const std::string& topic) {
  Own<rd_kafka_DeleteTopic_t, rd_kafka_DeleteTopic_destroy> t(
      rd_kafka_DeleteTopic_new(topic.c_str()));
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(producer_.get()));
  auto options = Options(RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_DeleteTopic_t* topics[] = {t.get()};
  rd_kafka_DeleteTopics(producer_.get(), topics, 1, options.get(), queue.get());
  auto ev = Answer(queue.get(), "delete topic " + topic);
  if (!ev) return MakeError(ev.error());
  size_t n = 0;
  auto* results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev->get()), &n);
  RETURN_IF_ERROR(TopicResults(results, n, "delete topic " + topic));
  return WaitForTopic(topic, 0, std::chrono::seconds(30));
}

Status KafkaTestClient::DeleteRecords(const std::string& topic, int32_t partition, int64_t offset) {
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  Own<rd_kafka_DeleteRecords_t, rd_kafka_DeleteRecords_destroy> d(
      rd_kafka_DeleteRecords_new(list.get()));
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(producer_.get()));
  auto options = Options(RD_KAFKA_ADMIN_OP_DELETERECORDS);
  rd_kafka_DeleteRecords_t* requests[] = {d.get()};
  rd_kafka_DeleteRecords(producer_.get(), requests, 1, options.get(), queue.get());
  auto ev = Answer(queue.get(), "delete records " + topic);
  if (!ev) return MakeError(ev.error());
  return PartitionErrors(
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev->get())),
      "delete records");
}

Status KafkaTestClient::CreateAcls(const std::vector<Acl>& acls) {
  std::vector<AclPtr> owned;
  std::vector<rd_kafka_AclBinding_t*> bindings;
  for (const auto& a : acls) {
    owned.push_back(Binding(a));
    if (!owned.back()) return MakeError(ErrorCode::kInvalidArgument, "bad ACL " + a.name);
    bindings.push_back(owned.back().get());
  }
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(producer_.get()));
  auto options = Options(RD_KAFKA_ADMIN_OP_CREATEACLS);
  rd_kafka_CreateAcls(producer_.get(), bindings.data(), bindings.size(), options.get(),
                      queue.get());
  auto ev = Answer(queue.get(), "create ACLs");
  if (!ev) return MakeError(ev.error());
  size_t n = 0;
  auto* results = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    RETURN_IF_ERROR(ErrorStatus(rd_kafka_acl_result_error(results[i]), "create ACL"));
  }
  return OkStatus();
}

Status KafkaTestClient::DeleteAcls(const std::vector<Acl>& acls) {
  std::vector<AclPtr> owned;
  std::vector<rd_kafka_AclBindingFilter_t*> filters;
  for (const auto& a : acls) {
    owned.push_back(Binding(a));
    if (!owned.back()) return MakeError(ErrorCode::kInvalidArgument, "bad ACL " + a.name);
    filters.push_back(owned.back().get());
  }
  RdPtr<rd_kafka_queue_t> queue(rd_kafka_queue_new(producer_.get()));
  auto options = Options(RD_KAFKA_ADMIN_OP_DELETEACLS);
  rd_kafka_DeleteAcls(producer_.get(), filters.data(), filters.size(), options.get(), queue.get());
  auto ev = Answer(queue.get(), "delete ACLs");
  if (!ev) return MakeError(ev.error());
  size_t n = 0;
  auto* results =
      rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    RETURN_IF_ERROR(
        ErrorStatus(rd_kafka_DeleteAcls_result_response_error(results[i]), "delete ACL"));
  }
  return OkStatus();
}

Status KafkaTestClient::WaitForTopic(const std::string& topic, int partitions,
                                     std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::string seen = "no answer";
  RdPtr<rd_kafka_topic_t> handle(rd_kafka_topic_new(producer_.get(), topic.c_str(), nullptr));
  while (std::chrono::steady_clock::now() < until) {
    const rd_kafka_metadata_t* raw = nullptr;
    if (rd_kafka_metadata(producer_.get(), 0, handle.get(), &raw, 5000) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      RdPtr<const rd_kafka_metadata_t> md(raw);
      const auto& t = md->topics[0];
      int led = 0;
      for (int i = 0; i < t.partition_cnt; ++i) led += t.partitions[i].leader >= 0 ? 1 : 0;
      if (partitions == 0 && t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return OkStatus();
      if (partitions > 0 && t.err == RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt == partitions &&
          led == partitions) {
        return OkStatus();
      }
      seen = std::string(rd_kafka_err2name(t.err)) + ", " + std::to_string(led) + "/" +
             std::to_string(t.partition_cnt) + " partitions led";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return MakeError(ErrorCode::kTimeout, "topic " + topic + " not as expected: " + seen);
}

Result<std::pair<int64_t, int64_t>> KafkaTestClient::Watermarks(const std::string& topic,
                                                                int32_t partition) {
  int64_t low = 0, high = 0;
  const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(producer_.get(), topic.c_str(),
                                                                   partition, &low, &high, 10'000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return MakeError(KafkaError(err, "watermarks"));
  return std::pair{low, high};
}

Result<int> ConsumeAndCommit(const std::string& bootstrap, const std::string& group,
                             const std::string& topic, int count,
                             std::chrono::milliseconds timeout) {
  auto conf = TestConf({{"bootstrap.servers", bootstrap},
                        {"group.id", group},
                        {"auto.offset.reset", "earliest"},
                        {"enable.auto.commit", "false"},
                        {"allow.auto.create.topics", "false"}});
  if (!conf) return MakeError(conf.error());
  auto consumer = NewClient(RD_KAFKA_CONSUMER, std::move(*conf));
  if (!consumer) return MakeError(consumer.error());
  rd_kafka_t* rk = consumer->get();
  rd_kafka_poll_set_consumer(rk);
  PartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics.get())) {
    return MakeError(KafkaError(err, "subscribe"));
  }
  int consumed = 0;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (consumed < count && std::chrono::steady_clock::now() < until) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++consumed;
      (void)rd_kafka_commit_message(rk, m, 0);  // synchronous
    }
    rd_kafka_message_destroy(m);
  }
  (void)rd_kafka_consumer_close(rk);
  return consumed;
}

}  // namespace kafka_autoscaler::kafka::testing
