#include "promql_names.h"

#include <cctype>
#include <regex>

namespace kafka_autoscaler::monitoring_test {

namespace {

bool IdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IdentChar(char c) { return IdentStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

// Replaces string literals ("..", '..', `..`) with a space.
std::string WithoutStrings(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    const char q = in[i];
    if (q != '"' && q != '\'' && q != '`') {
      out.push_back(q);
      continue;
    }
    for (++i; i < in.size() && in[i] != q; ++i) {
      if (in[i] == '\\' && q != '`') ++i;
    }
    out.push_back(' ');
  }
  return out;
}

// Drops everything between `open` and `close` (no nesting in PromQL once strings are gone).
std::string WithoutBracketed(const std::string& in, char open, char close) {
  std::string out;
  int depth = 0;
  for (char c : in) {
    if (c == open) {
      ++depth;
      out.push_back(' ');
    } else if (c == close && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::set<std::string> MetricNames(const std::string& expr) {
  std::string s = WithoutStrings(expr);
  s = WithoutBracketed(s, '{', '}');
  s = WithoutBracketed(s, '[', ']');
  static const std::regex kLabelLists(
      R"(\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\))");
  s = std::regex_replace(s, kLabelLists, " ");
  static const std::set<std::string> kKeywords = {
      "by", "without", "on",     "ignoring", "group_left", "group_right", "bool", "and",
      "or", "unless",  "offset", "inf",      "nan",        "Inf",         "NaN"};
  std::set<std::string> names;
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '$') {  // Grafana variable
      for (++i; i < s.size() && IdentChar(s[i]); ++i) {
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {  // number, duration
      for (++i; i < s.size() && (IdentChar(s[i]) || s[i] == '.'); ++i) {
      }
    } else if (IdentStart(c)) {
      const size_t start = i;
      for (++i; i < s.size() && IdentChar(s[i]); ++i) {
      }
      const std::string word = s.substr(start, i - start);
      size_t next = i;
      while (next < s.size() && std::isspace(static_cast<unsigned char>(s[next]))) ++next;
      const bool call = next < s.size() && s[next] == '(';
      if (!call && !kKeywords.count(word)) names.insert(word);
    } else {
      ++i;
    }
  }
  return names;
}

}  // namespace kafka_autoscaler::monitoring_test
