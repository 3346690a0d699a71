#include "many/per_target_observer.h"

#include <utility>

namespace kafka_autoscaler::many {
namespace {

constexpr int64_t kForgetAfterPasses = 1000;

bool SameQuery(const kafka::TargetQuery& a, const kafka::TargetQuery& b) {
  return a.topics == b.topics && a.topic_pattern == b.topic_pattern && a.group == b.group &&
         a.offset_reset == b.offset_reset;
}

}  // namespace

PerTargetObserver::PerTargetObserver(kafka::ClusterOptions options, const Clock& clock,
                                     Logger* logger)
    : options_(std::move(options)), clock_(clock), logger_(logger) {}

std::map<std::string, Result<kafka::Observation>> PerTargetObserver::Observe(
    const std::vector<kafka::TargetQuery>& targets) {
  const int64_t pass = ++counts_.passes;
  std::map<std::string, Result<kafka::Observation>> out;
  for (const auto& q : targets) {
    Entry& e = sources_[q.key];
    if (!e.source || !SameQuery(e.query, q)) {
      kafka::KafkaSourceOptions o;
      o.bootstrap_servers = options_.bootstrap_servers;
      o.properties = options_.properties;
      o.timeout = options_.timeout;
      o.topics = q.topics;
      o.topic_pattern = q.topic_pattern;
      o.group = q.group;
      o.offset_reset = q.offset_reset;
      auto source = kafka::KafkaMetricSource::Create(std::move(o), clock_, logger_);
      if (!source) {
        sources_.erase(q.key);
        out.emplace(q.key, MakeError(source.error()));
        continue;
      }
      e.query = q;
      e.source = std::move(*source);
    }
    e.last_pass = pass;
    out.emplace(q.key, e.source->Fetch());
  }
  std::erase_if(sources_,
                [pass](const auto& kv) { return pass - kv.second.last_pass > kForgetAfterPasses; });
  return out;
}

}  // namespace kafka_autoscaler::many
