#include "config/topic_pattern.h"

namespace kafka_autoscaler::config {

Result<TopicPattern> TopicPattern::Parse(const std::string& source) {
  if (source.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "the regular expression after re: is empty");
  }
  if (source.size() > kMaxTopicPatternLength) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the regular expression after re: is longer than " +
                         std::to_string(kMaxTopicPatternLength) + " characters");
  }
  try {
    // __polynomial (libstdc++): matching by the breadth-first executor, linear in the name for
    // a given pattern. The default depth-first one backtracks exponentially on patterns like
    // (a|aa)*c (26 characters took 0.12 s, a 249-character topic name would never end) and
    // would hang the tick. The price: back-references (\1) are refused.
    return TopicPattern(
        source, std::regex(source, std::regex::ECMAScript | std::regex_constants::__polynomial));
  } catch (const std::regex_error& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid regular expression after re: (" + std::string(e.what()) + ")");
  }
}

bool TopicPattern::Matches(const std::string& topic) const {
  if (topic.starts_with("__") && !source_.starts_with("__")) return false;
  try {
    return std::regex_match(topic, re_);
  } catch (const std::regex_error&) {  // e.g. error_complexity: no match rather than a crash
    return false;
  }
}

}  // namespace kafka_autoscaler::config
