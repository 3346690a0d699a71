// Result<T> and Status: the one error-handling vocabulary of kafka-autoscaler.
//
// Every fallible function returns Result<T> (a value or an Error) or Status (nothing or an
// Error). Errors carry a code that callers branch on and that metrics count ("errors by
// kind"), a message a person can act on, and optional details (one line per problem, used by
// configuration validation to list every problem at once). Exceptions from libraries are
// caught at the edge and turned into Error. Values of these types are plain data and safe to
// copy between threads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace kafka_autoscaler {

enum class ErrorCode {
  kInvalidArgument,    // bad configuration or input; fix it, retrying will not help
  kUnavailable,        // peer unreachable or refusing connections; retryable
  kTimeout,            // the deadline passed before an answer; retryable
  kNotFound,           // topic, group, Deployment... does not exist
  kUnauthenticated,    // credentials missing or rejected (HTTP 401, SASL failure)
  kPermissionDenied,   // authenticated but not allowed (HTTP 403, Kafka *_AUTHORIZATION_FAILED)
  kConflict,           // optimistic-concurrency conflict (HTTP 409)
  kResourceExhausted,  // throttled (HTTP 429); retry_after may say when
  kIncomplete,         // an answer that lacks part of what was asked (a missing partition)
  kProtocol,           // a malformed or unexpected answer from a peer
  kInternal,           // a broken invariant or an unexpected library failure
  kFailedPrecondition,  // refused before sending: not the leader (any more), or shutting down
};

// Stable snake_case name of a code, used as the `kind` label of error metrics and in logs.
constexpr std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kPermissionDenied: return "permission_denied";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kResourceExhausted: return "resource_exhausted";
    case ErrorCode::kIncomplete: return "incomplete";
    case ErrorCode::kProtocol: return "protocol";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kFailedPrecondition: return "failed_precondition";
  }
  return "unknown";
}

// Every ErrorCode, for vocabularies built from them (metrics pre-create one error series per
// kind). metrics_test checks that no code is missing.
inline constexpr ErrorCode kAllErrorCodes[] = {
    ErrorCode::kInvalidArgument, ErrorCode::kUnavailable,       ErrorCode::kTimeout,
    ErrorCode::kNotFound,        ErrorCode::kUnauthenticated,   ErrorCode::kPermissionDenied,
    ErrorCode::kConflict,        ErrorCode::kResourceExhausted, ErrorCode::kIncomplete,
    ErrorCode::kProtocol,        ErrorCode::kInternal,          ErrorCode::kFailedPrecondition,
};

// True for codes where the same request may succeed later without any change by a person.
constexpr bool IsRetryable(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kTimeout ||
         code == ErrorCode::kConflict || code == ErrorCode::kResourceExhausted;
}

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::vector<std::string> details;  // one line per problem, when there are several
  std::optional<std::chrono::milliseconds> retry_after;  // from Retry-After, when the peer said

  // Returns this error with `context` prepended: "kafka: list offsets: " + message.
  [[nodiscard]] Error WithContext(std::string_view context) const {
    Error e = *this;
    e.message = std::string(context) + ": " + message;
    return e;
  }
  // The message followed by every detail line, indented.
  [[nodiscard]] std::string ToString() const {
    std::string out = message;
    for (const auto& d : details) out += "\n  - " + d;
    return out;
  }
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

[[nodiscard]] inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message), {}, std::nullopt});
}
[[nodiscard]] inline tl::unexpected<Error> MakeError(Error error) {
  return tl::unexpected<Error>(std::move(error));
}
[[nodiscard]] inline Status OkStatus() { return {}; }

}  // namespace kafka_autoscaler

// Returns early from the enclosing function when `expr` (a Status or Result) holds an error.
#define RETURN_IF_ERROR(expr)                                                   \
  do {                                                                          \
    if (auto ka_status_ = (expr); !ka_status_) return tl::unexpected(ka_status_.error()); \
  } while (0)
