// TopicPattern: the regular-expression form of KAFKA_TOPIC, `re:<ECMAScript regex>`.
//
// The whole value after `re:` is one std::regex (ECMAScript grammar), matched against the whole
// topic name (std::regex_match, not search): `re:orders-.*` matches `orders-eu` but not
// `old-orders-eu`. Commas belong to the regex (`re:a{1,3}`), so a pattern is never mixed with
// a comma-separated list; use alternation instead (`re:orders|payments`).
//
// Matching is linear in the topic name (libstdc++'s breadth-first executor), so no pattern can
// hang a tick; back-references (\1) are therefore refused, and so is a repetition count above
// 1,000 ({n}, {n,m}), whose digits libstdc++ would read without a bound. At most 1,000
// characters.
//
// Kafka's internal topics (names starting with "__": __consumer_offsets, __transaction_state)
// never match unless the pattern itself starts with "__": `re:.*` watches every user topic but
// not the offsets topic, whose "backlog" is the cluster's bookkeeping, not work.
//
// Thread-safety: immutable after Parse; Matches may be called from any thread.
#pragma once

#include <regex>
#include <string>
#include <string_view>

#include "common/result.h"

namespace kafka_autoscaler::config {

inline constexpr std::string_view kTopicPatternPrefix = "re:";
inline constexpr size_t kMaxTopicPatternLength = 1000;

class TopicPattern {
 public:
  // `source` is the regex without the `re:` prefix. kInvalidArgument when empty, too long, or
  // when std::regex rejects it (its message is in the error).
  [[nodiscard]] static Result<TopicPattern> Parse(const std::string& source);

  bool Matches(const std::string& topic) const;
  const std::string& source() const { return source_; }

 private:
  TopicPattern(std::string source, std::regex re)
      : source_(std::move(source)), re_(std::move(re)) {}
  std::string source_;
  std::regex re_;
};

}  // namespace kafka_autoscaler::config
