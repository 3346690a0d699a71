// KafkaClient: the one owner of an rd_kafka_t in kafka-autoscaler, plus RAII holders for the
// librdkafka objects the source uses and the mapping from librdkafka error codes to ours.
// Private to src/kafka (and its tests): no librdkafka type crosses into other modules.
//
// The client is a consumer-type handle without a group.id that never consumes: it only sends
// Metadata, ListOffsets and OffsetFetch (admin API) requests and never joins a consumer group,
// so it cannot disturb the group it observes (a producer handle would also walk all known
// partitions in its broker threads on every wake-up). allow.auto.create.topics is false, so
// observing a topic never creates it. Thread-safety: librdkafka calls are thread-safe; the error
// state recorded by the error callback is guarded by a mutex.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/log.h"
#include "common/result.h"
#include "kafka/properties.h"

namespace kafka_autoscaler::kafka {

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* p) const { rd_kafka_destroy(p); }
  void operator()(rd_kafka_conf_t* p) const { rd_kafka_conf_destroy(p); }
  void operator()(rd_kafka_topic_t* p) const { rd_kafka_topic_destroy(p); }
  void operator()(rd_kafka_topic_partition_list_t* p) const {
    rd_kafka_topic_partition_list_destroy(p);
  }
  void operator()(rd_kafka_queue_t* p) const { rd_kafka_queue_destroy(p); }
  void operator()(rd_kafka_event_t* p) const { rd_kafka_event_destroy(p); }
  void operator()(rd_kafka_AdminOptions_t* p) const { rd_kafka_AdminOptions_destroy(p); }
  void operator()(rd_kafka_ListConsumerGroupOffsets_t* p) const {
    rd_kafka_ListConsumerGroupOffsets_destroy(p);
  }
  void operator()(rd_kafka_AlterConsumerGroupOffsets_t* p) const {
    rd_kafka_AlterConsumerGroupOffsets_destroy(p);
  }
  void operator()(const rd_kafka_metadata_t* p) const { rd_kafka_metadata_destroy(p); }
  void operator()(rd_kafka_error_t* p) const { rd_kafka_error_destroy(p); }
};
template <typename T>
using RdPtr = std::unique_ptr<T, RdKafkaDeleter>;
using PartitionList = RdPtr<rd_kafka_topic_partition_list_t>;

// Our code for a librdkafka error code (authorization → kPermissionDenied, unknown topic →
// kNotFound, timeouts → kTimeout, transport and leadership → kUnavailable, ...).
[[nodiscard]] ErrorCode CodeOf(rd_kafka_resp_err_t err);
// Error{CodeOf(err), context + ": " + librdkafka's text}.
[[nodiscard]] Error KafkaError(rd_kafka_resp_err_t err, std::string_view context);
// True for answers that mean our partition/leader knowledge is stale: refresh and retry.
[[nodiscard]] bool IsStaleMetadata(rd_kafka_resp_err_t err);

// Applies properties to a librdkafka configuration. kInvalidArgument with librdkafka's text
// prefixed by the property name; secret values are never included.
[[nodiscard]] Status ApplyProperties(rd_kafka_conf_t* conf, const ClientProperties& properties);

class KafkaClient {
 public:
  // Creates the handle: our defaults, then `properties`, then bootstrap.servers. librdkafka
  // warnings and errors go to `logger` when given (not owned; may be null).
  // `on_statistics` (optional) receives librdkafka's statistics JSON when the properties set
  // statistics.interval.ms; it runs inside TakeBrokerError() (which serves the callbacks).
  [[nodiscard]] static Result<std::unique_ptr<KafkaClient>> Create(
      const std::string& bootstrap_servers, const ClientProperties& properties, Logger* logger,
      std::function<void(std::string_view)> on_statistics = {});
  ~KafkaClient();
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;

  rd_kafka_t* handle() const { return rk_.get(); }

  // Serves queued callbacks and returns the last broker-level error librdkafka reported
  // ("3/3 brokers are down", an authentication failure...) since the previous call, or "".
  [[nodiscard]] std::string TakeBrokerError(rd_kafka_resp_err_t* code = nullptr);

 private:
  explicit KafkaClient(Logger* logger) : logger_(logger) {}
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* message);
  static int OnStatistics(rd_kafka_t* rk, char* json, size_t json_len, void* opaque);

  Logger* logger_;
  std::function<void(std::string_view)> on_statistics_;
  RdPtr<rd_kafka_t> rk_;
  std::mutex mu_;
  std::string last_error_;                                            // guarded by mu_
  rd_kafka_resp_err_t last_error_code_ = RD_KAFKA_RESP_ERR_NO_ERROR;  // guarded by mu_
};

// Milliseconds left until `deadline` (steady clock), at least 1 so librdkafka never blocks
// forever on a 0/-1 meaning "infinite".
[[nodiscard]] int RemainingMs(std::chrono::steady_clock::time_point deadline);

}  // namespace kafka_autoscaler::kafka
