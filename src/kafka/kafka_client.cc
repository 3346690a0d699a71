#include "kafka/kafka_client.h"

#include <algorithm>
#include <array>

namespace kafka_autoscaler::kafka {

ErrorCode CodeOf(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
      return ErrorCode::kNotFound;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
      return ErrorCode::kPermissionDenied;
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
      return ErrorCode::kUnauthenticated;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
      return ErrorCode::kTimeout;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR__NODE_UPDATE:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT:
      return ErrorCode::kUnavailable;
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
      return ErrorCode::kResourceExhausted;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
      return ErrorCode::kInvalidArgument;
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__FAIL:
    case RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE:
      return ErrorCode::kInternal;
    default:
      return ErrorCode::kProtocol;
  }
}

Error KafkaError(rd_kafka_resp_err_t err, std::string_view context) {
  return Error{CodeOf(err), std::string(context) + ": " + rd_kafka_err2str(err), {}, std::nullopt};
}

bool IsStaleMetadata(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR__IN_PROGRESS:  // leader lookup still running
      return true;
    default:
      return false;
  }
}

Status ApplyProperties(rd_kafka_conf_t* conf, const ClientProperties& properties) {
  std::vector<std::string> problems;
  for (const auto& p : properties.entries) {
    std::array<char, 512> errstr{};
    if (rd_kafka_conf_set(conf, p.key.c_str(), p.value.c_str(), errstr.data(), errstr.size()) !=
        RD_KAFKA_CONF_OK) {
      std::string text = errstr.data();
      // librdkafka quotes bad values in some messages; never echo a secret.
      if (IsSecretProperty(p.key) && !p.value.empty()) {
        for (size_t at = text.find(p.value); at != std::string::npos; at = text.find(p.value, at)) {
          text.replace(at, p.value.size(), "[redacted]");
        }
      }
      problems.push_back(p.key + ": " + text);
    }
  }
  if (!problems.empty()) {
    Error e{ErrorCode::kInvalidArgument,
            "kafka: KAFKA_CONFIG_FILE: librdkafka rejected " + std::to_string(problems.size()) +
                " propert" + (problems.size() == 1 ? "y" : "ies") + ": " + problems.front(),
            std::move(problems), std::nullopt};
    return MakeError(std::move(e));
  }
  return OkStatus();
}

Result<std::unique_ptr<KafkaClient>> KafkaClient::Create(
    const std::string& bootstrap_servers, const ClientProperties& properties, Logger* logger,
    std::function<void(std::string_view)> on_statistics) {
  std::unique_ptr<KafkaClient> client(new KafkaClient(logger));
  client->on_statistics_ = std::move(on_statistics);
  RdPtr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  std::array<char, 512> errstr{};
  auto set = [&](const char* key, const std::string& value) -> Status {
    if (rd_kafka_conf_set(conf.get(), key, value.c_str(), errstr.data(), errstr.size()) !=
        RD_KAFKA_CONF_OK) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string("kafka: ") + key + ": " + errstr.data());
    }
    return OkStatus();
  };
  RETURN_IF_ERROR(set("client.id", "kafka-autoscaler"));
  RETURN_IF_ERROR(set("allow.auto.create.topics", "false"));
  // Fail fast on a dead address; the source bounds every call by its own deadline anyway.
  RETURN_IF_ERROR(set("socket.connection.setup.timeout.ms", "10000"));
  RETURN_IF_ERROR(ApplyProperties(conf.get(), properties));
  RETURN_IF_ERROR(set("bootstrap.servers", bootstrap_servers));
  rd_kafka_conf_set_opaque(conf.get(), client.get());
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaClient::OnError);
  rd_kafka_conf_set_log_cb(conf.get(), &KafkaClient::OnLog);
  if (client->on_statistics_) rd_kafka_conf_set_stats_cb(conf.get(), &KafkaClient::OnStatistics);

  // rd_kafka_new takes ownership of conf only on success.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr.data(), errstr.size());
  if (rk == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("kafka: cannot create client: ") + errstr.data());
  }
  (void)conf.release();
  client->rk_.reset(rk);
  return client;
}

KafkaClient::~KafkaClient() = default;

void KafkaClient::OnError(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  std::lock_guard lock(self->mu_);
  // Keep the most telling error: "all brokers down" beats a single transport failure, and a
  // rejected login or a failed TLS handshake beats both (librdkafka reports the brokers down
  // right after them, which would otherwise hide the reason: kafka_unavailable, "1/1 brokers
  // are down").
  const bool down =
      err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__TRANSPORT;
  if ((self->last_error_code_ == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN &&
       err == RD_KAFKA_RESP_ERR__TRANSPORT) ||
      (down && (CodeOf(self->last_error_code_) == ErrorCode::kUnauthenticated ||
                self->last_error_code_ == RD_KAFKA_RESP_ERR__SSL))) {
    return;
  }
  self->last_error_code_ = static_cast<rd_kafka_resp_err_t>(err);
  self->last_error_ = reason != nullptr ? reason : rd_kafka_err2str(self->last_error_code_);
}

void KafkaClient::OnLog(const rd_kafka_t* rk, int level, const char* facility,
                        const char* message) {
  auto* self = static_cast<KafkaClient*>(rd_kafka_opaque(rk));
  if (self == nullptr || self->logger_ == nullptr || level > 4) return;  // warnings and worse
  self->logger_->Log(level <= 3 ? LogLevel::kError : LogLevel::kWarn,
                     std::string("librdkafka: ") + message, {{"facility", std::string(facility)}});
}

int KafkaClient::OnStatistics(rd_kafka_t* /*rk*/, char* json, size_t json_len, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  self->on_statistics_(std::string_view(json, json_len));
  return 0;  // librdkafka frees the JSON
}

std::string KafkaClient::TakeBrokerError(rd_kafka_resp_err_t* code) {
  rd_kafka_poll(rk_.get(), 0);  // serves the error callback
  std::lock_guard lock(mu_);
  if (code != nullptr) *code = last_error_code_;
  std::string out = std::move(last_error_);
  last_error_.clear();
  last_error_code_ = RD_KAFKA_RESP_ERR_NO_ERROR;
  return out;
}

int RemainingMs(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 1, 24 * 3600 * 1000));
}

}  // namespace kafka_autoscaler::kafka
