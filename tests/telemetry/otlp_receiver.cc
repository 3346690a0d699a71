#include "otlp_receiver.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace kafka_autoscaler::testing {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

TestOtlpReceiver::TestOtlpReceiver(std::string dump_dir, int port)
    : dump_dir_(std::move(dump_dir)), server_(std::make_unique<httplib::Server>()) {
  server_->set_tcp_nodelay(true);
  server_->Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    CapturedRequest captured{req.path, {}, req.body, std::chrono::steady_clock::now()};
    for (const auto& [k, v] : req.headers) captured.headers[Lower(k)] = v;
    ScriptedResponse response;
    size_t seq = 0;
    {
      std::unique_lock lock(mu_);
      requests_.push_back(captured);
      seq = requests_.size();
      auto it = scripts_.find(req.path);
      if (it != scripts_.end() && !it->second.empty()) {
        response = it->second.front();
        it->second.erase(it->second.begin());
      }
      cv_.notify_all();
    }
    if (!dump_dir_.empty()) {
      const std::string signal = req.path.substr(req.path.find_last_of('/') + 1);
      const bool json = captured.header("content-type").find("json") != std::string::npos;
      char name[32];
      std::snprintf(name, sizeof(name), "%06zu-", seq);
      std::ofstream(dump_dir_ + "/" + name + signal + (json ? ".json" : ".pb"), std::ios::binary)
          << captured.body;
    }
    if (response.delay.count() > 0) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, response.delay, [this] { return stopping_; });
    }
    res.status = response.status;
    for (const auto& [k, v] : response.headers) res.set_header(k, v);
    res.set_content(response.body, response.content_type);
  });
  port_ = port == 0 ? server_->bind_to_any_port("127.0.0.1")
                    : (server_->bind_to_port("127.0.0.1", port) ? port : -1);
  if (port_ <= 0) throw std::runtime_error("test receiver: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // cpp-httplib 0.11 has no wait_until_ready(); stop() before listening starts would be lost.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TestOtlpReceiver::~TestOtlpReceiver() { Stop(); }

void TestOtlpReceiver::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

void TestOtlpReceiver::Script(const std::string& path, std::vector<ScriptedResponse> responses) {
  std::lock_guard lock(mu_);
  scripts_[path] = std::move(responses);
}

std::vector<CapturedRequest> TestOtlpReceiver::Requests(const std::string& path) const {
  std::lock_guard lock(mu_);
  std::vector<CapturedRequest> out;
  for (const auto& r : requests_) {
    if (path.empty() || r.path == path) out.push_back(r);
  }
  return out;
}

bool TestOtlpReceiver::WaitForRequests(const std::string& path, size_t n,
                                       std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return static_cast<size_t>(std::count_if(requests_.begin(), requests_.end(), [&](auto& r) {
             return path.empty() || r.path == path;
           })) >= n;
  });
}

}  // namespace kafka_autoscaler::testing
