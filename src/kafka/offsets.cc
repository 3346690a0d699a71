#include "kafka/offsets.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <utility>

namespace kafka_autoscaler::kafka {
namespace {

int Rank(ErrorCode c) {
  switch (c) {
    case ErrorCode::kPermissionDenied:
      return 5;
    case ErrorCode::kUnauthenticated:
      return 4;
    case ErrorCode::kNotFound:
      return 3;
    case ErrorCode::kIncomplete:
      return 2;
    default:
      return 1;
  }
}

}  // namespace

void ErrorCollector::Add(Error e, bool stale) {
  stale_ = stale_ || stale;
  ++count_;
  if (!first_ || Rank(e.code) > Rank(first_->code)) first_ = std::move(e);
}

Error ErrorCollector::Take() {
  Error e = std::move(*first_);
  if (count_ > 1) e.message += " (and " + std::to_string(count_ - 1) + " more)";
  return e;
}

std::string PartitionName(const char* topic, int32_t partition) {
  return std::string(topic) + "/" + std::to_string(partition);
}

Error PartitionError(rd_kafka_resp_err_t err, const char* topic, int32_t partition,
                     std::string_view what) {
  const std::string t(topic);
  switch (err) {
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      return Error{ErrorCode::kPermissionDenied,
                   "not authorized to read topic '" + t + "'",
                   {},
                   std::nullopt};
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return Error{ErrorCode::kNotFound,
                   "partition " + PartitionName(topic, partition) + " does not exist (" +
                       std::string(what) + ")",
                   {},
                   std::nullopt};
    default:
      return KafkaError(err,
                        std::string(what) + " for partition " + PartitionName(topic, partition));
  }
}

Error GroupError(rd_kafka_resp_err_t err, const std::string& group, std::string_view reason) {
  if (err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
    return Error{ErrorCode::kPermissionDenied,
                 "not authorized to read group '" + group + "'",
                 {},
                 std::nullopt};
  }
  Error e = KafkaError(err, "committed offsets of group '" + group + "'");
  if (!reason.empty() && reason != rd_kafka_err2str(err))
    e.message += " (" + std::string(reason) + ")";
  return e;
}

void PartitionIndex::AddTopic(const std::string& topic, int32_t partitions) {
  topics_.try_emplace(topic, Entry{base_, partitions});
  base_ += static_cast<size_t>(partitions);
}

std::optional<size_t> PartitionIndex::Find(const char* topic, int32_t partition) const {
  const auto it = topics_.find(topic);
  if (it == topics_.end()) return std::nullopt;
  if (partition < 0 || partition >= it->second.partitions) return std::nullopt;
  return it->second.base + static_cast<size_t>(partition);
}

std::vector<PartitionList> ChunksOf(const Observation& obs, int64_t offset, size_t chunk) {
  std::vector<PartitionList> chunks;
  for (size_t base = 0; base < obs.partitions.size(); base += chunk) {
    const size_t end = std::min(obs.partitions.size(), base + chunk);
    PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(end - base)));
    for (size_t i = base; i < end; ++i) {
      const auto& p = obs.partitions[i];
      rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset = offset;
    }
    chunks.push_back(std::move(list));
  }
  return chunks;
}

Error LacksPartitions(std::string_view what, int64_t missing) {
  return Error{ErrorCode::kIncomplete,
               std::string(what) + " answer lacks " + std::to_string(missing) + " partition(s)",
               {},
               std::nullopt};
}

std::optional<Error> MissingPartitions(const std::vector<bool>& seen, std::string_view what) {
  const auto missing = std::count(seen.begin(), seen.end(), false);
  if (missing == 0) return std::nullopt;
  return LacksPartitions(what, missing);
}

void CheckComplete(const std::vector<bool>& seen, std::string_view what, ErrorCollector& errors) {
  if (auto e = MissingPartitions(seen, what)) errors.Add(std::move(*e), true);
}

std::vector<rd_kafka_resp_err_t> OffsetsForTimesEach(
    rd_kafka_t* rk, std::vector<PartitionList*>& jobs, size_t workers,
    std::chrono::steady_clock::time_point deadline) {
  std::atomic<size_t> next{0};
  std::vector<rd_kafka_resp_err_t> results(jobs.size(), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto work = [&] {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      results[i] = rd_kafka_offsets_for_times(rk, jobs[i]->get(), RemainingMs(deadline));
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (size_t t = 1; t < std::min(workers, jobs.size()); ++t) helpers.emplace_back(work);
    work();
  }
  return results;
}

rd_kafka_resp_err_t OffsetsForTimes(rd_kafka_t* rk, std::vector<PartitionList*>& jobs,
                                    size_t workers,
                                    std::chrono::steady_clock::time_point deadline) {
  for (auto err : OffsetsForTimesEach(rk, jobs, workers, deadline)) {
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return err;
  }
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

Result<int32_t> PartitionCountOf(const rd_kafka_metadata_topic_t& t) {
  const std::string topic(t.topic);
  switch (t.err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      break;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      return MakeError(ErrorCode::kNotFound, "topic '" + topic + "' does not exist");
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      return MakeError(ErrorCode::kPermissionDenied,
                       "not authorized to describe topic '" + topic + "'");
    default:
      return MakeError(KafkaError(t.err, "metadata for topic '" + topic + "'"));
  }
  if (t.partition_cnt <= 0) {
    return MakeError(ErrorCode::kIncomplete, "topic '" + topic + "' has no partitions");
  }
  std::vector<bool> ids(static_cast<size_t>(t.partition_cnt), false);
  for (int i = 0; i < t.partition_cnt; ++i) {
    const int32_t id = t.partitions[i].id;
    if (id < 0 || id >= t.partition_cnt || ids[static_cast<size_t>(id)]) {
      return MakeError(ErrorCode::kProtocol,
                       "metadata for topic '" + topic + "' has unexpected partition ids");
    }
    ids[static_cast<size_t>(id)] = true;
  }
  return t.partition_cnt;
}

bool IsUnknownTopic(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
}

GroupCommitsRequest::GroupCommitsRequest(rd_kafka_t* rk,
                                         std::chrono::steady_clock::time_point deadline)
    : rk_(rk), deadline_(deadline), queue_(rd_kafka_queue_new(rk)) {}

GroupCommitsRequest::~GroupCommitsRequest() = default;  // answers still due are dropped

void GroupCommitsRequest::Add(const std::string& group, PartitionList partitions) {
  pending_.push_back(Pending{group, std::move(partitions), 0});
  Send(pending_.size() - 1);
}

void GroupCommitsRequest::Send(size_t i) {
  Pending& p = pending_[i];
  ++p.attempts;
  ++sent_;
  RdPtr<rd_kafka_AdminOptions_t> options(
      rd_kafka_AdminOptions_new(rk_, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS));
  std::array<char, 256> errstr{};
  // Never the deadline: a request librdkafka times out can abort the process later
  // (librdkafka#4605, offsets.h). Wait() stops waiting at the deadline instead.
  (void)rd_kafka_AdminOptions_set_request_timeout(options.get(), kAdminRequestTimeoutMs,
                                                  errstr.data(), errstr.size());
  // The opaque is the index into pending_ (stable: pending_ only grows before Wait).
  rd_kafka_AdminOptions_set_opaque(options.get(), reinterpret_cast<void*>(i));
  RdPtr<rd_kafka_ListConsumerGroupOffsets_t> request(
      rd_kafka_ListConsumerGroupOffsets_new(p.group.c_str(), p.partitions.get()));
  rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
  rd_kafka_ListConsumerGroupOffsets(rk_, requests, 1, options.get(), queue_.get());
}

namespace {

bool IsCoordinatorMoving(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
         err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
         err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
}

}  // namespace

std::unordered_map<std::string, Result<PartitionList>> GroupCommitsRequest::Wait() {
  std::unordered_map<std::string, Result<PartitionList>> out;
  size_t due = pending_.size();
  std::vector<std::pair<size_t, std::chrono::steady_clock::time_point>> retries;
  while (due > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline_) break;
    // Re-send the groups whose pause is over.
    for (auto it = retries.begin(); it != retries.end();) {
      if (it->second <= now) {
        Send(it->first);
        it = retries.erase(it);
      } else {
        ++it;
      }
    }
    const int wait_ms = retries.empty() ? std::min(RemainingMs(deadline_), 1000) : 20;
    RdPtr<rd_kafka_event_t> ev(rd_kafka_queue_poll(queue_.get(), wait_ms));
    if (!ev) continue;
    const auto* result = rd_kafka_event_ListConsumerGroupOffsets_result(ev.get());
    if (result == nullptr) continue;  // not ours
    const size_t i = reinterpret_cast<size_t>(rd_kafka_event_opaque(ev.get()));
    if (i >= pending_.size()) continue;
    Pending& p = pending_[i];
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev.get());
    std::string reason = err != RD_KAFKA_RESP_ERR_NO_ERROR && rd_kafka_event_error_string(ev.get())
                             ? rd_kafka_event_error_string(ev.get())
                             : "";
    const rd_kafka_topic_partition_list_t* partitions = nullptr;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      size_t n = 0;
      const rd_kafka_group_result_t** groups =
          rd_kafka_ListConsumerGroupOffsets_result_groups(result, &n);
      if (n != 1) {
        err = RD_KAFKA_RESP_ERR__BAD_MSG;
        reason = "answer names " + std::to_string(n) + " groups";
      } else if (const rd_kafka_error_t* gerr = rd_kafka_group_result_error(groups[0])) {
        err = rd_kafka_error_code(gerr);
        reason = rd_kafka_error_string(gerr);
      } else {
        partitions = rd_kafka_group_result_partitions(groups[0]);
      }
    }
    if (IsCoordinatorMoving(err) &&
        std::chrono::steady_clock::now() + std::chrono::milliseconds(100) < deadline_) {
      retries.emplace_back(i, std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
      continue;
    }
    --due;
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
      out.emplace(p.group,
                  MakeError(ErrorCode::kTimeout,
                            "no answer from the coordinator of group '" + p.group + "' in time"));
    } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      out.emplace(p.group, MakeError(GroupError(err, p.group, reason)));
    } else {
      out.emplace(p.group, PartitionList(rd_kafka_topic_partition_list_copy(partitions)));
    }
  }
  abandoned_ = due > retries.size();  // groups in `retries` have no request in flight
  for (const auto& p : pending_) {
    if (!out.contains(p.group)) {
      out.emplace(p.group,
                  MakeError(ErrorCode::kTimeout,
                            "no answer from the coordinator of group '" + p.group + "' in time"));
    }
  }
  return out;
}

Error ExplainFailure(Error error, KafkaClient& client, const std::string& bootstrap_servers) {
  if (error.code != ErrorCode::kTimeout && error.code != ErrorCode::kUnavailable) return error;
  // What librdkafka saw underneath explains a timeout better: brokers down, bad credentials.
  rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_NO_ERROR;
  const std::string broker_error = client.TakeBrokerError(&code);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__TRANSPORT ||
      code == RD_KAFKA_RESP_ERR__RESOLVE) {
    error.code = ErrorCode::kUnavailable;
    error.message =
        "brokers unreachable (" + bootstrap_servers + "): " + broker_error + "; " + error.message;
  } else if (CodeOf(code) == ErrorCode::kUnauthenticated) {
    error.code = ErrorCode::kUnauthenticated;
    error.message = "authentication failed: " + broker_error + "; " + error.message;
  } else if (code == RD_KAFKA_RESP_ERR__SSL) {  // e.g. a server certificate from another CA
    error.code = ErrorCode::kUnavailable;
    error.message = "TLS with the brokers failed (" + bootstrap_servers + "): " + broker_error +
                    "; " + error.message;
  }
  return error;
}

void LogPatternTopics(Logger& log, const std::string& pattern_source,
                      const std::vector<std::string>& topics,
                      std::optional<std::vector<std::string>>& logged, Fields extra) {
  if (logged == topics) return;
  auto absent = [](const std::vector<std::string>& from, const std::string& name) {
    return std::find(from.begin(), from.end(), name) == from.end();
  };
  std::string joined, added, removed;
  for (const auto& n : topics) {
    joined += (joined.empty() ? "" : ",") + n;
    if (!logged || absent(*logged, n)) added += (added.empty() ? "" : ",") + n;
  }
  for (const auto& n : logged.value_or(std::vector<std::string>{})) {
    if (absent(topics, n)) removed += (removed.empty() ? "" : ",") + n;
  }
  Fields fields = std::move(extra);
  fields.push_back({"pattern", "re:" + pattern_source});
  fields.push_back({"topics", joined});
  fields.push_back({"added", added});
  fields.push_back({"removed", removed});
  log.Info("kafka: topics matching the pattern changed", std::move(fields));
  logged = topics;
}

}  // namespace kafka_autoscaler::kafka
