// The metric names a PromQL expression reads, for checking that dashboards and alert rules name
// only metrics the daemon exports. A tokenizer, not a parser (promtool checks the syntax): it
// drops string literals, label matchers {...}, range and subquery brackets [...], the label lists
// of by/without/on/ignoring/group_left/group_right, numbers and durations, Grafana variables
// ($name), keywords, and identifiers followed by "(" (functions and aggregations); what remains
// are metric names. Selectors written only as {__name__="..."} are not recognised. Pure function.
#pragma once

#include <set>
#include <string>

namespace kafka_autoscaler::monitoring_test {

std::set<std::string> MetricNames(const std::string& expr);

}  // namespace kafka_autoscaler::monitoring_test
