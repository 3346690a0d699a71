// Offsets plumbing shared by KafkaMetricSource (one target) and SharedObserver (many targets):
// partition errors worded for a person, the index of an observation's partitions, chunked
// ListOffsets calls, the copy of an offsets answer into an observation, and the partition count
// of a Metadata answer, and the log of a pattern's matched topics. Private to src/kafka (and its
// tests).
#pragma once

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "kafka/kafka_client.h"
#include "kafka/observation.h"

namespace kafka_autoscaler::kafka {

// The first error seen in an answer, kept by severity: a person must act on authorization and
// missing topics, so those win over transient ones. `stale` marks errors that a metadata
// refresh and a retry may cure.
class ErrorCollector {
 public:
  void Add(Error e, bool stale);
  bool empty() const { return !first_; }
  bool stale() const { return stale_; }
  // The kept error, with "(and n more)" when there were several. Only when !empty().
  Error Take();

 private:
  std::optional<Error> first_;
  size_t count_ = 0;
  bool stale_ = false;
};

// "topic/partition".
[[nodiscard]] std::string PartitionName(const char* topic, int32_t partition);

// An error about one partition of an offsets answer, worded for a person.
[[nodiscard]] Error PartitionError(rd_kafka_resp_err_t err, const char* topic, int32_t partition,
                                   std::string_view what);

// An error of a consumer group's OffsetFetch answer (authorization is kPermissionDenied).
[[nodiscard]] Error GroupError(rd_kafka_resp_err_t err, const std::string& group,
                               std::string_view reason);

// Index of (topic, partition) in an observation laid out topic by topic, partitions 0..n-1.
// Find() is O(1) (a hash of the topic names), so an index over thousands of topics stays cheap.
class PartitionIndex {
 public:
  void AddTopic(const std::string& topic, int32_t partitions);
  size_t size() const { return base_; }
  std::optional<size_t> Find(const char* topic, int32_t partition) const;

 private:
  struct Entry {
    size_t base;
    int32_t partitions;
  };
  std::unordered_map<std::string, Entry> topics_;  // the first AddTopic of a name wins
  size_t base_ = 0;
};

// Chunks of at most `chunk` partitions of `obs`, each offset set to `offset` (librdkafka 2.0.2's
// answer matching is quadratic in a request's size, so chunks keep a fetch linear).
[[nodiscard]] std::vector<PartitionList> ChunksOf(const Observation& obs, int64_t offset,
                                                  size_t chunk);

// Copies one offsets answer into the observation through `set(index, offset)`, marking `seen`;
// per-partition errors and negative offsets go to `on_error(index, error, stale)`.
template <typename Setter, typename OnError>
void ApplyOffsetsEach(const rd_kafka_topic_partition_list_t* list, const PartitionIndex& index,
                      std::string_view what, bool allow_negative, std::vector<bool>& seen,
                      Setter&& set, OnError&& on_error) {
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& e = list->elems[i];
    const auto at = index.Find(e.topic, e.partition);
    if (!at) continue;  // not asked for
    seen[*at] = true;
    if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      on_error(*at, PartitionError(e.err, e.topic, e.partition, what), IsStaleMetadata(e.err));
      continue;
    }
    if (e.offset < 0 && !allow_negative) {
      on_error(*at,
               Error{ErrorCode::kIncomplete,
                     std::string(what) + " gave no offset for partition " +
                         PartitionName(e.topic, e.partition),
                     {},
                     std::nullopt},
               false);
    }
    set(*at, e.offset);
  }
}

// ApplyOffsetsEach with every error going to `errors`.
template <typename Setter>
void ApplyOffsets(const rd_kafka_topic_partition_list_t* list, const PartitionIndex& index,
                  std::string_view what, bool allow_negative, ErrorCollector& errors,
                  std::vector<bool>& seen, Setter&& set) {
  ApplyOffsetsEach(list, index, what, allow_negative, seen, std::forward<Setter>(set),
                   [&](size_t, Error e, bool stale) { errors.Add(std::move(e), stale); });
}

// The "answer lacks n partition(s)" error (stale: a retry may cure it) when `seen` has gaps.
[[nodiscard]] std::optional<Error> MissingPartitions(const std::vector<bool>& seen,
                                                     std::string_view what);
// The kIncomplete error of an answer that lacks `missing` partitions.
[[nodiscard]] Error LacksPartitions(std::string_view what, int64_t missing);
void CheckComplete(const std::vector<bool>& seen, std::string_view what, ErrorCollector& errors);

// Runs rd_kafka_offsets_for_times (synchronous; one ListOffsets request per leader broker of
// the list) on every job, `workers` threads at a time (the caller included). Returns each
// job's call-level error (per-partition errors stay in the lists).
[[nodiscard]] std::vector<rd_kafka_resp_err_t> OffsetsForTimesEach(
    rd_kafka_t* rk, std::vector<PartitionList*>& jobs, size_t workers,
    std::chrono::steady_clock::time_point deadline);
// The first call-level error of OffsetsForTimesEach, or NO_ERROR.
[[nodiscard]] rd_kafka_resp_err_t OffsetsForTimes(rd_kafka_t* rk, std::vector<PartitionList*>& jobs,
                                                  size_t workers,
                                                  std::chrono::steady_clock::time_point deadline);

// A commit beyond the watermark it was read with is not always invalid: the watermarks and
// the commits are asked at once and the commits may be answered later (another broker, a
// coordinator lookup first), so a group that keeps up can consume and commit past the watermark
// in between. Asks the latest offsets of the partitions `ahead` (indexes into `obs`) again, now
// that their commits are in, and raises each one's `high` to the answer: a valid commit is at
// or below it, and only a commit beyond it too is invalid. One ListOffsets round for the few
// partitions concerned; per-partition errors go to `on_error(index, error, stale)`; returns the
// call-level error (NO_ERROR when none; nothing asked when `ahead` is empty).
template <typename OnError>
[[nodiscard]] rd_kafka_resp_err_t ListLatestAgain(rd_kafka_t* rk, Observation& obs,
                                                  const PartitionIndex& index,
                                                  const std::vector<size_t>& ahead,
                                                  std::chrono::steady_clock::time_point deadline,
                                                  OnError&& on_error) {
  if (ahead.empty()) return RD_KAFKA_RESP_ERR_NO_ERROR;
  PartitionList again(rd_kafka_topic_partition_list_new(static_cast<int>(ahead.size())));
  for (size_t i : ahead) {
    const auto& p = obs.partitions[i];
    rd_kafka_topic_partition_list_add(again.get(), p.topic.c_str(), p.partition)->offset =
        RD_KAFKA_OFFSET_END;
  }
  std::vector<PartitionList*> jobs{&again};
  const rd_kafka_resp_err_t err = OffsetsForTimes(rk, jobs, 1, deadline);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return err;
  std::vector<bool> seen(obs.partitions.size());
  ApplyOffsetsEach(
      again.get(), index, "list offsets (latest)", false, seen,
      [&](size_t i, int64_t off) {
        obs.partitions[i].high = std::max(obs.partitions[i].high, off);
      },
      on_error);
  for (size_t i : ahead) {
    if (!seen[i]) {
      on_error(i, LacksPartitions("list offsets (latest)", 1), true);
    }
  }
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

// The partition count of one topic of a Metadata answer, or why it cannot be used.
[[nodiscard]] Result<int32_t> PartitionCountOf(const rd_kafka_metadata_topic_t& t);
[[nodiscard]] bool IsUnknownTopic(rd_kafka_resp_err_t err);

// Committed offsets of many consumer groups from one handle: one admin ListConsumerGroupOffsets
// (one OffsetFetch to the group's coordinator) per group, all in flight at once on one queue.
// The handle MUST carry a group.id of its own (never joined): librdkafka 2.0.2 answers a
// NOT_COORDINATOR reply by dereferencing the handle's consumer group, which is null without a
// group.id (librdkafka#5040; proven by shared_observer_test's death test). A group whose
// coordinator moved (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE)
// is asked again after a short pause while the deadline allows.
//
// librdkafka#4605 (2.0.2): an admin request that times out while its coordinator request still
// waits for the coordinator's connection leaves that coordinator request behind, and when the
// connection comes up it frees the request's state and reads it again (abort:
// rd_kafka_enq_once_del_source_return, `eonce->refcnt > 0`). So the admin requests here carry
// librdkafka's longest timeout (an hour), never the pass's deadline: Wait() gives up at the
// deadline without librdkafka timing anything out, and abandoned() tells the owner that
// requests are still in flight — the handle must then be destroyed (which ends them safely)
// before it is used for another hour; SharedObserver destroys it before its next pass.
// librdkafka's longest admin request timeout (rd_kafka_AdminOptions_set_request_timeout): what a
// coordinator request carries so that librdkafka never times it out (librdkafka#4605, below).
inline constexpr int kAdminRequestTimeoutMs = 3600 * 1000;

class GroupCommitsRequest {
 public:
  GroupCommitsRequest(rd_kafka_t* rk, std::chrono::steady_clock::time_point deadline);
  ~GroupCommitsRequest();
  GroupCommitsRequest(const GroupCommitsRequest&) = delete;
  GroupCommitsRequest& operator=(const GroupCommitsRequest&) = delete;

  // Sends the request for `group` (partitions: the ones wanted, any offsets).
  void Add(const std::string& group, PartitionList partitions);
  // Waits for every group's answer: its partitions with committed offsets
  // (RD_KAFKA_OFFSET_INVALID where none, per-partition errors in the elements), or the group's
  // error (kTimeout when the deadline passed first).
  [[nodiscard]] std::unordered_map<std::string, Result<PartitionList>> Wait();
  // OffsetFetch requests asked of librdkafka so far (retries included).
  int64_t sent() const { return sent_; }
  // True when Wait() returned with requests still in flight (deadline passed first).
  bool abandoned() const { return abandoned_; }

 private:
  struct Pending {
    std::string group;
    PartitionList partitions;  // kept for a retry
    int attempts = 0;
  };
  void Send(size_t pending);

  rd_kafka_t* rk_;
  std::chrono::steady_clock::time_point deadline_;
  RdPtr<rd_kafka_queue_t> queue_;
  std::vector<Pending> pending_;
  int64_t sent_ = 0;
  bool abandoned_ = false;
};

// A failed observation's error, made clearer by what librdkafka saw underneath (brokers down,
// bad credentials, TLS): a timeout or unavailability becomes kUnavailable / kUnauthenticated
// with the broker-level reason. Consumes the client's recorded broker error.
[[nodiscard]] Error ExplainFailure(Error error, KafkaClient& client,
                                   const std::string& bootstrap_servers);

// Logs "kafka: topics matching the pattern changed" (pattern, topics, added, removed, plus
// `extra`) when `topics` differs from `logged` — once per change, including the first set — and
// sets `logged` to it. `topics` in the order they are used (sorted by name).
void LogPatternTopics(Logger& log, const std::string& pattern_source,
                      const std::vector<std::string>& topics,
                      std::optional<std::vector<std::string>>& logged, Fields extra = {});

}  // namespace kafka_autoscaler::kafka
