// Client: a small Kubernetes API client on libcurl, used by the Deployment scale target, the
// event recorder and the lease lock.
//
// A Client owns one libcurl easy handle (and with it one reused connection to the API server).
// It is thread-safe: requests from several threads are serialized on an internal mutex, so a
// slow request delays the others; each request is bounded by `ClientOptions::timeout`.
//
// Credentials: a static bearer token, or a token file that is re-read when it is older than
// `token_refresh` (bound service-account tokens rotate; client-go re-reads once a minute) and
// again at once when the server answers 401 with the cached token. TLS is verified against the
// configured CA unless `insecure_skip_tls_verify` is set. ClientOptions is built by
// kube_config.h (in-cluster or kubeconfig) or by hand in tests.
//
// Errors: transport failures map to kUnavailable (refused, reset, TLS) or kTimeout; HTTP errors
// map by status (401 kUnauthenticated, 403 kPermissionDenied, 404 kNotFound, 409 kConflict,
// 429 kResourceExhausted with retry_after, 5xx kUnavailable, 504 kTimeout, other 4xx
// kInvalidArgument). The message names the verb and resource that failed and ends with the
// HTTP status and the Status body's reason and message; `details` repeats them as
// "http_status: 403", "reason: Forbidden", "message: ..." lines for programs. A response body
// above `max_response_bytes` (16 MiB) is kProtocol ("answer larger than 16 MiB").
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace kafka_autoscaler::kube {

struct ClientOptions {
  std::string server;  // "https://10.0.0.1:443"; no trailing slash needed
  // Trust: PEM data, or a file read once at Create(). Neither: the system trust store.
  std::string ca_pem;
  std::string ca_file;
  // Client certificate and key (PEM data or files); both or neither.
  std::string client_cert_pem;
  std::string client_cert_file;
  std::string client_key_pem;
  std::string client_key_file;
  // Bearer credentials: a static token, or a file re-read every `token_refresh`.
  std::string token;
  std::string token_file;
  std::chrono::seconds token_refresh{60};            // default 60 s
  bool insecure_skip_tls_verify = false;             // default false: TLS is verified
  std::chrono::milliseconds timeout{10'000};         // whole request; default 10 s
  std::chrono::milliseconds connect_timeout{5'000};  // TCP + TLS connect; default 5 s
  std::string user_agent = "kafka-autoscaler";
  // Largest response body accepted; a larger one (a broken proxy, a hostile server) fails the
  // request with kProtocol instead of growing memory without bound. Default 16 MiB.
  size_t max_response_bytes = size_t{16} << 20;
  // Namespace the credentials came with (kubeconfig context or in-cluster namespace file);
  // empty when unknown. Informational: requests always name their namespace.
  std::string default_namespace;
};

// What a request is about, for error messages: verb "patch", resource "deployments/scale",
// namespace "default", name "my-deployment".
struct RequestInfo {
  std::string verb;
  std::string resource;
  std::string namespace_name;
  std::string name;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// The parts of a metav1.Status body a caller may branch on.
struct ApiStatus {
  std::string reason;   // "Forbidden", "Conflict", "NotFound", ...
  std::string message;  // the server's sentence
};

// Parses a Status body; empty fields when the body is not a Status.
ApiStatus ParseApiStatus(const std::string& body);

// Builds the Error for a non-2xx response (see the header comment for the mapping).
Error ErrorFromResponse(const HttpResponse& response, const RequestInfo& info);

class Client {
 public:
  // Validates options and reads the CA and client-certificate files. Errors: kInvalidArgument
  // for an empty server or unreadable files.
  [[nodiscard]] static Result<std::unique_ptr<Client>> Create(ClientOptions options,
                                                              const Clock& clock);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one request and returns the response whatever its status; errors are transport
  // failures only (kUnavailable, kTimeout) or an unreadable token file (kUnauthenticated).
  // `path` starts with '/' and may carry a query string. `content_type` is set when `body` is.
  [[nodiscard]] Result<HttpResponse> Do(const std::string& method, const std::string& path,
                                        const std::string& body = "",
                                        const std::string& content_type = "");

  // Sends a request whose answer is JSON: the parsed body on 2xx, ErrorFromResponse otherwise
  // (kProtocol when a 2xx body is not JSON). `info` names the request in errors.
  [[nodiscard]] Result<nlohmann::json> Call(const std::string& method, const std::string& path,
                                            const RequestInfo& info,
                                            const nlohmann::json* body = nullptr,
                                            const std::string& content_type = "application/json");

  // Receives the body of a streamed answer piece by piece; false ends the stream.
  using StreamHandler = std::function<bool(std::string_view)>;

  // A GET whose 2xx body goes to `on_data` as it arrives instead of into the response (a
  // watch); a non-2xx body is returned in the response as with Do(). Ends when the server
  // closes the stream, `on_data` returns false, `cancelled` returns true (checked about once a
  // second), or ClientOptions::timeout passes (kTimeout). Serialized with other requests, so a
  // watch should have a Client of its own.
  [[nodiscard]] Result<HttpResponse> Stream(const std::string& path, const StreamHandler& on_data,
                                            const std::function<bool()>& cancelled);

  const ClientOptions& options() const { return options_; }

 private:
  struct Curl;  // wraps the CURL* handle; defined in client.cc
  Client(ClientOptions options, const Clock& clock, std::unique_ptr<Curl> curl);
  // Returns the bearer token to send, re-reading the token file when due or `force`d.
  Result<std::string> Token(bool force);
  Result<HttpResponse> DoLocked(const std::string& method, const std::string& path,
                                const std::string& body, const std::string& content_type,
                                const std::string& token, const StreamHandler* stream,
                                const std::function<bool()>* cancelled);

  const ClientOptions options_;
  const Clock& clock_;
  std::mutex mu_;
  std::unique_ptr<Curl> curl_;               // guarded by mu_
  std::string file_token_;                   // guarded by mu_
  std::optional<SteadyTime> token_read_at_;  // guarded by mu_
};

// Percent-encodes `s` for a query-string value.
std::string UrlEncode(const std::string& s);

}  // namespace kafka_autoscaler::kube
