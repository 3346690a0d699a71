#include "config/topic_pattern.h"

#include <optional>
#include <string>
#include <string_view>

namespace kafka_autoscaler::config {
namespace {

constexpr long kMaxRepeatCount = 1000;

// What std::regex would read into a long without a bound (libstdc++ overflows on 20 digits):
// a back-reference or any escaped digit (\1, \0123), refused by name, and a repetition count
// {n} or {n,m} above kMaxRepeatCount. Brackets and escapes are skipped as the ECMAScript
// grammar reads them, so `[{]` and `\{` are plain characters. The rest is left to std::regex.
std::optional<std::string> CheckNumbers(std::string_view source) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool in_class = false;
  for (size_t i = 0; i < source.size(); ++i) {
    const char c = source[i];
    if (c == '\\') {
      if (i + 1 < source.size() && digit(source[i + 1])) {
        return "back-references and escaped digits (\\1, \\0) are not supported";
      }
      ++i;  // the escaped character
    } else if (in_class) {
      if (c == ']') in_class = false;
    } else if (c == '[') {
      in_class = true;  // ECMAScript: the next unescaped ']' closes it, even right after '['
    } else if (c == '{') {
      for (size_t j = i + 1; j < source.size() && (digit(source[j]) || source[j] == ',');) {
        const size_t start = j;
        while (j < source.size() && digit(source[j])) ++j;
        if (j - start > 4 || (j > start && std::stol(std::string(source.substr(start, j - start))) >
                                               kMaxRepeatCount)) {
          return "a repetition count {n} is at most " + std::to_string(kMaxRepeatCount) +
                 " (a topic name has at most 249 characters)";
        }
        if (j < source.size() && source[j] == ',') ++j;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

Result<TopicPattern> TopicPattern::Parse(const std::string& source) {
  if (source.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "the regular expression after re: is empty");
  }
  if (source.size() > kMaxTopicPatternLength) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the regular expression after re: is longer than " +
                         std::to_string(kMaxTopicPatternLength) + " characters");
  }
  if (auto problem = CheckNumbers(source)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid regular expression after re: (" + *problem + ")");
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
