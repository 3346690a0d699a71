#include "kube/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <utility>

#include "kube/json_field.h"

namespace kafka_autoscaler::kube {
namespace {

Result<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return MakeError(ErrorCode::kInvalidArgument, std::string(what) + ": cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Where a response body goes, up to a limit: past it the callback refuses the data and curl
// stops with CURLE_WRITE_ERROR (CURLOPT_MAXFILESIZE alone only sees a Content-Length).
// With `stream` set, the body of a 2xx answer goes to it piece by piece instead (a watch);
// a false return ends the transfer (CURLE_WRITE_ERROR, reported as `stream_ended`).
struct BodySink {
  std::string* body;
  size_t limit;
  bool too_large = false;
  CURL* handle = nullptr;
  const Client::StreamHandler* stream = nullptr;
  bool stream_ended = false;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  if (sink->stream != nullptr) {
    long status = 0;
    curl_easy_getinfo(sink->handle, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      if ((*sink->stream)(std::string_view(data, size * n))) return size * n;
      sink->stream_ended = true;
      return 0;
    }
  }
  if (sink->body->size() + size * n > sink->limit) {
    sink->too_large = true;
    return 0;
  }
  sink->body->append(data, size * n);
  return size * n;
}

// CURLOPT_XFERINFOFUNCTION: curl calls it about once a second even on an idle stream, so a
// cancelled watch ends within a second.
int CheckCancelled(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancelled = static_cast<const std::function<bool()>*>(user);
  return (*cancelled)() ? 1 : 0;
}

std::string MiB(size_t bytes) {
  return bytes % (size_t{1} << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                        : std::to_string(bytes) + " bytes";
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new response (after 100-continue)
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    (*headers)[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  return size * n;
}

std::string Describe(const RequestInfo& info) {
  std::string out = "'" + info.verb + "' on " + info.resource;
  if (!info.namespace_name.empty()) out += " in namespace '" + info.namespace_name + "'";
  return out;
}

}  // namespace

struct Client::Curl {
  CURL* handle = nullptr;
  ~Curl() {
    if (handle != nullptr) curl_easy_cleanup(handle);
  }
};

ApiStatus ParseApiStatus(const std::string& body) {
  ApiStatus status;
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  // Any JSON may come back (a proxy, a broken server): fields of another type read as empty.
  if (Field<std::string>(j, {"kind"}, "").value_or("") != "Status") return status;
  status.reason = Field<std::string>(j, {"reason"}, "").value_or("");
  status.message = Field<std::string>(j, {"message"}, "").value_or("");
  return status;
}

Error ErrorFromResponse(const HttpResponse& response, const RequestInfo& info) {
  ApiStatus api = ParseApiStatus(response.body);
  Error error;
  std::string summary;
  const long s = response.status;
  if (s == 401) {
    error.code = ErrorCode::kUnauthenticated;
    summary = "unauthorized: credentials rejected for " + Describe(info);
  } else if (s == 403) {
    error.code = ErrorCode::kPermissionDenied;
    summary = "forbidden: need " + Describe(info);
  } else if (s == 404) {
    error.code = ErrorCode::kNotFound;
    summary = "not found: " + info.resource + (info.name.empty() ? "" : " '" + info.name + "'") +
              " does not exist" +
              (info.namespace_name.empty() ? "" : " in namespace '" + info.namespace_name + "'");
  } else if (s == 409) {
    error.code = ErrorCode::kConflict;
    summary = "conflict: " + Describe(info);
  } else if (s == 429) {
    error.code = ErrorCode::kResourceExhausted;
    summary = "throttled: " + Describe(info);
  } else if (s == 504) {
    error.code = ErrorCode::kTimeout;
    summary = "server timeout: " + Describe(info);
  } else if (s >= 500) {
    error.code = ErrorCode::kUnavailable;
    summary = "server error: " + Describe(info);
  } else {
    error.code = ErrorCode::kInvalidArgument;
    summary = "rejected: " + Describe(info);
  }
  if (auto it = response.headers.find("retry-after"); it != response.headers.end()) {
    try {
      // Clamped: a negative or absurd value (a broken or hostile server) must neither overflow
      // the conversion to milliseconds nor be taken as a plan (the loop caps the wait further).
      error.retry_after = std::chrono::seconds(std::clamp(std::stol(it->second), 0L, 3600L));
    } catch (const std::exception&) {
      // An HTTP-date Retry-After is not used by the API server; ignore it.
    }
  }
  std::string tail = "HTTP " + std::to_string(s);
  if (!api.reason.empty()) tail += " " + api.reason;
  if (!api.message.empty()) tail += ": " + api.message;
  error.message = summary + " (" + tail + ")";
  error.details = {"http_status: " + std::to_string(s), "reason: " + api.reason,
                   "message: " + api.message};
  return error;
}

std::string UrlEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options, const Clock& clock) {
  if (options.server.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "kubernetes: no API server address");
  }
  while (!options.server.empty() && options.server.back() == '/') options.server.pop_back();
  // Files are read once here; the PEM data is what requests use.
  struct PemSource {
    std::string& pem;
    const std::string& file;
    const char* what;
  };
  for (PemSource source :
       {PemSource{options.ca_pem, options.ca_file, "certificate-authority"},
        PemSource{options.client_cert_pem, options.client_cert_file, "client-certificate"},
        PemSource{options.client_key_pem, options.client_key_file, "client-key"}}) {
    if (!source.pem.empty() || source.file.empty()) continue;
    auto pem = ReadFile(source.file, (std::string("kubernetes: ") + source.what).c_str());
    if (!pem) return MakeError(pem.error());
    source.pem = *pem;
  }
  if (options.client_cert_pem.empty() != options.client_key_pem.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "kubernetes: client certificate and client key must be given together");
  }
  if (options.timeout <= std::chrono::milliseconds::zero()) {
    return MakeError(ErrorCode::kInvalidArgument, "kubernetes: request timeout must be > 0");
  }
  auto curl = std::make_unique<Curl>();
  curl->handle = curl_easy_init();
  if (curl->handle == nullptr) {
    return MakeError(ErrorCode::kInternal, "kubernetes: curl_easy_init failed");
  }
  return std::unique_ptr<Client>(new Client(std::move(options), clock, std::move(curl)));
}

Client::Client(ClientOptions options, const Clock& clock, std::unique_ptr<Curl> curl)
    : options_(std::move(options)), clock_(clock), curl_(std::move(curl)) {}

Client::~Client() = default;

Result<std::string> Client::Token(bool force) {
  if (options_.token_file.empty()) return options_.token;
  const SteadyTime now = clock_.Now();
  if (force || !token_read_at_ || now - *token_read_at_ >= options_.token_refresh) {
    std::ifstream in(options_.token_file, std::ios::binary);
    if (!in) {
      if (!file_token_.empty()) return file_token_;  // keep the last good token meanwhile
      return MakeError(ErrorCode::kUnauthenticated,
                       "kubernetes: cannot read token file " + options_.token_file);
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    file_token_ = Trim(ss.str());
    token_read_at_ = now;
  }
  return file_token_;
}

Result<HttpResponse> Client::Do(const std::string& method, const std::string& path,
                                const std::string& body, const std::string& content_type) {
  std::lock_guard lock(mu_);
  auto token = Token(/*force=*/false);
  if (!token) return MakeError(token.error());
  auto response = DoLocked(method, path, body, content_type, *token, nullptr, nullptr);
  if (response && response->status == 401 && !options_.token_file.empty()) {
    // The token may have rotated since the last read: re-read once and retry if it changed.
    auto fresh = Token(/*force=*/true);
    if (fresh && *fresh != *token)
      return DoLocked(method, path, body, content_type, *fresh, nullptr, nullptr);
  }
  return response;
}

Result<HttpResponse> Client::Stream(const std::string& path, const StreamHandler& on_data,
                                    const std::function<bool()>& cancelled) {
  std::lock_guard lock(mu_);
  auto token = Token(/*force=*/false);
  if (!token) return MakeError(token.error());
  auto response = DoLocked("GET", path, "", "", *token, &on_data, &cancelled);
  if (response && response->status == 401 && !options_.token_file.empty()) {
    auto fresh = Token(/*force=*/true);
    if (fresh && *fresh != *token)
      return DoLocked("GET", path, "", "", *fresh, &on_data, &cancelled);
  }
  return response;
}

Result<HttpResponse> Client::DoLocked(const std::string& method, const std::string& path,
                                      const std::string& body, const std::string& content_type,
                                      const std::string& token, const StreamHandler* stream,
                                      const std::function<bool()>* cancelled) {
  CURL* h = curl_->handle;
  curl_easy_reset(h);  // keeps the connection cache
  const std::string url = options_.server + path;
  HttpResponse response;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  BodySink sink{&response.body, options_.max_response_bytes, false, h, stream, false};
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  if (stream == nullptr) {
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(options_.max_response_bytes));
  }
  if (cancelled != nullptr) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &CheckCancelled);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, cancelled);
  }
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);
  if (method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  // TLS.
  curl_blob ca{const_cast<char*>(options_.ca_pem.data()), options_.ca_pem.size(), CURL_BLOB_NOCOPY};
  curl_blob cert{const_cast<char*>(options_.client_cert_pem.data()),
                 options_.client_cert_pem.size(), CURL_BLOB_NOCOPY};
  curl_blob key{const_cast<char*>(options_.client_key_pem.data()), options_.client_key_pem.size(),
                CURL_BLOB_NOCOPY};
  if (options_.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!options_.ca_pem.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (!options_.client_cert_pem.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  struct SList {
    curl_slist* list = nullptr;
    ~SList() { curl_slist_free_all(list); }
  } headers;
  std::string auth = "Authorization: Bearer " + token;
  std::string ctype = "Content-Type: " + content_type;
  headers.list = curl_slist_append(headers.list, "Accept: application/json");
  if (!token.empty()) headers.list = curl_slist_append(headers.list, auth.c_str());
  if (!content_type.empty()) headers.list = curl_slist_append(headers.list, ctype.c_str());
  headers.list = curl_slist_append(headers.list, "Expect:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  if ((rc == CURLE_WRITE_ERROR && sink.stream_ended) || rc == CURLE_ABORTED_BY_CALLBACK) {
    rc = CURLE_OK;  // the caller ended the stream
  }
  if (rc != CURLE_OK) {
    std::string what = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    std::string message = "kubernetes: " + method + " " + path + ": " + what;
    if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
      return MakeError(ErrorCode::kProtocol, "kubernetes: " + method + " " + path +
                                                 ": answer larger than " +
                                                 MiB(options_.max_response_bytes) + "; refused");
    }
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return MakeError(
            ErrorCode::kTimeout,
            message + " (timeout " + std::to_string(options_.timeout.count()) + " ms)");
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CONNECT_ERROR:
        return MakeError(ErrorCode::kUnavailable,
                         message + " (TLS: is the certificate authority right?)");
      default:
        return MakeError(ErrorCode::kUnavailable, message);
    }
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Result<nlohmann::json> Client::Call(const std::string& method, const std::string& path,
                                    const RequestInfo& info, const nlohmann::json* body,
                                    const std::string& content_type) {
  // No exception leaves here: an exception escaping a tick or the elector thread would end the
  // process. Invalid UTF-8 in a body (a Kafka error text in an Event message) is sent as U+FFFD
  // rather than refused: nlohmann's default dump() throws on it.
  try {
    std::string payload =
        body != nullptr ? body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "";
    auto response = Do(method, path, payload, body != nullptr ? content_type : "");
    if (!response) return MakeError(response.error());
    if (response->status < 200 || response->status >= 300) {
      return MakeError(ErrorFromResponse(*response, info));
    }
    auto j = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return MakeError(ErrorCode::kProtocol,
                       "kubernetes: " + method + " " + path + ": answer is not JSON");
    }
    return j;
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kProtocol,
                     "kubernetes: " + method + " " + path + ": unreadable answer: " + e.what());
  }
}

}  // namespace kafka_autoscaler::kube
