// PerTargetObserver: a SharedObserver made of one KafkaMetricSource per target. TEMPORARY, for
// many-targets mode until kafka::SharedObserver's implementation (one client per cluster)
// lands; it has the same contract (one result per target, failures per target) but none of its
// savings: a librdkafka client per target, one Fetch per target per pass.
//
// Sources are created on a target's first query and re-created when its query changes;
// targets not asked for in `kForgetAfterPasses` passes are dropped. Thread-safety: as
// SharedObserver (Observe not reentrant).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "kafka/kafka_source.h"
#include "kafka/shared_observer.h"

namespace kafka_autoscaler::many {

class PerTargetObserver final : public kafka::SharedObserver {
 public:
  PerTargetObserver(kafka::ClusterOptions options, const Clock& clock, Logger* logger);

  std::map<std::string, Result<kafka::Observation>> Observe(
      const std::vector<kafka::TargetQuery>& targets) override;
  kafka::RequestCounts stats() const override { return counts_; }

 private:
  struct Entry {
    kafka::TargetQuery query;
    std::unique_ptr<kafka::KafkaMetricSource> source;
    int64_t last_pass = 0;
  };
  kafka::ClusterOptions options_;
  const Clock& clock_;
  Logger* logger_;
  std::map<std::string, Entry> sources_;
  kafka::RequestCounts counts_;
};

}  // namespace kafka_autoscaler::many
