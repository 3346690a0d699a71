#include "kafka/kafka_source.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <sstream>
#include <thread>
#include <utility>

#include "kafka/kafka_client.h"
#include "kafka/lag.h"
#include "kafka/offsets.h"

namespace kafka_autoscaler::kafka {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The client's properties: the user's, plus, in group mode, the group whose commits
// rd_kafka_committed() reads (never subscribed: the handle does not join the group).
ClientProperties GroupProperties(const KafkaSourceOptions& options) {
  ClientProperties p = options.properties;
  if (options.group) {
    p.entries.push_back({"group.id", *options.group});
    p.entries.push_back({"enable.auto.commit", "false"});
    p.entries.push_back({"enable.auto.offset.store", "false"});
  }
  return p;
}

// OffsetFetch requests for a group: rd_kafka_committed() on the source's handle, which carries
// group.id but never subscribes (so it never joins the group it observes). One request per
// chunk of partitions, on up to `parallel` worker threads started at construction, so they
// overlap the ListOffsets rounds; Wait() joins them (each is bounded by the deadline).
// Not the admin ListConsumerGroupOffsets: librdkafka 2.0.2 dereferences a null group there when
// the broker answers NOT_COORDINATOR (librdkafka#5040), and coordinators move on every broker
// restart, so a rolling Kafka restart would crash the autoscaler.
class GroupOffsetsRequest {
 public:
  GroupOffsetsRequest(rd_kafka_t* rk, const std::string& group, std::vector<PartitionList> chunks,
                      SteadyClock::time_point deadline, int parallel)
      : group_(group), chunks_(std::move(chunks)), errors_(chunks_.size()) {
    const size_t workers = std::min<size_t>(std::max(parallel, 1), chunks_.size());
    for (size_t w = 0; w < workers; ++w) {
      workers_.emplace_back([this, rk, deadline, w, workers] {
        for (size_t i = w; i < chunks_.size(); i += workers) {
          errors_[i] = rd_kafka_committed(rk, chunks_[i].get(), RemainingMs(deadline));
        }
      });
    }
  }
  ~GroupOffsetsRequest() { Join(); }
  GroupOffsetsRequest(const GroupOffsetsRequest&) = delete;
  GroupOffsetsRequest& operator=(const GroupOffsetsRequest&) = delete;

  // The committed offsets of every chunk (RD_KAFKA_OFFSET_INVALID where none, per-partition
  // errors in each element), or the first request-level error.
  Result<std::vector<PartitionList>> Wait() {
    Join();
    for (const rd_kafka_resp_err_t err : errors_) {
      if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        return MakeError(ErrorCode::kTimeout,
                         "no answer from the coordinator of group '" + group_ + "' in time");
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return MakeError(GroupError(err, group_, rd_kafka_err2str(err)));
      }
    }
    return std::move(chunks_);
  }

 private:
  void Join() {
    for (auto& t : workers_) {
      if (t.joinable()) t.join();
    }
  }

  std::string group_;
  std::vector<PartitionList> chunks_;
  std::vector<rd_kafka_resp_err_t> errors_;  // one per chunk, written by its worker
  std::vector<std::thread> workers_;
};

}  // namespace

Result<KafkaSourceOptions> OptionsFromConfig(const config::Config& config) {
  KafkaSourceOptions o;
  o.bootstrap_servers = config.kafka_bootstrap_servers;
  o.topics = config.kafka_topics;
  o.topic_pattern = config.kafka_topic_pattern;
  o.group = config.kafka_consumer_group;
  o.offset_reset = config.offset_reset;
  o.timeout = config.TickDeadline();
  if (config.kafka_config_file) {
    auto props = LoadPropertiesFile(*config.kafka_config_file);
    if (!props) return MakeError(props.error());
    o.properties = std::move(*props);
  }
  return o;
}

Status ValidateProperties(const ClientProperties& properties) {
  RdPtr<rd_kafka_conf_t> conf(rd_kafka_conf_new());
  return ApplyProperties(conf.get(), properties);
}

KafkaMetricSource::KafkaMetricSource(KafkaSourceOptions options, const Clock& clock, Logger* logger)
    : options_(std::move(options)), clock_(clock), logger_(logger) {}

KafkaMetricSource::~KafkaMetricSource() = default;

Result<std::unique_ptr<KafkaMetricSource>> KafkaMetricSource::Create(KafkaSourceOptions options,
                                                                     const Clock& clock,
                                                                     Logger* logger) {
  std::optional<config::TopicPattern> pattern;
  if (options.topic_pattern) {
    auto parsed = config::TopicPattern::Parse(*options.topic_pattern);
    if (!parsed) return MakeError(parsed.error().WithContext("kafka: KAFKA_TOPIC"));
    pattern = std::move(*parsed);
  } else if (options.topics.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "kafka: no topic to watch");
  }
  if (options.group && options.group->empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "kafka: the consumer group name is empty");
  }
  if (options.chunk_partitions == 0 || options.parallel_requests == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kafka: chunk_partitions and parallel_requests must be positive");
  }
  if (options.timeout <= std::chrono::milliseconds::zero()) {
    return MakeError(ErrorCode::kInvalidArgument, "kafka: the fetch timeout must be positive");
  }
  std::unique_ptr<KafkaMetricSource> source(
      new KafkaMetricSource(std::move(options), clock, logger));
  source->pattern_ = std::move(pattern);
  RETURN_IF_ERROR(source->EnsureClient());
  return source;
}

Status KafkaMetricSource::EnsureClient() {
  if (client_ && !recreate_client_) return OkStatus();
  client_.reset();  // stops the old client's threads first
  auto client = KafkaClient::Create(options_.bootstrap_servers, GroupProperties(options_), logger_);
  if (!client) return MakeError(client.error());
  client_ = std::move(*client);
  recreate_client_ = false;
  layout_.clear();  // a new client learns leaders from its own first Metadata request
  ++clients_created_;
  if (clients_created_ > 1 && logger_ != nullptr) {
    logger_->Info("kafka: recreated the client after a failed observation",
                  {{"clients_created", int64_t{clients_created_}}});
  }
  return OkStatus();
}

// KAFKA_TOPIC as a list: one Metadata request per named topic (the request names only that
// topic, so its cost does not grow with the cluster). A missing topic is kNotFound.
Result<std::vector<KafkaMetricSource::TopicLayout>> KafkaMetricSource::ListedTopics(
    SteadyTime deadline) {
  std::vector<TopicLayout> layout;
  for (const auto& topic : options_.topics) {
    RdPtr<rd_kafka_topic_t> rkt(rd_kafka_topic_new(client_->handle(), topic.c_str(), nullptr));
    if (!rkt) {
      return MakeError(KafkaError(rd_kafka_last_error(), "topic '" + topic + "'"));
    }
    const rd_kafka_metadata_t* raw = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(client_->handle(), 0, rkt.get(), &raw, RemainingMs(deadline));
    RdPtr<const rd_kafka_metadata_t> md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return MakeError(KafkaError(err, "metadata for topic '" + topic + "'"));
    }
    const rd_kafka_metadata_topic_t* t = nullptr;
    for (int i = 0; i < md->topic_cnt; ++i) {
      if (topic == md->topics[i].topic) t = &md->topics[i];
    }
    if (t == nullptr) {
      return MakeError(ErrorCode::kIncomplete, "metadata answer lacks topic '" + topic + "'");
    }
    auto partitions = PartitionCountOf(*t);
    if (!partitions) return MakeError(partitions.error());
    layout.push_back(TopicLayout{topic, *partitions});
  }
  return layout;
}

// KAFKA_TOPIC=re:…: one Metadata request for all topics (its answer grows with the cluster's
// topics and partitions, about 30 bytes a partition: only pattern mode pays it), filtered by the
// pattern, sorted by name. A matching topic the answer calls unknown is being deleted: dropped.
// Any other error of a matching topic fails the observation (never a backlog without it).
// No matching topic at all is kNotFound: a failed observation, never a backlog of 0 (the
// daemon holds; docs/reliability.md).
Result<std::vector<KafkaMetricSource::TopicLayout>> KafkaMetricSource::MatchingTopics(
    SteadyTime deadline) {
  const rd_kafka_metadata_t* raw = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(client_->handle(), 1, nullptr, &raw, RemainingMs(deadline));
  RdPtr<const rd_kafka_metadata_t> md(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return MakeError(KafkaError(err, "metadata (all topics)"));
  std::vector<TopicLayout> layout;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (t.topic == nullptr || !Matches(t.topic) || IsUnknownTopic(t.err)) continue;
    auto partitions = PartitionCountOf(t);
    if (!partitions) return MakeError(partitions.error());
    layout.push_back(TopicLayout{t.topic, *partitions});
  }
  if (layout.empty()) {
    return MakeError(ErrorCode::kNotFound, "no topic matches KAFKA_TOPIC re:" + pattern_->source() +
                                               " (of " + std::to_string(md->topic_cnt) +
                                               " in the cluster)");
  }
  std::sort(layout.begin(), layout.end(),
            [](const TopicLayout& a, const TopicLayout& b) { return a.topic < b.topic; });
  return layout;
}

// The pattern's verdict on a topic name, remembered (a cluster's names rarely change, and a
// large pattern costs its size per character of each name, every tick).
bool KafkaMetricSource::Matches(const std::string& topic) {
  if (match_cache_.size() > 100'000) match_cache_.clear();  // bounded under topic churn
  const auto [it, added] = match_cache_.try_emplace(topic, false);
  if (added) it->second = pattern_->Matches(topic);
  return it->second;
}

// Partitions are never removed from a Kafka topic, so a smaller count than before comes from a
// broker whose metadata lags (KRaft brokers replay the controller's log asynchronously) or from
// a topic deleted and recreated. The first is transient and would drop a partition's backlog
// from one tick: the observation fails (kIncomplete). When the next refresh repeats the same
// smaller count it is taken as a recreated topic and accepted (one failed tick).
Status KafkaMetricSource::CheckNoShrink(const std::vector<TopicLayout>& layout) {
  std::map<std::string, int32_t> shrunk;
  std::optional<Error> error;
  for (const auto& l : layout) {
    const auto seen = partitions_seen_.find(l.topic);
    if (seen == partitions_seen_.end() || l.partitions >= seen->second) continue;
    const auto before = shrink_seen_.find(l.topic);
    if (before != shrink_seen_.end() && before->second == l.partitions) {
      if (logger_ != nullptr) {
        logger_->Warn(
            "kafka: topic has fewer partitions than before (recreated?); using them",
            {{"topic", l.topic}, {"from", int64_t{seen->second}}, {"to", int64_t{l.partitions}}});
      }
      continue;
    }
    shrunk[l.topic] = l.partitions;
    if (!error) error = ShrunkTopicError(l.topic, l.partitions, seen->second);
  }
  shrink_seen_ = std::move(shrunk);
  if (error) return MakeError(*error);
  return OkStatus();
}

// Logs partition counts that changed, and in pattern mode the set of topics in use whenever it
// changes (once per change, including the first set).
void KafkaMetricSource::LogChanges(const std::vector<TopicLayout>& layout) {
  if (logger_ == nullptr) return;
  for (const auto& l : layout) {
    const auto seen = partitions_seen_.find(l.topic);
    if (seen != partitions_seen_.end() && seen->second != l.partitions) {
      logger_->Info(
          "kafka: partition count changed",
          {{"topic", l.topic}, {"from", int64_t{seen->second}}, {"to", int64_t{l.partitions}}});
    }
  }
  if (!pattern_) return;
  std::vector<std::string> names;
  for (const auto& l : layout) names.push_back(l.topic);
  LogPatternTopics(*logger_, pattern_->source(), names, topics_logged_);
}

// Every Fetch reads the partition lists afresh (issue 13 item 6): a partition added to a topic
// counts on the next tick, and a deleted topic fails the next tick. The alternative, a cached
// list plus a cheap "did the count change" check, needs the same Metadata round trip, since the
// partition count is only in a Metadata answer; so the refresh itself is the cheap check. Its
// cost: one small request per listed topic (a few hundred bytes plus ~30 a partition), against
// the 2 × ListOffsets (+ OffsetFetch) a tick sends anyway (docs/performance.md).
Status KafkaMetricSource::RefreshMetadata(SteadyTime deadline) {
  layout_.clear();
  auto layout = pattern_ ? MatchingTopics(deadline) : ListedTopics(deadline);
  if (pattern_ && !layout && layout.error().code == ErrorCode::kNotFound &&
      topics_logged_ != std::vector<std::string>{} && logger_ != nullptr) {
    logger_->Warn("kafka: no topic matches the pattern; holding (a failed observation)",
                  {{"pattern", "re:" + pattern_->source()}});
    topics_logged_ = std::vector<std::string>{};
  }
  if (!layout) return MakeError(layout.error());
  RETURN_IF_ERROR(CheckNoShrink(*layout));
  LogChanges(*layout);
  partitions_seen_.clear();
  for (const auto& l : *layout) partitions_seen_[l.topic] = l.partitions;
  layout_ = std::move(*layout);
  ++metadata_refreshes_;
  return OkStatus();
}

std::vector<std::string> KafkaMetricSource::topics_in_use() const {
  std::vector<std::string> names;
  for (const auto& l : partitions_seen_) names.push_back(l.first);
  return names;
}

Result<Observation> KafkaMetricSource::FetchOnce(SteadyTime deadline) {
  Observation obs;
  PartitionIndex index;
  for (const auto& t : layout_) index.AddTopic(t.topic, t.partitions);
  obs.partitions.reserve(index.size());
  for (const auto& t : layout_) {
    for (int32_t p = 0; p < t.partitions; ++p) {
      obs.partitions.push_back(PartitionOffsets{.topic = t.topic, .partition = p});
    }
  }
  rd_kafka_t* rk = client_->handle();
  std::vector<PartitionList> latest = ChunksOf(obs, RD_KAFKA_OFFSET_END, options_.chunk_partitions);
  std::vector<PartitionList> earliest =
      ChunksOf(obs, RD_KAFKA_OFFSET_BEGINNING, options_.chunk_partitions);

  // The OffsetFetch requests go first so that they overlap the ListOffsets rounds.
  std::optional<GroupOffsetsRequest> group_request;
  if (options_.group) {
    group_request.emplace(rk, *options_.group,
                          ChunksOf(obs, RD_KAFKA_OFFSET_INVALID, options_.chunk_partitions),
                          deadline, options_.parallel_requests);
  }
  std::vector<PartitionList*> jobs;
  for (auto& l : latest) jobs.push_back(&l);
  for (auto& l : earliest) jobs.push_back(&l);
  const rd_kafka_resp_err_t err = OffsetsForTimes(rk, jobs, options_.parallel_requests, deadline);

  ErrorCollector errors;
  std::vector<bool> latest_seen(index.size()), earliest_seen(index.size());
  // Per-partition answers name the topic and say more (authorization...): they go first.
  for (const auto& l : latest) {
    ApplyOffsets(l.get(), index, "list offsets (latest)", err != RD_KAFKA_RESP_ERR_NO_ERROR, errors,
                 latest_seen, [&](size_t i, int64_t off) { obs.partitions[i].high = off; });
  }
  for (const auto& l : earliest) {
    ApplyOffsets(l.get(), index, "list offsets (earliest)", err != RD_KAFKA_RESP_ERR_NO_ERROR,
                 errors, earliest_seen,
                 [&](size_t i, int64_t off) { obs.partitions[i].low = off; });
  }
  if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
    std::string topics;
    for (const auto& t : layout_) topics += (topics.empty() ? "'" : ", '") + t.topic + "'";
    errors.Add(Error{ErrorCode::kPermissionDenied,
                     "not authorized to read topic " + topics,
                     {},
                     std::nullopt},
               false);
  } else if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    errors.Add(KafkaError(err, "list offsets"), IsStaleMetadata(err));
  } else {
    CheckComplete(latest_seen, "list offsets (latest)", errors);
    CheckComplete(earliest_seen, "list offsets (earliest)", errors);
  }
  if (group_request) {
    auto committed = group_request->Wait();
    if (!committed) {
      if (errors.empty()) errors.Add(committed.error(), false);
    } else {
      const std::string what = "committed offsets of group '" + *options_.group + "'";
      std::vector<bool> seen(index.size());
      for (const auto& l : *committed) {
        ApplyOffsets(l.get(), index, what, true, errors, seen, [&](size_t i, int64_t off) {
          if (off >= 0) obs.partitions[i].committed = off;
        });
      }
      CheckComplete(seen, what, errors);
    }
  }
  if (errors.empty() && group_request) {  // commits beyond the watermark: ListLatestAgain
    std::vector<size_t> ahead;
    for (size_t i = 0; i < obs.partitions.size(); ++i) {
      if (IsInvalidCommit(obs.partitions[i].high, obs.partitions[i].committed)) ahead.push_back(i);
    }
    const rd_kafka_resp_err_t again =
        ListLatestAgain(rk, obs, index, ahead, deadline,
                        [&](size_t, Error e, bool stale) { errors.Add(std::move(e), stale); });
    if (again != RD_KAFKA_RESP_ERR_NO_ERROR) {
      errors.Add(KafkaError(again, "list offsets"), IsStaleMetadata(again));
    }
  }
  if (!errors.empty()) {
    stale_ = errors.stale();
    return MakeError(errors.Take());
  }
  ComputeBacklog(obs, options_.group.has_value(), options_.offset_reset);
  obs.at = clock_.Now();
  return obs;
}

Result<Observation> KafkaMetricSource::Fetch() {
  const SteadyTime deadline = SteadyClock::now() + options_.timeout;
  Result<Observation> result = MakeError(ErrorCode::kInternal, "not attempted");
  // Serve queued librdkafka events and forget broker errors from before this Fetch, so that
  // only what happens now explains a failure (and the event queue never grows).
  if (client_) (void)client_->TakeBrokerError();
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0 && options_.stop != nullptr && options_.stop->Stopped()) {
      result = MakeError(result.error().WithContext("kafka: shutting down, not retrying"));
      break;
    }
    stale_ = false;
    if (auto s = EnsureClient(); !s) return MakeError(s.error().WithContext("kafka"));
    if (auto s = RefreshMetadata(deadline); !s) {  // every attempt: see RefreshMetadata
      result = MakeError(s.error());
      break;
    }
    result = FetchOnce(deadline);
    if (result || !stale_ || SteadyClock::now() >= deadline) break;
    // A leader moved or a partition vanished: the next attempt re-reads metadata.
  }
  if (result) return result;

  Error error = ExplainFailure(result.error(), *client_, options_.bootstrap_servers);
  if (IsRetryable(error.code)) recreate_client_ = true;
  return MakeError(error.WithContext("kafka"));
}

Result<std::unique_ptr<MetricSource>> MakeKafkaMetricSource(const config::Config& config,
                                                            const Clock& clock, Logger* logger,
                                                            const StopToken* stop) {
  auto options = OptionsFromConfig(config);
  if (!options) return MakeError(options.error());
  options->stop = stop;
  auto source = KafkaMetricSource::Create(std::move(*options), clock, logger);
  if (!source) return MakeError(source.error());
  return std::unique_ptr<MetricSource>(std::move(*source));
}

Result<std::string> ProbeKafka(const KafkaSourceOptions& options, const Clock& clock) {
  std::ostringstream report;
  const SteadyTime deadline = SteadyClock::now() + options.timeout;
  {
    auto client = KafkaClient::Create(options.bootstrap_servers, options.properties, nullptr);
    if (!client) return MakeError(client.error().WithContext("kafka check"));
    const rd_kafka_metadata_t* raw = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata((*client)->handle(), 0, nullptr, &raw, RemainingMs(deadline));
    RdPtr<const rd_kafka_metadata_t> md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Error e = KafkaError(err, "metadata from " + options.bootstrap_servers);
      rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_NO_ERROR;
      const std::string why = (*client)->TakeBrokerError(&code);
      if (!why.empty()) e.message += " (" + why + ")";
      if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__TRANSPORT) {
        e.code = ErrorCode::kUnavailable;
      } else if (CodeOf(code) == ErrorCode::kUnauthenticated) {
        e.code = ErrorCode::kUnauthenticated;
      }
      return MakeError(e.WithContext("kafka check"));
    }
    report << "kafka: " << md->broker_cnt << " broker(s) reachable via "
           << options.bootstrap_servers << "\n";
  }
  if (!options.properties.entries.empty()) {
    report << "  client properties: " << options.properties.Describe() << "\n";
  }
  auto source = KafkaMetricSource::Create(options, clock, nullptr);
  if (!source) return MakeError(source.error().WithContext("kafka check"));
  auto obs = (*source)->Fetch();
  if (!obs) return MakeError(obs.error().WithContext("kafka check"));
  // The topics observed: the listed ones, or those the pattern matched (check shows them).
  std::vector<std::string> topics;
  for (const auto& p : obs->partitions) {
    if (topics.empty() || topics.back() != p.topic) topics.push_back(p.topic);
  }
  if (options.topic_pattern) {
    report << "  KAFKA_TOPIC re:" << *options.topic_pattern << " matches " << topics.size()
           << " topic(s)\n";
  }
  for (const auto& topic : topics) {
    int32_t partitions = 0, committed = 0;
    int64_t held = 0, lag = 0;
    for (const auto& p : obs->partitions) {
      if (p.topic != topic) continue;
      ++partitions;
      held += TopicLag(p.low, p.high);
      lag += p.lag;
      if (p.committed) ++committed;
    }
    report << "  topic '" << topic << "': " << partitions << " partition(s), " << held
           << " message(s) held";
    if (options.group) {
      report << "; group '" << *options.group << "' has commits on " << committed << " of "
             << partitions << " partition(s), lag " << lag;
      if (committed == 0) {
        report << " (no commits at all: is the group name right, has it consumed yet?)";
      }
    }
    report << "\n";
  }
  report << "  backlog: " << obs->backlog << " ("
         << (options.group ? "group lag, reset policy " +
                                 std::string(config::OffsetResetPolicyName(options.offset_reset))
                           : std::string("messages held by the topic"))
         << ")";
  return report.str();
}

}  // namespace kafka_autoscaler::kafka
