// TestOtlpReceiver: an OTLP/HTTP collector for tests. It listens on 127.0.0.1 (port 0 by
// default: the kernel picks a free one), records every request (path, headers, body — gzip
// request bodies arrive decompressed, their Content-Encoding kept) and answers from a script
// per path: a sequence of responses (status, body, headers, delay) consumed in order, then
// 200 with an empty body. It decodes nothing itself: tests hand bodies to decoder/decode.js,
// which uses the official OTLP schema.
//
// When `dump_dir` is set, each body is also written there as NNNNNN-<signal>.<pb|json>
// (signal = last path segment), for end-to-end tests of the daemon binary.
//
// Thread-safety: all methods are thread-safe. Stop() (or the destructor) ends delayed
// responses at once and joins the server thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace kafka_autoscaler::testing {

struct CapturedRequest {
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::chrono::steady_clock::time_point received;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct ScriptedResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/x-protobuf";
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds delay{0};  // waits this long (or until Stop) before answering
};

class TestOtlpReceiver {
 public:
  explicit TestOtlpReceiver(std::string dump_dir = "", int port = 0);
  ~TestOtlpReceiver();
  TestOtlpReceiver(const TestOtlpReceiver&) = delete;
  TestOtlpReceiver& operator=(const TestOtlpReceiver&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Replaces the script for `path` ("/v1/traces").
  void Script(const std::string& path, std::vector<ScriptedResponse> responses);
  // Requests received so far, on `path` (all when empty).
  std::vector<CapturedRequest> Requests(const std::string& path = "") const;
  // Waits until at least `n` requests arrived on `path`; false on timeout.
  bool WaitForRequests(const std::string& path, size_t n, std::chrono::milliseconds timeout) const;
  void Stop();

 private:
  std::string dump_dir_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<CapturedRequest> requests_;
  std::map<std::string, std::vector<ScriptedResponse>> scripts_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kafka_autoscaler::testing
