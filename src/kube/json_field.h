// Field: the one way kube/ reads a value out of an API server answer (Lease, Scale, Deployment,
// PATCH/PUT/POST answers, Status bodies). An answer can be any JSON at all (a proxy, a broken
// or hostile server): nlohmann's operator[], at() and value() throw or assert on a wrong type,
// and an exception escaping a tick or the elector thread ends the process. Field never throws.
//
//   Field<std::string>(lease, {"metadata", "resourceVersion"}, "")
//
// walks `path` through nested objects and returns the value there:
//   - absent or null anywhere along the path: `fallback` (the API server omits empty fields);
//   - present with another type (an array where an object goes, a number where a string goes, a
//     string where a number goes, a fraction or an out-of-range number for an int32_t):
//     kProtocol naming the path and the type found.
// T is one of std::string, int32_t, int64_t, bool.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/result.h"

namespace kafka_autoscaler::kube {

namespace json_field_internal {

// The first `count` keys of `path`, dotted; "(answer)" for none.
inline std::string PathName(std::initializer_list<std::string_view> path, size_t count) {
  std::string out;
  size_t i = 0;
  for (std::string_view key : path) {
    if (i++ >= count) break;
    if (!out.empty()) out += '.';
    out += key;
  }
  return out.empty() ? "(answer)" : out;
}

inline Error WrongType(std::initializer_list<std::string_view> path, size_t count,
                       const nlohmann::json& found, std::string_view wanted) {
  return Error{ErrorCode::kProtocol,
               "unexpected answer: '" + PathName(path, count) + "' is " +
                   std::string(found.type_name()) + ", not " + std::string(wanted),
               {},
               std::nullopt};
}

}  // namespace json_field_internal

template <typename T>
[[nodiscard]] Result<T> Field(const nlohmann::json& answer,
                              std::initializer_list<std::string_view> path, T fallback) {
  using json_field_internal::WrongType;
  const nlohmann::json* at = &answer;
  size_t depth = 0;
  for (std::string_view key : path) {
    if (!at->is_object()) {
      return MakeError(WrongType(path, depth, *at, "an object"));
    }
    const auto it = at->find(key);
    if (it == at->end() || it->is_null()) return fallback;
    at = &*it;
    ++depth;
  }
  const size_t last = path.size();
  if constexpr (std::is_same_v<T, std::string>) {
    if (!at->is_string()) return MakeError(WrongType(path, last, *at, "a string"));
    return at->template get_ref<const std::string&>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!at->is_boolean()) return MakeError(WrongType(path, last, *at, "a boolean"));
    return at->template get<bool>();
  } else {
    static_assert(std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>);
    if (at->is_number_unsigned()) {
      const auto v = at->template get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return MakeError(WrongType(path, last, *at, "a number in range"));
      }
      return static_cast<T>(v);
    }
    if (!at->is_number_integer()) {
      return MakeError(WrongType(path, last, *at, "an integer"));
    }
    const auto v = at->template get<int64_t>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
      return MakeError(WrongType(path, last, *at, "a number in range"));
    }
    return static_cast<T>(v);
  }
}

}  // namespace kafka_autoscaler::kube
