#include "kafka/shared_observer.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <unordered_map>
#include <utility>

#include "config/topic_pattern.h"
#include "kafka/kafka_client.h"
#include "kafka/lag.h"
#include "kafka/offsets.h"

namespace kafka_autoscaler::kafka {
namespace {

using SteadyClock = std::chrono::steady_clock;

// One topic of the pass's metadata view.
struct TopicView {
  Result<int32_t> partitions = 0;  // or why the topic cannot be used
  std::vector<int32_t> leaders;    // leader broker id per partition (-1: none)
};

// The metadata view of one pass: every topic of the answer by name.
struct MetadataView {
  std::unordered_map<std::string, TopicView> topics;
  std::vector<std::string> names;  // every topic of the answer (pattern matching)
  bool all_topics = false;         // the answer lists every topic of the cluster
};

struct TopicLayout {
  std::string topic;
  int32_t partitions = 0;
};

// A target's state during one pass.
struct TargetPass {
  const TargetQuery* query = nullptr;
  std::vector<TopicLayout> layout;
  std::optional<Error> error;  // set: the target failed before the offsets
  Observation obs;
  PartitionIndex index;
  std::vector<size_t> union_at;  // for each of obs.partitions, its index in the union
};

// Per-partition error of the union (the first one kept), with its staleness.
struct PartitionFault {
  Error error;
  bool stale = false;
};

class SharedObserverImpl final : public SharedObserver {
 public:
  SharedObserverImpl(ClusterOptions options, const Clock& clock, Logger* logger)
      : options_(std::move(options)), clock_(clock), logger_(logger) {}

  Status EnsureClient() {
    if (client_ && !recreate_client_) return OkStatus();
    topic_handles_.clear();  // they belong to the old handle
    client_.reset();         // stops the old client's threads first
    ClientProperties p = options_.properties;
    p.entries.push_back({"group.id", options_.observer_group});
    p.entries.push_back({"enable.auto.commit", "false"});
    p.entries.push_back({"enable.auto.offset.store", "false"});
    auto client =
        KafkaClient::Create(options_.bootstrap_servers, p, logger_, options_.on_statistics);
    if (!client) return MakeError(client.error());
    client_ = std::move(*client);
    recreate_client_ = false;
    int64_t created = 0;
    {
      std::lock_guard lock(mu_);
      created = ++counts_.clients_created;
    }
    if (created > 1 && logger_ != nullptr) {
      logger_->Info("kafka: recreated the shared client",
                    {{"cluster", options_.name},
                     {"reason", std::string(recreate_reason_)},
                     {"clients_created", created}});
    }
    return OkStatus();
  }

  std::map<std::string, Result<Observation>> Observe(
      const std::vector<TargetQuery>& targets) override {
    const SteadyTime deadline = SteadyClock::now() + options_.timeout;
    {
      std::lock_guard lock(mu_);
      ++counts_.passes;
    }
    std::map<std::string, Result<Observation>> out;
    std::vector<const TargetQuery*> due;
    for (const auto& t : targets) {
      if (auto s = Validate(t); !s) {
        out.insert_or_assign(t.key, MakeError(s.error().WithContext("kafka")));
      } else {
        due.push_back(&t);
      }
    }
    examined_.clear();
    pass_shrunk_.clear();
    if (client_) (void)client_->TakeBrokerError();  // only what happens now explains a failure
    bool any_retryable = false;
    for (int attempt = 0; attempt < 3 && !due.empty(); ++attempt) {
      if (auto s = EnsureClient(); !s) {
        for (const auto* t : due)
          out.insert_or_assign(t->key, MakeError(s.error().WithContext("kafka")));
        return out;
      }
      std::vector<const TargetQuery*> stale;
      for (auto& [query, result, is_stale] : PassOnce(due, deadline)) {
        const bool last = attempt == 2 || SteadyClock::now() >= deadline;
        if (!result && is_stale && !last) {
          stale.push_back(query);
          continue;
        }
        if (!result) {
          Error e = ExplainFailure(result.error(), *client_, options_.bootstrap_servers);
          any_retryable = any_retryable || IsRetryable(e.code);
          result = MakeError(e.WithContext("kafka"));
        }
        out.insert_or_assign(query->key, std::move(result));
      }
      due = std::move(stale);  // a leader moved or a partition vanished: re-read metadata
    }
    // A smaller count is remembered for the topic's next pass only (topics not in this pass keep
    // theirs: targets tick at their own intervals).
    for (const auto& topic : examined_) {
      if (auto it = pass_shrunk_.find(topic); it != pass_shrunk_.end()) {
        shrink_seen_[topic] = it->second;
      } else {
        shrink_seen_.erase(topic);
      }
    }
    // A cluster-wide failure (every target failed retryably) starts the next pass from a new
    // client, as KafkaMetricSource does (librdkafka 2.0.2 handles stay stuck after an outage).
    if (any_retryable && std::none_of(out.begin(), out.end(),
                                      [](const auto& kv) { return kv.second.has_value(); })) {
      recreate_client_ = true;
      recreate_reason_ = "every target failed";
    }
    return out;
  }

  RequestCounts stats() const override {
    std::lock_guard lock(mu_);
    return counts_;
  }

 private:
  Status Validate(const TargetQuery& t) {
    if (t.topic_pattern) {
      auto it = patterns_.find(*t.topic_pattern);
      if (it == patterns_.end()) {
        if (patterns_.size() > 10'000) patterns_.clear();  // bounded under churn
        it = patterns_.emplace(*t.topic_pattern, config::TopicPattern::Parse(*t.topic_pattern))
                 .first;
      }
      if (!it->second) return MakeError(it->second.error().WithContext("topic pattern"));
    } else if (t.topics.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "no topic to watch");
    }
    if (t.group && t.group->empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "the consumer group name is empty");
    }
    return OkStatus();
  }

  // Partitions are never removed from a Kafka topic, so a smaller count than this observer saw
  // comes from a broker whose metadata lags, or from a topic deleted and recreated. As
  // KafkaMetricSource::CheckNoShrink: the first sighting fails the targets on that topic
  // (kIncomplete: the lost partitions' backlog would otherwise vanish for a tick); the same
  // smaller count on the topic's next pass is taken as a recreated topic and used. A layout that
  // passes records its counts.
  std::optional<Error> CheckNoShrink(const std::vector<TopicLayout>& layout) {
    std::optional<Error> error;
    for (const auto& l : layout) {
      examined_.insert(l.topic);
      const auto seen = partitions_seen_.find(l.topic);
      if (seen == partitions_seen_.end() || l.partitions >= seen->second) continue;
      const auto before = shrink_seen_.find(l.topic);
      if (before != shrink_seen_.end() && before->second == l.partitions) continue;
      pass_shrunk_[l.topic] = l.partitions;
      if (!error) error = ShrunkTopicError(l.topic, l.partitions, seen->second);
    }
    if (error) return error;
    if (partitions_seen_.size() > 100'000) partitions_seen_.clear();  // bounded under churn
    for (const auto& l : layout) {
      auto [it, added] = partitions_seen_.try_emplace(l.topic, l.partitions);
      if (added || it->second == l.partitions) continue;
      if (logger_ != nullptr) {
        if (l.partitions < it->second) {
          logger_->Warn(
              "kafka: topic has fewer partitions than before (recreated?); using them",
              {{"topic", l.topic}, {"from", int64_t{it->second}}, {"to", int64_t{l.partitions}}});
        } else {
          logger_->Info(
              "kafka: partition count changed",
              {{"topic", l.topic}, {"from", int64_t{it->second}}, {"to", int64_t{l.partitions}}});
        }
      }
      it->second = l.partitions;
    }
    return std::nullopt;
  }

  // The set of topics a pattern matches, logged once per change (including the first set) for
  // all the targets that share the pattern, as KafkaMetricSource logs its own.
  void LogPatternChange(const std::string& pattern, const std::vector<TopicLayout>& layout) {
    if (logger_ == nullptr) return;
    std::vector<std::string> names;
    for (const auto& l : layout) names.push_back(l.topic);
    if (pattern_topics_.size() > 10'000) pattern_topics_.clear();  // bounded under churn
    LogPatternTopics(*logger_, pattern, names, pattern_topics_[pattern],
                     {{"cluster", options_.name}});
  }

  // One Metadata request: every topic when a target has a pattern or the batch names more than
  // max_listed_topics topics, else the batch's topics (librdkafka asks for the topics it knows
  // locally: the handles held here, plus its cache).
  Result<MetadataView> ReadMetadata(const std::vector<const TargetQuery*>& targets,
                                    SteadyTime deadline) {
    std::set<std::string> wanted;
    for (const auto* t : targets) wanted.insert(t->topics.begin(), t->topics.end());
    const bool all = wanted.size() > options_.max_listed_topics ||
                     std::any_of(targets.begin(), targets.end(),
                                 [](const TargetQuery* t) { return t->topic_pattern.has_value(); });
    if (all) {
      topic_handles_.clear();
    } else {
      // Forget handles of topics no target watches any more; create the new ones.
      for (auto it = topic_handles_.begin(); it != topic_handles_.end();) {
        it = wanted.contains(it->first) ? std::next(it) : topic_handles_.erase(it);
      }
      for (const auto& topic : wanted) {
        if (topic_handles_.contains(topic)) continue;
        RdPtr<rd_kafka_topic_t> rkt(rd_kafka_topic_new(client_->handle(), topic.c_str(), nullptr));
        if (!rkt) return MakeError(KafkaError(rd_kafka_last_error(), "topic '" + topic + "'"));
        topic_handles_.emplace(topic, std::move(rkt));
      }
    }
    const rd_kafka_metadata_t* raw = nullptr;
    {
      std::lock_guard lock(mu_);
      ++counts_.metadata;
    }
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(client_->handle(), all ? 1 : 0, nullptr, &raw, RemainingMs(deadline));
    RdPtr<const rd_kafka_metadata_t> md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return MakeError(KafkaError(err, all ? "metadata (all topics)" : "metadata"));
    }
    MetadataView view;
    view.all_topics = all;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      if (t.topic == nullptr) continue;
      TopicView v;
      v.partitions = PartitionCountOf(t);
      if (v.partitions) {
        v.leaders.assign(static_cast<size_t>(*v.partitions), -1);
        for (int p = 0; p < t.partition_cnt; ++p) {
          v.leaders[static_cast<size_t>(t.partitions[p].id)] = t.partitions[p].leader;
        }
      }
      view.names.emplace_back(t.topic);
      view.topics.insert_or_assign(t.topic, std::move(v));
    }
    return view;
  }

  // The topics a target observes in the view (KafkaMetricSource's rules: listed topics in
  // their order, each must exist; a pattern's matches sorted by name, unknown ones dropped,
  // none at all is kNotFound).
  Result<std::vector<TopicLayout>> LayoutOf(const TargetQuery& t, const MetadataView& view) {
    std::vector<TopicLayout> layout;
    if (!t.topic_pattern) {
      for (const auto& topic : t.topics) {
        const auto it = view.topics.find(topic);
        if (it == view.topics.end() && view.all_topics) {
          return MakeError(ErrorCode::kNotFound, "topic '" + topic + "' does not exist");
        }
        if (it == view.topics.end()) {
          return MakeError(ErrorCode::kIncomplete, "metadata answer lacks topic '" + topic + "'");
        }
        if (!it->second.partitions) return MakeError(it->second.partitions.error());
        layout.push_back(TopicLayout{topic, *it->second.partitions});
      }
      return layout;
    }
    const auto& pattern = *patterns_.at(*t.topic_pattern);
    for (const auto& name : view.names) {
      const TopicView& v = view.topics.at(name);
      if (!pattern.Matches(name)) continue;
      if (!v.partitions && v.partitions.error().code == ErrorCode::kNotFound) continue;
      if (!v.partitions) return MakeError(v.partitions.error());
      layout.push_back(TopicLayout{name, *v.partitions});
    }
    if (layout.empty()) {
      return MakeError(ErrorCode::kNotFound, "no topic matches re:" + pattern.source() + " (of " +
                                                 std::to_string(view.names.size()) +
                                                 " in the cluster)");
    }
    std::sort(layout.begin(), layout.end(),
              [](const TopicLayout& a, const TopicLayout& b) { return a.topic < b.topic; });
    return layout;
  }

  struct Outcome {
    const TargetQuery* query;
    Result<Observation> result;
    bool stale;
  };
  static Outcome Failed(const TargetQuery* query, Error error, bool stale) {
    return Outcome{query, tl::unexpected<Error>(std::move(error)), stale};
  }

  std::vector<Outcome> PassOnce(const std::vector<const TargetQuery*>& targets,
                                SteadyTime deadline) {
    std::vector<Outcome> outcomes;
    auto view = ReadMetadata(targets, deadline);
    if (!view) {  // cluster-wide: every target fails with the same error
      for (const auto* t : targets) outcomes.push_back(Failed(t, view.error(), false));
      return outcomes;
    }

    // Each target's layout, and the union of their partitions (each topic once).
    std::vector<TargetPass> passes(targets.size());
    Observation all;  // the union, topic by topic
    PartitionIndex all_index;
    union_base_.clear();
    auto& topic_base = union_base_;
    std::vector<int32_t> leaders;  // of each union partition
    for (size_t i = 0; i < targets.size(); ++i) {
      TargetPass& tp = passes[i];
      tp.query = targets[i];
      auto layout = LayoutOf(*tp.query, *view);
      if (!layout) {
        tp.error = layout.error();
        continue;
      }
      if (auto shrunk = CheckNoShrink(*layout)) {
        tp.error = std::move(*shrunk);
        continue;
      }
      tp.layout = std::move(*layout);
      if (tp.query->topic_pattern) LogPatternChange(*tp.query->topic_pattern, tp.layout);
      for (const auto& l : tp.layout) {
        if (topic_base.contains(l.topic)) continue;
        topic_base.emplace(l.topic, all.partitions.size());
        all_index.AddTopic(l.topic, l.partitions);
        const auto& v = view->topics.at(l.topic);
        for (int32_t p = 0; p < l.partitions; ++p) {
          all.partitions.push_back(PartitionOffsets{.topic = l.topic, .partition = p});
          leaders.push_back(v.leaders[static_cast<size_t>(p)]);
        }
      }
    }
    rd_kafka_t* rk = client_->handle();

    // Commits: one request per distinct group, for the partitions of all its targets; sent
    // first so that they overlap the ListOffsets rounds.
    GroupCommitsRequest commits(rk, deadline);
    {
      std::map<std::string, std::set<std::string>> group_topics;
      for (const auto& tp : passes) {
        if (tp.error || !tp.query->group) continue;
        for (const auto& l : tp.layout) group_topics[*tp.query->group].insert(l.topic);
      }
      for (const auto& [group, topics] : group_topics) {
        PartitionList list(rd_kafka_topic_partition_list_new(0));
        for (const auto& topic : topics) {
          const size_t base = topic_base.at(topic);
          for (size_t i = base; i < all.partitions.size() && all.partitions[i].topic == topic;
               ++i) {
            rd_kafka_topic_partition_list_add(list.get(), topic.c_str(),
                                              all.partitions[i].partition);
          }
        }
        commits.Add(group, std::move(list));
      }
    }

    // Watermarks of the union: latest and earliest, in chunks that each hold partitions of
    // one leader only (per this pass's metadata), so that each chunk is one ListOffsets
    // request: 2 × Σ_broker ⌈partitions led / chunk⌉ requests a pass, instead of up to
    // brokers × that when chunks mixed leaders.
    std::map<int32_t, Observation> by_leader;
    for (size_t i = 0; i < all.partitions.size(); ++i) {
      by_leader[leaders[i]].partitions.push_back(PartitionOffsets{
          .topic = all.partitions[i].topic, .partition = all.partitions[i].partition});
    }
    std::vector<PartitionList> latest, earliest;
    for (const auto& [leader, part] : by_leader) {
      for (auto& l : ChunksOf(part, RD_KAFKA_OFFSET_END, options_.chunk_partitions)) {
        latest.push_back(std::move(l));
      }
      for (auto& l : ChunksOf(part, RD_KAFKA_OFFSET_BEGINNING, options_.chunk_partitions)) {
        earliest.push_back(std::move(l));
      }
    }
    std::vector<PartitionList*> jobs;
    for (auto& l : latest) jobs.push_back(&l);
    for (auto& l : earliest) jobs.push_back(&l);
    auto list_requests = static_cast<int64_t>(jobs.size());
    const std::vector<rd_kafka_resp_err_t> errs =
        OffsetsForTimesEach(rk, jobs, options_.parallel_requests, deadline);

    std::vector<std::optional<PartitionFault>> faults(all.partitions.size());
    auto fault = [&](size_t at, Error e, bool stale) {
      if (!faults[at]) faults[at] = PartitionFault{std::move(e), stale};
    };
    std::vector<bool> latest_seen(all.partitions.size()), earliest_seen(all.partitions.size());
    for (size_t j = 0; j < jobs.size(); ++j) {
      const bool is_latest = j < latest.size();
      const char* what = is_latest ? "list offsets (latest)" : "list offsets (earliest)";
      auto& seen = is_latest ? latest_seen : earliest_seen;
      const rd_kafka_topic_partition_list_t* list = jobs[j]->get();
      ApplyOffsetsEach(
          list, all_index, what, errs[j] != RD_KAFKA_RESP_ERR_NO_ERROR, seen,
          [&](size_t i, int64_t off) {
            (is_latest ? all.partitions[i].high : all.partitions[i].low) = off;
          },
          fault);
      if (errs[j] == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      // A call-level error fails the partitions of that chunk only.
      for (int k = 0; k < list->cnt; ++k) {
        const auto at = all_index.Find(list->elems[k].topic, list->elems[k].partition);
        if (!at) continue;
        seen[*at] = true;
        if (errs[j] == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
          fault(*at,
                Error{ErrorCode::kPermissionDenied,
                      "not authorized to read topic '" + all.partitions[*at].topic + "'",
                      {},
                      std::nullopt},
                false);
        } else {
          fault(*at, KafkaError(errs[j], "list offsets"), IsStaleMetadata(errs[j]));
        }
      }
    }

    auto group_results = commits.Wait();
    // Requests still in flight must end with their handle, before librdkafka could time them
    // out (librdkafka#4605, kafka/offsets.h): the next pass starts from a new client.
    if (commits.abandoned()) {
      recreate_client_ = true;
      recreate_reason_ = "a consumer group's commits were still being read at the deadline";
    }
    list_requests += ListAgainBehindCommits(rk, all, all_index, group_results, faults, latest_seen,
                                            fault, deadline);
    {
      std::lock_guard lock(mu_);
      counts_.list_offsets += list_requests;
      counts_.offset_fetch += commits.sent();
    }

    const SteadyTime at = clock_.Now();
    for (auto& tp : passes) {
      if (tp.error) {
        outcomes.push_back(Failed(tp.query, *tp.error, false));
        continue;
      }
      outcomes.push_back(Finish(tp, all, faults, latest_seen, earliest_seen, group_results, at));
    }
    return outcomes;
  }

  // The union's partitions where some group's commit lies beyond the watermark read with it
  // are asked their latest offset again (ListLatestAgain): 1 request when there are any, else 0.
  template <typename Fault>
  static int64_t ListAgainBehindCommits(
      rd_kafka_t* rk, Observation& all, const PartitionIndex& all_index,
      const std::unordered_map<std::string, Result<PartitionList>>& group_results,
      const std::vector<std::optional<PartitionFault>>& faults,
      const std::vector<bool>& latest_seen, Fault& fault, SteadyTime deadline) {
    std::vector<size_t> ahead;
    std::vector<bool> marked(all.partitions.size());
    for (const auto& [group, commits] : group_results) {
      if (!commits) continue;
      const rd_kafka_topic_partition_list_t* list = commits->get();
      for (int k = 0; k < list->cnt; ++k) {
        const rd_kafka_topic_partition_t& e = list->elems[k];
        const auto at = all_index.Find(e.topic, e.partition);
        if (!at || marked[*at] || faults[*at] || !latest_seen[*at] ||
            e.err != RD_KAFKA_RESP_ERR_NO_ERROR ||
            !IsInvalidCommit(all.partitions[*at].high, e.offset)) {
          continue;
        }
        marked[*at] = true;
        ahead.push_back(*at);
      }
    }
    const rd_kafka_resp_err_t err = ListLatestAgain(rk, all, all_index, ahead, deadline, fault);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (size_t at : ahead) fault(at, KafkaError(err, "list offsets"), IsStaleMetadata(err));
    }
    return ahead.empty() ? 0 : 1;
  }

  // A target's observation from the union's answers and its group's commits, with
  // KafkaMetricSource's error rules (partition errors first, then gaps, then the group).
  Outcome Finish(TargetPass& tp, const Observation& all,
                 const std::vector<std::optional<PartitionFault>>& faults,
                 const std::vector<bool>& latest_seen, const std::vector<bool>& earliest_seen,
                 std::unordered_map<std::string, Result<PartitionList>>& group_results,
                 SteadyTime at) {
    ErrorCollector errors;
    Observation& obs = tp.obs;
    std::vector<bool> lseen, eseen;
    for (const auto& l : tp.layout) {
      tp.index.AddTopic(l.topic, l.partitions);
      const size_t base = union_base_.at(l.topic);
      for (int32_t p = 0; p < l.partitions; ++p) {
        const size_t u = base + static_cast<size_t>(p);
        PartitionOffsets po = all.partitions[u];
        obs.partitions.push_back(std::move(po));
        lseen.push_back(latest_seen[u]);
        eseen.push_back(earliest_seen[u]);
        if (faults[u]) errors.Add(faults[u]->error, faults[u]->stale);
      }
    }
    CheckComplete(lseen, "list offsets (latest)", errors);
    CheckComplete(eseen, "list offsets (earliest)", errors);
    if (tp.query->group) {
      const auto it = group_results.find(*tp.query->group);
      if (it == group_results.end() || !it->second) {
        if (errors.empty()) {
          errors.Add(it == group_results.end()
                         ? Error{ErrorCode::kInternal, "group not asked", {}, std::nullopt}
                         : it->second.error(),
                     false);
        }
      } else {
        const std::string what = "committed offsets of group '" + *tp.query->group + "'";
        std::vector<bool> seen(tp.index.size());
        ApplyOffsets(it->second->get(), tp.index, what, true, errors, seen,
                     [&](size_t i, int64_t off) {
                       if (off >= 0) obs.partitions[i].committed = off;
                     });
        CheckComplete(seen, what, errors);
      }
    }
    if (!errors.empty()) {
      const bool stale = errors.stale();
      return Failed(tp.query, errors.Take(), stale);
    }
    ComputeBacklog(obs, tp.query->group.has_value(), tp.query->offset_reset);
    obs.at = at;
    return {tp.query, std::move(obs), false};
  }

  ClusterOptions options_;
  const Clock& clock_;
  Logger* logger_;
  std::unique_ptr<KafkaClient> client_;
  bool recreate_client_ = false;
  std::string_view recreate_reason_;  // why the next pass starts from a new client (logged)
  std::map<std::string, RdPtr<rd_kafka_topic_t>> topic_handles_;
  std::map<std::string, Result<config::TopicPattern>> patterns_;
  // pattern source → the topics it matched when last logged (LogPatternChange)
  std::map<std::string, std::optional<std::vector<std::string>>> pattern_topics_;
  // Index of each topic's partition 0 in the pass's union (topics are contiguous there).
  std::unordered_map<std::string, size_t> union_base_;
  // CheckNoShrink: the partition count last used per topic; a smaller count seen on the topic's
  // last pass; and, within a pass, the topics examined and those found smaller.
  std::map<std::string, int32_t> partitions_seen_;
  std::map<std::string, int32_t> shrink_seen_;
  std::set<std::string> examined_;
  std::map<std::string, int32_t> pass_shrunk_;
  mutable std::mutex mu_;
  RequestCounts counts_;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<SharedObserver>> SharedObserver::Create(ClusterOptions options,
                                                               const Clock& clock, Logger* logger) {
  if (options.chunk_partitions == 0 || options.parallel_requests == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kafka: chunk_partitions and parallel_requests must be positive");
  }
  if (options.timeout <= std::chrono::milliseconds::zero()) {
    return MakeError(ErrorCode::kInvalidArgument, "kafka: the pass timeout must be positive");
  }
  if (options.observer_group.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "kafka: the observer's group.id is empty");
  }
  auto observer = std::make_unique<SharedObserverImpl>(std::move(options), clock, logger);
  RETURN_IF_ERROR(observer->EnsureClient());
  return std::unique_ptr<SharedObserver>(std::move(observer));
}

}  // namespace kafka_autoscaler::kafka
